//! The phone a first sign-in enrols (`POST /login/setup/phone`): the code is sent from here,
//! the function that parses phone numbers; the login confirms it and opens the session (see
//! [`signet_shared::domain::second_factor::enrolment`]).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use signet_shared::domain::audit::RequestContext;
use signet_shared::domain::people::phone::PhoneChannel;
use signet_shared::domain::second_factor::enrolment;
use signet_shared::web::{json, ApiJson};
use signet_shared::{Result, Services};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PhoneBody {
    login_token: String,
    phone: String,
    channel: PhoneChannel,
    /// After a reset of the second factor: the token of the link emailed with it.
    #[serde(default)]
    enrolment_token: Option<String>,
}

pub(crate) async fn request_phone(
    State(services): State<Services>,
    context: RequestContext,
    ApiJson(body): ApiJson<PhoneBody>,
) -> Result<Response> {
    let phone = (body.phone.as_str(), body.channel);
    let sent = enrolment::request_phone(&services, &context, &body.login_token, phone, body.enrolment_token.as_deref())
        .await?;
    Ok(json(StatusCode::OK, &sent))
}
