//! The disk buffer: where a sink's events wait for their destination,
//! durably.
//!
//! A sink's buffer stage appends each batch through a [`Writer`], then lets
//! the batch go; a separate task takes records out through a [`Reader`],
//! delivers them, and acknowledges them through an [`Acker`]. Bounded by
//! `max_bytes`: once `append` has returned the records are durable (per its
//! [`Fsync`] policy), so letting the batch go then counts as "buffered
//! durably" in the acknowledgement chain. Records not acknowledged are read
//! again after a restart: at least once, across kill -9, restarts and
//! destination outages. (A memory buffer needs none of this: it keeps the
//! batches, acknowledgements and all; see `sinks::buffer`.)
//!
//! Records are opaque bytes (the sink decides how to encode an event).
//! `Writer::append` waits while the buffer is full (`when_full = "block"`);
//! `Writer::try_append` hands the records back instead (`drop_newest`).

mod disk;

pub use disk::{AckState, DiskBuffer, Fsync, Options, RECORD_OVERHEAD, Recovery, Skipped};
pub(crate) use disk::{decode_record, encode_record};

use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::Notify;

/// Identifies a record returned by a reader; acknowledging one acknowledges
/// every record before it. Ids of one buffer sort in append order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RecordId(u64, u64);

/// What an append stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    pub records: usize,
    /// As counted against the bound: on disk, the payloads plus 8 bytes each.
    pub bytes: u64,
}

/// Why an append stored nothing (or, for `Io`, maybe part of the batch).
#[derive(Debug)]
pub enum AppendError {
    /// The batch would exceed the buffer's bound: wait for acknowledgements
    /// (block) or drop it (drop_newest).
    Full,
    /// The batch, or one record of it, is larger than the whole buffer's
    /// bound (bytes on disk, events in memory): it can never be stored.
    TooLarge { size: u64, max: u64 },
    /// Writing failed. Part of the batch may be on disk and be read after a
    /// restart, so a retry may duplicate records but not lose them.
    Io(std::io::Error),
}

impl fmt::Display for AppendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppendError::Full => f.write_str("the buffer is full"),
            AppendError::TooLarge { size, max } => write!(f, "a batch of {size} exceeds the buffer's maximum of {max}"),
            AppendError::Io(err) => write!(f, "writing to the buffer: {err}"),
        }
    }
}

impl std::error::Error for AppendError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AppendError::Io(err) => Some(err),
            _ => None,
        }
    }
}

impl From<std::io::Error> for AppendError {
    fn from(err: std::io::Error) -> Self {
        AppendError::Io(err)
    }
}

/// Why [`Writer::try_append`] stored nothing.
pub enum TryAppendError {
    /// The buffer is full; here are the records back.
    Full(Vec<Vec<u8>>),
    Failed(anyhow::Error),
}

impl fmt::Debug for TryAppendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryAppendError::Full(records) => write!(f, "Full({} records)", records.len()),
            TryAppendError::Failed(err) => write!(f, "Failed({err:?})"),
        }
    }
}

/// Append `records` as one batch; on success they are moved out.
fn append_batch(buffer: &mut DiskBuffer, records: &mut Vec<Vec<u8>>) -> Result<Appended, AppendError> {
    let slices: Vec<&[u8]> = records.iter().map(Vec::as_slice).collect();
    let appended = buffer.append(&slices)?;
    records.clear();
    Ok(appended)
}

/// Up to `max` records past the read cursor.
fn next_batch(buffer: &mut DiskBuffer, max: usize) -> anyhow::Result<Vec<(RecordId, Vec<u8>)>> {
    let mut batch = Vec::new();
    while batch.len() < max {
        match buffer.next() {
            Ok(Some(record)) => batch.push(record),
            Ok(None) => break,
            // Hand over what was read: it is past the read cursor now.
            // The error comes back on the next call.
            Err(_) if !batch.is_empty() => break,
            Err(err) => return Err(err),
        }
    }
    Ok(batch)
}

#[derive(Debug)]
struct Shared {
    store: Mutex<DiskBuffer>,
    /// Records were appended, or the writer went.
    data: Notify,
    /// Records were acknowledged, or the reader went.
    space: Notify,
    writer_gone: AtomicBool,
    reader_gone: AtomicBool,
    /// Counts rewinds; changed only with the store locked, so a batch read
    /// under the lock knows whether a rewind came after it.
    generation: AtomicU64,
}

impl Shared {
    fn lock(&self) -> anyhow::Result<MutexGuard<'_, DiskBuffer>> {
        self.store.lock().map_err(|_| anyhow::anyhow!("the buffer was left inconsistent by a panic"))
    }

    /// Disk operations block (fsync), so they run on tokio's blocking pool.
    async fn run<T, F>(self: &Arc<Self>, f: F) -> anyhow::Result<T>
    where
        F: FnOnce(&mut DiskBuffer) -> T + Send + 'static,
        T: Send + 'static,
    {
        let shared = Arc::clone(self);
        tokio::task::spawn_blocking(move || Ok(f(&mut *shared.lock()?))).await?
    }
}

/// The appending half. One per buffer: its waits assume a single writer.
#[derive(Debug)]
pub struct Writer {
    shared: Arc<Shared>,
}

/// The reading and acknowledging half. One per buffer.
#[derive(Debug)]
pub struct Reader {
    shared: Arc<Shared>,
}

/// Open (or create) the disk buffer in `dir`; see [`DiskBuffer::open`].
pub async fn disk(dir: impl Into<PathBuf>, options: Options) -> anyhow::Result<(Writer, Reader, Recovery)> {
    let dir = dir.into();
    let (buffer, recovery) = tokio::task::spawn_blocking(move || DiskBuffer::open(dir, options)).await??;
    let (writer, reader) = halves(buffer);
    Ok((writer, reader, recovery))
}

fn halves(buffer: DiskBuffer) -> (Writer, Reader) {
    let shared = Arc::new(Shared {
        store: Mutex::new(buffer),
        data: Notify::new(),
        space: Notify::new(),
        writer_gone: AtomicBool::new(false),
        reader_gone: AtomicBool::new(false),
        generation: AtomicU64::new(0),
    });
    (Writer { shared: Arc::clone(&shared) }, Reader { shared })
}

impl Writer {
    /// Append a batch, waiting while the buffer is full. Not cancel-safe: a
    /// disk append already handed to the blocking pool completes anyway.
    pub async fn append(&mut self, mut records: Vec<Vec<u8>>) -> anyhow::Result<Appended> {
        loop {
            match self.try_append(records).await {
                Ok(appended) => return Ok(appended),
                Err(TryAppendError::Full(back)) => {
                    // Without a reader nothing is ever acknowledged.
                    anyhow::ensure!(
                        !self.shared.reader_gone.load(Ordering::Acquire),
                        "the buffer is full and its reader has stopped"
                    );
                    records = back;
                    // Notify keeps one permit, so an ack between the attempt
                    // and this wait is not missed.
                    self.shared.space.notified().await;
                }
                Err(TryAppendError::Failed(err)) => return Err(err),
            }
        }
    }

    /// Append a batch, or hand it back at once if the buffer is full.
    pub async fn try_append(&mut self, records: Vec<Vec<u8>>) -> Result<Appended, TryAppendError> {
        let attempt = self
            .shared
            .run(move |store| {
                let mut records = records;
                (append_batch(store, &mut records), records)
            })
            .await;
        match attempt {
            Ok((Ok(appended), _)) => {
                self.shared.data.notify_one();
                Ok(appended)
            }
            Ok((Err(AppendError::Full), records)) => Err(TryAppendError::Full(records)),
            Ok((Err(err), _)) => Err(TryAppendError::Failed(err.into())),
            Err(err) => Err(TryAppendError::Failed(err)),
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.shared.writer_gone.store(true, Ordering::Release);
        self.shared.data.notify_one();
    }
}

impl Reader {
    /// Up to `max` records, waiting until there is at least one. Empty once
    /// the writer is gone and everything was read.
    pub async fn next_batch(&mut self, max: usize) -> anyhow::Result<Vec<(RecordId, Vec<u8>)>> {
        Ok(self.next_batch_of_generation(max).await?.1)
    }

    /// [`Reader::next_batch`], with the rewind generation it was read in: an
    /// acknowledgement for records of an older generation must be ignored,
    /// since a rewind made them due again.
    pub async fn next_batch_of_generation(&mut self, max: usize) -> anyhow::Result<(u64, Vec<(RecordId, Vec<u8>)>)> {
        loop {
            // Looked at before reading, so that records appended just before
            // the writer went are read rather than missed.
            let closed = self.shared.writer_gone.load(Ordering::Acquire);
            let shared = Arc::clone(&self.shared);
            let (generation, batch) = self
                .shared
                .run(move |store| {
                    let generation = shared.generation.load(Ordering::Acquire);
                    next_batch(store, max).map(|batch| (generation, batch))
                })
                .await??;
            if !batch.is_empty() || closed {
                return Ok((generation, batch));
            }
            self.shared.data.notified().await;
        }
    }

    /// The next record, waiting for one; `None` once the writer is gone and
    /// everything was read.
    pub async fn next(&mut self) -> anyhow::Result<Option<(RecordId, Vec<u8>)>> {
        Ok(self.next_batch(1).await?.pop())
    }

    /// Acknowledge every record up to and including `up_to`.
    pub async fn ack(&mut self, up_to: RecordId) -> anyhow::Result<()> {
        self.acker().ack(up_to).await
    }

    /// A handle that acknowledges from another task, so that records can be
    /// acknowledged while this reader waits for new ones.
    pub fn acker(&self) -> Acker {
        Acker { shared: Arc::clone(&self.shared) }
    }
}

/// Acknowledges records for a [`Reader`]; see [`Reader::acker`].
#[derive(Debug, Clone)]
pub struct Acker {
    shared: Arc<Shared>,
}

impl Acker {
    /// Acknowledge every record up to and including `up_to`.
    pub async fn ack(&self, up_to: RecordId) -> anyhow::Result<()> {
        self.shared.run(move |store| store.ack(up_to)).await??;
        self.shared.space.notify_one();
        Ok(())
    }

    /// Make every record read and not acknowledged due again (see
    /// [`DiskBuffer::rewind`]) and start a new generation; wakes the reader.
    pub async fn rewind(&self) -> anyhow::Result<()> {
        let shared = Arc::clone(&self.shared);
        self.shared
            .run(move |store| {
                store.rewind();
                shared.generation.fetch_add(1, Ordering::AcqRel);
            })
            .await?;
        self.shared.data.notify_one();
        Ok(())
    }

    /// The current rewind generation.
    pub fn generation(&self) -> u64 {
        self.shared.generation.load(Ordering::Acquire)
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        self.shared.reader_gone.store(true, Ordering::Release);
        self.shared.space.notify_one();
    }
}

#[cfg(test)]
mod tests;
