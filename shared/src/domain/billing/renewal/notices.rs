//! The emails that follow a fulfilment (the receipt; the organisation's invoice and the
//! member's confirmation), each sent once under a claim, and the daily run that takes over
//! what a crashed sender left.

use super::{load, notices_due, Fulfilled, Notice, Renewal, NOTICE_LEASE};
use crate::domain::calendar;
use crate::domain::keys;
use crate::domain::messages;
use crate::domain::people::account::Person;
use crate::ports::store::{Condition, Write};
use crate::ports::Email;
use crate::{domain::services::Services, error::Error, error::ErrorCode, error::Result};
use serde::{Deserialize, Serialize};

/// The index entry of a renewal whose notices are not all sent (`NOTICEPENDING`, one item
/// per renewal): written with the fulfilment, deleted once they are, read by the scheduled
/// run that takes over what a crashed sender left.
#[derive(Serialize, Deserialize)]
pub(super) struct PendingNotice {
    pub(super) renewal_id: String,
    pub(super) since: i64,
}

/// Sends the notices a fulfilled renewal still owes — the receipt (card), or the invoice to
/// the organisation's billing contact and the confirmation to the member (organisation) —
/// each once. The fulfilment claimed them (`f.now`); otherwise they are claimed here, unless
/// another sender holds a claim younger than [`NOTICE_LEASE`]. What was sent is recorded and
/// the claim released together; a failed send answers `delivery_failed`, and a retry (the
/// submit again, the provider's next delivery of the webhook, or the scheduled run of
/// [`send_pending_notices`]) sends the rest. `person` is the member, when already read.
pub async fn send_notices(services: &Services, f: Fulfilled, person: Option<&Person>) -> Result<()> {
    let Fulfilled { mut item, mut renewal, now: claimed } = f;
    let Some(number) = renewal.invoice_number.clone() else { return Ok(()) };
    let due: Vec<Notice> =
        notices_due(renewal.mode).iter().copied().filter(|n| !renewal.notices.sent.contains(n)).collect();
    if due.is_empty() {
        return Ok(());
    }
    let store = services.store.as_ref();
    let now = services.now();
    if !claimed {
        if renewal.notices.claimed_at.is_some_and(|at| now - at < NOTICE_LEASE) {
            // Another sender is at it.
            return Ok(());
        }
        renewal.notices.claimed_at = Some(now);
        let next = item.next(&renewal)?;
        match store.write(Write::replace(next.clone())).await {
            Ok(()) => item = next,
            // Someone else claimed (or moved) it: theirs to send.
            Err(crate::ports::store::StoreError::ConditionFailed(_)) => return Ok(()),
            Err(e) => return Err(e.into()),
        }
    }
    let mut failure = None;
    for notice in due.iter().copied() {
        let Some(email) = notice_email(services, &renewal, notice, &number, person).await? else {
            // The member's account is gone: nobody to confirm to.
            renewal.notices.sent.push(notice);
            continue;
        };
        match services.mailer.send(&email).await {
            Ok(()) => renewal.notices.sent.push(notice),
            Err(e) => {
                tracing::warn!(renewal = %renewal.id, error = %e, "renewal notice not sent; a retry sends it");
                failure = Some(e);
                break;
            }
        }
    }
    // What went out, and the claim released (a retry may take over at once).
    renewal.notices.claimed_at = None;
    let mut writes = vec![Write::replace(item.next(&renewal)?)];
    if failure.is_none() {
        writes.push(Write::Delete { key: keys::pending_notice(&renewal.id), condition: Condition::None });
    }
    if let Err(e) = store.transact(writes).await {
        let why = "notices sent but not recorded; the claim lapses and a retry may send them again";
        tracing::warn!(renewal = %renewal.id, error = %e, "{why}");
    }
    match failure {
        Some(_) => Err(Error::new(ErrorCode::DeliveryFailed).retry_after(5)),
        None => Ok(()),
    }
}

/// Takes over the notices a sender claimed and never finished (it crashed, or timed out):
/// every pending entry older than [`NOTICE_LEASE`]. Run by the daily schedule with the
/// reminders; returns how many renewals it completed.
pub async fn send_pending_notices(services: &Services) -> Result<usize> {
    let now = services.now();
    let mut done = 0;
    for entry in services.store.query(keys::PENDING_NOTICES, "", 1000).await? {
        // One bad entry never stops the others.
        let key = entry.key.clone();
        let result: Result<bool> = async {
            let entry: PendingNotice = entry.decode()?;
            if now - entry.since < NOTICE_LEASE {
                return Ok(false);
            }
            let Some((item, renewal)) = load(services, &entry.renewal_id).await? else {
                services.store.write(Write::Delete { key: key.clone(), condition: Condition::None }).await?;
                return Ok(false);
            };
            if notices_due(renewal.mode).iter().all(|n| renewal.notices.sent.contains(n)) {
                // All sent; only the entry's deletion was lost.
                services.store.write(Write::Delete { key: key.clone(), condition: Condition::None }).await?;
                return Ok(false);
            }
            send_notices(services, Fulfilled { item, renewal, now: false }, None).await?;
            Ok(true)
        }
        .await;
        match result {
            Ok(true) => done += 1,
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(entry = %key.sk, error = %e, "pending renewal notices not sent; the next run tries again")
            }
        }
    }
    Ok(done)
}

/// The email of one notice; `None` when its recipient's account is gone.
async fn notice_email(
    services: &Services,
    renewal: &Renewal,
    notice: Notice,
    number: &str,
    person: Option<&Person>,
) -> Result<Option<Email>> {
    let term_end = renewal.new_term_end.unwrap_or_default();
    let ends = &calendar::utc_day(term_end);
    let total = format!(
        "{} {}",
        crate::domain::billing::catalogue::format_amount(renewal.amounts.total),
        renewal.amounts.currency
    );
    let link = services.portal_link(&format!("/invoices/{number}"));
    Ok(Some(match notice {
        Notice::Receipt => messages::renewal_receipt(&renewal.buyer.email, number, &total, ends, &link, renewal.locale),
        Notice::OrganisationInvoice => messages::organisation_invoice(
            &renewal.buyer.email,
            &renewal.buyer.name,
            number,
            &total,
            &link,
            renewal.locale,
        ),
        Notice::MemberConfirmation => {
            let read = match person {
                Some(_) => None,
                None => services
                    .store
                    .get(&keys::person(&renewal.person_id))
                    .await?
                    .map(|i| i.decode::<Person>())
                    .transpose()?,
            };
            match person.or(read.as_ref()) {
                Some(p) => messages::renewal_invoiced(p.email.as_str(), &renewal.buyer.name, number, ends, p.locale),
                None => return Ok(None),
            }
        }
    }))
}
