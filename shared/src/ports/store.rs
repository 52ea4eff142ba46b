//! The store port: a single-table item store with the semantics of DynamoDB.
//!
//! Items live under a partition key and a sort key, carry a JSON body, a version for
//! optimistic concurrency, an optional expiry (TTL) and an optional secondary index key.
//! Every access is a key lookup or a query on one partition; every state transition is a
//! conditional write or a transaction. An expired item reads as absent everywhere, even
//! before the database has removed it.

use async_trait::async_trait;
use serde::{de::DeserializeOwned, Serialize};

/// The primary key of an item.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    /// Partition key (`pk`).
    pub pk: String,
    /// Sort key (`sk`).
    pub sk: String,
}

impl Key {
    /// Builds a key.
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Key { pk: pk.into(), sk: sk.into() }
    }
}

/// One stored item.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// Its key.
    pub key: Key,
    /// Incremented by every write; conditions compare it.
    pub version: u64,
    /// Unix seconds after which the item reads as absent (DynamoDB TTL attribute `ttl`).
    pub expires_at: Option<i64>,
    /// Secondary index key (`gsi1pk`, `gsi1sk`), when the item is indexed.
    pub gsi1: Option<Key>,
    /// The entity, as JSON.
    pub body: String,
}

impl Item {
    /// Serializes an entity into a new item (version 1).
    pub fn new<T: Serialize>(key: Key, body: &T) -> Result<Self, StoreError> {
        Ok(Item {
            key,
            version: 1,
            expires_at: None,
            gsi1: None,
            body: serde_json::to_string(body).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        })
    }

    /// The next version of this item with a new body (same key, index and expiry).
    pub fn next<T: Serialize>(&self, body: &T) -> Result<Self, StoreError> {
        Ok(Item {
            key: self.key.clone(),
            version: self.version + 1,
            expires_at: self.expires_at,
            gsi1: self.gsi1.clone(),
            body: serde_json::to_string(body).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        })
    }

    /// Sets the expiry.
    pub fn expires_at(mut self, at: i64) -> Self {
        self.expires_at = Some(at);
        self
    }

    /// Sets the secondary index key.
    pub fn gsi1(mut self, key: Key) -> Self {
        self.gsi1 = Some(key);
        self
    }

    /// Decodes the body.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, StoreError> {
        serde_json::from_str(&self.body)
            .map_err(|e| StoreError::Corrupt(format!("{}/{}: {e}", self.key.pk, self.key.sk)))
    }

    /// Whether the item reads as absent at `now`.
    pub fn is_expired(&self, now: i64) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }
}

/// The condition a write needs to hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    /// No condition.
    None,
    /// The item must be absent (or expired).
    Absent,
    /// The item must exist, not be expired, and be at this version.
    Version(u64),
}

/// One write, alone or in a transaction.
#[derive(Debug, Clone)]
pub enum Write {
    /// Put (create or replace) an item.
    Put {
        /// The item.
        item: Item,
        /// The condition.
        condition: Condition,
    },
    /// Delete an item.
    Delete {
        /// The key.
        key: Key,
        /// The condition.
        condition: Condition,
    },
    /// Only check a condition on an item, inside a transaction.
    Check {
        /// The key.
        key: Key,
        /// The condition.
        condition: Condition,
    },
}

impl Write {
    /// A put that creates the item; fails if it exists.
    pub fn create(item: Item) -> Self {
        Write::Put { item, condition: Condition::Absent }
    }

    /// A put that replaces the version the caller read; fails if anyone wrote since.
    pub fn replace(item: Item) -> Self {
        let condition = Condition::Version(item.version - 1);
        Write::Put { item, condition }
    }

    /// The key this write touches.
    pub fn key(&self) -> &Key {
        match self {
            Write::Put { item, .. } => &item.key,
            Write::Delete { key, .. } | Write::Check { key, .. } => key,
        }
    }
}

/// Store failures. A failed condition is an expected outcome, the rest are not.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// A condition did not hold (for a transaction: the index of the first failed write).
    #[error("condition failed (write {0:?})")]
    ConditionFailed(Option<usize>),
    /// The database could not be reached or refused the call; the step may be retried.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// A stored body does not decode: a bug or a corrupted item.
    #[error("corrupt item: {0}")]
    Corrupt(String),
}

impl From<StoreError> for crate::error::Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::ConditionFailed(_) => crate::error::Error::new(crate::error::ErrorCode::Conflict),
            StoreError::Unavailable(cause) => crate::error::Error::unavailable(cause),
            StoreError::Corrupt(cause) => crate::error::Error::internal(cause),
        }
    }
}

/// The store port.
#[async_trait]
pub trait Store: Send + Sync {
    /// Reads one item; expired items read as absent.
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError>;

    /// Reads up to 100 items in one call (DynamoDB's BatchGetItem, strongly consistent),
    /// answered in the order of `keys`; expired items read as absent.
    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError>;

    /// Applies one conditional write.
    async fn write(&self, write: Write) -> Result<(), StoreError>;

    /// Applies up to 100 writes atomically: all conditions hold and all writes apply,
    /// or nothing does.
    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError>;

    /// The items of one partition whose sort key starts with `sk_prefix`, in sort-key
    /// order, at most `limit`.
    async fn query(&self, pk: &str, sk_prefix: &str, limit: usize) -> Result<Vec<Item>, StoreError>;

    /// The items whose secondary index partition is `gsi1pk` and whose index sort key
    /// starts with `sk_prefix`, in index sort-key order, at most `limit`.
    async fn query_gsi1(&self, gsi1pk: &str, sk_prefix: &str, limit: usize) -> Result<Vec<Item>, StoreError>;
}
