//! Invoice numbers: unique and gapless per series (a year), assigned at issuance in the same
//! transaction as the invoice itself. The series counter (`INVOICESERIES#<series>`) moves by
//! a conditional write in that transaction, so a number is used exactly when an invoice is
//! stored with it: a declined or abandoned payment never consumes one, and racing issuances
//! each get the next number, one at a time.

use crate::domain::keys;
use crate::domain::retry::{self, Round};
use crate::ports::store::{Item, StoreError, Write};
use crate::{domain::services::Services, error::Result};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct Counter {
    /// The next number to give.
    next: u64,
}

/// The series of a time: its UTC year (`2026`).
pub fn series_of(unix: i64) -> String {
    crate::domain::calendar::utc(unix)[..4].to_owned()
}

/// An invoice number as printed: `<series>-<six digits>` (`2026-000042`).
pub fn format_number(series: &str, n: u64) -> String {
    format!("{series}-{n:06}")
}

/// Assigns the next number of `series` and stores, in the same transaction, the writes
/// `issue(number)` returns (the issued invoice and whatever goes with it). A lost race is
/// tried again with the next number; at most as many rounds as racing issuers.
pub async fn issue_numbered(
    services: &Services,
    series: &str,
    issue: impl FnMut(&str) -> Result<Vec<Write>>,
) -> Result<String> {
    let store = services.store.as_ref();
    let key = &keys::invoice_counter(series);
    retry::optimistic_from(256, retry::busy, issue, |mut issue| async move {
        let current = store.get(key).await?;
        let (n, counter_write) = match &current {
            Some(item) => {
                let n = item.decode::<Counter>()?.next;
                (n, Write::replace(item.next(&Counter { next: n + 1 })?))
            }
            None => (1, Write::create(Item::new(key.clone(), &Counter { next: 2 })?)),
        };
        let number = format_number(series, n);
        let mut writes = vec![counter_write];
        writes.extend(issue(&number)?);
        match store.transact(writes).await {
            Ok(()) => Ok(Round::Done(number)),
            Err(StoreError::ConditionFailed(_)) => {
                // Another issuance took the number: try the next. If the counter did not move,
                // the caller's own writes failed their condition: no number is used, and
                // trying again would fail again.
                let now = store.get(key).await?;
                if now.as_ref().map(|i| i.version) == current.as_ref().map(|i| i.version) {
                    return Err(retry::conflict());
                }
                Ok(Round::Again(issue))
            }
            Err(e) => Err(e.into()),
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    #[test]
    fn numbers_read_by_series() {
        assert_eq!(super::format_number("2026", 42), "2026-000042");
        assert_eq!(super::series_of(1_795_000_000), "2026");
    }
}
