//! Invitations: list, invite, resend, cancel (administrators); accept with a new account,
//! or join with the signed-in one.

use crate::actor;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use signet_shared::domain::audit::RequestContext;
use signet_shared::domain::organisations::invitations::{self, Acceptor};
use signet_shared::domain::people::account::Role;
use signet_shared::web::auth::Authenticated;
use signet_shared::web::{json, ApiJson, RequestLocale};
use signet_shared::{Locale, Result, Services};

#[derive(Serialize)]
struct Invitations {
    invitations: Vec<invitations::InvitationView>,
}

pub(crate) async fn list(
    State(services): State<Services>,
    Authenticated(claims, _): Authenticated,
) -> Result<Response> {
    let me = actor(&services, &claims).await?;
    Ok(json(StatusCode::OK, &Invitations { invitations: invitations::list(&services, &me).await? }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct InviteBody {
    email: String,
    roles: Vec<Role>,
    #[serde(default)]
    locale: Option<Locale>,
}

pub(crate) async fn invite(
    State(services): State<Services>,
    context: RequestContext,
    RequestLocale(locale): RequestLocale,
    Authenticated(claims, _): Authenticated,
    ApiJson(body): ApiJson<InviteBody>,
) -> Result<Response> {
    let me = actor(&services, &claims).await?;
    let locale = body.locale.unwrap_or(locale);
    let view = invitations::invite(&services, &context, &me, &body.email, body.roles, locale).await?;
    Ok(json(StatusCode::CREATED, &view))
}

pub(crate) async fn resend(
    State(services): State<Services>,
    context: RequestContext,
    Authenticated(claims, _): Authenticated,
    Path(id): Path<String>,
) -> Result<Response> {
    let me = actor(&services, &claims).await?;
    Ok(json(StatusCode::OK, &invitations::resend(&services, &context, &me, &id).await?))
}

pub(crate) async fn cancel(
    State(services): State<Services>,
    context: RequestContext,
    Authenticated(claims, _): Authenticated,
    Path(id): Path<String>,
) -> Result<Response> {
    let me = actor(&services, &claims).await?;
    invitations::cancel(&services, &context, &me, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AcceptBody {
    token: String,
    first_name: String,
    last_name: String,
    password: String,
    #[serde(default)]
    locale: Option<Locale>,
}

/// Accepts with a new account: its password now, its second factor at the first sign-in
/// (by identifier or email).
pub(crate) async fn accept(
    State(services): State<Services>,
    context: RequestContext,
    RequestLocale(locale): RequestLocale,
    ApiJson(body): ApiJson<AcceptBody>,
) -> Result<Response> {
    let acceptor = Acceptor::NewAccount {
        first_name: body.first_name,
        last_name: body.last_name,
        password: body.password,
        locale: body.locale.unwrap_or(locale),
    };
    let accepted = invitations::accept(&services, &context, &body.token, acceptor).await?;
    Ok(json(StatusCode::CREATED, &accepted))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct JoinBody {
    token: String,
}

/// Joins with the signed-in account (whose login email is the invited address): the space
/// is added to theirs.
pub(crate) async fn join(
    State(services): State<Services>,
    context: RequestContext,
    Authenticated(_, live): Authenticated,
    ApiJson(body): ApiJson<JoinBody>,
) -> Result<Response> {
    let accepted =
        invitations::accept(&services, &context, &body.token, Acceptor::Existing(Box::new(live.person))).await?;
    Ok(json(StatusCode::OK, &accepted))
}
