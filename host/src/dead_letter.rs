//! The dead-letter output: events that could not be handled, with the reason.
//!
//! Dead-lettering is a delivery, not a loss: each record is one JSON line with
//! the original event, the component that gave up on it, the reason and the
//! time, written to a file that an operator can inspect and replay.
//!
//! A record holds the event as it was when it failed, which may be before
//! redaction: the file is created owner-only (0600), and so are the
//! directories created for it (0700).
//!
//! The dead letter is capped: a file that would pass `max_bytes` is rotated
//! (`dead-letter.jsonl` → `.1` → `.2` …, up to `max_files` files in all),
//! and nothing is ever deleted. When every file is full, what happens to a
//! record depends on its [`Kind`]: records of bad frames from a peer (which
//! a peer can send at will) are dropped and counted; events that failed in
//! a plugin or a sink are evidence, so the writer stops taking records
//! until an operator moves files away, and the bounded channel makes their
//! senders wait (back-pressure) instead of losing them.

use crate::ack::Finaliser;
use crate::event::{Batch, Event};
use crate::file_identity::FileId;
use crate::internal_events::{
    ComponentError, EventsDeadLettered, EventsDroppedUnderPressure, EventsReceived, EventsSent, InternalEvent,
    PeerEventsDeadLettered,
};
use crate::metrics::ComponentMetrics;
use anyhow::Context;
use serde::Serialize;
use serde_json::value::RawValue;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;
use tokio_util::sync::CancellationToken;

/// How often a full dead letter looks again for room.
const FULL_RETRY: Duration = Duration::from_secs(1);

/// Events that one component gave up on, for one reason each.
#[derive(Debug)]
pub struct Rejected {
    component: Arc<str>,
    kind: Kind,
    records: Vec<(Event, String)>,
    finaliser: Option<Finaliser>,
}

/// What a dead-letter record stands for, which decides its fate when the
/// dead letter is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Events that failed in a plugin or a sink, or that a source could not
    /// turn into events: never dropped; while the dead letter is full they
    /// wait, and their senders with them.
    Evidence,
    /// One record standing for `count` frames from one peer that could not
    /// be cut or were too long (its sample is the first of them): dropped,
    /// and counted, when the dead letter is full or its queue is.
    ParseErrors { count: u64 },
}

impl Rejected {
    /// The events and their reasons.
    pub fn records(&self) -> &[(Event, String)] {
        &self.records
    }

    /// What the records stand for.
    pub fn kind(&self) -> Kind {
        self.kind
    }
}

/// Handle for sending events to the dead-letter output; cheap to clone.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    tx: mpsc::Sender<Rejected>,
    metrics: Arc<ComponentMetrics>,
}

impl DeadLetter {
    /// A handle and the receiver its writer drains.
    pub fn channel(metrics: Arc<ComponentMetrics>) -> (DeadLetter, mpsc::Receiver<Rejected>) {
        let (tx, rx) = mpsc::channel(64);
        (DeadLetter { tx, metrics }, rx)
    }

    fn rejected(
        &self,
        component: &ComponentMetrics,
        finaliser: Option<Finaliser>,
        records: Vec<(Event, String)>,
    ) -> Option<Rejected> {
        if records.is_empty() {
            return None;
        }
        // One log line per rejected batch, not per event: a quarantined plugin
        // at full rate must not turn the router's log into the hot path.
        EventsDeadLettered { count: records.len(), reason: &records[0].1 }.emit(component);
        Some(Rejected { component: component.id().into(), kind: Kind::Evidence, records, finaliser })
    }

    /// Send one record standing for `count` bad frames from a peer (`sample`
    /// is the first, `reason` says what was wrong with it). It never waits:
    /// when the queue is full (the writer is behind, or waiting for room)
    /// the record is dropped and counted, so a flood of bad frames cannot
    /// stall the source.
    pub fn send_parse_errors(&self, component: &ComponentMetrics, sample: Event, reason: String, count: u64) {
        PeerEventsDeadLettered { kind: "bad frames", count, reason: &reason }.emit(component);
        let rejected = Rejected {
            component: component.id().into(),
            kind: Kind::ParseErrors { count },
            records: vec![(sample, reason)],
            finaliser: None,
        };
        match self.tx.try_send(rejected) {
            Ok(()) => {}
            Err(TrySendError::Full(rejected)) => {
                dropped_parse_errors(&self.metrics, &rejected, "the dead-letter queue is full");
            }
            Err(TrySendError::Closed(rejected)) => self.closed(&rejected),
        }
    }

    /// The writer has stopped: the source must not count these as delivered.
    fn closed(&self, unsent: &Rejected) {
        if let Some(finaliser) = &unsent.finaliser {
            finaliser.fail();
        }
        ComponentError {
            what: "the dead-letter output has stopped; the events stay unacknowledged",
            error: &"writer gone",
        }
        .emit(&self.metrics);
    }

    /// Send records from async code; they share `from`'s acknowledgement.
    pub async fn send(&self, component: &ComponentMetrics, from: &Batch, records: Vec<(Event, String)>) {
        self.send_evidence(component, from.finaliser().cloned(), records).await;
    }

    /// Send one record that belongs to no batch (a line a source could not
    /// turn into an event) as evidence: like [`Self::send`], it waits for
    /// room rather than being dropped. `acknowledgement`, when given, is
    /// failed if the record cannot be written, so that a source that keeps
    /// positions does not move past it.
    pub async fn send_record(
        &self,
        component: &ComponentMetrics,
        event: Event,
        reason: String,
        acknowledgement: Option<Finaliser>,
    ) {
        self.send_evidence(component, acknowledgement, vec![(event, reason)]).await;
    }

    async fn send_evidence(
        &self,
        component: &ComponentMetrics,
        finaliser: Option<Finaliser>,
        records: Vec<(Event, String)>,
    ) {
        if let Some(rejected) = self.rejected(component, finaliser, records)
            && let Err(unsent) = self.tx.send(rejected).await
        {
            self.closed(&unsent.0);
        }
    }

    /// Send records from a worker thread.
    pub fn blocking_send(&self, component: &ComponentMetrics, from: &Batch, records: Vec<(Event, String)>) {
        if let Some(rejected) = self.rejected(component, from.finaliser().cloned(), records)
            && let Err(unsent) = self.tx.blocking_send(rejected)
        {
            self.closed(&unsent.0);
        }
    }
}

/// A record of bad frames was dropped: counted on the dead-letter output.
fn dropped_parse_errors(metrics: &ComponentMetrics, rejected: &Rejected, why: &str) {
    let Kind::ParseErrors { count } = rejected.kind else { unreachable!("only records of bad frames are dropped") };
    EventsDroppedUnderPressure {
        kind: "records of bad frames",
        count: rejected.records.len() as u64,
        what: &format!("a dead-letter record of {count} bad frames from `{}` was dropped: {why}", rejected.component),
    }
    .emit(metrics);
}

#[derive(Serialize)]
struct Record<'a> {
    time: &'a str,
    component: &'a str,
    reason: &'a str,
    /// How many frames an aggregated record of bad frames stands for.
    #[serde(skip_serializing_if = "Option::is_none")]
    count: Option<u64>,
    event: EventField<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<&'a str>,
}

/// The original event: as JSON when it is JSON, else as a string.
#[derive(Serialize)]
#[serde(untagged)]
enum EventField<'a> {
    Json(&'a RawValue),
    Text(&'a str),
}

/// Render one dead-letter record as a JSON line (without the newline).
pub fn render(time: &str, component: &str, reason: &str, event: &Event) -> String {
    render_record(time, component, reason, None, event)
}

fn render_record(time: &str, component: &str, reason: &str, count: Option<u64>, event: &Event) -> String {
    let raw: Option<&RawValue> = serde_json::from_str(event.json()).ok();
    let record = Record {
        time,
        component,
        reason,
        count,
        event: raw.map_or(EventField::Text(event.json()), EventField::Json),
        line: event.line(),
    };
    serde_json::to_string(&record).expect("a record of strings serialises")
}

/// Where the dead letter is written and how much it may hold.
#[derive(Debug, Clone)]
pub struct Settings {
    pub path: PathBuf,
    /// A file that would pass this size is rotated (a single bigger record
    /// still goes into a file of its own).
    pub max_bytes: u64,
    /// Files in all, the current one included: `path`, `path.1` …
    /// `path.{max_files - 1}`.
    pub max_files: u32,
    /// Cancelled when the router stops: from then on evidence no longer
    /// waits for room but is written past the cap, since nobody is left to
    /// free space and waiting would stop the shutdown.
    pub shutdown: CancellationToken,
}

/// A path alone: the default cap of `[dead_letter]`.
impl From<PathBuf> for Settings {
    fn from(path: PathBuf) -> Self {
        let defaults = crate::config::DeadLetterConfig::default();
        Settings {
            path,
            max_bytes: defaults.max_bytes,
            max_files: defaults.max_files,
            shutdown: CancellationToken::new(),
        }
    }
}

/// Write rejected events until every sender is gone.
pub async fn run_writer(
    settings: impl Into<Settings>,
    mut rx: mpsc::Receiver<Rejected>,
    metrics: Arc<ComponentMetrics>,
) -> anyhow::Result<()> {
    let mut writer = Writer::open(settings.into()).await?;
    while let Some(rejected) = rx.recv().await {
        let time = crate::timestamp::now_rfc3339();
        let count = match rejected.kind {
            Kind::ParseErrors { count } => Some(count),
            Kind::Evidence => None,
        };
        let mut buf = String::new();
        for (event, reason) in &rejected.records {
            buf.push_str(&render_record(&time, &rejected.component, reason, count, event));
            buf.push('\n');
        }
        EventsReceived { count: rejected.records.len() }.emit(&metrics);
        let room = match rejected.kind {
            Kind::ParseErrors { .. } => writer.make_room(buf.len() as u64).await,
            Kind::Evidence => writer.wait_for_room(buf.len() as u64).await,
        };
        let written = match room {
            Ok(true) => writer.write(buf.as_bytes()).await,
            Ok(false) => {
                dropped_parse_errors(&metrics, &rejected, "the dead letter is full");
                continue;
            }
            Err(err) => Err(err),
        };
        match written {
            Ok(()) => EventsSent { count: rejected.records.len() }.emit(&metrics),
            Err(err) => {
                if let Some(finaliser) = &rejected.finaliser {
                    finaliser.fail();
                }
                ComponentError {
                    what: &format!("writing the dead-letter file {}", writer.settings.path.display()),
                    error: &err,
                }
                .emit(&metrics);
            }
        }
    }
    Ok(())
}

/// The current file and its size.
struct Writer {
    settings: Settings,
    file: tokio::fs::File,
    size: u64,
}

impl Writer {
    async fn open(settings: Settings) -> anyhow::Result<Writer> {
        let file = open_owner_only(&settings.path).await?;
        let size = file.metadata().await.map(|m| m.len()).unwrap_or(0);
        Ok(Writer { settings, file, size })
    }

    async fn write(&mut self, buf: &[u8]) -> anyhow::Result<()> {
        self.file.write_all(buf).await?;
        self.file.flush().await?;
        self.size += buf.len() as u64;
        Ok(())
    }

    /// Whether `len` more bytes may be written, rotating the file when they
    /// would not fit: `false` when every file is full.
    async fn make_room(&mut self, len: u64) -> anyhow::Result<bool> {
        self.follow_the_path().await?;
        if self.size == 0 || self.size.saturating_add(len) <= self.settings.max_bytes {
            return Ok(true);
        }
        let Some(free) = self.free_slot() else { return Ok(false) };
        // Shift the files below the free slot up by one, oldest first, so
        // that a higher number is always older; then start a new file.
        for i in (1..free).rev() {
            let (from, to) = (slot(&self.settings.path, i), slot(&self.settings.path, i + 1));
            tokio::fs::rename(&from, &to)
                .await
                .with_context(|| format!("rotating {} to {}", from.display(), to.display()))?;
        }
        let first = slot(&self.settings.path, 1);
        tokio::fs::rename(&self.settings.path, &first)
            .await
            .with_context(|| format!("rotating {} to {}", self.settings.path.display(), first.display()))?;
        self.file = open_owner_only(&self.settings.path).await?;
        self.size = 0;
        Ok(true)
    }

    /// [`Self::make_room`], waiting while every file is full (checking
    /// again every [`FULL_RETRY`]) until an operator frees a slot or the
    /// router stops.
    async fn wait_for_room(&mut self, len: u64) -> anyhow::Result<bool> {
        if self.make_room(len).await? {
            return Ok(true);
        }
        let Settings { path, max_bytes, max_files, .. } = &self.settings;
        tracing::warn!(
            path = %path.display(), max_bytes, max_files,
            "the dead letter is full: events that failed in a plugin or a sink wait (and their sources with them) \
             until files are moved away; move {}.* (the highest numbers are the oldest) to resume; records of bad \
             frames are dropped meanwhile",
            path.display()
        );
        let shutdown = self.settings.shutdown.clone();
        loop {
            tokio::select! {
                () = shutdown.cancelled() => {
                    tracing::warn!(path = %self.settings.path.display(), "the router is stopping with the dead \
                        letter full: the events still waiting are written past its cap, so that none is lost");
                    return Ok(true);
                }
                () = tokio::time::sleep(FULL_RETRY) => {
                    if self.make_room(len).await? {
                        tracing::info!(path = %self.settings.path.display(), "the dead letter has room again");
                        return Ok(true);
                    }
                }
            }
        }
    }

    /// The lowest rotation slot that is free, if any.
    fn free_slot(&self) -> Option<u32> {
        (1..self.settings.max_files).find(|&i| !slot(&self.settings.path, i).exists())
    }

    /// Reopen when the path no longer names the open file (an operator moved
    /// it away), and take the size from the file (it may have been
    /// truncated).
    async fn follow_the_path(&mut self) -> anyhow::Result<()> {
        let open = self.file.metadata().await.context("reading the dead-letter file's size")?;
        // A path that cannot be read is taken as moved: opening it again
        // says what is wrong, if anything is.
        if FileId::of(&open).named_by(&self.settings.path).await.unwrap_or(false) {
            self.size = open.len();
        } else {
            self.file = open_owner_only(&self.settings.path).await?;
            self.size = self.file.metadata().await.map(|m| m.len()).unwrap_or(0);
        }
        Ok(())
    }
}

/// Rotation slot `i` of the file at `path`: `path.i`.
fn slot(path: &Path, i: u32) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{i}"));
    PathBuf::from(name)
}

/// Open `path` for appending; a new file is readable by its owner only, and
/// so are the missing directories created for it. An existing file keeps
/// its mode (an operator may have granted a group), with a warning if others
/// can read it.
async fn open_owner_only(path: &Path) -> anyhow::Result<tokio::fs::File> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        let mut dirs = tokio::fs::DirBuilder::new();
        dirs.recursive(true);
        #[cfg(unix)]
        dirs.mode(0o700);
        dirs.create(parent).await.with_context(|| format!("creating directory {}", parent.display()))?;
    }
    let mut options = tokio::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    options.mode(0o600);
    let file = options.open(path).await.with_context(|| format!("opening {} for appending", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = file.metadata().await.map(|m| m.permissions().mode() & 0o777).unwrap_or(0o600);
        if mode & 0o077 != 0 {
            tracing::warn!(
                path = %path.display(),
                mode = format!("{mode:o}"),
                "the dead-letter file can be read by others than its owner; it may hold unredacted events"
            );
        }
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_embeds_json_events_and_quotes_others() {
        let json = Event::from_json(r#"{"a":1}"#.to_owned());
        let line = render("T", "normalise", "bad \"kind\"", &json);
        let parsed: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(parsed["event"]["a"], 1);
        assert_eq!(parsed["reason"], "bad \"kind\"");
        assert_eq!(parsed["component"], "normalise");

        let text = Event::from_json("not json {".to_owned());
        let parsed: serde_json::Value = serde_json::from_str(&render("T", "c", "r", &text)).unwrap();
        assert_eq!(parsed["event"], "not json {");
    }

    /// The file is created owner-only (0600), in directories created 0700,
    /// whatever the umask lets through; records are appended across runs.
    #[cfg(unix)]
    #[tokio::test]
    async fn the_file_and_the_directories_created_for_it_are_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| p.metadata().unwrap().permissions().mode() & 0o777;
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let path = dir.path().join("a/b/dead-letter.jsonl");
        let metrics = crate::metrics::Metrics::default();
        for reason in ["first", "second"] {
            let (dead_letter, rx) = DeadLetter::channel(metrics.component("dl"));
            let writer = tokio::spawn(run_writer(path.clone(), rx, metrics.component("dl")));
            let event = Event::from_json(r#"{"secret":"s3cr3t"}"#.to_owned());
            dead_letter.send(&metrics.component("t"), &Batch::new(Vec::new()), vec![(event, reason.to_owned())]).await;
            drop(dead_letter);
            writer.await.unwrap().unwrap();
        }
        assert_eq!(mode(&path), 0o600, "the file");
        assert_eq!(mode(&dir.path().join("a")), 0o700, "a directory created for it");
        assert_eq!(mode(&dir.path().join("a/b")), 0o700, "a directory created for it");
        assert_eq!(mode(dir.path()), 0o755, "an existing directory is left alone");
        let text = std::fs::read_to_string(&path).unwrap();
        let reasons: Vec<String> =
            text.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["reason"].to_string()).collect();
        assert_eq!(reasons, [r#""first""#, r#""second""#]);
    }

    /// A writer with a tiny cap at `dir/dl.jsonl`.
    struct Capped {
        dead_letter: DeadLetter,
        metrics: Arc<ComponentMetrics>,
        shutdown: CancellationToken,
        writer: tokio::task::JoinHandle<anyhow::Result<()>>,
        path: PathBuf,
    }

    impl Capped {
        fn start(dir: &Path, max_bytes: u64, max_files: u32) -> Capped {
            let metrics = crate::metrics::Metrics::default().component("dead_letter");
            let (dead_letter, rx) = DeadLetter::channel(metrics.clone());
            let path = dir.join("dl.jsonl");
            let shutdown = CancellationToken::new();
            let settings = Settings { path: path.clone(), max_bytes, max_files, shutdown: shutdown.clone() };
            let writer = tokio::spawn(run_writer(settings, rx, metrics.clone()));
            Capped { dead_letter, metrics, shutdown, writer, path }
        }

        /// One event that failed in a plugin, about 200 bytes as a record.
        async fn evidence(&self, n: usize) {
            let event = Event::from_json(format!(r#"{{"n":{n},"pad":"{}"}}"#, "x".repeat(100)));
            let plugin = crate::metrics::Metrics::default().component("plugin");
            self.dead_letter.send(&plugin, &Batch::new(Vec::new()), vec![(event, "trapped".to_owned())]).await;
        }

        async fn until(&self, what: &str, done: impl Fn(crate::metrics::Counts) -> bool) {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
            while !done(self.metrics.counts()) {
                assert!(tokio::time::Instant::now() < deadline, "{what}: {:?}", self.metrics.counts());
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }

        fn file(&self, i: u32) -> PathBuf {
            if i == 0 { self.path.clone() } else { slot(&self.path, i) }
        }

        /// The `n` of the records in file `i` (0: the current one).
        fn ns(&self, i: u32) -> Vec<u64> {
            let text = std::fs::read_to_string(self.file(i)).unwrap_or_default();
            text.lines()
                .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["event"]["n"].as_u64().unwrap())
                .collect()
        }
    }

    #[tokio::test]
    async fn a_full_file_is_rotated_and_the_rotated_files_stay_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let capped = Capped::start(dir.path(), 500, 3);
        for n in 0..6 {
            capped.evidence(n).await;
        }
        capped.until("all written", |c| c.sent == 6).await;
        assert_eq!((capped.ns(2), capped.ns(1), capped.ns(0)), (vec![0, 1], vec![2, 3], vec![4, 5]));
        for i in 0..3 {
            let len = capped.file(i).metadata().unwrap().len();
            assert!(len <= 500, "file {i}: {len} bytes");
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                assert_eq!(capped.file(i).metadata().unwrap().permissions().mode() & 0o777, 0o600, "file {i}");
            }
        }
        assert!(!capped.file(3).exists(), "no more than max_files");
        drop(capped.dead_letter);
        capped.writer.await.unwrap().unwrap();
    }

    /// Every file full: a record of bad frames is dropped and counted, while
    /// evidence waits (the writer takes nothing more) and is written once an
    /// operator has moved a file away; nothing else is lost or deleted.
    #[tokio::test]
    async fn when_every_file_is_full_bad_frames_are_dropped_and_evidence_waits_for_room() {
        let dir = tempfile::tempdir().unwrap();
        let capped = Capped::start(dir.path(), 500, 2);
        for n in 0..4 {
            capped.evidence(n).await;
        }
        capped.until("the files are full", |c| c.sent == 4).await;
        let sample = Event::from_json(format!(r#"{{"message":"{}"}}"#, "0 ".repeat(100)));
        let source = crate::metrics::Metrics::default().component("net");
        capped.dead_letter.send_parse_errors(&source, sample, "MSG-LEN starts with 0".to_owned(), 7);
        capped.until("the record of bad frames is dropped", |c| c.dropped == 1).await;
        assert_eq!(source.counts().dead_lettered, 7);

        capped.evidence(4).await;
        capped.evidence(5).await;
        capped.until("the writer holds the first", |c| c.received >= 6).await;
        // Give a wrong writer the time to write what it must not.
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(capped.metrics.counts().sent, 4, "nothing written while full");
        assert_eq!((capped.ns(1), capped.ns(0)), (vec![0, 1], vec![2, 3]), "nothing deleted");

        // The operator moves the oldest file away.
        std::fs::rename(capped.file(1), dir.path().join("archived.jsonl")).unwrap();
        capped.until("written once there is room", |c| c.sent == 6).await;
        assert_eq!((capped.ns(1), capped.ns(0)), (vec![2, 3], vec![4, 5]));
        let archived = std::fs::read_to_string(dir.path().join("archived.jsonl")).unwrap();
        assert_eq!(archived.lines().count(), 2);
        let counts = capped.metrics.counts();
        assert_eq!((counts.dropped, counts.errors), (1, 0));
        drop(capped.dead_letter);
        capped.writer.await.unwrap().unwrap();
    }

    /// At shutdown nobody is left to free space: evidence still waiting is
    /// written past the cap rather than lost (or the stop blocked).
    #[tokio::test]
    async fn at_shutdown_waiting_evidence_is_written_past_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let capped = Capped::start(dir.path(), 500, 1);
        for n in 0..3 {
            capped.evidence(n).await;
        }
        capped.until("the writer holds the third", |c| c.sent == 2 && c.received == 3).await;
        capped.shutdown.cancel();
        capped.until("written past the cap", |c| c.sent == 3).await;
        assert_eq!(capped.ns(0), [0, 1, 2]);
        drop(capped.dead_letter);
        capped.writer.await.unwrap().unwrap();
    }
}
