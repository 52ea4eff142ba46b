//! A draft renewal: the product, the payment mode and the buyer, with the draft invoice's
//! taxes; and where a renewal stands.

use crate::views::{view, BillingView};
use crate::{my_subscription, shipped_catalogue, space, DRAFT_TTL};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use signet_shared::domain::audit::RequestContext;
use signet_shared::domain::billing::catalogue::{self, Catalogue};
use signet_shared::domain::billing::renewal::{
    self, Amounts, Buyer, Line, PaymentMode, Renewal, RenewalState, TaxAmount,
};
use signet_shared::domain::keys;
use signet_shared::domain::people::account::{self, Membership, Person, SpaceKind};
use signet_shared::domain::signatures::subscription::Subscription;
use signet_shared::ports::store::{Item, Write};
use signet_shared::web::auth::Authenticated;
use signet_shared::web::{json, ApiJson};
use signet_shared::{Error, ErrorCode, Result, Services};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DraftBody {
    product: String,
    payment_mode: PaymentMode,
    #[serde(default)]
    organisation_id: Option<String>,
    #[serde(default)]
    billing: Option<BillingView>,
}

/// Canadian provinces and territories (their taxes differ).
pub(crate) const PROVINCES: &[&str] = &["AB", "BC", "MB", "NB", "NL", "NS", "NT", "NU", "ON", "PE", "QC", "SK", "YT"];

/// Checks and normalizes a billing address given in a request.
pub(crate) fn checked_billing(b: &BillingView) -> Result<BillingView> {
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
pub(crate) fn amounts(catalogue: &Catalogue, product: &catalogue::Offer, buyer: &Buyer) -> Result<Amounts> {
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

/// Drafts the renewal of one of my subscriptions: the product, the payment mode (card, or
/// an organisation I may bill), the billing address; answers the draft invoice.
pub(crate) async fn draft(
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
    let catalogue = shipped_catalogue()?;
    let product = catalogue
        .products
        .get(&body.product)
        .filter(|p| p.kind == sub.product)
        .ok_or_else(|| Error::new(ErrorCode::InvalidRequest).field("product"))?;
    let person = account::person_with_spaces(services.store.as_ref(), &claims.sub)
        .await?
        .ok_or_else(|| Error::new(ErrorCode::TokenInvalid))?;
    let buyer = match body.payment_mode {
        PaymentMode::Card => card_buyer(&services, &body, &sub, &person.person).await?,
        PaymentMode::Organisation => organisation_buyer(&services, &body, &person.memberships).await?,
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

/// The buyer of a card payment: the billing address given, or the one on file for the
/// subscription's space.
async fn card_buyer(services: &Services, body: &DraftBody, sub: &Subscription, person: &Person) -> Result<Buyer> {
    if body.organisation_id.is_some() {
        return Err(Error::new(ErrorCode::InvalidRequest).field("organisation_id"));
    }
    if !services.payments.available() {
        return Err(Error::new(ErrorCode::PaymentModeUnavailable).field("payment_mode"));
    }
    let given = body.billing.as_ref().map(checked_billing).transpose()?;
    let on_file = match &given {
        Some(_) => None,
        None => space(services, &sub.space_id).await?.and_then(|s| s.billing).map(|b| BillingView::from(&b)),
    };
    let billing = given.or(on_file).ok_or_else(|| Error::new(ErrorCode::BillingAddressRequired).field("billing"))?;
    Ok(Buyer {
        space_id: sub.space_id.clone(),
        name: billing.name.clone().unwrap_or_else(|| format!("{} {}", person.first_name, person.last_name)),
        email: person.email.as_str().to_owned(),
        country: billing.country,
        region: billing.region,
        vat_number: billing.vat_number,
    })
}

/// The buyer of an organisation's invoice: an organisation I am a member of, enabled for
/// invoicing, with a billing contact.
async fn organisation_buyer(services: &Services, body: &DraftBody, memberships: &[Membership]) -> Result<Buyer> {
    if body.billing.is_some() {
        return Err(Error::new(ErrorCode::InvalidRequest).field("billing"));
    }
    let org_id = body
        .organisation_id
        .as_deref()
        .ok_or_else(|| Error::new(ErrorCode::InvalidRequest).field("organisation_id"))?;
    // Only an organisation I am a member of, enabled for invoicing.
    let unavailable = || Error::new(ErrorCode::PaymentModeUnavailable).field("organisation_id");
    if !memberships.iter().any(|m| m.space_id == org_id && m.space_kind == SpaceKind::Organisation) {
        return Err(unavailable());
    }
    let org = space(services, org_id).await?.ok_or_else(unavailable)?;
    let profile = org.billing.filter(|b| b.invoicing_enabled).ok_or_else(unavailable)?;
    let contact = profile.billing_contact.ok_or_else(unavailable)?;
    Ok(Buyer {
        space_id: org.id,
        name: profile.name,
        email: contact.as_str().to_owned(),
        country: profile.country,
        region: profile.region,
        vat_number: profile.vat_number,
    })
}

/// Where a renewal stands (a return from the payment page reads it).
pub(crate) async fn show(
    State(services): State<Services>,
    Authenticated(claims, _): Authenticated,
    Path(id): Path<String>,
) -> Result<Response> {
    let (_, r) = renewal::mine(&services, &claims.sub, &id).await?;
    Ok(json(StatusCode::OK, &view(&services, &r)))
}
