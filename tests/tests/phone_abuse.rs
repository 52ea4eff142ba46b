//! Nobody can make Signet send unbounded SMS or calls, nor spend someone else's codes
//! (points 6, 7 and 10 of the hardening). On both back ends.

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};
use signet_shared::domain::keys;
use signet_shared::domain::people::account;
use signet_shared::ports::store::{Condition, Item, Key, Write};
use signet_tests::{scenarios, World};

const PASSWORD: &str = "correct horse battery staple";

scenarios!(
    one_reauthentication_cannot_call_number_after_number,
    phone_changes_are_bounded_per_source,
    premium_shared_cost_internet_and_foreign_numbers_are_refused,
    codes_are_bounded_per_source_across_every_step,
    a_strangers_sign_ups_do_not_spend_the_owners_codes,
    a_one_off_call_at_sign_up_keeps_the_channel_chosen,
);

/// Puts a throttle window of this hour at `count` (the scenarios' requests come from the
/// source address `unknown`).
async fn window(w: &World, scope: &str, key: &str, count: u32) {
    // The scenarios advance the clock after setting a window: the next hour's is set too, so
    // a run near the hour's end finds the same count (without moving the clock, which would
    // age a re-authentication).
    let now = w.services.now();
    let current = now - now.rem_euclid(3600);
    for start in [current, current + 3600] {
        let item =
            Item::new(Key::new(format!("THROTTLE#{scope}#{key}"), format!("W#{start}")), &json!({"count": count}))
                .unwrap()
                .expires_at(start + 3600);
        w.services.store.write(Write::Put { item, condition: Condition::None }).await.unwrap();
    }
}

/// A signed-in member who just re-authenticated: (phone, access token).
async fn reauthenticated(w: &World, name: &str) -> (String, String) {
    let email = w.email(name);
    let phone = w.sign_up(&email, PASSWORD, "sms").await;
    let access = w.sign_in(&email, &phone, PASSWORD).await["access_token"].as_str().unwrap().to_owned();
    w.reauthenticate(&access, &phone, PASSWORD).await;
    (phone, access)
}

/// The link's sign-up token of a new sign-up for `email`.
async fn signup_token(w: &World, email: &str) -> String {
    let (status, _) = w.post("/signup", json!({"email": email})).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let link = w.last_to(email).await.link_token();
    let (status, verified) = w.post("/signup/verify", json!({"token": link})).await;
    assert_eq!(status, StatusCode::OK, "{verified}");
    verified["signup_token"].as_str().unwrap().to_owned()
}

async fn profile(w: &World, token: &str, phone: &str, channel: &str) -> (StatusCode, Value) {
    w.post("/signup/profile", json!({"signup_token": token, "first_name": "Test", "last_name": "Subscriber", "password": PASSWORD, "phone": phone, "channel": channel})).await
}

async fn one_reauthentication_cannot_call_number_after_number(w: World) {
    let (_, access) = reauthenticated(&w, "pumper").await;
    for _ in 0..3 {
        let number = w.phone();
        let (status, body) =
            w.call(Method::POST, "/account/phone", &access, json!({"phone": number, "channel": "voice"})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(w.last_to(&number).await.channel, "voice");
    }
    let number = w.phone();
    let (status, body) =
        w.call(Method::POST, "/account/phone", &access, json!({"phone": number, "channel": "voice"})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("too_many_requests")), "{body}");
    assert!(body["retry_after"].as_u64().is_some());
    assert!(w.sent_to(&number).await.is_empty(), "the fourth number is never called");
}

async fn phone_changes_are_bounded_per_source(w: World) {
    let (_, access) = reauthenticated(&w, "neighbour").await;
    window(&w, "phone-change-source", "unknown", 10).await;
    let number = w.phone();
    let (status, body) =
        w.call(Method::POST, "/account/phone", &access, json!({"phone": number, "channel": "sms"})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("too_many_requests")), "{body}");
    assert!(w.sent_to(&number).await.is_empty());
}

async fn premium_shared_cost_internet_and_foreign_numbers_are_refused(w: World) {
    let (_, access) = reauthenticated(&w, "premium").await;
    let token = signup_token(&w, &w.email("premium.signup")).await;
    let cases = [
        ("+1 900 555 0100", "phone_type_not_allowed"),
        ("+33 8 99 12 34 56", "phone_type_not_allowed"),
        ("+33 8 10 12 34 56", "phone_type_not_allowed"),
        ("+1 800 555 0100", "phone_type_not_allowed"),
        ("+33 9 70 12 34 56", "phone_type_not_allowed"),
        ("+1 415 555 0134", "phone_country_not_allowed"),
    ];
    for (number, code) in cases {
        let (status, body) = profile(&w, &token, number, "voice").await;
        assert_eq!(
            (status, body["code"].as_str(), body["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(code), Some("phone")),
            "sign-up {number}: {body}"
        );
        let (status, body) =
            w.call(Method::POST, "/account/phone", &access, json!({"phone": number, "channel": "voice"})).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(code)),
            "phone change {number}: {body}"
        );
        assert!(w.sent_to(number).await.is_empty(), "{number} was never called");
    }
    // A French mobile, a Belgian one, a fixed line in Montréal are fine.
    for number in ["+33 6 12 34 56 78", "+32 470 12 34 56", "+1 514 555 0199"] {
        let (status, body) = profile(&w, &token, number, "sms").await;
        assert_eq!(status, StatusCode::OK, "{number}: {body}");
        w.clock.advance(w.services.config.limits.code_resend_interval);
    }
}

async fn codes_are_bounded_per_source_across_every_step(w: World) {
    let email = w.email("busy.office");
    let phone = w.sign_up(&email, PASSWORD, "sms").await;
    // This source already asked for all but one code this hour.
    window(&w, "code-source", "unknown", w.services.config.limits.codes_per_source_per_hour - 1).await;
    let (status, started) = w.post("/login", json!({"email": email, "password": PASSWORD})).await;
    assert_eq!(status, StatusCode::OK, "{started}");
    let sent = w.sent_to(&phone).await.len();
    // A login, a resend, a sign-up: no more codes from here this hour.
    let (status, body) = w.post("/login", json!({"email": email, "password": PASSWORD})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("too_many_requests")), "{body}");
    w.clock.advance(w.services.config.limits.code_resend_interval);
    let (status, body) =
        w.post("/login/code/resend", json!({"login_token": started["login_token"], "channel": "voice"})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("too_many_requests")), "{body}");
    let token = signup_token(&w, &w.email("busy.newcomer")).await;
    let number = w.phone();
    let (status, body) = profile(&w, &token, &number, "voice").await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("too_many_requests")), "{body}");
    assert_eq!(w.sent_to(&phone).await.len(), sent);
    assert!(w.sent_to(&number).await.is_empty());
}

async fn a_strangers_sign_ups_do_not_spend_the_owners_codes(w: World) {
    let owner = w.email("victim");
    let phone = w.sign_up(&owner, PASSWORD, "sms").await;
    // The sign-up itself verified the number: its unverified quota has one code spent.
    // A stranger starts sign-ups with the owner's number until no more codes go to it.
    let limit = w.services.config.limits.codes_per_phone_per_hour;
    for i in 1..limit {
        let token = signup_token(&w, &w.email(&format!("stranger{i}"))).await;
        let (status, body) = profile(&w, &token, &phone, "voice").await;
        assert_eq!(status, StatusCode::OK, "sign-up {i}: {body}");
    }
    let token = signup_token(&w, &w.email("stranger.last")).await;
    let (status, body) = profile(&w, &token, &phone, "voice").await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("too_many_requests")), "{body}");
    // The owner still signs in: codes to their verified number count apart.
    let signed_in = w.sign_in(&owner, &phone, PASSWORD).await;
    assert_eq!(signed_in["status"], "signed_in");
}

async fn a_one_off_call_at_sign_up_keeps_the_channel_chosen(w: World) {
    let email = w.email("callmeonce");
    let token = signup_token(&w, &email).await;
    let phone = w.phone();
    assert_eq!(profile(&w, &token, &phone, "sms").await.0, StatusCode::OK);
    w.clock.advance(w.services.config.limits.code_resend_interval);
    let (status, body) = w.post("/signup/code", json!({"signup_token": token, "channel": "voice"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let call = w.last_to(&phone).await;
    assert_eq!(call.channel, "voice");
    let (status, body) = w.post("/signup/confirm", json!({"signup_token": token, "code": call.code()})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let person: account::Person = w
        .services
        .store
        .get(&keys::person(body["person_id"].as_str().unwrap()))
        .await
        .unwrap()
        .unwrap()
        .decode()
        .unwrap();
    assert_eq!(
        person.phone.unwrap().channel,
        signet_shared::domain::people::phone::PhoneChannel::Sms,
        "the profile's choice stands"
    );
    let (status, started) = w.post("/login", json!({"email": email, "password": PASSWORD})).await;
    assert_eq!((status, started["method"].as_str()), (StatusCode::OK, Some("sms")), "{started}");
    assert_eq!(w.last_to(&phone).await.channel, "sms");
}
