//! Email change (seed 000, step 2), phone change and the alternate email, end to end, on
//! both back ends.

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};
use signet_tests::{scenarios, Sent, World};
use totp_rs::Totp;

const PASSWORD: &str = "correct horse battery staple";

scenarios!(
    the_seed_000_email_change_end_to_end,
    an_email_change_confirmed_by_voice_call,
    an_email_change_confirmed_by_the_authenticator_app,
    a_link_opened_by_another_signed_in_person_fails,
    an_expired_or_reused_link_fails,
    five_wrong_codes_end_the_change,
    a_change_to_another_person_s_address_answers_alike,
    racing_changes_leave_one_pending_and_one_winner,
    two_people_racing_for_one_new_address_one_wins,
    the_second_factor_phone_changes_after_a_code_to_the_new_number,
    an_alternate_email_is_added_verified_and_removed,
    email_change_steps_cost_the_fewest_calls,
    opening_the_link_again_does_not_buy_more_tries,
    a_revoked_session_cannot_finish_the_change,
    an_account_without_a_second_factor_cannot_change_its_email,
);

/// Signs up and signs in; returns (access token, phone).
async fn member(w: &World, name: &str, channel: &str) -> (String, String, String) {
    let email = w.email(name);
    let phone = w.sign_up(&email, PASSWORD, channel).await;
    let access = sign_in(w, &email, &phone, PASSWORD).await;
    (email, phone, access)
}

async fn sign_in(w: &World, email: &str, phone: &str, password: &str) -> String {
    let (status, started) = w.post("/login", json!({"email": email, "password": password})).await;
    assert_eq!(status, StatusCode::OK, "{started}");
    let code = w.last_to(phone).await.code();
    let (status, body) = w.post("/login/code", json!({"login_token": started["login_token"], "code": code})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["access_token"].as_str().unwrap().to_owned()
}

/// Asks for the change; returns the link's token (read from the new mailbox).
async fn ask(w: &World, access: &str, new_email: &str) -> String {
    let (status, body) = w.call(Method::POST, "/account/email", access, json!({"new_email": new_email})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["pending_email"], new_email);
    w.last_to(new_email).await.link_token()
}

async fn reauth(w: &World, access: &str, phone: &str) {
    let (_, started) = w.call(Method::POST, "/reauth", access, json!({"password": PASSWORD})).await;
    let code = w.last_to(phone).await.code();
    let (status, body) = w
        .call(Method::POST, "/reauth/code", access, json!({"challenge_token": started["login_token"], "code": code}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn open_link(w: &World, access: &str, token: &str) -> Value {
    let (status, body) = w.call(Method::POST, "/account/email/verify", access, json!({"token": token})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn confirm(w: &World, access: &str, step: &Value, code: &str) -> (StatusCode, Value) {
    w.call(
        Method::POST,
        "/account/email/confirm",
        access,
        json!({"challenge_token": step["challenge_token"], "code": code}),
    )
    .await
}

fn mails(sent: &[Sent]) -> Vec<String> {
    sent.iter().filter(|m| m.channel == "email").map(|m| m.subject.clone()).collect()
}

async fn the_seed_000_email_change_end_to_end(w: World) {
    let (old, phone, access) = member(&w, "moved.subscriber", "sms").await;
    let old_before = w.sent_to(&old).await.len();
    let new = w.email("new.employer");
    let token = ask(&w, &access, &new).await;
    // Until confirmed, the old address stays the login; the new one shows as pending.
    let (_, shown) = w.call(Method::GET, "/account/email", &access, Value::Null).await;
    assert_eq!((shown["email"].as_str(), shown["pending_email"].as_str()), (Some(old.as_str()), Some(new.as_str())));
    let step = open_link(&w, &access, &token).await;
    assert_eq!(step["method"], "sms");
    let code = w.last_to(&phone).await.code();
    let (status, body) = confirm(&w, &access, &step, &code).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["email"], new);
    // The new address signs in; the old one no longer does.
    w.clock.advance(31);
    sign_in(&w, &new, &phone, PASSWORD).await;
    let (status, body) = w.post("/login", json!({"email": old, "password": PASSWORD})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("login_failed")));
    // The outbox holds exactly: the request notice to the old address, the link to the new,
    // the confirmation to both.
    let to_old = mails(&w.sent_to(&old).await[old_before..]);
    let to_new = mails(&w.sent_to(&new).await);
    assert_eq!(to_old, ["Email address change requested", "Your email address was changed"], "old: {to_old:?}");
    assert_eq!(to_new, ["Confirm your new email address", "Your email address was changed"], "new: {to_new:?}");
    let (_, shown) = w.call(Method::GET, "/account/email", &access, Value::Null).await;
    assert_eq!(shown["email"], new);
    assert!(shown.get("pending_email").is_none());
}

async fn an_email_change_confirmed_by_voice_call(w: World) {
    let (_, phone, access) = member(&w, "voice.mover", "voice").await;
    let new = w.email("voice.new");
    let token = ask(&w, &access, &new).await;
    let step = open_link(&w, &access, &token).await;
    assert_eq!(step["method"], "voice");
    let call_script = w.last_to(&phone).await;
    assert_eq!(call_script.channel, "voice");
    let (status, body) = confirm(&w, &access, &step, &call_script.code()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn an_email_change_confirmed_by_the_authenticator_app(w: World) {
    let (_, phone, access) = member(&w, "app.mover", "sms").await;
    // Enrol an app: re-authenticate, enrol, confirm.
    let (_, started) = w.call(Method::POST, "/reauth", &access, json!({"password": PASSWORD})).await;
    let code = w.last_to(&phone).await.code();
    w.call(Method::POST, "/reauth/code", &access, json!({"challenge_token": started["login_token"], "code": code}))
        .await;
    let (status, enrolment) = w.call(Method::POST, "/account/totp", &access, Value::Null).await;
    assert_eq!(status, StatusCode::CREATED);
    let app = Totp::from_url(enrolment["otpauth_uri"].as_str().unwrap()).unwrap();
    let now = || w.services.now() as u64;
    w.call(Method::POST, "/account/totp/confirm", &access, json!({"code": app.generate(now()).to_string()})).await;
    w.clock.advance(30);
    let new = w.email("app.new");
    let token = ask(&w, &access, &new).await;
    let step = open_link(&w, &access, &token).await;
    assert_eq!(step["method"], "totp");
    let (status, body) = confirm(&w, &access, &step, &app.generate(now()).to_string()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn a_link_opened_by_another_signed_in_person_fails(w: World) {
    let (_, _, access) = member(&w, "link.owner", "sms").await;
    let (_, _, other) = member(&w, "link.thief", "sms").await;
    let token = ask(&w, &access, &w.email("link.owner.new")).await;
    let (status, body) = w.call(Method::POST, "/account/email/verify", &other, json!({"token": token})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("link_invalid")));
    // Without signing in, neither.
    let (status, _) = w.post("/account/email/verify", json!({"token": token})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // The owner still can.
    open_link(&w, &access, &token).await;
}

async fn an_expired_or_reused_link_fails(w: World) {
    let (_, phone, access) = member(&w, "slow.mover", "sms").await;
    let token = ask(&w, &access, &w.email("slow.new")).await;
    w.clock.advance(3601);
    // Access tokens last ten minutes: signed in again, an hour later.
    let access = sign_in(&w, &w.email("slow.mover"), &phone, PASSWORD).await;
    let (status, body) = w.call(Method::POST, "/account/email/verify", &access, json!({"token": token})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::GONE, Some("link_expired")), "{body}");
    let new = w.email("slow.new2");
    let token = ask(&w, &access, &new).await;
    let step = open_link(&w, &access, &token).await;
    let code = w.last_to(&phone).await.code();
    assert_eq!(confirm(&w, &access, &step, &code).await.0, StatusCode::OK);
    let (status, body) = w.call(Method::POST, "/account/email/verify", &access, json!({"token": token})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::GONE, Some("link_used")), "{body}");
}

async fn five_wrong_codes_end_the_change(w: World) {
    let (old, phone, access) = member(&w, "wrong.mover", "sms").await;
    let token = ask(&w, &access, &w.email("wrong.new")).await;
    let step = open_link(&w, &access, &token).await;
    let code = w.last_to(&phone).await.code();
    let wrong = if code == "000000" { "000001" } else { "000000" };
    for _ in 0..4 {
        assert_eq!(confirm(&w, &access, &step, wrong).await.1["code"], "code_invalid");
    }
    let (status, body) = confirm(&w, &access, &step, wrong).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::GONE, Some("code_attempts_exceeded")));
    assert_eq!(confirm(&w, &access, &step, &code).await.0, StatusCode::GONE, "the right code no longer works");
    // The change is over: the link no longer starts a step, nothing is pending.
    let (status, _) = w.call(Method::POST, "/account/email/verify", &access, json!({"token": token})).await;
    assert_eq!(status, StatusCode::GONE);
    let (_, shown) = w.call(Method::GET, "/account/email", &access, Value::Null).await;
    assert_eq!(shown["email"], old);
    assert!(shown.get("pending_email").is_none(), "{shown}");
}

async fn a_change_to_another_person_s_address_answers_alike(w: World) {
    let (_, _, access) = member(&w, "asker", "sms").await;
    let (taken, _, _) = member(&w, "holder", "sms").await;
    let free = w.email("free.address");
    let holder_before = w.sent_to(&taken).await.len();
    let (status_taken, body_taken) = w.call(Method::POST, "/account/email", &access, json!({"new_email": taken})).await;
    w.clock.advance(1);
    let (status_free, body_free) = w.call(Method::POST, "/account/email", &access, json!({"new_email": free})).await;
    assert_eq!(status_taken, status_free);
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&body_taken), keys(&body_free), "the same answer");
    // The holder is told; no link exists for the taken address.
    let to_holder = &w.sent_to(&taken).await[holder_before..];
    assert_eq!(mails(to_holder), ["Your email address is already in use"]);
    assert!(!to_holder[0].body.contains("token="));
}

async fn racing_changes_leave_one_pending_and_one_winner(w: World) {
    let (_, phone, access) = member(&w, "racer", "sms").await;
    let (a, b) = (w.email("race.a"), w.email("race.b"));
    let answers = w
        .post_concurrently_as("/account/email", Some(&access), vec![json!({"new_email": a}), json!({"new_email": b})])
        .await;
    assert!(answers.iter().all(|(s, _)| *s == StatusCode::ACCEPTED || *s == StatusCode::CONFLICT), "{answers:?}");
    assert!(answers.iter().any(|(s, _)| *s == StatusCode::ACCEPTED));
    let (_, shown) = w.call(Method::GET, "/account/email", &access, Value::Null).await;
    let pending = shown["pending_email"].as_str().unwrap().to_owned();
    let other = if pending == a { &b } else { &a };
    // The other request's link (sent before its request was stored) no longer works: it was
    // replaced (410), or its request lost the race and was never stored (401).
    if let Some(stale) = w.sent_to(other).await.first() {
        let (status, _) =
            w.call(Method::POST, "/account/email/verify", &access, json!({"token": stale.link_token()})).await;
        assert!(status == StatusCode::GONE || status == StatusCode::UNAUTHORIZED, "{status}");
    }
    // The pending one completes once, even confirmed twice at the same time.
    let step = open_link(&w, &access, &w.last_to(&pending).await.link_token()).await;
    let code = w.last_to(&phone).await.code();
    let body = json!({"challenge_token": step["challenge_token"], "code": code});
    let answers = w.post_concurrently_as("/account/email/confirm", Some(&access), vec![body.clone(), body]).await;
    assert_eq!(answers.iter().filter(|(s, _)| *s == StatusCode::OK).count(), 1, "{answers:?}");
    let (_, shown) = w.call(Method::GET, "/account/email", &access, Value::Null).await;
    assert_eq!(shown["email"], pending);
}

async fn two_people_racing_for_one_new_address_one_wins(w: World) {
    let (_, phone_a, access_a) = member(&w, "first.claimant", "sms").await;
    let (_, phone_b, access_b) = member(&w, "second.claimant", "sms").await;
    let shared = w.email("shared.mailbox");
    let token_a = ask(&w, &access_a, &shared).await;
    let token_b = ask(&w, &access_b, &shared).await;
    let step_a = open_link(&w, &access_a, &token_a).await;
    let code_a = w.last_to(&phone_a).await.code();
    let step_b = open_link(&w, &access_b, &token_b).await;
    let code_b = w.last_to(&phone_b).await.code();
    assert_eq!(confirm(&w, &access_a, &step_a, &code_a).await.0, StatusCode::OK);
    let (status, body) = confirm(&w, &access_b, &step_b, &code_b).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::CONFLICT, Some("account_exists")));
}

async fn the_second_factor_phone_changes_after_a_code_to_the_new_number(w: World) {
    let (email, phone, access) = member(&w, "phone.mover", "sms").await;
    let new_phone = w.phone();
    let (status, body) =
        w.call(Method::POST, "/account/phone", &access, json!({"phone": new_phone, "channel": "voice"})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::FORBIDDEN, Some("reauthentication_required")));
    reauth(&w, &access, &phone).await;
    let (status, body) =
        w.call(Method::POST, "/account/phone", &access, json!({"phone": new_phone, "channel": "voice"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let sent = w.last_to(&new_phone).await;
    assert_eq!(sent.channel, "voice");
    let (status, body) = w.call(Method::POST, "/account/phone/confirm", &access, json!({"code": "000000"})).await;
    if sent.code() != "000000" {
        assert_eq!((status, body["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("code_invalid")));
    }
    let (status, body) = w.call(Method::POST, "/account/phone/confirm", &access, json!({"code": sent.code()})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["channel"], "voice");
    assert!(w.last_to(&email).await.subject.contains("second factor was changed"));
    // The next login calls the new number.
    w.clock.advance(31);
    let (_, started) = w.post("/login", json!({"email": email, "password": PASSWORD})).await;
    assert_eq!(started["method"], "voice");
    let code = w.last_to(&new_phone).await.code();
    let (status, _) = w.post("/login/code", json!({"login_token": started["login_token"], "code": code})).await;
    assert_eq!(status, StatusCode::OK);
}

async fn an_alternate_email_is_added_verified_and_removed(w: World) {
    let (email, phone, access) = member(&w, "with.alternate", "sms").await;
    let alternate = w.email("alternate.box");
    let (status, body) = w.call(Method::POST, "/account/alternate-email", &access, json!({"email": alternate})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::FORBIDDEN, Some("reauthentication_required")));
    reauth(&w, &access, &phone).await;
    let (status, body) = w.call(Method::POST, "/account/alternate-email", &access, json!({"email": alternate})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let token = w.last_to(&alternate).await.link_token();
    let (_, shown) = w.call(Method::GET, "/account/email", &access, Value::Null).await;
    assert_eq!(
        (shown["alternate_email"].as_str(), shown["alternate_email_verified"].as_bool()),
        (Some(alternate.as_str()), Some(false))
    );
    let (status, body) =
        w.call(Method::POST, "/account/alternate-email/verify", &access, json!({"token": token})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = w.call(Method::POST, "/account/alternate-email/verify", &access, json!({"token": token})).await;
    assert_eq!(status, StatusCode::GONE, "single use");
    let (_, shown) = w.call(Method::GET, "/account/email", &access, Value::Null).await;
    assert_eq!(shown["alternate_email_verified"], true);
    assert!(w.last_to(&email).await.subject.contains("Alternate email address added"));
    let (status, _) = w.call(Method::DELETE, "/account/alternate-email", &access, Value::Null).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, shown) = w.call(Method::GET, "/account/email", &access, Value::Null).await;
    assert!(shown.get("alternate_email").is_none());
}

async fn email_change_steps_cost_the_fewest_calls(w: World) {
    let (_, phone, access) = member(&w, "counted.mover", "sms").await;
    let new = w.email("counted.new");
    let calls = w.faults.calls.clone();
    calls.take();
    let token = ask(&w, &access, &new).await;
    // Session and person (live, one batch), the person's change window, the new address's
    // guard; the window and one transaction (request, person, audit); the link and the notice.
    assert_eq!(calls.take(), (3, 2, 0, 2), "request");
    let step = open_link(&w, &access, &token).await;
    // Session and person (one batch), request, the source's and the phone's code windows;
    // the windows and one transaction (request, step); the phone opened; the code.
    assert_eq!(calls.take(), (4, 3, 1, 1), "link");
    let code = w.last_to(&phone).await.code();
    calls.take();
    assert_eq!(confirm(&w, &access, &step, &code).await.0, StatusCode::OK);
    // Session and person (live, one batch), the step (its session binding, then its state), the
    // person's partition, the request,
    // the new address's guard; one transaction (step, person, both guards, request, audit);
    // the confirmation to both addresses.
    assert_eq!(calls.take(), (6, 1, 0, 2), "confirm");
}

async fn opening_the_link_again_does_not_buy_more_tries(w: World) {
    let (_, phone, access) = member(&w, "reopener", "sms").await;
    let token = ask(&w, &access, &w.email("reopener.new")).await;
    let first = open_link(&w, &access, &token).await;
    let code = w.last_to(&phone).await.code();
    let wrong = if code == "000000" { "000001" } else { "000000" };
    for _ in 0..4 {
        assert_eq!(confirm(&w, &access, &first, wrong).await.1["code"], "code_invalid");
    }
    w.clock.advance(31);
    let second = open_link(&w, &access, &token).await;
    // The first step is superseded; the second starts with the four wrong codes.
    assert_eq!(confirm(&w, &access, &first, &code).await.0, StatusCode::UNAUTHORIZED);
    let (status, body) = confirm(&w, &access, &second, wrong).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::GONE, Some("code_attempts_exceeded")), "{body}");
    let (status, _) = w.call(Method::POST, "/account/email/verify", &access, json!({"token": token})).await;
    assert_eq!(status, StatusCode::GONE);
}

async fn a_revoked_session_cannot_finish_the_change(w: World) {
    let (_, phone, access) = member(&w, "signed.out", "sms").await;
    let token = ask(&w, &access, &w.email("signed.out.new")).await;
    let step = open_link(&w, &access, &token).await;
    let code = w.last_to(&phone).await.code();
    let (status, _) = w.call(Method::POST, "/logout", &access, Value::Null).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = confirm(&w, &access, &step, &code).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("token_invalid")));
}

async fn an_account_without_a_second_factor_cannot_change_its_email(w: World) {
    use signet_shared::domain::people::account::{self, CustomerSpace, Person, SpaceKind};
    use signet_shared::domain::people::email::EmailAddress;
    let email = EmailAddress::parse(&w.email("factorless")).unwrap();
    let hash = signet_shared::domain::people::password::hash(PASSWORD.into(), w.services.config.argon2).await.unwrap();
    let person = Person::new(
        w.services.new_id(),
        email.clone(),
        "Test".into(),
        "Subscriber".into(),
        signet_shared::Locale::En,
        hash,
        None,
        w.services.now(),
    );
    let space = CustomerSpace {
        id: w.services.new_id(),
        kind: SpaceKind::Individual,
        name: "Test Subscriber".into(),
        created_at: 0,
        billing: None,
    };
    w.services.store.transact(account::individual_account_writes(&person, &space).unwrap()).await.unwrap();
    // Without a second factor there is no session to change anything with: the sign-in
    // asks for one first (and the change itself would refuse: `second_factor_missing`).
    let (_, started) = w.post("/login", json!({"email": email.as_str(), "password": PASSWORD})).await;
    assert_eq!(started["status"], "setup_required", "{started}");
    assert!(started.get("access_token").is_none());
    let (status, body) = w.post("/login/code", json!({"login_token": started["login_token"], "code": "123456"})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::FORBIDDEN, Some("setup_required")));
}
