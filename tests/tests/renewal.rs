//! Renewal and billing (seed 000, step 3) end to end, on both back ends: by card through the
//! local hosted payment page (its signed webhook), a declined card, "bill my organisation",
//! the terms of sale, the webhook delivered twice, late, racing and badly signed, fifty
//! racing renewals numbered without gap, and the invoice read back from its PDF.

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};
use signet_shared::adapters::local_payments::{LOCAL_CARD_DECLINED, LOCAL_CARD_PAYS};
use signet_shared::adapters::stripe::{Stripe, Unconfigured};
use signet_shared::adapters::webhook_signature;
use signet_shared::domain::billing::invoice;
use signet_shared::domain::billing::renewal::{self, Renewal, RenewalState};
use signet_shared::domain::calendar;
use signet_shared::domain::keys;
use signet_shared::domain::people::account::{
    self, BillingProfile, CustomerSpace, Membership, Person, Role, SpaceKind,
};
use signet_shared::domain::people::email::EmailAddress;
use signet_shared::domain::signatures::subscription::{self, Product, Subscription, SubscriptionStatus};
use signet_shared::ports::payments;
use signet_shared::ports::store::{Item, Key, Write};
use signet_tests::{scenarios, World, WEBHOOK_SECRET};
use std::process::Command;

const PASSWORD: &str = "correct horse battery staple";

scenarios!(
    the_seed_000_renewal_by_card_through_the_local_payment_page,
    a_declined_card_extends_nothing_and_uses_no_number,
    bill_my_organisation_extends_at_once_and_emails_the_billing_contact,
    a_person_who_is_not_a_member_cannot_bill_the_organisation,
    the_webhook_twice_late_racing_or_badly_signed_extends_once,
    the_terms_of_sale_must_be_accepted,
    a_mail_failure_leaves_the_receipt_to_the_next_delivery,
    fifty_racing_renewals_are_numbered_without_gap,
    taxes_follow_the_buyer_s_jurisdiction,
    bad_input_is_refused_clearly,
    renewal_steps_are_counted,
    a_french_speaking_buyer_gets_a_french_invoice_and_receipt,
    one_open_checkout_per_subscription,
    without_a_payment_provider_card_is_not_offered,
    giving_up_a_checkout_frees_the_subscription_at_once,
    notices_left_by_a_crashed_sender_are_sent_once_by_the_next_run,
    twenty_presses_of_pay_take_one_payment_and_all_answer_alike,
    a_deployment_never_invoices_with_the_example_tax_numbers,
);

struct Holder {
    email: String,
    phone: String,
    access: String,
    person: Person,
    space: String,
}

async fn holder(w: &World, name: &str) -> Holder {
    let email = w.email(name);
    let phone = w.sign_up(&email, PASSWORD, "sms").await;
    let access = log_in(w, &email, &phone).await;
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
    let ring = w.services.tokens.ring(&w.services).await.unwrap();
    let space = ring
        .verify(&access, &w.services.config.tokens.issuer, &w.services.config.tokens.audience, w.services.now())
        .unwrap()
        .space;
    Holder { email, phone, access, person, space }
}

/// Signs in again (the access token lives ten minutes); returns the new access token.
async fn log_in(w: &World, email: &str, phone: &str) -> String {
    let (_, started) = w.post("/login", json!({"email": email, "password": PASSWORD})).await;
    let code = w.last_to(phone).await.code();
    let (status, signed_in) = w.post("/login/code", json!({"login_token": started["login_token"], "code": code})).await;
    assert_eq!(status, StatusCode::OK, "{signed_in}");
    if let Some(access) = signed_in["access_token"].as_str() {
        return access.to_owned();
    }
    // Several spaces (a member of an organisation): the personal one, where the subscriptions are.
    let personal =
        signed_in["spaces"].as_array().unwrap().iter().find(|s| s["kind"] == "individual").unwrap()["id"].clone();
    let (status, chosen) =
        w.post("/login/space", json!({"login_token": signed_in["login_token"], "space_id": personal})).await;
    assert_eq!(status, StatusCode::OK, "{chosen}");
    chosen["access_token"].as_str().unwrap().to_owned()
}

/// A cloud signature of `h` whose term ends in `days` days.
async fn subscription_of(w: &World, h: &Holder, days: i64) -> Subscription {
    let now = w.services.now();
    let sub = Subscription {
        id: w.services.new_id(),
        space_id: h.space.clone(),
        holder_id: h.person.id.clone(),
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

/// An organisation, enabled for invoicing or not, with `members`.
async fn organisation(
    w: &World,
    invoicing: bool,
    members: &[&Holder],
    country: &str,
    region: Option<&str>,
    vat: Option<&str>,
) -> (String, String) {
    let contact = w.email("billing");
    let org = CustomerSpace {
        id: w.services.new_id(),
        kind: SpaceKind::Organisation,
        name: "Example Organisation".into(),
        created_at: 0,
        billing: Some(BillingProfile {
            name: "Example Organisation Inc.".into(),
            country: country.into(),
            region: region.map(Into::into),
            vat_number: vat.map(Into::into),
            invoicing_enabled: invoicing,
            billing_contact: Some(EmailAddress::parse(&contact).unwrap()),
            terms: Default::default(),
        }),
    };
    let mut writes = vec![Write::create(Item::new(keys::space(&org.id), &org).unwrap())];
    for m in members {
        writes.push(
            account::membership_write(&Membership {
                person_id: m.person.id.clone(),
                space_id: org.id.clone(),
                roles: vec![Role::User],
                space_name: org.name.clone(),
                space_kind: org.kind,
            })
            .unwrap(),
        );
    }
    w.services.store.transact(writes).await.unwrap();
    (org.id, contact)
}

async fn draft(w: &World, h: &Holder, sub: &str, body: Value) -> Value {
    let (status, d) = w.call(Method::POST, &format!("/subscriptions/{sub}/renewals"), &h.access, body).await;
    assert_eq!(status, StatusCode::CREATED, "{d}");
    d
}

fn accept(w: &World) -> Value {
    json!({"accept_terms": true, "terms_version": w.services.config.payments.terms_version})
}

async fn stored_renewal(w: &World, id: &str) -> Renewal {
    renewal::load(&w.services, id).await.unwrap().unwrap().1
}

async fn stored_subscription(w: &World, id: &str) -> Subscription {
    w.services.store.get(&keys::subscription(id)).await.unwrap().unwrap().decode().unwrap()
}

async fn counter(w: &World) -> Option<u64> {
    let item = w
        .services
        .store
        .get(&Key::new(format!("INVOICESERIES#{}", invoice::series_of(w.services.now())), "COUNTER"))
        .await
        .unwrap()?;
    Some(item.decode::<Value>().unwrap()["next"].as_u64().unwrap())
}

fn number(w: &World, n: u64) -> String {
    invoice::format_number(&invoice::series_of(w.services.now()), n)
}

/// A signed delivery of a checkout event for renewal `r` (as the provider sends it).
fn checkout_event(kind: &str, r: &Renewal, amount: i64) -> Vec<u8> {
    let session = r.checkout.as_ref().map(|c| c.session_id.clone()).unwrap_or_default();
    serde_json::to_vec(&json!({
        "id": format!("evt_{}", r.id),
        "type": kind,
        "data": {"object": {"id": session, "object": "checkout.session", "client_reference_id": r.id, "amount_total": amount,
                            "currency": r.amounts.currency.to_lowercase(), "payment_status": "paid", "payment_intent": format!("pi_{}", r.id)}}
    }))
    .unwrap()
}

async fn deliver(w: &World, body: &[u8], signature: &str) -> (StatusCode, Value) {
    let (status, _, answer) = w
        .send(
            Method::POST,
            "/payments/webhook",
            &[("content-type", "application/json"), ("stripe-signature", signature)],
            body.to_vec(),
        )
        .await;
    (status, answer)
}

fn pdftotext(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("invoice.pdf");
    std::fs::write(&file, pdf).unwrap();
    let out = Command::new("pdftotext")
        .args(["-layout"])
        .arg(&file)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) is installed by scripts/test.sh");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

async fn get_bytes(w: &World, path: &str, access: &str) -> (StatusCode, String, Vec<u8>) {
    use tower::ServiceExt;
    let request = axum::http::Request::get(path)
        .header("authorization", format!("Bearer {access}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let response = w.app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let kind = response.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    // As the document says: never stored by a cache (PDFs included).
    assert_eq!(response.headers().get("cache-control").map(|v| v.to_str().unwrap()), Some("no-store"), "{path}");
    (status, kind, axum::body::to_bytes(response.into_body(), 1 << 22).await.unwrap().to_vec())
}

async fn the_seed_000_renewal_by_card_through_the_local_payment_page(w: World) {
    let h = holder(&w, "renewer").await;
    let sub = subscription_of(&w, &h, 20).await;
    // My subscriptions → renew: card only (no organisation to bill), the terms to accept.
    let (status, options) =
        w.call(Method::GET, &format!("/subscriptions/{}/renewal", sub.id), &h.access, Value::Null).await;
    assert_eq!(status, StatusCode::OK, "{options}");
    assert_eq!(options["payment_modes"], json!(["card"]));
    assert_eq!(options["products"][0]["code"], "CLOUD-SIG-1Y");
    assert_eq!(options["terms"]["version"], w.services.config.payments.terms_version.as_str());
    // Payment mode → the draft invoice with Québec's taxes.
    let d = draft(
        &w,
        &h,
        &sub.id,
        json!({"product": "CLOUD-SIG-1Y", "payment_mode": "card", "billing": {"country": "CA", "region": "QC"}}),
    )
    .await;
    assert_eq!(d["state"], "draft");
    assert_eq!(d["invoice"]["currency"], "CAD");
    assert_eq!(d["invoice"]["subtotal"], "100.00");
    assert_eq!(
        d["invoice"]["taxes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| (t["code"].as_str().unwrap(), t["amount"].as_str().unwrap()))
            .collect::<Vec<_>>(),
        [("GST", "5.00"), ("QST", "9.98")]
    );
    assert_eq!(d["invoice"]["total"], "114.98");
    a_billing_address_on_file_is_answered_without_nulls(&w, &h, &sub).await;
    let (id, n) = submit_and_pay_by_card(&w, &h, &sub, &d).await;
    the_receipt_invoice_and_pdfs_say_what_was_paid(&w, &h, &n).await;
    // Another person cannot read it.
    let other = holder(&w, "stranger").await;
    let (status, _) = w.call(Method::GET, &format!("/invoices/{n}"), &other.access, Value::Null).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = w.call(Method::GET, &format!("/renewals/{id}"), &other.access, Value::Null).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// A billing address on file without a VAT number is answered as the document describes
/// it: the absent field left out, never null.
async fn a_billing_address_on_file_is_answered_without_nulls(w: &World, h: &Holder, sub: &Subscription) {
    let item = w.services.store.get(&keys::space(&h.space)).await.unwrap().unwrap();
    let mut space: CustomerSpace = item.decode().unwrap();
    space.billing = Some(BillingProfile {
        name: "Test Subscriber".into(),
        country: "CA".into(),
        region: Some("QC".into()),
        vat_number: None,
        invoicing_enabled: false,
        billing_contact: None,
        terms: Default::default(),
    });
    w.services.store.write(Write::replace(item.next(&space).unwrap())).await.unwrap();
    let (_, options) = w.call(Method::GET, &format!("/subscriptions/{}/renewal", sub.id), &h.access, Value::Null).await;
    let billing = options["billing"].as_object().expect("a billing address on file");
    assert!(billing.values().all(|v| !v.is_null()), "{options}");
}

/// Accept the terms, submit → the hosted payment page; pay with the test card: the
/// subscription extended by exactly one term, the invoice numbered. Answers the renewal's
/// id and its invoice number.
async fn submit_and_pay_by_card(w: &World, h: &Holder, sub: &Subscription, d: &Value) -> (String, String) {
    assert_eq!(d["buyer"]["email"], h.email.as_str());
    let id = d["id"].as_str().unwrap().to_owned();
    // Accept the terms, submit → the hosted payment page.
    let (status, submitted) = w.call(Method::POST, &format!("/renewals/{id}/submit"), &h.access, accept(w)).await;
    assert_eq!(status, StatusCode::OK, "{submitted}");
    assert_eq!(submitted["state"], "awaiting_payment");
    let checkout = submitted["checkout_url"].as_str().unwrap().to_owned();
    assert!(checkout.contains("/_pay/cs_local_"), "{checkout}");
    let stored = stored_renewal(w, &id).await;
    let terms = stored.terms.as_ref().unwrap();
    assert_eq!(
        (terms.version.as_str(), terms.source_ip.as_str()),
        (w.services.config.payments.terms_version.as_str(), "unknown")
    );
    assert!((terms.accepted_at - w.services.now()).abs() < 5);
    // Submitting again (a retry) answers the same page.
    let (_, again) = w.call(Method::POST, &format!("/renewals/{id}/submit"), &h.access, accept(w)).await;
    assert_eq!(again["checkout_url"].as_str(), Some(checkout.as_str()));
    // Pay on the provider's page with the test card: back to the portal.
    let (status, location) = w.pay(&checkout, "4242 4242 4242 4242").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some(format!("{}/renewals/{id}?paid=1", w.services.config.portal_url).as_str()));
    // The subscription is extended by exactly one term; the invoice is numbered.
    let (_, paid) = w.call(Method::GET, &format!("/renewals/{id}"), &h.access, Value::Null).await;
    assert_eq!(paid["state"], "paid", "{paid}");
    let n = number(w, 1);
    assert_eq!(paid["invoice_number"], n.as_str());
    let renewed = stored_subscription(w, &sub.id).await;
    assert_eq!(renewed.term_end, calendar::add_months(sub.term_end, 12));
    assert_eq!(paid["term_end"], renewed.term_end);
    (id, n)
}

/// The receipt is emailed; the invoice and the receipt read back as JSON and as PDF.
async fn the_receipt_invoice_and_pdfs_say_what_was_paid(w: &World, h: &Holder, n: &str) {
    // The receipt is emailed, in the account's language.
    let receipt = w.last_to(&h.email).await;
    assert!(receipt.body.contains(n) && receipt.body.contains("114.98 CAD"), "{}", receipt.body);
    // Invoice and receipt as JSON.
    let (status, inv) = w.call(Method::GET, &format!("/invoices/{n}"), &h.access, Value::Null).await;
    assert_eq!(status, StatusCode::OK, "{inv}");
    assert_eq!((inv["total"].as_str(), inv["settlement"]["status"].as_str()), (Some("114.98"), Some("paid")));
    assert_eq!(inv["lines"][0]["code"], "CLOUD-SIG-1Y");
    let (status, rec) = w.call(Method::GET, &format!("/invoices/{n}/receipt"), &h.access, Value::Null).await;
    assert_eq!(status, StatusCode::OK, "{rec}");
    assert_eq!((rec["amount"].as_str(), rec["currency"].as_str()), (Some("114.98"), Some("CAD")));
    assert!(rec["reference"].as_str().unwrap().starts_with("pi_local_"));
    // The PDF, read back with pdftotext: its number, its line, its taxes and totals.
    let (status, kind, pdf) = get_bytes(w, &format!("/invoices/{n}/pdf"), &h.access).await;
    assert_eq!((status, kind.as_str()), (StatusCode::OK, "application/pdf"));
    let text = pdftotext(&pdf);
    for expected in [
        format!("Invoice {n}"),
        "Cloud signature – 1 year (CLOUD-SIG-1Y)".to_owned(),
        "100.00 CAD".into(),
        "GST (5 %)".into(),
        "5.00 CAD".into(),
        "QST (9.975 %)".into(),
        "9.98 CAD".into(),
        "114.98 CAD".into(),
    ] {
        assert!(text.contains(&expected), "{expected:?} not in:\n{text}");
    }
    // The seller's registration numbers for both taxes (the shipped catalogue's examples).
    for expected in ["GST/HST No. 000000000 RT 0000 (EXAMPLE)", "QST No. 0000000000 TQ 0000 (EXAMPLE)"] {
        assert!(text.contains(expected), "{expected:?} not in:\n{text}");
    }
    assert!(!text.contains("VAT No."), "no VAT number on a Québec invoice:\n{text}");
    let (status, _, receipt_pdf) = get_bytes(w, &format!("/invoices/{n}/receipt/pdf"), &h.access).await;
    assert_eq!(status, StatusCode::OK);
    let text = pdftotext(&receipt_pdf);
    assert!(text.contains("Transaction receipt") && text.contains(n) && text.contains("114.98 CAD"), "{text}");
}

async fn a_declined_card_extends_nothing_and_uses_no_number(w: World) {
    let h = holder(&w, "declined").await;
    let sub = subscription_of(&w, &h, 5).await;
    let d = draft(
        &w,
        &h,
        &sub.id,
        json!({"product": "CLOUD-SIG-1Y", "payment_mode": "card", "billing": {"country": "CA", "region": "ON"}}),
    )
    .await;
    let id = d["id"].as_str().unwrap();
    let (_, submitted) = w.call(Method::POST, &format!("/renewals/{id}/submit"), &h.access, accept(&w)).await;
    let checkout = submitted["checkout_url"].as_str().unwrap();
    let (status, location) = w.pay(checkout, LOCAL_CARD_DECLINED).await;
    assert_eq!((status, location), (StatusCode::PAYMENT_REQUIRED, None));
    assert_eq!(stored_renewal(&w, id).await.state, RenewalState::AwaitingPayment);
    assert_eq!(stored_subscription(&w, &sub.id).await.term_end, sub.term_end, "nothing extended");
    assert_eq!(counter(&w).await, None, "no invoice number used");
    // While its checkout is open, no other renewal of the subscription may start.
    let (status, busy) = w
        .call(
            Method::POST,
            &format!("/subscriptions/{}/renewals", sub.id),
            &h.access,
            json!({"product": "CLOUD-SIG-1Y", "payment_mode": "card", "billing": {"country": "CA", "region": "ON"}}),
        )
        .await;
    assert_eq!((status, busy["code"].as_str()), (StatusCode::CONFLICT, Some("renewal_in_progress")));
    // Giving up on the page: the provider's "expired" event abandons the renewal.
    let (status, _) = w.pay(checkout, "cancel").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(stored_renewal(&w, id).await.state, RenewalState::Abandoned);
    let (status, closed) = w.call(Method::POST, &format!("/renewals/{id}/submit"), &h.access, accept(&w)).await;
    assert_eq!((status, closed["code"].as_str()), (StatusCode::CONFLICT, Some("renewal_closed")));
    assert_eq!(counter(&w).await, None);
    // A new renewal paid afterwards gets the first number of the series.
    let d = draft(
        &w,
        &h,
        &sub.id,
        json!({"product": "CLOUD-SIG-2Y", "payment_mode": "card", "billing": {"country": "CA", "region": "ON"}}),
    )
    .await;
    assert_eq!(d["invoice"]["total"], "209.05", "185.00 + HST 13 %");
    let id = d["id"].as_str().unwrap();
    let (_, submitted) = w.call(Method::POST, &format!("/renewals/{id}/submit"), &h.access, accept(&w)).await;
    let (status, _) = w.pay(submitted["checkout_url"].as_str().unwrap(), LOCAL_CARD_PAYS).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(stored_renewal(&w, id).await.invoice_number, Some(number(&w, 1)));
    assert_eq!(stored_subscription(&w, &sub.id).await.term_end, calendar::add_months(sub.term_end, 24));
}

async fn bill_my_organisation_extends_at_once_and_emails_the_billing_contact(w: World) {
    let h = holder(&w, "member").await;
    let (org, contact) = organisation(&w, true, &[&h], "CA", Some("QC"), None).await;
    let sub = subscription_of(&w, &h, -10).await; // lapsed ten days ago
    let (_, options) = w.call(Method::GET, &format!("/subscriptions/{}/renewal", sub.id), &h.access, Value::Null).await;
    assert_eq!(options["payment_modes"], json!(["card", "organisation"]));
    assert_eq!(options["organisations"], json!([{"id": org, "name": "Example Organisation"}]));
    let d = draft(
        &w,
        &h,
        &sub.id,
        json!({"product": "CLOUD-SIG-1Y", "payment_mode": "organisation", "organisation_id": org}),
    )
    .await;
    assert_eq!(d["buyer"]["name"], "Example Organisation Inc.");
    assert_eq!(d["invoice"]["total"], "114.98");
    let id = d["id"].as_str().unwrap();
    let (status, done) = w.call(Method::POST, &format!("/renewals/{id}/submit"), &h.access, accept(&w)).await;
    assert_eq!(status, StatusCode::CREATED, "{done}");
    assert_eq!(done["state"], "invoiced");
    let n = number(&w, 1);
    assert_eq!(done["invoice_number"], n.as_str());
    // Lapsed: the new term runs a year from now.
    let renewed = stored_subscription(&w, &sub.id).await;
    assert!((renewed.term_end - calendar::add_months(w.services.now(), 12)).abs() < 5, "from now once lapsed");
    // The billing contact gets the invoice, the member the confirmation.
    let notice = w.last_to(&contact).await;
    assert!(
        notice.body.contains(&n)
            && notice.body.contains("Example Organisation Inc.")
            && notice.body.contains("114.98 CAD"),
        "{}",
        notice.body
    );
    assert!(w.last_to(&h.email).await.body.contains(&n));
    let (_, inv) = w.call(Method::GET, &format!("/invoices/{n}"), &h.access, Value::Null).await;
    assert_eq!(inv["settlement"]["status"], "due");
    assert_eq!(inv["payment_mode"], "organisation");
    let (status, none) = w.call(Method::GET, &format!("/invoices/{n}/receipt"), &h.access, Value::Null).await;
    assert_eq!(
        (status, none["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found")),
        "no receipt before the organisation pays"
    );
    let text = pdftotext(&get_bytes(&w, &format!("/invoices/{n}/pdf"), &h.access).await.2);
    assert!(text.contains("Payable by the organisation by") && text.contains("Example Organisation Inc."), "{text}");
    // Submitting again changes nothing and sends nothing more.
    let (status, again) = w.call(Method::POST, &format!("/renewals/{id}/submit"), &h.access, accept(&w)).await;
    assert_eq!((status, again["invoice_number"].as_str()), (StatusCode::OK, Some(n.as_str())));
    assert_eq!(w.sent_to(&contact).await.len(), 1);
    assert_eq!(stored_subscription(&w, &sub.id).await.term_end, renewed.term_end);
}

async fn a_person_who_is_not_a_member_cannot_bill_the_organisation(w: World) {
    let member = holder(&w, "insider").await;
    let outsider = holder(&w, "outsider").await;
    let (org, contact) = organisation(&w, true, &[&member], "CA", Some("QC"), None).await;
    let (closed_org, _) = organisation(&w, false, &[&outsider], "CA", Some("QC"), None).await;
    let sub = subscription_of(&w, &outsider, 20).await;
    let (_, options) =
        w.call(Method::GET, &format!("/subscriptions/{}/renewal", sub.id), &outsider.access, Value::Null).await;
    assert_eq!(options["payment_modes"], json!(["card"]), "no organisation the outsider may bill");
    for target in [&org, &closed_org] {
        let (status, refused) = w
            .call(
                Method::POST,
                &format!("/subscriptions/{}/renewals", sub.id),
                &outsider.access,
                json!({"product": "CLOUD-SIG-1Y", "payment_mode": "organisation", "organisation_id": target}),
            )
            .await;
        assert_eq!(
            (status, refused["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("payment_mode_unavailable")),
            "{refused}"
        );
    }
    // Nor may anyone renew a subscription that is not theirs.
    let (status, _) = w
        .call(
            Method::POST,
            &format!("/subscriptions/{}/renewals", sub.id),
            &member.access,
            json!({"product": "CLOUD-SIG-1Y", "payment_mode": "organisation", "organisation_id": org}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(w.sent_to(&contact).await.is_empty());
    assert_eq!(counter(&w).await, None);
}

async fn paid_by_card(w: &World, h: &Holder, sub: &Subscription) -> Renewal {
    let d = draft(
        w,
        h,
        &sub.id,
        json!({"product": "CLOUD-SIG-1Y", "payment_mode": "card", "billing": {"country": "CA", "region": "QC"}}),
    )
    .await;
    let id = d["id"].as_str().unwrap().to_owned();
    let (status, submitted) = w.call(Method::POST, &format!("/renewals/{id}/submit"), &h.access, accept(w)).await;
    assert_eq!(status, StatusCode::OK, "{submitted}");
    stored_renewal(w, &id).await
}

async fn the_webhook_twice_late_racing_or_badly_signed_extends_once(w: World) {
    let h = holder(&w, "webhooks").await;
    let sub = subscription_of(&w, &h, 20).await;
    let r = paid_by_card(&w, &h, &sub).await;
    let body = checkout_event("checkout.session.completed", &r, r.amounts.total);
    let now = w.services.now();
    // A bad signature, another secret, a stale one: refused, nothing changes.
    for signature in [
        "t=1,v1=00".to_owned(),
        webhook_signature::sign(b"whsec_another", now, &body),
        webhook_signature::sign(WEBHOOK_SECRET.as_bytes(), now - 600, &body),
        String::new(),
    ] {
        let (status, refused) = deliver(&w, &body, &signature).await;
        assert_eq!(
            (status, refused["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("webhook_signature_invalid")),
            "{signature}"
        );
    }
    assert_eq!(stored_renewal(&w, &r.id).await.state, RenewalState::AwaitingPayment);
    // A well-signed event whose amount differs is not fulfilled.
    let wrong = checkout_event("checkout.session.completed", &r, r.amounts.total - 1);
    let (status, mismatch) =
        deliver(&w, &wrong, &webhook_signature::sign(WEBHOOK_SECRET.as_bytes(), now, &wrong)).await;
    assert_eq!((status, mismatch["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("payment_mismatch")));
    let recorded = w.services.store.query(&format!("AUDIT#renewal:{}", r.id), "", 10).await.unwrap();
    assert_eq!(recorded.len(), 1, "the unmatched payment is recorded for reconciliation");
    assert_eq!(recorded[0].decode::<Value>().unwrap()["action"], "payment.unmatched");
    // Delivered five times at once, racing five retries of the submit: one extension.
    let signature = webhook_signature::sign(WEBHOOK_SECRET.as_bytes(), now, &body);
    let mut tasks = Vec::new();
    for i in 0..10 {
        let (app, body, signature, access, id) =
            (w.app.clone(), body.clone(), signature.clone(), h.access.clone(), r.id.clone());
        let submit = accept(&w).to_string();
        tasks.push(tokio::spawn(async move {
            use tower::ServiceExt;
            let request = if i % 2 == 0 {
                axum::http::Request::post("/payments/webhook")
                    .header("content-type", "application/json")
                    .header("stripe-signature", signature)
                    .body(axum::body::Body::from(body))
                    .unwrap()
            } else {
                axum::http::Request::post(format!("/renewals/{id}/submit"))
                    .header("content-type", "application/json")
                    .header("authorization", format!("Bearer {access}"))
                    .body(axum::body::Body::from(submit))
                    .unwrap()
            };
            app.oneshot(request).await.unwrap().status()
        }));
    }
    for t in tasks {
        assert!(t.await.unwrap().is_success());
    }
    let done = stored_renewal(&w, &r.id).await;
    assert_eq!((done.state, done.invoice_number.clone()), (RenewalState::Paid, Some(number(&w, 1))));
    assert_eq!(stored_subscription(&w, &sub.id).await.term_end, calendar::add_months(sub.term_end, 12));
    // Late: a day after, redelivered (freshly signed, as the provider does): nothing more.
    w.clock.advance(86400);
    let (status, answer) =
        deliver(&w, &body, &webhook_signature::sign(WEBHOOK_SECRET.as_bytes(), w.services.now(), &body)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(
        stored_subscription(&w, &sub.id).await.term_end,
        calendar::add_months(sub.term_end, 12),
        "extended exactly once"
    );
    assert_eq!(counter(&w).await, Some(2), "one number used");
    let receipts = w.sent_to(&h.email).await.into_iter().filter(|m| m.subject.contains("receipt")).count();
    assert_eq!(receipts, 1, "one receipt");
    // An event of another kind is acknowledged and ignored.
    let other =
        serde_json::to_vec(&json!({"id": "evt_x", "type": "customer.created", "data": {"object": {"id": "cus_1"}}}))
            .unwrap();
    let (status, ignored) =
        deliver(&w, &other, &webhook_signature::sign(WEBHOOK_SECRET.as_bytes(), w.services.now(), &other)).await;
    assert_eq!((status, ignored["outcome"].as_str()), (StatusCode::OK, Some("not_a_renewal")));
}

async fn the_terms_of_sale_must_be_accepted(w: World) {
    let h = holder(&w, "terms").await;
    let sub = subscription_of(&w, &h, 20).await;
    let d = draft(
        &w,
        &h,
        &sub.id,
        json!({"product": "CLOUD-SIG-1Y", "payment_mode": "card", "billing": {"country": "FR"}}),
    )
    .await;
    let id = d["id"].as_str().unwrap();
    for body in [
        json!({"accept_terms": false, "terms_version": w.services.config.payments.terms_version}),
        json!({"accept_terms": true, "terms_version": "2019-01"}),
    ] {
        let (status, refused) = w.call(Method::POST, &format!("/renewals/{id}/submit"), &h.access, body).await;
        assert_eq!(
            (status, refused["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("terms_not_accepted")),
            "{refused}"
        );
    }
    let (status, _) =
        w.call(Method::POST, &format!("/renewals/{id}/submit"), &h.access, json!({"terms_version": "x"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "accept_terms is required");
    let stored = stored_renewal(&w, id).await;
    assert_eq!((stored.state, stored.terms, stored.checkout), (RenewalState::Draft, None, None), "nothing submitted");
}

async fn a_mail_failure_leaves_the_receipt_to_the_next_delivery(w: World) {
    let h = holder(&w, "mailfail").await;
    let sub = subscription_of(&w, &h, 20).await;
    let r = paid_by_card(&w, &h, &sub).await;
    let body = checkout_event("checkout.session.completed", &r, r.amounts.total);
    let before = w.sent_to(&h.email).await.len();
    w.faults.mail.store(1, std::sync::atomic::Ordering::SeqCst);
    let (status, failed) =
        deliver(&w, &body, &webhook_signature::sign(WEBHOOK_SECRET.as_bytes(), w.services.now(), &body)).await;
    assert_eq!(
        (status, failed["code"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("delivery_failed")),
        "the provider will deliver again"
    );
    assert_eq!(stored_renewal(&w, &r.id).await.state, RenewalState::Paid, "the payment is recorded");
    assert_eq!(w.sent_to(&h.email).await.len(), before);
    let (status, _) =
        deliver(&w, &body, &webhook_signature::sign(WEBHOOK_SECRET.as_bytes(), w.services.now(), &body)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(w.sent_to(&h.email).await.len(), before + 1, "the receipt, once");
    assert_eq!(stored_subscription(&w, &sub.id).await.term_end, calendar::add_months(sub.term_end, 12));
    assert_eq!(counter(&w).await, Some(2));
}

async fn fifty_racing_renewals_are_numbered_without_gap(w: World) {
    let h = holder(&w, "fifty").await;
    let (org, _) = organisation(&w, true, &[&h], "FR", None, None).await;
    let mut ids = Vec::new();
    for _ in 0..50 {
        let sub = subscription_of(&w, &h, 20).await;
        let d = draft(
            &w,
            &h,
            &sub.id,
            json!({"product": "CLOUD-SIG-1Y", "payment_mode": "organisation", "organisation_id": org}),
        )
        .await;
        assert_eq!(
            (d["invoice"]["currency"].as_str(), d["invoice"]["total"].as_str()),
            (Some("EUR"), Some("82.80")),
            "69.00 + VAT 20 %"
        );
        ids.push(d["id"].as_str().unwrap().to_owned());
    }
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(ids.len()));
    let tasks: Vec<_> = ids
        .iter()
        .map(|id| {
            let (app, start, access, id, body) =
                (w.app.clone(), start.clone(), h.access.clone(), id.clone(), accept(&w).to_string());
            tokio::spawn(async move {
                use tower::ServiceExt;
                let request = axum::http::Request::post(format!("/renewals/{id}/submit"))
                    .header("content-type", "application/json")
                    .header("authorization", format!("Bearer {access}"))
                    .body(axum::body::Body::from(body))
                    .unwrap();
                start.wait().await;
                let response = app.oneshot(request).await.unwrap();
                let status = response.status();
                let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
                (status, serde_json::from_slice::<Value>(&bytes).unwrap())
            })
        })
        .collect();
    let mut numbers = Vec::new();
    for t in tasks {
        let (status, body) = t.await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{body}");
        numbers.push(body["invoice_number"].as_str().unwrap().to_owned());
    }
    numbers.sort();
    let expected: Vec<String> = (1..=50).map(|n| number(&w, n)).collect();
    assert_eq!(numbers, expected, "1 to 50, no gap, no duplicate");
    assert_eq!(counter(&w).await, Some(51));
}

async fn taxes_follow_the_buyer_s_jurisdiction(w: World) {
    let h = holder(&w, "taxes").await;
    let sub = subscription_of(&w, &h, 20).await;
    let cases = [
        (
            json!({"country": "CA", "region": "QC"}),
            "CLOUD-SIG-3Y",
            "CAD",
            "259.99",
            vec![("GST", "13.00"), ("QST", "25.93")],
            "298.92",
            false,
        ),
        (json!({"country": "fr"}), "CLOUD-SIG-1Y", "EUR", "69.00", vec![("VAT", "13.80")], "82.80", false),
        (
            json!({"country": "DE", "vat_number": "DE 123 456 789", "name": "Example GmbH"}),
            "CLOUD-SIG-1Y",
            "EUR",
            "69.00",
            vec![],
            "69.00",
            true,
        ),
        (json!({"country": "US", "region": "NY"}), "CLOUD-SIG-1Y", "EUR", "69.00", vec![], "69.00", false),
    ];
    for (billing, product, currency, subtotal, taxes, total, reverse) in cases {
        let d = draft(&w, &h, &sub.id, json!({"product": product, "payment_mode": "card", "billing": billing})).await;
        let inv = &d["invoice"];
        assert_eq!(
            (inv["currency"].as_str(), inv["subtotal"].as_str(), inv["total"].as_str()),
            (Some(currency), Some(subtotal), Some(total)),
            "{d}"
        );
        let got: Vec<(String, String)> = inv["taxes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| (t["code"].as_str().unwrap().to_owned(), t["amount"].as_str().unwrap().to_owned()))
            .collect();
        assert_eq!(got, taxes.iter().map(|(c, a)| (c.to_string(), a.to_string())).collect::<Vec<_>>());
        assert_eq!(inv["reverse_charge_mention"].is_string(), reverse, "{d}");
    }
}

async fn bad_input_is_refused_clearly(w: World) {
    let h = holder(&w, "badinput").await;
    let sub = subscription_of(&w, &h, 20).await;
    let path = format!("/subscriptions/{}/renewals", sub.id);
    let cases = [
        (
            json!({"product": "NOPE", "payment_mode": "card", "billing": {"country": "CA", "region": "QC"}}),
            "invalid_request",
        ),
        (json!({"product": "CLOUD-SIG-1Y", "payment_mode": "cheque"}), "invalid_request"),
        (json!({"product": "CLOUD-SIG-1Y", "payment_mode": "card"}), "billing_address_required"),
        (
            json!({"product": "CLOUD-SIG-1Y", "payment_mode": "card", "billing": {"country": "CA"}}),
            "billing_address_required",
        ),
        (
            json!({"product": "CLOUD-SIG-1Y", "payment_mode": "card", "billing": {"country": "Canada"}}),
            "billing_address_required",
        ),
        (json!({"product": "CLOUD-SIG-1Y", "payment_mode": "organisation"}), "invalid_request"),
        // The name printed on the invoice: no direction overrides nor invisible characters.
        (
            json!({"product": "CLOUD-SIG-1Y", "payment_mode": "card", "billing": {"country": "CA", "region": "QC", "name": "Example Inc.\u{202E}"}}),
            "name_characters_not_allowed",
        ),
        (
            json!({"product": "CLOUD-SIG-1Y", "payment_mode": "card", "billing": {"country": "CA", "region": "QC", "name": "x".repeat(201)}}),
            "invalid_name",
        ),
    ];
    for (body, code) in cases {
        let (status, refused) = w.call(Method::POST, &path, &h.access, body.clone()).await;
        assert_eq!(refused["code"], code, "{body} → {refused}");
        assert!(status.is_client_error());
    }
    let (status, _) = w.call(Method::GET, "/invoices/..%2F..", &h.access, Value::Null).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = w.call(Method::GET, "/renewals/unknown", &h.access, Value::Null).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Ids that cannot be ours, however long or strange, are simply not found.
    for path in [
        format!("/renewals/{}", "a".repeat(3000)),
        format!("/subscriptions/{}/renewal", "b".repeat(3000)),
        "/renewals/%FF%FE".to_owned(),
    ] {
        let (status, _, problem) =
            w.send(Method::GET, &path, &[("authorization", &format!("Bearer {}", h.access))], vec![]).await;
        assert!(status == StatusCode::NOT_FOUND || status == StatusCode::UNPROCESSABLE_ENTITY, "{path}: {status}");
        assert!(problem["code"].is_string(), "{path}: a problem+json answer, not {problem}");
    }
    let big = vec![b'x'; 70 * 1024];
    let (status, _, problem) = w
        .send(
            Method::POST,
            "/payments/webhook",
            &[("content-type", "application/json"), ("stripe-signature", "t=1,v1=00")],
            big,
        )
        .await;
    assert_eq!((status, problem["code"].as_str()), (StatusCode::PAYLOAD_TOO_LARGE, Some("payload_too_large")));
    let (status, refused) =
        deliver(&w, b"not json", &webhook_signature::sign(WEBHOOK_SECRET.as_bytes(), w.services.now(), b"not json"))
            .await;
    assert_eq!((status, refused["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_request")));
    let (status, _) = w.call(Method::GET, &format!("/subscriptions/{}/renewal", sub.id), "garbage", Value::Null).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn renewal_steps_are_counted(w: World) {
    let h = holder(&w, "counted").await;
    let (org, _) = organisation(&w, true, &[&h], "CA", Some("QC"), None).await;
    let sub = subscription_of(&w, &h, 20).await;
    let calls = &w.faults.calls;
    calls.take();
    let d = draft(
        &w,
        &h,
        &sub.id,
        json!({"product": "CLOUD-SIG-1Y", "payment_mode": "card", "billing": {"country": "CA", "region": "QC"}}),
    )
    .await;
    let draft_calls = calls.take();
    let id = d["id"].as_str().unwrap();
    let (_, submitted) = w.call(Method::POST, &format!("/renewals/{id}/submit"), &h.access, accept(&w)).await;
    let submit_calls = calls.take();
    let r = stored_renewal(&w, id).await;
    calls.take();
    let body = checkout_event("checkout.session.completed", &r, r.amounts.total);
    let (status, _) =
        deliver(&w, &body, &webhook_signature::sign(WEBHOOK_SECRET.as_bytes(), w.services.now(), &body)).await;
    assert_eq!(status, StatusCode::OK);
    let webhook_calls = calls.take();
    let d = draft(
        &w,
        &h,
        &sub.id,
        json!({"product": "CLOUD-SIG-1Y", "payment_mode": "organisation", "organisation_id": org}),
    )
    .await;
    calls.take();
    let (status, _) =
        w.call(Method::POST, &format!("/renewals/{}/submit", d["id"].as_str().unwrap()), &h.access, accept(&w)).await;
    assert_eq!(status, StatusCode::CREATED);
    let org_calls = calls.take();
    assert!(submitted["checkout_url"].is_string());
    println!("calls (reads, writes, key calls, messages): draft {draft_calls:?}, card submit {submit_calls:?}, webhook {webhook_calls:?}, organisation submit {org_calls:?}");
    // The counts in the README; a change that adds calls shows here.
    assert_eq!(draft_calls, (3, 1, 0, 0), "draft: session and person (live, one batch), subscription and its renewal lock (one query), person and memberships (one query); the renewal");
    assert_eq!(submit_calls, (3, 1, 0, 0), "card submit: session and person (live, one batch), the renewal, subscription and lock (one query); renewal, session id, terms, lock and audit in one transaction (plus the provider's one call)");
    assert_eq!(webhook_calls, (3, 2, 0, 1), "webhook: renewal, subscription and lock (one query), invoice counter; the fulfilment's transaction, then the receipt recorded as sent");
    assert_eq!(org_calls, (6, 2, 0, 2), "organisation submit: live (one batch), renewal, membership, organisation, subscription and lock (one query), counter; the fulfilment's transaction, then the notices recorded as sent");
}

async fn one_open_checkout_per_subscription(w: World) {
    let h = holder(&w, "oneatatime").await;
    let (org, contact) = organisation(&w, true, &[&h], "CA", Some("QC"), None).await;
    let sub = subscription_of(&w, &h, 20).await;
    // An organisation draft, then a card renewal submitted: the card checkout holds the
    // subscription, and the organisation's invoice is refused (it would renew twice).
    let by_org = draft(
        &w,
        &h,
        &sub.id,
        json!({"product": "CLOUD-SIG-1Y", "payment_mode": "organisation", "organisation_id": org}),
    )
    .await;
    let card = paid_by_card(&w, &h, &sub).await;
    let (status, refused) = w
        .call(Method::POST, &format!("/renewals/{}/submit", by_org["id"].as_str().unwrap()), &h.access, accept(&w))
        .await;
    assert_eq!((status, refused["code"].as_str()), (StatusCode::CONFLICT, Some("renewal_in_progress")), "{refused}");
    assert!(w.sent_to(&contact).await.is_empty());
    assert_eq!(counter(&w).await, None);
    // The checkout expires unpaid a day later: the page refuses it, the portal is told, and
    // the subscription is free again.
    w.clock.advance(renewal::CHECKOUT_TTL + 1);
    let (status, _) = w.pay(&card.checkout.as_ref().unwrap().url, LOCAL_CARD_PAYS).await;
    assert_eq!(status, StatusCode::GONE);
    assert_eq!(stored_renewal(&w, &card.id).await.state, RenewalState::Abandoned);
    let access = log_in(&w, &h.email, &h.phone).await;
    let (status, done) = w
        .call(Method::POST, &format!("/renewals/{}/submit", by_org["id"].as_str().unwrap()), &access, accept(&w))
        .await;
    assert_eq!((status, done["state"].as_str()), (StatusCode::CREATED, Some("invoiced")), "{done}");
    assert_eq!(stored_subscription(&w, &sub.id).await.term_end, calendar::add_months(sub.term_end, 12), "renewed once");
}

async fn without_a_payment_provider_card_is_not_offered(mut w: World) {
    let h = holder(&w, "nocard").await;
    let sub = subscription_of(&w, &h, 20).await;
    // As deployed without SIGNET_STRIPE_SECRET_KEY.
    w.services.payments = std::sync::Arc::new(Unconfigured);
    w.app = signet_shared::web::finish(signet_local::api_routes(w.services.clone()), "test", false);
    let (_, options) = w.call(Method::GET, &format!("/subscriptions/{}/renewal", sub.id), &h.access, Value::Null).await;
    assert_eq!(options["payment_modes"], json!([]));
    let (status, refused) = w
        .call(
            Method::POST,
            &format!("/subscriptions/{}/renewals", sub.id),
            &h.access,
            json!({"product": "CLOUD-SIG-1Y", "payment_mode": "card", "billing": {"country": "FR"}}),
        )
        .await;
    assert_eq!((status, refused["code"].as_str()), (StatusCode::FORBIDDEN, Some("payment_mode_unavailable")));
    let body = br#"{"type":"checkout.session.completed","data":{"object":{"id":"cs_1"}}}"#;
    let (status, refused) =
        deliver(&w, body, &webhook_signature::sign(WEBHOOK_SECRET.as_bytes(), w.services.now(), body)).await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("webhook_signature_invalid")),
        "no secret: every webhook refused"
    );
}

async fn giving_up_a_checkout_frees_the_subscription_at_once(w: World) {
    let h = holder(&w, "changedmind").await;
    let sub = subscription_of(&w, &h, 20).await;
    let r = paid_by_card(&w, &h, &sub).await;
    let (status, cancelled) = w.call(Method::POST, &format!("/renewals/{}/cancel", r.id), &h.access, Value::Null).await;
    assert_eq!((status, cancelled["state"].as_str()), (StatusCode::OK, Some("abandoned")), "{cancelled}");
    // The provider's session takes no payment any more.
    let (status, _) = w.pay(&r.checkout.as_ref().unwrap().url, LOCAL_CARD_PAYS).await;
    assert_eq!(status, StatusCode::GONE);
    assert_eq!(stored_subscription(&w, &sub.id).await.term_end, sub.term_end);
    // Cancelling again says the same; a new renewal may start at once and be paid.
    let (status, _) = w.call(Method::POST, &format!("/renewals/{}/cancel", r.id), &h.access, Value::Null).await;
    assert_eq!(status, StatusCode::OK);
    let again = paid_by_card(&w, &h, &sub).await;
    let (status, _) = w.pay(&again.checkout.as_ref().unwrap().url, LOCAL_CARD_PAYS).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    // A paid renewal is not cancelled.
    let (status, refused) =
        w.call(Method::POST, &format!("/renewals/{}/cancel", again.id), &h.access, Value::Null).await;
    assert_eq!((status, refused["code"].as_str()), (StatusCode::CONFLICT, Some("conflict")));
    assert_eq!(stored_subscription(&w, &sub.id).await.term_end, calendar::add_months(sub.term_end, 12));
    assert_eq!(counter(&w).await, Some(2), "one number, for the paid one");
    // A renewal drafted before another one extended the term is stale.
    let stale = draft(
        &w,
        &h,
        &sub.id,
        json!({"product": "CLOUD-SIG-1Y", "payment_mode": "card", "billing": {"country": "CA", "region": "QC"}}),
    )
    .await;
    let other = paid_by_card(&w, &h, &sub).await;
    let (status, _) = w.pay(&other.checkout.as_ref().unwrap().url, LOCAL_CARD_PAYS).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, closed) = w
        .call(Method::POST, &format!("/renewals/{}/submit", stale["id"].as_str().unwrap()), &h.access, accept(&w))
        .await;
    assert_eq!((status, closed["code"].as_str()), (StatusCode::CONFLICT, Some("renewal_closed")));
}

async fn a_french_speaking_buyer_gets_a_french_invoice_and_receipt(w: World) {
    let h = holder(&w, "francophone").await;
    // The account's language is French (set as the profile page would).
    let item = w.services.store.get(&keys::person(&h.person.id)).await.unwrap().unwrap();
    let mut person: Person = item.decode().unwrap();
    person.locale = signet_shared::Locale::Fr;
    w.services.store.write(Write::replace(item.next(&person).unwrap())).await.unwrap();
    let sub = subscription_of(&w, &h, 20).await;
    let r = paid_by_card(&w, &h, &sub).await;
    let (status, _) = w.pay(&r.checkout.as_ref().unwrap().url, LOCAL_CARD_PAYS).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let n = number(&w, 1);
    let receipt = w.last_to(&h.email).await;
    assert_eq!(receipt.subject, "Reçu de transaction");
    assert!(receipt.body.contains("Nous avons bien reçu votre paiement de 114.98 CAD"), "{}", receipt.body);
    let text = pdftotext(&get_bytes(&w, &format!("/invoices/{n}/pdf"), &h.access).await.2);
    for expected in [
        format!("Facture {n}"),
        "Signature infonuagique – 1 an (CLOUD-SIG-1Y)".to_owned(),
        "TPS (5 %)".into(),
        "TVQ (9,975 %)".into(),
        "9,98 CAD".into(),
        "114,98 CAD".into(),
        "Payée par carte le".into(),
        "Facturé à".into(),
    ] {
        assert!(text.contains(&expected), "{expected:?} not in:\n{text}");
    }
    let text = pdftotext(&get_bytes(&w, &format!("/invoices/{n}/receipt/pdf"), &h.access).await.2);
    assert!(text.contains("Reçu de transaction") && text.contains("Montant payé : 114,98 CAD"), "{text}");
}

async fn notices_left_by_a_crashed_sender_are_sent_once_by_the_next_run(w: World) {
    let h = holder(&w, "crashed").await;
    let (org, contact) = organisation(&w, true, &[&h], "CA", Some("QC"), None).await;
    let sub = subscription_of(&w, &h, 20).await;
    let card = paid_by_card(&w, &h, &sub).await;
    let other = subscription_of(&w, &h, 20).await;
    let d = draft(
        &w,
        &h,
        &other.id,
        json!({"product": "CLOUD-SIG-1Y", "payment_mode": "organisation", "organisation_id": org}),
    )
    .await;
    let org_renewal = stored_renewal(&w, d["id"].as_str().unwrap()).await;
    // Both fulfilled, as a webhook and a submit do, and then the process dies before any
    // email: the fulfilment holds the claim on the notices.
    let context =
        signet_shared::domain::audit::RequestContext { source_ip: "203.0.113.10".into(), request_id: "crash".into() };
    renewal::fulfil(&w.services, &context, &card.id, None, &renewal::Payment::Card { reference: "pi_crash".into() })
        .await
        .unwrap();
    let terms = renewal::TermsAcceptance {
        version: w.services.config.payments.terms_version.clone(),
        accepted_at: w.services.now(),
        source_ip: "203.0.113.10".into(),
    };
    renewal::fulfil(&w.services, &context, &org_renewal.id, None, &renewal::Payment::Organisation { terms })
        .await
        .unwrap();
    let before = (w.sent_to(&h.email).await.len(), w.sent_to(&contact).await.len());
    // Within the lease, the run leaves them to the sender that holds them.
    assert_eq!(renewal::send_pending_notices(&w.services).await.unwrap(), 0);
    // A redelivery of the webhook within the lease does not send twice either.
    let body = checkout_event("checkout.session.completed", &card, card.amounts.total);
    let (status, _) =
        deliver(&w, &body, &webhook_signature::sign(WEBHOOK_SECRET.as_bytes(), w.services.now(), &body)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((w.sent_to(&h.email).await.len(), w.sent_to(&contact).await.len()), before);
    // Once the lease has lapsed, the scheduled run sends each notice, once.
    w.clock.advance(renewal::NOTICE_LEASE + 1);
    assert_eq!(renewal::send_pending_notices(&w.services).await.unwrap(), 2);
    assert_eq!(w.sent_to(&h.email).await.len(), before.0 + 2, "the receipt and the member's confirmation");
    assert_eq!(w.sent_to(&contact).await.len(), before.1 + 1, "the organisation's invoice");
    assert_eq!(renewal::send_pending_notices(&w.services).await.unwrap(), 0, "nothing left");
    w.clock.advance(renewal::NOTICE_LEASE + 1);
    assert_eq!(renewal::send_pending_notices(&w.services).await.unwrap(), 0);
    assert!(w.services.store.query("NOTICEPENDING", "", 10).await.unwrap().is_empty());
    assert_eq!(w.sent_to(&h.email).await.len(), before.0 + 2);
}

/// The Stripe adapter on the wire, against a loopback stand-in for `api.stripe.com` that
/// records what it receives (no Stripe account is reachable from the tests): the secret key
/// as bearer, the idempotency key, the documented Checkout Session form; Stripe's answer
/// read back; an error answer is a retryable failure that never echoes the key.
#[tokio::test]
async fn the_stripe_adapter_opens_a_checkout_session_over_https_api_calls() {
    use signet_shared::config::{Secret, StripeSettings};
    use signet_shared::ports::payments::{CheckoutRequest, PaymentProvider};
    use std::sync::{Arc, Mutex};
    let seen: Arc<Mutex<Vec<(axum::http::HeaderMap, String)>>> = Arc::default();
    let recorder = seen.clone();
    let app = axum::Router::new()
        .route("/v1/checkout/sessions/cs_test_a1/expire", axum::routing::post(|| async { (StatusCode::OK, r#"{"id":"cs_test_a1","status":"expired"}"#) }))
        .route("/v1/checkout/sessions/cs_test_paid/expire", axum::routing::post(|| async { (StatusCode::BAD_REQUEST, r#"{"error":{"type":"invalid_request_error"}}"#) }))
        .route("/v1/checkout/sessions/cs_test_paid", axum::routing::get(|| async { (StatusCode::OK, r#"{"id":"cs_test_paid","status":"complete"}"#) }))
        .route(
        "/v1/checkout/sessions",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let recorder = recorder.clone();
            async move {
                let fail = body.contains("unit_amount%5D=0&");
                recorder.lock().unwrap().push((headers, body));
                if fail {
                    return (StatusCode::BAD_REQUEST, r#"{"error":{"type":"invalid_request_error","param":"line_items[0][price_data][unit_amount]"}}"#.to_owned());
                }
                (StatusCode::OK, r#"{"id":"cs_test_a1","object":"checkout.session","url":"https://checkout.stripe.com/c/pay/cs_test_a1"}"#.to_owned())
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let stripe = Stripe::new(
        &StripeSettings { secret_key: Secret("sk_test_scenario".into()), api_url: url },
        Some(&Secret("whsec_x".into())),
    );
    let mut request = CheckoutRequest {
        idempotency_key: "renewal-r1".into(),
        renewal_id: "r1".into(),
        amount: 11_498,
        currency: "CAD".into(),
        description: "Cloud signature – 1 year".into(),
        customer_email: "buyer@example.com".into(),
        locale: signet_shared::Locale::En,
        success_url: "https://portal.example.com/renewals/r1?paid=1".into(),
        cancel_url: "https://portal.example.com/renewals/r1".into(),
        expires_at: 1_795_086_340,
    };
    let checkout = stripe.create_checkout(&request).await.unwrap();
    assert_eq!(
        (checkout.session_id.as_str(), checkout.url.as_str()),
        ("cs_test_a1", "https://checkout.stripe.com/c/pay/cs_test_a1")
    );
    let (headers, body) = seen.lock().unwrap()[0].clone();
    assert_eq!(headers["authorization"], "Bearer sk_test_scenario");
    assert_eq!(headers["idempotency-key"], "renewal-r1");
    assert_eq!(headers["content-type"], "application/x-www-form-urlencoded");
    for field in [
        "mode=payment",
        "client_reference_id=r1",
        "line_items%5B0%5D%5Bprice_data%5D%5Bunit_amount%5D=11498",
        "line_items%5B0%5D%5Bprice_data%5D%5Bcurrency%5D=cad",
        "customer_email=buyer%40example.com",
    ] {
        assert!(body.split('&').any(|f| f == field), "{field} not in {body}");
    }
    assert_eq!(stripe.webhook_secret(), Some(&b"whsec_x"[..]));
    assert_eq!(stripe.expire_checkout("cs_test_a1").await.unwrap(), payments::Expiry::Expired);
    assert_eq!(stripe.expire_checkout("cs_test_paid").await.unwrap(), payments::Expiry::Paid, "paid first: not undone");
    request.amount = 0;
    let e = stripe.create_checkout(&request).await.unwrap_err();
    assert_eq!(e.code, signet_shared::ErrorCode::ServiceUnavailable);
    assert!(!format!("{e:?}").contains("sk_test_scenario"), "the key is never in an error");
}

async fn twenty_presses_of_pay_take_one_payment_and_all_answer_alike(w: World) {
    let h = holder(&w, "impatient").await;
    let sub = subscription_of(&w, &h, 20).await;
    let r = paid_by_card(&w, &h, &sub).await;
    let url = r.checkout.as_ref().unwrap().url.clone();
    let answers = w.pay_concurrently(&url, "4242 4242 4242 4242", 20).await;
    let success = format!("{}/renewals/{}?paid=1", w.services.config.portal_url, r.id);
    for (status, location) in &answers {
        assert!(status.is_redirection(), "every press answers like the first: {answers:?}");
        assert_eq!(location.as_deref(), Some(success.as_str()));
    }
    let paid = stored_renewal(&w, &r.id).await;
    assert_eq!(paid.state, RenewalState::Paid);
    let extended: Subscription =
        w.services.store.get(&keys::subscription(&sub.id)).await.unwrap().unwrap().decode().unwrap();
    assert_eq!(extended.term_end, signet_shared::domain::calendar::add_months(sub.term_end, 12), "one extension");
    let receipts = w
        .sent_to(&h.email)
        .await
        .into_iter()
        .filter(|m| m.subject.contains("eceipt") || m.subject.contains("eçu"))
        .count();
    assert_eq!(receipts, 1, "one receipt");
}

async fn a_deployment_never_invoices_with_the_example_tax_numbers(mut w: World) {
    let h = holder(&w, "examplenumbers").await;
    let (org, _) = organisation(&w, true, &[&h], "CA", Some("QC"), None).await;
    let sub = subscription_of(&w, &h, 20).await;
    assert!(
        signet_shared::domain::billing::catalogue::Catalogue::shipped().unwrap().has_example_registrations(),
        "the demo catalogue's numbers are examples"
    );
    // As deployed (no local payment page): the organisation would be invoiced with them.
    w.services.payments = std::sync::Arc::new(Unconfigured);
    w.app = signet_shared::web::finish(signet_local::api_routes(w.services.clone()), "test", false);
    let (status, refused) = w
        .call(
            Method::POST,
            &format!("/subscriptions/{}/renewals", sub.id),
            &h.access,
            json!({"product": "CLOUD-SIG-1Y", "payment_mode": "organisation", "organisation_id": org}),
        )
        .await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("service_unavailable")),
        "{refused}"
    );
    assert!(refused["detail"].as_str().unwrap().contains("tax registration"), "{refused}");
}
