//! People: find one by email or identifier, reset their second factor, end their sessions.

use crate::audit_lookup;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use signet_shared::domain::audit::RequestContext;
use signet_shared::domain::keys;
use signet_shared::domain::organisations::access::{self, ResetBy};
use signet_shared::domain::people::account::{self, EmailGuard, Role, SpaceKind};
use signet_shared::domain::people::email::EmailAddress;
use signet_shared::web::auth::Operator;
use signet_shared::web::{json, ApiJson};
use signet_shared::{Error, ErrorCode, Result, Services};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SearchBody {
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    identifier: Option<String>,
}

#[derive(Serialize)]
struct SpaceView {
    space_id: String,
    name: String,
    kind: SpaceKind,
    roles: Vec<Role>,
}

#[derive(Serialize)]
struct PersonView {
    person_id: String,
    first_name: String,
    last_name: String,
    email: EmailAddress,
    identifier: Option<String>,
    created_at: i64,
    setup_pending: bool,
    phone_hint: Option<String>,
    authenticator_app: bool,
    spaces: Vec<SpaceView>,
}

/// Finds a person by login email or identifier (searched in the request body, so that it
/// stays out of access logs); `not_found` when nobody has it.
pub(crate) async fn search(
    State(services): State<Services>,
    context: RequestContext,
    Operator(operator): Operator,
    ApiJson(body): ApiJson<SearchBody>,
) -> Result<Response> {
    let (guard, what) = match (body.email, body.identifier) {
        (Some(email), None) => (keys::email_guard(&EmailAddress::parse(&email)?), "email"),
        (None, Some(identifier)) => {
            let identifier = account::parse_identifier(&identifier)
                .ok_or_else(|| Error::new(ErrorCode::InvalidRequest).field("identifier"))?;
            (keys::identifier_guard(&identifier), "identifier")
        }
        _ => return Err(Error::new(ErrorCode::InvalidRequest).field("email")),
    };
    let found = match services.store.get(&guard).await? {
        Some(item) => {
            account::person_with_spaces(services.store.as_ref(), &item.decode::<EmailGuard>()?.person_id).await?
        }
        None => None,
    };
    audit_lookup(&services, &context, &operator, what, usize::from(found.is_some())).await?;
    let found = found.ok_or_else(|| Error::new(ErrorCode::NotFound).field(what))?;
    let p = found.person;
    let view = PersonView {
        setup_pending: p.needs_setup(),
        phone_hint: p.phone.as_ref().map(|f| f.hint.clone()),
        authenticator_app: p.confirmed_totp().is_some(),
        person_id: p.id,
        first_name: p.first_name,
        last_name: p.last_name,
        email: p.email,
        identifier: p.identifier,
        created_at: p.created_at,
        spaces: found
            .memberships
            .into_iter()
            .map(|m| SpaceView { space_id: m.space_id, name: m.space_name, kind: m.space_kind, roles: m.roles })
            .collect(),
    };
    Ok(json(StatusCode::OK, &view))
}

pub(crate) async fn reset_second_factor(
    State(services): State<Services>,
    context: RequestContext,
    Operator(operator): Operator,
    Path(person_id): Path<String>,
) -> Result<Response> {
    access::reset_second_factor(&services, &context, ResetBy::Operator(&operator), &person_id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(crate) async fn end_sessions(
    State(services): State<Services>,
    context: RequestContext,
    Operator(operator): Operator,
    Path(person_id): Path<String>,
) -> Result<Response> {
    access::end_sessions(&services, &context, &operator, &person_id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
