//! "No access to the app" (seed 004): at the second-factor step, a member who cannot use
//! their authenticator app (nor their phone) asks their organisations' administrators to
//! reset it. The login step proves the password; the administrators are emailed (a few
//! requests a day per person), nothing about them is answered.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use signet_shared::domain::audit::RequestContext;
use signet_shared::domain::organisations::access;
use signet_shared::domain::people::account;
use signet_shared::domain::second_factor::step;
use signet_shared::web::{json, ApiJson};
use signet_shared::{Error, ErrorCode, Result, Services};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NoAccessBody {
    login_token: String,
}

#[derive(Serialize)]
struct Asked {
    status: &'static str,
    /// How many organisations' administrators were told (0: the person belongs to none, and
    /// must ask the provider's support).
    organisations_told: usize,
}

pub(crate) async fn no_access(
    State(services): State<Services>,
    context: RequestContext,
    ApiJson(body): ApiJson<NoAccessBody>,
) -> Result<Response> {
    let (_, challenge) = step::load(&services, &body.login_token, Some("login")).await?;
    let found = account::person_with_spaces(services.store.as_ref(), &challenge.person_id).await?;
    let found = found.ok_or_else(|| Error::new(ErrorCode::LoginInvalid).field("login_token"))?;
    if found.person.session_epoch != challenge.epoch {
        return Err(Error::new(ErrorCode::LoginInvalid).field("login_token"));
    }
    let told = access::ask_administrators(&services, &context, &found.person, &found.memberships).await?;
    Ok(json(StatusCode::ACCEPTED, &Asked { status: "administrators_told", organisations_told: told }))
}
