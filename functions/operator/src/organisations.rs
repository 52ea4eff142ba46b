//! Organisations: find one by its registration number, enable or disable its invoicing.

use crate::audit_lookup;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use signet_shared::domain::audit::RequestContext;
use signet_shared::domain::keys;
use signet_shared::domain::organisations::registration::{Jurisdiction, Registration};
use signet_shared::domain::organisations::{self, invitations, members};
use signet_shared::domain::people::account::Role;
use signet_shared::web::auth::Operator;
use signet_shared::web::{json, ApiJson};
use signet_shared::{Error, ErrorCode, Result, Services};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SearchBody {
    jurisdiction: Jurisdiction,
    country: String,
    registration_number: String,
}

#[derive(Serialize)]
struct MemberSummary {
    person_id: String,
    roles: Vec<Role>,
}

#[derive(Serialize)]
struct OrganisationView {
    space_id: String,
    name: String,
    registration: Registration,
    registry_checked: bool,
    invoicing_enabled: bool,
    billing_contact: Option<String>,
    created_at: i64,
    members: Vec<MemberSummary>,
}

#[derive(Deserialize)]
struct Guard {
    space_id: String,
}

async fn view(services: &Services, space_id: &str) -> Result<OrganisationView> {
    let loaded = organisations::load(services, space_id).await?;
    let members = members::memberships(services, space_id).await?;
    let billing = loaded.space.billing.clone();
    Ok(OrganisationView {
        space_id: space_id.to_owned(),
        name: loaded.space.name,
        registration: loaded.organisation.registration,
        registry_checked: loaded.organisation.registry_checked,
        invoicing_enabled: billing.as_ref().is_some_and(|b| b.invoicing_enabled),
        billing_contact: billing.and_then(|b| b.billing_contact).map(|e| e.to_string()),
        created_at: loaded.organisation.created_at,
        members: members.into_iter().map(|(_, m)| MemberSummary { person_id: m.person_id, roles: m.roles }).collect(),
    })
}

/// Finds an organisation by where and under which number it is registered.
pub(crate) async fn search(
    State(services): State<Services>,
    context: RequestContext,
    Operator(operator): Operator,
    ApiJson(body): ApiJson<SearchBody>,
) -> Result<Response> {
    let registration = Registration::parse(body.jurisdiction, &body.country, &body.registration_number)?;
    let guard = services.store.get(&keys::registration_guard(&registration.unique_name())).await?;
    audit_lookup(&services, &context, &operator, "registration", usize::from(guard.is_some())).await?;
    let guard: Guard = guard.ok_or_else(|| Error::new(ErrorCode::NotFound).field("registration_number"))?.decode()?;
    Ok(json(StatusCode::OK, &view(&services, &guard.space_id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct InvoicingBody {
    enabled: bool,
}

/// Enables or disables "bill my organisation" for its members.
pub(crate) async fn set_invoicing(
    State(services): State<Services>,
    context: RequestContext,
    Operator(operator): Operator,
    Path(space_id): Path<String>,
    ApiJson(body): ApiJson<InvoicingBody>,
) -> Result<Response> {
    organisations::set_invoicing(&services, &context, &operator, &space_id, body.enabled).await?;
    Ok(json(StatusCode::OK, &view(&services, &space_id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct InviteBody {
    email: String,
    roles: Vec<Role>,
}

/// Invites someone to an organisation's space, with any roles: how an organisation whose
/// registrant was not entitled to it gets its real administrator (who then manages the
/// members, the registrant included). The invitee is emailed; audited.
pub(crate) async fn invite(
    State(services): State<Services>,
    context: RequestContext,
    Operator(operator): Operator,
    Path(space_id): Path<String>,
    ApiJson(body): ApiJson<InviteBody>,
) -> Result<Response> {
    let view =
        invitations::invite_by_operator(&services, &context, &operator, &space_id, &body.email, body.roles).await?;
    Ok(json(StatusCode::CREATED, &view))
}
