//! Registering an organisation, and the company registry's details for a SIRET (the form
//! fills itself in).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;
use signet_shared::domain::audit::RequestContext;
use signet_shared::domain::organisations::register::{self, RegistrationForm};
use signet_shared::domain::organisations::registration;
use signet_shared::domain::throttle;
use signet_shared::ports::RegistryAnswer;
use signet_shared::web::{json, ApiJson, RequestLocale};
use signet_shared::{Error, ErrorCode, Result, Services};

/// Registry look-ups a source address may make per hour.
const LOOKUPS_PER_SOURCE_PER_HOUR: u32 = 60;

pub(crate) async fn register(
    State(services): State<Services>,
    context: RequestContext,
    RequestLocale(locale): RequestLocale,
    ApiJson(form): ApiJson<RegistrationForm>,
) -> Result<Response> {
    let registered = register::register(&services, &context, form, locale).await?;
    Ok(json(StatusCode::CREATED, &registered))
}

#[derive(Serialize)]
struct Found {
    siret: String,
    name: String,
    address: String,
    postal_code: String,
    city: String,
}

/// The details of an active establishment; a closed one is `establishment_closed`, an
/// unknown SIRET `siret_unknown`, an unreachable registry `service_unavailable` (the form
/// is then typed in by hand).
pub(crate) async fn lookup(
    State(services): State<Services>,
    context: RequestContext,
    Path(siret): Path<String>,
) -> Result<Response> {
    let siret = registration::parse_siret(&siret)?;
    let now = services.now();
    throttle::enforce(services.store.as_ref(), "registry", &context.source_ip, 3600, LOOKUPS_PER_SOURCE_PER_HOUR, now)
        .await?;
    match services.registry.establishment(&siret).await? {
        RegistryAnswer::Found(e) if !e.active => {
            Err(Error::new(ErrorCode::EstablishmentClosed).field("registration_number"))
        }
        RegistryAnswer::Found(e) => Ok(json(
            StatusCode::OK,
            &Found { siret: e.siret, name: e.name, address: e.address, postal_code: e.postal_code, city: e.city },
        )),
        RegistryAnswer::Unknown => Err(Error::new(ErrorCode::SiretUnknown).field("registration_number")),
    }
}
