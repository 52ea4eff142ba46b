//! Individual sign-up, end to end, on both back ends.

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};
use signet_shared::domain::keys;
use signet_shared::domain::people::account;
use signet_shared::domain::people::email::EmailAddress;
use signet_tests::{scenarios, World};

const PASSWORD: &str = "correct horse battery staple";

scenarios!(
    signup_happy_path_activates_the_account_and_sends_a_confirmation,
    signup_of_a_known_address_answers_alike_and_emails_the_owner,
    signup_profile_is_prefilled_from_the_subscriber_record,
    signup_with_a_voice_call_code_succeeds,
    signup_bad_input_gets_problem_json_and_writes_nothing,
    signup_link_expired_reused_or_forged_fails,
    signup_five_wrong_codes_end_the_signup,
    signup_code_of_another_signup_fails,
    signup_resend_is_throttled_and_replaces_the_code,
    signup_racing_for_one_email_ends_in_one_account,
    signup_confirms_racing_on_one_code_create_one_account,
    signup_abandoned_expires,
    signup_sms_failure_leaves_the_step_retryable,
    signup_confirmation_mail_failure_is_retried,
    signup_key_service_failure_leaves_the_step_retryable,
    unknown_routes_and_methods_get_problem_json,
    problems_are_in_french_when_asked,
    signup_steps_cost_the_fewest_calls,
    signup_parallel_wrong_codes_all_count,
    signup_codes_to_one_phone_are_limited_across_signups,
);

/// Steps 1 and 2: asks for a link and follows it; returns the continuation token and the
/// verify answer.
async fn follow_link(w: &World, email: &str) -> (String, Value) {
    let (status, body) = w.post("/signup", json!({"email": email})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let link = w.last_to(email).await;
    assert_eq!(link.channel, "email");
    assert!(link.body.contains("https://portal.example.com/signup/verify?token="), "{}", link.body);
    let (status, body) = w.post("/signup/verify", json!({"token": link.link_token()})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (body["signup_token"].as_str().unwrap().to_owned(), body)
}

fn profile(token: &str, phone: &str, channel: &str) -> Value {
    json!({"signup_token": token, "first_name": "Test", "last_name": "Subscriber", "password": PASSWORD, "phone": phone, "channel": channel})
}

/// Steps 1 to 3: returns the continuation token and the phone the code went to.
async fn reach_code(w: &World, email: &str, channel: &str) -> (String, String) {
    let (token, _) = follow_link(w, email).await;
    let phone = w.phone();
    let (status, body) = w.post("/signup/profile", profile(&token, &phone, channel)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "code_sent");
    assert_eq!(body["channel"], channel);
    (token, phone)
}

fn assert_problem(status: StatusCode, body: &Value, expected_status: u16, code: &str) {
    assert_eq!(status.as_u16(), expected_status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], expected_status, "{body}");
    assert!(body["type"].as_str().unwrap().starts_with("/problems/"), "{body}");
    assert!(!body["title"].as_str().unwrap().is_empty());
}

async fn has_account(w: &World, email: &str) -> bool {
    w.services.store.get(&keys::email_guard(&EmailAddress::parse(email).unwrap())).await.unwrap().is_some()
}

async fn signup_happy_path_activates_the_account_and_sends_a_confirmation(w: World) {
    let email = w.email("new.subscriber");
    let (token, phone) = reach_code(&w, &email, "sms").await;
    let sms = w.last_to(&phone).await;
    assert_eq!(sms.channel, "sms");
    assert!(!has_account(&w, &email).await, "no account before the code");
    let (status, body) = w.post("/signup/confirm", json!({"signup_token": token, "code": sms.code()})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["status"], "active");
    assert_eq!(body["email"], email);
    assert!(has_account(&w, &email).await);
    // The person, the personal space and the membership exist.
    let person_id = body["person_id"].as_str().unwrap();
    let space_id = body["space_id"].as_str().unwrap();
    let person: account::Person =
        w.services.store.get(&keys::person(person_id)).await.unwrap().unwrap().decode().unwrap();
    assert!(person.password_hash.starts_with("$argon2id$"));
    assert_eq!(
        person.phone.as_ref().unwrap().hint,
        signet_shared::domain::people::phone::PhoneNumber::parse(&phone, &w.services.config.limits.phone_countries)
            .unwrap()
            .hint()
    );
    assert!(w.services.store.get(&keys::space(space_id)).await.unwrap().is_some());
    let members = w.services.store.query_gsi1(&format!("SPACE#{space_id}"), "MEMBER#", 10).await.unwrap();
    assert_eq!(members.len(), 1);
    // The phone is sealed for this person only.
    let context = signet_shared::ports::EncryptionContext::from([
        ("purpose".into(), "phone".into()),
        ("person".into(), person_id.into()),
    ]);
    let opened = w.services.keys.open(&person.phone.as_ref().unwrap().phone, &context).await.unwrap();
    assert_eq!(
        String::from_utf8(opened).unwrap(),
        signet_shared::domain::people::phone::PhoneNumber::parse(&phone, &w.services.config.limits.phone_countries)
            .unwrap()
            .as_str()
    );
    let other = signet_shared::ports::EncryptionContext::from([
        ("purpose".into(), "phone".into()),
        ("person".into(), "someone-else".into()),
    ]);
    assert!(w.services.keys.open(&person.phone.as_ref().unwrap().phone, &other).await.is_err());
    // Mail: the link, then the confirmation.
    let mails = w.sent_to(&email).await;
    assert_eq!(mails.len(), 2, "{mails:?}");
    assert!(mails[1].subject.contains("created") || mails[1].subject.contains("créé"), "{:?}", mails[1]);
    // Confirming again answers the same and sends nothing more.
    let (status, again) = w.post("/signup/confirm", json!({"signup_token": token, "code": sms.code()})).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(again["person_id"], body["person_id"]);
    assert_eq!(w.sent_to(&email).await.len(), 2);
    if w.backend == "embedded" {
        let w = w.restart();
        assert!(has_account(&w, &email).await, "the account survives a restart");
    }
}

async fn signup_of_a_known_address_answers_alike_and_emails_the_owner(w: World) {
    let email = w.email("known");
    let (token, phone) = reach_code(&w, &email, "sms").await;
    let code = w.last_to(&phone).await.code();
    assert_eq!(w.post("/signup/confirm", json!({"signup_token": token, "code": code})).await.0, StatusCode::CREATED);

    let unknown = w.email("unknown");
    w.faults.calls.take();
    let (s1, b1) = w.post("/signup", json!({"email": unknown})).await;
    let unknown_calls = w.faults.calls.take();
    let (s2, b2) = w.post("/signup", json!({"email": email.to_uppercase()})).await;
    let known_calls = w.faults.calls.take();
    assert_eq!((s1, &b1), (s2, &b2), "same answer for a known and an unknown address");
    assert_eq!(unknown_calls, known_calls, "same calls, so about the same time, for a known and an unknown address");
    let owner_mail = w.last_to(&email).await;
    assert!(owner_mail.subject.contains("already") || owner_mail.subject.contains("déjà"), "{owner_mail:?}");
    assert!(!owner_mail.body.contains("token="), "no sign-up link for a known address");
    assert!(w.last_to(&unknown).await.body.contains("token="));
}

async fn signup_profile_is_prefilled_from_the_subscriber_record(w: World) {
    let email = w.email("legacy.subscriber");
    let record = account::SubscriberRecord {
        id: format!("S-{}", w.tag),
        email: EmailAddress::parse(&email).unwrap(),
        first_name: "Legacy".into(),
        last_name: "Subscriber".into(),
        phone: Some(account::SealedPhone {
            sealed: w
                .services
                .keys
                .seal(b"+15145550177", &account::subscriber_phone_context(&format!("S-{}", w.tag)))
                .await
                .unwrap(),
            hint: "+1 ••• ••77".into(),
        }),
        locale: signet_shared::Locale::Fr,
        person_id: None,
    };
    let item = signet_shared::ports::store::Item::new(keys::subscriber(&record.email), &record).unwrap();
    w.services.store.write(signet_shared::ports::store::Write::create(item)).await.unwrap();
    let (token, verified) = follow_link(&w, &email).await;
    // The first email too speaks the record's language, though the request named none.
    let first = w.sent_to(&email).await.remove(0);
    assert_eq!(first.subject, "Poursuivez la création de votre compte Signet", "{first:?}");
    assert_eq!(verified["profile"]["first_name"], "Legacy");
    assert_eq!(verified["profile"]["last_name"], "Subscriber");
    assert_eq!(verified["profile"]["phone_hint"], "+1 ••• ••77", "the number on file is never shown whole");
    assert!(!verified.to_string().contains("5550177"));
    assert_eq!(verified["profile"]["locale"], "fr");
    let phone = w.phone();
    assert_eq!(w.post("/signup/profile", profile(&token, &phone, "sms")).await.0, StatusCode::OK);
    let sms = w.last_to(&phone).await;
    assert!(sms.body.contains("code de confirmation"), "the record's language: {}", sms.body);
    let (status, body) = w.post("/signup/confirm", json!({"signup_token": token, "code": sms.code()})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let linked: account::SubscriberRecord =
        w.services.store.get(&keys::subscriber(&record.email)).await.unwrap().unwrap().decode().unwrap();
    assert_eq!(linked.person_id.as_deref(), body["person_id"].as_str(), "the record is linked to the new person");
    assert!(w.last_to(&email).await.subject.contains("créé"));
}

async fn signup_with_a_voice_call_code_succeeds(w: World) {
    let email = w.email("voice");
    let (token, phone) = reach_code(&w, &email, "voice").await;
    let call = w.last_to(&phone).await;
    assert_eq!(call.channel, "voice");
    assert!(call.body.contains("I repeat"), "{}", call.body);
    let (status, body) = w.post("/signup/confirm", json!({"signup_token": token, "code": call.code()})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

async fn signup_bad_input_gets_problem_json_and_writes_nothing(w: World) {
    // Malformed JSON, wrong media type, missing and unknown fields.
    let (status, headers, body) =
        w.send(Method::POST, "/signup", &[("content-type", "application/json")], b"{\"email\":".to_vec()).await;
    assert_problem(status, &body, 400, "malformed_json");
    assert_eq!(headers["content-type"], "application/problem+json");
    let (status, _, body) = w.send(Method::POST, "/signup", &[("content-type", "text/plain")], b"{}".to_vec()).await;
    assert_problem(status, &body, 415, "unsupported_media_type");
    let (status, body) = w.post("/signup", json!({})).await;
    assert_problem(status, &body, 422, "invalid_request");
    assert_eq!(body["field"], "email");
    let (status, body) = w.post("/signup", json!({"email": w.email("x"), "admin": true})).await;
    assert_problem(status, &body, 422, "invalid_request");
    assert_eq!(body["field"], "admin");
    let (status, body) = w.post("/signup", json!({"email": 42})).await;
    assert_problem(status, &body, 422, "invalid_request");
    let (status, _, body) =
        w.send(Method::POST, "/signup", &[("content-type", "application/json")], vec![b' '; 70 * 1024]).await;
    assert_problem(status, &body, 413, "payload_too_large");
    for bad in ["not-an-email", "a@b", "", "x@example.com\nbcc@example.com"] {
        let (status, body) = w.post("/signup", json!({"email": bad})).await;
        assert_problem(status, &body, 422, "invalid_email");
    }
    assert_eq!(w.faults.calls.take().1, 0, "bad input writes nothing");

    // Bad profiles: nothing is stored, the sign-up can still go on.
    let email = w.email("bad.input");
    let (token, _) = follow_link(&w, &email).await;
    let phone = w.phone();
    w.faults.calls.take();
    let cases = [
        (json!({"password": "short1"}), "password_too_short"),
        (json!({"password": "x".repeat(129)}), "password_too_long"),
        (json!({"password": "password1"}), "password_common"),
        (json!({"password": "Qwertyuiop"}), "password_common"),
        (json!({"password": format!("my {email} pw")}), "password_contains_email"),
        (json!({"phone": "514 555 0100"}), "invalid_phone"),
        (json!({"phone": "+1 555"}), "invalid_phone"),
        (json!({"first_name": ""}), "invalid_name"),
        (json!({"last_name": "x".repeat(101)}), "invalid_name"),
        (json!({"channel": "pigeon"}), "invalid_request"),
        (json!({"extra": 1}), "invalid_request"),
    ];
    for (change, code) in cases {
        let mut body = profile(&token, &phone, "sms");
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (status, problem) = w.post("/signup/profile", body).await;
        assert_eq!(problem["code"], code, "{change}: {problem}");
        assert!(status.is_client_error(), "{change}: {status}");
    }
    let (_, writes, keys, messages) = w.faults.calls.take();
    assert_eq!((writes, keys, messages), (0, 0, 0), "a bad profile writes, seals and sends nothing");
    assert!(w.sent_to(&phone).await.is_empty(), "no code sent for a bad profile");
    let (status, body) = w.post("/signup/profile", json!({"signup_token": "forged", "first_name": "Test", "last_name": "Subscriber", "password": PASSWORD, "phone": phone, "channel": "sms"})).await;
    assert_problem(status, &body, 401, "signup_invalid");
    // Confirming before any code was sent is the wrong step.
    let (status, body) = w.post("/signup/confirm", json!({"signup_token": token, "code": "123456"})).await;
    assert_problem(status, &body, 409, "signup_wrong_step");
    // The sign-up still completes.
    assert_eq!(w.post("/signup/profile", profile(&token, &phone, "sms")).await.0, StatusCode::OK);
    let code = w.last_to(&phone).await.code();
    assert_eq!(w.post("/signup/confirm", json!({"signup_token": token, "code": code})).await.0, StatusCode::CREATED);
}

async fn signup_link_expired_reused_or_forged_fails(w: World) {
    let email = w.email("links");
    // Reused.
    let (_, _) = follow_link(&w, &email).await;
    let token = w.last_to(&email).await.link_token();
    let (status, body) = w.post("/signup/verify", json!({"token": token})).await;
    assert_problem(status, &body, 410, "link_used");
    // Forged: right id, wrong secret; garbage.
    let forged = format!("{}.{}", &token[..32], "A".repeat(43));
    let (status, body) = w.post("/signup/verify", json!({"token": forged})).await;
    assert_problem(status, &body, 401, "link_invalid");
    let (status, body) = w.post("/signup/verify", json!({"token": "garbage"})).await;
    assert_problem(status, &body, 401, "link_invalid");
    // Expired.
    let late = w.email("late");
    assert_eq!(w.post("/signup", json!({"email": late})).await.0, StatusCode::ACCEPTED);
    let token = w.last_to(&late).await.link_token();
    w.clock.advance(w.services.config.limits.link_ttl + 1);
    let (status, body) = w.post("/signup/verify", json!({"token": token})).await;
    assert_problem(status, &body, 410, "link_expired");
}

async fn signup_five_wrong_codes_end_the_signup(w: World) {
    let email = w.email("wrong.codes");
    let (token, phone) = reach_code(&w, &email, "sms").await;
    let code = w.last_to(&phone).await.code();
    let wrong = if code == "111111" { "222222" } else { "111111" };
    for remaining in (1..=4).rev() {
        let (status, body) = w.post("/signup/confirm", json!({"signup_token": token, "code": wrong})).await;
        assert_problem(status, &body, 422, "code_invalid");
        assert_eq!(body["remaining_attempts"], remaining);
    }
    let (status, body) = w.post("/signup/confirm", json!({"signup_token": token, "code": wrong})).await;
    assert_problem(status, &body, 410, "code_attempts_exceeded");
    let (status, body) = w.post("/signup/confirm", json!({"signup_token": token, "code": code})).await;
    assert_problem(status, &body, 410, "signup_expired");
    let (status, body) = w.post("/signup/code", json!({"signup_token": token})).await;
    assert_problem(status, &body, 410, "signup_expired");
    assert!(!has_account(&w, &email).await);
}

async fn signup_code_of_another_signup_fails(w: World) {
    let (token_a, _) = reach_code(&w, &w.email("first"), "sms").await;
    let (_, phone_b) = reach_code(&w, &w.email("second"), "sms").await;
    let code_b = w.last_to(&phone_b).await.code();
    let (status, body) = w.post("/signup/confirm", json!({"signup_token": token_a, "code": code_b})).await;
    assert_problem(status, &body, 422, "code_invalid");
    assert!(!has_account(&w, &w.email("first")).await);
}

async fn signup_resend_is_throttled_and_replaces_the_code(w: World) {
    let email = w.email("resend");
    let (token, phone) = reach_code(&w, &email, "sms").await;
    let first = w.last_to(&phone).await.code();
    let (status, headers, body) = w
        .send(
            Method::POST,
            "/signup/code",
            &[("content-type", "application/json")],
            json!({"signup_token": token}).to_string().into_bytes(),
        )
        .await;
    assert_problem(status, &body, 429, "code_resend_too_soon");
    assert!(headers.contains_key("retry-after"));
    w.clock.advance(w.services.config.limits.code_resend_interval);
    let (status, body) = w.post("/signup/code", json!({"signup_token": token, "channel": "voice"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["channel"], "voice");
    let call = w.last_to(&phone).await;
    assert_eq!(call.channel, "voice");
    let second = call.code();
    if first != second {
        let (status, body) = w.post("/signup/confirm", json!({"signup_token": token, "code": first})).await;
        assert_problem(status, &body, 422, "code_invalid");
    }
    // Spaces and dashes pasted into the code are forgiven.
    let pasted = format!(" {}-{} ", &second[..3], &second[3..]);
    assert_eq!(w.post("/signup/confirm", json!({"signup_token": token, "code": pasted})).await.0, StatusCode::CREATED);
}

async fn signup_racing_for_one_email_ends_in_one_account(w: World) {
    let email = w.email("race");
    let (token_a, phone_a) = reach_code(&w, &email, "sms").await;
    let (token_b, phone_b) = reach_code(&w, &email, "sms").await;
    let code_a = w.last_to(&phone_a).await.code();
    let code_b = w.last_to(&phone_b).await.code();
    let (a, b) = tokio::join!(
        w.post("/signup/confirm", json!({"signup_token": token_a, "code": code_a})),
        w.post("/signup/confirm", json!({"signup_token": token_b, "code": code_b})),
    );
    let mut statuses = [a.0.as_u16(), b.0.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [201, 409], "{a:?} {b:?}");
    let loser = if a.0 == StatusCode::CONFLICT { &a.1 } else { &b.1 };
    assert_eq!(loser["code"], "account_exists");
    let guard: account::EmailGuard = w
        .services
        .store
        .get(&keys::email_guard(&EmailAddress::parse(&email).unwrap()))
        .await
        .unwrap()
        .unwrap()
        .decode()
        .unwrap();
    let winner = if a.0 == StatusCode::CREATED { &a.1 } else { &b.1 };
    assert_eq!(winner["person_id"], guard.person_id);
    let loser_person = if a.0 == StatusCode::CREATED { &b.1 } else { &a.1 };
    assert!(loser_person.get("person_id").is_none());
}

async fn signup_confirms_racing_on_one_code_create_one_account(w: World) {
    let email = w.email("double.click");
    let (token, phone) = reach_code(&w, &email, "sms").await;
    let code = w.last_to(&phone).await.code();
    let answers = w.post_concurrently("/signup/confirm", vec![json!({"signup_token": token, "code": code}); 8]).await;
    let created: Vec<&Value> = answers.iter().filter(|(s, _)| *s == StatusCode::CREATED).map(|(_, b)| b).collect();
    assert!(!created.is_empty(), "{answers:?}");
    for (status, body) in &answers {
        assert!(
            *status == StatusCode::CREATED || (*status == StatusCode::CONFLICT && body["code"] == "conflict"),
            "{status} {body}"
        );
    }
    assert!(created.iter().all(|b| b["person_id"] == created[0]["person_id"]), "one person: {answers:?}");
    let person_id = created[0]["person_id"].as_str().unwrap();
    let spaces = w.services.store.query(&format!("PERSON#{person_id}"), "MEMBER#", 10).await.unwrap();
    assert_eq!(spaces.len(), 1, "one personal space");
    assert_eq!(w.sent_to(&email).await.len(), 2, "the link and one confirmation");
}

async fn signup_abandoned_expires(w: World) {
    let email = w.email("abandoned");
    let (token, phone) = reach_code(&w, &email, "sms").await;
    let code = w.last_to(&phone).await.code();
    w.clock.advance(w.services.config.limits.signup_ttl + 1);
    let (status, body) = w.post("/signup/confirm", json!({"signup_token": token, "code": code})).await;
    assert_problem(status, &body, 410, "signup_expired");
    assert!(!has_account(&w, &email).await);
}

async fn signup_sms_failure_leaves_the_step_retryable(w: World) {
    let email = w.email("sms.down");
    let (token, _) = follow_link(&w, &email).await;
    let phone = w.phone();
    w.faults.sms.store(1, std::sync::atomic::Ordering::SeqCst);
    let (status, body) = w.post("/signup/profile", profile(&token, &phone, "sms")).await;
    assert_problem(status, &body, 503, "delivery_failed");
    assert!(w.sent_to(&phone).await.is_empty());
    // "Send a new code" works at once: the failed send does not count against the throttle.
    let (status, body) = w.post("/signup/code", json!({"signup_token": token})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let code = w.last_to(&phone).await.code();
    assert_eq!(w.post("/signup/confirm", json!({"signup_token": token, "code": code})).await.0, StatusCode::CREATED);
}

async fn signup_confirmation_mail_failure_is_retried(w: World) {
    let email = w.email("mail.down");
    let (token, phone) = reach_code(&w, &email, "sms").await;
    let code = w.last_to(&phone).await.code();
    w.faults.mail.store(1, std::sync::atomic::Ordering::SeqCst);
    let (status, first) = w.post("/signup/confirm", json!({"signup_token": token, "code": code})).await;
    assert_eq!(status, StatusCode::CREATED, "the account is active even if the email failed");
    assert_eq!(w.sent_to(&email).await.len(), 1, "only the link so far");
    let (status, again) = w.post("/signup/confirm", json!({"signup_token": token, "code": code})).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(again["person_id"], first["person_id"]);
    assert_eq!(w.sent_to(&email).await.len(), 2, "the retry sent the confirmation");
}

async fn signup_key_service_failure_leaves_the_step_retryable(w: World) {
    let email = w.email("kms.down");
    let (token, _) = follow_link(&w, &email).await;
    let phone = w.phone();
    w.faults.keys.store(1, std::sync::atomic::Ordering::SeqCst);
    let (status, body) = w.post("/signup/profile", profile(&token, &phone, "sms")).await;
    assert_problem(status, &body, 503, "service_unavailable");
    assert!(w.sent_to(&phone).await.is_empty(), "no code without a stored profile");
    let (status, body) = w.post("/signup/profile", profile(&token, &phone, "sms")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let code = w.last_to(&phone).await.code();
    assert_eq!(w.post("/signup/confirm", json!({"signup_token": token, "code": code})).await.0, StatusCode::CREATED);
}

async fn unknown_routes_and_methods_get_problem_json(w: World) {
    let (status, headers, body) = w.send(Method::GET, "/nowhere", &[], vec![]).await;
    assert_problem(status, &body, 404, "not_found");
    assert_eq!(headers["content-type"], "application/problem+json");
    let (status, _, body) = w.send(Method::GET, "/signup", &[], vec![]).await;
    assert_problem(status, &body, 405, "method_not_allowed");
}

async fn problems_are_in_french_when_asked(w: World) {
    let (status, headers, body) = w
        .send(
            Method::POST,
            "/signup",
            &[("content-type", "application/json"), ("accept-language", "fr-CA,fr;q=0.9,en;q=0.5")],
            br#"{"email":"nope"}"#.to_vec(),
        )
        .await;
    assert_problem(status, &body, 422, "invalid_email");
    assert!(body["title"].as_str().unwrap().starts_with("L'adresse courriel n'est pas valide."), "{body}");
    assert_eq!(headers["content-language"], "fr");
}

/// What each step costs in store, key-service and messaging calls (each is latency and
/// money on AWS). The README quotes these numbers; a change that adds a call fails here.
async fn signup_steps_cost_the_fewest_calls(w: World) {
    let calls = w.faults.calls.clone();
    let email = w.email("costs");
    calls.take();
    assert_eq!(w.post("/signup", json!({"email": email})).await.0, StatusCode::ACCEPTED);
    // Two throttle windows (source, address) read + written, email guard read, request
    // create; the link email.
    assert_eq!(calls.take(), (3, 3, 0, 1), "start");
    let link = w.last_to(&email).await.link_token();
    calls.take();
    let (_, verified) = w.post("/signup/verify", json!({"token": link})).await;
    let token = verified["signup_token"].as_str().unwrap().to_owned();
    // Request read, subscriber record read, request update.
    assert_eq!(calls.take(), (2, 1, 0, 0), "verify");
    let phone = w.phone();
    assert_eq!(w.post("/signup/profile", profile(&token, &phone, "sms")).await.0, StatusCode::OK);
    // Request read, three throttle windows (sign-ups and codes from the source, codes to
    // the unverified number) read + written, one transaction (request + audit); one data
    // key for the phone; the SMS.
    assert_eq!(calls.take(), (4, 4, 1, 1), "profile");
    let code = w.last_to(&phone).await.code();
    calls.take();
    let wrong = if code == "000000" { "000001" } else { "000000" };
    assert_eq!(w.post("/signup/confirm", json!({"signup_token": token, "code": wrong})).await.0.as_u16(), 422);
    // A wrong code: request read, one transaction (attempt + audit).
    assert_eq!(calls.take(), (1, 1, 0, 0), "wrong code");
    assert_eq!(w.post("/signup/confirm", json!({"signup_token": token, "code": code})).await.0, StatusCode::CREATED);
    // Request read, one transaction (guard, person, space, membership, request, audit),
    // the write that claims the confirmation email, and the email.
    assert_eq!(calls.take(), (1, 2, 0, 1), "confirm");
}

async fn signup_parallel_wrong_codes_all_count(w: World) {
    let email = w.email("parallel.guesses");
    let (token, phone) = reach_code(&w, &email, "sms").await;
    let code = w.last_to(&phone).await.code();
    let guesses: Vec<Value> = (0..8)
        .map(|i| format!("{:06}", (code.parse::<u32>().unwrap() + 1 + i) % 1_000_000))
        .map(|guess| json!({"signup_token": token, "code": guess}))
        .collect();
    let answers = w.post_concurrently("/signup/confirm", guesses).await;
    let codes: Vec<&str> = answers.iter().map(|(_, b)| b["code"].as_str().unwrap_or("")).collect();
    assert!(
        codes.iter().all(|c| ["code_invalid", "code_attempts_exceeded", "signup_expired"].contains(c)),
        "{codes:?}"
    );
    assert!(
        codes.iter().filter(|c| **c == "code_invalid").count() <= 4,
        "at most 4 wrong codes answered as wrong: {codes:?}"
    );
    assert_eq!(codes.iter().filter(|c| **c == "code_attempts_exceeded").count(), 1, "{codes:?}");
    // Eight guesses were more than five: the sign-up is over, even for the right code.
    let (status, body) = w.post("/signup/confirm", json!({"signup_token": token, "code": code})).await;
    assert_problem(status, &body, 410, "signup_expired");
}

async fn signup_codes_to_one_phone_are_limited_across_signups(w: World) {
    // The limit counts per clock hour (a fixed window): start at the top of one.
    w.clock.advance(3600 - w.services.now().rem_euclid(3600));
    let phone = w.phone();
    let limits = w.services.config.limits.clone();
    let mut sent = 0;
    let mut signup = 0;
    loop {
        signup += 1;
        let (token, _) = follow_link(&w, &w.email(&format!("flood{signup}"))).await;
        let (status, body) = w.post("/signup/profile", profile(&token, &phone, "voice")).await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(body["code"], "too_many_requests");
            break;
        }
        assert_eq!(status, StatusCode::OK, "{body}");
        sent += 1;
        for _ in 1..limits.code_max_sends {
            w.clock.advance(limits.code_resend_interval);
            let (status, body) = w.post("/signup/code", json!({"signup_token": token})).await;
            if status == StatusCode::TOO_MANY_REQUESTS {
                break;
            }
            assert_eq!(status, StatusCode::OK, "{body}");
            sent += 1;
        }
        assert!(signup < 10, "the per-phone limit never applied");
    }
    assert_eq!(sent, limits.codes_per_phone_per_hour as usize);
    assert_eq!(w.sent_to(&phone).await.len(), sent);
}
