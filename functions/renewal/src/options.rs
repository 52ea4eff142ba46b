//! What renewing one of my subscriptions may look like.

use crate::views::BillingView;
use crate::{billable_organisations, my_subscription, shipped_catalogue, space};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;
use signet_shared::domain::billing::catalogue::{self};
use signet_shared::domain::billing::renewal::PaymentMode;
use signet_shared::domain::people::account::{self};
use signet_shared::web::auth::Authenticated;
use signet_shared::web::json;
use signet_shared::{Error, ErrorCode, Result, Services};

#[derive(Serialize)]
pub(crate) struct ProductOffer {
    code: String,
    name: String,
    term_months: u32,
    prices: std::collections::BTreeMap<String, String>,
}

#[derive(Serialize)]
pub(crate) struct OrganisationChoice {
    id: String,
    name: String,
}

#[derive(Serialize)]
pub(crate) struct Terms<'a> {
    version: &'a str,
    url: &'a str,
}

#[derive(Serialize)]
pub(crate) struct Options<'a> {
    subscription_id: String,
    term_end: i64,
    products: Vec<ProductOffer>,
    payment_modes: Vec<PaymentMode>,
    organisations: Vec<OrganisationChoice>,
    billing: Option<BillingView>,
    terms: Terms<'a>,
}

/// What renewing one of my subscriptions may look like: the products, the payment modes
/// (card, and "bill my organisation" only when there is one to bill), the billing address
/// on file, the terms of sale to accept.
pub(crate) async fn options(
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
    let catalogue = shipped_catalogue()?;
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
