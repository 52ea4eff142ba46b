//! Renewal reminders: 30, 7 and 1 days before a subscription's term ends, its holder is
//! emailed once each, in their language. A scheduled run (daily) reads the index of the days
//! concerned; each reminder is claimed by a conditional create before it is sent, so runs
//! that overlap or repeat the same day send nothing twice, and a failed send gives the claim
//! back for the next run.

use crate::domain::calendar;
use crate::domain::keys;
use crate::domain::people::account::Person;
use crate::domain::signatures::subscription::Subscription;
use crate::ports::store::{Item, Key, StoreError, Write};
use crate::{domain::messages, domain::services::Services, error::Result};
use serde::{Deserialize, Serialize};

/// Days before the end of the term when a reminder goes out.
pub const DAYS_BEFORE: [i64; 3] = [30, 7, 1];

#[derive(Deserialize)]
struct Entry {
    subscription_id: String,
}

#[derive(Serialize)]
struct Claim {
    sent_at: i64,
}

fn claim_key(sub: &Subscription, days: i64) -> Key {
    keys::reminder_claim(&sub.id, sub.term_end, days)
}

/// Sends the reminders due at `now`; returns how many were sent.
pub async fn run(services: &Services, now: i64) -> Result<usize> {
    let store = services.store.as_ref();
    let mut sent = 0;
    for days in DAYS_BEFORE {
        let day = &calendar::utc_day(now + days * 86400);
        for entry in store.query(&keys::expiry_partition(day), keys::SUBSCRIPTION_PREFIX, 1000).await? {
            let entry: Entry = entry.decode()?;
            let Some(item) = store.get(&keys::subscription(&entry.subscription_id)).await? else {
                continue;
            };
            let sub: Subscription = item.decode()?;
            // The term moved (renewed) since the entry was written: not this day's.
            if &calendar::utc_day(sub.term_end) != day {
                continue;
            }
            let Some(person) = store.get(&keys::person(&sub.holder_id)).await? else { continue };
            let person: Person = person.decode()?;
            let claim =
                Item::new(claim_key(&sub, days), &Claim { sent_at: now })?.expires_at(sub.term_end + 31 * 86400);
            match store.write(Write::create(claim)).await {
                Ok(()) => {}
                Err(StoreError::ConditionFailed(_)) => continue,
                Err(e) => return Err(e.into()),
            }
            let (fr, en) = sub.product.names();
            let email = messages::renewal_reminder(
                person.email.as_str(),
                person.locale.pick(fr, en),
                days,
                &calendar::utc_day(sub.term_end),
                &services.portal_link(&format!("/subscriptions/{}/renew", sub.id)),
                person.locale,
            );
            if let Err(e) = services.mailer.send(&email).await {
                tracing::warn!(subscription = %sub.id, error = %e, "renewal reminder not sent; the next run tries again");
                let _ = store
                    .write(Write::Delete {
                        key: claim_key(&sub, days),
                        condition: crate::ports::store::Condition::None,
                    })
                    .await;
                continue;
            }
            sent += 1;
        }
    }
    Ok(sent)
}
