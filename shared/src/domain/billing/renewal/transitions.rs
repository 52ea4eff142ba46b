//! The moves of a renewal that its buyer and the payment provider make: submitted with the
//! terms of sale (a card checkout opened, or the organisation invoiced at once), cancelled,
//! paid or expired at the provider. Each is a conditional write on the renewal as read; a
//! lost race reads it again (at most eight rounds, then `conflict`).

use super::{
    fulfil, live_lock, load, release_lock, subscription_and_lock, Fulfilled, Payment, PaymentMode, Renewal,
    RenewalLock, RenewalState, SubscriptionAndLock, TermsAcceptance, CHECKOUT_TTL,
};
use crate::domain::audit::{AuditEvent, RequestContext};
use crate::domain::billing::catalogue::Catalogue;
use crate::domain::crypto;
use crate::domain::keys;
use crate::domain::people::account::{CustomerSpace, Person};
use crate::domain::retry::{self, Round};
use crate::ports::payments::{Checkout, CheckoutRequest, Expiry};
use crate::ports::store::{Item, StoreError, Write};
use crate::{domain::services::Services, error::Error, error::ErrorCode, error::Result};

/// How long an abandoned renewal is kept (a late payment still finds it).
const ABANDONED_TTL: i64 = 90 * 86400;

/// How many times a move is read again after losing a race.
const ROUNDS: u32 = 8;

/// My renewal `id`, or not found.
pub async fn mine(services: &Services, person_id: &str, id: &str) -> Result<(Item, Renewal)> {
    if !crypto::is_random_id(id) {
        return Err(Error::new(ErrorCode::NotFound).field("id"));
    }
    match load(services, id).await? {
        Some((item, r)) if r.person_id == person_id => Ok((item, r)),
        _ => Err(Error::new(ErrorCode::NotFound).field("id")),
    }
}

/// What a submit came to.
pub enum Submitted {
    /// Paid or invoiced: by this submit (`now`), or before it. Its notices are the
    /// caller's to send.
    Settled(Fulfilled),
    /// As it stands: awaiting its card payment (the checkout to go to), or a draft.
    Open(Renewal),
}

/// Submits my renewal `id` with the terms of sale accepted (the caller checked they are the
/// current ones). Card: the hosted checkout is opened (a retry answers the same one).
/// Organisation: the invoice is issued and the term extended at once. A renewal already
/// fulfilled answers as it stands.
pub async fn submit(
    services: &Services,
    context: &RequestContext,
    person: &Person,
    id: &str,
    terms: TermsAcceptance,
) -> Result<Submitted> {
    let terms = &terms;
    retry::optimistic(ROUNDS, retry::conflict, || async move {
        let (item, r) = mine(services, &person.id, id).await?;
        match (r.state, r.mode) {
            (RenewalState::Paid | RenewalState::Invoiced, _) => {
                Ok(Round::Done(Submitted::Settled(Fulfilled { item, renewal: r, now: false })))
            }
            (RenewalState::Abandoned, _) => Err(Error::new(ErrorCode::RenewalClosed)),
            (RenewalState::Draft, PaymentMode::Organisation) => {
                invoice_organisation(services, context, person, item, r, terms.clone()).await
            }
            (RenewalState::Draft, PaymentMode::Card) | (RenewalState::AwaitingPayment, PaymentMode::Card)
                if r.checkout.is_none() =>
            {
                open_card_checkout(services, context, person, item, r, terms.clone()).await
            }
            (RenewalState::AwaitingPayment | RenewalState::Draft, _) => Ok(Round::Done(Submitted::Open(r))),
        }
    })
    .await
}

/// Invoices the organisation a draft bills: the membership and the organisation's
/// invoicing are checked again (they may have ended since the draft).
async fn invoice_organisation(
    services: &Services,
    context: &RequestContext,
    person: &Person,
    item: Item,
    r: Renewal,
    terms: TermsAcceptance,
) -> Result<Round<Submitted>> {
    let store = services.store.as_ref();
    let still_member = store.get(&keys::membership(&person.id, &r.buyer.space_id)).await?.is_some();
    let org: Option<CustomerSpace> =
        store.get(&keys::space(&r.buyer.space_id)).await?.map(|i| i.decode()).transpose()?;
    let terms_version = &services.config.payments.terms_version;
    if !still_member || !org.and_then(|o| o.billing).is_some_and(|b| b.invoicing_open(terms_version)) {
        return Err(Error::new(ErrorCode::PaymentModeUnavailable).field("organisation_id"));
    }
    let id = r.id.clone();
    let done = fulfil(services, context, &id, Some((item, r)), &Payment::Organisation { terms }).await?;
    Ok(Round::Done(Submitted::Settled(done)))
}

/// Opens the hosted checkout of a card renewal, then stores the renewal awaiting payment
/// with the terms and the session in one write (a failure of the provider leaves the draft
/// as it was), with the subscription's lock: one card checkout open per subscription (a
/// second renewal would be paid twice), nor one drafted before another renewal extended
/// the term.
async fn open_card_checkout(
    services: &Services,
    context: &RequestContext,
    person: &Person,
    item: Item,
    mut r: Renewal,
    terms: TermsAcceptance,
) -> Result<Round<Submitted>> {
    let SubscriptionAndLock { subscription, lock } = subscription_and_lock(services, &r.subscription_id).await?;
    if lock.as_ref().is_some_and(|(_, l)| l.renewal_id != r.id) {
        return Err(Error::new(ErrorCode::RenewalInProgress));
    }
    if r.base_term_end != 0 && subscription.is_none_or(|(_, s)| s.term_end != r.base_term_end) {
        return Err(Error::new(ErrorCode::RenewalClosed));
    }
    let checkout = open_checkout(services, &r).await?;
    let submitted_now = r.state == RenewalState::Draft;
    let version = terms.version.clone();
    if submitted_now {
        r.terms = Some(terms);
    }
    r.state = RenewalState::AwaitingPayment;
    r.checkout = Some(checkout);
    let mut next = item.next(&r)?;
    next.expires_at = None;
    let mut writes = vec![Write::replace(next)];
    if lock.is_none() {
        let held = RenewalLock { renewal_id: r.id.clone() };
        writes.push(Write::create(
            Item::new(keys::renewal_lock(&r.subscription_id), &held)?.expires_at(services.now() + CHECKOUT_TTL + 300),
        ));
    }
    if submitted_now {
        let event = AuditEvent::new(
            services.now(),
            context,
            "renewal.submitted",
            Some(&person.id),
            format!("subscription:{}", r.subscription_id),
            serde_json::json!({"renewal": r.id, "terms_version": version, "total": r.amounts.total, "currency": r.amounts.currency}),
        );
        writes.push(event.write(&services.new_id())?);
    }
    // A racing submit or the webhook moved it: read it again.
    retry::settle(services.store.transact(writes).await, Submitted::Open(r))
}

/// Opens the hosted checkout of a card renewal. The request is the same, to the byte, for
/// a retry within the same hour (Stripe answers an idempotency key reused with other
/// parameters with an error): the session ends on the hour, 22 to 23 hours from now, and
/// the key names the hour. A retry in a later hour opens another session; the one before was
/// never handed to the buyer (its renewal was not written), and a payment on it would not
/// match the renewal's session.
async fn open_checkout(services: &Services, r: &Renewal) -> Result<Checkout> {
    let hour = services.now().div_euclid(3600);
    let catalogue = Catalogue::shipped().map_err(Error::internal)?;
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

/// Gives up my renewal `id`, not yet paid: its checkout session is ended at the provider
/// (so it takes no payment), the renewal abandoned and the subscription free for another
/// renewal at once. A session paid first is not undone: the answer says so and the webhook
/// fulfils it.
pub async fn cancel(services: &Services, context: &RequestContext, person_id: &str, id: &str) -> Result<Renewal> {
    retry::optimistic(ROUNDS, retry::conflict, || async move {
        let (item, r) = mine(services, person_id, id).await?;
        match r.state {
            RenewalState::Abandoned => return Ok(Round::Done(r)),
            RenewalState::Paid | RenewalState::Invoiced => {
                return Err(Error::new(ErrorCode::Conflict).detail("the renewal is already paid or invoiced"))
            }
            RenewalState::Draft | RenewalState::AwaitingPayment => {}
        }
        if let Some(checkout) = &r.checkout {
            if services.payments.expire_checkout(&checkout.session_id).await? == Expiry::Paid {
                return Err(
                    Error::new(ErrorCode::Conflict).detail("the payment went through first; the renewal completes")
                );
            }
        }
        let detail = serde_json::json!({"renewal": r.id});
        abandon(services, context, &item, r, "renewal.cancelled", detail).await
    })
    .await
}

/// Abandons the renewal read as `item`: kept 90 days (a late payment still finds it), its
/// lock released and the change audited, in one transaction; another round when the
/// renewal moved since it was read.
async fn abandon(
    services: &Services,
    context: &RequestContext,
    item: &Item,
    mut r: Renewal,
    action: &str,
    detail: serde_json::Value,
) -> Result<Round<Renewal>> {
    let lock = live_lock(services, &r.subscription_id).await?;
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
    writes.extend(release_lock(lock.as_ref(), &r.id));
    match services.store.transact(writes).await {
        Ok(()) => Ok(Round::Done(r)),
        Err(StoreError::ConditionFailed(_)) => Ok(Round::Again(())),
        Err(e) => Err(e.into()),
    }
}

/// A checkout session as the payment provider reports it in a webhook.
pub struct CheckoutReport {
    /// The provider's session id.
    pub session_id: String,
    /// The renewal it pays for (its `client_reference_id`, a random id).
    pub renewal_id: String,
    /// The amount taken, in cents.
    pub amount_total: Option<i64>,
    /// Its currency.
    pub currency: Option<String>,
    /// The payment's reference.
    pub payment_intent: Option<String>,
}

/// A paid checkout: it fulfils its renewal — once, however many times and in whatever
/// order it is reported — when it is the session the renewal handed the buyer to, in a
/// state that awaits (or had) its payment, for the amount and currency of its invoice.
/// Otherwise the money taken is recorded for reconciliation (a refund or a manual
/// fulfilment), never fulfilled: `not_found` or `payment_mismatch`.
pub async fn on_paid(services: &Services, context: &RequestContext, report: CheckoutReport) -> Result<Fulfilled> {
    let renewal_id = report.renewal_id.as_str();
    let Some((item, r)) = load(services, renewal_id).await? else {
        tracing::error!(renewal = %renewal_id, session = %report.session_id, "a paid checkout for an unknown renewal");
        let unknown = serde_json::json!("unknown");
        record_unmatched(services, context, &report, unknown, serde_json::Value::Null).await?;
        return Err(Error::new(ErrorCode::NotFound));
    };
    let same_session = r.checkout.as_ref().is_some_and(|c| c.session_id == report.session_id);
    let same_amount = report.amount_total == Some(r.amounts.total)
        && report.currency.as_deref().is_some_and(|c| c.eq_ignore_ascii_case(&r.amounts.currency));
    let awaited = matches!(r.state, RenewalState::AwaitingPayment | RenewalState::Abandoned | RenewalState::Paid);
    if r.mode != PaymentMode::Card || !same_session || !same_amount || !awaited {
        let why = "a paid checkout that does not match its renewal: not fulfilled";
        tracing::error!(renewal = %renewal_id, session = %report.session_id, "{why}");
        let expected = serde_json::json!({"amount": r.amounts.total, "currency": r.amounts.currency});
        record_unmatched(services, context, &report, serde_json::json!(r.state), expected).await?;
        return Err(Error::new(ErrorCode::PaymentMismatch));
    }
    let reference = report.payment_intent.unwrap_or(report.session_id);
    fulfil(services, context, renewal_id, Some((item, r)), &Payment::Card { reference }).await
}

/// What an expired (or failed) checkout came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expired {
    /// Its renewal was abandoned.
    Abandoned,
    /// No such renewal.
    UnknownRenewal,
    /// Not the renewal's card session (a newer one, or none).
    NotThisSession,
    /// Its renewal is paid or abandoned already.
    AlreadySettled,
}

/// An expired (or failed) checkout: its renewal, still awaiting that session's payment,
/// is abandoned (its `event` recorded in the audit detail).
pub async fn on_expired(
    services: &Services,
    context: &RequestContext,
    renewal_id: &str,
    session_id: &str,
    event: &str,
) -> Result<Expired> {
    retry::optimistic(ROUNDS, retry::conflict, || async move {
        let Some((item, r)) = load(services, renewal_id).await? else {
            return Ok(Round::Done(Expired::UnknownRenewal));
        };
        if r.mode != PaymentMode::Card || r.checkout.as_ref().is_none_or(|c| c.session_id != session_id) {
            return Ok(Round::Done(Expired::NotThisSession));
        }
        if r.state != RenewalState::AwaitingPayment {
            return Ok(Round::Done(Expired::AlreadySettled));
        }
        let detail = serde_json::json!({"renewal": r.id, "event": event});
        Ok(match abandon(services, context, &item, r, "renewal.abandoned", detail).await? {
            Round::Done(_) => Round::Done(Expired::Abandoned),
            Round::Again(()) => Round::Again(()),
        })
    })
    .await
}

/// Records a payment that fulfils nothing (for a refund or a manual fulfilment).
async fn record_unmatched(
    services: &Services,
    context: &RequestContext,
    report: &CheckoutReport,
    renewal_state: serde_json::Value,
    expected: serde_json::Value,
) -> Result<()> {
    let detail = serde_json::json!({
        "session": report.session_id,
        "amount": report.amount_total,
        "currency": report.currency,
        "payment": report.payment_intent,
        "renewal_state": renewal_state,
        "expected": expected,
    });
    let subject = format!("renewal:{}", report.renewal_id);
    let event = AuditEvent::new(services.now(), context, "payment.unmatched", None, subject, detail);
    Ok(services.store.write(event.write(&services.new_id())?).await?)
}
