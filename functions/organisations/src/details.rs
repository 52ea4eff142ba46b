//! The organisation's details, for its members; the terms of sale accepted for it by its
//! legal representative.

use crate::actor;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use signet_shared::domain::audit::RequestContext;
use signet_shared::domain::organisations::registration::Registration;
use signet_shared::domain::organisations::{self, EntityType};
use signet_shared::domain::people::account::{Membership, OrganisationTerms, Role};
use signet_shared::web::auth::Authenticated;
use signet_shared::web::{json, ApiJson};
use signet_shared::{Result, Services};

#[derive(Serialize)]
struct Details {
    space_id: String,
    name: String,
    entity_type: EntityType,
    registration: Registration,
    address: String,
    postal_code: String,
    city: String,
    department: Option<String>,
    phone: String,
    fax: Option<String>,
    registry_checked: bool,
    invoicing_enabled: bool,
    terms: OrganisationTerms,
    /// The version of the terms in force: what `POST /organisation/terms` accepts.
    terms_version: String,
    my_roles: Vec<Role>,
}

async fn details(services: &Services, me: Membership) -> Result<Response> {
    let loaded = organisations::load(services, &me.space_id).await?;
    let o = loaded.organisation;
    let billing = loaded.space.billing;
    Ok(json(
        StatusCode::OK,
        &Details {
            space_id: o.space_id,
            name: loaded.space.name,
            entity_type: o.entity_type,
            registration: o.registration,
            address: o.address,
            postal_code: o.postal_code,
            city: o.city,
            department: o.department,
            phone: o.phone,
            fax: o.fax,
            registry_checked: o.registry_checked,
            invoicing_enabled: billing.as_ref().is_some_and(|b| b.invoicing_enabled),
            terms: billing.map(|b| b.terms).unwrap_or_default(),
            terms_version: services.config.payments.terms_version.clone(),
            my_roles: me.roles,
        },
    ))
}

pub(crate) async fn show(
    State(services): State<Services>,
    Authenticated(claims, _): Authenticated,
) -> Result<Response> {
    let me = actor(&services, &claims).await?;
    details(&services, me).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TermsBody {
    version: String,
}

/// The legal representative accepts the current terms of sale for the organisation.
pub(crate) async fn accept_terms(
    State(services): State<Services>,
    context: RequestContext,
    Authenticated(claims, _): Authenticated,
    ApiJson(body): ApiJson<TermsBody>,
) -> Result<Response> {
    let me = actor(&services, &claims).await?;
    organisations::accept_terms(&services, &context, &me, &body.version).await?;
    details(&services, me).await
}
