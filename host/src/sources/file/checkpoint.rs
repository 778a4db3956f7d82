//! File positions that a source keeps across restarts.
//!
//! Each `file` source owns `<data_dir>/checkpoints/<source id>.json`: for every
//! file it follows, the file's identity, the byte offset up to which its
//! events are acknowledged, and the path it was last seen at (so that a file
//! renamed out of the include globs while sluice was down is still read to
//! its end). The file is replaced atomically, so a crash leaves the old or the
//! new version, never a mix; a corrupt one is set aside and reported, and the
//! source starts without positions rather than not at all.

use anyhow::Context;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// Checkpoints are written at most this often while running. After a crash
/// the events read since the last save are read again, so this bounds the
/// duplicates; a save is two small fsyncs.
const SAVE_INTERVAL: Duration = Duration::from_millis(200);

/// How many leading bytes of a file its fingerprint covers (fewer while the
/// acknowledged offset is smaller).
pub const FINGERPRINT_BYTES: usize = 1024;

const VERSION: u32 = 1;

/// One file's saved position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// Device and inode: a file keeps them across renames.
    pub dev: u64,
    pub ino: u64,
    /// A device and inode are reused once a file is deleted, and that may
    /// happen while sluice is down: a new file would then inherit the old
    /// one's offset and lose its first lines. The leading bytes that were
    /// already read cannot change in an append-only file, so their hash tells
    /// the old file from a newcomer that got its inode.
    pub fingerprint: Fingerprint,
    /// The file's events before this offset are acknowledged.
    pub offset: u64,
    /// Where the file was last seen.
    pub path: PathBuf,
}

/// The length and SHA-256 of a file's first bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    pub len: u64,
    pub sha256: String,
}

impl Fingerprint {
    /// The fingerprint of a file that starts with `head`.
    pub fn of(head: &[u8]) -> Self {
        let digest = Sha256::digest(head);
        let sha256 = digest.iter().map(|b| format!("{b:02x}")).collect();
        Fingerprint { len: head.len() as u64, sha256 }
    }

    /// Whether a file whose first bytes are `head` (at least `self.len` of
    /// them when the file is that long) is the file this was taken from.
    pub fn matches(&self, head: &[u8]) -> bool {
        usize::try_from(self.len).ok().and_then(|len| head.get(..len)).is_some_and(|prefix| *self == Self::of(prefix))
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Stored {
    version: u32,
    files: Vec<Position>,
}

/// The checkpoint file of one source.
#[derive(Debug, Clone)]
pub struct CheckpointFile {
    path: PathBuf,
}

impl CheckpointFile {
    pub fn new(data_dir: &Path, source_id: &str) -> Self {
        CheckpointFile { path: data_dir.join("checkpoints").join(format!("{source_id}.json")) }
    }

    #[cfg(test)]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The saved positions; none when there is no checkpoint yet. A corrupt
    /// checkpoint is logged, moved aside to `<id>.json.corrupt` for
    /// inspection and treated as empty. Only failing to read it is an error.
    pub fn load(&self) -> anyhow::Result<Vec<Position>> {
        let text = match std::fs::read(&self.path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => return Err(err).with_context(|| format!("reading checkpoint {}", self.path.display())),
        };
        let parsed = serde_json::from_slice::<Stored>(&text).map_err(|err| err.to_string()).and_then(|stored| {
            if stored.version == VERSION {
                Ok(stored.files)
            } else {
                Err(format!("unsupported version {} (expected {VERSION})", stored.version))
            }
        });
        match parsed {
            Ok(files) => Ok(files),
            Err(err) => {
                let aside = self.path.with_extension("json.corrupt");
                let moved = std::fs::rename(&self.path, &aside);
                tracing::error!(
                    checkpoint = %self.path.display(),
                    error = %err,
                    moved_to = %if moved.is_ok() { aside.display().to_string() } else { "(not moved)".to_owned() },
                    "the checkpoint is corrupt; starting without saved positions (files are read per `read_from`)"
                );
                Ok(Vec::new())
            }
        }
    }

    /// Replace the checkpoint with `positions`: written to a temporary file,
    /// synced, renamed over the old one, and the directory synced, so that a
    /// crash at any point leaves a whole checkpoint.
    pub fn save(&self, positions: &[Position]) -> anyhow::Result<()> {
        let dir = self.path.parent().expect("a checkpoint path has a directory");
        std::fs::create_dir_all(dir).with_context(|| format!("creating checkpoint directory {}", dir.display()))?;
        let json = serde_json::to_vec_pretty(&Stored { version: VERSION, files: positions.to_vec() })
            .context("encoding the checkpoint (are all paths UTF-8?)")?;
        let tmp = self.path.with_extension("json.tmp");
        let write = || -> std::io::Result<()> {
            let mut file = std::fs::File::create(&tmp)?;
            file.write_all(&json)?;
            file.sync_all()
        };
        write().with_context(|| format!("writing checkpoint {}", tmp.display()))?;
        std::fs::rename(&tmp, &self.path)
            .with_context(|| format!("renaming {} to {}", tmp.display(), self.path.display()))?;
        // Makes the rename itself durable.
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .with_context(|| format!("syncing checkpoint directory {}", dir.display()))?;
        Ok(())
    }
}

/// Writes of one source's checkpoint: off the async runtime, one at a
/// time (two writers would share the temporary file), and at most every
/// [`SAVE_INTERVAL`] while running.
#[derive(Debug)]
pub struct Saver {
    file: CheckpointFile,
    last: Instant,
    running: Option<JoinHandle<anyhow::Result<()>>>,
}

impl Saver {
    pub fn new(file: CheckpointFile) -> Self {
        Saver { file, last: Instant::now(), running: None }
    }

    /// Whether a save under way must be waited for.
    pub fn is_running(&self) -> bool {
        self.running.is_some()
    }

    /// Whether a save may start while running.
    pub fn is_due(&self) -> bool {
        self.last.elapsed() >= SAVE_INTERVAL
    }

    /// Start writing `positions`; a save still under way is waited for
    /// first.
    pub async fn start(&mut self, positions: Vec<Position>) -> anyhow::Result<()> {
        self.wait().await?;
        let file = self.file.clone();
        self.last = Instant::now();
        self.running = Some(tokio::task::spawn_blocking(move || file.save(&positions)));
        Ok(())
    }

    /// Wait for the save under way, if any. Cancel safe: the save goes on,
    /// and a later call waits for it.
    pub async fn wait(&mut self) -> anyhow::Result<()> {
        let Some(running) = &mut self.running else { return Ok(()) };
        let saved = running.await;
        self.running = None;
        saved.context("saving the checkpoint")?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn position(ino: u64, offset: u64) -> Position {
        Position {
            dev: 7,
            ino,
            fingerprint: Fingerprint::of(b"first line\n"),
            offset,
            path: PathBuf::from(format!("/logs/{ino}.log")),
        }
    }

    #[test]
    fn saved_positions_load_back() {
        let dir = tempfile::tempdir().unwrap();
        let file = CheckpointFile::new(dir.path(), "agents");
        assert_eq!(file.load().unwrap(), Vec::new(), "no checkpoint yet");
        file.save(&[position(1, 10), position(2, 20)]).unwrap();
        file.save(&[position(1, 30)]).unwrap();
        assert_eq!(file.path(), dir.path().join("checkpoints/agents.json"));
        assert_eq!(file.load().unwrap(), vec![position(1, 30)]);
        let names: Vec<_> =
            std::fs::read_dir(dir.path().join("checkpoints")).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec!["agents.json"], "no temporary file is left behind");
    }

    #[test]
    fn a_corrupt_checkpoint_is_set_aside_and_read_as_empty() {
        let dir = tempfile::tempdir().unwrap();
        let file = CheckpointFile::new(dir.path(), "agents");
        std::fs::create_dir_all(dir.path().join("checkpoints")).unwrap();
        for bad in ["{\"version\":1,\"files\":[{\"dev\":", "{\"version\":99,\"files\":[]}", "\u{0}\u{1}garbage"] {
            std::fs::write(file.path(), bad).unwrap();
            assert_eq!(file.load().unwrap(), Vec::new(), "{bad:?}");
            let aside = dir.path().join("checkpoints/agents.json.corrupt");
            assert_eq!(std::fs::read_to_string(aside).unwrap(), bad, "kept for inspection");
            assert!(!file.path().exists());
        }
        // The next save starts afresh.
        file.save(&[position(3, 5)]).unwrap();
        assert_eq!(file.load().unwrap(), vec![position(3, 5)]);
    }

    #[test]
    fn a_fingerprint_tells_the_original_file_from_a_newcomer() {
        let fingerprint = Fingerprint::of(b"{\"agent\":\"a\"}\n");
        assert!(fingerprint.matches(b"{\"agent\":\"a\"}\n{\"agent\":\"b\"}\n"), "the file grew");
        assert!(!fingerprint.matches(b"{\"agent\":\"z\"}\n{\"agent\":\"b\"}\n"), "other content");
        assert!(!fingerprint.matches(b"{\"agent\""), "shorter than what was read");
        assert!(Fingerprint::of(b"").matches(b"anything"));
    }
}
