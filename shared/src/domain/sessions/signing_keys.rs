//! The access-token signing keys as stored (sealed by the key service), their rotation,
//! and the ring each instance loads from them and keeps a few minutes.

use super::access_token::{generate, KeyRing, TokenKeys};
use crate::domain::keys;
use crate::domain::services::Services;
use crate::error::{Error, ErrorCode, Result};
use crate::ports::store::{Item, Write};
use crate::ports::{EncryptionContext, Sealed};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// One signing key as stored: the private key sealed, the public key in clear.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredSigningKey {
    /// Key id (`kid`).
    pub kid: String,
    /// Unix seconds.
    pub created_at: i64,
    /// The PKCS#8 private key, sealed with context `purpose=token-signing`, `kid=<kid>`.
    pub private_key: Sealed,
    /// Public point coordinates, base64url (JWK `x`, `y`).
    pub x: String,
    /// See `x`.
    pub y: String,
}

fn signing_context(kid: &str) -> EncryptionContext {
    EncryptionContext::from([("purpose".to_owned(), "token-signing".to_owned()), ("kid".to_owned(), kid.to_owned())])
}

/// Adds a new signing key to the stored ring; it signs from now on. Older keys stay
/// published for `keep_old_for` seconds (at least the access-token lifetime), then expire.
pub async fn rotate(services: &Services, keep_old_for: i64) -> Result<String> {
    let now = services.now();
    let kid = services.new_id();
    let (pkcs8, x, y) = generate()?;
    let private_key = services.keys.seal(&pkcs8, &signing_context(&kid)).await?;
    let stored = StoredSigningKey { kid: kid.clone(), created_at: now, private_key, x, y };
    let mut writes = vec![Write::create(Item::new(keys::signing_key(now, &kid), &stored)?)];
    for old in services.store.query(keys::SIGNING_KEYS, keys::SIGNING_KEY_PREFIX, 100).await? {
        if old.expires_at.is_none() {
            writes.push(Write::replace(old.next(&old.decode::<StoredSigningKey>()?)?.expires_at(now + keep_old_for)));
        }
    }
    services.store.transact(writes).await?;
    Ok(kid)
}

/// Loads the stored ring (one query and one key-service call), creating the first key
/// when there is none.
pub async fn load(services: &Services, keep_old_for: i64) -> Result<KeyRing> {
    let mut items = services.store.query(keys::SIGNING_KEYS, keys::SIGNING_KEY_PREFIX, 100).await?;
    if items.is_empty() {
        match rotate(services, keep_old_for).await {
            // Another instance created the first key at the same moment: use it.
            Ok(_) | Err(Error { code: ErrorCode::Conflict, .. }) => {}
            Err(e) => return Err(e),
        }
        items = services.store.query(keys::SIGNING_KEYS, keys::SIGNING_KEY_PREFIX, 100).await?;
    }
    // Newest first: it signs; the others only verify.
    let mut stored: Vec<StoredSigningKey> = items.iter().map(|i| i.decode()).collect::<Result<_, _>>()?;
    stored.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| b.kid.cmp(&a.kid)));
    let newest = stored.first().ok_or_else(|| Error::internal("no signing key"))?;
    let pkcs8 = services.keys.open(&newest.private_key, &signing_context(&newest.kid)).await?;
    let mut keys = vec![(newest.kid.clone(), pkcs8, newest.x.clone(), newest.y.clone())];
    keys.extend(stored.iter().skip(1).map(|k| (k.kid.clone(), Vec::new(), k.x.clone(), k.y.clone())));
    KeyRing::from_keys(&keys)
}

/// How long a loaded key ring is used before it is read again (a rotation reaches every
/// instance within this delay, well inside the time old keys stay published).
const RING_RELOAD_SECONDS: i64 = 300;

impl TokenKeys {
    /// The current ring (one store query and one key-service call when (re)loaded).
    pub async fn ring(&self, services: &Services) -> Result<Arc<KeyRing>> {
        let now = services.now();
        if let Some((ring, loaded)) = self.ring.read().await.as_ref() {
            if now - loaded < RING_RELOAD_SECONDS {
                return Ok(ring.clone());
            }
        }
        let mut slot = self.ring.write().await;
        if let Some((ring, loaded)) = slot.as_ref() {
            if now - loaded < RING_RELOAD_SECONDS {
                return Ok(ring.clone());
            }
        }
        let ring = Arc::new(load(services, services.config.tokens.access_ttl + RING_RELOAD_SECONDS * 2).await?);
        *slot = Some((ring.clone(), now));
        Ok(ring)
    }
}
