//! Source `file`: follows the files that match glob patterns, as `tail -F`
//! does, and remembers across restarts how far each was delivered.
//!
//! One task per source polls its open files for new data and rescans the
//! globs every `glob_interval_ms`. A file is known by its device and inode, so
//! a rename (rotation) does not make it a new file: the renamed file is read to
//! its end through the open handle while the new file at the path is read from
//! its start. A file that shrinks was truncated and is read again from the
//! start. Lines become events in batches, each with a finaliser, and a file's
//! checkpoint advances only over batches that every destination accepted, in
//! order: a crash or a failed delivery means reading again, never a loss.

use super::checkpoint::{CheckpointFile, FINGERPRINT_BYTES, Fingerprint, Position};
use super::decoding::Decoding;
use super::lines::{Line, LineSplitter};
use super::{Origin, SourceContext, message_event};
use crate::ack::{BatchStatus, Finaliser};
use crate::dead_letter::DeadLetter;
use crate::event::{Batch, Event};
use crate::fanout::Fanout;
use crate::metrics::ComponentMetrics;
use crate::validation::ConfigError;
use anyhow::Context;
use serde::Deserialize;
use std::collections::{HashMap, HashSet, VecDeque};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// `[sources.<id>]` with `type = "file"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Glob patterns of the files to read, such as `/var/log/agents/*.jsonl`
    /// (`**` matches any depth). Directories that do not exist yet are
    /// watched for: their files are read when they appear.
    pub include: Vec<String>,
    /// Glob patterns of files to leave out although `include` matches them,
    /// matched against the path as `include` produces it (e.g. `*.gz`).
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Where to start in a file found when the source starts that has no
    /// checkpoint: `"beginning"` (the default) or `"end"`. Files that appear
    /// later are always read from their beginning, so no line is missed.
    #[serde(default)]
    pub read_from: ReadFrom,
    /// The longest line accepted, in bytes (default 1 MiB). A longer line goes
    /// to the dead-letter output with its first `max_line_bytes` bytes.
    #[serde(default = "default_max_line_bytes")]
    pub max_line_bytes: usize,
    /// How often to look for new files, in milliseconds (default 1000).
    #[serde(default = "default_glob_interval_ms")]
    pub glob_interval_ms: u64,
    /// How often to check open files for new data, in milliseconds (default 50).
    #[serde(default = "default_poll_interval_ms")]
    pub poll_interval_ms: u64,
    /// `"text"` (the default) or `"json"`: a line that is a JSON object
    /// becomes the event's `message` as an object, parsed once here instead
    /// of by every plugin (see `sources::decoding`).
    #[serde(default)]
    pub decoding: Decoding,
}

/// Where to start reading a file that has no checkpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadFrom {
    #[default]
    Beginning,
    End,
}

pub(super) fn default_max_line_bytes() -> usize {
    1024 * 1024
}

fn default_glob_interval_ms() -> u64 {
    1000
}

fn default_poll_interval_ms() -> u64 {
    50
}

/// `*` and `?` stop at `/` in `exclude` as they do in `include`.
const MATCH: glob::MatchOptions =
    glob::MatchOptions { case_sensitive: true, require_literal_separator: true, require_literal_leading_dot: false };

impl FileConfig {
    /// Report every problem with these settings.
    pub fn validate(&self, at: &str, errors: &mut Vec<ConfigError>) {
        if self.include.is_empty() {
            errors.push(ConfigError::new(format!("{at}.include"), "no patterns: list the files to read, as globs"));
        }
        for pattern in &self.include {
            if let Err(err) = glob::Pattern::new(pattern) {
                errors.push(ConfigError::new(format!("{at}.include"), format!("invalid glob `{pattern}`: {err}")));
                continue;
            }
            // A missing directory is fine (its files may come later); one
            // that is there but unreadable would silently yield nothing.
            let base = base_dir(pattern);
            if base.exists()
                && let Err(err) = std::fs::read_dir(&base)
            {
                errors.push(ConfigError::new(
                    format!("{at}.include"),
                    format!("cannot read directory {} (from `{pattern}`): {err}", base.display()),
                ));
            }
        }
        for pattern in &self.exclude {
            if let Err(err) = glob::Pattern::new(pattern) {
                errors.push(ConfigError::new(format!("{at}.exclude"), format!("invalid glob `{pattern}`: {err}")));
            }
        }
        for (key, value) in [
            ("max_line_bytes", self.max_line_bytes as u64),
            ("glob_interval_ms", self.glob_interval_ms),
            ("poll_interval_ms", self.poll_interval_ms),
        ] {
            if value == 0 {
                errors.push(ConfigError::new(format!("{at}.{key}"), "must be at least 1"));
            }
        }
    }
}

/// The directory a pattern starts from: its leading components without glob
/// characters, less the file name.
fn base_dir(pattern: &str) -> PathBuf {
    let components: Vec<_> = Path::new(pattern).components().collect();
    let fixed = components[..components.len().saturating_sub(1)]
        .iter()
        .take_while(|c| !c.as_os_str().to_string_lossy().contains(['*', '?', '[']));
    let base: PathBuf = fixed.collect();
    if base.as_os_str().is_empty() { PathBuf::from(".") } else { base }
}

/// Bytes asked of the OS per read.
const READ_BYTES: usize = 64 * 1024;
/// Reads of one file before the others get their turn.
const READS_PER_TURN: usize = 16;
/// Checkpoints are written at most this often while running. After a crash
/// the events read since the last save are read again, so this bounds the
/// duplicates; a save is two small fsyncs.
const SAVE_INTERVAL: Duration = Duration::from_millis(200);
/// How long shutdown waits for outstanding acknowledgements.
const ACK_TIMEOUT: Duration = Duration::from_secs(10);
/// Scans that must miss a fully read file before it is closed: a writer may
/// still append to a file it renamed until it reopens its log.
const MISSED_SCANS_BEFORE_CLOSE: u32 = 2;

/// Follow the files until shutdown; see the module documentation.
pub async fn run(config: FileConfig, ctx: SourceContext) -> anyhow::Result<()> {
    start(config, ctx).await?.serve().await
}

/// Load the checkpoint and open the files there are now, reading nothing yet.
pub async fn start(config: FileConfig, ctx: SourceContext) -> anyhow::Result<Started> {
    let SourceContext { id, out, dead_letter, metrics, shutdown, data_dir, batch } = ctx;
    let shared = Shared {
        id,
        metrics,
        max_events: batch.max_events.max(1),
        max_line_bytes: config.max_line_bytes,
        decoding: config.decoding,
    };
    let tailer = Tailer::start(config, shared, &data_dir).await?;
    Ok(Started { tailer, output: Output { events: out, dead_letter }, shutdown })
}

/// A file source with its checkpoint loaded and its files open.
pub struct Started {
    tailer: Tailer,
    output: Output,
    shutdown: CancellationToken,
}

impl Started {
    /// Follow the files until shutdown.
    pub async fn serve(self) -> anyhow::Result<()> {
        let Started { mut tailer, output, shutdown } = self;
        let followed = tailer.follow(&output, &shutdown).await;
        // The stages downstream end only once every sender is gone, and the last
        // acknowledgements come back only after that.
        drop(output);
        tailer.settle_outstanding(ACK_TIMEOUT).await;
        let saved = if tailer.is_dirty() { tailer.save().await } else { Ok(()) };
        followed.and(saved)
    }
}

/// A file's identity: it survives renames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct FileId {
    dev: u64,
    ino: u64,
}

impl FileId {
    fn of(meta: &std::fs::Metadata) -> Self {
        FileId { dev: meta.dev(), ino: meta.ino() }
    }
}

/// What every file of the source needs to know.
struct Shared {
    id: Arc<str>,
    metrics: Arc<ComponentMetrics>,
    max_events: usize,
    max_line_bytes: usize,
    decoding: Decoding,
}

/// Where batches go; dropped at shutdown so the downstream stages can end.
struct Output {
    events: Fanout,
    dead_letter: DeadLetter,
}

/// The files of one source and their checkpoint.
struct Tailer {
    config: FileConfig,
    exclude: Vec<glob::Pattern>,
    shared: Shared,
    checkpoint: CheckpointFile,
    files: Vec<Tracked>,
    /// Files were added, removed or renamed since the last save.
    dirty: bool,
    last_save: Instant,
    scratch: Vec<u8>,
}

impl Tailer {
    /// Load the checkpoint and open the files there are now.
    async fn start(config: FileConfig, shared: Shared, data_dir: &Path) -> anyhow::Result<Tailer> {
        for pattern in &config.include {
            let base = base_dir(pattern);
            if !base.exists() {
                tracing::warn!(source = %shared.id, pattern = %pattern, directory = %base.display(),
                    "the directory does not exist yet; its files will be read when they appear");
            }
        }
        let checkpoint = CheckpointFile::new(data_dir, &shared.id);
        let saved = {
            let checkpoint = checkpoint.clone();
            tokio::task::spawn_blocking(move || checkpoint.load()).await.context("loading the checkpoint")??
        };
        let mut saved: HashMap<FileId, Position> =
            saved.into_iter().map(|p| (FileId { dev: p.dev, ino: p.ino }, p)).collect();
        let mut tailer = Tailer {
            exclude: config.exclude.iter().filter_map(|p| glob::Pattern::new(p).ok()).collect(),
            config,
            shared,
            checkpoint,
            files: Vec::new(),
            dirty: true,
            last_save: Instant::now(),
            scratch: Vec::new(),
        };
        tailer.rescan(&mut saved, true).await;
        tailer.resume_moved(saved).await;
        Ok(tailer)
    }

    /// Read, send and checkpoint until shutdown, or until no component reads
    /// from the source any more.
    async fn follow(&mut self, out: &Output, shutdown: &CancellationToken) -> anyhow::Result<()> {
        let glob_interval = Duration::from_millis(self.config.glob_interval_ms);
        let poll_interval = Duration::from_millis(self.config.poll_interval_ms);
        let mut next_scan = Instant::now() + glob_interval;
        while !shutdown.is_cancelled() {
            if Instant::now() >= next_scan {
                self.rescan(&mut HashMap::new(), false).await;
                next_scan = Instant::now() + glob_interval;
            }
            let mut more = false;
            for file in &mut self.files {
                more |= file.read_turn(&self.shared, &mut self.scratch, out, shutdown).await?;
            }
            self.close_finished(out).await?;
            self.collect_acks();
            if self.is_dirty()
                && self.last_save.elapsed() >= SAVE_INTERVAL
                && let Err(err) = self.save().await
            {
                self.shared.metrics.error("saving the checkpoint", &format!("{err:#}"));
            }
            if !more {
                tokio::select! {
                    () = shutdown.cancelled() => {}
                    () = tokio::time::sleep(poll_interval) => {}
                }
            }
        }
        Ok(())
    }

    /// Match the globs again: open new files, note renamed and vanished ones.
    /// `saved` holds checkpoint positions not yet claimed by a file; `startup`
    /// says whether `read_from` applies to files without one.
    async fn rescan(&mut self, saved: &mut HashMap<FileId, Position>, startup: bool) {
        let include = self.config.include.clone();
        let exclude = self.exclude.clone();
        let found = match tokio::task::spawn_blocking(move || scan(&include, &exclude)).await {
            Ok(found) => found,
            Err(err) => {
                self.shared.metrics.error("looking for files", &err);
                return;
            }
        };
        for file in &mut self.files {
            file.missed_scans += 1;
        }
        for (path, id) in found {
            if let Some(file) = self.files.iter_mut().find(|f| f.id == id) {
                file.missed_scans = 0;
                if file.path != path {
                    tracing::info!(source = %self.shared.id, from = %file.path.display(), to = %path.display(),
                        "the file was renamed; following it");
                    file.set_path(path);
                    self.dirty = true;
                }
                continue;
            }
            let Some(opened) = self.open(&path).await else { continue };
            // The path may have been replaced since the scan: what counts is the file opened.
            if self.files.iter().any(|f| f.id == opened.id) {
                continue;
            }
            let start = self.start_offset(&path, &opened, saved.remove(&opened.id), startup);
            tracing::debug!(source = %self.shared.id, path = %path.display(), offset = start, "following a file");
            self.files.push(Tracked::new(path, opened, start, self.shared.max_line_bytes));
            self.dirty = true;
        }
    }

    /// A checkpointed file that the globs no longer find may have been renamed
    /// (rotated) while sluice was stopped, before it was read to its end: look
    /// for it next to the path where it was last seen, and finish it.
    async fn resume_moved(&mut self, mut saved: HashMap<FileId, Position>) {
        if saved.is_empty() {
            return;
        }
        let dirs: HashSet<PathBuf> =
            saved.values().filter_map(|p| p.path.parent()).map(|dir| dir.to_path_buf()).collect();
        let ids: HashSet<FileId> = saved.keys().copied().collect();
        let found = tokio::task::spawn_blocking(move || find_by_id(&dirs, &ids)).await.unwrap_or_default();
        for (path, id) in found {
            let Some(position) = saved.remove(&id) else { continue };
            let Some(opened) = self.open(&path).await else { continue };
            let same = opened.id == id && position.fingerprint.matches(&opened.head);
            if !same || opened.size <= position.offset || self.files.iter().any(|f| f.id == id) {
                continue;
            }
            tracing::info!(source = %self.shared.id, path = %path.display(), was = %position.path.display(),
                offset = position.offset, "finishing a file that was renamed while stopped");
            self.files.push(Tracked::new(path, opened, position.offset, self.shared.max_line_bytes));
        }
    }

    async fn open(&self, path: &Path) -> Option<Opened> {
        let owned = path.to_path_buf();
        let opened = tokio::task::spawn_blocking(move || Opened::open(&owned))
            .await
            .unwrap_or_else(|err| Err(std::io::Error::other(err)));
        match opened {
            Ok(opened) => Some(opened),
            // Gone between the scan and now: nothing to read.
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
            Err(err) => {
                self.shared.metrics.error(&format!("opening {}", path.display()), &err);
                None
            }
        }
    }

    /// Where to start reading a newly opened file.
    fn start_offset(&self, path: &Path, opened: &Opened, saved: Option<Position>, startup: bool) -> u64 {
        if let Some(saved) = saved {
            if !saved.fingerprint.matches(&opened.head) {
                tracing::info!(source = %self.shared.id, path = %path.display(),
                    "the checkpoint for this device and inode belongs to a deleted file whose inode was reused; \
                     reading the file as a new one");
            } else if opened.size < saved.offset {
                tracing::warn!(source = %self.shared.id, path = %path.display(), size = opened.size,
                    checkpoint = saved.offset, "the file was truncated while stopped; reading it from the start");
                return 0;
            } else {
                return saved.offset;
            }
        }
        if startup && self.config.read_from == ReadFrom::End { opened.size } else { 0 }
    }

    /// Close the files that are read to their end and gone: deleted, or no
    /// longer matched by the globs.
    async fn close_finished(&mut self, out: &Output) -> anyhow::Result<()> {
        let mut index = 0;
        while index < self.files.len() {
            let file = &self.files[index];
            let gone = file.deleted || file.missed_scans >= MISSED_SCANS_BEFORE_CLOSE;
            if !(file.at_eof && gone) {
                index += 1;
                continue;
            }
            let mut file = self.files.remove(index);
            // Nobody will finish the last line of a file that is gone.
            if let Some(line) = file.splitter.finish() {
                let mut pending = None;
                file.emit(&mut vec![line], &mut pending, &self.shared, out).await?;
                if let Some(pending) = pending {
                    file.send(pending, &self.shared, out).await?;
                }
            }
            tracing::info!(source = %self.shared.id, path = %file.path.display(),
                reason = if file.deleted { "deleted" } else { "no longer matched by include" },
                "finished reading the file; closing it");
            self.dirty = true;
        }
        Ok(())
    }

    /// Advance positions over the batches that are done.
    fn collect_acks(&mut self) {
        for file in &mut self.files {
            while let Some((end, receiver)) = file.in_flight.front_mut() {
                let status = match receiver.try_recv() {
                    Ok(status) => status,
                    Err(oneshot::error::TryRecvError::Empty) => break,
                    Err(oneshot::error::TryRecvError::Closed) => BatchStatus::Failed,
                };
                let end = *end;
                file.in_flight.pop_front();
                file.settle(end, status, &self.shared);
            }
        }
    }

    /// At shutdown: wait, up to `timeout` in all, for the batches still out.
    async fn settle_outstanding(&mut self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        for file in &mut self.files {
            while let Some((end, receiver)) = file.in_flight.pop_front() {
                match tokio::time::timeout_at(deadline, receiver).await {
                    Ok(status) => file.settle(end, status.unwrap_or(BatchStatus::Failed), &self.shared),
                    Err(_) => {
                        tracing::warn!(source = %self.shared.id, timeout_s = timeout.as_secs(),
                            "gave up waiting for acknowledgements; unacknowledged lines will be read again at the \
                             next start");
                        return;
                    }
                }
            }
        }
    }

    fn is_dirty(&self) -> bool {
        self.dirty || self.files.iter().any(|f| f.dirty)
    }

    /// Write every file's acknowledged position.
    async fn save(&mut self) -> anyhow::Result<()> {
        let positions: Vec<Position> = self.files.iter().map(Tracked::position).collect();
        let checkpoint = self.checkpoint.clone();
        self.last_save = Instant::now();
        tokio::task::spawn_blocking(move || checkpoint.save(&positions)).await.context("saving the checkpoint")??;
        self.dirty = false;
        for file in &mut self.files {
            file.dirty = false;
        }
        Ok(())
    }
}

/// One file being followed.
struct Tracked {
    /// Where the file was last seen.
    path: PathBuf,
    /// `path` as text, for events.
    path_text: String,
    id: FileId,
    file: Arc<std::fs::File>,
    /// Its offset is the read position.
    splitter: LineSplitter,
    /// The file's first bytes (up to [`FINGERPRINT_BYTES`]), for the checkpoint's fingerprint.
    head: Vec<u8>,
    /// Lines before this offset are acknowledged.
    acked: u64,
    /// Batches sent and not yet done, oldest first: the offset past their last
    /// line and where their fate will be told.
    in_flight: VecDeque<(u64, oneshot::Receiver<BatchStatus>)>,
    /// A batch failed: the position stays where it was until a restart.
    ack_failed: bool,
    /// `acked` changed since the last save.
    dirty: bool,
    /// Consecutive glob scans that did not find the file.
    missed_scans: u32,
    at_eof: bool,
    deleted: bool,
}

/// A batch being filled.
struct Pending {
    events: Vec<Event>,
    finaliser: Finaliser,
    status: oneshot::Receiver<BatchStatus>,
    /// The offset past the batch's last line.
    end: u64,
}

impl Pending {
    fn new() -> Self {
        let (finaliser, status) = Finaliser::new();
        Pending { events: Vec::new(), finaliser, status, end: 0 }
    }
}

impl Tracked {
    fn new(path: PathBuf, opened: Opened, start: u64, max_line_bytes: usize) -> Self {
        Tracked {
            path_text: path.to_string_lossy().into_owned(),
            path,
            id: opened.id,
            file: Arc::new(opened.file),
            splitter: LineSplitter::new(max_line_bytes, start),
            head: opened.head,
            acked: start,
            in_flight: VecDeque::new(),
            ack_failed: false,
            dirty: true,
            missed_scans: 0,
            at_eof: false,
            deleted: false,
        }
    }

    fn set_path(&mut self, path: PathBuf) {
        self.path_text = path.to_string_lossy().into_owned();
        self.path = path;
    }

    fn position(&self) -> Position {
        // The bytes before `acked` were read, so `head` holds as many of them as a fingerprint takes.
        let len = self.head.len().min(usize::try_from(self.acked).unwrap_or(usize::MAX));
        Position {
            dev: self.id.dev,
            ino: self.id.ino,
            fingerprint: Fingerprint::of(&self.head[..len]),
            offset: self.acked,
            path: self.path.clone(),
        }
    }

    /// Read what the file has now, up to a budget, and send it in batches.
    /// Returns whether there may be more to read right away.
    async fn read_turn(
        &mut self,
        shared: &Shared,
        scratch: &mut Vec<u8>,
        out: &Output,
        shutdown: &CancellationToken,
    ) -> anyhow::Result<bool> {
        let mut pending = None;
        let mut lines = Vec::new();
        let mut more = true;
        let mut truncated_to = None;
        for _ in 0..READS_PER_TURN {
            if shutdown.is_cancelled() {
                break;
            }
            let pos = self.splitter.offset();
            let file = self.file.clone();
            let mut buf = std::mem::take(scratch);
            buf.resize(READ_BYTES, 0);
            let (buf, read) = tokio::task::spawn_blocking(move || {
                let read = read_chunk(&file, &mut buf, pos);
                (buf, read)
            })
            .await
            .context("reading a file")?;
            *scratch = buf;
            match read {
                Ok(Chunk::Data(n)) => {
                    self.at_eof = false;
                    self.remember_head(pos, &scratch[..n]);
                    self.splitter.feed(&scratch[..n], &mut lines);
                    self.emit(&mut lines, &mut pending, shared, out).await?;
                }
                Ok(Chunk::End { size, deleted }) => {
                    self.at_eof = true;
                    self.deleted = deleted;
                    more = size < pos;
                    truncated_to = more.then_some(size);
                    break;
                }
                Err(err) => {
                    shared.metrics.error(&format!("reading {}", self.path.display()), &err);
                    more = false;
                    break;
                }
            }
        }
        if let Some(pending) = pending {
            self.send(pending, shared, out).await?;
        }
        if let Some(size) = truncated_to {
            tracing::warn!(source = %shared.id, path = %self.path.display(), size, offset = self.splitter.offset(),
                "the file was truncated; reading it again from the start");
            // The batches still out carry offsets into the old content: they no longer tell a position.
            self.in_flight.clear();
            self.splitter = LineSplitter::new(shared.max_line_bytes, 0);
            self.head.clear();
            self.acked = 0;
            self.ack_failed = false;
            self.at_eof = false;
            self.dirty = true;
        }
        Ok(more)
    }

    /// Keep the file's first bytes as they go by.
    fn remember_head(&mut self, pos: u64, data: &[u8]) {
        let have = self.head.len();
        if have < FINGERPRINT_BYTES && pos <= have as u64 && pos + data.len() as u64 > have as u64 {
            let pos = pos as usize;
            self.head.extend_from_slice(&data[have - pos..(FINGERPRINT_BYTES - pos).min(data.len())]);
        }
    }

    /// Turn lines into events of the pending batch, sending each batch that fills up.
    async fn emit(
        &mut self,
        lines: &mut Vec<Line>,
        pending: &mut Option<Pending>,
        shared: &Shared,
        out: &Output,
    ) -> anyhow::Result<()> {
        if lines.is_empty() {
            return Ok(());
        }
        shared.metrics.received(lines.len());
        let received_at = crate::timestamp::now_rfc3339();
        for line in lines.drain(..) {
            let batch = pending.get_or_insert_with(Pending::new);
            let origin = Origin { id: &shared.id, path: Some(&self.path_text), address: None };
            let event = message_event(&line.text, origin, &received_at, shared.decoding);
            batch.end = line.end;
            match line.oversized {
                None => batch.events.push(event),
                Some(len) => {
                    let max = shared.max_line_bytes;
                    let reason = format!(
                        "line of {len} bytes in {} exceeds max_line_bytes ({max}); only its first {max} bytes are kept",
                        self.path_text
                    );
                    // It shares the batch's acknowledgement, so the position passes it only once it is written.
                    let from = Batch::with_finaliser(Vec::new(), batch.finaliser.clone());
                    out.dead_letter.send(&shared.metrics, &from, vec![(event, reason)]).await;
                }
            }
            if batch.events.len() >= shared.max_events
                && let Some(full) = pending.take()
            {
                self.send(full, shared, out).await?;
            }
        }
        Ok(())
    }

    /// Send a batch and wait for its fate in order with the others.
    async fn send(&mut self, pending: Pending, shared: &Shared, out: &Output) -> anyhow::Result<()> {
        let Pending { events, finaliser, status, end } = pending;
        let count = events.len();
        // Held until the outcome is known: a batch that found nobody to take
        // it must not be reported delivered when its copies are dropped.
        let guard = finaliser.clone();
        let sent = out.events.send(Batch::with_finaliser(events, finaliser)).await;
        self.in_flight.push_back((end, status));
        if sent.is_err() {
            guard.fail();
            anyhow::bail!("no component reads from source {} any more", shared.id);
        }
        shared.metrics.sent(count);
        Ok(())
    }

    fn settle(&mut self, end: u64, status: BatchStatus, shared: &Shared) {
        match status {
            BatchStatus::Delivered if !self.ack_failed => {
                self.acked = end;
                self.dirty = true;
            }
            BatchStatus::Delivered => {}
            BatchStatus::Failed => {
                if !self.ack_failed {
                    shared.metrics.error(
                        &format!("a batch of lines from {} was not delivered", self.path.display()),
                        &format_args!(
                            "the file's checkpoint stays at offset {}; its lines from there are read again at the \
                             next start",
                            self.acked
                        ),
                    );
                }
                self.ack_failed = true;
            }
        }
    }
}

/// A file just opened.
struct Opened {
    file: std::fs::File,
    id: FileId,
    size: u64,
    /// Its first bytes, up to [`FINGERPRINT_BYTES`].
    head: Vec<u8>,
}

impl Opened {
    fn open(path: &Path) -> std::io::Result<Opened> {
        let file = std::fs::File::open(path)?;
        let meta = file.metadata()?;
        let mut head = vec![0; FINGERPRINT_BYTES];
        let mut len = 0;
        while len < head.len() {
            match file.read_at(&mut head[len..], len as u64)? {
                0 => break,
                n => len += n,
            }
        }
        head.truncate(len);
        Ok(Opened { id: FileId::of(&meta), size: meta.len().max(len as u64), head, file })
    }
}

enum Chunk {
    Data(usize),
    /// Nothing more for now; the file's size tells whether it was truncated.
    End {
        size: u64,
        deleted: bool,
    },
}

fn read_chunk(file: &std::fs::File, buf: &mut [u8], pos: u64) -> std::io::Result<Chunk> {
    let n = file.read_at(buf, pos)?;
    if n > 0 {
        return Ok(Chunk::Data(n));
    }
    let meta = file.metadata()?;
    Ok(Chunk::End { size: meta.len(), deleted: meta.nlink() == 0 })
}

/// The regular files that the globs match now, each once, in glob order.
fn scan(include: &[String], exclude: &[glob::Pattern]) -> Vec<(PathBuf, FileId)> {
    let mut found = Vec::new();
    let mut seen = HashSet::new();
    for pattern in include {
        // Invalid patterns were reported by `validate`.
        let Ok(paths) = glob::glob_with(pattern, MATCH) else { continue };
        // Unreadable entries are skipped: directories may come and go.
        for path in paths.flatten() {
            if exclude.iter().any(|p| p.matches_path_with(&path, MATCH)) {
                continue;
            }
            let Ok(meta) = std::fs::metadata(&path) else { continue };
            if meta.is_file() && seen.insert(FileId::of(&meta)) {
                found.push((path, FileId::of(&meta)));
            }
        }
    }
    found
}

/// The files in `dirs` that have one of the identities `ids`.
fn find_by_id(dirs: &HashSet<PathBuf>, ids: &HashSet<FileId>) -> Vec<(PathBuf, FileId)> {
    let mut found = Vec::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if let Ok(meta) = std::fs::metadata(&path)
                && meta.is_file()
                && ids.contains(&FileId::of(&meta))
            {
                found.push((path, FileId::of(&meta)));
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::BatchConfig;
    use crate::metrics::Metrics;
    use std::io::Write;
    use tokio::sync::mpsc;
    use tokio::task::JoinHandle;

    const WAIT: Duration = Duration::from_secs(5);

    /// A temporary directory with `logs/` to read and `data/` for checkpoints.
    struct Dirs {
        _tmp: tempfile::TempDir,
        logs: PathBuf,
        data: PathBuf,
    }

    fn dirs() -> Dirs {
        let tmp = tempfile::tempdir().unwrap();
        // Canonical, to compare with the paths behind open descriptors.
        let root = tmp.path().canonicalize().unwrap();
        let logs = root.join("logs");
        std::fs::create_dir(&logs).unwrap();
        Dirs { _tmp: tmp, logs, data: root.join("data") }
    }

    fn config(logs: &Path, pattern: &str) -> FileConfig {
        FileConfig {
            include: vec![logs.join(pattern).to_string_lossy().into_owned()],
            exclude: Vec::new(),
            read_from: ReadFrom::Beginning,
            max_line_bytes: 1024,
            glob_interval_ms: 10,
            poll_interval_ms: 5,
            decoding: Decoding::Text,
        }
    }

    fn append(path: &Path, text: &str) {
        let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path).unwrap();
        file.write_all(text.as_bytes()).unwrap();
    }

    fn saved(data: &Path) -> Vec<Position> {
        CheckpointFile::new(data, "agents").load().unwrap()
    }

    /// Whether this process has `path` open (Linux).
    fn is_open(path: &Path) -> bool {
        let deleted = format!("{} (deleted)", path.display());
        std::fs::read_dir("/proc/self/fd")
            .unwrap()
            .flatten()
            .filter_map(|fd| std::fs::read_link(fd.path()).ok())
            .any(|target| target == path || target.to_string_lossy() == deleted)
    }

    async fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
        let deadline = Instant::now() + WAIT;
        while !condition() {
            assert!(Instant::now() < deadline, "timed out waiting until {what}");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// A running source, its dead-letter writer, and the test as its only consumer.
    struct Running {
        batches: mpsc::Receiver<Batch>,
        shutdown: CancellationToken,
        source: JoinHandle<anyhow::Result<()>>,
        dead_letter: JoinHandle<anyhow::Result<()>>,
        metrics: Arc<ComponentMetrics>,
        sizes: Vec<usize>,
    }

    fn start(config: FileConfig, data: &Path, max_events: usize) -> Running {
        let metrics = Metrics::default();
        let (tx, batches) = mpsc::channel(4);
        let (dead_letter, rejected) = DeadLetter::channel(metrics.component("dead_letter"));
        let writer = crate::dead_letter::run_writer(data.join("dead-letter.jsonl"), rejected, metrics.component("dl"));
        let shutdown = CancellationToken::new();
        let ctx = SourceContext {
            id: "agents".into(),
            out: Fanout::new(vec![tx]),
            dead_letter,
            metrics: metrics.component("agents"),
            shutdown: shutdown.clone(),
            data_dir: data.to_path_buf(),
            batch: BatchConfig { max_events, timeout: Duration::from_millis(10) },
        };
        Running {
            batches,
            shutdown,
            source: tokio::spawn(run(config, ctx)),
            dead_letter: tokio::spawn(writer),
            metrics: metrics.component("agents"),
            sizes: Vec::new(),
        }
    }

    fn messages(batch: &Batch) -> Vec<String> {
        let message = |event: &Event| {
            let json: serde_json::Value = serde_json::from_str(event.json()).unwrap();
            json["message"].as_str().unwrap().to_owned()
        };
        batch.events.iter().map(message).collect()
    }

    impl Running {
        /// Take batches until `n` events came; each batch is delivered when
        /// dropped, or failed first when `fail`.
        async fn receive(&mut self, n: usize, fail: bool) -> Vec<String> {
            let mut got = Vec::new();
            while got.len() < n {
                let batch = tokio::time::timeout(WAIT, self.batches.recv())
                    .await
                    .unwrap_or_else(|_| panic!("timed out with {got:?}, waiting for {n} events"))
                    .expect("the source ended early");
                if fail {
                    batch.finaliser().expect("file batches are acknowledged").fail();
                }
                self.sizes.push(batch.len());
                got.extend(messages(&batch));
            }
            got
        }

        async fn take(&mut self, n: usize) -> Vec<String> {
            self.receive(n, false).await
        }

        /// Stop the source; the events it still sent, which should be none.
        async fn stop(mut self) -> Vec<String> {
            self.shutdown.cancel();
            let mut rest = Vec::new();
            while let Some(batch) = tokio::time::timeout(WAIT, self.batches.recv()).await.expect("shutdown hangs") {
                rest.extend(messages(&batch));
            }
            self.source.await.unwrap().unwrap();
            self.dead_letter.await.unwrap().unwrap();
            rest
        }
    }

    #[tokio::test]
    async fn reads_lines_and_follows_appends_but_waits_for_a_line_to_end() {
        let dirs = dirs();
        let log = dirs.logs.join("a.jsonl");
        append(&log, "one\ntwo\r\npart");
        let mut source = start(config(&dirs.logs, "*.jsonl"), &dirs.data, 128);
        assert_eq!(source.take(2).await, ["one", "two"]);
        append(&log, "ial\nthree\n");
        assert_eq!(source.take(2).await, ["partial", "three"]);
        append(&log, "four\n");
        let batch = tokio::time::timeout(WAIT, source.batches.recv()).await.unwrap().unwrap();
        let event: serde_json::Value = serde_json::from_str(batch.events[0].json()).unwrap();
        assert_eq!(event["message"], "four");
        assert_eq!(event["source"]["id"], "agents");
        assert_eq!(event["source"]["path"], log.to_str().unwrap());
        drop(batch);
        let counts = source.metrics.counts();
        assert_eq!((counts.received, counts.sent), (5, 5));
        assert!(source.stop().await.is_empty());
        let saved = saved(&dirs.data);
        assert_eq!(saved.len(), 1);
        assert_eq!((saved[0].offset, &saved[0].path), (std::fs::metadata(&log).unwrap().len(), &log));
    }

    #[tokio::test]
    async fn the_checkpoint_is_saved_while_running() {
        let dirs = dirs();
        let log = dirs.logs.join("a.log");
        append(&log, "1\n2\n");
        let mut source = start(config(&dirs.logs, "*.log"), &dirs.data, 128);
        assert_eq!(source.take(2).await, ["1", "2"]);
        // Within about a second, without waiting for a stop: a crash now would not read them again.
        wait_until("the checkpoint is saved", || saved(&dirs.data).first().is_some_and(|p| p.offset == 4)).await;
        assert!(source.stop().await.is_empty());
    }

    #[tokio::test]
    async fn batches_hold_at_most_max_events_and_a_restart_reads_nothing_twice() {
        let dirs = dirs();
        let log = dirs.logs.join("a.log");
        let lines: Vec<String> = (0..10).map(|i| format!("line {i}")).collect();
        append(&log, &lines.iter().map(|l| format!("{l}\n")).collect::<String>());

        let mut source = start(config(&dirs.logs, "*.log"), &dirs.data, 3);
        assert_eq!(source.take(10).await, lines);
        assert!(source.sizes.iter().all(|&n| (1..=3).contains(&n)), "batch sizes {:?}", source.sizes);
        assert!(source.stop().await.is_empty());

        append(&log, "line 10\nline 11\n");
        let mut source = start(config(&dirs.logs, "*.log"), &dirs.data, 3);
        assert_eq!(source.take(2).await, ["line 10", "line 11"]);
        assert!(source.stop().await.is_empty());

        // Nothing new: nothing at all.
        let mut source = start(config(&dirs.logs, "*.log"), &dirs.data, 3);
        append(&log, "line 12\n");
        assert_eq!(source.take(1).await, ["line 12"]);
        assert!(source.stop().await.is_empty());
    }

    #[tokio::test]
    async fn follows_rotation_by_rename() {
        let dirs = dirs();
        let log = dirs.logs.join("app.log");
        let rotated = dirs.logs.join("app.log.1");
        append(&log, "1\n2\n");
        let mut source = start(config(&dirs.logs, "app.log"), &dirs.data, 128);
        assert_eq!(source.take(2).await, ["1", "2"]);

        append(&log, "3\n");
        std::fs::rename(&log, &rotated).unwrap();
        // The writer has not reopened its log yet.
        append(&rotated, "4\n");
        append(&log, "5\n6\n");
        let mut got = source.take(4).await;
        let position = |line: &str| got.iter().position(|l| l == line).unwrap();
        assert!(position("3") < position("4") && position("5") < position("6"), "per-file order: {got:?}");
        got.sort();
        assert_eq!(got, ["3", "4", "5", "6"]);

        // The renamed file is closed once read and out of the globs.
        wait_until("the rotated file is closed", || !is_open(&rotated)).await;
        assert!(is_open(&log));
        assert!(source.stop().await.is_empty());
        let saved = saved(&dirs.data);
        assert_eq!(saved.len(), 1, "{saved:?}");
        assert_eq!((saved[0].offset, &saved[0].path), (4, &log));
    }

    #[tokio::test]
    async fn finishes_a_file_rotated_while_stopped() {
        let dirs = dirs();
        let log = dirs.logs.join("app.log");
        append(&log, "1\n2\n");
        let mut source = start(config(&dirs.logs, "app.log"), &dirs.data, 128);
        assert_eq!(source.take(2).await, ["1", "2"]);
        assert!(source.stop().await.is_empty());

        append(&log, "3\n");
        std::fs::rename(&log, dirs.logs.join("app.log.1")).unwrap();
        append(&log, "4\n");
        let mut source = start(config(&dirs.logs, "app.log"), &dirs.data, 128);
        let mut got = source.take(2).await;
        got.sort();
        assert_eq!(got, ["3", "4"]);
        assert!(source.stop().await.is_empty());
    }

    #[tokio::test]
    async fn starts_again_at_zero_after_truncation() {
        let dirs = dirs();
        let log = dirs.logs.join("a.log");
        append(&log, "first\nsecond\n");
        let mut source = start(config(&dirs.logs, "*.log"), &dirs.data, 128);
        assert_eq!(source.take(2).await, ["first", "second"]);
        std::fs::write(&log, "new\n").unwrap();
        assert_eq!(source.take(1).await, ["new"]);
        append(&log, "more\n");
        assert_eq!(source.take(1).await, ["more"]);
        assert!(source.stop().await.is_empty());
        assert_eq!(saved(&dirs.data)[0].offset, 9);
    }

    #[tokio::test]
    async fn oversized_lines_reach_the_dead_letter_and_still_count_for_the_checkpoint() {
        let dirs = dirs();
        let log = dirs.logs.join("a.log");
        append(&log, &format!("ok\n{}\nfine\n", "x".repeat(20)));
        let mut config = config(&dirs.logs, "*.log");
        config.max_line_bytes = 8;
        let mut source = start(config.clone(), &dirs.data, 128);
        assert_eq!(source.take(2).await, ["ok", "fine"]);
        assert_eq!(source.metrics.counts().dead_lettered, 1);
        assert!(source.stop().await.is_empty());

        let dead = std::fs::read_to_string(dirs.data.join("dead-letter.jsonl")).unwrap();
        let records: Vec<serde_json::Value> = dead.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(records.len(), 1, "{dead}");
        assert_eq!(records[0]["component"], "agents");
        assert_eq!(records[0]["event"]["message"], "xxxxxxxx");
        let reason = records[0]["reason"].as_str().unwrap();
        for part in ["20 bytes", log.to_str().unwrap(), "max_line_bytes (8)"] {
            assert!(reason.contains(part), "{reason:?} names {part:?}");
        }
        assert_eq!(saved(&dirs.data)[0].offset, std::fs::metadata(&log).unwrap().len());

        // After a restart the oversized line is not read again.
        append(&log, "after\n");
        let mut source = start(config, &dirs.data, 128);
        assert_eq!(source.take(1).await, ["after"]);
        assert!(source.stop().await.is_empty());
        let dead = std::fs::read_to_string(dirs.data.join("dead-letter.jsonl")).unwrap();
        assert_eq!(dead.lines().count(), 1);
    }

    #[tokio::test]
    async fn read_from_end_skips_old_lines_but_not_new_files() {
        let dirs = dirs();
        let log = dirs.logs.join("a.log");
        append(&log, "old\n");
        let mut config = config(&dirs.logs, "*.log");
        config.read_from = ReadFrom::End;
        let mut source = start(config.clone(), &dirs.data, 128);
        wait_until("the file is open", || is_open(&log)).await;
        append(&log, "new\n");
        assert_eq!(source.take(1).await, ["new"]);
        // A file that appears later is read whole.
        append(&dirs.logs.join("b.log"), "b1\nb2\n");
        assert_eq!(source.take(2).await, ["b1", "b2"]);
        assert!(source.stop().await.is_empty());

        // With a checkpoint, `read_from` no longer applies.
        append(&log, "while stopped\n");
        let mut source = start(config, &dirs.data, 128);
        assert_eq!(source.take(1).await, ["while stopped"]);
        assert!(source.stop().await.is_empty());
    }

    #[tokio::test]
    async fn a_failed_batch_holds_the_checkpoint_back_until_a_restart() {
        let dirs = dirs();
        let log = dirs.logs.join("a.log");
        append(&log, "1\n2\n");
        let mut source = start(config(&dirs.logs, "*.log"), &dirs.data, 128);
        assert_eq!(source.receive(2, true).await, ["1", "2"]);
        append(&log, "3\n");
        assert_eq!(source.take(1).await, ["3"]);
        assert!(source.stop().await.is_empty());
        assert_eq!(saved(&dirs.data)[0].offset, 0, "held before the failed batch");

        let mut source = start(config(&dirs.logs, "*.log"), &dirs.data, 128);
        assert_eq!(source.take(3).await, ["1", "2", "3"], "read again: at least once");
        assert!(source.stop().await.is_empty());
        assert_eq!(saved(&dirs.data)[0].offset, 6);
    }

    #[tokio::test]
    async fn a_deleted_file_is_read_to_its_end_then_closed() {
        let dirs = dirs();
        let log = dirs.logs.join("a.log");
        append(&log, "1\n");
        let mut source = start(config(&dirs.logs, "*.log"), &dirs.data, 128);
        assert_eq!(source.take(1).await, ["1"]);
        append(&log, "2\nlast without newline");
        std::fs::remove_file(&log).unwrap();
        assert_eq!(source.take(2).await, ["2", "last without newline"]);
        wait_until("the deleted file is closed", || !is_open(&log)).await;
        assert!(source.stop().await.is_empty());
        assert_eq!(saved(&dirs.data), Vec::new());
    }

    #[tokio::test]
    async fn a_checkpoint_applies_only_to_the_file_it_was_taken_from() {
        let dirs = dirs();
        let kept = dirs.logs.join("kept.log");
        let reused = dirs.logs.join("reused.log");
        append(&kept, "aaaa\nbbbb\n");
        append(&reused, "new file\n");
        let position = |path: &Path, head: &[u8]| {
            let meta = std::fs::metadata(path).unwrap();
            let fingerprint = Fingerprint::of(head);
            Position { dev: meta.dev(), ino: meta.ino(), fingerprint, offset: 5, path: path.to_path_buf() }
        };
        // `reused.log` got the inode of a deleted file that had other content.
        let positions = [position(&kept, b"aaaa\n"), position(&reused, b"old!\n")];
        CheckpointFile::new(&dirs.data, "agents").save(&positions).unwrap();
        let mut source = start(config(&dirs.logs, "*.log"), &dirs.data, 128);
        let mut got = source.take(2).await;
        got.sort();
        assert_eq!(got, ["bbbb", "new file"]);
        assert!(source.stop().await.is_empty());
    }

    #[tokio::test]
    async fn exclude_leaves_matching_files_out() {
        let dirs = dirs();
        append(&dirs.logs.join("a.log"), "a\n");
        append(&dirs.logs.join("skip.log"), "skipped\n");
        let mut config = config(&dirs.logs, "*.log");
        config.exclude = vec![dirs.logs.join("skip*").to_string_lossy().into_owned()];
        let mut source = start(config, &dirs.data, 128);
        assert_eq!(source.take(1).await, ["a"]);
        append(&dirs.logs.join("a.log"), "b\n");
        assert_eq!(source.take(1).await, ["b"]);
        assert!(source.stop().await.is_empty());
    }

    fn parse(toml: &str) -> Result<FileConfig, toml::de::Error> {
        toml::from_str(toml)
    }

    fn problems(config: &FileConfig) -> Vec<String> {
        let mut errors = Vec::new();
        config.validate("sources.agents", &mut errors);
        errors.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn config_defaults_and_unknown_keys() {
        let config = parse(r#"include = ["/var/log/*.jsonl"]"#).unwrap();
        assert_eq!(config.read_from, ReadFrom::Beginning);
        assert_eq!(
            (config.max_line_bytes, config.glob_interval_ms, config.poll_interval_ms, config.exclude.len()),
            (1048576, 1000, 50, 0)
        );
        assert_eq!(parse("include = []\nread_from = \"end\"").unwrap().read_from, ReadFrom::End);
        assert!(parse("include = []\nread_from = \"middle\"").unwrap_err().to_string().contains("middle"));
        assert!(parse("include = []\nincludes = []").unwrap_err().to_string().contains("includes"));
    }

    #[test]
    fn validate_reports_every_problem_with_its_key() {
        let dirs = dirs();
        let not_a_dir = dirs.logs.join("file");
        std::fs::write(&not_a_dir, "").unwrap();
        let broken = FileConfig {
            include: vec!["/var/log/[".to_owned(), format!("{}/*.log", not_a_dir.display())],
            exclude: vec!["a[".to_owned()],
            max_line_bytes: 0,
            glob_interval_ms: 0,
            poll_interval_ms: 0,
            ..config(&dirs.logs, "*.log")
        };
        let found = problems(&broken);
        assert_eq!(found.len(), 6, "{found:#?}");
        assert!(found[0].starts_with("sources.agents.include: invalid glob `/var/log/[`"), "{}", found[0]);
        assert!(
            found[1].starts_with(&format!("sources.agents.include: cannot read directory {}", not_a_dir.display()))
        );
        assert!(found[2].starts_with("sources.agents.exclude: invalid glob `a[`"));
        assert_eq!(found[3], "sources.agents.max_line_bytes: must be at least 1");
        assert_eq!(found[4], "sources.agents.glob_interval_ms: must be at least 1");
        assert_eq!(found[5], "sources.agents.poll_interval_ms: must be at least 1");

        let empty = FileConfig { include: Vec::new(), ..config(&dirs.logs, "*.log") };
        assert_eq!(problems(&empty), ["sources.agents.include: no patterns: list the files to read, as globs"]);
        // Files may appear later in a directory that does not exist yet.
        assert_eq!(problems(&config(&dirs.logs.join("later/on"), "*.log")), Vec::<String>::new());
    }

    #[test]
    fn the_base_directory_is_the_fixed_part_of_a_pattern() {
        assert_eq!(base_dir("/var/log/agents/*.jsonl"), Path::new("/var/log/agents"));
        assert_eq!(base_dir("/var/log/a.log"), Path::new("/var/log"));
        assert_eq!(base_dir("/var/*/x/*.log"), Path::new("/var"));
        assert_eq!(base_dir("logs/**/*.log"), Path::new("logs"));
        assert_eq!(base_dir("*.log"), Path::new("."));
    }
}
