//! The Lambda entry point shared by every function: JSON logs, configuration and SDK
//! clients built once per cold start, the request context from the API Gateway event,
//! then `lambda_http::run`.

use crate::domain::audit::RequestContext;
use crate::domain::services::Services;
use axum::extract::Request;
use axum::middleware::Next;
use axum::Router;
use lambda_http::request::RequestContext as ApiGatewayContext;
use lambda_http::RequestExt;

/// Runs a function's routes in Lambda on the AWS adapters. `routes` receives the services
/// built once for this execution environment.
pub async fn run(function: &'static str, routes: fn(Services) -> Router) -> Result<(), lambda_http::Error> {
    let services = boot().await?;
    let metrics = services.config.metrics;
    lambda_http::run(app(function, routes(services), metrics)).await
}

/// The cold start of every function: JSON logs, the configuration, and the services on the
/// AWS adapters (whose clients are built on their first call).
async fn boot() -> Result<Services, lambda_http::Error> {
    crate::app::telemetry::init_logs();
    let config = crate::app::configuration(&std::env::vars().collect()).map_err(|e| {
        tracing::error!(error = %e, "bad configuration");
        e
    })?;
    let sdk = crate::adapters::aws::sdk_config(&config).await;
    Ok(crate::app::wiring::aws(config, &sdk))
}

/// Runs a scheduled job (an EventBridge event, whatever its content) on the AWS adapters:
/// each invocation runs `job` once and answers how many things it did. A failure fails the
/// invocation, so that it is retried and counted by Lambda's error metric.
pub async fn run_scheduled<F, Fut>(function: &'static str, job: F) -> Result<(), lambda_http::Error>
where
    F: Fn(Services) -> Fut,
    Fut: std::future::Future<Output = crate::error::Result<usize>>,
{
    use lambda_http::lambda_runtime::{service_fn, LambdaEvent};
    let services = boot().await?;
    let job = &job;
    let services = &services;
    lambda_http::lambda_runtime::run(service_fn(move |_: LambdaEvent<serde_json::Value>| async move {
        match job(services.clone()).await {
            Ok(done) => {
                tracing::info!(function, done, "scheduled run finished");
                Ok(serde_json::json!({ "done": done }))
            }
            Err(e) => {
                tracing::error!(function, error = %e, "scheduled run failed");
                Err(lambda_http::Error::from(e.to_string()))
            }
        }
    }))
    .await
}

/// A function's routes as Lambda serves them: finished (fallbacks, problems, metrics) and
/// with the request context taken from the API Gateway event.
pub fn app(function: &'static str, routes: Router, metrics: bool) -> Router {
    crate::web::finish(routes, function, metrics).layer(axum::middleware::from_fn(request_context))
}

async fn request_context(mut req: Request, next: Next) -> axum::response::Response {
    let (source_ip, request_id, iam) = match req.request_context_ref() {
        Some(ApiGatewayContext::ApiGatewayV2(ctx)) => {
            let iam = ctx.authorizer.as_ref().and_then(|a| a.iam.as_ref()).and_then(|i| i.user_arn.clone());
            (ctx.http.source_ip.clone(), ctx.request_id.clone(), iam)
        }
        _ => (None, None, None),
    };
    if let Some(arn) = iam {
        req.extensions_mut().insert(crate::web::auth::IamCaller(arn));
    }
    let request_id = request_id.or_else(|| req.lambda_context_ref().map(|c| c.request_id.clone()));
    req.extensions_mut().insert(RequestContext {
        source_ip: source_ip.unwrap_or_else(|| "unknown".into()),
        request_id: request_id.unwrap_or_else(|| "unknown".into()),
    });
    next.run(req).await
}
