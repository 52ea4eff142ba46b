//! The embedded back end: everything in one redb database file (items, a secondary
//! index, the outbox of mail/SMS/voice messages) and a local key file standing in for KMS.
//! Nothing to install or start; state survives restarts.

pub mod ca_key;
pub mod database_file;

use crate::domain::crypto;
use crate::ports::store::{Condition, Item, Key, Store, StoreError, Write};
use crate::ports::{
    Clock, DeliveryError, Email, EncryptionContext, KeyError, Keys, Mailer, Random, Sealed, Sms, Voice,
};
use async_trait::async_trait;
use ca_key::LocalCaSigner;
use database_file::{DatabaseFile, DiskFaults};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;

const ITEMS: TableDefinition<&str, &[u8]> = TableDefinition::new("items");
const GSI1: TableDefinition<&str, &str> = TableDefinition::new("gsi1");
const OUTBOX: TableDefinition<u64, &[u8]> = TableDefinition::new("outbox");

/// Separates the parts of a composite key; never appears in validated input.
const SEP: char = '\u{0}';

fn main_key(key: &Key) -> String {
    format!("{}{SEP}{}", key.pk, key.sk)
}

fn gsi_key(gsi: &Key, key: &Key) -> String {
    format!("{}{SEP}{}{SEP}{}{SEP}{}", gsi.pk, gsi.sk, key.pk, key.sk)
}

#[derive(Serialize, Deserialize)]
struct Stored {
    v: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    ttl: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    g: Option<(String, String)>,
    b: String,
}

fn encode(item: &Item) -> Vec<u8> {
    let stored = Stored {
        v: item.version,
        ttl: item.expires_at,
        g: item.gsi1.as_ref().map(|k| (k.pk.clone(), k.sk.clone())),
        b: item.body.clone(),
    };
    serde_json::to_vec(&stored).unwrap_or_default()
}

fn decode(key: Key, bytes: &[u8]) -> Result<Item, StoreError> {
    let s: Stored = serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(Item { key, version: s.v, expires_at: s.ttl, gsi1: s.g.map(|(pk, sk)| Key { pk, sk }), body: s.b })
}

fn split_key(composite: &str) -> Key {
    let (pk, sk) = composite.split_once(SEP).unwrap_or((composite, ""));
    Key::new(pk, sk)
}

fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

/// Creates the tables (at each opening of the file).
fn create_tables(db: &Database) -> Result<(), String> {
    let txn = db.begin_write().map_err(|e| e.to_string())?;
    {
        txn.open_table(ITEMS).map_err(|e| e.to_string())?;
        txn.open_table(GSI1).map_err(|e| e.to_string())?;
        txn.open_table(OUTBOX).map_err(|e| e.to_string())?;
    }
    txn.commit().map_err(|e| e.to_string())
}

/// Opens (or creates) the database file and its directory, private to the owner: the
/// database holds password hashes and the outbox (links and codes in clear).
pub fn open_database(path: &Path, faults: Option<Arc<DiskFaults>>) -> Result<Arc<DatabaseFile>, String> {
    DatabaseFile::open(path, faults, create_tables)
}

/// The store on a redb database: every write is a serializable transaction.
#[derive(Clone)]
pub struct EmbeddedStore {
    file: Arc<DatabaseFile>,
    clock: Arc<dyn Clock>,
}

impl EmbeddedStore {
    /// A store on an open database file.
    pub fn new(file: Arc<DatabaseFile>, clock: Arc<dyn Clock>) -> Self {
        EmbeddedStore { file, clock }
    }

    /// The database for one operation (reopened first after a failure).
    fn db(&self) -> Result<Arc<Database>, StoreError> {
        self.file.get().map_err(StoreError::Unavailable)
    }

    /// Notes an I/O failure of an operation, so that the next one reopens the file.
    fn noted<T>(&self, result: Result<T, StoreError>) -> Result<T, StoreError> {
        if let Err(StoreError::Unavailable(cause)) = &result {
            self.file.failed(cause);
        }
        result
    }

    /// Whether the store can write now (see [`DatabaseFile::health`]).
    pub fn health(&self) -> Result<(), String> {
        self.file.health()
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Database, i64) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let db = self.db()?;
        let now = self.clock.now();
        let result = tokio::task::spawn_blocking(move || f(&db, now)).await.map_err(unavailable)?;
        self.noted(result)
    }

    fn get_now(db: &Database, key: &Key, now: i64) -> Result<Option<Item>, StoreError> {
        let txn = db.begin_read().map_err(unavailable)?;
        let table = txn.open_table(ITEMS).map_err(unavailable)?;
        let found = table.get(main_key(key).as_str()).map_err(unavailable)?;
        match found {
            Some(bytes) => Ok(Some(decode(key.clone(), bytes.value())?).filter(|i| !i.is_expired(now))),
            None => Ok(None),
        }
    }

    /// Removes items whose TTL passed (the embedded stand-in for DynamoDB's TTL sweeper).
    pub fn sweep_expired(&self) -> Result<usize, StoreError> {
        let result = self.sweep(&*self.db()?);
        self.noted(result)
    }

    fn sweep(&self, db: &Database) -> Result<usize, StoreError> {
        let now = self.clock.now();
        let txn = db.begin_write().map_err(unavailable)?;
        let mut removed = 0;
        {
            let mut items = txn.open_table(ITEMS).map_err(unavailable)?;
            let mut gsi = txn.open_table(GSI1).map_err(unavailable)?;
            let mut expired = Vec::new();
            for entry in items.iter().map_err(unavailable)? {
                let (k, v) = entry.map_err(unavailable)?;
                let item = decode(split_key(k.value()), v.value())?;
                if item.is_expired(now) {
                    expired.push(item);
                }
            }
            for item in expired {
                items.remove(main_key(&item.key).as_str()).map_err(unavailable)?;
                if let Some(g) = &item.gsi1 {
                    gsi.remove(gsi_key(g, &item.key).as_str()).map_err(unavailable)?;
                }
                removed += 1;
            }
        }
        txn.commit().map_err(unavailable)?;
        Ok(removed)
    }
}

fn apply(txn: &redb::WriteTransaction, writes: &[Write], now: i64) -> Result<(), StoreError> {
    let mut items = txn.open_table(ITEMS).map_err(unavailable)?;
    let mut gsi = txn.open_table(GSI1).map_err(unavailable)?;
    for (index, write) in writes.iter().enumerate() {
        let key = write.key();
        let k = main_key(key);
        let current = match items.get(k.as_str()).map_err(unavailable)? {
            Some(bytes) => Some(decode(key.clone(), bytes.value())?),
            None => None,
        };
        let live = current.as_ref().filter(|i| !i.is_expired(now));
        let condition = match write {
            Write::Put { condition, .. } | Write::Delete { condition, .. } | Write::Check { condition, .. } => {
                *condition
            }
        };
        let holds = match condition {
            Condition::None => true,
            Condition::Absent => live.is_none(),
            Condition::Version(v) => live.is_some_and(|i| i.version == v),
        };
        if !holds {
            return Err(StoreError::ConditionFailed(if writes.len() > 1 { Some(index) } else { None }));
        }
        if let Some(old) = current.as_ref().and_then(|i| i.gsi1.as_ref()) {
            if matches!(write, Write::Put { .. } | Write::Delete { .. }) {
                gsi.remove(gsi_key(old, key).as_str()).map_err(unavailable)?;
            }
        }
        match write {
            Write::Put { item, .. } => {
                items.insert(k.as_str(), encode(item).as_slice()).map_err(unavailable)?;
                if let Some(g) = &item.gsi1 {
                    gsi.insert(gsi_key(g, key).as_str(), k.as_str()).map_err(unavailable)?;
                }
            }
            Write::Delete { .. } => {
                items.remove(k.as_str()).map_err(unavailable)?;
            }
            Write::Check { .. } => {}
        }
    }
    Ok(())
}

/// DynamoDB refuses a transaction touching one item twice; so does the embedded store.
fn check_distinct(writes: &[Write]) -> Result<(), StoreError> {
    let mut keys: Vec<&Key> = writes.iter().map(Write::key).collect();
    keys.sort();
    if keys.windows(2).any(|w| w[0] == w[1]) {
        return Err(StoreError::Unavailable("a transaction touches one item twice".into()));
    }
    if writes.len() > 100 {
        return Err(StoreError::Unavailable("a transaction has more than 100 writes".into()));
    }
    Ok(())
}

#[async_trait]
impl Store for EmbeddedStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        // Reads are short and never wait on a writer (redb is MVCC): no blocking pool hop.
        let result = Self::get_now(&*self.db()?, key, self.clock.now());
        self.noted(result)
    }

    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        let result = self.read_many(&*self.db()?, keys);
        self.noted(result)
    }

    async fn write(&self, write: Write) -> Result<(), StoreError> {
        self.transact(vec![write]).await
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        check_distinct(&writes)?;
        self.blocking(move |db, now| {
            let txn = db.begin_write().map_err(unavailable)?;
            // On a failed condition the transaction is dropped uncommitted: nothing applies.
            apply(&txn, &writes, now)?;
            txn.commit().map_err(unavailable)
        })
        .await
    }

    async fn query(&self, pk: &str, sk_prefix: &str, limit: usize) -> Result<Vec<Item>, StoreError> {
        let result = self.range(&*self.db()?, pk, sk_prefix, limit);
        self.noted(result)
    }

    async fn query_gsi1(&self, gsi1pk: &str, sk_prefix: &str, limit: usize) -> Result<Vec<Item>, StoreError> {
        let result = self.index_range(&*self.db()?, gsi1pk, sk_prefix, limit);
        self.noted(result)
    }
}

impl EmbeddedStore {
    fn read_many(&self, db: &Database, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        // One read transaction: the items as of one moment, as a strongly consistent batch.
        let now = self.clock.now();
        let txn = db.begin_read().map_err(unavailable)?;
        let table = txn.open_table(ITEMS).map_err(unavailable)?;
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            let found = table.get(main_key(key).as_str()).map_err(unavailable)?;
            out.push(match found {
                Some(bytes) => Some(decode(key.clone(), bytes.value())?).filter(|i| !i.is_expired(now)),
                None => None,
            });
        }
        Ok(out)
    }

    fn range(&self, db: &Database, pk: &str, sk_prefix: &str, limit: usize) -> Result<Vec<Item>, StoreError> {
        let now = self.clock.now();
        let prefix = format!("{pk}{SEP}{sk_prefix}");
        let txn = db.begin_read().map_err(unavailable)?;
        let table = txn.open_table(ITEMS).map_err(unavailable)?;
        let mut out = Vec::new();
        for entry in table.range(prefix.as_str()..).map_err(unavailable)? {
            let (k, v) = entry.map_err(unavailable)?;
            if !k.value().starts_with(&prefix) || out.len() >= limit {
                break;
            }
            let item = decode(split_key(k.value()), v.value())?;
            if !item.is_expired(now) {
                out.push(item);
            }
        }
        Ok(out)
    }

    fn index_range(&self, db: &Database, gsi1pk: &str, sk_prefix: &str, limit: usize) -> Result<Vec<Item>, StoreError> {
        let now = self.clock.now();
        let prefix = format!("{gsi1pk}{SEP}{sk_prefix}");
        let txn = db.begin_read().map_err(unavailable)?;
        let index = txn.open_table(GSI1).map_err(unavailable)?;
        let items = txn.open_table(ITEMS).map_err(unavailable)?;
        let mut out = Vec::new();
        for entry in index.range(prefix.as_str()..).map_err(unavailable)? {
            let (k, target) = entry.map_err(unavailable)?;
            if !k.value().starts_with(&prefix) || out.len() >= limit {
                break;
            }
            if let Some(bytes) = items.get(target.value()).map_err(unavailable)? {
                let item = decode(split_key(target.value()), bytes.value())?;
                if !item.is_expired(now) {
                    out.push(item);
                }
            }
        }
        Ok(out)
    }
}

/// One message in the local outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxMessage {
    /// Sequence number (newest is highest).
    pub id: u64,
    /// Unix seconds.
    pub at: i64,
    /// `email`, `sms` or `voice`.
    pub channel: String,
    /// Recipient (address or E.164 number).
    pub to: String,
    /// Subject (emails only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Text, or the script read by a call.
    pub body: String,
    /// Language of a voice call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

/// Mail, SMS and voice written to the database instead of being sent; the local server
/// shows them at `/_dev/outbox`.
#[derive(Clone)]
pub struct Outbox {
    file: Arc<DatabaseFile>,
    clock: Arc<dyn Clock>,
}

impl Outbox {
    /// An outbox in an open database file.
    pub fn new(file: Arc<DatabaseFile>, clock: Arc<dyn Clock>) -> Self {
        Outbox { file, clock }
    }

    fn push(
        &self,
        channel: &str,
        to: &str,
        subject: Option<&str>,
        body: &str,
        language: Option<&str>,
    ) -> Result<(), DeliveryError> {
        let db = self.file.get().map_err(DeliveryError)?;
        let result = self.append(&db, channel, to, subject, body, language);
        if let Err(e) = &result {
            self.file.failed(&e.0);
        }
        result
    }

    fn append(
        &self,
        db: &Database,
        channel: &str,
        to: &str,
        subject: Option<&str>,
        body: &str,
        language: Option<&str>,
    ) -> Result<(), DeliveryError> {
        let fail = |e: &dyn std::fmt::Display| DeliveryError(e.to_string());
        let txn = db.begin_write().map_err(|e| fail(&e))?;
        {
            let mut table = txn.open_table(OUTBOX).map_err(|e| fail(&e))?;
            let id = table.last().map_err(|e| fail(&e))?.map(|(k, _)| k.value() + 1).unwrap_or(1);
            let message = OutboxMessage {
                id,
                at: self.clock.now(),
                channel: channel.to_owned(),
                to: to.to_owned(),
                subject: subject.map(str::to_owned),
                body: body.to_owned(),
                language: language.map(str::to_owned),
            };
            let bytes = serde_json::to_vec(&message).map_err(|e| fail(&e))?;
            table.insert(id, bytes.as_slice()).map_err(|e| fail(&e))?;
        }
        txn.commit().map_err(|e| fail(&e))
    }

    /// The newest messages first, at most `limit`.
    pub fn list(&self, limit: usize) -> Result<Vec<OutboxMessage>, String> {
        let db = self.file.get()?;
        let txn = db.begin_read().map_err(|e| e.to_string())?;
        let table = txn.open_table(OUTBOX).map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        for entry in table.iter().map_err(|e| e.to_string())?.rev().take(limit) {
            let (_, v) = entry.map_err(|e| e.to_string())?;
            out.push(serde_json::from_slice(v.value()).map_err(|e| e.to_string())?);
        }
        Ok(out)
    }
}

#[async_trait]
impl Mailer for Outbox {
    async fn send(&self, email: &Email) -> Result<(), DeliveryError> {
        self.push("email", &email.to, Some(&email.subject), &email.body, None)
    }
}

#[async_trait]
impl Sms for Outbox {
    async fn send(&self, to: &str, text: &str) -> Result<(), DeliveryError> {
        self.push("sms", to, None, text, None)
    }
}

#[async_trait]
impl Voice for Outbox {
    async fn call(&self, to: &str, text: &str, language: &str) -> Result<(), DeliveryError> {
        self.push("voice", to, None, text, Some(language))
    }
}

/// Envelope encryption under a 256-bit key kept in a local file (owner-only permissions),
/// standing in for KMS: same [`Sealed`] format, same context binding.
pub struct LocalKeys {
    key: [u8; 32],
    random: Arc<dyn Random>,
}

impl LocalKeys {
    /// Reads the key file, or creates it with mode 0600 on first run.
    pub fn open_or_create(path: &Path, random: Arc<dyn Random>) -> Result<Self, String> {
        let key = match std::fs::read_to_string(path) {
            Ok(text) => {
                check_private(path)?;
                let bytes = crypto::b64url_decode(text.trim())
                    .filter(|b| b.len() == 32)
                    .ok_or_else(|| format!("{} is not a Signet key file", path.display()))?;
                let mut key = [0u8; 32];
                key.copy_from_slice(&bytes);
                key
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = crypto::random_bytes::<32>(random.as_ref());
                write_private_file(path, crypto::b64url(&key).as_bytes())
                    .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
                key
            }
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        Ok(LocalKeys { key, random })
    }
}

/// Refuses a key file others can read or write.
#[cfg(unix)]
fn check_private(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).map_err(|e| e.to_string())?.permissions().mode();
    if mode & 0o077 != 0 {
        return Err(format!(
            "{} is readable or writable by others (mode {:o}); run chmod 600 on it",
            path.display(),
            mode & 0o777
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_: &Path) -> Result<(), String> {
    Ok(())
}

fn write_private_file(path: &Path, content: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    if let Some(dir) = path.parent() {
        database_file::private_dir(dir).map_err(std::io::Error::other)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(content)?;
    file.sync_all()
}

#[async_trait]
impl Keys for LocalKeys {
    async fn seal(&self, plaintext: &[u8], context: &EncryptionContext) -> Result<Sealed, KeyError> {
        let aad = crypto::context_aad(context);
        let data_key = crypto::random_bytes::<32>(self.random.as_ref());
        let (nonce, ciphertext) =
            crypto::aes_gcm_seal(&data_key, plaintext, &aad, self.random.as_ref()).map_err(KeyError)?;
        let (wrap_nonce, wrapped) =
            crypto::aes_gcm_seal(&self.key, &data_key, &aad, self.random.as_ref()).map_err(KeyError)?;
        Ok(Sealed { wrapped_key: [wrap_nonce, wrapped].concat(), nonce, ciphertext })
    }

    async fn open(&self, sealed: &Sealed, context: &EncryptionContext) -> Result<Vec<u8>, KeyError> {
        let aad = crypto::context_aad(context);
        if sealed.wrapped_key.len() < 12 {
            return Err(KeyError("malformed wrapped key".into()));
        }
        let (wrap_nonce, wrapped) = sealed.wrapped_key.split_at(12);
        let data_key = crypto::aes_gcm_open(&self.key, wrap_nonce, wrapped, &aad).map_err(KeyError)?;
        crypto::aes_gcm_open(&data_key, &sealed.nonce, &sealed.ciphertext, &aad).map_err(KeyError)
    }
}

/// The embedded adapters in `data_dir` (`signet.redb`, `signet.key`, `signet-ca.key`).
pub struct EmbeddedPorts {
    /// The single table in the redb file.
    pub store: EmbeddedStore,
    /// Mail, text messages and calls, kept for the outbox page.
    pub outbox: Outbox,
    /// Envelope encryption and token-signing keys under the local key file.
    pub keys: LocalKeys,
    /// The certificate authority's local key.
    pub ca: LocalCaSigner,
}

/// Opens the embedded adapters in `data_dir` with `clock`; `faults`, for the scenarios of
/// a full disk, are injected into the database file's storage.
pub fn open(
    data_dir: &Path,
    clock: Arc<dyn Clock>,
    random: Arc<dyn Random>,
    faults: Option<Arc<DiskFaults>>,
) -> Result<EmbeddedPorts, String> {
    let db = open_database(&data_dir.join("signet.redb"), faults)?;
    let keys = LocalKeys::open_or_create(&data_dir.join("signet.key"), random)?;
    let ca = local_ca(&data_dir.join("signet-ca.key"))?;
    let store = EmbeddedStore::new(db.clone(), clock.clone());
    let outbox = Outbox::new(db, clock);
    Ok(EmbeddedPorts { store, outbox, keys, ca })
}

/// The local certificate authority key (PKCS#8 P-256, base64url), created 0600 on first run
/// in place of the KMS signing key.
fn local_ca(path: &Path) -> Result<LocalCaSigner, String> {
    let pkcs8 = match std::fs::read_to_string(path) {
        Ok(text) => {
            check_private(path)?;
            crypto::b64url_decode(text.trim())
                .ok_or_else(|| format!("{} is not a Signet CA key file", path.display()))?
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let (pkcs8, _) =
                crate::domain::signatures::authority::new_signing_key().map_err(|e| format!("CA key: {e}"))?;
            write_private_file(path, crypto::b64url(&pkcs8).as_bytes())
                .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
            pkcs8
        }
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    LocalCaSigner::from_pkcs8(&pkcs8)
}

/// The default data directory of the local server.
pub fn default_data_dir() -> PathBuf {
    PathBuf::from(".signet")
}
