//! Someone else's cheap requests never lock the owner out (points 4 and 5 of the hardening):
//! a throttled account answers "wait N seconds" the same way for everyone, without checking
//! or counting the attempt; a device that signed in before keeps its own allowance; a noisy
//! source address never refuses a right password. On both back ends.

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};
use signet_shared::domain::keys;
use signet_shared::domain::people::account::{self, LoginFailures, Person};
use signet_shared::domain::people::email::EmailAddress;
use signet_shared::ports::store::{Item, Key, Write};
use signet_tests::{scenarios, World};

const PASSWORD: &str = "correct horse battery staple";
const WRONG: &str = "wrong horse battery staple";

scenarios!(
    a_throttled_account_says_wait_alike_for_right_wrong_and_unknown_and_counts_nothing,
    a_trusted_device_signs_in_while_the_account_is_locked_for_everyone_else,
    a_trusted_device_has_its_own_allowance,
    a_device_token_is_no_access_token,
    a_noisy_source_does_not_refuse_a_right_password_with_a_right_code,
    reauthentication_is_not_locked_by_guesses_at_the_login,
    parallel_guesses_are_each_counted_before_they_are_checked_known_or_not,
    a_new_password_ends_the_trust_in_devices_but_the_one_that_changed_it,
    a_source_far_over_its_limit_is_closed_but_to_trusted_devices,
    ten_wrong_passwords_in_a_session_end_it,
);

async fn login(w: &World, email: &str, password: &str, device_token: Option<&str>) -> (StatusCode, Value) {
    let mut body = json!({"email": email, "password": password});
    if let Some(token) = device_token {
        body["device_token"] = json!(token);
    }
    w.post("/login", body).await
}

async fn person_of(w: &World, email: &str) -> (Item, Person) {
    let guard = w.services.store.get(&keys::email_guard(&EmailAddress::parse(email).unwrap())).await.unwrap().unwrap();
    let item = w
        .services
        .store
        .get(&keys::person(&guard.decode::<account::EmailGuard>().unwrap().person_id))
        .await
        .unwrap()
        .unwrap();
    let person = item.decode().unwrap();
    (item, person)
}

/// The answer without what differs from one call to the next (nothing should).
fn shape(answer: &(StatusCode, Value)) -> (StatusCode, Value) {
    (answer.0, answer.1.clone())
}

async fn a_throttled_account_says_wait_alike_for_right_wrong_and_unknown_and_counts_nothing(w: World) {
    let email = w.email("throttled");
    w.sign_up(&email, PASSWORD, "sms").await;
    let unknown = w.email("nobody.here");
    for i in 0..5 {
        if i > 0 {
            w.clock.advance(16);
        }
        for who in [&email, &unknown] {
            let (status, body) = login(&w, who, WRONG, None).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        }
    }
    // Five failures: the next try waits 4 seconds (1, 2, 4… after the third).
    w.clock.advance(1);
    let right = login(&w, &email, PASSWORD, None).await;
    let wrong = login(&w, &email, WRONG, None).await;
    let nobody = login(&w, &unknown, WRONG, None).await;
    assert_eq!(right.0, StatusCode::TOO_MANY_REQUESTS, "{}", right.1);
    assert_eq!(right.1["code"], "too_many_requests");
    assert_eq!(right.1["retry_after"], 3);
    assert_eq!(shape(&right), shape(&wrong), "the right password is not told apart");
    assert_eq!(shape(&right), shape(&nobody), "an unknown account is not told apart");
    // Waiting answers were not counted.
    let (_, person) = person_of(&w, &email).await;
    assert_eq!(person.login_failures.count, 5);
    w.clock.advance(3);
    assert_eq!(login(&w, &email, PASSWORD, None).await.0, StatusCode::OK, "after the wait, the owner gets in");
}

async fn a_trusted_device_signs_in_while_the_account_is_locked_for_everyone_else(w: World) {
    let email = w.email("besieged");
    let phone = w.sign_up(&email, PASSWORD, "sms").await;
    let signed_in = w.sign_in(&email, &phone, PASSWORD).await;
    let device = signed_in["device_token"].as_str().expect("a device token").to_owned();
    // An attacker used up the hour: a hundred failures.
    let (item, mut person) = person_of(&w, &email).await;
    let now = w.services.now();
    person.login_failures = LoginFailures { count: LoginFailures::MAX_PER_HOUR, window_start: now - 60, last_at: now };
    w.services.store.write(Write::replace(item.next(&person).unwrap())).await.unwrap();
    let (status, body) = login(&w, &email, PASSWORD, None).await;
    assert_eq!((status, body["retry_after"].as_i64()), (StatusCode::TOO_MANY_REQUESTS, Some(3540)), "{body}");
    // The owner's device, by its token (an app) or its cookie (a browser), gets in.
    let (status, body) = login(&w, &email, PASSWORD, Some(&device)).await;
    assert_eq!((status, body["status"].as_str()), (StatusCode::OK, Some("second_factor_required")), "{body}");
    let cookie = format!("signet_device={device}");
    let (status, _, started) = w
        .send(
            Method::POST,
            "/login",
            &[("content-type", "application/json"), ("cookie", &cookie)],
            json!({"email": email, "password": PASSWORD}).to_string().into_bytes(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{started}");
    let code = w.last_to(&phone).await.code();
    let (status, body) = w.post("/login/code", json!({"login_token": started["login_token"], "code": code})).await;
    assert_eq!((status, body["status"].as_str()), (StatusCode::OK, Some("signed_in")), "{body}");
    // The attacker's lock stands for everyone else.
    assert_eq!(login(&w, &email, PASSWORD, None).await.0, StatusCode::TOO_MANY_REQUESTS);
    // Another person's device token is no key to this account.
    let other = w.email("other.owner");
    let other_phone = w.sign_up(&other, PASSWORD, "sms").await;
    let foreign = w.sign_in(&other, &other_phone, PASSWORD).await["device_token"].as_str().unwrap().to_owned();
    assert_eq!(login(&w, &email, PASSWORD, Some(&foreign)).await.0, StatusCode::TOO_MANY_REQUESTS);
}

async fn a_trusted_device_has_its_own_allowance(w: World) {
    let email = w.email("ownallowance");
    let phone = w.sign_up(&email, PASSWORD, "sms").await;
    let device = w.sign_in(&email, &phone, PASSWORD).await["device_token"].as_str().unwrap().to_owned();
    // Three typos on the device: they count for it, not for everyone else.
    for _ in 0..3 {
        assert_eq!(login(&w, &email, WRONG, Some(&device)).await.0, StatusCode::UNAUTHORIZED);
    }
    let (status, body) = login(&w, &email, PASSWORD, Some(&device)).await;
    assert_eq!((status, body["retry_after"].as_i64()), (StatusCode::TOO_MANY_REQUESTS, Some(1)));
    let (_, person) = person_of(&w, &email).await;
    assert_eq!(person.login_failures.count, 0, "the other clients' allowance is untouched");
    assert_eq!(person.failures_of(Some(person.device_failures[0].device.as_str())).count, 3);
    assert_eq!(login(&w, &email, PASSWORD, None).await.0, StatusCode::OK, "another client is not held back");
    w.clock.advance(1);
    assert_eq!(login(&w, &email, PASSWORD, Some(&device)).await.0, StatusCode::OK);
    let (_, person) = person_of(&w, &email).await;
    assert!(person.device_failures.is_empty(), "a right password clears the device's failures");
}

async fn a_device_token_is_no_access_token(w: World) {
    let email = w.email("notabearer");
    let phone = w.sign_up(&email, PASSWORD, "sms").await;
    let signed_in = w.sign_in(&email, &phone, PASSWORD).await;
    let (status, _) = w.call(Method::GET, "/sessions", signed_in["device_token"].as_str().unwrap(), Value::Null).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Nor is an access token a device token: the attempt counts with everyone else's.
    let access = signed_in["access_token"].as_str().unwrap();
    assert_eq!(login(&w, &email, WRONG, Some(access)).await.0, StatusCode::UNAUTHORIZED);
    let (_, person) = person_of(&w, &email).await;
    assert_eq!((person.login_failures.count, person.device_failures.len()), (1, 0));
}

async fn a_noisy_source_does_not_refuse_a_right_password_with_a_right_code(w: World) {
    let email = w.email("behindnat");
    let phone = w.sign_up(&email, PASSWORD, "sms").await;
    // Everyone behind this address failed 300 times this hour.
    let now = w.services.now();
    let start = now - now.rem_euclid(3600);
    let key = Key::new("THROTTLE#login-failures#unknown", format!("W#{start}"));
    let window = Item::new(key, &json!({"count": 300})).unwrap().expires_at(start + 3600);
    w.services
        .store
        .write(Write::Put { item: window, condition: signet_shared::ports::store::Condition::None })
        .await
        .unwrap();
    // A wrong password from there waits for the end of the hour…
    let (status, body) = login(&w, &email, WRONG, None).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("too_many_requests")), "{body}");
    assert_eq!(body["retry_after"].as_i64(), Some(start + 3600 - now));
    // …and the right one with the right code gets in.
    let signed_in = w.sign_in(&email, &phone, PASSWORD).await;
    assert_eq!(signed_in["status"], "signed_in");
}

async fn reauthentication_is_not_locked_by_guesses_at_the_login(w: World) {
    let email = w.email("reauther");
    let phone = w.sign_up(&email, PASSWORD, "sms").await;
    let access = w.sign_in(&email, &phone, PASSWORD).await["access_token"].as_str().unwrap().to_owned();
    let (item, mut person) = person_of(&w, &email).await;
    let now = w.services.now();
    person.login_failures = LoginFailures { count: LoginFailures::MAX_PER_HOUR, window_start: now - 60, last_at: now };
    w.services.store.write(Write::replace(item.next(&person).unwrap())).await.unwrap();
    w.reauthenticate(&access, &phone, PASSWORD).await;
    // Wrong passwords in the session count for the session only.
    for _ in 0..3 {
        let (status, body) = w.call(Method::POST, "/reauth", &access, json!({"password": WRONG})).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("password_incorrect")));
    }
    let (status, _) = w.call(Method::POST, "/reauth", &access, json!({"password": PASSWORD})).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    w.clock.advance(1);
    w.reauthenticate(&access, &phone, PASSWORD).await;
}

async fn parallel_guesses_are_each_counted_before_they_are_checked_known_or_not(w: World) {
    let email = w.email("burst");
    w.sign_up(&email, PASSWORD, "sms").await;
    let unknown = w.email("burst.nobody");
    let mut outcomes = Vec::new();
    for who in [&email, &unknown] {
        let guesses = (0..12).map(|i| json!({"email": who, "password": format!("wrong horse battery {i}")})).collect();
        let answers = w.post_concurrently("/login", guesses).await;
        let checked =
            answers.iter().filter(|(s, b)| *s == StatusCode::UNAUTHORIZED && b["code"] == "login_failed").count();
        let waited = answers
            .iter()
            .filter(|(s, b)| *s == StatusCode::TOO_MANY_REQUESTS && b["retry_after"].as_u64().is_some())
            .count();
        assert_eq!(checked + waited, 12, "{answers:?}");
        outcomes.push((checked, waited));
    }
    // Three free failures, then the delay: a burst buys no more guesses than patience would,
    // and an unknown address answers the burst exactly as a real account does.
    assert_eq!(outcomes[0], (3, 9), "a real account");
    assert_eq!(outcomes[1], outcomes[0], "an unknown address, alike");
    let (_, person) = person_of(&w, &email).await;
    assert_eq!(person.login_failures.count, 3, "every guess checked was counted, none more");
}

async fn a_new_password_ends_the_trust_in_devices_but_the_one_that_changed_it(w: World) {
    let email = w.email("newpassword");
    let phone = w.sign_up(&email, PASSWORD, "sms").await;
    let signed_in = w.sign_in(&email, &phone, PASSWORD).await;
    let old_device = signed_in["device_token"].as_str().unwrap().to_owned();
    let other = w.sign_in(&email, &phone, PASSWORD).await["device_token"].as_str().unwrap().to_owned();
    let access = signed_in["access_token"].as_str().unwrap();
    w.reauthenticate(access, &phone, PASSWORD).await;
    const NEW: &str = "a brand new passphrase 2026";
    let (status, changed) = w.call(Method::POST, "/account/password", access, json!({"new_password": NEW})).await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    let renewed = changed["device_token"].as_str().expect("the device that changed it stays trusted").to_owned();
    // Someone guesses at the new password: the account waits for the hour.
    let (item, mut person) = person_of(&w, &email).await;
    let now = w.services.now();
    person.login_failures = LoginFailures { count: LoginFailures::MAX_PER_HOUR, window_start: now - 60, last_at: now };
    w.services.store.write(Write::replace(item.next(&person).unwrap())).await.unwrap();
    // Tokens given with the old password are worth nothing now; the renewed one is.
    for stale in [&old_device, &other] {
        assert_eq!(login(&w, &email, NEW, Some(stale)).await.0, StatusCode::TOO_MANY_REQUESTS);
    }
    let (status, body) = login(&w, &email, NEW, Some(&renewed)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn a_source_far_over_its_limit_is_closed_but_to_trusted_devices(w: World) {
    let email = w.email("closedsource");
    let phone = w.sign_up(&email, PASSWORD, "sms").await;
    let device = w.sign_in(&email, &phone, PASSWORD).await["device_token"].as_str().unwrap().to_owned();
    let now = w.services.now();
    let start = now - now.rem_euclid(3600);
    let key = Key::new("THROTTLE#login-failures#unknown", format!("W#{start}"));
    let window = Item::new(key, &json!({"count": 3000})).unwrap().expires_at(start + 3600);
    w.services
        .store
        .write(Write::Put { item: window, condition: signet_shared::ports::store::Condition::None })
        .await
        .unwrap();
    w.faults.calls.take();
    let (status, body) = login(&w, &email, PASSWORD, None).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("too_many_requests")), "{body}");
    let (_, writes, _, _) = w.faults.calls.take();
    assert_eq!(writes, 0, "refused before anything was counted or hashed");
    let (status, body) = login(&w, &email, PASSWORD, Some(&device)).await;
    assert_eq!((status, body["status"].as_str()), (StatusCode::OK, Some("second_factor_required")), "{body}");
}

async fn ten_wrong_passwords_in_a_session_end_it(w: World) {
    let email = w.email("stolensession");
    let phone = w.sign_up(&email, PASSWORD, "sms").await;
    let access = w.sign_in(&email, &phone, PASSWORD).await["access_token"].as_str().unwrap().to_owned();
    for i in 1..=10 {
        // The session's own delay after the third (1, 2, 4… 64 s): waited out each time.
        w.clock.advance(if i > 3 { 65 } else { 0 });
        let (status, body) = w.call(Method::POST, "/reauth", &access, json!({"password": WRONG})).await;
        let expected = if i < 10 {
            (StatusCode::UNAUTHORIZED, "password_incorrect")
        } else {
            (StatusCode::UNAUTHORIZED, "token_invalid")
        };
        assert_eq!((status, body["code"].as_str().unwrap()), expected, "attempt {i}: {body}");
    }
    let (status, _) = w.call(Method::GET, "/sessions", &access, Value::Null).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the session ended");
    // The account itself is not held back: its owner signs in again.
    assert_eq!(w.sign_in(&email, &phone, PASSWORD).await["status"], "signed_in");
}
