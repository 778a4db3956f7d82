//! The key-value state a plugin keeps beyond one instance: per-agent
//! baselines, counters, last-seen times. It is scoped to one transform, held
//! by the host (so it survives a trapped instance and a hot reload), and kept
//! under `data_dir/state/<transform>/` (so it survives a restart).
//!
//! Every worker of a transform shares one store; `compare_and_swap` lets
//! concurrent writers update a value without losing each other's updates.
//! Changes are kept in memory and appended to the log by [`StateStore::flush`],
//! which the transform calls at the end of each batch: a crash loses at most
//! the changes of the batches in flight, whose events are delivered again
//! (at least once), so a replayed batch may apply its updates twice.
//!
//! The log, `state.log`:
//!
//! ```text
//! log    = magic "SLCSTATE" | version: u8 (1) | record*
//! record = the disk buffer's framing (length, CRC-32, payload)
//! payload = op: u8 (1 set, 2 delete) | key length: u32 LE | key | value
//! ```
//!
//! A record cut short or damaged ends the log there: what follows it is cut
//! away, with a warning. When the log grows past twice what it holds, it is
//! rewritten as one record per key (to a temporary file, renamed into place).

use crate::buffer::{decode_record, encode_record};
use anyhow::Context;
use std::collections::HashMap;
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

const MAGIC: &[u8; 8] = b"SLCSTATE";
const VERSION: u8 = 1;
const SET: u8 = 1;
const DELETE: u8 = 2;
/// The log is rewritten when it is larger than twice the live state and this.
const COMPACT_ABOVE: u64 = 64 << 10;

/// How much state one transform may keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateLimits {
    /// Bytes of keys and values together.
    pub max_bytes: u64,
    pub max_key_bytes: usize,
    pub max_value_bytes: usize,
}

impl Default for StateLimits {
    fn default() -> Self {
        StateLimits { max_bytes: 16 << 20, max_key_bytes: 1024, max_value_bytes: 1 << 20 }
    }
}

/// Why a change was refused; the plugin gets this text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateError {
    KeyTooLong {
        len: usize,
        max: usize,
    },
    ValueTooLarge {
        len: usize,
        max: usize,
    },
    /// Keeping the change would take the state past `max_bytes`.
    Full {
        needed: u64,
        used: u64,
        max: u64,
    },
}

impl fmt::Display for StateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StateError::KeyTooLong { len, max } => write!(f, "a state key of {len} bytes is longer than {max} bytes"),
            StateError::ValueTooLarge { len, max } => {
                write!(f, "a state value of {len} bytes is larger than {max} bytes")
            }
            StateError::Full { needed, used, max } => write!(
                f,
                "the state is full: {used} of {max} bytes used, and the change needs {needed} more \
                 (delete keys, or raise the transform's state limit)"
            ),
        }
    }
}

impl std::error::Error for StateError {}

/// One transform's state: in memory, and in its log.
#[derive(Debug)]
pub struct StateStore {
    /// The log; `None` for a store kept only in memory.
    path: Option<PathBuf>,
    limits: StateLimits,
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    entries: HashMap<String, Vec<u8>>,
    /// Bytes of keys and values held.
    used: u64,
    log: Option<File>,
    log_bytes: u64,
    /// Records of changes not yet appended to the log.
    pending: Vec<u8>,
}

impl StateStore {
    /// Open (or create) the state kept in `dir`.
    pub fn open(dir: &Path, limits: StateLimits) -> anyhow::Result<StateStore> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("creating the state directory {}", dir.display()))?;
        let path = dir.join("state.log");
        let (entries, good_end) = match std::fs::read(&path) {
            Ok(bytes) => replay(&bytes).with_context(|| format!("reading plugin state {}", path.display()))?,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => (HashMap::new(), 0),
            Err(err) => return Err(err).with_context(|| format!("reading plugin state {}", path.display())),
        };
        let used = entries.iter().map(|(k, v)| (k.len() + v.len()) as u64).sum();
        let log = if good_end == 0 {
            create_log(&path, &entries)?
        } else {
            let log =
                OpenOptions::new().append(true).open(&path).with_context(|| format!("opening {}", path.display()))?;
            let len = log.metadata().with_context(|| format!("reading {}", path.display()))?.len();
            if len != good_end {
                tracing::warn!(path = %path.display(), cut = len - good_end,
                    "plugin state log ends in a damaged or partly written record; cutting it away");
                log.set_len(good_end).with_context(|| format!("truncating {}", path.display()))?;
            }
            log
        };
        let log_bytes = log.metadata().map(|m| m.len()).unwrap_or(0);
        let inner = Inner { entries, used, log: Some(log), log_bytes, pending: Vec::new() };
        Ok(StateStore { path: Some(path), limits, inner: Mutex::new(inner) })
    }

    /// A store kept only in memory, for instances that nothing outlives
    /// (`sluice plugin check`, tests): the same limits, no log.
    pub fn in_memory(limits: StateLimits) -> StateStore {
        let inner = Inner { entries: HashMap::new(), used: 0, log: None, log_bytes: 0, pending: Vec::new() };
        StateStore { path: None, limits, inner: Mutex::new(inner) }
    }

    pub fn get(&self, key: &str) -> Option<Vec<u8>> {
        self.lock().entries.get(key).cloned()
    }

    pub fn set(&self, key: &str, value: &[u8]) -> Result<(), StateError> {
        self.check(key, Some(value))?;
        let mut inner = self.lock();
        inner.put(key, Some(value), self.limits.max_bytes)
    }

    /// Remove `key`; removing a missing key is no error.
    pub fn delete(&self, key: &str) -> Result<(), StateError> {
        self.check(key, None)?;
        self.lock().put(key, None, self.limits.max_bytes)
    }

    /// Set `key` to `new` (`None` removes it) only if it holds `expected`
    /// (`None`: only if it is absent). Returns whether it was changed.
    pub fn compare_and_swap(&self, key: &str, expected: Option<&[u8]>, new: Option<&[u8]>) -> Result<bool, StateError> {
        self.check(key, new)?;
        let mut inner = self.lock();
        if inner.entries.get(key).map(Vec::as_slice) != expected {
            return Ok(false);
        }
        inner.put(key, new, self.limits.max_bytes).map(|()| true)
    }

    /// Bytes of keys and values held.
    pub fn used_bytes(&self) -> u64 {
        self.lock().used
    }

    /// Append the changes made since the last flush to the log, compacting
    /// it when it has grown past twice what it holds.
    pub fn flush(&self) -> anyhow::Result<()> {
        let mut inner = self.lock();
        let Some(path) = &self.path else {
            inner.pending.clear();
            return Ok(());
        };
        if inner.pending.is_empty() {
            return Ok(());
        }
        if inner.log_bytes > 2 * inner.used + COMPACT_ABOVE {
            let log = create_log(path, &inner.entries)?;
            inner.log_bytes = log.metadata().map(|m| m.len()).unwrap_or(0);
            inner.log = Some(log);
            inner.pending.clear();
            return Ok(());
        }
        let pending = std::mem::take(&mut inner.pending);
        let log = inner.log.as_mut().expect("a store with a path has a log");
        log.write_all(&pending).with_context(|| format!("writing plugin state {}", path.display()))?;
        inner.log_bytes += pending.len() as u64;
        Ok(())
    }

    fn check(&self, key: &str, value: Option<&[u8]>) -> Result<(), StateError> {
        let limits = &self.limits;
        if key.len() > limits.max_key_bytes {
            return Err(StateError::KeyTooLong { len: key.len(), max: limits.max_key_bytes });
        }
        match value {
            Some(value) if value.len() > limits.max_value_bytes => {
                Err(StateError::ValueTooLarge { len: value.len(), max: limits.max_value_bytes })
            }
            _ => Ok(()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic elsewhere cannot leave the map half-changed: every change
        // is one insert or remove.
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Inner {
    fn put(&mut self, key: &str, value: Option<&[u8]>, max_bytes: u64) -> Result<(), StateError> {
        let old = self.entries.get(key).map_or(0, |v| (key.len() + v.len()) as u64);
        let new = value.map_or(0, |v| (key.len() + v.len()) as u64);
        let used = self.used - old + new;
        if new > old && used > max_bytes {
            return Err(StateError::Full { needed: new - old, used: self.used, max: max_bytes });
        }
        match value {
            Some(value) => self.entries.insert(key.to_owned(), value.to_vec()),
            None => self.entries.remove(key),
        };
        self.used = used;
        encode_record(&mut self.pending, &payload(key, value));
        Ok(())
    }
}

/// The payload of a record that sets `key` to `value`, or deletes it.
fn payload(key: &str, value: Option<&[u8]>) -> Vec<u8> {
    let mut out = Vec::with_capacity(5 + key.len() + value.map_or(0, <[u8]>::len));
    out.push(if value.is_some() { SET } else { DELETE });
    out.extend_from_slice(&(key.len() as u32).to_le_bytes());
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(value.unwrap_or_default());
    out
}

/// The state a log holds, and where its last intact record ends (0 when the
/// log has no header yet).
fn replay(bytes: &[u8]) -> anyhow::Result<(HashMap<String, Vec<u8>>, u64)> {
    let header = MAGIC.len() + 1;
    if bytes.len() < header {
        // Cut short while its header was written: nothing was ever in it.
        return Ok((HashMap::new(), 0));
    }
    anyhow::ensure!(&bytes[..MAGIC.len()] == MAGIC, "not a sluice state log (its first bytes are not SLCSTATE)");
    let version = bytes[MAGIC.len()];
    anyhow::ensure!(version == VERSION, "state log format version {version}, which this sluice does not read");
    let mut entries = HashMap::new();
    let mut at = header;
    while let Some((record, len)) = decode_record(&bytes[at..]) {
        let (op, rest) = record.split_first().context("an empty state record")?;
        let key_len = rest.get(..4).context("a state record cut short")?;
        let key_len = u32::from_le_bytes(key_len.try_into().expect("4 bytes")) as usize;
        let key = rest.get(4..4 + key_len).context("a state record shorter than its key")?;
        let key = String::from_utf8(key.to_vec()).context("a state key that is not UTF-8")?;
        match *op {
            SET => entries.insert(key, rest[4 + key_len..].to_vec()),
            DELETE => entries.remove(&key),
            op => anyhow::bail!("a state record with the unknown operation {op}"),
        };
        at += len;
    }
    Ok((entries, at as u64))
}

/// Write a new log holding `entries` beside `path`, and rename it into place.
fn create_log(path: &Path, entries: &HashMap<String, Vec<u8>>) -> anyhow::Result<File> {
    let mut bytes = Vec::with_capacity(MAGIC.len() + 1);
    bytes.extend_from_slice(MAGIC);
    bytes.push(VERSION);
    for (key, value) in entries {
        encode_record(&mut bytes, &payload(key, Some(value)));
    }
    let tmp = path.with_extension("log.tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("creating {}", tmp.display()))?;
    file.write_all(&bytes).and_then(|()| file.sync_all()).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming {} into place", tmp.display()))?;
    OpenOptions::new().append(true).open(path).with_context(|| format!("opening {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn small() -> StateLimits {
        StateLimits { max_bytes: 100, max_key_bytes: 8, max_value_bytes: 40 }
    }

    #[test]
    fn values_are_kept_across_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let store = StateStore::open(dir.path(), StateLimits::default()).unwrap();
        store.set("agent-1", b"3").unwrap();
        store.set("agent-2", b"5").unwrap();
        store.set("agent-1", b"4").unwrap();
        store.delete("agent-2").unwrap();
        store.delete("never-set").unwrap();
        store.flush().unwrap();
        store.set("unflushed", b"x").unwrap();
        drop(store);

        let store = StateStore::open(dir.path(), StateLimits::default()).unwrap();
        assert_eq!(store.get("agent-1").as_deref(), Some(&b"4"[..]));
        assert_eq!(store.get("agent-2"), None);
        assert_eq!(store.get("unflushed"), None, "only flushed changes are kept");
        assert_eq!(store.used_bytes(), 8);
    }

    /// Two writers incrementing one counter through compare-and-swap lose
    /// no update.
    #[test]
    fn compare_and_swap_loses_no_concurrent_update() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(StateStore::open(dir.path(), StateLimits::default()).unwrap());
        let writers: Vec<_> = (0..2)
            .map(|_| {
                let store = store.clone();
                std::thread::spawn(move || {
                    for _ in 0..5_000 {
                        loop {
                            let old = store.get("n");
                            let n = old.as_deref().map_or(0, |v| u64::from_le_bytes(v.try_into().unwrap()));
                            if store.compare_and_swap("n", old.as_deref(), Some(&(n + 1).to_le_bytes())).unwrap() {
                                break;
                            }
                        }
                    }
                })
            })
            .collect();
        for writer in writers {
            writer.join().unwrap();
        }
        assert_eq!(store.get("n").unwrap(), 10_000u64.to_le_bytes());
        assert!(!store.compare_and_swap("n", None, Some(b"x")).unwrap(), "only if absent: it is present");
        assert!(store.compare_and_swap("m", None, Some(b"x")).unwrap(), "only if absent: it is");
        assert!(store.compare_and_swap("m", Some(b"x"), None).unwrap(), "a swap to nothing deletes");
        assert_eq!(store.get("m"), None);
    }

    #[test]
    fn limits_refuse_with_a_reason_and_change_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = StateStore::open(dir.path(), small()).unwrap();
        assert_eq!(store.set("123456789", b"v"), Err(StateError::KeyTooLong { len: 9, max: 8 }));
        assert_eq!(store.set("k", &[0; 41]), Err(StateError::ValueTooLarge { len: 41, max: 40 }));
        store.set("a", &[0; 40]).unwrap();
        store.set("b", &[0; 40]).unwrap();
        let full = store.set("c", &[0; 30]).unwrap_err();
        assert_eq!(full, StateError::Full { needed: 31, used: 82, max: 100 });
        assert!(full.to_string().contains("the state is full: 82 of 100 bytes used"), "{full}");
        assert_eq!(store.get("c"), None);
        store.set("a", &[1; 10]).unwrap();
        store.set("c", &[0; 30]).unwrap();
        assert_eq!(store.used_bytes(), 11 + 41 + 31);
    }

    /// A record cut short by a crash is cut away on the next open; everything
    /// before it is kept, and the log takes appends again.
    #[test]
    fn a_torn_last_record_is_cut_away() {
        let dir = tempfile::tempdir().unwrap();
        let store = StateStore::open(dir.path(), StateLimits::default()).unwrap();
        store.set("kept", b"1").unwrap();
        store.flush().unwrap();
        store.set("torn", b"2").unwrap();
        store.flush().unwrap();
        drop(store);
        let log = dir.path().join("state.log");
        let len = std::fs::metadata(&log).unwrap().len();
        OpenOptions::new().write(true).open(&log).unwrap().set_len(len - 3).unwrap();

        let store = StateStore::open(dir.path(), StateLimits::default()).unwrap();
        assert_eq!((store.get("kept").as_deref(), store.get("torn")), (Some(&b"1"[..]), None));
        store.set("after", b"3").unwrap();
        store.flush().unwrap();
        drop(store);
        let store = StateStore::open(dir.path(), StateLimits::default()).unwrap();
        assert_eq!(store.get("after").as_deref(), Some(&b"3"[..]));
    }

    #[test]
    fn a_log_that_grew_past_its_contents_is_compacted_and_keeps_them() {
        let dir = tempfile::tempdir().unwrap();
        let store = StateStore::open(dir.path(), StateLimits::default()).unwrap();
        for i in 0..20_000u32 {
            store.set("counter", &i.to_le_bytes()).unwrap();
            store.set("other", b"x").unwrap();
            store.flush().unwrap();
        }
        let size = std::fs::metadata(dir.path().join("state.log")).unwrap().len();
        assert!(size < 3 * COMPACT_ABOVE, "compacted: {size} bytes");
        drop(store);
        let store = StateStore::open(dir.path(), StateLimits::default()).unwrap();
        assert_eq!(store.get("counter").unwrap(), 19_999u32.to_le_bytes());
        assert_eq!(store.get("other").as_deref(), Some(&b"x"[..]));
    }

    #[test]
    fn a_log_of_another_format_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("state.log"), b"SLCSTATE\x02").unwrap();
        let err = format!("{:#}", StateStore::open(dir.path(), StateLimits::default()).unwrap_err());
        assert!(err.contains("state log format version 2, which this sluice does not read"), "{err}");
        std::fs::write(dir.path().join("state.log"), b"something else").unwrap();
        let err = format!("{:#}", StateStore::open(dir.path(), StateLimits::default()).unwrap_err());
        assert!(err.contains("not a sluice state log"), "{err}");
    }
}
