//! How a renewal, its buyer and its amounts are shown.

use serde::{Deserialize, Serialize};
use signet_shared::domain::billing::catalogue::{self};
use signet_shared::domain::billing::renewal::{Amounts, Buyer, PaymentMode, Renewal, RenewalState};
use signet_shared::locale::Locale;
use signet_shared::Services;

#[derive(Serialize, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct BillingView {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<String>,
    pub(crate) country: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) vat_number: Option<String>,
}

#[derive(Serialize)]
pub(crate) struct RenewalView {
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
pub(crate) struct BuyerView {
    name: String,
    email: String,
    country: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vat_number: Option<String>,
}

#[derive(Serialize)]
pub(crate) struct LineView {
    code: String,
    description: String,
    quantity: u32,
    unit_price: String,
    amount: String,
}

#[derive(Serialize)]
pub(crate) struct TaxView {
    code: String,
    name: String,
    rate: String,
    base: String,
    amount: String,
}

#[derive(Serialize)]
pub(crate) struct InvoiceDraft {
    pub(crate) currency: String,
    lines: Vec<LineView>,
    taxes: Vec<TaxView>,
    subtotal: String,
    pub(crate) total: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    reverse_charge_mention: Option<String>,
}

#[derive(Serialize)]
pub(crate) struct TermsView {
    version: String,
    url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    accepted_at: Option<i64>,
}

pub(crate) fn amounts_view(a: &Amounts, locale: Locale) -> InvoiceDraft {
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

pub(crate) fn buyer_view(b: &Buyer) -> BuyerView {
    BuyerView {
        name: b.name.clone(),
        email: b.email.clone(),
        country: b.country.clone(),
        region: b.region.clone(),
        vat_number: b.vat_number.clone(),
    }
}

pub(crate) fn view(services: &Services, r: &Renewal) -> RenewalView {
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
