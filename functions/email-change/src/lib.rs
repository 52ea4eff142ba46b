//! Changing the login email (seed 000, step 2), the second-factor phone and the alternate
//! email of a signed-in person.
//!
//! A new login email: a single-use link goes to the new address (the old one is told of the
//! request; it may be unreachable, and nothing waits for it); following the link, signed in,
//! asks for the second factor; only then, in one transaction, the uniqueness guard moves from
//! the old address to the new one and the person's email changes. Until then the old address
//! stays the login and the new one shows as pending; a newer request replaces an older one.
//! An address that belongs to another person gets the same answer (its owner is emailed
//! instead of a link).
//!
//! It also sends the code to the phone a first sign-in enrols (`setup_phone.rs`): the function
//! that parses phone numbers does, the login (which carries no phone-number metadata) confirms.
//!
//! The routes are declared once below; `login_email.rs`, `phone.rs`, `alternate.rs` and
//! `setup_phone.rs` hold one concern each.

mod alternate;
mod login_email;
mod phone;
mod setup_phone;

use crate::alternate::{add_alternate, remove_alternate, verify_alternate};
use crate::login_email::{confirm_change, request_change, verify_link};
use crate::phone::{confirm_phone_change, request_phone_change};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;
use signet_shared::domain::people::account::Person;
use signet_shared::domain::people::phone::PhoneChannel;
use signet_shared::web::auth::Authenticated;
use signet_shared::web::json;
use signet_shared::{Result, Services};

signet_shared::routes! {
    GET "/account/email" => show,
    POST "/account/email" => request_change,
    POST "/account/email/verify" => verify_link,
    POST "/account/email/confirm" => confirm_change,
    POST "/account/phone" => request_phone_change,
    POST "/account/phone/confirm" => confirm_phone_change,
    POST "/account/alternate-email" => add_alternate,
    POST "/account/alternate-email/verify" => verify_alternate,
    DELETE "/account/alternate-email" => remove_alternate,
    POST "/login/setup/phone" => setup_phone::request_phone,
}

#[derive(Serialize)]
struct Addresses {
    email: String,
    /// The account's language (the portal speaks it unless the person chose another).
    locale: signet_shared::Locale,
    #[serde(skip_serializing_if = "Option::is_none")]
    pending_email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pending_expires_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    alternate_email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    alternate_email_verified: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    phone_hint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    phone_channel: Option<PhoneChannel>,
}

fn addresses(person: &Person, now: i64) -> Addresses {
    let pending = person.pending_email.as_ref().filter(|p| p.expires_at > now);
    Addresses {
        email: person.email.to_string(),
        locale: person.locale,
        pending_email: pending.map(|p| p.email.to_string()),
        pending_expires_at: pending.map(|p| p.expires_at),
        alternate_email: person.alternate_email.as_ref().map(|a| a.email.to_string()),
        alternate_email_verified: person.alternate_email.as_ref().map(|a| a.verified),
        phone_hint: person.phone.as_ref().map(|p| p.hint.clone()),
        phone_channel: person.phone.as_ref().map(|p| p.channel),
    }
}

/// The login email, the pending one if any, the alternate one and the second-factor phone.
async fn show(State(services): State<Services>, Authenticated(_, live): Authenticated) -> Result<Response> {
    Ok(json(StatusCode::OK, &addresses(&live.person, services.now())))
}
