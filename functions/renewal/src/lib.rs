//! Renew a subscription (seed 000, step 3): the payment modes open to me, a draft invoice
//! with the taxes of the buyer's jurisdiction, the terms of sale accepted and submitted;
//! by card on the payment provider's hosted page (its signed webhook confirms), or billed
//! to an organisation I am a member of. Then invoices and receipts, as JSON and PDF.

mod pdf;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use signet_shared::domain::audit::AuditEvent;
use signet_shared::domain::audit::RequestContext;
use signet_shared::domain::billing::catalogue::{self, Catalogue};
use signet_shared::domain::billing::renewal::{
    self, Amounts, Buyer, Fulfilled, Invoice, Line, Payment, PaymentMode, Renewal, RenewalState, Settlement, TaxAmount,
    TermsAcceptance,
};
use signet_shared::domain::keys;
use signet_shared::domain::people::account::{self, BillingProfile, CustomerSpace, SpaceKind};
use signet_shared::domain::signatures::subscription::Subscription;
use signet_shared::locale::Locale;
use signet_shared::ports::payments::{self, CheckoutRequest, SignatureError};
use signet_shared::ports::store::{Item, StoreError, Write};
use signet_shared::web::auth::Authenticated;
use signet_shared::web::{json, ApiJson};
use signet_shared::{Error, ErrorCode, Result, Services};

signet_shared::routes! {
    GET "/subscriptions/{id}/renewal" => options,
    POST "/subscriptions/{id}/renewals" => draft,
    GET "/renewals/{id}" => show,
    POST "/renewals/{id}/submit" => submit,
    POST "/renewals/{id}/cancel" => cancel,
    POST "/payments/webhook" => webhook,
    GET "/invoices/{number}" => invoice_json,
    GET "/invoices/{number}/pdf" => invoice_pdf,
    GET "/invoices/{number}/receipt" => receipt_json,
    GET "/invoices/{number}/receipt/pdf" => receipt_pdf,
}

/// How long an unsubmitted draft is kept.
const DRAFT_TTL: i64 = 86400;
/// How long an abandoned renewal is kept (a late payment still finds it).
const ABANDONED_TTL: i64 = 90 * 86400;

fn catalogue() -> Result<&'static Catalogue> {
    Catalogue::shipped().map_err(Error::internal)
}

/// The subscription `id`, if I hold it in the space I act for (otherwise it does not exist
/// for me), and whether a renewal's checkout holds it (read together).
async fn my_subscription(
    services: &Services,
    person_id: &str,
    space_id: &str,
    id: &str,
) -> Result<(Subscription, bool)> {
    let not_found = || Error::new(ErrorCode::NotFound).field("id");
    if !signet_shared::domain::crypto::is_random_id(id) {
        return Err(not_found());
    }
    let found = renewal::subscription_and_lock(services, id).await?;
    let (_, sub) = found.subscription.ok_or_else(not_found)?;
    if sub.holder_id != person_id || sub.space_id != space_id {
        return Err(not_found());
    }
    Ok((sub, found.lock.is_some()))
}

async fn space(services: &Services, id: &str) -> Result<Option<CustomerSpace>> {
    Ok(services.store.get(&keys::space(id)).await?.map(|i| i.decode()).transpose()?)
}

/// The organisations a person may bill: member of, enabled for invoicing, with a billing
/// contact.
async fn billable_organisations(
    services: &Services,
    memberships: &[account::Membership],
) -> Result<Vec<CustomerSpace>> {
    let mut out = Vec::new();
    for m in memberships.iter().filter(|m| m.space_kind == SpaceKind::Organisation) {
        if let Some(org) = space(services, &m.space_id).await? {
            if org.billing.as_ref().is_some_and(|b| b.invoicing_enabled && b.billing_contact.is_some()) {
                out.push(org);
            }
        }
    }
    Ok(out)
}

#[derive(Serialize)]
struct ProductOffer {
    code: String,
    name: String,
    term_months: u32,
    prices: std::collections::BTreeMap<String, String>,
}

#[derive(Serialize)]
struct OrganisationChoice {
    id: String,
    name: String,
}

#[derive(Serialize)]
struct Terms<'a> {
    version: &'a str,
    url: &'a str,
}

#[derive(Serialize)]
struct Options<'a> {
    subscription_id: String,
    term_end: i64,
    products: Vec<ProductOffer>,
    payment_modes: Vec<PaymentMode>,
    organisations: Vec<OrganisationChoice>,
    billing: Option<BillingView>,
    terms: Terms<'a>,
}

#[derive(Serialize, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct BillingView {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    country: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    vat_number: Option<String>,
}

impl From<&BillingProfile> for BillingView {
    fn from(b: &BillingProfile) -> Self {
        BillingView {
            name: Some(b.name.clone()),
            country: b.country.clone(),
            region: b.region.clone(),
            vat_number: b.vat_number.clone(),
        }
    }
}

/// What renewing one of my subscriptions may look like: the products, the payment modes
/// (card, and "bill my organisation" only when there is one to bill), the billing address
/// on file, the terms of sale to accept.
async fn options(
    State(services): State<Services>,
    Authenticated(claims, _): Authenticated,
    Path(id): Path<String>,
) -> Result<Response> {
    let (sub, _) = my_subscription(&services, &claims.sub, &claims.space, &id).await?;
    let person = account::person_with_spaces(services.store.as_ref(), &claims.sub)
        .await?
        .ok_or_else(|| Error::new(ErrorCode::TokenInvalid))?;
    let organisations = billable_organisations(&services, &person.memberships).await?;
    let own = space(&services, &sub.space_id).await?;
    let catalogue = catalogue()?;
    // The account's language (section 4 of the design).
    let locale = person.person.locale;
    let products = catalogue
        .products
        .values()
        .filter(|p| p.kind == sub.product)
        .map(|p| ProductOffer {
            code: p.code.clone(),
            name: p.name.pick(locale).to_owned(),
            term_months: p.term_months,
            prices: p.prices.iter().map(|(c, v)| (c.clone(), catalogue::format_amount(*v))).collect(),
        })
        .collect();
    let mut payment_modes = Vec::new();
    if services.payments.available() {
        payment_modes.push(PaymentMode::Card);
    }
    if !organisations.is_empty() {
        payment_modes.push(PaymentMode::Organisation);
    }
    let terms = Terms { version: &services.config.payments.terms_version, url: &services.config.payments.terms_url };
    Ok(json(
        StatusCode::OK,
        &Options {
            subscription_id: sub.id,
            term_end: sub.term_end,
            products,
            payment_modes,
            organisations: organisations.into_iter().map(|o| OrganisationChoice { id: o.id, name: o.name }).collect(),
            billing: own.and_then(|s| s.billing).as_ref().map(BillingView::from),
            terms,
        },
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DraftBody {
    product: String,
    payment_mode: PaymentMode,
    #[serde(default)]
    organisation_id: Option<String>,
    #[serde(default)]
    billing: Option<BillingView>,
}

/// Canadian provinces and territories (their taxes differ).
const PROVINCES: &[&str] = &["AB", "BC", "MB", "NB", "NL", "NS", "NT", "NU", "ON", "PE", "QC", "SK", "YT"];

/// Checks and normalizes a billing address given in a request.
fn checked_billing(b: &BillingView) -> Result<BillingView> {
    let bad = |field: &str| Error::new(ErrorCode::BillingAddressRequired).field(format!("billing.{field}"));
    let country = b.country.trim().to_ascii_uppercase();
    if country.len() != 2 || !country.bytes().all(|c| c.is_ascii_uppercase()) {
        return Err(bad("country"));
    }
    let region = b.region.as_deref().map(|r| r.trim().to_ascii_uppercase()).filter(|r| !r.is_empty());
    if country == "CA" && !region.as_deref().is_some_and(|r| PROVINCES.contains(&r)) {
        return Err(bad("region"));
    }
    if region.as_ref().is_some_and(|r| r.len() > 3 || !r.bytes().all(|c| c.is_ascii_alphanumeric())) {
        return Err(bad("region"));
    }
    let vat_number = b.vat_number.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
    if vat_number.as_ref().is_some_and(|v| {
        v.len() > 20 || !v.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-' || c == '.')
    }) {
        return Err(Error::new(ErrorCode::InvalidRequest).field("billing.vat_number"));
    }
    let name = b
        .name
        .as_deref()
        .filter(|n| !n.trim().is_empty())
        .map(|n| signet_shared::domain::people::names::checked(n, "billing.name", 200))
        .transpose()?;
    Ok(BillingView { name, country, region, vat_number })
}

/// The draft invoice's amounts for one product and buyer.
fn amounts(catalogue: &Catalogue, product: &catalogue::Offer, buyer: &Buyer) -> Result<Amounts> {
    let currency = catalogue.currency_for(&buyer.country).to_owned();
    let price = *product.prices.get(&currency).ok_or_else(|| Error::new(ErrorCode::InvalidRequest).field("product"))?;
    let tax_buyer = catalogue::TaxBuyer {
        country: buyer.country.clone(),
        region: buyer.region.clone(),
        vat_number: buyer.vat_number.clone(),
    };
    let taxes = catalogue.taxes(&tax_buyer, price);
    Ok(Amounts {
        lines: vec![Line {
            code: product.code.clone(),
            description: product.name.clone(),
            quantity: 1,
            unit_price: price,
            amount: price,
        }],
        taxes: taxes
            .lines
            .iter()
            .map(|t| TaxAmount {
                name: catalogue.tax_names(&t.code),
                code: t.code.clone(),
                rate: t.rate.clone(),
                base: t.base,
                amount: t.amount,
            })
            .collect(),
        subtotal: taxes.subtotal,
        total: taxes.total,
        currency,
        reverse_charge_mention: taxes.reverse_charge.then(|| catalogue.reverse_charge_mention.clone()),
    })
}

#[derive(Serialize)]
struct RenewalView {
    id: String,
    subscription_id: String,
    state: RenewalState,
    product: String,
    payment_mode: PaymentMode,
    buyer: BuyerView,
    invoice: InvoiceDraft,
    terms: TermsView,
    #[serde(skip_serializing_if = "Option::is_none")]
    checkout_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    invoice_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    term_end: Option<i64>,
}

#[derive(Serialize)]
struct BuyerView {
    name: String,
    email: String,
    country: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vat_number: Option<String>,
}

#[derive(Serialize)]
struct LineView {
    code: String,
    description: String,
    quantity: u32,
    unit_price: String,
    amount: String,
}

#[derive(Serialize)]
struct TaxView {
    code: String,
    name: String,
    rate: String,
    base: String,
    amount: String,
}

#[derive(Serialize)]
struct InvoiceDraft {
    currency: String,
    lines: Vec<LineView>,
    taxes: Vec<TaxView>,
    subtotal: String,
    total: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    reverse_charge_mention: Option<String>,
}

#[derive(Serialize)]
struct TermsView {
    version: String,
    url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    accepted_at: Option<i64>,
}

fn amounts_view(a: &Amounts, locale: Locale) -> InvoiceDraft {
    InvoiceDraft {
        currency: a.currency.clone(),
        lines: a
            .lines
            .iter()
            .map(|l| LineView {
                code: l.code.clone(),
                description: l.description.pick(locale).to_owned(),
                quantity: l.quantity,
                unit_price: catalogue::format_amount(l.unit_price),
                amount: catalogue::format_amount(l.amount),
            })
            .collect(),
        taxes: a
            .taxes
            .iter()
            .map(|t| TaxView {
                code: t.code.clone(),
                name: t.name.pick(locale).to_owned(),
                rate: t.rate.clone(),
                base: catalogue::format_amount(t.base),
                amount: catalogue::format_amount(t.amount),
            })
            .collect(),
        subtotal: catalogue::format_amount(a.subtotal),
        total: catalogue::format_amount(a.total),
        reverse_charge_mention: a.reverse_charge_mention.as_ref().map(|m| m.pick(locale).to_owned()),
    }
}

fn buyer_view(b: &Buyer) -> BuyerView {
    BuyerView {
        name: b.name.clone(),
        email: b.email.clone(),
        country: b.country.clone(),
        region: b.region.clone(),
        vat_number: b.vat_number.clone(),
    }
}

fn view(services: &Services, r: &Renewal) -> RenewalView {
    RenewalView {
        id: r.id.clone(),
        subscription_id: r.subscription_id.clone(),
        state: r.state,
        product: r.product_code.clone(),
        payment_mode: r.mode,
        buyer: buyer_view(&r.buyer),
        invoice: amounts_view(&r.amounts, r.locale),
        terms: TermsView {
            version: r
                .terms
                .as_ref()
                .map(|t| t.version.clone())
                .unwrap_or_else(|| services.config.payments.terms_version.clone()),
            url: services.config.payments.terms_url.clone(),
            accepted_at: r.terms.as_ref().map(|t| t.accepted_at),
        },
        checkout_url: (r.state == RenewalState::AwaitingPayment)
            .then(|| r.checkout.as_ref().map(|c| c.url.clone()))
            .flatten(),
        invoice_number: r.invoice_number.clone(),
        term_end: r.new_term_end,
    }
}

/// Drafts the renewal of one of my subscriptions: the product, the payment mode (card, or
/// an organisation I may bill), the billing address; answers the draft invoice.
async fn draft(
    State(services): State<Services>,
    context: RequestContext,
    Authenticated(claims, _): Authenticated,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DraftBody>,
) -> Result<Response> {
    let (sub, locked) = my_subscription(&services, &claims.sub, &claims.space, &id).await?;
    if locked {
        return Err(Error::new(ErrorCode::RenewalInProgress));
    }
    let catalogue = catalogue()?;
    let product = catalogue
        .products
        .get(&body.product)
        .filter(|p| p.kind == sub.product)
        .ok_or_else(|| Error::new(ErrorCode::InvalidRequest).field("product"))?;
    let person = account::person_with_spaces(services.store.as_ref(), &claims.sub)
        .await?
        .ok_or_else(|| Error::new(ErrorCode::TokenInvalid))?;
    let buyer = match body.payment_mode {
        PaymentMode::Card => {
            if body.organisation_id.is_some() {
                return Err(Error::new(ErrorCode::InvalidRequest).field("organisation_id"));
            }
            if !services.payments.available() {
                return Err(Error::new(ErrorCode::PaymentModeUnavailable).field("payment_mode"));
            }
            let given = body.billing.as_ref().map(checked_billing).transpose()?;
            let on_file = match &given {
                Some(_) => None,
                None => space(&services, &sub.space_id).await?.and_then(|s| s.billing).map(|b| BillingView::from(&b)),
            };
            let billing =
                given.or(on_file).ok_or_else(|| Error::new(ErrorCode::BillingAddressRequired).field("billing"))?;
            Buyer {
                space_id: sub.space_id.clone(),
                name: billing
                    .name
                    .clone()
                    .unwrap_or_else(|| format!("{} {}", person.person.first_name, person.person.last_name)),
                email: person.person.email.as_str().to_owned(),
                country: billing.country,
                region: billing.region,
                vat_number: billing.vat_number,
            }
        }
        PaymentMode::Organisation => {
            if body.billing.is_some() {
                return Err(Error::new(ErrorCode::InvalidRequest).field("billing"));
            }
            let org_id = body
                .organisation_id
                .as_deref()
                .ok_or_else(|| Error::new(ErrorCode::InvalidRequest).field("organisation_id"))?;
            // Only an organisation I am a member of, enabled for invoicing.
            let unavailable = || Error::new(ErrorCode::PaymentModeUnavailable).field("organisation_id");
            if !person.memberships.iter().any(|m| m.space_id == org_id && m.space_kind == SpaceKind::Organisation) {
                return Err(unavailable());
            }
            let org = space(&services, org_id).await?.ok_or_else(unavailable)?;
            let profile = org.billing.filter(|b| b.invoicing_enabled).ok_or_else(unavailable)?;
            let contact = profile.billing_contact.ok_or_else(unavailable)?;
            Buyer {
                space_id: org.id,
                name: profile.name,
                email: contact.as_str().to_owned(),
                country: profile.country,
                region: profile.region,
                vat_number: profile.vat_number,
            }
        }
    };
    // The demo catalogue's registration numbers are placeholders: only the local payment
    // page (the local server, the tests' emulator) may invoice with them, never a deployment.
    if catalogue.has_example_registrations() && !services.payments.is_local() {
        tracing::error!(
            "the catalogue's seller tax registrations are examples: configure the real numbers before invoicing"
        );
        return Err(Error::new(ErrorCode::ServiceUnavailable)
            .detail("invoicing is not configured yet (the seller's tax registration numbers)"));
    }
    let now = services.now();
    let renewal = Renewal {
        id: services.new_id(),
        subscription_id: sub.id.clone(),
        person_id: claims.sub.clone(),
        base_term_end: sub.term_end,
        product_code: product.code.clone(),
        term_months: product.term_months,
        mode: body.payment_mode,
        amounts: amounts(catalogue, product, &buyer)?,
        buyer,
        locale: person.person.locale,
        created_at: now,
        state: RenewalState::Draft,
        terms: None,
        checkout: None,
        invoice_number: None,
        new_term_end: None,
        notices: Default::default(),
    };
    services
        .store
        .write(Write::create(Item::new(keys::renewal(&renewal.id), &renewal)?.expires_at(now + DRAFT_TTL)))
        .await?;
    tracing::info!(renewal = %renewal.id, subscription = %sub.id, source = %context.source_ip, "renewal drafted");
    Ok(json(StatusCode::CREATED, &view(&services, &renewal)))
}

/// My renewal `id`, or not found.
async fn my_renewal(services: &Services, person_id: &str, id: &str) -> Result<(Item, Renewal)> {
    if !signet_shared::domain::crypto::is_random_id(id) {
        return Err(Error::new(ErrorCode::NotFound).field("id"));
    }
    match renewal::load(services, id).await? {
        Some((item, r)) if r.person_id == person_id => Ok((item, r)),
        _ => Err(Error::new(ErrorCode::NotFound).field("id")),
    }
}

/// Opens the hosted checkout of a card renewal. The request is the same, to the byte, for
/// a retry within the same hour (Stripe answers an idempotency key reused with other
/// parameters with an error): the session ends on the hour, 22 to 23 hours from now, and
/// the key names the hour. A retry in a later hour opens another session; the one before was
/// never handed to the buyer (its renewal was not written), and a payment on it would not
/// match the renewal's session.
async fn open_checkout(services: &Services, r: &Renewal) -> Result<payments::Checkout> {
    let hour = services.now().div_euclid(3600);
    let catalogue = catalogue()?;
    let description = catalogue
        .products
        .get(&r.product_code)
        .map(|p| p.name.pick(r.locale).to_owned())
        .unwrap_or_else(|| r.product_code.clone());
    services
        .payments
        .create_checkout(&CheckoutRequest {
            idempotency_key: format!("renewal-{}-{hour}", r.id),
            renewal_id: r.id.clone(),
            amount: r.amounts.total,
            currency: r.amounts.currency.clone(),
            description,
            customer_email: r.buyer.email.clone(),
            locale: r.locale,
            success_url: services.portal_link(&format!("/renewals/{}?paid=1", r.id)),
            cancel_url: services.portal_link(&format!("/renewals/{}", r.id)),
            expires_at: (hour + 23) * 3600,
        })
        .await
}

/// Where a renewal stands (a return from the payment page reads it).
async fn show(
    State(services): State<Services>,
    Authenticated(claims, _): Authenticated,
    Path(id): Path<String>,
) -> Result<Response> {
    let (_, r) = my_renewal(&services, &claims.sub, &id).await?;
    Ok(json(StatusCode::OK, &view(&services, &r)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SubmitBody {
    accept_terms: bool,
    terms_version: String,
}

/// Submits a renewal with the terms of sale accepted. Card: answers the hosted payment page
/// to go to (a retry answers the same one). Organisation: the invoice is issued and the
/// term extended at once. A renewal already fulfilled answers as it stands.
async fn submit(
    State(services): State<Services>,
    context: RequestContext,
    Authenticated(_, live): Authenticated,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SubmitBody>,
) -> Result<Response> {
    let current_version = &services.config.payments.terms_version;
    if !body.accept_terms || &body.terms_version != current_version {
        return Err(Error::new(ErrorCode::TermsNotAccepted).field(if body.accept_terms {
            "terms_version"
        } else {
            "accept_terms"
        }));
    }
    let store = services.store.as_ref();
    for _ in 0..8 {
        let (item, mut r) = my_renewal(&services, &live.person.id, &id).await?;
        let terms = TermsAcceptance {
            version: current_version.clone(),
            accepted_at: services.now(),
            source_ip: context.source_ip.clone(),
        };
        match (r.state, r.mode) {
            (RenewalState::Paid | RenewalState::Invoiced, _) => {
                let answer = json(StatusCode::OK, &view(&services, &r));
                renewal::send_notices(&services, Fulfilled { item, renewal: r, now: false }, Some(&live.person))
                    .await?;
                return Ok(answer);
            }
            (RenewalState::Abandoned, _) => return Err(Error::new(ErrorCode::RenewalClosed)),
            (RenewalState::Draft, PaymentMode::Organisation) => {
                // The membership is checked again: it may have ended since the draft.
                let still_member = store.get(&keys::membership(&live.person.id, &r.buyer.space_id)).await?.is_some();
                let org = space(&services, &r.buyer.space_id).await?;
                if !still_member
                    || !org.and_then(|o| o.billing).is_some_and(|b| b.invoicing_enabled && b.billing_contact.is_some())
                {
                    return Err(Error::new(ErrorCode::PaymentModeUnavailable).field("organisation_id"));
                }
                let id = r.id.clone();
                let done = renewal::fulfil(&services, &context, &id, Some((item, r)), &Payment::Organisation { terms })
                    .await?;
                let answer =
                    json(if done.now { StatusCode::CREATED } else { StatusCode::OK }, &view(&services, &done.renewal));
                renewal::send_notices(&services, done, Some(&live.person)).await?;
                return Ok(answer);
            }
            (RenewalState::Draft, PaymentMode::Card) | (RenewalState::AwaitingPayment, PaymentMode::Card)
                if r.checkout.is_none() =>
            {
                // The session first (keyed by the renewal: a retry finds the same one), then
                // the renewal with the terms and the session in one write: a failure of the
                // provider leaves the draft as it was.
                // One card checkout open per subscription: a second renewal would be paid twice.
                let renewal::SubscriptionAndLock { subscription, lock } =
                    renewal::subscription_and_lock(&services, &r.subscription_id).await?;
                if lock.as_ref().is_some_and(|(_, l)| l.renewal_id != r.id) {
                    return Err(Error::new(ErrorCode::RenewalInProgress));
                }
                // Nor one drafted before another renewal extended the term.
                if r.base_term_end != 0 && subscription.is_none_or(|(_, s)| s.term_end != r.base_term_end) {
                    return Err(Error::new(ErrorCode::RenewalClosed));
                }
                let checkout = open_checkout(&services, &r).await?;
                let submitted_now = r.state == RenewalState::Draft;
                if submitted_now {
                    r.terms = Some(terms);
                }
                r.state = RenewalState::AwaitingPayment;
                r.checkout = Some(checkout);
                let mut next = item.next(&r)?;
                next.expires_at = None;
                let mut writes = vec![Write::replace(next)];
                if lock.is_none() {
                    let held = renewal::RenewalLock { renewal_id: r.id.clone() };
                    writes.push(Write::create(
                        Item::new(keys::renewal_lock(&r.subscription_id), &held)?
                            .expires_at(services.now() + renewal::CHECKOUT_TTL + 300),
                    ));
                }
                if submitted_now {
                    let event = AuditEvent::new(
                        services.now(),
                        &context,
                        "renewal.submitted",
                        Some(&live.person.id),
                        format!("subscription:{}", r.subscription_id),
                        serde_json::json!({"renewal": r.id, "terms_version": current_version, "total": r.amounts.total, "currency": r.amounts.currency}),
                    );
                    writes.push(event.write(&services.new_id())?);
                }
                match store.transact(writes).await {
                    Ok(()) => return Ok(json(StatusCode::OK, &view(&services, &r))),
                    // A racing submit or the webhook moved it: read it again.
                    Err(StoreError::ConditionFailed(_)) => continue,
                    Err(e) => return Err(e.into()),
                }
            }
            (RenewalState::AwaitingPayment | RenewalState::Draft, _) => {
                return Ok(json(StatusCode::OK, &view(&services, &r)))
            }
        }
    }
    Err(Error::new(ErrorCode::Conflict))
}

/// Gives up a renewal not yet paid: its checkout session is ended at the provider (so it
/// takes no payment), the renewal abandoned and the subscription free for another renewal at
/// once. A session paid first is not undone: the answer says so and the webhook fulfils it.
async fn cancel(
    State(services): State<Services>,
    context: RequestContext,
    Authenticated(claims, _): Authenticated,
    Path(id): Path<String>,
) -> Result<Response> {
    for _ in 0..8 {
        let (item, r) = my_renewal(&services, &claims.sub, &id).await?;
        match r.state {
            RenewalState::Abandoned => return Ok(json(StatusCode::OK, &view(&services, &r))),
            RenewalState::Paid | RenewalState::Invoiced => {
                return Err(Error::new(ErrorCode::Conflict).detail("the renewal is already paid or invoiced"))
            }
            RenewalState::Draft | RenewalState::AwaitingPayment => {}
        }
        if let Some(checkout) = &r.checkout {
            if services.payments.expire_checkout(&checkout.session_id).await? == payments::Expiry::Paid {
                return Err(
                    Error::new(ErrorCode::Conflict).detail("the payment went through first; the renewal completes")
                );
            }
        }
        let detail = serde_json::json!({"renewal": r.id});
        if let Some(r) = abandon(&services, &context, &item, r, "renewal.cancelled", detail).await? {
            return Ok(json(StatusCode::OK, &view(&services, &r)));
        }
    }
    Err(Error::new(ErrorCode::Conflict))
}

/// Abandons the renewal read as `item`: kept 90 days (a late payment still finds it), its
/// lock released and the change audited, in one transaction. `None` when the renewal moved
/// since it was read.
async fn abandon(
    services: &Services,
    context: &RequestContext,
    item: &Item,
    mut r: Renewal,
    action: &str,
    detail: serde_json::Value,
) -> Result<Option<Renewal>> {
    let lock = renewal::live_lock(services, &r.subscription_id).await?;
    r.state = RenewalState::Abandoned;
    let next = item.next(&r)?.expires_at(services.now() + ABANDONED_TTL);
    let event = AuditEvent::new(
        services.now(),
        context,
        action,
        Some(&r.person_id),
        format!("subscription:{}", r.subscription_id),
        detail,
    );
    let mut writes = vec![Write::replace(next), event.write(&services.new_id())?];
    writes.extend(renewal::release_lock(lock.as_ref(), &r.id));
    match services.store.transact(writes).await {
        Ok(()) => Ok(Some(r)),
        Err(StoreError::ConditionFailed(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct Event {
    #[serde(rename = "type")]
    kind: String,
    data: EventData,
}

#[derive(Deserialize)]
struct EventData {
    object: CheckoutObject,
}

#[derive(Deserialize)]
struct CheckoutObject {
    id: String,
    #[serde(default)]
    client_reference_id: Option<String>,
    #[serde(default)]
    amount_total: Option<i64>,
    #[serde(default)]
    currency: Option<String>,
    #[serde(default)]
    payment_status: Option<String>,
    #[serde(default)]
    payment_intent: Option<String>,
}

#[derive(Serialize)]
struct Received {
    received: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    outcome: Option<&'static str>,
}

/// Records a payment that fulfils nothing (for a refund or a manual fulfilment).
async fn record_unmatched(
    services: &Services,
    context: &RequestContext,
    renewal_id: &str,
    session: &CheckoutObject,
    renewal_state: serde_json::Value,
    expected: serde_json::Value,
) -> Result<()> {
    let detail = serde_json::json!({"session": session.id, "amount": session.amount_total, "currency": session.currency, "payment": session.payment_intent, "renewal_state": renewal_state, "expected": expected});
    let event =
        AuditEvent::new(services.now(), context, "payment.unmatched", None, format!("renewal:{renewal_id}"), detail);
    Ok(services.store.write(event.write(&services.new_id())?).await?)
}

/// The payment provider's webhook: signature first (`Stripe-Signature`, five minutes of
/// tolerance), then a paid checkout fulfils its renewal — once, however many times and in
/// whatever order it is delivered — and an expired one abandons it.
async fn webhook(
    State(services): State<Services>,
    context: RequestContext,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let signature = headers.get("stripe-signature").and_then(|v| v.to_str().ok()).unwrap_or("");
    match services.payments.verify_webhook(signature, &body, services.now()) {
        Ok(()) => {}
        Err(SignatureError::NotConfigured) => {
            tracing::error!("payment webhook refused: no signing secret is configured");
            return Err(Error::new(ErrorCode::WebhookSignatureInvalid));
        }
        Err(e) => {
            tracing::warn!(reason = ?e, source = %context.source_ip, "payment webhook with a bad signature");
            return Err(Error::new(ErrorCode::WebhookSignatureInvalid));
        }
    }
    let event: Event = serde_json::from_slice(&body).map_err(|_| Error::new(ErrorCode::InvalidRequest))?;
    let session = event.data.object;
    let ignored = |why: &'static str| Ok(json(StatusCode::OK, &Received { received: true, outcome: Some(why) }));
    let Some(renewal_id) =
        session.client_reference_id.clone().filter(|id| signet_shared::domain::crypto::is_random_id(id))
    else {
        return ignored("not_a_renewal");
    };
    match event.kind.as_str() {
        "checkout.session.completed" | "checkout.session.async_payment_succeeded" => {
            if session.payment_status.as_deref() != Some("paid") {
                return ignored("not_paid_yet");
            }
            let Some((item, r)) = renewal::load(&services, &renewal_id).await? else {
                // Paid for a renewal that does not exist (any more): recorded for reconciliation.
                tracing::error!(renewal = %renewal_id, session = %session.id, "a paid checkout for an unknown renewal");
                record_unmatched(
                    &services,
                    &context,
                    &renewal_id,
                    &session,
                    serde_json::json!("unknown"),
                    serde_json::Value::Null,
                )
                .await?;
                return Err(Error::new(ErrorCode::NotFound));
            };
            // The session this renewal handed the buyer to, in a state that awaits (or had)
            // its payment, for the amount and currency of its invoice.
            let same_session = r.checkout.as_ref().is_some_and(|c| c.session_id == session.id);
            let same_amount = session.amount_total == Some(r.amounts.total)
                && session.currency.as_deref().is_some_and(|c| c.eq_ignore_ascii_case(&r.amounts.currency));
            let awaited =
                matches!(r.state, RenewalState::AwaitingPayment | RenewalState::Abandoned | RenewalState::Paid);
            if r.mode != PaymentMode::Card || !same_session || !same_amount || !awaited {
                // Money was taken for something that does not match: recorded for
                // reconciliation (a refund or a manual fulfilment), never fulfilled.
                tracing::error!(renewal = %renewal_id, session = %session.id, "a paid checkout that does not match its renewal: not fulfilled");
                let expected = serde_json::json!({"amount": r.amounts.total, "currency": r.amounts.currency});
                record_unmatched(&services, &context, &renewal_id, &session, serde_json::json!(r.state), expected)
                    .await?;
                return Err(Error::new(ErrorCode::PaymentMismatch));
            }
            let reference = session.payment_intent.unwrap_or(session.id);
            let done = renewal::fulfil(&services, &context, &renewal_id, Some((item, r)), &Payment::Card { reference })
                .await?;
            // A failed receipt answers 503: the provider delivers again and the receipt goes.
            renewal::send_notices(&services, done, None).await?;
            Ok(json(StatusCode::OK, &Received { received: true, outcome: Some("fulfilled") }))
        }
        "checkout.session.expired" | "checkout.session.async_payment_failed" => {
            for _ in 0..8 {
                let Some((item, r)) = renewal::load(&services, &renewal_id).await? else {
                    return ignored("unknown_renewal");
                };
                if r.mode != PaymentMode::Card || r.checkout.as_ref().is_none_or(|c| c.session_id != session.id) {
                    return ignored("not_this_session");
                }
                if r.state != RenewalState::AwaitingPayment {
                    return ignored("already_settled");
                }
                let detail = serde_json::json!({"renewal": r.id, "event": event.kind});
                if abandon(&services, &context, &item, r, "renewal.abandoned", detail).await?.is_some() {
                    return Ok(json(StatusCode::OK, &Received { received: true, outcome: Some("abandoned") }));
                }
            }
            Err(Error::new(ErrorCode::Conflict))
        }
        _ => ignored("event_not_handled"),
    }
}

/// An invoice I may read (I ordered it, or I administer or receive the invoices of the
/// space it is issued to), or not found.
async fn readable_invoice(
    services: &Services,
    claims: &signet_shared::domain::sessions::access_token::AccessClaims,
    number: &str,
) -> Result<Invoice> {
    let not_found = || Error::new(ErrorCode::NotFound).field("number");
    if number.len() > 32 || !number.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(not_found());
    }
    let invoice = renewal::load_invoice(services, number).await?.ok_or_else(not_found)?;
    if !renewal::may_read(services, &claims.sub, &claims.space, &invoice).await? {
        return Err(not_found());
    }
    Ok(invoice)
}

#[derive(Serialize)]
struct InvoiceJson {
    number: String,
    issued_at: i64,
    seller: catalogue::Seller,
    buyer: BuyerView,
    subscription_id: String,
    term_end: i64,
    payment_mode: PaymentMode,
    settlement: Settlement,
    terms_version: String,
    #[serde(flatten)]
    amounts: InvoiceDraft,
}

async fn invoice_json(
    State(services): State<Services>,
    Authenticated(claims, _): Authenticated,
    Path(number): Path<String>,
) -> Result<Response> {
    let i = readable_invoice(&services, &claims, &number).await?;
    Ok(json(
        StatusCode::OK,
        &InvoiceJson {
            amounts: amounts_view(&i.amounts, i.locale),
            buyer: buyer_view(&i.buyer),
            number: i.number,
            issued_at: i.issued_at,
            seller: i.seller,
            subscription_id: i.subscription_id,
            term_end: i.term_end,
            payment_mode: i.mode,
            settlement: i.settlement,
            terms_version: i.terms.version,
        },
    ))
}

fn pdf_response(bytes: Vec<u8>, file: &str) -> Response {
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{file}\""))
        .unwrap_or(HeaderValue::from_static("attachment"));
    let mut response = (StatusCode::OK, bytes).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/pdf"));
    response.headers_mut().insert(header::CONTENT_DISPOSITION, disposition);
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn invoice_pdf(
    State(services): State<Services>,
    Authenticated(claims, _): Authenticated,
    Path(number): Path<String>,
) -> Result<Response> {
    let i = readable_invoice(&services, &claims, &number).await?;
    Ok(pdf_response(pdf::invoice(&i), &format!("invoice-{}.pdf", i.number)))
}

#[derive(Serialize)]
struct ReceiptJson {
    invoice_number: String,
    paid_at: i64,
    amount: String,
    currency: String,
    reference: String,
    buyer: BuyerView,
    description: Vec<String>,
    term_end: i64,
}

/// The receipt of a paid invoice (an organisation's invoice has none until it is paid).
fn receipt_of(i: &Invoice) -> Result<(i64, &str)> {
    match &i.settlement {
        Settlement::Paid { paid_at, reference } => Ok((*paid_at, reference.as_str())),
        Settlement::Due { .. } => {
            Err(Error::new(ErrorCode::NotFound).field("number").detail("no receipt: the invoice is payable on terms"))
        }
    }
}

async fn receipt_json(
    State(services): State<Services>,
    Authenticated(claims, _): Authenticated,
    Path(number): Path<String>,
) -> Result<Response> {
    let i = readable_invoice(&services, &claims, &number).await?;
    let (paid_at, reference) = receipt_of(&i)?;
    Ok(json(
        StatusCode::OK,
        &ReceiptJson {
            invoice_number: i.number.clone(),
            paid_at,
            amount: catalogue::format_amount(i.amounts.total),
            currency: i.amounts.currency.clone(),
            reference: reference.to_owned(),
            buyer: buyer_view(&i.buyer),
            description: i.amounts.lines.iter().map(|l| l.description.pick(i.locale).to_owned()).collect(),
            term_end: i.term_end,
        },
    ))
}

async fn receipt_pdf(
    State(services): State<Services>,
    Authenticated(claims, _): Authenticated,
    Path(number): Path<String>,
) -> Result<Response> {
    let i = readable_invoice(&services, &claims, &number).await?;
    let (paid_at, reference) = receipt_of(&i)?;
    Ok(pdf_response(pdf::receipt(&i, paid_at, reference), &format!("receipt-{}.pdf", i.number)))
}
