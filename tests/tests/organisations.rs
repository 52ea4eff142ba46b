//! Seed 003 on both back ends: an organisation registers without an account; its
//! administrator reads the identifier and the temporary password from two separate emails,
//! must choose a password and enrol a second factor before anything else, appoints a legal
//! representative and a billing contact (invited), invites two members with other roles,
//! who accept and sign in (one by identifier). Then what goes wrong: bad registration
//! numbers, mismatched emails, a closed establishment, an entity registered twice (and 20
//! racing registrations of it), invitations used twice, expired or for another person (and
//! 20 racing acceptances of one), a temporary password past its expiry.

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};
use signet_shared::domain::people::email::EmailAddress;
use signet_tests::organisations::*;
use signet_tests::{scenarios, World};

scenarios!(
    the_seed_003_journey_from_registration_to_members_who_sign_in,
    registration_numbers_and_forms_are_checked,
    an_entity_registered_twice_has_one_space_and_its_administrators_are_told,
    twenty_racing_registrations_of_one_siret_give_one_space,
    invitations_used_twice_expired_or_for_another_person_are_refused,
    twenty_racing_acceptances_of_one_invitation_give_one_membership,
    a_temporary_password_works_only_to_set_up_and_only_until_it_expires,
    registration_steps_are_counted,
    a_mail_or_key_failure_at_registration_leaves_nothing_and_is_retryable,
    registrations_are_throttled_per_administrator_address,
    twenty_racing_invitations_of_one_address_give_one_and_a_resent_link_replaces_the_old,
    an_existing_account_named_administrator_joins_only_if_it_accepts,
    a_full_organisation_takes_no_more_members,
);

async fn members(w: &World, access: &str) -> Vec<Value> {
    let (status, body) = w.call(Method::GET, "/organisation/members", access, Value::Null).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["members"].as_array().unwrap().clone()
}

fn roles_of(members: &[Value], email: &str) -> Value {
    members.iter().find(|m| m["email"] == email).map(|m| m["roles"].clone()).unwrap_or(Value::Null)
}

async fn the_seed_003_journey_from_registration_to_members_who_sign_in(w: World) {
    let admin = registered(&w, SIRET, "admin").await;
    // The registry's details replace what was typed.
    let (status, details) = w.call(Method::GET, "/organisation", &admin.access, Value::Null).await;
    assert_eq!(status, StatusCode::OK, "{details}");
    assert_eq!(details["name"], "EXAMPLE INDUSTRIES");
    assert_eq!(details["registry_checked"], true);
    assert_eq!(details["registration"]["number"], SIRET);
    assert_eq!(details["my_roles"], json!(["administrator", "legal_representative", "billing_contact"]));
    assert_eq!(details["invoicing_enabled"], false);
    // Step 10: another legal representative and billing contact, invited by email.
    let legal_email = w.email("legal");
    let (status, body) =
        w.call(Method::POST, "/organisation/legal-representative", &admin.access, json!({"email": legal_email})).await;
    assert_eq!((status, body["status"].as_str()), (StatusCode::CREATED, Some("invited")), "{body}");
    let billing_email = w.email("billing");
    let (status, _) =
        w.call(Method::POST, "/organisation/billing-contact", &admin.access, json!({"email": billing_email})).await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, pending) = w.call(Method::GET, "/organisation/invitations", &admin.access, Value::Null).await;
    assert_eq!(pending["invitations"].as_array().unwrap().len(), 2, "{pending}");
    // Until they accept, the administrator keeps both roles.
    assert_eq!(roles_of(&members(&w, &admin.access).await, &admin.email)[1], "legal_representative");
    let legal = accept_and_sign_in(&w, &legal_email).await;
    let billing = accept_and_sign_in(&w, &billing_email).await;
    let list = members(&w, &admin.access).await;
    assert_eq!(roles_of(&list, &admin.email), json!(["administrator"]), "the roles moved");
    assert_eq!(roles_of(&list, &legal.email), json!(["legal_representative"]));
    assert_eq!(roles_of(&list, &billing.email), json!(["billing_contact"]));
    // Step 11: two members with other roles; one signs in by identifier (above), one by email.
    let agent = invited(&w, &admin, "agent", json!(["agent", "server_certificate_contact"])).await;
    let user_email = w.email("user");
    let (status, _) = w
        .call(Method::POST, "/organisation/invitations", &admin.access, json!({"email": user_email, "roles": ["user"]}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let token = w.last_to(&user_email).await.link_token();
    let (status, accepted) = w
        .post(
            "/invitations/accept",
            json!({"token": token, "first_name": "Uma", "last_name": "User", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{accepted}");
    let (_, started) = w.post("/login", json!({"email": user_email, "password": PASSWORD})).await;
    let phone = w.phone();
    assert_eq!(set_up(&w, &started, false, &phone).await["status"], "signed_in");
    let list = members(&w, &admin.access).await;
    assert_eq!(list.len(), 5, "{list:?}");
    assert_eq!(roles_of(&list, &agent.email), json!(["agent", "server_certificate_contact"]));
    assert!(list.iter().all(|m| m["setup_pending"] == false), "{list:?}");
    // The billing contact of the space is the billing contact's address now.
    let (_, found) = operator(
        &w,
        Method::POST,
        "/operator/organisations/search",
        json!({"jurisdiction": "france", "country": "FR", "registration_number": SIRET}),
    )
    .await;
    assert_eq!(found["billing_contact"], billing.email.as_str(), "{found}");
    assert_eq!(found["members"].as_array().unwrap().len(), 5);
}

async fn registration_numbers_and_forms_are_checked(w: World) {
    let email = w.email("admin");
    let code = |body: &Value| body["code"].as_str().unwrap_or("").to_owned();
    let cases: Vec<(Value, StatusCode, &str)> = vec![
        (json!({"registration_number": "12345678200011"}), StatusCode::UNPROCESSABLE_ENTITY, "siret_checksum"),
        (json!({"registration_number": "123456782"}), StatusCode::UNPROCESSABLE_ENTITY, "invalid_siret"),
        (json!({"registration_number": "123.456.782.00010"}), StatusCode::UNPROCESSABLE_ENTITY, "invalid_siret"),
        (json!({"registration_number": "35600000001234"}), StatusCode::UNPROCESSABLE_ENTITY, "siret_checksum"),
        (json!({"registration_number": CLOSED_SIRET}), StatusCode::UNPROCESSABLE_ENTITY, "establishment_closed"),
        (json!({"registration_number": UNKNOWN_SIRET}), StatusCode::UNPROCESSABLE_ENTITY, "siret_unknown"),
        (json!({"country": "BE"}), StatusCode::UNPROCESSABLE_ENTITY, "invalid_country"),
        (json!({"department": null}), StatusCode::UNPROCESSABLE_ENTITY, "invalid_request"),
        (json!({"phone": "call me"}), StatusCode::UNPROCESSABLE_ENTITY, "invalid_phone"),
        (
            json!({"jurisdiction": "european_union", "country": "DE", "registration_number": "DE12345678"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_vat_number",
        ),
        (
            json!({"jurisdiction": "european_union", "country": "NL", "registration_number": "NL123456789X01"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_vat_number",
        ),
        (
            json!({"jurisdiction": "european_union", "country": "FR", "registration_number": "FR12123456782"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_country",
        ),
        (
            json!({"jurisdiction": "other", "country": "CA", "registration_number": "#"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_registration_number",
        ),
        (json!({"entity_type": "cooperative"}), StatusCode::UNPROCESSABLE_ENTITY, "invalid_request"),
    ];
    for (change, status, expected) in cases {
        let mut body = form(SIRET, &email);
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (got, answer) = w.post("/organisations", body).await;
        assert_eq!((got, code(&answer)), (status, expected.to_owned()), "{change}: {answer}");
        let guard = signet_shared::domain::keys::email_guard(&EmailAddress::parse(&email).unwrap());
        assert_eq!(w.services.store.get(&guard).await.unwrap(), None, "nothing written");
    }
    let mut mismatched = form(SIRET, &email);
    mismatched["administrator"]["email_confirmation"] = json!(w.email("other"));
    let (status, answer) = w.post("/organisations", mismatched).await;
    assert_eq!((status, code(&answer)), (StatusCode::UNPROCESSABLE_ENTITY, "email_mismatch".to_owned()));
    assert!(w.sent_to(&email).await.is_empty(), "nothing sent, nothing written");
    // La Poste's SIRETs pass by their own rule; an EU VAT number and another country's
    // number register with their details as typed.
    let (status, body) = w.post("/organisations", form(LA_POSTE_SIRET, &w.email("post"))).await;
    assert_eq!((status, body["registry_checked"].as_bool()), (StatusCode::CREATED, Some(true)), "{body}");
    let mut eu = form("", &w.email("eu"));
    eu["jurisdiction"] = json!("european_union");
    eu["country"] = json!("DE");
    eu["registration_number"] = json!("DE 123 456 789");
    eu["department"] = Value::Null;
    let (status, body) = w.post("/organisations", eu).await;
    assert_eq!((status, body["registry_checked"].as_bool()), (StatusCode::CREATED, Some(false)), "{body}");
    // The registry's auto-fill.
    let (status, found) = w.call(Method::GET, &format!("/organisations/registry/{SIRET}"), "", Value::Null).await;
    assert_eq!((status, found["name"].as_str()), (StatusCode::OK, Some("EXAMPLE INDUSTRIES")), "{found}");
    let (status, closed) =
        w.call(Method::GET, &format!("/organisations/registry/{CLOSED_SIRET}"), "", Value::Null).await;
    assert_eq!((status, code(&closed)), (StatusCode::UNPROCESSABLE_ENTITY, "establishment_closed".to_owned()));
}

async fn an_entity_registered_twice_has_one_space_and_its_administrators_are_told(w: World) {
    let admin = registered(&w, SIRET, "admin").await;
    let again = w.email("again");
    let (status, body) = w.post("/organisations", form(SIRET, &again)).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::CONFLICT, Some("organisation_exists")), "{body}");
    assert!(!body.to_string().contains(&admin.email), "nothing about the space is disclosed: {body}");
    assert!(w.sent_to(&again).await.is_empty());
    let told = w.last_to(&admin.email).await;
    assert!(told.body.contains("EXAMPLE INDUSTRIES") && told.subject.contains("registration"), "{told:?}");
}

async fn twenty_racing_registrations_of_one_siret_give_one_space(w: World) {
    // Twenty registrants, each from their own address (one address is throttled first).
    let bodies = (0..20).map(|i| form(SIRET, &w.email(&format!("racer{i}")))).collect();
    let answers = w.post_concurrently_from_many_sources("/organisations", bodies).await;
    let created = answers.iter().filter(|(s, _)| *s == StatusCode::CREATED).count();
    let refused =
        answers.iter().filter(|(s, b)| *s == StatusCode::CONFLICT && b["code"] == "organisation_exists").count();
    assert_eq!((created, refused), (1, 19), "{answers:?}");
    let winner = (0..20).find(|i| answers[*i].0 == StatusCode::CREATED).unwrap();
    for i in 0..20 {
        let email = EmailAddress::parse(&w.email(&format!("racer{i}"))).unwrap();
        let account = w.services.store.get(&signet_shared::domain::keys::email_guard(&email)).await.unwrap();
        assert_eq!(account.is_some(), i == winner, "only the winner's administrator has an account");
    }
}

async fn invitations_used_twice_expired_or_for_another_person_are_refused(w: World) {
    let admin = registered(&w, SIRET, "admin").await;
    let invitee = w.email("invitee");
    let invite = json!({"email": invitee, "roles": ["user"]});
    let (status, _) = w.call(Method::POST, "/organisation/invitations", &admin.access, invite.clone()).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, again) = w.call(Method::POST, "/organisation/invitations", &admin.access, invite).await;
    assert_eq!(
        (status, again["code"].as_str()),
        (StatusCode::CONFLICT, Some("already_member")),
        "one pending per address"
    );
    let token = w.last_to(&invitee).await.link_token();
    let accept =
        |token: &str| json!({"token": token, "first_name": "Ivy", "last_name": "Invitee", "password": PASSWORD});
    let (status, body) = w.post("/invitations/accept", accept(&format!("{token}x"))).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("invitation_invalid")), "{body}");
    let (status, weak) = w
        .post(
            "/invitations/accept",
            json!({"token": token, "first_name": "Ivy", "last_name": "Invitee", "password": "short"}),
        )
        .await;
    assert_eq!((status, weak["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("password_too_short")));
    let (status, _) = w.post("/invitations/accept", accept(&token)).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, twice) = w.post("/invitations/accept", accept(&token)).await;
    assert_eq!((status, twice["code"].as_str()), (StatusCode::GONE, Some("invitation_unavailable")), "{twice}");
    // Expired.
    let late = w.email("late");
    w.call(Method::POST, "/organisation/invitations", &admin.access, json!({"email": late, "roles": ["user"]})).await;
    let token = w.last_to(&late).await.link_token();
    w.clock.advance(7 * 86400 + 1);
    let (status, expired) = w.post("/invitations/accept", accept(&token)).await;
    assert_eq!((status, expired["code"].as_str()), (StatusCode::GONE, Some("invitation_unavailable")), "{expired}");
    // For another person: a signed-in account whose address is not the invited one.
    let admin = registered(&w, OTHER_SIRET, "admin2").await;
    let someone = w.email("someone");
    w.call(Method::POST, "/organisation/invitations", &admin.access, json!({"email": someone, "roles": ["agent"]}))
        .await;
    let token = w.last_to(&someone).await.link_token();
    let (status, other) = w.call(Method::POST, "/invitations/join", &admin.access, json!({"token": token})).await;
    assert_eq!((status, other["code"].as_str()), (StatusCode::FORBIDDEN, Some("invitation_for_another_person")));
    // Cancelled.
    let (_, pending) = w.call(Method::GET, "/organisation/invitations", &admin.access, Value::Null).await;
    let id = pending["invitations"][0]["id"].as_str().unwrap().to_owned();
    let (status, _) =
        w.call(Method::DELETE, &format!("/organisation/invitations/{id}"), &admin.access, Value::Null).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, cancelled) = w.post("/invitations/accept", accept(&token)).await;
    assert_eq!((status, cancelled["code"].as_str()), (StatusCode::GONE, Some("invitation_unavailable")));
}

async fn twenty_racing_acceptances_of_one_invitation_give_one_membership(w: World) {
    let admin = registered(&w, SIRET, "admin").await;
    let invitee = w.email("invitee");
    w.call(
        Method::POST,
        "/organisation/invitations",
        &admin.access,
        json!({"email": invitee, "roles": ["billing_contact"]}),
    )
    .await;
    let token = w.last_to(&invitee).await.link_token();
    let bodies = (0..20)
        .map(|_| json!({"token": token, "first_name": "Ivy", "last_name": "Invitee", "password": PASSWORD}))
        .collect();
    let answers = w.post_concurrently("/invitations/accept", bodies).await;
    let accepted = answers.iter().filter(|(s, _)| *s == StatusCode::CREATED).count();
    assert_eq!(accepted, 1, "{answers:?}");
    assert!(answers.iter().all(|(s, b)| *s == StatusCode::CREATED || b["code"].is_string()), "{answers:?}");
    let list = members(&w, &admin.access).await;
    assert_eq!(list.len(), 2, "{list:?}");
    assert_eq!(roles_of(&list, &invitee), json!(["billing_contact"]));
    assert_eq!(roles_of(&list, &admin.email), json!(["administrator", "legal_representative"]));
}

async fn a_temporary_password_works_only_to_set_up_and_only_until_it_expires(w: World) {
    let email = w.email("admin");
    let (status, _) = w.post("/organisations", form(SIRET, &email)).await;
    assert_eq!(status, StatusCode::CREATED);
    let sent = w.sent_to(&email).await;
    let (identifier, temporary) = (identifier_in(&sent[0]), temporary_password_in(&sent[1]));
    let (_, started) = w.post("/login", json!({"identifier": identifier, "password": temporary})).await;
    assert_eq!(started["status"], "setup_required");
    let token = started["login_token"].clone();
    // Nothing else is reachable: no session, no phone before the new password.
    let (status, body) = w.post("/login/code", json!({"login_token": token, "code": "000000"})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::FORBIDDEN, Some("setup_required")), "{body}");
    let (status, body) =
        w.post("/login/setup/phone", json!({"login_token": token, "phone": w.phone(), "channel": "sms"})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::FORBIDDEN, Some("setup_required")), "{body}");
    let (status, body) = w.post("/login/setup/password", json!({"login_token": token, "password": temporary})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("no_change")), "{body}");
    let (status, body) = w.post("/login/setup/password", json!({"login_token": token, "password": "password"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    // A new password without a factor still opens nothing.
    let (status, body) = w.post("/login/setup/password", json!({"login_token": token, "password": PASSWORD})).await;
    assert_eq!((status, body["second_factor_required"].as_bool()), (StatusCode::OK, Some(true)), "{body}");
    let (_, again) = w.post("/login", json!({"email": email, "password": PASSWORD})).await;
    assert_eq!(
        (again["status"].as_str(), again["password_change_required"].as_bool()),
        (Some("setup_required"), Some(false))
    );
    // Another administrator's temporary password, too late.
    let late = w.email("late");
    w.post("/organisations", form(OTHER_SIRET, &late)).await;
    let sent = w.sent_to(&late).await;
    let (identifier, temporary) = (identifier_in(&sent[0]), temporary_password_in(&sent[1]));
    w.clock.advance(7 * 86400 + 1);
    let (status, body) = w.post("/login", json!({"identifier": identifier, "password": temporary})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::GONE, Some("temporary_password_expired")), "{body}");
    let (status, body) = w.post("/login", json!({"identifier": identifier, "password": "a wrong password"})).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("login_failed")),
        "a wrong one says nothing more"
    );
}

async fn registration_steps_are_counted(w: World) {
    let calls = || w.faults.calls.take();
    // The access-token key ring, loaded once per instance, is warm (as it is in use).
    w.services.tokens.ring(&w.services).await.unwrap();
    calls();
    let email = w.email("admin");
    let (status, _) = w.post("/organisations", form(SIRET, &email)).await;
    assert_eq!(status, StatusCode::CREATED);
    let register = calls();
    let sent = w.sent_to(&email).await;
    let (identifier, temporary) = (identifier_in(&sent[0]), temporary_password_in(&sent[1]));
    calls();
    let (_, started) = w.post("/login", json!({"identifier": identifier, "password": temporary})).await;
    let login = calls();
    let token = started["login_token"].clone();
    w.post("/login/setup/password", json!({"login_token": token, "password": PASSWORD})).await;
    let password = calls();
    let phone = w.phone();
    w.post("/login/setup/phone", json!({"login_token": token, "phone": phone, "channel": "sms"})).await;
    let setup_phone = calls();
    let code = w.last_to(&phone).await.code();
    calls();
    let (_, signed_in) = w.post("/login/setup/phone/confirm", json!({"login_token": token, "code": code})).await;
    let confirm = calls();
    let access = signed_in["access_token"].as_str().unwrap().to_owned();
    let invitee = w.email("invitee");
    let (status, _) =
        w.call(Method::POST, "/organisation/invitations", &access, json!({"email": invitee, "roles": ["user"]})).await;
    assert_eq!(status, StatusCode::CREATED);
    let invite = calls();
    let link = w.last_to(&invitee).await.link_token();
    calls();
    let accept = json!({"token": link, "first_name": "Ivy", "last_name": "Invitee", "password": PASSWORD});
    let (status, accepted) = w.post("/invitations/accept", accept).await;
    assert_eq!(status, StatusCode::CREATED);
    let accepted_calls = calls();
    let guard = signet_shared::domain::keys::identifier_guard(accepted["identifier"].as_str().unwrap());
    let person: Value = w.services.store.get(&guard).await.unwrap().unwrap().decode().unwrap();
    calls();
    let path = format!("/organisation/members/{}/roles", person["person_id"].as_str().unwrap());
    let (status, _) = w.call(Method::PUT, &path, &access, json!({"roles": ["agent"]})).await;
    assert_eq!(status, StatusCode::OK);
    let roles = calls();
    let (status, _) = w.call(Method::GET, "/organisation/members", &access, Value::Null).await;
    assert_eq!(status, StatusCode::OK);
    let members = calls();
    // (reads, writes, key-service calls, messages); see the README's table.
    let counted = [register, login, password, setup_phone, confirm, invite, accepted_calls, roles, members];
    assert_eq!(
        counted,
        [
            (4, 3, 1, 2),
            (3, 2, 0, 0),
            (2, 1, 0, 0),
            (7, 5, 1, 1),
            (5, 2, 0, 0),
            (6, 3, 0, 1),
            (5, 1, 0, 1),
            (4, 1, 0, 0),
            (4, 0, 0, 0)
        ]
    );
}

async fn a_mail_or_key_failure_at_registration_leaves_nothing_and_is_retryable(w: World) {
    use std::sync::atomic::Ordering;
    let email = w.email("admin");
    let guard = signet_shared::domain::keys::registration_guard(&format!("FR-SIRET-{SIRET}"));
    let account = signet_shared::domain::keys::email_guard(&EmailAddress::parse(&email).unwrap());
    let nothing = || async {
        let store = &w.services.store;
        store.get(&guard).await.unwrap().is_none() && store.get(&account).await.unwrap().is_none()
    };
    w.faults.keys.store(1, Ordering::SeqCst);
    let (status, body) = w.post("/organisations", form(SIRET, &email)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("service_unavailable")),
        "{body}"
    );
    assert!(nothing().await, "nothing written when the key service fails");
    w.faults.mail.store(1, Ordering::SeqCst);
    let (status, body) = w.post("/organisations", form(SIRET, &email)).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::SERVICE_UNAVAILABLE, Some("delivery_failed")), "{body}");
    assert!(nothing().await, "nothing kept when the emails cannot be sent");
    assert!(w.sent_to(&email).await.is_empty());
    let (status, body) = w.post("/organisations", form(SIRET, &email)).await;
    assert_eq!(status, StatusCode::CREATED, "registering again works: {body}");
    let sent = w.sent_to(&email).await;
    let (identifier, temporary) = (identifier_in(&sent[0]), temporary_password_in(&sent[1]));
    let (status, started) = w.post("/login", json!({"identifier": identifier, "password": temporary})).await;
    assert_eq!((status, started["status"].as_str()), (StatusCode::OK, Some("setup_required")));
}

async fn registrations_are_throttled_per_administrator_address(w: World) {
    let email = w.email("busy.admin");
    for (i, number) in ["CA-0001", "CA-0002", "CA-0003", "CA-0004"].iter().enumerate() {
        let mut body = form("", &email);
        body["jurisdiction"] = json!("other");
        body["country"] = json!("CA");
        body["registration_number"] = json!(number);
        let (status, answer) = w.post_concurrently_from_many_sources("/organisations", vec![body]).await.remove(0);
        if i < 3 {
            assert_eq!(status, StatusCode::CREATED, "{answer}");
        } else {
            assert_eq!((status, answer["code"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("too_many_requests")));
            assert!(answer["retry_after"].as_u64().is_some());
        }
    }
}

async fn twenty_racing_invitations_of_one_address_give_one_and_a_resent_link_replaces_the_old(w: World) {
    let admin = registered(&w, SIRET, "admin").await;
    let invitee = w.email("invitee");
    let bodies = vec![json!({"email": invitee, "roles": ["user"]}); 20];
    let answers = w.post_concurrently_as("/organisation/invitations", Some(&admin.access), bodies).await;
    let created = answers.iter().filter(|(s, _)| *s == StatusCode::CREATED).count();
    let refused = answers.iter().filter(|(s, b)| *s == StatusCode::CONFLICT && b["code"] == "already_member").count();
    assert_eq!((created, refused), (1, 19), "{answers:?}");
    assert_eq!(w.sent_to(&invitee).await.len(), 1, "one email");
    let old = w.last_to(&invitee).await.link_token();
    let id = answers.iter().find(|(s, _)| *s == StatusCode::CREATED).unwrap().1["id"].as_str().unwrap().to_owned();
    let (status, _) =
        w.call(Method::POST, &format!("/organisation/invitations/{id}/resend"), &admin.access, Value::Null).await;
    assert_eq!(status, StatusCode::OK);
    let new = w.last_to(&invitee).await.link_token();
    assert_ne!(old, new);
    let accept =
        |token: &str| json!({"token": token, "first_name": "Ivy", "last_name": "Invitee", "password": PASSWORD});
    let (status, body) = w.post("/invitations/accept", accept(&old)).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("invitation_invalid")), "the old link");
    let (status, _) = w.post("/invitations/accept", accept(&new)).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(members(&w, &admin.access).await.len(), 2);
}

async fn an_existing_account_named_administrator_joins_only_if_it_accepts(w: World) {
    let email = w.email("already.here");
    let phone = w.sign_up(&email, PASSWORD, "sms").await;
    let (status, body) = w.post("/organisations", form(SIRET, &email)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // No identifier, no temporary password, no membership: an invitation to accept.
    let told = w.last_to(&email).await;
    assert!(told.body.contains("/invitation?token="), "{}", told.body);
    let signed_in = w.sign_in(&email, &phone, PASSWORD).await;
    assert_eq!(signed_in["space"]["kind"], "individual", "still one space only");
    let access = signed_in["access_token"].as_str().unwrap().to_owned();
    let (status, joined) =
        w.call(Method::POST, "/invitations/join", &access, json!({"token": told.link_token()})).await;
    assert_eq!(status, StatusCode::OK, "{joined}");
    assert_eq!(joined["roles"], json!(["administrator", "legal_representative", "billing_contact"]));
    let space = joined["space_id"].clone();
    let (status, switched) = w.call(Method::POST, "/session/space", &access, json!({"space_id": space})).await;
    assert_eq!(status, StatusCode::OK, "{switched}");
    let access = switched["access_token"].as_str().unwrap();
    let (_, list) = w.call(Method::GET, "/organisation/members", access, Value::Null).await;
    assert_eq!(list["members"].as_array().unwrap().len(), 1, "{list}");
}

async fn a_full_organisation_takes_no_more_members(w: World) {
    use signet_shared::domain::keys;
    use signet_shared::domain::organisations::{members::MAX_MEMBERS, Organisation};
    use signet_shared::domain::people::account::{self, Membership, Role, SpaceKind};
    use signet_shared::ports::store::Write;
    let admin = registered(&w, SIRET, "admin").await;
    let invitee = w.email("one.too.many");
    w.call(Method::POST, "/organisation/invitations", &admin.access, json!({"email": invitee, "roles": ["user"]}))
        .await;
    let token = w.last_to(&invitee).await.link_token();
    // The space fills up meanwhile (written straight to the store, a hundred at a time).
    let (_, details) = w.call(Method::GET, "/organisation", &admin.access, Value::Null).await;
    let space = details["space_id"].as_str().unwrap().to_owned();
    let others: Vec<Membership> = (1..MAX_MEMBERS)
        .map(|_| Membership {
            person_id: w.services.new_id(),
            space_id: space.clone(),
            roles: vec![Role::User],
            space_name: "EXAMPLE INDUSTRIES".into(),
            space_kind: SpaceKind::Organisation,
        })
        .collect();
    for chunk in others.chunks(100) {
        let writes = chunk.iter().map(|m| account::membership_write(m).unwrap()).collect();
        w.services.store.transact(writes).await.unwrap();
    }
    let item = w.services.store.get(&keys::organisation(&space)).await.unwrap().unwrap();
    let mut organisation: Organisation = item.decode().unwrap();
    organisation.member_count = Some(MAX_MEMBERS as u32);
    w.services.store.write(Write::replace(item.next(&organisation).unwrap())).await.unwrap();
    let accept = json!({"token": token, "first_name": "Ona", "last_name": "Toomany", "password": PASSWORD});
    let (status, body) = w.post("/invitations/accept", accept).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::CONFLICT, Some("organisation_full")), "{body}");
}
