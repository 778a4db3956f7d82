//! Following files as `tail -F` does: the files the globs match, each known
//! by its device and inode, read from where its checkpoint says.
//!
//! A rename (rotation) does not make a file a new one: the renamed file is
//! read to its end through the open handle while the new file at the path is
//! read from its start. A file that shrinks was truncated and is read again
//! from the start. A file read to its end that is deleted, or that the globs
//! no longer match, is closed. Everything that touches the disk runs off the
//! async runtime.

use super::checkpoint::{FINGERPRINT_BYTES, Fingerprint, Position};
use super::config::{FileConfig, MATCH, ReadFrom, base_dir};
use crate::internal_events::{ComponentError, InternalEvent};
use crate::metrics::ComponentMetrics;
use crate::sources::lines::{Line, LineSplitter};
use anyhow::Context;
use std::collections::{HashMap, HashSet};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::task::JoinHandle;

/// Bytes asked of the OS per read.
pub(super) const READ_BYTES: usize = 64 * 1024;
/// Scans that must miss a fully read file before it is closed: a writer may
/// still append to a file it renamed until it reopens its log.
const MISSED_SCANS_BEFORE_CLOSE: u32 = 2;

/// A file's identity: it survives renames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct FileId {
    dev: u64,
    ino: u64,
}

impl FileId {
    fn of(meta: &std::fs::Metadata) -> Self {
        FileId { dev: meta.dev(), ino: meta.ino() }
    }
}

/// The files of one source.
pub(super) struct Tail {
    config: FileConfig,
    exclude: Vec<glob::Pattern>,
    id: Arc<str>,
    metrics: Arc<ComponentMetrics>,
    pub files: Vec<Tracked>,
    /// Files were added, removed or renamed since the last save.
    changed: bool,
}

/// What a glob scan found: each file's path and identity, and the new ones
/// opened.
pub(super) type Found = Vec<(PathBuf, FileId, Option<std::io::Result<Opened>>)>;

impl Tail {
    /// Open the files there are now, starting each where `saved` says.
    pub async fn start(
        config: FileConfig,
        id: Arc<str>,
        metrics: Arc<ComponentMetrics>,
        saved: Vec<Position>,
    ) -> anyhow::Result<Tail> {
        for pattern in &config.include {
            let base = base_dir(pattern);
            if !base.exists() {
                tracing::warn!(source = %id, pattern = %pattern, directory = %base.display(),
                    "the directory does not exist yet; its files will be read when they appear");
            }
        }
        let mut saved: HashMap<FileId, Position> =
            saved.into_iter().map(|p| (FileId { dev: p.dev, ino: p.ino }, p)).collect();
        let mut tail = Tail {
            exclude: config.exclude.iter().filter_map(|p| glob::Pattern::new(p).ok()).collect(),
            config,
            id,
            metrics,
            files: Vec::new(),
            changed: true,
        };
        let found = tail.scan().await.context("looking for files")?;
        tail.found(found, &mut saved, true);
        tail.resume_moved(saved).await;
        Ok(tail)
    }

    pub fn config(&self) -> &FileConfig {
        &self.config
    }

    /// Match the globs, opening the files not followed yet, off the runtime.
    pub fn scan(&self) -> JoinHandle<Found> {
        let include = self.config.include.clone();
        let exclude = self.exclude.clone();
        let known: HashSet<FileId> = self.files.iter().map(|f| f.id).collect();
        tokio::task::spawn_blocking(move || {
            let found = scan(&include, &exclude);
            found
                .into_iter()
                .map(|(path, id)| {
                    let opened = (!known.contains(&id)).then(|| Opened::open(&path));
                    (path, id, opened)
                })
                .collect()
        })
    }

    /// Take in what a scan found: follow new files, note renamed and
    /// vanished ones. `saved` holds checkpoint positions not yet claimed by a
    /// file; `startup` says whether `read_from` applies to files without one.
    pub fn found(&mut self, found: Found, saved: &mut HashMap<FileId, Position>, startup: bool) {
        for file in &mut self.files {
            file.missed_scans += 1;
        }
        for (path, id, opened) in found {
            if let Some(file) = self.files.iter_mut().find(|f| f.id == id) {
                file.missed_scans = 0;
                if file.path != path {
                    tracing::info!(source = %self.id, from = %file.path.display(), to = %path.display(),
                        "the file was renamed; following it");
                    file.set_path(path);
                    self.changed = true;
                }
                continue;
            }
            let opened = match opened {
                Some(Ok(opened)) => opened,
                // Gone between the scan and the open: nothing to read.
                Some(Err(err)) if err.kind() == std::io::ErrorKind::NotFound => continue,
                Some(Err(err)) => {
                    ComponentError { what: &format!("opening {}", path.display()), error: &err }.emit(&self.metrics);
                    continue;
                }
                // Followed when the scan began, closed since.
                None => continue,
            };
            // The path may have been replaced since the scan: what counts is the file opened.
            if self.files.iter().any(|f| f.id == opened.id) {
                continue;
            }
            let start = self.start_offset(&path, &opened, saved.remove(&opened.id), startup);
            tracing::debug!(source = %self.id, path = %path.display(), offset = start, "following a file");
            self.files.push(Tracked::new(path, opened, start, self.config.max_line_bytes));
            self.changed = true;
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
            tracing::info!(source = %self.id, path = %path.display(), was = %position.path.display(),
                offset = position.offset, "finishing a file that was renamed while stopped");
            self.files.push(Tracked::new(path, opened, position.offset, self.config.max_line_bytes));
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
                ComponentError { what: &format!("opening {}", path.display()), error: &err }.emit(&self.metrics);
                None
            }
        }
    }

    /// Where to start reading a newly opened file.
    fn start_offset(&self, path: &Path, opened: &Opened, saved: Option<Position>, startup: bool) -> u64 {
        if let Some(saved) = saved {
            if !saved.fingerprint.matches(&opened.head) {
                tracing::info!(source = %self.id, path = %path.display(),
                    "the checkpoint for this device and inode belongs to a deleted file whose inode was reused; \
                     reading the file as a new one");
            } else if opened.size < saved.offset {
                tracing::warn!(source = %self.id, path = %path.display(), size = opened.size,
                    checkpoint = saved.offset, "the file was truncated while stopped; reading it from the start");
                return 0;
            } else {
                return saved.offset;
            }
        }
        if startup && self.config.read_from == ReadFrom::End { opened.size } else { 0 }
    }

    /// Close the files that are read to their end and gone: deleted, or no
    /// longer matched by the globs. Nobody will finish the last line of a
    /// file that is gone, so it is taken as it is.
    pub fn close_finished(&mut self, last_lines: &mut Vec<(Source, Line)>) {
        let mut index = 0;
        while index < self.files.len() {
            let file = &self.files[index];
            let gone = file.deleted || file.missed_scans >= MISSED_SCANS_BEFORE_CLOSE;
            if !(file.at_eof && gone) {
                index += 1;
                continue;
            }
            let mut file = self.files.remove(index);
            if let Some(line) = file.splitter.finish() {
                last_lines.push((file.source(), line));
            }
            tracing::info!(source = %self.id, path = %file.path.display(),
                reason = if file.deleted { "deleted" } else { "no longer matched by include" },
                "finished reading the file; closing it");
            self.changed = true;
        }
    }

    /// The file that `key` stands for, if it is still followed as it was read.
    pub fn file(&mut self, key: u64) -> Option<&mut Tracked> {
        self.files.iter_mut().find(|f| f.key == key)
    }

    pub fn is_dirty(&self) -> bool {
        self.changed || self.files.iter().any(|f| f.dirty)
    }

    /// Every file's acknowledged position; the files count as saved.
    pub fn positions(&mut self) -> Vec<Position> {
        self.changed = false;
        self.files
            .iter_mut()
            .map(|file| {
                file.dirty = false;
                file.position()
            })
            .collect()
    }

    /// A save failed: what it held is still to be saved.
    pub fn unsaved(&mut self) {
        self.changed = true;
    }
}

/// Where the lines being handed out come from.
#[derive(Debug, Clone)]
pub(super) struct Source {
    pub key: u64,
    /// The file's path as text, for events.
    pub path: Arc<str>,
}

/// One file being followed.
pub(super) struct Tracked {
    /// Where the file was last seen.
    path: PathBuf,
    path_text: Arc<str>,
    id: FileId,
    /// Stands for this file, as read since it was opened or last truncated:
    /// acknowledgements of lines read before a truncation carry an old key.
    key: u64,
    file: Arc<std::fs::File>,
    /// Its offset is the read position.
    splitter: LineSplitter,
    /// The file's first bytes (up to [`FINGERPRINT_BYTES`]), for the checkpoint's fingerprint.
    head: Vec<u8>,
    /// Lines before this offset are acknowledged.
    acked: u64,
    /// A batch failed: the position stays where it was until a restart.
    ack_failed: bool,
    /// `acked` changed since the last save.
    dirty: bool,
    /// Consecutive glob scans that did not find the file.
    missed_scans: u32,
    at_eof: bool,
    deleted: bool,
}

/// What one read of a file gave.
pub(super) enum Read {
    /// Lines may follow at once.
    Data,
    /// Nothing more for now.
    End,
    /// The file shrank: it is read again from the start.
    Truncated,
    Failed,
}

/// A read under way: the buffer and what the OS said.
pub(super) type Reading = JoinHandle<(Vec<u8>, std::io::Result<Chunk>)>;

fn next_key() -> u64 {
    static KEYS: AtomicU64 = AtomicU64::new(0);
    KEYS.fetch_add(1, Ordering::Relaxed)
}

impl Tracked {
    fn new(path: PathBuf, opened: Opened, start: u64, max_line_bytes: usize) -> Self {
        Tracked {
            path_text: path.to_string_lossy().into(),
            path,
            id: opened.id,
            key: next_key(),
            file: Arc::new(opened.file),
            splitter: LineSplitter::new(max_line_bytes, start),
            head: opened.head,
            acked: start,
            ack_failed: false,
            dirty: true,
            missed_scans: 0,
            at_eof: false,
            deleted: false,
        }
    }

    fn set_path(&mut self, path: PathBuf) {
        self.path_text = path.to_string_lossy().into();
        self.path = path;
    }

    pub fn source(&self) -> Source {
        Source { key: self.key, path: self.path_text.clone() }
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

    /// Read the next chunk into `buf`, off the runtime.
    pub fn read(&self, mut buf: Vec<u8>) -> Reading {
        let pos = self.splitter.offset();
        let file = self.file.clone();
        buf.resize(READ_BYTES, 0);
        tokio::task::spawn_blocking(move || {
            let read = read_chunk(&file, &mut buf, pos);
            (buf, read)
        })
    }

    /// Take in what [`Self::read`] gave: the lines it completes go to `lines`.
    pub fn took(
        &mut self,
        buf: &[u8],
        read: std::io::Result<Chunk>,
        lines: &mut impl Extend<Line>,
        id: &str,
        metrics: &ComponentMetrics,
    ) -> Read {
        let pos = self.splitter.offset();
        match read {
            Ok(Chunk::Data(n)) => {
                self.at_eof = false;
                self.remember_head(pos, &buf[..n]);
                self.splitter.feed(&buf[..n], lines);
                Read::Data
            }
            Ok(Chunk::End { size, deleted }) => {
                self.at_eof = true;
                self.deleted = deleted;
                if size >= pos {
                    return Read::End;
                }
                tracing::warn!(source = %id, path = %self.path.display(), size, offset = pos,
                    "the file was truncated; reading it again from the start");
                // The lines read so far are of the old content: their acknowledgements no longer tell a position.
                self.key = next_key();
                self.splitter = LineSplitter::new(self.splitter.max_line_bytes(), 0);
                self.head.clear();
                self.acked = 0;
                self.ack_failed = false;
                self.at_eof = false;
                self.dirty = true;
                Read::Truncated
            }
            Err(err) => {
                ComponentError { what: &format!("reading {}", self.path.display()), error: &err }.emit(metrics);
                Read::Failed
            }
        }
    }

    /// Keep the file's first bytes as they go by.
    fn remember_head(&mut self, pos: u64, data: &[u8]) {
        let have = self.head.len();
        if have < FINGERPRINT_BYTES && pos <= have as u64 && pos + data.len() as u64 > have as u64 {
            let pos = pos as usize;
            self.head.extend_from_slice(&data[have - pos..(FINGERPRINT_BYTES - pos).min(data.len())]);
        }
    }

    /// Every sink accepted the lines before `end`.
    pub fn acknowledge(&mut self, end: u64) {
        if !self.ack_failed {
            self.acked = end;
            self.dirty = true;
        }
    }

    /// A batch of lines from this file was not delivered: the position
    /// stays before it until a restart.
    pub fn fail(&mut self, metrics: &ComponentMetrics) {
        if !self.ack_failed {
            ComponentError {
                what: &format!("a batch of lines from {} was not delivered", self.path.display()),
                error: &format_args!(
                    "the file's checkpoint stays at offset {}; its lines from there are read again at the next start",
                    self.acked
                ),
            }
            .emit(metrics);
        }
        self.ack_failed = true;
    }
}

/// A file just opened.
pub(super) struct Opened {
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

pub(super) enum Chunk {
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
