//! Optimistic concurrency, the one way: read, decide, write on condition that nothing
//! changed since the read; a lost race reads again. Every such loop is bounded (each retry
//! follows a write that won, so contention resolves in about as many rounds as writers),
//! and says what it gives up with.

use crate::ports::store::StoreError;
use crate::{error::Error, error::ErrorCode};
use std::future::Future;

/// What one round of an optimistic update came to.
#[derive(Debug)]
pub enum Round<T, S = ()> {
    /// Done: the value to return.
    Done(T),
    /// The race was lost: another round, from this state (what the lost write taught).
    Again(S),
}

/// Runs `round` until it is done, at most `rounds` times; past that, `exhausted()`.
pub async fn optimistic<T, E, Fut>(
    rounds: u32,
    exhausted: impl FnOnce() -> E,
    mut round: impl FnMut() -> Fut,
) -> Result<T, E>
where
    Fut: Future<Output = Result<Round<T>, E>>,
{
    for _ in 0..rounds {
        if let Round::Done(value) = round().await? {
            return Ok(value);
        }
    }
    Err(exhausted())
}

/// [`optimistic`] where each round starts from what the previous one learnt: `state` is
/// given to the first round, and each lost race hands the next one its state.
pub async fn optimistic_from<S, T, E, Fut>(
    rounds: u32,
    exhausted: impl FnOnce() -> E,
    mut state: S,
    mut round: impl FnMut(S) -> Fut,
) -> Result<T, E>
where
    Fut: Future<Output = Result<Round<T, S>, E>>,
{
    for _ in 0..rounds {
        match round(state).await? {
            Round::Done(value) => return Ok(value),
            Round::Again(next) => state = next,
        }
    }
    Err(exhausted())
}

/// The round's outcome from a conditional write: `value` when it was written, another
/// round when its condition failed (someone wrote first), the error otherwise.
pub fn settle<T, E: From<StoreError>>(written: Result<(), StoreError>, value: T) -> Result<Round<T>, E> {
    match written {
        Ok(()) => Ok(Round::Done(value)),
        Err(StoreError::ConditionFailed(_)) => Ok(Round::Again(())),
        Err(e) => Err(e.into()),
    }
}

/// A conditional write made once (not in a loop): a failed condition — someone wrote first —
/// is a `conflict`, the client's to retry.
pub fn or_conflict(written: Result<(), StoreError>) -> Result<(), Error> {
    written.map_err(|e| match e {
        StoreError::ConditionFailed(_) => conflict(),
        e => e.into(),
    })
}

/// Too many lost races: the client may retry in a second.
pub fn busy() -> Error {
    Error::new(ErrorCode::ServiceUnavailable).retry_after(1)
}

/// Too many lost races where the state moved under the step: a conflict.
pub fn conflict() -> Error {
    Error::new(ErrorCode::Conflict)
}
