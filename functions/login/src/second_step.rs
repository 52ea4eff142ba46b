//! After the password: the second factor (a code, the app, a backup code), "send a new code",
//! then the space when the person has several; the session opens with the step used up.

use crate::{access_token, audit, view, SpaceView};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use signet_shared::domain::audit::RequestContext;
use signet_shared::domain::people::account::Membership;
use signet_shared::domain::people::phone::PhoneChannel;
use signet_shared::domain::retry;
use signet_shared::domain::second_factor::step::{self, Commit, Purpose};
use signet_shared::domain::second_factor::Answer;
use signet_shared::domain::second_factor::FactorView;
use signet_shared::domain::sessions::devices;
use signet_shared::domain::sessions::session;
use signet_shared::web::{json, ApiJson};
use signet_shared::{Error, ErrorCode, Result, Services};

/// What a step answers while its second factor is awaited.
#[derive(Serialize)]
pub(crate) struct FactorRequired {
    pub status: &'static str,
    pub login_token: String,
    #[serde(flatten)]
    pub factor: FactorView,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CodeBody {
    login_token: String,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    backup_code: Option<String>,
}

#[derive(Serialize)]
pub(crate) struct ChooseSpace {
    status: &'static str,
    login_token: String,
    spaces: Vec<SpaceView>,
}

#[derive(Serialize)]
pub(crate) struct SignedIn {
    status: &'static str,
    token_type: &'static str,
    access_token: String,
    expires_in: i64,
    refresh_token: String,
    session_id: String,
    space: SpaceView,
    /// This device's token (also set as an HttpOnly cookie): a later login from it is
    /// judged by its own failures, never locked out by someone else's.
    device_token: String,
}

pub(crate) async fn verify_code(
    State(services): State<Services>,
    context: RequestContext,
    ApiJson(body): ApiJson<CodeBody>,
) -> Result<Response> {
    let answer = Answer::from_fields(body.code.as_deref(), body.backup_code.as_deref())?;
    after_second_factor(&services, &context, &body.login_token, Some(answer)).await
}

/// Checks the answer (if the factor is still awaited), then signs in, or offers the spaces.
pub(crate) async fn after_second_factor(
    services: &Services,
    context: &RequestContext,
    token: &str,
    answer: Option<Answer<'_>>,
) -> Result<Response> {
    retry::optimistic(step::COMMIT_ROUNDS, retry::busy, || async move {
        let passed = step::answer(services, context, token, "login", answer).await?;
        if passed.person.needs_setup() {
            // A new password or a second factor first (see `crate::setup`).
            return Err(Error::new(ErrorCode::SetupRequired));
        }
        if answer.is_some() && !passed.fresh {
            // Already passed: only a space choice remains.
            return Err(Error::new(ErrorCode::Conflict));
        }
        let commit = if let [only] = passed.memberships.as_slice() {
            let only = only.clone();
            sign_in(services, context, passed, only).await?
        } else {
            // Several spaces: the person picks one with the same login token.
            let spaces = passed.memberships.iter().cloned().map(view).collect();
            let then =
                json(StatusCode::OK, &ChooseSpace { status: "choose_space", login_token: token.to_owned(), spaces });
            Commit { writes: passed.writes()?, event: None, then }
        };
        step::try_commit(services, commit).await
    })
    .await
}

/// Opens the session and marks the login used (one transaction, committed by the caller);
/// the access token is signed first, so a signing failure uses nothing up.
pub(crate) async fn sign_in(
    services: &Services,
    context: &RequestContext,
    mut passed: step::Passed,
    membership: Membership,
) -> Result<Commit<Response>> {
    let now = services.now();
    if passed.person.needs_setup() {
        // A new password or a second factor first (see `crate::setup`).
        return Err(Error::new(ErrorCode::SetupRequired));
    }
    let challenge = &mut passed.challenge;
    let Purpose::Login { device } = &challenge.purpose else { return Err(Error::new(ErrorCode::LoginInvalid)) };
    let prepared = session::prepare(
        services,
        &challenge.person_id,
        &membership.space_id,
        challenge.amr.clone(),
        challenge.epoch,
        device,
    )?;
    challenge.completed = Some(prepared.issued.session.id.clone());
    let event = audit(
        services,
        context,
        "login.succeeded",
        &challenge.person_id,
        serde_json::json!({"space_id": membership.space_id, "amr": challenge.amr, "session_id": prepared.issued.session.id}),
    );
    let (access_token, expires_in) = access_token(services, &prepared.issued.session, now).await?;
    let device_token = devices::issue(services, &challenge.person_id, challenge.epoch).await?;
    let mut writes = passed.writes()?;
    writes.push(prepared.write.clone());
    writes.push(event.write(&services.new_id())?);
    let issued = prepared.issued;
    let mut then = json(
        StatusCode::OK,
        &SignedIn {
            status: "signed_in",
            token_type: "Bearer",
            access_token,
            expires_in,
            refresh_token: issued.refresh_token.clone(),
            session_id: issued.session.id.clone(),
            space: view(membership),
            device_token: device_token.clone(),
        },
    );
    signet_shared::web::browser::set_device_cookie(services, &mut then, &device_token);
    Ok(Commit { writes, event: Some(event), then })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SpaceBody {
    login_token: String,
    space_id: String,
}

pub(crate) async fn choose_space(
    State(services): State<Services>,
    context: RequestContext,
    ApiJson(body): ApiJson<SpaceBody>,
) -> Result<Response> {
    let (services, context, body) = (&services, &context, &body);
    retry::optimistic(step::COMMIT_ROUNDS, retry::busy, || async move {
        let passed = step::answer(services, context, &body.login_token, "login", None).await.map_err(|e| {
            // The factor is still awaited: the space comes after it.
            if e.code == ErrorCode::InvalidRequest {
                Error::new(ErrorCode::Conflict)
            } else {
                e
            }
        })?;
        let membership = passed
            .memberships
            .iter()
            .find(|m| m.space_id == body.space_id)
            .cloned()
            .ok_or_else(|| Error::new(ErrorCode::NotFound).field("space_id"))?;
        step::try_commit(services, sign_in(services, context, passed, membership).await?).await
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResendBody {
    #[serde(alias = "challenge_token")]
    login_token: String,
    #[serde(default)]
    channel: Option<PhoneChannel>,
}

/// "Send a new code", for any step (login, re-authentication, password reset); also how a
/// person whose authenticator app is not at hand gets a code on their phone instead.
pub(crate) async fn resend_code(
    State(services): State<Services>,
    context: RequestContext,
    ApiJson(body): ApiJson<ResendBody>,
) -> Result<Response> {
    let (token, factor) = step::send_new_code(&services, &context, &body.login_token, body.channel).await?;
    Ok(json(StatusCode::OK, &FactorRequired { status: "code_sent", login_token: token, factor }))
}
