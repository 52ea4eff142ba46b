//! The INSEE Sirene adapter on the wire, against a loopback stand-in that answers as the real
//! API does (`GET /siret/{siret}` with the `X-INSEE-Api-Key-Integration` header; the body of
//! `tests/fixtures/sirene-siret-active.json`, a closed variant, the 404 of an unknown SIRET,
//! a 5xx); and a registration when the registry cannot be reached: the details are taken as
//! typed and the organisation is marked unchecked.

use axum::extract::Path;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use signet_shared::adapters::company_registry::Sirene;
use signet_shared::config::{Secret, SireneSettings};
use signet_shared::ports::{CompanyRegistry, RegistryAnswer};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tower::ServiceExt;

const KEY: &str = "sirene-integration-key-for-tests";
const ACTIVE: &str = include_str!("../fixtures/sirene-siret-active.json");

async fn stand_in(calls: Arc<AtomicUsize>) -> String {
    let app = axum::Router::new().route(
        "/api-sirene/3.11/siret/{siret}",
        axum::routing::get(move |headers: HeaderMap, Path(siret): Path<String>| {
            let calls = calls.clone();
            async move { answer(&headers, &siret, &calls) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://127.0.0.1:{}/api-sirene/3.11", addr.port())
}

fn answer(headers: &HeaderMap, siret: &str, calls: &AtomicUsize) -> Response {
    calls.fetch_add(1, Ordering::SeqCst);
    if headers.get("x-insee-api-key-integration").and_then(|v| v.to_str().ok()) != Some(KEY) {
        let body = json!({"header": {"statut": 401, "message": "Jeton d'accès invalide"}});
        return (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response();
    }
    match siret {
        "12345678200010" => ([("content-type", "application/json;charset=utf-8")], ACTIVE).into_response(),
        "98765432400019" => {
            let mut closed: Value = serde_json::from_str(ACTIVE).unwrap();
            closed["etablissement"]["siret"] = json!(siret);
            closed["etablissement"]["periodesEtablissement"][0]["etatAdministratifEtablissement"] = json!("F");
            axum::Json(closed).into_response()
        }
        "50000001300010" => (StatusCode::INTERNAL_SERVER_ERROR, "upstream error").into_response(),
        _ => {
            let body =
                json!({"header": {"statut": 404, "message": format!("Aucun élément trouvé pour le siret {siret}")}});
            (StatusCode::NOT_FOUND, axum::Json(body)).into_response()
        }
    }
}

fn sirene(base_url: &str, key: &str) -> Sirene {
    Sirene::new(&SireneSettings { base_url: base_url.to_owned(), api_key: Secret(key.to_owned()) })
}

#[tokio::test]
async fn sirene_answers_are_read_as_the_registry_s() {
    let calls = Arc::new(AtomicUsize::new(0));
    let url = stand_in(calls.clone()).await;
    let registry = sirene(&url, KEY);
    let RegistryAnswer::Found(active) = registry.establishment("12345678200010").await.unwrap() else {
        panic!("an active establishment")
    };
    assert_eq!(
        (
            active.name.as_str(),
            active.address.as_str(),
            active.postal_code.as_str(),
            active.city.as_str(),
            active.active
        ),
        ("EXAMPLE INDUSTRIES", "31 RUE DE L'EXEMPLE", "13001", "MARSEILLE", true)
    );
    let RegistryAnswer::Found(closed) = registry.establishment("98765432400019").await.unwrap() else { panic!() };
    assert!(!closed.active, "the current period (no end date) says closed");
    assert_eq!(registry.establishment("50000000500016").await.unwrap(), RegistryAnswer::Unknown);
    let failing = registry.establishment("50000001300010").await.unwrap_err();
    assert_eq!(failing.code, signet_shared::ErrorCode::ServiceUnavailable, "a 5xx is an outage");
    let wrong_key = sirene(&url, "another key").establishment("12345678200010").await.unwrap_err();
    assert_eq!(
        wrong_key.code,
        signet_shared::ErrorCode::ServiceUnavailable,
        "a refused key is an outage, not an unknown SIRET"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 5, "one call each");
    let unreachable = sirene("http://127.0.0.1:9", KEY).establishment("12345678200010").await.unwrap_err();
    assert_eq!(unreachable.code, signet_shared::ErrorCode::ServiceUnavailable);
}

async fn register(
    vars: &[(&str, &str)],
    siret: &str,
) -> (StatusCode, Value, signet_shared::Services, tempfile::TempDir) {
    let temp = tempfile::tempdir().unwrap();
    let mut config: Vec<(&str, &str)> = vec![("SIGNET_REGISTRY_FILE", "")];
    config.extend_from_slice(vars);
    let backend = signet_shared::app::wiring::embedded(signet_tests::test_config(&config), temp.path()).unwrap();
    let app = signet_shared::web::finish(signet_local::api_routes(backend.services.clone()), "test", false);
    let form = signet_tests::organisations::form(siret, "admin@example.com");
    let request = axum::http::Request::builder()
        .method(Method::POST)
        .uri("/organisations")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(form.to_string()))
        .unwrap();
    let response = app.oneshot(request).await.unwrap();
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
    (status, serde_json::from_slice(&body).unwrap(), backend.services, temp)
}

#[tokio::test]
async fn a_registration_takes_the_registry_s_details_or_the_typed_ones_when_it_is_unreachable() {
    let url = stand_in(Arc::new(AtomicUsize::new(0))).await;
    let vars = [("SIGNET_SIRENE_URL", url.as_str()), ("SIGNET_SIRENE_API_KEY", KEY)];
    let (status, body, _, _) = register(&vars, "12345678200010").await;
    assert_eq!((status, body["registry_checked"].as_bool()), (StatusCode::CREATED, Some(true)), "{body}");
    let (status, body, _, _) = register(&vars, "98765432400019").await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("establishment_closed")));
    let (status, body, _, _) = register(&vars, "50000000500016").await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("siret_unknown")));
    // The registry fails or cannot be reached: the typed details are kept, marked unchecked.
    for vars in [vars.to_vec(), vec![("SIGNET_SIRENE_URL", "http://127.0.0.1:9"), ("SIGNET_SIRENE_API_KEY", KEY)]] {
        let siret = if vars[0].1 == url { "50000001300010" } else { "12345678200010" };
        let (status, body, services, _dir) = register(&vars, siret).await;
        assert_eq!((status, body["registry_checked"].as_bool()), (StatusCode::CREATED, Some(false)), "{body}");
        let guard = signet_shared::domain::keys::registration_guard(&format!("FR-SIRET-{siret}"));
        let space: Value = services.store.get(&guard).await.unwrap().unwrap().decode().unwrap();
        let key = signet_shared::domain::keys::organisation(space["space_id"].as_str().unwrap());
        let details: Value = services.store.get(&key).await.unwrap().unwrap().decode().unwrap();
        assert_eq!(
            (details["name"].as_str(), details["registry_checked"].as_bool()),
            (Some("typed name"), Some(false))
        );
    }
}
