//! The Lambda entry point shared by every function: JSON logs, configuration and SDK
//! clients built once per cold start, the request context from the API Gateway event,
//! then `lambda_http::run`.

use crate::config::Secret;
use crate::domain::audit::RequestContext;
use crate::domain::services::Services;
use axum::extract::Request;
use axum::middleware::Next;
use axum::Router;
use lambda_http::request::RequestContext as ApiGatewayContext;
use lambda_http::RequestExt;
use std::sync::Arc;

/// Runs a function's routes in Lambda on the AWS adapters. `routes` receives the services
/// built once for this execution environment.
pub async fn run(function: &'static str, routes: fn(Services) -> Router) -> Result<(), lambda_http::Error> {
    let services = boot().await?;
    let metrics = services.config.metrics;
    let edge = services.config.edge_secret.clone();
    lambda_http::run(app_behind(function, routes(services), metrics, edge)).await
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
    app_behind(function, routes, metrics, None)
}

/// [`app`] behind CloudFront: a request carrying the edge secret is sourced at the viewer's
/// address CloudFront names (see [`Config::edge_secret`](crate::config::Config::edge_secret)).
pub fn app_behind(function: &'static str, routes: Router, metrics: bool, edge: Option<Secret>) -> Router {
    let edge = Arc::new(edge);
    crate::web::finish(routes, function, metrics)
        .layer(axum::middleware::from_fn(move |req: Request, next: Next| request_context(edge.clone(), req, next)))
}

/// The header CloudFront adds to every request it forwards to the API (its origin custom header).
pub const EDGE_HEADER: &str = "x-signet-edge";

/// The viewer's address CloudFront names (`CloudFront-Viewer-Address: <ip>:<port>`), when
/// the request carries the edge secret: only CloudFront can have sent it.
pub fn viewer_address(headers: &http::HeaderMap, edge: Option<&Secret>) -> Option<String> {
    let secret = edge?;
    let presented = headers.get(EDGE_HEADER)?.to_str().ok()?;
    if !crate::domain::crypto::same_secret(presented, &secret.0) {
        tracing::warn!("a request carried a wrong edge secret");
        return None;
    }
    let value = headers.get("cloudfront-viewer-address")?.to_str().ok()?;
    let (ip, _port) = value.rsplit_once(':')?;
    match ip.trim_matches(['[', ']']).parse().ok()? {
        std::net::IpAddr::V4(v4) => Some(v4.to_string()),
        // One IPv6 host has a whole /64 to itself: its /64 is the source, or a limit per
        // source would be a limit per address the sender picks.
        std::net::IpAddr::V6(v6) => {
            let s = v6.segments();
            Some(format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3]))
        }
    }
}

async fn request_context(edge: Arc<Option<Secret>>, mut req: Request, next: Next) -> axum::response::Response {
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
    let source_ip = viewer_address(req.headers(), edge.as_ref().as_ref()).or(source_ip);
    let request_id = request_id.or_else(|| req.lambda_context_ref().map(|c| c.request_id.clone()));
    req.extensions_mut().insert(RequestContext {
        source_ip: source_ip.unwrap_or_else(|| "unknown".into()),
        request_id: request_id.unwrap_or_else(|| "unknown".into()),
    });
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::{viewer_address, Secret};

    fn headers(pairs: &[(&str, &str)]) -> http::HeaderMap {
        pairs.iter().map(|(k, v)| (k.parse().unwrap(), v.parse().unwrap())).collect()
    }

    #[test]
    fn the_viewer_address_is_trusted_only_with_the_edge_secret() {
        let secret = Secret("an edge secret of thirty-two characters".into());
        let genuine = headers(&[("x-signet-edge", &secret.0), ("cloudfront-viewer-address", "198.51.100.10:46532")]);
        assert_eq!(viewer_address(&genuine, Some(&secret)).as_deref(), Some("198.51.100.10"));
        let v6 = headers(&[("x-signet-edge", &secret.0), ("cloudfront-viewer-address", "2001:db8::1:443")]);
        assert_eq!(viewer_address(&v6, Some(&secret)).as_deref(), Some("2001:db8:0:0::/64"));
        let other_host_same_64 =
            headers(&[("x-signet-edge", &secret.0), ("cloudfront-viewer-address", "2001:db8::9:ffff:1:443")]);
        assert_eq!(viewer_address(&other_host_same_64, Some(&secret)).as_deref(), Some("2001:db8:0:0::/64"));
        // Anyone calling the execute-api URL can send the header: without the secret it is ignored.
        let forged = headers(&[("x-signet-edge", "guess"), ("cloudfront-viewer-address", "198.51.100.10:1")]);
        assert_eq!(viewer_address(&forged, Some(&secret)), None);
        assert_eq!(viewer_address(&genuine, None), None);
        let garbage = headers(&[("x-signet-edge", &secret.0), ("cloudfront-viewer-address", "not an address")]);
        assert_eq!(viewer_address(&garbage, Some(&secret)), None);
    }
}
