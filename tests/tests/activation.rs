//! Signature recovery and activation (seeds 000 step 4 and 002), end to end, on both back
//! ends: the reference and the code read from the outbox, a new key sealed under KMS, a
//! certificate that `openssl verify` accepts, the previous one revoked.

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};
use signet_shared::domain::keys;
use signet_shared::domain::people::account::{self, Person};
use signet_shared::domain::people::email::EmailAddress;
use signet_shared::domain::signatures::authority::{self, Subject};
use signet_shared::domain::signatures::subscription::{
    self, CurrentCertificate, Product, Subscription, SubscriptionStatus,
};
use signet_shared::ports::store::{Item, Write};
use signet_shared::{domain::crypto, domain::signatures::x509};
use signet_tests::{scenarios, World};
use std::process::Command;

const PASSWORD: &str = "correct horse battery staple";

/// The PIN the scenarios choose at activation.
const PIN: &str = "2580";

scenarios!(
    the_seed_002_recovery_and_activation_end_to_end,
    spaces_and_dashes_pasted_around_the_reference_and_code_are_forgiven,
    a_voice_call_code_activates_too,
    an_authenticator_app_code_activates_too,
    a_reference_of_another_person_is_unknown,
    an_expired_reference_fails,
    five_wrong_codes_end_the_activation,
    a_retry_after_a_kms_or_mail_failure_completes_with_one_certificate,
    twenty_racing_activations_issue_one_certificate,
    two_signatures_are_recovered_independently,
    a_new_recovery_replaces_the_pending_one,
    a_new_subscription_is_activated_the_same_way,
    recovery_and_activation_steps_are_counted,
    a_used_reference_says_so_instead_of_asking_to_retry,
    activation_sets_the_signature_s_pin_hashed,
    a_forgotten_pin_is_reset_with_the_security_answers_and_three_wrong_lock_it_for_a_day,
);

struct Holder {
    email: String,
    phone: String,
    access: String,
    person: Person,
}

async fn holder(w: &World, name: &str, channel: &str) -> Holder {
    let email = w.email(name);
    let phone = w.sign_up(&email, PASSWORD, channel).await;
    let (_, started) = w.post("/login", json!({"email": email, "password": PASSWORD})).await;
    let code = w.last_to(&phone).await.code();
    let (status, signed_in) = w.post("/login/code", json!({"login_token": started["login_token"], "code": code})).await;
    assert_eq!(status, StatusCode::OK, "{signed_in}");
    let guard: account::EmailGuard = w
        .services
        .store
        .get(&keys::email_guard(&EmailAddress::parse(&email).unwrap()))
        .await
        .unwrap()
        .unwrap()
        .decode()
        .unwrap();
    let person: Person =
        w.services.store.get(&keys::person(&guard.person_id)).await.unwrap().unwrap().decode().unwrap();
    Holder { email, phone, access: signed_in["access_token"].as_str().unwrap().to_owned(), person }
}

/// A cloud signature that "needs to be updated", with a certificate already issued.
async fn signature(w: &World, h: &Holder, space_id: &str) -> (String, String) {
    let id = w.services.new_id();
    let now = w.services.now();
    let (pkcs8, spki) = authority::new_signing_key().unwrap();
    let old = authority::issue(
        &w.services,
        &Subject { common_name: "Test Subscriber", email: &h.email, reference: &id },
        &spki,
        now + 30 * 86400,
    )
    .await
    .unwrap();
    let sealed = w.services.keys.seal(&pkcs8, &subscription::key_context(&id)).await.unwrap();
    let sub = Subscription {
        id: id.clone(),
        space_id: space_id.to_owned(),
        holder_id: h.person.id.clone(),
        product: Product::CloudSignature,
        status: SubscriptionStatus::NeedsUpdate,
        term_start: now - 300 * 86400,
        term_end: now + 700 * 86400,
        certificate: Some(CurrentCertificate {
            serial: old.serial.clone(),
            not_after: old.not_after,
            certificate: old.certificate,
            private_key: sealed,
        }),
        recovery: None,
    };
    let item = Item::new(keys::subscription(&id), &sub).unwrap().gsi1(keys::space_subscription_index(space_id, &id));
    w.services.store.write(Write::create(item)).await.unwrap();
    (id, old.serial)
}

async fn space_of(w: &World, h: &Holder) -> String {
    let ring = w.services.tokens.ring(&w.services).await.unwrap();
    ring.verify(&h.access, &w.services.config.tokens.issuer, &w.services.config.tokens.audience, w.services.now())
        .unwrap()
        .space
}

/// Asks for the recovery; returns the reference as the email shows it.
async fn recover(w: &World, h: &Holder, subscription_id: &str) -> String {
    let (status, body) =
        w.call(Method::POST, &format!("/subscriptions/{subscription_id}/recovery"), &h.access, json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let mail = w.last_to(&h.email).await;
    assert!(mail.body.contains("/activation?reference="), "{}", mail.body);
    let line = mail.body.lines().find(|l| l.contains("reference number:")).expect("a reference in the email");
    line.rsplit(' ').next().unwrap().trim().to_owned()
}

async fn start(w: &World, h: &Holder, reference: &str) -> Value {
    let (status, body) = w.call(Method::POST, "/activation/start", &h.access, json!({"reference": reference})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn activate(w: &World, h: &Holder, step: &Value, reference: &str, code: &str) -> (StatusCode, Value) {
    w.call(
        Method::POST,
        "/activation",
        &h.access,
        json!({"challenge_token": step["challenge_token"], "reference": reference, "code": code, "pin": PIN}),
    )
    .await
}

fn openssl(args: &[&str]) -> (bool, String) {
    let out = Command::new("openssl").args(args).output().expect("openssl is installed");
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

async fn the_seed_002_recovery_and_activation_end_to_end(w: World) {
    let h = holder(&w, "seed002", "sms").await;
    let space = space_of(&w, &h).await;
    let (id, old_serial) = signature(&w, &h, &space).await;
    let (status, list) = w.call(Method::GET, "/subscriptions", &h.access, Value::Null).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list["subscriptions"][0]["status"], "needs_update");
    assert_eq!(list["subscriptions"][0]["certificate_serial"], old_serial);
    let reference = recover(&w, &h, &id).await;
    assert_eq!(reference.len(), 12, "{reference}");
    let step = start(&w, &h, &reference).await;
    assert_eq!(step["method"], "sms");
    let code = w.last_to(&h.phone).await.code();
    let (status, body) = activate(&w, &h, &step, &reference, &code).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "activated");
    let serial = body["certificate_serial"].as_str().unwrap().to_owned();
    assert_ne!(serial, old_serial);
    // Functional again; the old certificate revoked, the new one good; the holder told.
    let (_, list) = w.call(Method::GET, "/subscriptions", &h.access, Value::Null).await;
    assert_eq!(
        (list["subscriptions"][0]["status"].as_str(), list["subscriptions"][0]["certificate_serial"].as_str()),
        (Some("functional"), Some(serial.as_str()))
    );
    let (_, _, old) = w.send(Method::GET, &format!("/certificates/{old_serial}/status"), &[], vec![]).await;
    assert_eq!(old["status"], "revoked");
    let (_, _, new) = w.send(Method::GET, &format!("/certificates/{serial}/status"), &[], vec![]).await;
    assert_eq!(new["status"], "good");
    let (_, _, unknown) = w.send(Method::GET, "/certificates/00ab/status", &[], vec![]).await;
    assert_eq!(unknown["status"], "unknown");
    assert!(w.last_to(&h.email).await.subject.contains("Your signature is activated"));
    // The certificate verifies against the authority, and its key is the sealed private key.
    let sub: Subscription = w.services.store.get(&keys::subscription(&id)).await.unwrap().unwrap().decode().unwrap();
    let current = sub.certificate.unwrap();
    let pkcs8 = w.services.keys.open(&current.private_key, &subscription::key_context(&id)).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = |n: &str| dir.path().join(n).to_string_lossy().into_owned();
    std::fs::write(path("ca.pem"), x509::pem("CERTIFICATE", &authority::authority(&w.services).await.unwrap().der()))
        .unwrap();
    std::fs::write(path("leaf.pem"), x509::pem("CERTIFICATE", &crypto::b64url_decode(&current.certificate).unwrap()))
        .unwrap();
    std::fs::write(path("key.pem"), x509::pem("PRIVATE KEY", &pkcs8)).unwrap();
    let (ok, out) = openssl(&["verify", "-CAfile", &path("ca.pem"), &path("leaf.pem")]);
    assert!(ok, "{out}");
    let (_, from_cert) = openssl(&["x509", "-in", &path("leaf.pem"), "-noout", "-pubkey"]);
    let (_, from_key) = openssl(&["pkey", "-in", &path("key.pem"), "-pubout"]);
    assert_eq!(from_cert, from_key);
    // A used reference does not start again.
    let (status, body) = w.call(Method::POST, "/activation/start", &h.access, json!({"reference": reference})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::GONE, Some("reference_used")));
}

async fn spaces_and_dashes_pasted_around_the_reference_and_code_are_forgiven(w: World) {
    let h = holder(&w, "paster", "sms").await;
    let space = space_of(&w, &h).await;
    let (id, _) = signature(&w, &h, &space).await;
    let reference = recover(&w, &h, &id).await;
    let pasted = format!("  {} ", reference.to_lowercase().replace('-', " - "));
    let step = start(&w, &h, &pasted).await;
    let code = w.last_to(&h.phone).await.code();
    let (status, body) =
        activate(&w, &h, &step, &format!("\t{pasted}\n"), &format!(" {}-{} ", &code[..3], &code[3..])).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn a_voice_call_code_activates_too(w: World) {
    let h = holder(&w, "voice.activator", "voice").await;
    let space = space_of(&w, &h).await;
    let (id, _) = signature(&w, &h, &space).await;
    let reference = recover(&w, &h, &id).await;
    let step = start(&w, &h, &reference).await;
    assert_eq!(step["method"], "voice");
    let call_script = w.last_to(&h.phone).await;
    let (status, body) = activate(&w, &h, &step, &reference, &call_script.code()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn a_reference_of_another_person_is_unknown(w: World) {
    let owner = holder(&w, "reference.owner", "sms").await;
    let other = holder(&w, "reference.other", "sms").await;
    let space = space_of(&w, &owner).await;
    let (id, _) = signature(&w, &owner, &space).await;
    let reference = recover(&w, &owner, &id).await;
    let (status, body) =
        w.call(Method::POST, "/activation/start", &other.access, json!({"reference": reference})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::NOT_FOUND, Some("reference_invalid")));
    // Nor can another person ask for the recovery of this signature.
    let (status, _) = w.call(Method::POST, &format!("/subscriptions/{id}/recovery"), &other.access, json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn an_expired_reference_fails(w: World) {
    let h = holder(&w, "late.activator", "sms").await;
    let space = space_of(&w, &h).await;
    let (id, _) = signature(&w, &h, &space).await;
    let reference = recover(&w, &h, &id).await;
    w.clock.advance(31 * 86400);
    let (_, started) = w.post("/login", json!({"email": h.email, "password": PASSWORD})).await;
    let code = w.last_to(&h.phone).await.code();
    let (_, signed_in) = w.post("/login/code", json!({"login_token": started["login_token"], "code": code})).await;
    let access = signed_in["access_token"].as_str().unwrap();
    let (status, body) = w.call(Method::POST, "/activation/start", access, json!({"reference": reference})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::GONE, Some("reference_expired")), "{body}");
}

async fn five_wrong_codes_end_the_activation(w: World) {
    let h = holder(&w, "wrong.activator", "sms").await;
    let space = space_of(&w, &h).await;
    let (id, _) = signature(&w, &h, &space).await;
    let reference = recover(&w, &h, &id).await;
    let step = start(&w, &h, &reference).await;
    let code = w.last_to(&h.phone).await.code();
    let wrong = if code == "000000" { "000001" } else { "000000" };
    for _ in 0..4 {
        assert_eq!(activate(&w, &h, &step, &reference, wrong).await.1["code"], "code_invalid");
    }
    let (status, body) = activate(&w, &h, &step, &reference, wrong).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::GONE, Some("code_attempts_exceeded")));
    assert_eq!(activate(&w, &h, &step, &reference, &code).await.0, StatusCode::GONE);
    // Starting again does not buy tries.
    w.clock.advance(31);
    let (status, _) = w.call(Method::POST, "/activation/start", &h.access, json!({"reference": reference})).await;
    assert_eq!(status, StatusCode::GONE);
}

async fn a_retry_after_a_kms_or_mail_failure_completes_with_one_certificate(w: World) {
    use std::sync::atomic::Ordering;
    let h = holder(&w, "unlucky.activator", "sms").await;
    let space = space_of(&w, &h).await;
    let (id, old_serial) = signature(&w, &h, &space).await;
    let reference = recover(&w, &h, &id).await;
    let step = start(&w, &h, &reference).await;
    let code = w.last_to(&h.phone).await.code();
    // KMS fails when the new key is sealed: nothing changes, the retry goes on.
    w.faults.keys.store(1, Ordering::SeqCst);
    let (status, body) = activate(&w, &h, &step, &reference, &code).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let sub: Subscription = w.services.store.get(&keys::subscription(&id)).await.unwrap().unwrap().decode().unwrap();
    assert_eq!(sub.certificate.unwrap().serial, old_serial, "nothing changed");
    // The mail fails at the very end: the certificate is there, the retry only sends the email.
    w.faults.mail.store(1, Ordering::SeqCst);
    let (status, body) = activate(&w, &h, &step, &reference, &code).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let sub: Subscription = w.services.store.get(&keys::subscription(&id)).await.unwrap().unwrap().decode().unwrap();
    let issued = sub.certificate.unwrap().serial;
    assert_ne!(issued, old_serial);
    let (status, body) = activate(&w, &h, &step, &reference, &code).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["certificate_serial"], issued, "no second certificate");
    let confirmations =
        w.sent_to(&h.email).await.iter().filter(|m| m.subject.contains("Your signature is activated")).count();
    assert_eq!(confirmations, 1);
}

async fn twenty_racing_activations_issue_one_certificate(w: World) {
    let h = holder(&w, "racing.activator", "sms").await;
    let space = space_of(&w, &h).await;
    let (id, _) = signature(&w, &h, &space).await;
    let reference = recover(&w, &h, &id).await;
    let step = start(&w, &h, &reference).await;
    let code = w.last_to(&h.phone).await.code();
    let body = json!({"challenge_token": step["challenge_token"], "reference": reference, "code": code, "pin": PIN});
    let answers = w.post_concurrently_as("/activation", Some(&h.access), vec![body; 20]).await;
    let serials: std::collections::BTreeSet<String> = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::OK)
        .map(|(_, b)| b["certificate_serial"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        answers
            .iter()
            .all(|(s, _)| *s == StatusCode::OK || *s == StatusCode::CONFLICT || *s == StatusCode::SERVICE_UNAVAILABLE),
        "{answers:?}"
    );
    assert_eq!(serials.len(), 1, "one certificate: {serials:?}");
    let sub: Subscription = w.services.store.get(&keys::subscription(&id)).await.unwrap().unwrap().decode().unwrap();
    assert_eq!(Some(&sub.certificate.unwrap().serial), serials.iter().next());
    let confirmations =
        w.sent_to(&h.email).await.iter().filter(|m| m.subject.contains("Your signature is activated")).count();
    assert_eq!(confirmations, 1);
}

async fn two_signatures_are_recovered_independently(w: World) {
    let h = holder(&w, "two.signatures", "sms").await;
    let space = space_of(&w, &h).await;
    let (first, _) = signature(&w, &h, &space).await;
    let (second, _) = signature(&w, &h, &space).await;
    let reference_1 = recover(&w, &h, &first).await;
    let reference_2 = recover(&w, &h, &second).await;
    assert_ne!(reference_1, reference_2);
    let mut serials = Vec::new();
    for reference in [&reference_2, &reference_1] {
        w.clock.advance(31);
        let step = start(&w, &h, reference).await;
        let code = w.last_to(&h.phone).await.code();
        let (status, body) = activate(&w, &h, &step, reference, &code).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        serials.push(body["certificate_serial"].as_str().unwrap().to_owned());
    }
    assert_ne!(serials[0], serials[1]);
    let (_, list) = w.call(Method::GET, "/subscriptions", &h.access, Value::Null).await;
    assert!(list["subscriptions"].as_array().unwrap().iter().all(|s| s["status"] == "functional"), "{list}");
}

async fn an_authenticator_app_code_activates_too(w: World) {
    let h = holder(&w, "app.activator", "sms").await;
    let (_, started) = w.call(Method::POST, "/reauth", &h.access, json!({"password": PASSWORD})).await;
    let code = w.last_to(&h.phone).await.code();
    w.call(Method::POST, "/reauth/code", &h.access, json!({"challenge_token": started["login_token"], "code": code}))
        .await;
    let (status, enrolment) = w.call(Method::POST, "/account/totp", &h.access, Value::Null).await;
    assert_eq!(status, StatusCode::CREATED);
    let app = totp_rs::Totp::from_url(enrolment["otpauth_uri"].as_str().unwrap()).unwrap();
    let now = || w.services.now() as u64;
    let (status, _) = w
        .call(Method::POST, "/account/totp/confirm", &h.access, json!({"code": app.generate(now()).to_string()}))
        .await;
    assert_eq!(status, StatusCode::OK);
    w.clock.advance(30);
    let space = space_of(&w, &h).await;
    let (id, _) = signature(&w, &h, &space).await;
    let reference = recover(&w, &h, &id).await;
    let step = start(&w, &h, &reference).await;
    assert_eq!(step["method"], "totp");
    let (status, body) = activate(&w, &h, &step, &reference, &app.generate(now()).to_string()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn a_new_recovery_replaces_the_pending_one(w: World) {
    let h = holder(&w, "twice.asked", "sms").await;
    let space = space_of(&w, &h).await;
    let (id, _) = signature(&w, &h, &space).await;
    let first = recover(&w, &h, &id).await;
    let second = recover(&w, &h, &id).await;
    let (status, body) = w.call(Method::POST, "/activation/start", &h.access, json!({"reference": first})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::GONE, Some("reference_expired")));
    start(&w, &h, &second).await;
}

async fn a_new_subscription_is_activated_the_same_way(w: World) {
    let h = holder(&w, "first.activation", "sms").await;
    let space = space_of(&w, &h).await;
    let id = w.services.new_id();
    let now = w.services.now();
    let sub = Subscription {
        id: id.clone(),
        space_id: space.clone(),
        holder_id: h.person.id.clone(),
        product: Product::CloudSignature,
        status: SubscriptionStatus::PendingActivation,
        term_start: now,
        term_end: now + 365 * 86400,
        certificate: None,
        recovery: None,
    };
    w.services
        .store
        .write(Write::create(
            Item::new(keys::subscription(&id), &sub).unwrap().gsi1(keys::space_subscription_index(&space, &id)),
        ))
        .await
        .unwrap();
    let reference = recover(&w, &h, &id).await;
    let step = start(&w, &h, &reference).await;
    let code = w.last_to(&h.phone).await.code();
    let (status, body) = activate(&w, &h, &step, &reference, &code).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let sub: Subscription = w.services.store.get(&keys::subscription(&id)).await.unwrap().unwrap().decode().unwrap();
    assert_eq!(sub.status, SubscriptionStatus::Functional);
    // The certificate ends with the term.
    assert_eq!(sub.certificate.unwrap().not_after, now + 365 * 86400);
}

async fn recovery_and_activation_steps_are_counted(w: World) {
    let h = holder(&w, "counted.activator", "sms").await;
    let space = space_of(&w, &h).await;
    let (id, _) = signature(&w, &h, &space).await;
    let calls = w.faults.calls.clone();
    calls.take();
    let reference = recover(&w, &h, &id).await;
    // Session and person (live, one batch), the subscription; one transaction (recovery,
    // subscription, audit); the email.
    assert_eq!(calls.take(), (2, 1, 0, 1), "recovery");
    let step = start(&w, &h, &reference).await;
    // Session and person (one batch), recovery, the source's and the phone's code windows;
    // the windows and one transaction (step, recovery); the phone opened; the code.
    assert_eq!(calls.take(), (4, 3, 1, 1), "start");
    let code = w.last_to(&h.phone).await.code();
    calls.take();
    let (status, _) = activate(&w, &h, &step, &reference, &code).await;
    assert_eq!(status, StatusCode::OK);
    // Session and person (one batch), recovery, the step, then the step and the person's partition; the
    // records once more to begin, the authority, the previous certificate's status. Writes:
    // the step passed, key ready, the certificate's record, issued, the previous one revoked,
    // one transaction (recovery, subscription, audit), the confirmation claimed. The new key
    // sealed (the certificate signed by the authority's key is one more KMS call, `Sign`);
    // the confirmation email.
    assert_eq!(calls.take(), (9, 7, 1, 1), "activation");
}

async fn a_used_reference_says_so_instead_of_asking_to_retry(w: World) {
    let h = holder(&w, "used.reference", "sms").await;
    let space = space_of(&w, &h).await;
    let (id, _) = signature(&w, &h, &space).await;
    let reference = recover(&w, &h, &id).await;
    let step = start(&w, &h, &reference).await;
    let code = w.last_to(&h.phone).await.code();
    assert_eq!(activate(&w, &h, &step, &reference, &code).await.0, StatusCode::OK);
    for lang in ["en", "fr"] {
        let (status, _, body) = w
            .send(
                Method::POST,
                "/activation/start",
                &[
                    ("authorization", &format!("Bearer {}", h.access)),
                    ("content-type", "application/json"),
                    ("accept-language", lang),
                ],
                json!({"reference": reference}).to_string().into_bytes(),
            )
            .await;
        assert_eq!(
            (status, body["code"].as_str(), body["field"].as_str()),
            (StatusCode::GONE, Some("reference_used"), Some("reference")),
            "{body}"
        );
        let title = body["title"].as_str().unwrap();
        assert!(
            title.contains(if lang == "fr" { "déjà servi" } else { "already used" })
                && title.contains(if lang == "fr" { "activée" } else { "active" }),
            "{title}"
        );
    }
}

/// A holder of a signature whose activation awaits its form: the holder, the signature, the
/// reference, the step and the code sent.
async fn awaiting_activation(w: &World, name: &str) -> (Holder, String, String, Value, String) {
    let h = holder(w, name, "sms").await;
    let space = space_of(w, &h).await;
    let (id, _) = signature(w, &h, &space).await;
    let reference = recover(w, &h, &id).await;
    let step = start(w, &h, &reference).await;
    let code = w.last_to(&h.phone).await.code();
    (h, id, reference, step, code)
}

async fn activation_sets_the_signature_s_pin_hashed(w: World) {
    let (h, id, reference, step, code) = awaiting_activation(&w, "pin.activator").await;
    for bad in ["123", "1234", "0000", "12345678901", "12a4"] {
        let body =
            json!({"challenge_token": step["challenge_token"], "reference": reference, "code": code, "pin": bad});
        let (status, answer) = w.call(Method::POST, "/activation", &h.access, body).await;
        assert_eq!((status, answer["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("pin_invalid")), "{bad}");
    }
    let (status, body) = activate(&w, &h, &step, &reference, &code).await;
    assert_eq!(status, StatusCode::OK, "the code was not used up by the refused PINs: {body}");
    let stored = w.services.store.get(&keys::subscription_pin(&id)).await.unwrap().unwrap();
    let record: Value = stored.decode().unwrap();
    let hash = record["hash"].as_str().unwrap();
    assert!(hash.starts_with("$argon2id$") && !hash.contains(PIN), "{hash}");
}

async fn a_forgotten_pin_is_reset_with_the_security_answers_and_three_wrong_lock_it_for_a_day(w: World) {
    let (h, id, reference, step, code) = awaiting_activation(&w, "pin.forgetter").await;
    assert_eq!(activate(&w, &h, &step, &reference, &code).await.0, StatusCode::OK);
    let (status, list) = w.call(Method::GET, "/security-questions", "", Value::Null).await;
    assert_eq!((status, list["questions"].as_array().map(Vec::len)), (StatusCode::OK, Some(8)));
    let answers = json!([
        {"question": "first_pet", "answer": "Élodie"},
        {"question": "birth_city", "answer": "São Paulo"},
        {"question": "first_school", "answer": "Example School"},
    ]);
    let define = |answers: Value| json!({"answers": answers});
    let path = "/account/security-questions";
    let (status, body) = w.call(Method::PUT, path, &h.access, define(answers.clone())).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::FORBIDDEN, Some("reauthentication_required")));
    w.reauthenticate(&h.access, &h.phone, PASSWORD).await;
    let two = json!([answers[0], answers[1]]);
    let repeated = json!([answers[0], answers[0], answers[1]]);
    let unknown = json!([answers[0], answers[1], {"question": "mother_maiden_name", "answer": "x y"}]);
    for bad in [two, repeated, unknown] {
        let (status, body) = w.call(Method::PUT, path, &h.access, define(bad)).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("security_questions_invalid"))
        );
    }
    let (status, _) = w.call(Method::PUT, path, &h.access, define(answers.clone())).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(w.last_to(&h.email).await.subject.contains("Security questions defined"));
    let (_, defined) = w.call(Method::GET, path, &h.access, Value::Null).await;
    assert_eq!(defined["questions"], json!(["first_pet", "birth_city", "first_school"]));
    assert!(!defined.to_string().contains("lodie"), "never the answers");
    let reset = format!("/subscriptions/{id}/pin/reset");
    let typed = json!([
        {"question": "first_pet", "answer": "  elodie "},
        {"question": "birth_city", "answer": "SAO   PAULO"},
        {"question": "first_school", "answer": "example school"},
    ]);
    // Answers just defined reset no PIN for three days (a taken-over session cannot define
    // them and use them at once; the owner was emailed).
    let (status, body) = w.call(Method::POST, &reset, &h.access, json!({"answers": typed, "pin": "7391"})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::CONFLICT, Some("security_questions_recent")), "{body}");
    w.clock.advance(3 * 86400 + 1);
    let access = sign_in_again(&w, &h).await;
    // Right answers, typed differently (case, accents, spaces): the PIN is reset.
    let (status, body) = w.call(Method::POST, &reset, &access, json!({"answers": typed, "pin": "7391"})).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert!(w.last_to(&h.email).await.subject.contains("PIN reset"));
    // Three wrong answers lock the reset for a day, and the person is emailed.
    let wrong = json!([answers[0], answers[1], {"question": "first_school", "answer": "another school"}]);
    for remaining in [2, 1] {
        let (status, body) = w.call(Method::POST, &reset, &access, json!({"answers": wrong, "pin": "7391"})).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("security_answers_wrong")));
        assert_eq!(body["remaining_attempts"], remaining);
    }
    let (status, body) = w.call(Method::POST, &reset, &access, json!({"answers": wrong, "pin": "7391"})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("pin_reset_locked")));
    assert!(w.last_to(&h.email).await.subject.contains("PIN reset locked"));
    let (status, body) = w.call(Method::POST, &reset, &access, json!({"answers": typed, "pin": "7391"})).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("pin_reset_locked")),
        "even right ones"
    );
    // Replacing the questions is locked too (it would buy new tries).
    w.reauthenticate(&access, &h.phone, PASSWORD).await;
    let replace = json!({"answers": answers, "current_answers": typed});
    assert_eq!(w.call(Method::PUT, path, &access, replace.clone()).await.0, StatusCode::TOO_MANY_REQUESTS);
    w.clock.advance(86400 + 1);
    let access = sign_in_again(&w, &h).await;
    let (status, body) = w.call(Method::POST, &reset, &access, json!({"answers": typed, "pin": "1111"})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("pin_invalid")));
    let (status, _) = w.call(Method::POST, &reset, &access, json!({"answers": typed, "pin": "8264"})).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "a day later, right answers work again");
    replacing_takes_the_current_answers(&w, &h, &access, &reset, (&answers, &typed, &wrong)).await;
}

/// Replacing the questions takes the current answers; the new ones wait three days.
async fn replacing_takes_the_current_answers(
    w: &World,
    h: &Holder,
    access: &str,
    reset: &str,
    (answers, typed, wrong): (&Value, &Value, &Value),
) {
    let path = "/account/security-questions";
    let define = |answers: &Value| json!({"answers": answers});
    let replace = json!({"answers": answers, "current_answers": typed});
    let access = access.to_owned();
    w.reauthenticate(&access, &h.phone, PASSWORD).await;
    let (status, body) = w.call(Method::PUT, path, &access, define(answers)).await;
    assert_eq!((status, body["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("current_answers")));
    let guess = json!({"answers": answers, "current_answers": wrong});
    let (status, body) = w.call(Method::PUT, path, &access, guess).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("security_answers_wrong")));
    assert_eq!(w.call(Method::PUT, path, &access, replace).await.0, StatusCode::NO_CONTENT);
    let (status, body) = w.call(Method::POST, reset, &access, json!({"answers": typed, "pin": "8264"})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::CONFLICT, Some("security_questions_recent")));
    // Someone else's signature is not found.
    let other = holder(w, "pin.other", "sms").await;
    let (status, _) = w.call(Method::POST, reset, &other.access, json!({"answers": typed, "pin": "8264"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// A new sign-in of `h` (time moved past the access token's life); its access token.
async fn sign_in_again(w: &World, h: &Holder) -> String {
    let (_, started) = w.post("/login", json!({"email": h.email, "password": PASSWORD})).await;
    let code = w.last_to(&h.phone).await.code();
    let (_, signed_in) = w.post("/login/code", json!({"login_token": started["login_token"], "code": code})).await;
    signed_in["access_token"].as_str().unwrap().to_owned()
}
