//! A sink's buffer: the stage between the sink's inputs and the sink, which
//! absorbs a slow or unreachable destination without stalling the others.
//!
//! Without a `buffer` table a sink reads straight from its input channel (a
//! few batches). With one:
//!
//! - `memory`: up to `max_events` events wait in memory. Batches keep their
//!   acknowledgements, so a source still learns of delivery only from the
//!   destination; a crash loses nothing that was acknowledged.
//! - `disk`: batches are appended to a durable buffer (`crate::buffer`) under
//!   `data_dir/buffers/<sink>`, and their acknowledgement is "buffered
//!   durably": the source may move on. A reader feeds the sink from the
//!   buffer and acknowledges records once the sink has delivered them, in
//!   order, so what was not delivered is read again after a restart.
//!
//! When full, `when_full = "block"` (the default) holds the inputs back
//! (back-pressure up to the sources) and `"drop_newest"` drops the incoming
//! batch, counting every event dropped.

use super::delivery::retry::{Backoff, Retry};
use crate::ack::{BatchStatus, Finaliser};
use crate::buffer::{self, Fsync, RecordId, TryAppendError};
use crate::event::{Batch, Event};
use crate::internal_events::{ComponentError, EventsDropped, InternalEvent};
use crate::metrics::ComponentMetrics;
use crate::validation::ConfigError;
use anyhow::Context;
use serde::Deserialize;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// `buffer = { … }` in a `[sinks.<id>]` table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum BufferConfig {
    Memory {
        #[serde(default = "default_max_events")]
        max_events: usize,
        #[serde(default)]
        when_full: WhenFull,
    },
    Disk {
        #[serde(default = "default_max_bytes")]
        max_bytes: u64,
        #[serde(default)]
        when_full: WhenFull,
        /// `always`: fsync each appended batch and each acknowledgement
        /// (survives power loss); `never`: leave it to the OS (survives a
        /// crash of sluice, not of the machine).
        #[serde(default)]
        fsync: FsyncPolicy,
    },
}

impl BufferConfig {
    /// The `type = "…"` of this buffer.
    pub fn type_name(&self) -> &'static str {
        match self {
            BufferConfig::Memory { .. } => "memory",
            BufferConfig::Disk { .. } => "disk",
        }
    }
}

/// What a full buffer does with the next batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WhenFull {
    /// Wait for room: back-pressure up to the sources.
    #[default]
    Block,
    /// Drop the incoming batch, counting its events as dropped.
    DropNewest,
}

/// `fsync` of a disk buffer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FsyncPolicy {
    #[default]
    Always,
    Never,
}

fn default_max_events() -> usize {
    10_000
}

fn default_max_bytes() -> u64 {
    256 << 20
}

/// Segments of a disk buffer: small enough that acknowledged data is freed
/// soon, large enough that a file per segment costs nothing.
const SEGMENT_BYTES: u64 = 16 << 20;

/// Events read from a disk buffer per batch handed to the sink.
const READ_BATCH: usize = 512;

/// Batches handed to the sink and not yet acknowledged; bounds the memory a
/// disk buffer's reader holds.
const IN_FLIGHT: usize = 8;

impl BufferConfig {
    pub fn validate(&self, at: &str, errors: &mut Vec<ConfigError>) {
        match self {
            BufferConfig::Memory { max_events: 0, .. } => {
                errors.push(ConfigError::new(format!("{at}.max_events"), "must be at least 1"));
            }
            BufferConfig::Disk { max_bytes, .. } if *max_bytes < 1 << 20 => {
                errors.push(ConfigError::new(format!("{at}.max_bytes"), "must be at least 1 MiB (1048576)"));
            }
            _ => {}
        }
    }
}

/// Put the buffer `config` between `input` and the sink: returns what the
/// sink reads from, and the stage's tasks (they end after the input closes
/// and everything was handed on).
pub async fn start(
    config: &BufferConfig,
    dir: &Path,
    input: mpsc::Receiver<Batch>,
    metrics: Arc<ComponentMetrics>,
    shutdown: CancellationToken,
) -> anyhow::Result<(mpsc::Receiver<Batch>, Vec<JoinHandle<()>>)> {
    let (tx, rx) = mpsc::channel(1);
    let tasks = match *config {
        BufferConfig::Memory { max_events, when_full } => {
            vec![tokio::spawn(memory(input, tx, max_events, when_full, metrics))]
        }
        BufferConfig::Disk { max_bytes, when_full, fsync } => {
            let fsync = match fsync {
                FsyncPolicy::Always => Fsync::Always,
                FsyncPolicy::Never => Fsync::Never,
            };
            let options = buffer::Options { max_bytes, max_segment_bytes: SEGMENT_BYTES, sync: fsync };
            let (writer, reader, recovery) = buffer::disk(dir, options)
                .await
                .with_context(|| format!("opening the disk buffer in {}", dir.display()))?;
            if !recovery.is_clean() {
                ComponentError { what: "recovering the disk buffer", error: &format!("{recovery:?}") }.emit(&metrics);
            }
            if recovery.pending_records > 0 {
                tracing::info!(
                    component = metrics.id(),
                    events = recovery.pending_records,
                    "resuming delivery of events buffered before the restart"
                );
            }
            vec![
                tokio::spawn(append(input, writer, when_full, max_bytes / 4, metrics.clone())),
                tokio::spawn(deliver(reader, tx, metrics, shutdown)),
            ]
        }
    };
    Ok((rx, tasks))
}

/// The memory buffer: batches wait with their acknowledgements, holding a
/// permit per event until the sink takes them.
async fn memory(
    mut input: mpsc::Receiver<Batch>,
    out: mpsc::Sender<Batch>,
    max_events: usize,
    when_full: WhenFull,
    metrics: Arc<ComponentMetrics>,
) {
    let room = Arc::new(Semaphore::new(max_events));
    let (queue_tx, mut queue_rx) = mpsc::unbounded_channel::<(Batch, tokio::sync::OwnedSemaphorePermit)>();
    let forward = tokio::spawn(async move {
        while let Some((batch, permit)) = queue_rx.recv().await {
            if let Err(mpsc::error::SendError(batch)) = out.send(batch).await {
                // The sink has stopped: nothing queued now or later will be
                // delivered, so every batch is failed until the input ends.
                batch.fail();
                while let Some((batch, _)) = queue_rx.recv().await {
                    batch.fail();
                }
                return;
            }
            drop(permit);
        }
    });
    while let Some(batch) = input.recv().await {
        // A batch larger than the whole buffer waits for it to be empty.
        let wanted = batch.len().clamp(1, max_events) as u32;
        let permit = match when_full {
            WhenFull::Block => room.clone().acquire_many_owned(wanted).await.ok(),
            WhenFull::DropNewest => room.clone().try_acquire_many_owned(wanted).ok(),
        };
        match permit {
            Some(permit) => {
                if let Err(mpsc::error::SendError((batch, _))) = queue_tx.send((batch, permit)) {
                    batch.fail();
                }
            }
            None => EventsDropped { count: batch.len() }.emit(&metrics),
        }
    }
    drop(queue_tx);
    let _ = forward.await;
}

/// The first byte of a v1 record: its format, and whether a line follows.
///
/// A buffer outlives the sluice that wrote it (upgrades happen with events
/// still buffered), so every format this byte has named stays readable: a
/// new format takes new tag values and `decode` keeps the old ones. The v1
/// format is pinned by `tests/fixtures/disk-buffer-v1`.
const V1_EVENT: u8 = 0;
const V1_EVENT_WITH_LINE: u8 = 1;

/// A disk-buffer record (format v1): a tag, the JSON's length (u32 LE), the
/// event's JSON, then the line a plugin emitted, if any.
fn encode(event: &Event) -> Vec<u8> {
    let json = event.json().as_bytes();
    let line = event.line().map(str::as_bytes);
    let mut record = Vec::with_capacity(5 + json.len() + line.map_or(0, <[u8]>::len));
    record.push(if line.is_some() { V1_EVENT_WITH_LINE } else { V1_EVENT });
    record.extend_from_slice(&(json.len() as u32).to_le_bytes());
    record.extend_from_slice(json);
    record.extend_from_slice(line.unwrap_or_default());
    record
}

/// The event in a record, reusing the record's allocation for its JSON.
fn decode(mut record: Vec<u8>) -> anyhow::Result<Event> {
    anyhow::ensure!(record.len() >= 5, "a buffered record of {} bytes is too short", record.len());
    let has_line = match record[0] {
        V1_EVENT => false,
        V1_EVENT_WITH_LINE => true,
        tag => anyhow::bail!(
            "a buffered record of format tag {tag}, which this sluice does not read (a newer one wrote it)"
        ),
    };
    let json_len = u32::from_le_bytes(record[1..5].try_into()?) as usize;
    anyhow::ensure!(record.len() >= 5 + json_len, "a buffered record is shorter than its event");
    let line = record.split_off(5 + json_len);
    record.drain(..5);
    let mut event = Event::from_json(String::from_utf8(record).context("a buffered event is not UTF-8")?);
    if has_line {
        event.set_line(String::from_utf8(line).context("a buffered line is not UTF-8")?);
    }
    Ok(event)
}

/// Split `records` into appends of at most `max` bytes on disk each (a
/// record alone may be more; the buffer then refuses it as too large).
fn chunks(records: Vec<Vec<u8>>, max: u64) -> Vec<Vec<Vec<u8>>> {
    if records.is_empty() {
        return Vec::new();
    }
    let mut chunks: Vec<Vec<Vec<u8>>> = vec![Vec::new()];
    let mut bytes = 0;
    for record in records {
        let size = record.len() as u64 + buffer::RECORD_OVERHEAD;
        if bytes + size > max && !chunks.last().is_some_and(Vec::is_empty) {
            chunks.push(Vec::new());
            bytes = 0;
        }
        bytes += size;
        chunks.last_mut().expect("one at least").push(record);
    }
    chunks
}

/// Append each incoming batch, then let it go: durably buffered is done as
/// far as its source is concerned. A batch goes in appends of at most a
/// quarter of the buffer, so that no batch is too large for it.
async fn append(
    mut input: mpsc::Receiver<Batch>,
    mut writer: buffer::Writer,
    when_full: WhenFull,
    chunk_bytes: u64,
    metrics: Arc<ComponentMetrics>,
) {
    while let Some(batch) = input.recv().await {
        let records: Vec<Vec<u8>> = batch.events.iter().map(encode).collect();
        for chunk in chunks(records, chunk_bytes) {
            let count = chunk.len();
            let appended = match when_full {
                WhenFull::Block => writer.append(chunk).await.map(|_| ()),
                WhenFull::DropNewest => match writer.try_append(chunk).await {
                    Ok(_) => Ok(()),
                    Err(TryAppendError::Full(_)) => {
                        EventsDropped { count }.emit(&metrics);
                        continue;
                    }
                    Err(TryAppendError::Failed(err)) => Err(err),
                },
            };
            if let Err(err) = appended {
                // Not buffered: the source must not count it as delivered.
                batch.fail();
                ComponentError { what: "appending to the disk buffer", error: &format!("{err:#}") }.emit(&metrics);
            }
        }
    }
}

/// Feed the sink from the buffer and acknowledge what it delivered, in
/// order. A batch the sink fails (a write error, a destination it gave up on)
/// rewinds the buffer: it and everything read after it are sent again, after
/// a backoff, and nothing read before the rewind is acknowledged.
async fn deliver(
    mut reader: buffer::Reader,
    out: mpsc::Sender<Batch>,
    metrics: Arc<ComponentMetrics>,
    shutdown: CancellationToken,
) {
    let acker = reader.acker();
    // Set on every acknowledgement: the destination is taking batches again.
    let progress = Arc::new(AtomicBool::new(false));
    // The wait before sending again what a failed batch rewound.
    let mut backoff = Backoff::new(Retry::DEFAULT);
    let mut current = acker.generation();
    loop {
        let (pending_tx, acks) = acknowledge(acker.clone(), progress.clone(), metrics.clone());
        // On shutdown what is still in the buffer stays there for the next
        // start: a destination that is down must not hold the router up.
        while !shutdown.is_cancelled() {
            let (generation, records) = match reader.next_batch_of_generation(READ_BATCH).await {
                Ok((_, records)) if records.is_empty() => break,
                Ok(read) => read,
                Err(err) => {
                    ComponentError { what: "reading the disk buffer", error: &format!("{err:#}") }.emit(&metrics);
                    break;
                }
            };
            if progress.swap(false, Ordering::AcqRel) {
                backoff = Backoff::new(Retry::DEFAULT);
            }
            if generation != current {
                current = generation;
                tokio::select! {
                    () = tokio::time::sleep(backoff.next_delay()) => {}
                    () = shutdown.cancelled() => break,
                }
            }
            let last = records.last().map(|(id, _)| *id).expect("not empty");
            let mut events = Vec::with_capacity(records.len());
            for (id, record) in records {
                match decode(record) {
                    Ok(event) => events.push(event),
                    // The checksum matched, so this is a bug or a version
                    // skew, not damage; counted rather than stalling.
                    Err(err) => {
                        ComponentError { what: &format!("decoding buffered event {id:?}"), error: &format!("{err:#}") }
                            .emit(&metrics)
                    }
                }
            }
            let (finaliser, status) = Finaliser::new();
            if pending_tx.send((generation, last, status)).await.is_err() {
                break;
            }
            if let Err(mpsc::error::SendError(batch)) = out.send(Batch::with_finaliser(events, finaliser)).await {
                batch.fail();
                break;
            }
        }
        drop(pending_tx);
        let _ = acks.await;
        // Everything was read — unless a batch failed after the last read and
        // rewound the buffer: then there is more to send.
        if shutdown.is_cancelled() || out.is_closed() || acker.generation() == current {
            return;
        }
    }
}

/// Acknowledge, in order, the batches sent from the buffer: a delivered one
/// up to its last record; a failed one rewinds the buffer. Batches read
/// before a rewind are not acknowledged: they are due again.
#[allow(clippy::type_complexity)]
fn acknowledge(
    acker: buffer::Acker,
    progress: Arc<AtomicBool>,
    metrics: Arc<ComponentMetrics>,
) -> (mpsc::Sender<(u64, RecordId, oneshot::Receiver<BatchStatus>)>, JoinHandle<()>) {
    let (pending_tx, mut pending_rx) = mpsc::channel::<(u64, RecordId, oneshot::Receiver<BatchStatus>)>(IN_FLIGHT);
    let task = tokio::spawn(async move {
        while let Some((generation, last, status)) = pending_rx.recv().await {
            let status = status.await;
            if generation < acker.generation() {
                continue;
            }
            let result = match status {
                Ok(BatchStatus::Delivered) => {
                    progress.store(true, Ordering::Release);
                    acker.ack(last).await
                }
                Ok(BatchStatus::Failed) | Err(_) => {
                    ComponentError {
                        what: "delivering from the disk buffer",
                        error: &"the sink failed a batch; sending it again",
                    }
                    .emit(&metrics);
                    acker.rewind().await
                }
            };
            if let Err(err) = result {
                ComponentError { what: "acknowledging in the disk buffer", error: &format!("{err:#}") }.emit(&metrics);
                return;
            }
        }
    });
    (pending_tx, task)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_events_with_and_without_lines() {
        let plain = Event::from_json(r#"{"a":"é"}"#.to_owned());
        let mut emitted = Event::from_json("{}".to_owned());
        emitted.set_line("CEF:0|x|y|1|k|n|3|".to_owned());
        for event in [plain, emitted] {
            let back = decode(encode(&event)).unwrap();
            assert_eq!((back.json(), back.line()), (event.json(), event.line()));
        }
        assert!(decode(vec![1, 9, 0, 0, 0, b'{']).is_err(), "a truncated record is an error, not a panic");
        let unknown = decode(vec![7, 2, 0, 0, 0, b'{', b'}']).unwrap_err().to_string();
        assert!(unknown.contains("format tag 7"), "{unknown}");
    }

    /// The events in `tests/fixtures/disk-buffer-v1`: every fourth carries an
    /// emitted line.
    fn v1_events() -> Vec<Event> {
        (0..40)
            .map(|n| {
                let mut event = Event::from_json(format!(r#"{{"n":{n},"message":"café {n}"}}"#));
                if n % 4 == 0 {
                    event.set_line(format!("CEF:0|sluice|fixture|1|{n}|line {n}|3|"));
                }
                event
            })
            .collect()
    }

    /// A disk buffer written by this release's format (v1) is committed as a
    /// fixture. Today's code must still write exactly it (a format change must
    /// take a new tag, see `V1_EVENT`) and read every event back from it, so
    /// an upgrade delivers what an older sluice left buffered.
    /// `SLUICE_BLESS_FIXTURES=1` rewrites the fixture, for a new format only.
    #[tokio::test]
    async fn the_v1_disk_format_is_still_written_and_read() {
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/disk-buffer-v1");
        let segment = "000000000001.seg";
        let options = buffer::Options { max_bytes: 1 << 20, max_segment_bytes: SEGMENT_BYTES, sync: Fsync::Never };

        let written = tempfile::tempdir().unwrap();
        let (mut writer, _reader, _) = buffer::disk(written.path(), options).await.unwrap();
        writer.append(v1_events().iter().map(encode).collect()).await.unwrap();
        let bytes = std::fs::read(written.path().join(segment)).unwrap();
        if std::env::var_os("SLUICE_BLESS_FIXTURES").is_some() {
            std::fs::create_dir_all(&fixture).unwrap();
            std::fs::write(fixture.join(segment), &bytes).unwrap();
        }
        assert!(
            bytes == std::fs::read(fixture.join(segment)).unwrap(),
            "today's code no longer writes the v1 format: keep reading v1 and give the new format a new tag"
        );

        let upgraded = tempfile::tempdir().unwrap();
        std::fs::copy(fixture.join(segment), upgraded.path().join(segment)).unwrap();
        let (_writer, mut reader, recovery) = buffer::disk(upgraded.path(), options).await.unwrap();
        assert_eq!(recovery.pending_records, 40, "{recovery:?}");
        let read: Vec<Event> =
            reader.next_batch(100).await.unwrap().into_iter().map(|(_, r)| decode(r).unwrap()).collect();
        let shape = |events: &[Event]| -> Vec<(String, Option<String>)> {
            events.iter().map(|e| (e.json().to_owned(), e.line().map(str::to_owned))).collect()
        };
        assert_eq!(shape(&read), shape(&v1_events()));
    }

    #[test]
    fn a_batch_is_appended_in_chunks_that_fit_the_buffer() {
        let records = vec![vec![0u8; 92]; 10]; // 100 bytes each on disk
        let sizes: Vec<usize> = chunks(records, 250).iter().map(Vec::len).collect();
        assert_eq!(sizes, [2, 2, 2, 2, 2]);
        let sizes: Vec<usize> = chunks(vec![vec![0u8; 500], vec![0u8; 10]], 250).iter().map(Vec::len).collect();
        assert_eq!(sizes, [1, 1], "a record larger than a chunk goes alone");
        assert!(chunks(Vec::new(), 250).is_empty());
    }

    /// A sink that fails a batch gets it again, with everything after it, and
    /// what it finally delivers is acknowledged: nothing is left pending.
    #[tokio::test]
    async fn a_failed_batch_is_sent_again_and_then_acknowledged() {
        let dir = tempfile::tempdir().unwrap();
        let options = buffer::Options { max_bytes: 1 << 20, max_segment_bytes: 1 << 16, sync: Fsync::Never };
        let (mut writer, reader, _) = buffer::disk(dir.path(), options).await.unwrap();
        let events: Vec<Vec<u8>> = (0..10).map(|n| encode(&Event::from_json(format!(r#"{{"n":{n}}}"#)))).collect();
        writer.append(events[..5].to_vec()).await.unwrap();
        writer.append(events[5..].to_vec()).await.unwrap();
        drop(writer);

        let metrics = crate::metrics::Metrics::default().component("sink");
        let (tx, mut rx) = mpsc::channel(1);
        let delivering = tokio::spawn(deliver(reader, tx, metrics.clone(), CancellationToken::new()));
        let mut seen = Vec::new();
        let mut failed_once = false;
        while let Some(batch) = rx.recv().await {
            let numbers: Vec<String> = batch.events.iter().map(|e| e.json().to_owned()).collect();
            if !failed_once {
                failed_once = true;
                batch.fail(); // the destination refused the first batch
                continue;
            }
            seen.extend(numbers);
        }
        delivering.await.unwrap();
        let expected: Vec<String> = (0..10).map(|n| format!(r#"{{"n":{n}}}"#)).collect();
        assert_eq!(seen, expected, "the refused batch and all after it came again, in order");
        assert_eq!(metrics.counts().errors, 1, "the refusal is counted");
        let (_, _, recovery) = buffer::disk(dir.path(), options).await.unwrap();
        assert_eq!(recovery.pending_records, 0, "what was delivered is acknowledged");
    }

    #[test]
    fn config_errors_name_the_key() {
        let parse = |text: &str| toml::from_str::<BufferConfig>(text);
        assert_eq!(
            parse(r#"type = "disk""#).unwrap(),
            BufferConfig::Disk { max_bytes: 256 << 20, when_full: WhenFull::Block, fsync: FsyncPolicy::Always }
        );
        assert!(
            parse(
                r#"type = "memory"
max_bytes = 5"#
            )
            .unwrap_err()
            .to_string()
            .contains("max_bytes")
        );
        let mut errors = Vec::new();
        BufferConfig::Memory { max_events: 0, when_full: WhenFull::Block }.validate("sinks.s.buffer", &mut errors);
        assert_eq!(errors[0].at, "sinks.s.buffer.max_events");
    }
}
