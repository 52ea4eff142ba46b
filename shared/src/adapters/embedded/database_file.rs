//! The embedded back end's database file, kept usable through a full disk: after one I/O
//! failure redb refuses every later operation ("Previous I/O error occurred") until the
//! database is opened again. The handle notes the failure and reopens the file on the next
//! use (at most once a second), so that once space is back the store works again without a
//! restart; [`DatabaseFile::health`] tells whether it can write now.
//!
//! Also here: the data directory is private to its owner (0700), as the files in it are.

use redb::{Database, StorageBackend};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// Faults to inject into the database file's storage, for the scenarios of a full disk.
#[derive(Debug, Default)]
pub struct DiskFaults {
    /// While set, every write to the file fails as on a full disk (ENOSPC).
    pub full: AtomicBool,
}

/// The file's storage with [`DiskFaults`] applied.
#[derive(Debug)]
struct FaultyDisk {
    file: redb::backends::FileBackend,
    faults: Arc<DiskFaults>,
}

impl FaultyDisk {
    fn check(&self) -> std::io::Result<()> {
        if self.faults.full.load(Ordering::SeqCst) {
            return Err(std::io::Error::from_raw_os_error(28)); // ENOSPC
        }
        Ok(())
    }
}

type Bound = std::ops::Bound<u64>;

impl StorageBackend for FaultyDisk {
    fn len(&self) -> std::io::Result<u64> {
        self.file.len()
    }
    fn read(&self, offset: u64, out: &mut [u8]) -> std::io::Result<()> {
        self.file.read(offset, out)
    }
    fn set_len(&self, len: u64) -> std::io::Result<()> {
        self.check()?;
        self.file.set_len(len)
    }
    fn sync_data(&self) -> std::io::Result<()> {
        self.check()?;
        self.file.sync_data()
    }
    fn write(&self, offset: u64, data: &[u8]) -> std::io::Result<()> {
        self.check()?;
        self.file.write(offset, data)
    }
    fn close(&self) -> std::io::Result<()> {
        self.file.close()
    }
    fn try_lock_range(&self, start: Bound, end: Bound) -> Result<bool, redb::BackendError> {
        self.file.try_lock_range(start, end)
    }
    fn try_lock_shared_range(&self, start: Bound, end: Bound) -> Result<bool, redb::BackendError> {
        self.file.try_lock_shared_range(start, end)
    }
    fn lock_range(&self, start: Bound, end: Bound) -> Result<(), redb::BackendError> {
        self.file.lock_range(start, end)
    }
    fn lock_shared_range(&self, start: Bound, end: Bound) -> Result<(), redb::BackendError> {
        self.file.lock_shared_range(start, end)
    }
    fn unlock_range(&self, start: Bound, end: Bound) -> Result<(), redb::BackendError> {
        self.file.unlock_range(start, end)
    }
}

/// The open database file, reopened after an I/O failure (see the module's documentation).
pub struct DatabaseFile {
    path: PathBuf,
    faults: Option<Arc<DiskFaults>>,
    init: fn(&Database) -> Result<(), String>,
    db: RwLock<Option<Arc<Database>>>,
    broken: AtomicBool,
    /// When the last reopening was tried (milliseconds since `started`).
    last_reopen: AtomicI64,
    started: Instant,
}

impl std::fmt::Debug for DatabaseFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseFile").field("path", &self.path).field("broken", &self.broken).finish()
    }
}

/// The store is not usable now (the file failed and could not be reopened yet).
pub const BROKEN: &str = "the database file failed (a full disk?) and is not usable yet";

impl DatabaseFile {
    /// Opens (or creates) the database at `path`, its directory and the file private to the
    /// owner; `init` creates the tables, at each (re)opening.
    pub fn open(
        path: &Path,
        faults: Option<Arc<DiskFaults>>,
        init: fn(&Database) -> Result<(), String>,
    ) -> Result<Arc<DatabaseFile>, String> {
        if let Some(dir) = path.parent() {
            private_dir(dir)?;
        }
        let db = open_file(path, faults.as_ref())?;
        restrict_to_owner(path, 0o600).map_err(|e| format!("cannot restrict {}: {e}", path.display()))?;
        init(&db)?;
        Ok(Arc::new(DatabaseFile {
            path: path.to_owned(),
            faults,
            init,
            db: RwLock::new(Some(Arc::new(db))),
            broken: AtomicBool::new(false),
            last_reopen: AtomicI64::new(i64::MIN / 2),
            started: Instant::now(),
        }))
    }

    /// The database, for one operation; reopened first when it failed before.
    pub fn get(&self) -> Result<Arc<Database>, String> {
        if self.broken.load(Ordering::SeqCst) {
            // Reopening may wait (for operations in flight, for the file): not on an async
            // worker's time, where the runtime allows moving it off.
            match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
                Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(|| self.reopen()),
                _ => self.reopen(),
            }
        }
        self.db.read().map_err(|e| e.to_string())?.clone().ok_or_else(|| BROKEN.to_owned())
    }

    /// Notes that an operation failed on an I/O error: the next use reopens the file.
    pub fn failed(&self, cause: &dyn std::fmt::Display) {
        if !self.broken.swap(true, Ordering::SeqCst) {
            tracing::error!(cause = %cause, path = %self.path.display(), "database file failed; it will be reopened");
        }
    }

    /// Whether the store can write now: reopens a failed file, then commits an empty write
    /// transaction (which writes to the file as any commit does).
    pub fn health(&self) -> Result<(), String> {
        let db = self.get()?;
        let outcome =
            db.begin_write().map_err(|e| e.to_string()).and_then(|txn| txn.commit().map_err(|e| e.to_string()));
        if let Err(e) = &outcome {
            self.failed(e);
        }
        outcome
    }

    /// Closes the failed database and opens the file again (at most once a second).
    fn reopen(&self) {
        let now = self.started.elapsed().as_millis() as i64;
        let last = self.last_reopen.load(Ordering::SeqCst);
        if now - last < 1000
            || self.last_reopen.compare_exchange(last, now, Ordering::SeqCst, Ordering::SeqCst).is_err()
        {
            return;
        }
        let Ok(mut slot) = self.db.write() else { return };
        // redb holds the file until the last handle to the old database is gone: operations
        // in flight finish first (they are short).
        if let Some(old) = slot.take() {
            let deadline = Instant::now() + Duration::from_secs(2);
            let mut old = old;
            loop {
                match Arc::try_unwrap(old) {
                    Ok(db) => {
                        drop(db);
                        break;
                    }
                    Err(still_shared) if Instant::now() < deadline => {
                        old = still_shared;
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    Err(still_shared) => {
                        *slot = Some(still_shared);
                        return;
                    }
                }
            }
        }
        match open_file(&self.path, self.faults.as_ref()).and_then(|db| (self.init)(&db).map(|()| db)) {
            Ok(db) => {
                *slot = Some(Arc::new(db));
                self.broken.store(false, Ordering::SeqCst);
                tracing::info!(path = %self.path.display(), "database file reopened");
            }
            Err(e) => tracing::warn!(error = %e, "database file not reopened yet"),
        }
    }
}

fn open_file(path: &Path, faults: Option<&Arc<DiskFaults>>) -> Result<Database, String> {
    let cannot = |e: &dyn std::fmt::Display| format!("cannot open {}: {e}", path.display());
    match faults {
        None => Database::create(path).map_err(|e| cannot(&e)),
        Some(faults) => {
            let file = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(path)
                .map_err(|e| cannot(&e))?;
            let file = redb::backends::FileBackend::new(file).map_err(|e| cannot(&e))?;
            redb::Builder::new()
                .create_with_backend(FaultyDisk { file, faults: faults.clone() })
                .map_err(|e| cannot(&e))
        }
    }
}

/// Signet's own files in a data directory.
const OWN_FILES: &[&str] = &["signet.redb", "signet.key", "signet-ca.key", "signet-operator.token"];

/// Makes the data directory private to its owner: created 0700; an existing one that others
/// may read or enter is tightened to 0700 when it holds nothing but Signet's files (a
/// directory of other things, `/tmp` say, is refused rather than changed).
pub fn private_dir(dir: &Path) -> Result<(), String> {
    if dir.as_os_str().is_empty() {
        return Ok(());
    }
    if !dir.exists() {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        return restrict_to_owner(dir, 0o700).map_err(|e| format!("cannot restrict {}: {e}", dir.display()));
    }
    let mode = mode_of(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    if mode & 0o077 == 0 {
        return Ok(());
    }
    let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let mut foreign = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !OWN_FILES.contains(&name.as_str()) {
            foreign.push(name);
        }
    }
    if !foreign.is_empty() {
        return Err(format!(
            "{} can be read by others (mode {:o}) and holds other files than Signet's ({}): choose a directory of its own, or run chmod 700 on it",
            dir.display(),
            mode & 0o777,
            foreign.join(", ")
        ));
    }
    restrict_to_owner(dir, 0o700).map_err(|e| format!("cannot restrict {}: {e}", dir.display()))?;
    tracing::warn!(dir = %dir.display(), was = format!("{:o}", mode & 0o777), "data directory tightened to 0700");
    Ok(())
}

#[cfg(unix)]
fn mode_of(path: &Path) -> std::io::Result<u32> {
    use std::os::unix::fs::PermissionsExt;
    Ok(std::fs::metadata(path)?.permissions().mode())
}

#[cfg(not(unix))]
fn mode_of(_: &Path) -> std::io::Result<u32> {
    Ok(0o700)
}

/// Sets a path's permission bits (nothing to do where there are none).
#[cfg(unix)]
pub fn restrict_to_owner(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

/// Sets a path's permission bits (nothing to do where there are none).
#[cfg(not(unix))]
pub fn restrict_to_owner(_: &Path, _: u32) -> std::io::Result<()> {
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn an_open_data_directory_is_tightened_or_refused() {
        let temp = tempfile_dir();
        let dir = temp.join("data");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("signet.key"), b"x").unwrap();
        restrict_to_owner(&dir, 0o755).unwrap();
        private_dir(&dir).unwrap();
        assert_eq!(mode_of(&dir).unwrap() & 0o777, 0o700, "only Signet's files: tightened");
        restrict_to_owner(&dir, 0o755).unwrap();
        std::fs::write(dir.join("notes.txt"), b"x").unwrap();
        let refused = private_dir(&dir).unwrap_err();
        assert!(refused.contains("notes.txt") && refused.contains("chmod 700"), "{refused}");
        assert_eq!(mode_of(&dir).unwrap() & 0o777, 0o755, "someone else's directory is left as it is");
        let fresh = temp.join("fresh/inner");
        private_dir(&fresh).unwrap();
        assert_eq!(mode_of(&fresh).unwrap() & 0o777, 0o700);
        std::fs::remove_dir_all(&temp).unwrap();
    }

    fn tempfile_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(
            format!("signet-dir-test-{}-{:?}", std::process::id(), std::thread::current().id()).replace(['(', ')'], ""),
        );
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        restrict_to_owner(&dir, 0o700).unwrap();
        dir
    }
}
