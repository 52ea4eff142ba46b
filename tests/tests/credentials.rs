//! The other ways in (password only, authenticator app, backup code, Google), and the
//! credential journeys (re-authentication, password change, forgot password, forgot
//! identifier), end to end, on both back ends.

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};
use signet_shared::domain::keys;
use signet_shared::domain::people::account::{self, CustomerSpace, Person, SpaceKind};
use signet_shared::domain::people::email::EmailAddress;
use signet_shared::{domain::people::password, Locale};
use signet_tests::{google, scenarios, World};
use totp_rs::Totp;

const PASSWORD: &str = "correct horse battery staple";
const NEW_PASSWORD: &str = "a brand new passphrase 2026";

scenarios!(
    a_person_without_a_second_factor_enrols_one_before_any_session,
    an_authenticator_app_is_enrolled_then_asked_at_login,
    a_backup_code_signs_in_once,
    a_totp_code_is_never_accepted_twice_in_its_step,
    a_person_with_an_app_can_still_ask_for_an_sms,
    sign_in_with_google_then_the_second_factor,
    google_tokens_that_must_fail,
    credential_changes_need_a_fresh_reauthentication,
    a_password_change_ends_the_other_sessions,
    forgot_password_link_code_then_new_password,
    forgot_password_answers_alike_for_unknown_addresses,
    forgot_identifier_emails_the_identifiers,
    a_code_from_another_login_fails,
    wrong_answers_are_capped_per_person_across_logins,
    an_organisation_identifier_logs_in,
    an_authenticator_login_costs_the_fewest_calls,
    concurrent_guesses_are_counted_and_never_answered_with_a_conflict,
);

async fn sign_in_sms(w: &World, email: &str, phone: &str, password: &str) -> Value {
    let (status, started) = w.post("/login", json!({"email": email, "password": password})).await;
    assert_eq!(status, StatusCode::OK, "{started}");
    assert_eq!(started["method"], "sms", "{started}");
    let code = w.last_to(phone).await.code();
    let (status, body) = w.post("/login/code", json!({"login_token": started["login_token"], "code": code})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn access(signed_in: &Value) -> String {
    signed_in["access_token"].as_str().unwrap().to_owned()
}

/// Password and SMS code again, within the session.
async fn reauth(w: &World, access: &str, phone: &str) {
    let (status, started) = w.call(Method::POST, "/reauth", access, json!({"password": PASSWORD})).await;
    assert_eq!(status, StatusCode::OK, "{started}");
    assert_eq!(started["status"], "second_factor_required");
    let code = w.last_to(phone).await.code();
    let (status, body) = w
        .call(Method::POST, "/reauth/code", access, json!({"challenge_token": started["login_token"], "code": code}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "reauthenticated");
}

/// Enrols an authenticator app; returns it and the backup codes.
async fn enrol(w: &World, access: &str, phone: &str) -> (Totp, Vec<String>) {
    reauth(w, access, phone).await;
    let (status, enrolment) = w.call(Method::POST, "/account/totp", access, Value::Null).await;
    assert_eq!(status, StatusCode::CREATED, "{enrolment}");
    assert!(enrolment["qr_svg"].as_str().unwrap().contains("<svg"));
    let app = Totp::from_url(enrolment["otpauth_uri"].as_str().unwrap()).unwrap();
    let codes: Vec<String> =
        enrolment["backup_codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
    assert_eq!(codes.len(), 10);
    let (status, body) =
        w.call(Method::POST, "/account/totp/confirm", access, json!({"code": now_code(w, &app)})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "totp_enabled");
    (app, codes)
}

fn now_code(w: &World, app: &Totp) -> String {
    app.generate(w.services.now() as u64).to_string()
}

async fn claims(w: &World, token: &str) -> signet_shared::domain::sessions::access_token::AccessClaims {
    let ring = w.services.tokens.ring(&w.services).await.unwrap();
    ring.verify(token, &w.services.config.tokens.issuer, &w.services.config.tokens.audience, w.services.now()).unwrap()
}

async fn a_person_without_a_second_factor_enrols_one_before_any_session(w: World) {
    let id = w.services.new_id();
    let email = EmailAddress::parse(&w.email("no.factor")).unwrap();
    let hash = password::hash(PASSWORD.into(), w.services.config.argon2).await.unwrap();
    let person = Person::new(
        id.clone(),
        email.clone(),
        "Test".into(),
        "Subscriber".into(),
        Locale::En,
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
    let (status, body) = w.post("/login", json!({"email": email.as_str(), "password": PASSWORD})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["status"].as_str(), body["password_change_required"].as_bool(), body["second_factor_required"].as_bool()),
        (Some("setup_required"), Some(false), Some(true)),
        "never a session on the password alone: {body}"
    );
    let token = body["login_token"].clone();
    let (status, refused) = w.post("/login/code", json!({"login_token": token, "code": "123456"})).await;
    assert_eq!((status, refused["code"].as_str()), (StatusCode::FORBIDDEN, Some("setup_required")));
    let phone = w.phone();
    let (status, sent) =
        w.post("/login/setup/phone", json!({"login_token": token, "phone": phone, "channel": "voice"})).await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    let code = w.last_to(&phone).await.code();
    let (status, body) = w.post("/login/setup/phone/confirm", json!({"login_token": token, "code": code})).await;
    assert_eq!((status, body["status"].as_str()), (StatusCode::OK, Some("signed_in")), "{body}");
    assert_eq!(claims(&w, &access(&body)).await.amr, ["pwd", "tel"]);
    let (status, body) =
        w.post("/login", json!({"email": email.as_str(), "password": "wrong horse battery staple"})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("login_failed")));
}

async fn an_authenticator_app_is_enrolled_then_asked_at_login(w: World) {
    let email = w.email("totp.member");
    let phone = w.sign_up(&email, PASSWORD, "sms").await;
    let signed_in = sign_in_sms(&w, &email, &phone, PASSWORD).await;
    let (app, _) = enrol(&w, &access(&signed_in), &phone).await;
    assert!(w.last_to(&email).await.subject.contains("Authenticator app added"));
    w.clock.advance(30);
    let sms_before = w.sent_to(&phone).await.len();
    let (status, started) = w.post("/login", json!({"email": email, "password": PASSWORD})).await;
    assert_eq!(status, StatusCode::OK, "{started}");
    assert_eq!(started["method"], "totp");
    assert_eq!(started["backup_codes_accepted"], true);
    assert_eq!(w.sent_to(&phone).await.len(), sms_before, "no SMS when the app is the factor");
    let (status, body) =
        w.post("/login/code", json!({"login_token": started["login_token"], "code": now_code(&w, &app)})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(claims(&w, &access(&body)).await.amr, ["pwd", "otp"]);
    // The seed is sealed at rest: the person's item does not hold it in clear.
    let person_item =
        w.services.store.get(&keys::email_guard(&EmailAddress::parse(&email).unwrap())).await.unwrap().unwrap();
    let guard: account::EmailGuard = person_item.decode().unwrap();
    let stored = w.services.store.get(&keys::person(&guard.person_id)).await.unwrap().unwrap();
    let secret = app.to_url().unwrap();
    let secret = secret.split("secret=").nth(1).unwrap().split('&').next().unwrap();
    assert!(secret.len() >= 32);
    assert!(!format!("{stored:?}").contains(secret));
}

async fn a_backup_code_signs_in_once(w: World) {
    let email = w.email("backup.member");
    let phone = w.sign_up(&email, PASSWORD, "sms").await;
    let signed_in = sign_in_sms(&w, &email, &phone, PASSWORD).await;
    let (_, codes) = enrol(&w, &access(&signed_in), &phone).await;
    let (_, started) = w.post("/login", json!({"email": email, "password": PASSWORD})).await;
    let pasted = format!(" {} ", codes[2].to_uppercase());
    let (status, body) =
        w.post("/login/code", json!({"login_token": started["login_token"], "backup_code": pasted})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(claims(&w, &access(&body)).await.amr, ["pwd", "backup_code"]);
    let (_, started) = w.post("/login", json!({"email": email, "password": PASSWORD})).await;
    let (status, body) =
        w.post("/login/code", json!({"login_token": started["login_token"], "backup_code": codes[2]})).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("code_invalid")),
        "a backup code works once"
    );
    let (status, _) =
        w.post("/login/code", json!({"login_token": started["login_token"], "backup_code": codes[3]})).await;
    assert_eq!(status, StatusCode::OK);
}

async fn a_totp_code_is_never_accepted_twice_in_its_step(w: World) {
    let email = w.email("totp.replay");
    let phone = w.sign_up(&email, PASSWORD, "sms").await;
    let signed_in = sign_in_sms(&w, &email, &phone, PASSWORD).await;
    let (app, _) = enrol(&w, &access(&signed_in), &phone).await;
    w.clock.advance(30);
    let code = now_code(&w, &app);
    let (_, first) = w.post("/login", json!({"email": email, "password": PASSWORD})).await;
    let (_, second) = w.post("/login", json!({"email": email, "password": PASSWORD})).await;
    let (status, _) = w.post("/login/code", json!({"login_token": first["login_token"], "code": code})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = w.post("/login/code", json!({"login_token": second["login_token"], "code": code})).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("code_invalid")),
        "replayed in the same step: {body}"
    );
    // Two logins racing with one fresh code: one winner.
    w.clock.advance(30);
    let code = now_code(&w, &app);
    let (_, a) = w.post("/login", json!({"email": email, "password": PASSWORD})).await;
    let (_, b) = w.post("/login", json!({"email": email, "password": PASSWORD})).await;
    let answers = w
        .post_concurrently(
            "/login/code",
            vec![
                json!({"login_token": a["login_token"], "code": code}),
                json!({"login_token": b["login_token"], "code": code}),
            ],
        )
        .await;
    assert_eq!(answers.iter().filter(|(s, _)| *s == StatusCode::OK).count(), 1, "{answers:?}");
    w.clock.advance(30);
    let (status, _) =
        w.post("/login/code", json!({"login_token": second["login_token"], "code": now_code(&w, &app)})).await;
    assert_eq!(status, StatusCode::OK, "the next step's code works");
}

async fn a_person_with_an_app_can_still_ask_for_an_sms(w: World) {
    let email = w.email("app.not.at.hand");
    let phone = w.sign_up(&email, PASSWORD, "sms").await;
    let signed_in = sign_in_sms(&w, &email, &phone, PASSWORD).await;
    enrol(&w, &access(&signed_in), &phone).await;
    let (_, started) = w.post("/login", json!({"email": email, "password": PASSWORD})).await;
    assert_eq!(started["method"], "totp");
    let (status, sent) =
        w.post("/login/code/resend", json!({"login_token": started["login_token"], "channel": "voice"})).await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    assert_eq!(sent["method"], "voice");
    let call = w.last_to(&phone).await;
    assert_eq!(call.channel, "voice");
    let (status, body) =
        w.post("/login/code", json!({"login_token": started["login_token"], "code": call.code()})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(claims(&w, &access(&body)).await.amr, ["pwd", "tel"]);
}

async fn sign_in_with_google_then_the_second_factor(w: World) {
    let email = w.email("google.member");
    let phone = w.sign_up(&email, PASSWORD, "sms").await;
    let issuer = google::issuer();
    let id_token = issuer.sign(&issuer.claims(&email, w.services.now()));
    let (status, started) = w.post("/login/google", json!({"id_token": id_token, "device": "phone app"})).await;
    assert_eq!(status, StatusCode::OK, "{started}");
    assert_eq!(started["status"], "second_factor_required");
    let code = w.last_to(&phone).await.code();
    let (status, body) = w.post("/login/code", json!({"login_token": started["login_token"], "code": code})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(claims(&w, &access(&body)).await.amr, ["google", "sms"]);
    // That Google account is now linked: another one with the same address is refused.
    let mut other = issuer.claims(&email, w.services.now());
    other["sub"] = json!("another-google-account");
    let (status, body) = w.post("/login/google", json!({"id_token": issuer.sign(&other)})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("external_token_invalid")));
    let (status, _) =
        w.post("/login/google", json!({"id_token": issuer.sign(&issuer.claims(&email, w.services.now()))})).await;
    assert_eq!(status, StatusCode::OK);
}

async fn google_tokens_that_must_fail(w: World) {
    let email = w.email("google.attacked");
    w.sign_up(&email, PASSWORD, "sms").await;
    let issuer = google::issuer();
    let now = w.services.now();
    let good = issuer.claims(&email, now);
    let with = |key: &str, value: Value| {
        let mut c = good.clone();
        c[key] = value;
        c
    };
    let cases = vec![
        ("unverified email", issuer.sign(&with("email_verified", json!(false)))),
        ("other audience", issuer.sign(&with("aud", json!("someone-else.apps.example.com")))),
        ("other issuer", issuer.sign(&with("iss", json!("https://evil.example.org")))),
        ("expired", issuer.sign(&with("exp", json!(now - 120)))),
        ("unknown account", issuer.sign(&issuer.claims(&w.email("nobody"), now))),
        ("a consumer account on an address Google does not manage", {
            let mut c = good.clone();
            c.as_object_mut().unwrap().remove("hd");
            issuer.sign(&c)
        }),
        ("another Workspace domain", issuer.sign(&with("hd", json!("example.org")))),
        ("alg none", {
            let token = issuer.sign(&good);
            let parts: Vec<&str> = token.split('.').collect();
            use base64::Engine;
            let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(json!({"alg": "none", "kid": issuer.kid}).to_string());
            format!("{header}.{}.", parts[1])
        }),
        ("tampered", {
            let token = issuer.sign(&good);
            let other = issuer.sign(&issuer.claims(&w.email("other"), now));
            let parts: Vec<&str> = token.split('.').collect();
            let other_parts: Vec<&str> = other.split('.').collect();
            format!("{}.{}.{}", parts[0], other_parts[1], parts[2])
        }),
        ("unknown key", issuer.sign_with_header(&json!({"alg": "RS256", "kid": "not-a-key"}), &good)),
        ("garbage", "not.a.token".to_owned()),
    ];
    for (case, token) in cases {
        let (status, body) = w.post("/login/google", json!({"id_token": token})).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("external_token_invalid")),
            "{case}: {body}"
        );
    }
}

async fn credential_changes_need_a_fresh_reauthentication(w: World) {
    let email = w.email("reauth.member");
    let phone = w.sign_up(&email, PASSWORD, "sms").await;
    let a = access(&sign_in_sms(&w, &email, &phone, PASSWORD).await);
    let b = access(&sign_in_sms(&w, &email, &phone, PASSWORD).await);
    for (method, path, body) in [
        (Method::POST, "/account/password", json!({"new_password": NEW_PASSWORD})),
        (Method::POST, "/account/totp", Value::Null),
        (Method::DELETE, "/account/totp", Value::Null),
    ] {
        let (status, body) = w.call(method, path, &a, body).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("reauthentication_required")),
            "{path}"
        );
    }
    // A wrong password does not start the second factor.
    let (status, body) = w.call(Method::POST, "/reauth", &a, json!({"password": "wrong horse battery staple"})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("password_incorrect")));
    // A step begun in session A cannot be finished by session B.
    let (_, started) = w.call(Method::POST, "/reauth", &a, json!({"password": PASSWORD})).await;
    let code = w.last_to(&phone).await.code();
    let (status, _) = w
        .call(Method::POST, "/reauth/code", &b, json!({"challenge_token": started["login_token"], "code": code}))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = w
        .call(Method::POST, "/reauth/code", &a, json!({"challenge_token": started["login_token"], "code": code}))
        .await;
    assert_eq!(status, StatusCode::OK);
    // B is still not re-authenticated; A is, for five minutes.
    let (status, _) = w.call(Method::POST, "/account/totp", &b, Value::Null).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    w.clock.advance(301);
    let (status, _) = w.call(Method::POST, "/account/totp", &a, Value::Null).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a re-authentication lasts five minutes");
}

async fn a_password_change_ends_the_other_sessions(w: World) {
    let email = w.email("changer");
    let phone = w.sign_up(&email, PASSWORD, "sms").await;
    let here = sign_in_sms(&w, &email, &phone, PASSWORD).await;
    let elsewhere = sign_in_sms(&w, &email, &phone, PASSWORD).await;
    reauth(&w, &access(&here), &phone).await;
    let (status, changed) =
        w.call(Method::POST, "/account/password", &access(&here), json!({"new_password": NEW_PASSWORD})).await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["other_sessions_ended"], 1);
    // The other session can no longer refresh, nor make a sensitive call.
    let (status, _) = w.post("/token/refresh", json!({"refresh_token": elsewhere["refresh_token"]})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = w.call(Method::POST, "/reauth", &access(&elsewhere), json!({"password": NEW_PASSWORD})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // This session goes on, with the new token; its refresh token still works.
    let new_access = changed["access_token"].as_str().unwrap();
    let (status, sessions) = w.call(Method::GET, "/sessions", new_access, Value::Null).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(sessions["sessions"].as_array().unwrap().len(), 1, "{sessions}");
    let (status, _) = w.post("/token/refresh", json!({"refresh_token": here["refresh_token"]})).await;
    assert_eq!(status, StatusCode::OK);
    // Old password out, new password in; the owner was told.
    let (status, _) = w.post("/login", json!({"email": email, "password": PASSWORD})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    w.clock.advance(2);
    sign_in_sms(&w, &email, &phone, NEW_PASSWORD).await;
    assert!(w.sent_to(&email).await.iter().any(|m| m.subject.contains("password was changed")));
}

async fn forgot_password_link_code_then_new_password(w: World) {
    let email = w.email("forgetful");
    let phone = w.sign_up(&email, PASSWORD, "voice").await;
    let before = sign_in_sms_or_voice(&w, &email, &phone).await;
    let (status, body) = w.post("/password/forgot", json!({"email": email})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let mail = w.last_to(&email).await;
    assert!(mail.body.contains("https://portal.example.com/password/reset?token="), "{}", mail.body);
    let (status, started) = w.post("/password/reset/start", json!({"token": mail.link_token()})).await;
    assert_eq!(status, StatusCode::OK, "{started}");
    assert_eq!(started["method"], "voice");
    let code = w.last_to(&phone).await.code();
    // A refused password does not use up the code.
    let (status, body) = w
        .post(
            "/password/reset",
            json!({"challenge_token": started["challenge_token"], "code": code, "new_password": "short"}),
        )
        .await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("password_too_short")));
    let (status, body) = w
        .post(
            "/password/reset",
            json!({"challenge_token": started["challenge_token"], "code": code, "new_password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "password_reset");
    // Used up: the step, and the link.
    let (status, _) = w.post("/password/reset", json!({"challenge_token": started["challenge_token"], "code": code, "new_password": "yet another passphrase"})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = w.post("/password/reset/start", json!({"token": mail.link_token()})).await;
    assert!(status == StatusCode::UNAUTHORIZED || status == StatusCode::GONE, "{status}");
    // Every session ended; the new password works; the owner was told.
    let (status, _) = w.post("/token/refresh", json!({"refresh_token": before["refresh_token"]})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(w.last_to(&email).await.subject.contains("password was reset"));
    sign_in_sms_or_voice_with(&w, &email, &phone, NEW_PASSWORD).await;
}

async fn sign_in_sms_or_voice(w: &World, email: &str, phone: &str) -> Value {
    sign_in_sms_or_voice_with(w, email, phone, PASSWORD).await
}

async fn sign_in_sms_or_voice_with(w: &World, email: &str, phone: &str, password: &str) -> Value {
    let (status, started) = w.post("/login", json!({"email": email, "password": password})).await;
    assert_eq!(status, StatusCode::OK, "{started}");
    let code = w.last_to(phone).await.code();
    let (status, body) = w.post("/login/code", json!({"login_token": started["login_token"], "code": code})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn forgot_password_answers_alike_for_unknown_addresses(w: World) {
    let known = w.email("known.forgetful");
    w.sign_up(&known, PASSWORD, "sms").await;
    let unknown = w.email("unknown.forgetful");
    w.faults.calls.take();
    let a = w.post("/password/forgot", json!({"email": known})).await;
    let known_calls = w.faults.calls.take();
    let b = w.post("/password/forgot", json!({"email": unknown})).await;
    let unknown_calls = w.faults.calls.take();
    assert_eq!(a, b, "same status and body");
    assert_eq!(known_calls, unknown_calls, "the same store calls and an email either way");
    let told = w.last_to(&unknown).await;
    assert!(!told.body.contains("token="), "no reset link for an address without an account");
    // Floods of one address are silently capped.
    for _ in 0..6 {
        assert_eq!(w.post("/password/forgot", json!({"email": unknown})).await.0, StatusCode::ACCEPTED);
    }
    assert_eq!(w.sent_to(&unknown).await.len(), 5);
}

async fn forgot_identifier_emails_the_identifiers(w: World) {
    let email = w.email("which.login");
    w.sign_up(&email, PASSWORD, "sms").await;
    let (status, a) = w.post("/identifier/forgot", json!({"email": email})).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let mail = w.last_to(&email).await;
    assert!(mail.body.contains(&email) && mail.body.contains("Test Subscriber"), "{}", mail.body);
    let unknown = w.email("which.login.unknown");
    w.faults.calls.take();
    w.post("/identifier/forgot", json!({"email": email})).await;
    let known_calls = w.faults.calls.take();
    let (_, b) = w.post("/identifier/forgot", json!({"email": unknown})).await;
    assert_eq!(w.faults.calls.take(), known_calls, "the same calls");
    assert_eq!(a, b);
    assert!(w.last_to(&unknown).await.subject.contains("No Signet account"));
}

async fn a_code_from_another_login_fails(w: World) {
    let email = w.email("two.logins");
    let phone = w.sign_up(&email, PASSWORD, "sms").await;
    let (_, first) = w.post("/login", json!({"email": email, "password": PASSWORD})).await;
    let first_code = w.last_to(&phone).await.code();
    w.clock.advance(1);
    let (_, second) = w.post("/login", json!({"email": email, "password": PASSWORD})).await;
    let second_code = w.last_to(&phone).await.code();
    if first_code != second_code {
        let (status, body) =
            w.post("/login/code", json!({"login_token": second["login_token"], "code": first_code})).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("code_invalid")));
    }
    let (status, _) = w.post("/login/code", json!({"login_token": first["login_token"], "code": first_code})).await;
    assert_eq!(status, StatusCode::OK);
    // A login token is not a re-authentication or reset token either.
    let (status, _) = w
        .post(
            "/password/reset",
            json!({"challenge_token": second["login_token"], "code": second_code, "new_password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn wrong_answers_are_capped_per_person_across_logins(w: World) {
    let email = w.email("many.guesses");
    let phone = w.sign_up(&email, PASSWORD, "sms").await;
    let mut last = Value::Null;
    // Four logins of five wrong codes each: twenty wrong answers in the hour.
    for round in 0..4 {
        w.clock.advance(31);
        let (status, started) = w.post("/login", json!({"email": email, "password": PASSWORD})).await;
        assert_eq!(status, StatusCode::OK, "round {round}: {started}");
        let code = w.last_to(&phone).await.code();
        let wrong = if code == "000000" { "000001" } else { "000000" };
        for _ in 0..5 {
            (_, last) = w.post("/login/code", json!({"login_token": started["login_token"], "code": wrong})).await;
        }
        assert_eq!(last["code"], "code_attempts_exceeded");
    }
    // The password still works, but no new step starts for the rest of the hour.
    w.clock.advance(31);
    let (status, body) = w.post("/login", json!({"email": email, "password": PASSWORD})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("too_many_requests")), "{body}");
    w.clock.advance(3600);
    let (status, _) = w.post("/login", json!({"email": email, "password": PASSWORD})).await;
    assert_eq!(status, StatusCode::OK);
}

async fn an_organisation_identifier_logs_in(w: World) {
    let email = w.email("org.user");
    let phone = w.sign_up(&email, PASSWORD, "sms").await;
    let guard: account::EmailGuard = w
        .services
        .store
        .get(&keys::email_guard(&EmailAddress::parse(&email).unwrap()))
        .await
        .unwrap()
        .unwrap()
        .decode()
        .unwrap();
    let item = w.services.store.get(&keys::person(&guard.person_id)).await.unwrap().unwrap();
    let mut person: Person = item.decode().unwrap();
    let identifier = format!("EK{:06}", w.services.now() % 1_000_000);
    person.identifier = Some(identifier.clone());
    let ident_guard = signet_shared::ports::store::Item::new(
        keys::identifier_guard(&identifier),
        &account::EmailGuard { person_id: person.id.clone() },
    )
    .unwrap();
    w.services
        .store
        .transact(vec![
            signet_shared::ports::store::Write::replace(item.next(&person).unwrap()),
            signet_shared::ports::store::Write::create(ident_guard),
        ])
        .await
        .unwrap();
    let typed = format!("{} {}", identifier[..2].to_lowercase(), &identifier[2..]);
    let (status, started) = w.post("/login", json!({"identifier": typed, "password": PASSWORD})).await;
    assert_eq!(status, StatusCode::OK, "{started}");
    let code = w.last_to(&phone).await.code();
    let (status, _) = w.post("/login/code", json!({"login_token": started["login_token"], "code": code})).await;
    assert_eq!(status, StatusCode::OK);
    // "Forgot identifier" names it.
    w.post("/identifier/forgot", json!({"email": email})).await;
    assert!(w.last_to(&email).await.body.contains(&identifier));
}

async fn an_authenticator_login_costs_the_fewest_calls(w: World) {
    let email = w.email("totp.counted");
    let phone = w.sign_up(&email, PASSWORD, "sms").await;
    let signed_in = sign_in_sms(&w, &email, &phone, PASSWORD).await;
    let (app, _) = enrol(&w, &access(&signed_in), &phone).await;
    w.clock.advance(30);
    let calls = w.faults.calls.clone();
    calls.take();
    let (_, started) = w.post("/login", json!({"email": email, "password": PASSWORD})).await;
    // Source failures window, email guard, person; the attempt counted before the hash, the
    // login step (which clears the count). No phone, no message.
    assert_eq!(calls.take(), (3, 2, 0, 0), "password step with an app");
    let (status, _) =
        w.post("/login/code", json!({"login_token": started["login_token"], "code": now_code(&w, &app)})).await;
    assert_eq!(status, StatusCode::OK);
    // The step, the person's partition; the seed opened; one transaction (step, person's
    // last step, session, audit).
    assert_eq!(calls.take(), (2, 1, 1, 0), "authenticator code");
}

async fn concurrent_guesses_are_counted_and_never_answered_with_a_conflict(w: World) {
    let email = w.email("racing.guesses");
    let phone = w.sign_up(&email, PASSWORD, "sms").await;
    let (_, started) = w.post("/login", json!({"email": email, "password": PASSWORD})).await;
    let code = w.last_to(&phone).await.code();
    let n: u32 = code.parse().unwrap();
    // Seven wrong codes and the right one, all at once on one step.
    let mut guesses: Vec<Value> = (1..=7)
        .map(|i| json!({"login_token": started["login_token"], "code": format!("{:06}", (n + i) % 1_000_000)}))
        .collect();
    guesses.insert(3, json!({"login_token": started["login_token"], "code": code}));
    let answers = w.post_concurrently("/login/code", guesses).await;
    let statuses: Vec<u16> = answers.iter().map(|(s, _)| s.as_u16()).collect();
    assert!(
        !statuses.contains(&409),
        "a right answer that loses a race is checked again, never a conflict: {statuses:?}"
    );
    assert!(statuses.iter().filter(|s| **s == 200).count() <= 1, "{statuses:?}");
    // Every wrong guess was counted before it was answered: at most five get "wrong code",
    // the rest find the step ended.
    let wrong = answers.iter().filter(|(_, b)| b["code"] == "code_invalid").count();
    assert!(wrong <= 4, "{statuses:?}");
    // Once the right one is through, the others find the step used (401).
    for (status, body) in &answers {
        assert!(matches!(status.as_u16(), 200 | 422 | 410 | 401), "{status} {body}");
    }
}
