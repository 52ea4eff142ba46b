//! Renewals (seed 000, step 3): a draft invoice for one subscription, paid by card through
//! the payment provider or billed to an organisation, then fulfilled exactly once.
//!
//! A renewal (`RENEWAL#<id>`) moves draft → awaiting payment (card) → paid, or draft →
//! invoiced (organisation); or to abandoned when its payment session expires. Fulfilment is
//! one transaction: the renewal's state (conditional on the version read), the invoice with
//! the next number of its series, the subscription's new term (conditional too), its entry
//! in the expiry index and the audit event. A second webhook, a late one, or one racing a
//! retried submit finds the renewal fulfilled and changes nothing; a declined or abandoned
//! payment never reaches fulfilment, so it never uses an invoice number.

use crate::domain::billing::catalogue::Names;
use crate::domain::calendar;
use crate::domain::keys;
use crate::domain::organisations::permissions::{self, Permission};
use crate::domain::people::account::{self, Role};
use crate::domain::signatures::subscription::Subscription;
use crate::locale::Locale;
use crate::ports::payments::Cents;
use crate::ports::payments::Checkout;
use crate::ports::store::{Condition, Item, Write};
use crate::{domain::services::Services, error::Result};
use serde::{Deserialize, Serialize};

mod fulfil;
mod notices;
mod transitions;

pub use fulfil::{fulfil, Fulfilled, Payment};
pub use notices::{send_notices, send_pending_notices};
pub use transitions::{cancel, mine, on_expired, on_paid, submit, CheckoutReport, Expired, Submitted};

/// How a renewal is paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMode {
    /// By card, on the payment provider's hosted page.
    Card,
    /// Invoiced to an organisation, payable on terms.
    Organisation,
}

/// Who buys: the person (card) or the organisation (invoice).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Buyer {
    /// The space that pays (the subscription's, or the organisation's).
    pub space_id: String,
    /// Name on the invoice.
    pub name: String,
    /// Where receipts and invoices are emailed.
    pub email: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// Province or region.
    pub region: Option<String>,
    /// EU VAT number.
    pub vat_number: Option<String>,
}

/// One line of an invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    /// The product's code.
    pub code: String,
    /// What it is.
    pub description: Names,
    /// How many.
    pub quantity: u32,
    /// Price of one, in cents.
    pub unit_price: Cents,
    /// quantity × unit price.
    pub amount: Cents,
}

/// One tax of an invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxAmount {
    /// `GST`, `QST`, `VAT`…
    pub code: String,
    /// Its names.
    pub name: Names,
    /// Its rate, as written (`9.975`).
    pub rate: String,
    /// On what.
    pub base: Cents,
    /// How much.
    pub amount: Cents,
}

/// The amounts of a sale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Amounts {
    /// The lines.
    pub lines: Vec<Line>,
    /// The taxes (none under reverse charge).
    pub taxes: Vec<TaxAmount>,
    /// Before taxes.
    pub subtotal: Cents,
    /// With taxes.
    pub total: Cents,
    /// ISO 4217.
    pub currency: String,
    /// The reverse-charge mention, when it applies.
    pub reverse_charge_mention: Option<Names>,
}

/// The acceptance of the terms of sale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TermsAcceptance {
    /// The version accepted.
    pub version: String,
    /// When.
    pub accepted_at: i64,
    /// From where.
    pub source_ip: String,
}

/// Where a renewal stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RenewalState {
    /// Drafted; the terms are not accepted yet.
    Draft,
    /// Submitted by card; the provider's webhook is awaited.
    AwaitingPayment,
    /// Paid by card; the term is extended and the invoice issued.
    Paid,
    /// Invoiced to the organisation; the term is extended.
    Invoiced,
    /// The payment session expired or was cancelled.
    Abandoned,
}

/// A renewal (`RENEWAL#<id>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Renewal {
    /// Random id (also the payment's idempotency key).
    pub id: String,
    /// The subscription renewed.
    pub subscription_id: String,
    /// Who renews (the holder).
    pub person_id: String,
    /// The subscription's term end when drafted: a renewal drafted before another one
    /// extended the term is stale (it would renew twice).
    #[serde(default)]
    pub base_term_end: i64,
    /// The product bought.
    pub product_code: String,
    /// Months it adds.
    pub term_months: u32,
    /// Card or organisation.
    pub mode: PaymentMode,
    /// Who pays.
    pub buyer: Buyer,
    /// The draft invoice's amounts.
    pub amounts: Amounts,
    /// The buyer's language.
    pub locale: Locale,
    /// When drafted.
    pub created_at: i64,
    /// Where it stands.
    pub state: RenewalState,
    /// The terms accepted at submission.
    pub terms: Option<TermsAcceptance>,
    /// The hosted checkout (card).
    pub checkout: Option<Checkout>,
    /// The invoice, once issued.
    pub invoice_number: Option<String>,
    /// The subscription's term end after this renewal.
    pub new_term_end: Option<i64>,
    /// The emails that follow the fulfilment: which went out, who is sending them.
    #[serde(default)]
    pub notices: Notices,
}

/// An email that follows a fulfilment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Notice {
    /// The receipt of a card payment, to the buyer.
    Receipt,
    /// The invoice, to the organisation's billing contact.
    OrganisationInvoice,
    /// The confirmation, to the member who renewed on the organisation's account.
    MemberConfirmation,
}

/// The notices of a renewal: sent ones, and the claim of whoever is sending the others.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notices {
    /// Those sent.
    pub sent: Vec<Notice>,
    /// When a sender claimed the rest; a claim older than [`NOTICE_LEASE`] is taken over.
    pub claimed_at: Option<i64>,
}

/// How long a sender holds the notices before another may take them over: longer than any
/// function that sends them may run (the renewal function's 10 s, the scheduled run's 300 s).
pub const NOTICE_LEASE: i64 = 600;

/// The notices a renewal owes.
pub fn notices_due(mode: PaymentMode) -> &'static [Notice] {
    match mode {
        PaymentMode::Card => &[Notice::Receipt],
        PaymentMode::Organisation => &[Notice::OrganisationInvoice, Notice::MemberConfirmation],
    }
}

/// How an invoice is settled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Settlement {
    /// Paid by card.
    Paid {
        /// When.
        paid_at: i64,
        /// The provider's reference of the payment.
        reference: String,
    },
    /// Payable by the organisation.
    Due {
        /// By when.
        due_at: i64,
    },
}

/// An issued invoice (`INVOICE#<number>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invoice {
    /// `2026-000042`.
    pub number: String,
    /// When issued.
    pub issued_at: i64,
    /// The seller.
    pub seller: crate::domain::billing::catalogue::Seller,
    /// The buyer.
    pub buyer: Buyer,
    /// Who ordered it.
    pub ordered_by: String,
    /// The renewal.
    pub renewal_id: String,
    /// The subscription renewed.
    pub subscription_id: String,
    /// The term it now runs until.
    pub term_end: i64,
    /// Lines, taxes, totals.
    pub amounts: Amounts,
    /// Card or organisation.
    pub mode: PaymentMode,
    /// Paid or due.
    pub settlement: Settlement,
    /// The terms of sale accepted.
    pub terms: TermsAcceptance,
    /// The language it is printed in.
    pub locale: Locale,
}

/// A subscription and the live lock on it, read together (one query of its partition).
pub struct SubscriptionAndLock {
    /// The subscription's item and the subscription.
    pub subscription: Option<(Item, Subscription)>,
    /// The lock, if one lives.
    pub lock: Option<(Item, RenewalLock)>,
}

/// Reads a subscription and its lock in one query.
pub async fn subscription_and_lock(services: &Services, subscription_id: &str) -> Result<SubscriptionAndLock> {
    let mut found = SubscriptionAndLock { subscription: None, lock: None };
    for item in services.store.query(&keys::subscription_partition(subscription_id), "", 10).await? {
        match item.key.sk.as_str() {
            "SUBSCRIPTION" => found.subscription = Some((item.clone(), item.decode()?)),
            "RENEWALLOCK" => found.lock = Some((item.clone(), item.decode()?)),
            _ => {}
        }
    }
    Ok(found)
}

/// The lock's body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenewalLock {
    /// The renewal holding it.
    pub renewal_id: String,
}

/// The live lock on `subscription_id`, if any, with its item.
pub async fn live_lock(services: &Services, subscription_id: &str) -> Result<Option<(Item, RenewalLock)>> {
    match services.store.get(&keys::renewal_lock(subscription_id)).await? {
        Some(item) => {
            let lock = item.decode()?;
            Ok(Some((item, lock)))
        }
        None => Ok(None),
    }
}

/// The write that removes `renewal_id`'s own lock, if it holds the one read.
pub fn release_lock(lock: Option<&(Item, RenewalLock)>, renewal_id: &str) -> Option<Write> {
    lock.filter(|(_, l)| l.renewal_id == renewal_id)
        .map(|(item, _)| Write::Delete { key: item.key.clone(), condition: Condition::Version(item.version) })
}

/// How long the lock of a card checkout lives: longer than the session (which ends 22 to 23
/// hours after it opens); about a day.
pub const CHECKOUT_TTL: i64 = 86400 - 60;

/// Reads a renewal.
pub async fn load(services: &Services, id: &str) -> Result<Option<(Item, Renewal)>> {
    match services.store.get(&keys::renewal(id)).await? {
        Some(item) => {
            let renewal = item.decode()?;
            Ok(Some((item, renewal)))
        }
        None => Ok(None),
    }
}

/// Reads an invoice.
pub async fn load_invoice(services: &Services, number: &str) -> Result<Option<Invoice>> {
    Ok(services.store.get(&keys::invoice(number)).await?.map(|i| i.decode()).transpose()?)
}

/// The new term of a subscription renewed for `months` at `now`: from its end when it has
/// not lapsed, from now when it has.
pub fn extended_term(sub: &Subscription, months: u32, now: i64) -> (i64, i64) {
    let from = sub.term_end.max(now);
    let start = if sub.term_end < now { now } else { sub.term_start };
    (start, calendar::add_months(from, i64::from(months)))
}

/// Whether the signed-in person may read an invoice: the person who ordered it, or an
/// administrator or billing contact of the space it is issued to, acting for that space.
pub async fn may_read(services: &Services, person_id: &str, space_id: &str, invoice: &Invoice) -> Result<bool> {
    if invoice.ordered_by == person_id {
        return Ok(true);
    }
    if invoice.buyer.space_id != space_id {
        return Ok(false);
    }
    let Some(item) = services.store.get(&keys::membership(person_id, space_id)).await? else { return Ok(false) };
    let membership: account::Membership = item.decode()?;
    Ok(may_read_space_invoices(&membership))
}

/// Whether a member reads every invoice issued to their space: the billing contact of an
/// organisation (see [`crate::domain::organisations::permissions`]), or the owner of a
/// personal space.
pub fn may_read_space_invoices(membership: &account::Membership) -> bool {
    match membership.space_kind {
        account::SpaceKind::Individual => membership.roles.contains(&Role::Administrator),
        account::SpaceKind::Organisation => permissions::allows(&membership.roles, Permission::ReadInvoices),
    }
}

/// The invoices issued to a space, newest first (one query of its index).
pub async fn space_invoices(services: &Services, space_id: &str) -> Result<Vec<Invoice>> {
    let items = services.store.query_gsi1(&keys::space_partition(space_id), keys::INVOICE_PREFIX, 1000).await?;
    let mut invoices: Vec<Invoice> = items.iter().map(|i| i.decode()).collect::<Result<_, _>>()?;
    invoices.sort_by(|a, b| b.number.cmp(&a.number));
    Ok(invoices)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::signatures::subscription::{Product, SubscriptionStatus};

    fn sub(term_start: i64, term_end: i64) -> Subscription {
        Subscription {
            id: "s".into(),
            space_id: "sp".into(),
            holder_id: "p".into(),
            product: Product::CloudSignature,
            status: SubscriptionStatus::Functional,
            term_start,
            term_end,
            certificate: None,
            recovery: None,
        }
    }

    #[test]
    fn a_term_extends_from_its_end_or_from_now_once_lapsed() {
        let day = 86400;
        let now = calendar::days_from_civil(2026, 11, 22) * day;
        let end = calendar::days_from_civil(2026, 12, 10) * day;
        assert_eq!(
            extended_term(&sub(now - 300 * day, end), 12, now),
            (now - 300 * day, calendar::days_from_civil(2027, 12, 10) * day)
        );
        let lapsed = calendar::days_from_civil(2026, 10, 1) * day;
        assert_eq!(
            extended_term(&sub(lapsed - 365 * day, lapsed), 12, now),
            (now, calendar::days_from_civil(2027, 11, 22) * day)
        );
    }
}
