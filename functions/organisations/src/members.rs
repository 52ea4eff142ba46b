//! The members and their roles; the legal representative and the billing contact (an
//! existing member, or another person, invited); an administrator's reset of a member's
//! second factor (after their own re-authentication).

use crate::actor;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use signet_shared::domain::audit::RequestContext;
use signet_shared::domain::organisations::access::{self, ResetBy};
use signet_shared::domain::organisations::{invitations, members};
use signet_shared::domain::people::account::Role;
use signet_shared::web::auth::Authenticated;
use signet_shared::web::{json, ApiJson, RequestLocale};
use signet_shared::{Error, ErrorCode, Result, Services};

#[derive(Serialize)]
struct Members {
    members: Vec<members::MemberView>,
}

pub(crate) async fn list(
    State(services): State<Services>,
    Authenticated(claims, _): Authenticated,
) -> Result<Response> {
    let me = actor(&services, &claims).await?;
    Ok(json(StatusCode::OK, &Members { members: members::list(&services, &me).await? }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RolesBody {
    roles: Vec<Role>,
}

#[derive(Serialize)]
struct RolesView {
    person_id: String,
    roles: Vec<Role>,
}

pub(crate) async fn change_roles(
    State(services): State<Services>,
    context: RequestContext,
    Authenticated(claims, _): Authenticated,
    Path(person_id): Path<String>,
    ApiJson(body): ApiJson<RolesBody>,
) -> Result<Response> {
    let me = actor(&services, &claims).await?;
    let roles = members::change_roles(&services, &context, &me, &person_id, body.roles).await?;
    Ok(json(StatusCode::OK, &RolesView { person_id, roles }))
}

pub(crate) async fn remove(
    State(services): State<Services>,
    context: RequestContext,
    Authenticated(claims, _): Authenticated,
    Path(person_id): Path<String>,
) -> Result<Response> {
    let me = actor(&services, &claims).await?;
    members::remove(&services, &context, &me, &person_id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Resets a member's second factor (seed 004): the administrator confirms their identity
/// first (`POST /reauth`, within five minutes).
pub(crate) async fn reset_second_factor(
    State(services): State<Services>,
    context: RequestContext,
    Authenticated(claims, live): Authenticated,
    Path(person_id): Path<String>,
) -> Result<Response> {
    let me = actor(&services, &claims).await?;
    signet_shared::domain::organisations::permissions::require(
        &me,
        signet_shared::domain::organisations::permissions::Permission::ManageMembers,
    )?;
    live.require_recent_authentication(services.now())?;
    access::reset_second_factor(&services, &context, ResetBy::Administrator(&me), &person_id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Who takes a role: a member (by id), or another person (invited by email).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AppointBody {
    #[serde(default)]
    person_id: Option<String>,
    #[serde(default)]
    email: Option<String>,
}

#[derive(Serialize)]
struct Appointed {
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    roles: Option<Vec<Role>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    invitation: Option<invitations::InvitationView>,
}

async fn appoint(
    services: &Services,
    context: &RequestContext,
    claims: &signet_shared::domain::sessions::access_token::AccessClaims,
    locale: signet_shared::Locale,
    body: AppointBody,
    role: Role,
) -> Result<Response> {
    let me = actor(services, claims).await?;
    match (body.person_id, body.email) {
        (Some(person_id), None) => {
            let current = signet_shared::domain::organisations::membership(services, &person_id, &me.space_id)
                .await?
                .ok_or_else(|| Error::new(ErrorCode::NotFound).field("person_id"))?;
            let mut roles = current.roles;
            roles.push(role);
            let roles = members::change_roles(services, context, &me, &person_id, roles).await?;
            Ok(json(StatusCode::OK, &Appointed { status: "appointed", roles: Some(roles), invitation: None }))
        }
        (None, Some(email)) => {
            let view = invitations::invite(services, context, &me, &email, vec![role], locale).await?;
            Ok(json(StatusCode::CREATED, &Appointed { status: "invited", roles: None, invitation: Some(view) }))
        }
        _ => Err(Error::new(ErrorCode::InvalidRequest).field("person_id")),
    }
}

pub(crate) async fn appoint_legal_representative(
    State(services): State<Services>,
    context: RequestContext,
    RequestLocale(locale): RequestLocale,
    Authenticated(claims, _): Authenticated,
    ApiJson(body): ApiJson<AppointBody>,
) -> Result<Response> {
    appoint(&services, &context, &claims, locale, body, Role::LegalRepresentative).await
}

pub(crate) async fn appoint_billing_contact(
    State(services): State<Services>,
    context: RequestContext,
    RequestLocale(locale): RequestLocale,
    Authenticated(claims, _): Authenticated,
    ApiJson(body): ApiJson<AppointBody>,
) -> Result<Response> {
    appoint(&services, &context, &claims, locale, body, Role::BillingContact).await
}
