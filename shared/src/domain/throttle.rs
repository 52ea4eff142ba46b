//! Fixed-window rate limits kept in the store (one small item per key and window, with a
//! TTL), so that every Lambda instance sees the same counts.

use crate::domain::keys;
use crate::domain::retry::{self, Round};
use crate::ports::store::{Item, Store, StoreError, Write};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct Window {
    count: u32,
}

/// The outcome of [`hit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Throttled {
    /// Allowed; counted.
    Allowed,
    /// Over the limit; retry after this many seconds.
    Limited(u64),
}

/// The events counted for `key` in the current window (without counting one).
pub async fn count(store: &dyn Store, scope: &str, key: &str, window: i64, now: i64) -> Result<u32, StoreError> {
    let start = now - now.rem_euclid(window);
    match store.get(&keys::throttle_window(scope, key, start)).await? {
        Some(item) => Ok(item.decode::<Window>()?.count),
        None => Ok(0),
    }
}

/// Counts one event for `key` in the current window of `window` seconds and tells
/// whether it stays within `limit`. Concurrent hits are serialized by conditional writes.
pub async fn hit(
    store: &dyn Store,
    scope: &str,
    key: &str,
    window: i64,
    limit: u32,
    now: i64,
) -> Result<Throttled, StoreError> {
    let start = now - now.rem_euclid(window);
    let item_key = keys::throttle_window(scope, key, start);
    // Each retry follows a write that won: contention resolves in as many rounds as writers.
    let item_key = &item_key;
    let exhausted = || StoreError::Unavailable("throttle contention".into());
    retry::optimistic(32, exhausted, || async move {
        let current = store.get(item_key).await?;
        let (write, count) = match &current {
            None => (Write::create(Item::new(item_key.clone(), &Window { count: 1 })?.expires_at(start + window)), 1),
            Some(item) => {
                let count = item.decode::<Window>()?.count + 1;
                if count > limit {
                    return Ok(Round::Done(Throttled::Limited((start + window - now).max(1) as u64)));
                }
                (Write::replace(item.next(&Window { count })?), count)
            }
        };
        let outcome =
            if count > limit { Throttled::Limited((start + window - now).max(1) as u64) } else { Throttled::Allowed };
        retry::settle(store.write(write).await, outcome)
    })
    .await
}

/// Counts one event like [`hit`] and refuses it with `too_many_requests` (and the wait)
/// when over the limit.
pub async fn enforce(
    store: &dyn Store,
    scope: &str,
    key: &str,
    window: i64,
    limit: u32,
    now: i64,
) -> crate::error::Result<()> {
    match hit(store, scope, key, window, limit, now).await? {
        Throttled::Allowed => Ok(()),
        Throttled::Limited(wait) => {
            Err(crate::error::Error::new(crate::error::ErrorCode::TooManyRequests).retry_after(wait))
        }
    }
}
