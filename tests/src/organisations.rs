//! The steps of the organisation journeys (seed 003), shared by their scenarios: a
//! registration, the credentials read from the two emails, the first sign-in's set-up, an
//! invitation accepted.

use crate::{Sent, World, OPERATOR_TOKEN};
use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

/// An active establishment of the scenarios' registry (see `local/demo/registry.json`).
pub const SIRET: &str = "12345678200010";
/// Another active one.
pub const OTHER_SIRET: &str = "40000000600017";
/// A closed one.
pub const CLOSED_SIRET: &str = "98765432400019";
/// A SIRET of La Poste's series, valid by its own rule (not by the Luhn key).
pub const LA_POSTE_SIRET: &str = "35600000001235";
/// A valid SIRET the registry does not know.
pub const UNKNOWN_SIRET: &str = "50000000500016";

/// The passwords people choose in the scenarios.
pub const PASSWORD: &str = "organisation scenario password";

/// A registration form for `siret`, administered by `admin_email`.
pub fn form(siret: &str, admin_email: &str) -> Value {
    json!({
        "jurisdiction": "france",
        "country": "FR",
        "registration_number": siret,
        "entity_type": "company",
        "name": "typed name",
        "address": "typed address",
        "postal_code": "13001",
        "city": "Marseille",
        "department": "Bouches-du-Rhône",
        "phone": "+33 4 00 00 00 00",
        "administrator": {
            "first_name": "Alex",
            "last_name": "Admin",
            "email": admin_email,
            "email_confirmation": admin_email,
            "phone": "+1 555 010 0100"
        },
        "locale": "en"
    })
}

/// The identifier in an email (`XX000000`).
pub fn identifier_in(sent: &Sent) -> String {
    sent.body
        .split(|c: char| !c.is_ascii_alphanumeric())
        .find(|w| signet_shared::domain::people::account::parse_identifier(w).as_deref() == Some(*w))
        .expect("no identifier in the message")
        .to_owned()
}

/// The temporary password in an email (`xxxxx-xxxxx-xxxxx-xxxxx`).
pub fn temporary_password_in(sent: &Sent) -> String {
    sent.body
        .split_whitespace()
        .find(|w| w.len() == 23 && w.matches('-').count() == 3)
        .expect("no temporary password in the message")
        .to_owned()
}

/// A person of an organisation, signed in.
pub struct Member {
    /// Login email.
    pub email: String,
    /// Login identifier.
    pub identifier: String,
    /// Second-factor phone.
    pub phone: String,
    /// Access token.
    pub access: String,
    /// Person id.
    pub person_id: String,
}

/// The set-up of a first sign-in: a new password when `temporary`, then a phone by SMS;
/// returns the signed-in answer.
pub async fn set_up(w: &World, started: &Value, temporary: bool, phone: &str) -> Value {
    assert_eq!(started["status"], "setup_required", "{started}");
    assert_eq!(started["password_change_required"], temporary, "{started}");
    let token = started["login_token"].clone();
    if temporary {
        let (status, body) = w.post("/login/setup/password", json!({"login_token": token, "password": PASSWORD})).await;
        assert_eq!((status, body["status"].as_str()), (StatusCode::OK, Some("setup_required")), "{body}");
        assert_eq!(body["password_change_required"], false);
    }
    let (status, body) =
        w.post("/login/setup/phone", json!({"login_token": token, "phone": phone, "channel": "sms"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let code = w.last_to(phone).await.code();
    let (status, body) = w.post("/login/setup/phone/confirm", json!({"login_token": token, "code": code})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// Registers an organisation for `siret` with a new administrator `name`, reads the two
/// emails, and goes through the first sign-in by identifier: the administrator, signed in.
pub async fn registered(w: &World, siret: &str, name: &str) -> Member {
    let email = w.email(name);
    let (status, body) = w.post("/organisations", form(siret, &email)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let sent = w.sent_to(&email).await;
    assert_eq!(sent.len(), 2, "two separate emails: {sent:?}");
    let identifier = identifier_in(&sent[0]);
    let temporary = temporary_password_in(&sent[1]);
    assert!(!sent[0].body.contains(&temporary) && !sent[1].body.contains(&identifier), "each in its own email");
    let (status, started) = w.post("/login", json!({"identifier": identifier, "password": temporary})).await;
    assert_eq!(status, StatusCode::OK, "{started}");
    let phone = w.phone();
    let signed_in = set_up(w, &started, true, &phone).await;
    assert_eq!(signed_in["status"], "signed_in", "{signed_in}");
    let person = w.services.store.get(&signet_shared::domain::keys::identifier_guard(&identifier)).await.unwrap();
    let person_id = person.unwrap().decode::<Value>().unwrap()["person_id"].as_str().unwrap().to_owned();
    Member { email, identifier, phone, access: signed_in["access_token"].as_str().unwrap().to_owned(), person_id }
}

/// Invites `name` with `roles` (as the administrator `admin`), accepts with a new account,
/// signs in by identifier and sets up a phone: the new member, signed in.
pub async fn invited(w: &World, admin: &Member, name: &str, roles: Value) -> Member {
    let email = w.email(name);
    let (status, body) =
        w.call(Method::POST, "/organisation/invitations", &admin.access, json!({"email": email, "roles": roles})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    accept_and_sign_in(w, &email).await
}

/// Accepts the invitation last sent to `email` with a new account, then signs in by
/// identifier and sets up a phone.
pub async fn accept_and_sign_in(w: &World, email: &str) -> Member {
    let token = w.last_to(email).await.link_token();
    let accept = json!({"token": token, "first_name": "Sam", "last_name": "Member", "password": PASSWORD});
    let (status, accepted) = w.post("/invitations/accept", accept).await;
    assert_eq!(status, StatusCode::CREATED, "{accepted}");
    let identifier = accepted["identifier"].as_str().unwrap().to_owned();
    assert_eq!(identifier_in(&w.last_to(email).await), identifier, "the identifier is emailed too");
    let (status, started) = w.post("/login", json!({"identifier": identifier, "password": PASSWORD})).await;
    assert_eq!(status, StatusCode::OK, "{started}");
    let phone = w.phone();
    let signed_in = set_up(w, &started, false, &phone).await;
    assert_eq!(signed_in["status"], "signed_in", "{signed_in}");
    let guard = w.services.store.get(&signet_shared::domain::keys::identifier_guard(&identifier)).await.unwrap();
    let person_id = guard.unwrap().decode::<Value>().unwrap()["person_id"].as_str().unwrap().to_owned();
    Member {
        email: email.to_owned(),
        identifier,
        phone,
        access: signed_in["access_token"].as_str().unwrap().to_owned(),
        person_id,
    }
}

/// Calls the operator API with the local operator token.
pub async fn operator(w: &World, method: Method, path: &str, body: Value) -> (StatusCode, Value) {
    let bytes = if body.is_null() { vec![] } else { body.to_string().into_bytes() };
    let headers = [("content-type", "application/json"), ("x-signet-operator-token", OPERATOR_TOKEN)];
    let (status, _, body) = w.send(method, path, &headers, bytes).await;
    (status, body)
}
