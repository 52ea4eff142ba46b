//! The API's contract: the OpenAPI document, the SAM template and the sample events agree
//! with the routes the functions really serve.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::Value;
use std::collections::BTreeSet;
use tower::ServiceExt;

/// Every function: its crate directory and its routes.
fn functions() -> Vec<(&'static str, &'static [(&'static str, &'static str)])> {
    vec![
        ("signup", signet_signup::ROUTES),
        ("login", signet_login::ROUTES),
        ("email-change", signet_email_change::ROUTES),
        ("recovery", signet_recovery::ROUTES),
        ("activation", signet_activation::ROUTES),
        ("renewal", signet_renewal::ROUTES),
        ("organisations", signet_organisations::ROUTES),
        ("operator", signet_operator::ROUTES),
    ]
}

fn repo_file(path: &str) -> String {
    std::fs::read_to_string(format!("{}/../{path}", env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn all_routes() -> BTreeSet<(String, String)> {
    functions().iter().flat_map(|(_, routes)| routes.iter().map(|(m, p)| (m.to_string(), p.to_string()))).collect()
}

#[test]
fn openapi_document_lists_exactly_the_routes_served() {
    let doc: Value = serde_json::from_str(signet_local::OPENAPI).expect("openapi.json is JSON");
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "OpenAPI 3.1");
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                documented.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    assert_eq!(documented, all_routes());
    // Every documented error code is a real one, and every real one is documented.
    let codes: BTreeSet<String> = doc["components"]["schemas"]["Problem"]["properties"]["code"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    let real: BTreeSet<String> = signet_shared::ErrorCode::ALL.iter().map(|c| c.as_str().to_owned()).collect();
    assert_eq!(codes, real);
}

#[tokio::test]
async fn every_listed_route_is_served() {
    let temp = tempfile::tempdir().unwrap();
    let backend = signet_shared::app::wiring::embedded(signet_tests::test_config(&[]), temp.path()).unwrap();
    let app = signet_local::app(backend.services, backend.outbox, backend.store);
    for (method, path) in all_routes() {
        let request = Request::builder()
            .method(Method::from_bytes(method.as_bytes()).unwrap())
            .uri(format!("{}{path}", signet_shared::web::browser::API_PREFIX))
            .header("content-type", "application/json")
            .body(Body::from("{}"))
            .unwrap();
        let status = app.clone().oneshot(request).await.unwrap().status();
        assert!(
            status != StatusCode::NOT_FOUND && status != StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}: {status}"
        );
        assert!(!status.is_server_error(), "{method} {path}: {status}");
    }
}

/// The routes of one function in template.yaml, between its marker comments.
fn template_routes(function: &str) -> BTreeSet<(String, String)> {
    let template = repo_file("template.yaml");
    let start = template
        .find(&format!("--- function: {function} ---\n"))
        .unwrap_or_else(|| panic!("{function} not in template.yaml"));
    let end = template.find(&format!("--- end function: {function} ---\n")).unwrap();
    let block = &template[start..end];
    assert!(block.contains(&format!("CodeUri: functions/{function}")), "{function}: CodeUri");
    let mut routes = BTreeSet::new();
    let mut method = None;
    for line in block.lines().map(str::trim) {
        if let Some(m) = line.strip_prefix("Method: ") {
            method = Some(m.trim().to_uppercase());
        } else if let Some(p) = line.strip_prefix("Path: ") {
            routes.insert((method.take().expect("Method before Path"), p.trim().to_owned()));
        }
    }
    routes
}

#[test]
fn sam_template_routes_each_function_s_paths() {
    for (function, routes) in functions() {
        let expected: BTreeSet<(String, String)> = routes.iter().map(|(m, p)| (m.to_string(), p.to_string())).collect();
        assert_eq!(template_routes(function), expected, "{function}");
    }
}

/// The sample events are real API Gateway HTTP API events: each one, as Lambda would
/// receive it, reaches its route and gets a clear answer (never a 5xx).
#[tokio::test]
async fn sample_events_reach_their_routes() {
    let temp = tempfile::tempdir().unwrap();
    let backend = signet_shared::app::wiring::embedded(signet_tests::test_config(&[]), temp.path()).unwrap();
    let dir = format!("{}/../events", env!("CARGO_MANIFEST_DIR"));
    let mut covered = BTreeSet::new();
    for (function, _) in functions() {
        let app = signet_shared::app::lambda::app(function, signet_local::api_routes(backend.services.clone()), false);
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if !name.starts_with(&format!("{function}-")) {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let event: Value = serde_json::from_str(&text).unwrap();
            let route =
                event["routeKey"].as_str().unwrap().split_once(' ').map(|(m, p)| (m.to_owned(), p.to_owned())).unwrap();
            let request = lambda_http::request::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            let response = app.clone().oneshot(request.map(|b| Body::from(b.to_vec()))).await.unwrap();
            let status = response.status();
            // A 404 counts as reaching the route only when the handler answered it: its
            // problem names the field that found nothing (the router's names none).
            let body = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
            let problem: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let handled_404 = status == StatusCode::NOT_FOUND && problem["field"].is_string();
            assert!(
                (status != StatusCode::NOT_FOUND || handled_404) && !status.is_server_error(),
                "{name}: {status} {problem}"
            );
            if name == "signup-start.json" {
                assert_eq!(status, StatusCode::ACCEPTED, "{name}");
            }
            covered.insert(route);
        }
    }
    assert_eq!(covered, all_routes(), "one sample event per route");
}

#[test]
fn the_documented_products_are_the_catalogue_s() {
    let doc: Value = serde_json::from_str(signet_local::OPENAPI).unwrap();
    let documented: BTreeSet<String> = doc["components"]["schemas"]["RenewalDraftRequest"]["properties"]["product"]
        ["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    let catalogue: BTreeSet<String> =
        signet_shared::domain::billing::catalogue::Catalogue::shipped().unwrap().products.keys().cloned().collect();
    assert_eq!(documented, catalogue);
}

/// Deployed, the operator is the IAM principal API Gateway authorised: its event reaches the
/// operator API as that principal (audited under it); the same event without the
/// authorizer's identity is refused, whatever its headers say.
#[tokio::test]
async fn the_operator_api_takes_the_iam_principal_api_gateway_authorised() {
    let temp = tempfile::tempdir().unwrap();
    let backend = signet_shared::app::wiring::embedded(signet_tests::test_config(&[]), temp.path()).unwrap();
    let services = backend.services.clone();
    let app = signet_shared::app::lambda::app("operator", signet_operator::routes(services.clone()), false);
    let text = repo_file("events/operator-people-search.json");
    let request = lambda_http::request::from_str(&text).unwrap();
    let response = app.clone().oneshot(request.map(|b| Body::from(b.to_vec()))).await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND, "searched as the IAM principal, nobody found");
    let audit = services
        .store
        .query("AUDIT#operator:iam:arn:aws:sts::123456789012:assumed-role/SignetOperator/operator-session", "", 10)
        .await
        .unwrap();
    assert_eq!(audit.len(), 1, "the look-up is audited under the principal");
    let mut event: Value = serde_json::from_str(&text).unwrap();
    // Another principal allowed to invoke the API (a deploy role) is no operator.
    event["requestContext"]["authorizer"]["iam"]["userArn"] =
        serde_json::json!("arn:aws:sts::123456789012:assumed-role/DeployRole/ci");
    let request = lambda_http::request::from_str(&event.to_string()).unwrap();
    let response = app.clone().oneshot(request.map(|b| Body::from(b.to_vec()))).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "not an operator principal");
    event["requestContext"].as_object_mut().unwrap().remove("authorizer");
    let request = lambda_http::request::from_str(&event.to_string()).unwrap();
    let response = app.oneshot(request.map(|b| Body::from(b.to_vec()))).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "no principal, no operator");
}

/// The portal's content security policy is one: what the local server sends is what
/// CloudFront's response-headers policy sends (template.yaml; the CDK app is compared with
/// it by infra/test.sh).
#[test]
fn the_portal_has_one_content_security_policy() {
    let template = repo_file("template.yaml");
    let line = template
        .lines()
        .find(|l| l.trim_start().starts_with("ContentSecurityPolicy: \""))
        .expect("template.yaml's response-headers policy sets a content security policy");
    let deployed = line.trim_start().trim_start_matches("ContentSecurityPolicy: ").trim_matches('"');
    let local = signet_local::portal::POLICY.split_whitespace().collect::<Vec<_>>().join(" ");
    assert_eq!(deployed, local);
    for directive in ["script-src 'self'", "frame-ancestors 'none'", "base-uri 'none'", "object-src 'none'"] {
        assert!(local.contains(directive), "{directive}");
    }
    assert!(!local.contains("unsafe-inline") && !local.contains("unsafe-eval"));
}
