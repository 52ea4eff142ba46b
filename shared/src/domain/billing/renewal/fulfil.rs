//! Fulfilment: the subscription extended and the invoice issued, exactly once, in one
//! transaction (the renewal's state conditional on the version read, the invoice with the
//! next number of its series, the subscription's new term, its expiry index entry, the
//! audit event, the pending-notice entry, the lock released or checked absent).

use super::notices::PendingNotice;
use super::{
    extended_term, load, release_lock, subscription_and_lock, Invoice, Notices, PaymentMode, Renewal, RenewalLock,
    RenewalState, Settlement, SubscriptionAndLock, TermsAcceptance,
};
use crate::domain::audit::{AuditEvent, RequestContext};
use crate::domain::billing::catalogue::Catalogue;
use crate::domain::billing::invoice;
use crate::domain::keys;
use crate::domain::retry::{self, Round};
use crate::domain::signatures::subscription::{self, Subscription, SubscriptionStatus};
use crate::ports::store::{Condition, Item, Write};
use crate::{domain::services::Services, error::Error, error::ErrorCode, error::Result};

/// How a fulfilment is settled.
pub enum Payment {
    /// The provider confirmed a card payment.
    Card {
        /// Its reference.
        reference: String,
    },
    /// The organisation is invoiced; the terms are accepted in the same transaction.
    Organisation {
        /// The terms accepted now.
        terms: TermsAcceptance,
    },
}

/// A renewal after [`fulfil`].
pub struct Fulfilled {
    /// Its item as stored.
    pub item: Item,
    /// The renewal.
    pub renewal: Renewal,
    /// Whether this call fulfilled it (and so claimed its notices, to send now).
    pub now: bool,
}

/// Extends the subscription and issues the invoice, exactly once: returns the renewal as
/// it now stands (already fulfilled ones are returned as they are). `read` is the renewal
/// when the caller has just read it (it is read again only after a lost race). The notices
/// are claimed in the same transaction: the caller sends them ([`super::send_notices`]).
pub async fn fulfil(
    services: &Services,
    context: &RequestContext,
    renewal_id: &str,
    read: Option<(Item, Renewal)>,
    payment: &Payment,
) -> Result<Fulfilled> {
    retry::optimistic_from(32, retry::busy, read, |read| fulfil_round(services, context, renewal_id, read, payment))
        .await
}

/// What one fulfilment writes, besides the invoice number its series gives.
struct Fulfilment<'a> {
    item: &'a Item,
    renewal: &'a Renewal,
    sub_item: &'a Item,
    sub: &'a Subscription,
    lock: Option<&'a (Item, RenewalLock)>,
    state: RenewalState,
    settlement: Settlement,
    terms: TermsAcceptance,
    now: i64,
}

/// One round of [`fulfil`] on the renewal as `read` holds it (or read now).
async fn fulfil_round(
    services: &Services,
    context: &RequestContext,
    renewal_id: &str,
    read: Option<(Item, Renewal)>,
    payment: &Payment,
) -> Result<Round<Fulfilled, Option<(Item, Renewal)>>> {
    let (item, renewal) = match read {
        Some(found) => found,
        None => load(services, renewal_id).await?.ok_or_else(|| Error::new(ErrorCode::NotFound))?,
    };
    if matches!(renewal.state, RenewalState::Paid | RenewalState::Invoiced) {
        return Ok(Round::Done(Fulfilled { item, renewal, now: false }));
    }
    let SubscriptionAndLock { subscription, lock } = subscription_and_lock(services, &renewal.subscription_id).await?;
    let (sub_item, sub) = subscription.ok_or_else(|| Error::internal("renewal of a missing subscription"))?;
    // A card payment releases its own lock; an organisation's invoice is refused while
    // another renewal's checkout is open.
    if matches!(payment, Payment::Organisation { .. }) {
        if lock.as_ref().is_some_and(|(_, l)| l.renewal_id != renewal.id) {
            return Err(Error::new(ErrorCode::RenewalInProgress));
        }
        // Another renewal extended the term since this one was drafted.
        if renewal.base_term_end != 0 && renewal.base_term_end != sub.term_end {
            return Err(Error::new(ErrorCode::RenewalClosed));
        }
    }
    let now = services.now();
    let sub = renewed(sub, &renewal, now);
    let (state, settlement, terms) = settlement(services, &renewal, payment, now)?;
    let catalogue = Catalogue::shipped().map_err(Error::internal)?;
    let fulfilment = Fulfilment {
        item: &item,
        renewal: &renewal,
        sub_item: &sub_item,
        sub: &sub,
        lock: lock.as_ref(),
        state,
        settlement,
        terms,
        now,
    };
    let mut written = None;
    let result = invoice::issue_numbered(services, &invoice::series_of(now), |number| {
        let (writes, done) = fulfilment_writes(services, context, catalogue, &fulfilment, number)?;
        written = Some(done);
        Ok(writes)
    })
    .await;
    match result {
        Ok(number) => {
            tracing::info!(renewal = %renewal.id, invoice = %number, "renewal fulfilled");
            let (item, renewal) = written.ok_or_else(|| Error::internal("fulfilment wrote nothing"))?;
            Ok(Round::Done(Fulfilled { item, renewal, now: true }))
        }
        // The renewal or the subscription moved (a racing delivery, another renewal of
        // the same subscription): read them again.
        Err(e) if e.code == ErrorCode::Conflict => Ok(Round::Again(None)),
        Err(e) => Err(e),
    }
}

/// The subscription with its new term. The certificate ends with the old term: the
/// signature needs an update (seed 000, step 4: recover it after paying).
fn renewed(mut sub: Subscription, renewal: &Renewal, now: i64) -> Subscription {
    let (term_start, term_end) = extended_term(&sub, renewal.term_months, now);
    sub.term_start = term_start;
    sub.term_end = term_end;
    if sub.status == SubscriptionStatus::Functional && sub.certificate.as_ref().is_some_and(|c| c.not_after < term_end)
    {
        sub.status = SubscriptionStatus::NeedsUpdate;
    }
    sub
}

/// The renewal's new state, how its invoice is settled and the terms it was accepted with.
fn settlement(
    services: &Services,
    renewal: &Renewal,
    payment: &Payment,
    now: i64,
) -> Result<(RenewalState, Settlement, TermsAcceptance)> {
    Ok(match payment {
        Payment::Card { reference } => {
            let terms =
                renewal.terms.clone().ok_or_else(|| Error::internal("a paid renewal without accepted terms"))?;
            (RenewalState::Paid, Settlement::Paid { paid_at: now, reference: reference.clone() }, terms)
        }
        Payment::Organisation { terms } => {
            let due_at = now + services.config.payments.invoice_payment_days * 86400;
            (RenewalState::Invoiced, Settlement::Due { due_at }, terms.clone())
        }
    })
}

/// The writes of a fulfilment with invoice `number`, and the renewal as they store it.
fn fulfilment_writes(
    services: &Services,
    context: &RequestContext,
    catalogue: &Catalogue,
    f: &Fulfilment<'_>,
    number: &str,
) -> Result<(Vec<Write>, (Item, Renewal))> {
    let (renewal, now, term_end) = (f.renewal, f.now, f.sub.term_end);
    let mut done = renewal.clone();
    done.state = f.state;
    done.terms = Some(f.terms.clone());
    done.invoice_number = Some(number.to_owned());
    done.new_term_end = Some(term_end);
    done.notices = Notices { sent: Vec::new(), claimed_at: Some(now) };
    let invoice = Invoice {
        number: number.to_owned(),
        issued_at: now,
        seller: catalogue.seller.clone(),
        buyer: renewal.buyer.clone(),
        ordered_by: renewal.person_id.clone(),
        renewal_id: renewal.id.clone(),
        subscription_id: renewal.subscription_id.clone(),
        term_end,
        amounts: renewal.amounts.clone(),
        mode: renewal.mode,
        settlement: f.settlement.clone(),
        terms: f.terms.clone(),
        locale: renewal.locale,
    };
    let mut renewal_item = f.item.next(&done)?;
    renewal_item.expires_at = None;
    let event = AuditEvent::new(
        now,
        context,
        match renewal.mode {
            PaymentMode::Card => "renewal.paid",
            PaymentMode::Organisation => "renewal.invoiced",
        },
        Some(&renewal.person_id),
        format!("subscription:{}", renewal.subscription_id),
        serde_json::json!({
            "renewal": renewal.id,
            "invoice": number,
            "total": renewal.amounts.total,
            "currency": renewal.amounts.currency,
            "term_end": term_end,
            "terms_version": f.terms.version,
        }),
    );
    let mut writes = vec![
        Write::replace(renewal_item.clone()),
        Write::create(
            Item::new(keys::invoice(number), &invoice)?
                .gsi1(keys::space_invoice_index(&invoice.buyer.space_id, number)),
        ),
        Write::replace(f.sub_item.next(f.sub)?),
    ];
    let mut index = subscription::creation_writes(f.sub)?.swap_remove(1);
    if let Write::Put { condition, .. } = &mut index {
        *condition = Condition::None;
    }
    writes.push(index);
    writes.push(event.write(&services.new_id())?);
    let pending = PendingNotice { renewal_id: renewal.id.clone(), since: now };
    writes
        .push(Write::Put { item: Item::new(keys::pending_notice(&renewal.id), &pending)?, condition: Condition::None });
    match (f.lock, release_lock(f.lock, &renewal.id)) {
        (_, Some(release)) => writes.push(release),
        // No live lock: none may appear meanwhile (a card checkout opening).
        (None, None) => writes
            .push(Write::Check { key: keys::renewal_lock(&renewal.subscription_id), condition: Condition::Absent }),
        (Some(_), None) => {}
    }
    Ok((writes, (renewal_item, done)))
}
