//! What gets in as an email address or a name (points 8 and 9 of the hardening): only what
//! mail systems, invoices and certificates carry safely. On both back ends.

use axum::http::{Method, StatusCode};
use serde_json::json;
use signet_shared::domain::keys;
use signet_shared::domain::people::account;
use signet_tests::{scenarios, World};

const PASSWORD: &str = "correct horse battery staple";

scenarios!(
    lookalike_quoted_and_internationalised_addresses_never_become_accounts,
    an_internationalised_domain_is_kept_in_its_ascii_form,
    names_with_invisible_or_direction_characters_are_refused_and_others_kept_in_nfc,
);

async fn lookalike_quoted_and_internationalised_addresses_never_become_accounts(w: World) {
    let member = w.email("member");
    let phone = w.sign_up(&member, PASSWORD, "sms").await;
    let (local, domain) = member.split_once('@').unwrap();
    let cyrillic = member.replacen('e', "\u{435}", 1);
    let fullwidth: String = local
        .chars()
        .map(|c| if c.is_ascii_lowercase() { char::from_u32(c as u32 - 0x61 + 0xFF41).unwrap() } else { c })
        .collect::<String>()
        + "@"
        + domain;
    let quoted = format!("\"{local}\"@{domain}");
    w.faults.calls.take();
    for address in [cyrillic.as_str(), fullwidth.as_str(), quoted.as_str(), "用户@例子.广告"] {
        let (status, body) = w.post("/signup", json!({"email": address})).await;
        assert_eq!(
            (status, body["code"].as_str(), body["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_email"), Some("email")),
            "{address}: {body}"
        );
        let (status, body) = w.post("/login", json!({"email": address, "password": PASSWORD})).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_email")),
            "{address}: {body}"
        );
        assert!(w.sent_to(address).await.is_empty());
    }
    assert_eq!(w.faults.calls.take().1, 0, "nothing was written");
    // Nor can a signed-in person move their login to one.
    let access = w.sign_in(&member, &phone, PASSWORD).await["access_token"].as_str().unwrap().to_owned();
    let (status, body) = w.call(Method::POST, "/account/email", &access, json!({"new_email": cyrillic})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_email")), "{body}");
    // The address in capitals is the same account.
    let (status, body) = w.post("/login", json!({"email": member.to_uppercase(), "password": PASSWORD})).await;
    assert_eq!((status, body["status"].as_str()), (StatusCode::OK, Some("second_factor_required")), "{body}");
}

async fn an_internationalised_domain_is_kept_in_its_ascii_form(w: World) {
    let local = format!("member.{}", w.tag);
    let (status, body) = w.post("/signup", json!({"email": format!("{local}@例子.广告")})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let sent = w.last_to(&format!("{local}@xn--fsqu00a.xn--4rr70v")).await;
    assert!(sent.body.contains("token="), "the link went to the punycode address");
    // Typed in either form, it is one address.
    let (status, _) =
        w.post("/signup", json!({"email": format!("{}@XN--FSQU00A.xn--4rr70v", local.to_uppercase())})).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(w.sent_to(&format!("{local}@xn--fsqu00a.xn--4rr70v")).await.len(), 2);
}

async fn names_with_invisible_or_direction_characters_are_refused_and_others_kept_in_nfc(w: World) {
    let email = w.email("named");
    let (status, _) = w.post("/signup", json!({"email": email})).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let link = w.last_to(&email).await.link_token();
    let (_, verified) = w.post("/signup/verify", json!({"token": link})).await;
    let token = verified["signup_token"].as_str().unwrap();
    let phone = w.phone();
    let profile = |first: &str, last: &str| json!({"signup_token": token, "first_name": first, "last_name": last, "password": PASSWORD, "phone": phone, "channel": "sms"});
    for (first, last, field) in [
        ("Bob\u{202E}nimda", "Smith", "first_name"),
        ("Bob", "Smi\u{200B}th", "last_name"),
        ("Bob\u{2066}", "Smith", "first_name"),
        ("Bob", "Smith\u{E0041}\u{E007F}", "last_name"),
        ("Bob\u{2028}Dear customer", "Smith", "first_name"),
        ("Bo\u{301}\u{302}\u{303}\u{304}\u{305}b", "Smith", "first_name"),
    ] {
        let (status, body) = w.post("/signup/profile", profile(first, last)).await;
        assert_eq!(
            (status, body["code"].as_str(), body["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("name_characters_not_allowed"), Some(field)),
            "{first:?} {last:?}: {body}"
        );
    }
    assert!(w.sent_to(&phone).await.is_empty(), "no code for a refused profile");
    // A decomposed "Émilie" is stored composed.
    let (status, body) = w.post("/signup/profile", profile("E\u{301}milie", "Nguyễn")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let code = w.last_to(&phone).await.code();
    let (status, done) = w.post("/signup/confirm", json!({"signup_token": token, "code": code})).await;
    assert_eq!(status, StatusCode::CREATED, "{done}");
    let person: account::Person = w
        .services
        .store
        .get(&keys::person(done["person_id"].as_str().unwrap()))
        .await
        .unwrap()
        .unwrap()
        .decode()
        .unwrap();
    assert_eq!((person.first_name.as_str(), person.last_name.as_str()), ("\u{C9}milie", "Nguyễn"));
}
