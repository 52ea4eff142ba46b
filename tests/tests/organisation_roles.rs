//! What each role of an organisation may do, allowed and refused, on both back ends; a
//! member of two organisations choosing and switching; "bill my organisation" for a freshly
//! registered organisation once an operator enabled invoicing and its legal representative
//! accepted the terms; "no access to the app" and an administrator's reset (seed 004); the
//! operator API.

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};
use signet_shared::domain::signatures::subscription::{self, Product, Subscription, SubscriptionStatus};
use signet_tests::organisations::*;
use signet_tests::{scenarios, World};

scenarios!(
    every_role_is_allowed_and_refused_what_the_matrix_says,
    a_member_of_two_organisations_chooses_and_switches,
    bill_my_organisation_once_an_operator_enabled_invoicing,
    no_access_to_the_app_an_administrator_resets_the_second_factor,
    operators_are_authorised_audited_and_people_told,
    the_last_administrator_and_the_single_roles_stay,
    an_operator_hands_a_squatted_organisation_to_its_real_administrator,
);

/// A cloud signature of `holder` in `space`, ending in `days` days.
async fn signature(w: &World, space: &str, holder: &str, days: i64) -> Subscription {
    let now = w.services.now();
    let sub = Subscription {
        id: w.services.new_id(),
        space_id: space.to_owned(),
        holder_id: holder.to_owned(),
        product: Product::CloudSignature,
        status: SubscriptionStatus::Functional,
        term_start: now - 300 * 86400,
        term_end: now + days * 86400,
        certificate: None,
        recovery: None,
    };
    w.services.store.transact(subscription::creation_writes(&sub).unwrap()).await.unwrap();
    sub
}

async fn options(w: &World, user: &Member, id: &str) -> Value {
    w.call(Method::GET, &format!("/subscriptions/{id}/renewal"), &user.access, Value::Null).await.1
}

async fn space_of(w: &World, m: &Member) -> String {
    let (_, details) = w.call(Method::GET, "/organisation", &m.access, Value::Null).await;
    details["space_id"].as_str().unwrap().to_owned()
}

async fn status_of(w: &World, method: Method, path: &str, m: &Member, body: Value) -> (StatusCode, String) {
    let (status, answer) = w.call(method, path, &m.access, body).await;
    (status, answer["code"].as_str().unwrap_or("").to_owned())
}

async fn every_role_is_allowed_and_refused_what_the_matrix_says(w: World) {
    let admin = registered(&w, SIRET, "admin").await;
    let legal = invited(&w, &admin, "legal", json!(["legal_representative"])).await;
    let billing = invited(&w, &admin, "billing", json!(["billing_contact"])).await;
    let agent = invited(&w, &admin, "agent", json!(["agent"])).await;
    let server = invited(&w, &admin, "server", json!(["server_certificate_contact"])).await;
    let user = invited(&w, &admin, "user", json!(["user"])).await;
    let space = space_of(&w, &admin).await;
    let users_sub = signature(&w, &space, &user.person_id, 20).await;
    let agents_sub = signature(&w, &space, &agent.person_id, 20).await;
    let everyone = [&admin, &legal, &billing, &agent, &server, &user];
    let refused = (StatusCode::FORBIDDEN, "role_required".to_owned());
    // SeeMembers: administrators and the legal representative.
    for m in everyone {
        let (status, code) = status_of(&w, Method::GET, "/organisation/members", m, Value::Null).await;
        let allowed = std::ptr::eq(m, &admin) || std::ptr::eq(m, &legal);
        assert_eq!(allowed, status == StatusCode::OK, "{} sees the members: {status} {code}", m.email);
        if !allowed {
            assert_eq!((status, code), refused);
        }
    }
    // ManageMembers: administrators only (invite, change roles, remove, list invitations).
    for m in everyone {
        let invite = json!({"email": w.email(&format!("by-{}", m.identifier)), "roles": ["user"]});
        let (status, _) = status_of(&w, Method::POST, "/organisation/invitations", m, invite).await;
        assert_eq!(status == StatusCode::CREATED, std::ptr::eq(m, &admin), "{} invites: {status}", m.email);
        let path = format!("/organisation/members/{}/roles", server.person_id);
        let (status, code) = status_of(&w, Method::PUT, &path, m, json!({"roles": ["user"]})).await;
        if std::ptr::eq(m, &admin) {
            assert_eq!(status, StatusCode::OK);
            w.call(Method::PUT, &path, &admin.access, json!({"roles": ["server_certificate_contact"]})).await;
        } else {
            assert_eq!((status, code), refused, "{} changes roles", m.email);
            let (status, code) = status_of(&w, Method::GET, "/organisation/invitations", m, Value::Null).await;
            assert_eq!((status, code), refused);
            let path = format!("/organisation/members/{}", user.person_id);
            assert_eq!(status_of(&w, Method::DELETE, &path, m, Value::Null).await, refused);
        }
    }
    // ReadInvoices: the billing contact only.
    for m in everyone {
        let (status, code) = status_of(&w, Method::GET, "/invoices", m, Value::Null).await;
        if std::ptr::eq(m, &billing) {
            assert_eq!(status, StatusCode::OK, "{code}");
        } else {
            assert_eq!((status, code), refused, "{} reads the invoices", m.email);
        }
    }
    // AcceptTerms: the legal representative only.
    let version = w.services.config.payments.terms_version.clone();
    for m in [&admin, &billing, &agent, &server, &user] {
        let (status, code) = status_of(&w, Method::POST, "/organisation/terms", m, json!({"version": version})).await;
        assert_eq!((status, code), refused, "{} accepts the terms", m.email);
    }
    let (status, details) =
        w.call(Method::POST, "/organisation/terms", &legal.access, json!({"version": version})).await;
    assert_eq!((status, details["terms"]["status"].as_str()), (StatusCode::OK, Some("accepted")), "{details}");
    // ActForSubscriptions: the agent sees and renews every subscription; the others their own.
    let listed = |body: &Value| {
        body["subscriptions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    let (_, mine) = w.call(Method::GET, "/subscriptions", &user.access, Value::Null).await;
    assert_eq!(listed(&mine), vec![users_sub.id.clone()], "a user sees only their own");
    let (_, all) = w.call(Method::GET, "/subscriptions", &agent.access, Value::Null).await;
    assert_eq!(listed(&all).len(), 2, "an agent sees all: {all}");
    let (_, none) = w.call(Method::GET, "/subscriptions", &admin.access, Value::Null).await;
    assert!(listed(&none).is_empty(), "an administrator manages members, not signatures: {none}");
    let renewal = |id: &str| format!("/subscriptions/{id}/renewal");
    assert_eq!(status_of(&w, Method::GET, &renewal(&users_sub.id), &agent, Value::Null).await.0, StatusCode::OK);
    let (status, code) = status_of(&w, Method::GET, &renewal(&agents_sub.id), &user, Value::Null).await;
    assert_eq!((status, code.as_str()), (StatusCode::NOT_FOUND, "not_found"));
    assert_eq!(status_of(&w, Method::GET, &renewal(&users_sub.id), &user, Value::Null).await.0, StatusCode::OK);
}

async fn a_member_of_two_organisations_chooses_and_switches(w: World) {
    let first = registered(&w, SIRET, "first").await;
    let second = registered(&w, OTHER_SIRET, "second").await;
    // The first organisation's administrator is invited to the second, and joins with their account.
    let (status, _) = w
        .call(
            Method::POST,
            "/organisation/invitations",
            &second.access,
            json!({"email": first.email, "roles": ["agent"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let token = w.last_to(&first.email).await.link_token();
    let (status, joined) = w
        .post("/invitations/accept", json!({"token": token, "first_name": "A", "last_name": "B", "password": PASSWORD}))
        .await;
    assert_eq!((status, joined["code"].as_str()), (StatusCode::CONFLICT, Some("sign_in_to_accept")), "{joined}");
    let (status, joined) = w.call(Method::POST, "/invitations/join", &first.access, json!({"token": token})).await;
    assert_eq!((status, joined["roles"].clone()), (StatusCode::OK, json!(["agent"])), "{joined}");
    let (status, twice) = w.call(Method::POST, "/invitations/join", &first.access, json!({"token": token})).await;
    assert_eq!((status, twice["code"].as_str()), (StatusCode::GONE, Some("invitation_unavailable")));
    // A login now offers both spaces.
    let (_, started) = w.post("/login", json!({"identifier": first.identifier, "password": PASSWORD})).await;
    assert_eq!(started["status"], "second_factor_required", "{started}");
    let code = w.last_to(&first.phone).await.code();
    let (_, choose) = w.post("/login/code", json!({"login_token": started["login_token"], "code": code})).await;
    assert_eq!(choose["status"], "choose_space", "{choose}");
    let spaces = choose["spaces"].as_array().unwrap();
    assert_eq!(spaces.len(), 2);
    let agent_space = spaces.iter().find(|s| s["roles"] == json!(["agent"])).unwrap()["id"].clone();
    let admin_space = spaces.iter().find(|s| s["roles"] != json!(["agent"])).unwrap()["id"].clone();
    let (status, signed_in) =
        w.post("/login/space", json!({"login_token": started["login_token"], "space_id": agent_space})).await;
    assert_eq!(status, StatusCode::OK, "{signed_in}");
    let access = signed_in["access_token"].as_str().unwrap().to_owned();
    let (_, details) = w.call(Method::GET, "/organisation", &access, Value::Null).await;
    assert_eq!(details["name"], "EXAMPLE ASSOCIATION");
    let (status, code) = {
        let (s, b) = w.call(Method::GET, "/organisation/members", &access, Value::Null).await;
        (s, b["code"].clone())
    };
    assert_eq!((status, code), (StatusCode::FORBIDDEN, json!("role_required")), "an agent there");
    // Switching to the other space.
    let (status, switched) = w.call(Method::POST, "/session/space", &access, json!({"space_id": admin_space})).await;
    assert_eq!(status, StatusCode::OK, "{switched}");
    let access = switched["access_token"].as_str().unwrap().to_owned();
    let (_, details) = w.call(Method::GET, "/organisation", &access, Value::Null).await;
    assert_eq!(
        (details["name"].as_str(), details["my_roles"][0].as_str()),
        (Some("EXAMPLE INDUSTRIES"), Some("administrator"))
    );
    assert_eq!(w.call(Method::GET, "/organisation/members", &access, Value::Null).await.0, StatusCode::OK);
}

async fn bill_my_organisation_once_an_operator_enabled_invoicing(w: World) {
    let admin = registered(&w, SIRET, "admin").await;
    let billing = invited(&w, &admin, "billing", json!(["billing_contact"])).await;
    let user = invited(&w, &admin, "user", json!(["user"])).await;
    let other = invited(&w, &admin, "other", json!(["user"])).await;
    let space = space_of(&w, &admin).await;
    let sub = signature(&w, &space, &user.person_id, 20).await;
    assert_eq!(
        options(&w, &user, &sub.id).await["payment_modes"],
        json!(["card"]),
        "not before the operator enables invoicing"
    );
    let (status, enabled) =
        operator(&w, Method::PUT, &format!("/operator/organisations/{space}/invoicing"), json!({"enabled": true}))
            .await;
    assert_eq!((status, enabled["invoicing_enabled"].as_bool()), (StatusCode::OK, Some(true)), "{enabled}");
    assert!(w.last_to(&billing.email).await.body.contains("Invoicing is enabled"), "the billing contact is told");
    assert_eq!(
        options(&w, &user, &sub.id).await["payment_modes"],
        json!(["card"]),
        "nor before the terms are accepted"
    );
    let version = w.services.config.payments.terms_version.clone();
    let (status, _) = w.call(Method::POST, "/organisation/terms", &admin.access, json!({"version": version})).await;
    assert_eq!(status, StatusCode::OK, "the administrator is still the legal representative");
    assert_eq!(options(&w, &user, &sub.id).await["payment_modes"], json!(["card", "organisation"]));
    let body = json!({"product": "CLOUD-SIG-1Y", "payment_mode": "organisation", "organisation_id": space});
    let (status, d) = w.call(Method::POST, &format!("/subscriptions/{}/renewals", sub.id), &user.access, body).await;
    assert_eq!(status, StatusCode::CREATED, "{d}");
    let submit = json!({"accept_terms": true, "terms_version": version});
    let path = format!("/renewals/{}/submit", d["id"].as_str().unwrap());
    let (status, done) = w.call(Method::POST, &path, &user.access, submit).await;
    assert_eq!((status, done["state"].as_str()), (StatusCode::CREATED, Some("invoiced")), "{done}");
    let number = done["invoice_number"].as_str().unwrap().to_owned();
    // The billing contact is emailed the invoice, sees it listed, reads and downloads it.
    assert!(w.last_to(&billing.email).await.body.contains(&number));
    let (status, listed) = w.call(Method::GET, "/invoices", &billing.access, Value::Null).await;
    assert_eq!((status, listed["invoices"][0]["number"].as_str()), (StatusCode::OK, Some(number.as_str())), "{listed}");
    assert_eq!(
        w.call(Method::GET, &format!("/invoices/{number}"), &billing.access, Value::Null).await.0,
        StatusCode::OK
    );
    let (status, _, pdf) = w
        .send(
            Method::GET,
            &format!("/invoices/{number}/pdf"),
            &[("authorization", &format!("Bearer {}", billing.access))],
            vec![],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{pdf}");
    // Another plain user does not.
    let (status, hidden) = w.call(Method::GET, &format!("/invoices/{number}"), &other.access, Value::Null).await;
    assert_eq!((status, hidden["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
    assert_eq!(w.call(Method::GET, "/invoices", &other.access, Value::Null).await.0, StatusCode::FORBIDDEN);
    // Disabled again: card only.
    operator(&w, Method::PUT, &format!("/operator/organisations/{space}/invoicing"), json!({"enabled": false})).await;
    let sub2 = signature(&w, &space, &user.person_id, 20).await;
    let (_, o) = w.call(Method::GET, &format!("/subscriptions/{}/renewal", sub2.id), &user.access, Value::Null).await;
    assert_eq!(o["payment_modes"], json!(["card"]));
}

async fn no_access_to_the_app_an_administrator_resets_the_second_factor(w: World) {
    let admin = registered(&w, SIRET, "admin").await;
    let member = invited(&w, &admin, "member", json!(["user"])).await;
    // The member signs in again: the code goes to their phone, which they no longer have.
    let (_, started) = w.post("/login", json!({"identifier": member.identifier, "password": PASSWORD})).await;
    assert_eq!(started["status"], "second_factor_required");
    let (status, asked) = w.post("/login/no-access", json!({"login_token": started["login_token"]})).await;
    assert_eq!((status, asked["organisations_told"].as_u64()), (StatusCode::ACCEPTED, Some(1)), "{asked}");
    let request = w.last_to(&admin.email).await;
    assert!(request.body.contains(&member.email) && request.subject.contains("reset"), "{request:?}");
    let (status, bad) = w.post("/login/no-access", json!({"login_token": "not a token"})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{bad}");
    // A member who is not an administrator cannot reset; an administrator confirms their identity first.
    let path = format!("/organisation/members/{}/second-factor/reset", member.person_id);
    let other = invited(&w, &admin, "other", json!(["user"])).await;
    let (status, code) = status_of(&w, Method::POST, &path, &other, Value::Null).await;
    assert_eq!((status, code.as_str()), (StatusCode::FORBIDDEN, "role_required"));
    let (status, code) = status_of(&w, Method::POST, &path, &admin, Value::Null).await;
    assert_eq!((status, code.as_str()), (StatusCode::FORBIDDEN, "reauthentication_required"));
    w.reauthenticate(&admin.access, &admin.phone, PASSWORD).await;
    let (status, code) = status_of(&w, Method::POST, &path, &admin, Value::Null).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{code}");
    // The member is told (with the link to enrol a new factor), every session of theirs ended.
    let told = w.last_to(&member.email).await;
    assert!(told.subject.contains("second factor was reset"), "{told:?}");
    let enrolment = told.link_token();
    let (status, _) = w.call(Method::GET, "/sessions", &member.access, Value::Null).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the member's sessions ended");
    // Their next sign-in enrols a new factor before anything else.
    let (_, started) = w.post("/login", json!({"identifier": member.identifier, "password": PASSWORD})).await;
    assert_eq!(
        (started["status"].as_str(), started["second_factor_required"].as_bool()),
        (Some("setup_required"), Some(true))
    );
    let (status, code) = {
        let (s, b) = w.post("/login/code", json!({"login_token": started["login_token"], "code": "123456"})).await;
        (s, b["code"].clone())
    };
    assert_eq!((status, code), (StatusCode::FORBIDDEN, json!("setup_required")), "no session on the password alone");
    assert_eq!(started["enrolment_link_required"], true);
    // A password alone does not choose the next factor: the emailed link's token is needed.
    let (status, refused) = w.post("/login/setup/app", json!({"login_token": started["login_token"]})).await;
    assert_eq!((status, refused["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("link_invalid")), "{refused}");
    let (status, refused) = w
        .post(
            "/login/setup/phone",
            json!({"login_token": started["login_token"], "phone": w.phone(), "channel": "sms"}),
        )
        .await;
    assert_eq!((status, refused["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("link_invalid")));
    let body = json!({"login_token": started["login_token"], "enrolment_token": enrolment});
    let (status, enrolment) = w.post("/login/setup/app", body).await;
    assert_eq!(status, StatusCode::CREATED, "{enrolment}");
    let app = totp_rs::Totp::from_url(enrolment["otpauth_uri"].as_str().unwrap()).unwrap();
    let (status, wrong) =
        w.post("/login/setup/app/confirm", json!({"login_token": started["login_token"], "code": "000000"})).await;
    assert_eq!((status, wrong["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("code_invalid")), "{wrong}");
    let code = app.generate(w.services.now() as u64).to_string();
    let (status, signed_in) =
        w.post("/login/setup/app/confirm", json!({"login_token": started["login_token"], "code": code})).await;
    assert_eq!((status, signed_in["status"].as_str()), (StatusCode::OK, Some("signed_in")), "{signed_in}");
    // Audited.
    let events = w.services.store.query(&format!("AUDIT#person:{}", member.person_id), "", 100).await.unwrap();
    let actions: Vec<String> =
        events.iter().map(|e| e.decode::<Value>().unwrap()["action"].as_str().unwrap().to_owned()).collect();
    for expected in ["second_factor.help_requested", "second_factor.reset", "account.setup_factor_enrolled"] {
        assert!(actions.iter().any(|a| a == expected), "{expected} in {actions:?}");
    }
}

async fn operators_are_authorised_audited_and_people_told(w: World) {
    let admin = registered(&w, SIRET, "admin").await;
    let search = json!({"email": admin.email});
    let (status, _, body) = w
        .send(
            Method::POST,
            "/operator/people/search",
            &[("content-type", "application/json")],
            search.to_string().into_bytes(),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("token_invalid")),
        "no token, no operator"
    );
    let headers =
        [("content-type", "application/json"), ("x-signet-operator-token", "a wrong operator token of some length")];
    let (status, _, _) =
        w.send(Method::POST, "/operator/people/search", &headers, search.to_string().into_bytes()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, found) = operator(&w, Method::POST, "/operator/people/search", search).await;
    assert_eq!((status, found["person_id"].as_str()), (StatusCode::OK, Some(admin.person_id.as_str())), "{found}");
    let (_, by_identifier) =
        operator(&w, Method::POST, "/operator/people/search", json!({"identifier": admin.identifier.to_lowercase()}))
            .await;
    assert_eq!(by_identifier["email"], admin.email.as_str());
    assert_eq!(by_identifier["spaces"][0]["roles"][0], "administrator");
    let (status, _) = operator(&w, Method::POST, "/operator/people/search", json!({"email": w.email("nobody")})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Ending the sessions: the token stops working at once; the person is told.
    let path = format!("/operator/people/{}/sessions/end", admin.person_id);
    let (status, _) = operator(&w, Method::POST, &path, Value::Null).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(w.call(Method::GET, "/organisation", &admin.access, Value::Null).await.0, StatusCode::UNAUTHORIZED);
    assert!(w.last_to(&admin.email).await.subject.contains("sessions were ended"));
    // Resetting the factor.
    let path = format!("/operator/people/{}/second-factor/reset", admin.person_id);
    assert_eq!(operator(&w, Method::POST, &path, Value::Null).await.0, StatusCode::NO_CONTENT);
    let first = w.last_to(&admin.email).await;
    assert!(first.body.contains("Signet's support"));
    // A reset whose email went astray is made again: a new link replaces the old.
    assert_eq!(operator(&w, Method::POST, &path, Value::Null).await.0, StatusCode::NO_CONTENT);
    let second = w.last_to(&admin.email).await.link_token();
    let (_, started) = w.post("/login", json!({"email": admin.email, "password": PASSWORD})).await;
    assert_eq!(
        (started["status"].as_str(), started["enrolment_link_required"].as_bool()),
        (Some("setup_required"), Some(true))
    );
    let old = json!({"login_token": started["login_token"], "enrolment_token": first.link_token()});
    assert_eq!(w.post("/login/setup/app", old).await.0, StatusCode::UNAUTHORIZED, "the first link no longer works");
    let new = json!({"login_token": started["login_token"], "enrolment_token": second});
    assert_eq!(w.post("/login/setup/app", new).await.0, StatusCode::CREATED);
    // Every action carries the operator's identity.
    let events = w.services.store.query(&format!("AUDIT#person:{}", admin.person_id), "", 100).await.unwrap();
    let by_operator: Vec<Value> = events
        .iter()
        .map(|e| e.decode::<Value>().unwrap())
        .filter(|e| e["actor"] == "operator:local-operator")
        .collect();
    assert_eq!(by_operator.len(), 3, "{by_operator:?}");
    let lookups = w.services.store.query("AUDIT#operator:local-operator", "", 100).await.unwrap();
    assert_eq!(lookups.len(), 3, "each look-up audited");
    // Bad input.
    let (status, bad) = operator(&w, Method::POST, "/operator/people/nobody/sessions/end", Value::Null).await;
    assert_eq!((status, bad["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
    let (status, bad) =
        operator(&w, Method::PUT, "/operator/organisations/x/invoicing", json!({"enabled": "yes"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
}

async fn the_last_administrator_and_the_single_roles_stay(w: World) {
    let admin = registered(&w, SIRET, "admin").await;
    let user = invited(&w, &admin, "user", json!(["user"])).await;
    let own = format!("/organisation/members/{}", admin.person_id);
    let still_needed = (StatusCode::CONFLICT, "role_still_needed".to_owned());
    assert_eq!(status_of(&w, Method::DELETE, &own, &admin, Value::Null).await, still_needed);
    let roles = format!("{own}/roles");
    assert_eq!(
        status_of(&w, Method::PUT, &roles, &admin, json!({"roles": ["legal_representative", "billing_contact"]})).await,
        still_needed
    );
    assert_eq!(status_of(&w, Method::PUT, &roles, &admin, json!({"roles": ["administrator"]})).await, still_needed);
    // Giving the legal representative's role to the user takes it from the administrator.
    let user_roles = format!("/organisation/members/{}/roles", user.person_id);
    let (status, _) =
        status_of(&w, Method::PUT, &user_roles, &admin, json!({"roles": ["user", "legal_representative"]})).await;
    assert_eq!(status, StatusCode::OK);
    let (_, list) = w.call(Method::GET, "/organisation/members", &admin.access, Value::Null).await;
    let admin_roles =
        list["members"].as_array().unwrap().iter().find(|m| m["person_id"] == admin.person_id.as_str()).unwrap()
            ["roles"]
            .clone();
    assert_eq!(admin_roles, json!(["administrator", "billing_contact"]));
    // A second administrator lets the first step down and be removed.
    let (status, _) =
        status_of(&w, Method::PUT, &user_roles, &admin, json!({"roles": ["administrator", "legal_representative"]}))
            .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = status_of(&w, Method::PUT, &roles, &admin, json!({"roles": ["billing_contact"]})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        status_of(&w, Method::DELETE, &own, &user, Value::Null).await,
        still_needed,
        "the billing contact stays"
    );
    let (status, _) = status_of(
        &w,
        Method::PUT,
        &user_roles,
        &user,
        json!({"roles": ["administrator", "legal_representative", "billing_contact"]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(status_of(&w, Method::DELETE, &own, &user, Value::Null).await.0, StatusCode::NO_CONTENT);
    assert_eq!(
        w.call(Method::GET, "/organisation", &admin.access, Value::Null).await.0,
        StatusCode::NOT_FOUND,
        "no longer a member"
    );
    // Bad roles.
    let (status, code) = status_of(&w, Method::PUT, &user_roles, &user, json!({"roles": []})).await;
    assert_eq!((status, code.as_str()), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_request"));
    let (status, _) = status_of(&w, Method::PUT, &user_roles, &user, json!({"roles": ["owner"]})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn an_operator_hands_a_squatted_organisation_to_its_real_administrator(w: World) {
    // Someone not entitled to it registered the entity; its real administrator cannot.
    let squatter = registered(&w, SIRET, "squatter").await;
    let real = w.email("real.admin");
    let (status, _) = w.post("/organisations", form(SIRET, &real)).await;
    assert_eq!(status, StatusCode::CONFLICT);
    // The provider's support checks who is entitled, and invites them as administrator.
    let space = space_of(&w, &squatter).await;
    let path = format!("/operator/organisations/{space}/invitations");
    let body = json!({"email": real, "roles": ["administrator", "legal_representative", "billing_contact"]});
    let (status, invited) = operator(&w, Method::POST, &path, body).await;
    assert_eq!(status, StatusCode::CREATED, "{invited}");
    let (status, _, refused) =
        w.send(Method::POST, &path, &[("content-type", "application/json")], b"{}".to_vec()).await;
    assert_eq!((status, refused["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("token_invalid")));
    let admin = accept_and_sign_in(&w, &real).await;
    let (_, list) = w.call(Method::GET, "/organisation/members", &admin.access, Value::Null).await;
    let roles_of =
        |id: &str| list["members"].as_array().unwrap().iter().find(|m| m["person_id"] == id).unwrap()["roles"].clone();
    assert_eq!(roles_of(&admin.person_id), json!(["administrator", "legal_representative", "billing_contact"]));
    assert_eq!(roles_of(&squatter.person_id), json!(["administrator"]), "the single roles moved");
    // The real administrator removes the squatter.
    let remove = format!("/organisation/members/{}", squatter.person_id);
    assert_eq!(w.call(Method::DELETE, &remove, &admin.access, Value::Null).await.0, StatusCode::NO_CONTENT);
    assert_eq!(w.call(Method::GET, "/organisation", &squatter.access, Value::Null).await.0, StatusCode::NOT_FOUND);
    let events = w.services.store.query(&format!("AUDIT#space:{space}"), "", 100).await.unwrap();
    let invited_by_operator = events
        .iter()
        .map(|e| e.decode::<Value>().unwrap())
        .any(|e| e["action"] == "organisation.invited" && e["actor"] == "operator:local-operator");
    assert!(invited_by_operator, "audited under the operator");
}
