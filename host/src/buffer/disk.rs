//! The durable disk buffer: a directory of segment files and an ack file.
//!
//! ```text
//! <dir>/                  mode 0700: events may hold secrets
//!   000000000001.seg      records, oldest first (format in `segment`)
//!   000000000002.seg      the newest segment takes the appends
//!   ack                   where acknowledged records end (format in `ack_file`)
//!   lock                  flock'd while open, so two processes never share it
//! ```
//!
//! A [`RecordId`] is the position just past its record (segment, offset), so
//! ids sort in append order and the ack file holds one directly: on reopen,
//! reading resumes there. A segment is deleted once the ack position has
//! passed all of it, except the one taking appends.
//!
//! Recovery on open, from the ack position on:
//! - a record cut short at the end of the newest segment (kill -9 or power
//!   loss mid-write) is truncated away and reported as the torn tail; so is a
//!   record there whose CRC fails and which ends exactly at the end of file;
//! - a record whose CRC fails elsewhere is skipped and reported, if an intact
//!   record follows it (so its length can be trusted); otherwise the rest of
//!   that segment is skipped and reported, and appends go to a new segment;
//! - an unreadable ack file means "replay everything still on disk".
//!
//! `max_bytes` bounds the unacknowledged records (headers included). Disk use
//! can exceed it by the acknowledged head of the oldest segment, the newest
//! segment's acknowledged part, and any damaged bytes awaiting deletion.

mod ack_file;
mod segment;
#[cfg(test)]
mod tests;

pub use ack_file::AckState;
pub(crate) use segment::{decode as decode_record, encode as encode_record};

use super::{AppendError, Appended, RecordId};
use anyhow::Context;
use segment::{HEADER, Parsed, SegmentReader};

/// Bytes a record takes on disk beyond its payload (length and checksum).
pub const RECORD_OVERHEAD: u64 = HEADER;
use std::collections::VecDeque;
use std::fs::{DirBuilder, File, OpenOptions, TryLockError};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// When appends and acknowledgements reach the disk itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fsync {
    /// fsync each appended batch (and each new segment's directory entry, and
    /// the ack file) before returning: survives power loss.
    #[default]
    Always,
    /// Hand the bytes to the kernel and return: survives kill -9 (the page
    /// cache outlives the process), not power loss, which may lose the latest
    /// records and acknowledgements (then replayed: duplicates).
    Never,
}

/// How a disk buffer is bounded and synced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Most bytes of unacknowledged records (payload plus 8 bytes each).
    pub max_bytes: u64,
    /// A new segment is started when a batch would take the current one past
    /// this; a batch is never split, so one larger batch makes a larger segment.
    pub max_segment_bytes: u64,
    pub sync: Fsync,
}

impl Default for Options {
    fn default() -> Self {
        Options { max_bytes: 256 << 20, max_segment_bytes: 64 << 20, sync: Fsync::Always }
    }
}

/// Damaged data that recovery skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub segment: PathBuf,
    pub offset: u64,
    pub bytes: u64,
    /// The damage made the rest of the segment unreadable: how many records
    /// it held is unknown.
    pub rest_of_segment: bool,
}

/// What [`DiskBuffer::open`] found, for the caller to log and count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovery {
    /// Unacknowledged records that will be read again, and their bytes.
    pub pending_records: u64,
    pub pending_bytes: u64,
    /// Damaged records or ranges skipped, oldest first.
    pub skipped: Vec<Skipped>,
    /// The partly written end of the newest segment, truncated away.
    pub torn_tail: Option<Skipped>,
    pub ack: AckState,
}

impl Recovery {
    /// Whether nothing was damaged or lost.
    pub fn is_clean(&self) -> bool {
        self.skipped.is_empty() && self.torn_tail.is_none() && !matches!(self.ack, AckState::Invalid(_))
    }
}

/// A place in the buffer: a byte offset within a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub(super) struct Position {
    segment: u64,
    offset: u64,
}

impl Position {
    fn id(self) -> RecordId {
        RecordId(self.segment, self.offset)
    }
}

#[derive(Debug, Clone, Copy)]
struct Segment {
    seq: u64,
    /// Bytes of records written (after any torn tail was cut off).
    len: u64,
    /// Where reading stops: `len`, unless damage made the rest unreadable.
    readable: u64,
    /// `len` when the buffer was opened: damage before it was reported then.
    scanned: u64,
}

/// A durable FIFO of byte records with acknowledgement. See the module docs.
///
/// Synchronous: call it from a dedicated thread or `spawn_blocking` (the
/// async halves in [`crate::buffer`] do).
#[derive(Debug)]
pub struct DiskBuffer {
    dir: PathBuf,
    options: Options,
    /// The directory itself, to fsync new names in it.
    dir_handle: File,
    /// Held for its flock.
    _lock: File,
    segments: VecDeque<Segment>,
    /// The append handle of the last segment, unless that one is sealed.
    active: Option<File>,
    next_seq: u64,
    ack: Position,
    read: Position,
    reader: Option<SegmentReader>,
    /// Records read and not yet acknowledged: where each ends, its size.
    in_flight: VecDeque<(Position, u64)>,
    unacked_records: u64,
    unacked_bytes: u64,
    scratch: Vec<u8>,
}

impl DiskBuffer {
    /// Open the buffer in `dir`, creating it (mode 0700) if need be, and
    /// recover from whatever the last run left there.
    pub fn open(dir: impl AsRef<Path>, options: Options) -> anyhow::Result<(DiskBuffer, Recovery)> {
        let dir = dir.as_ref();
        anyhow::ensure!(options.max_bytes > HEADER, "max_bytes must be more than {HEADER}");
        anyhow::ensure!(options.max_segment_bytes > 0, "max_segment_bytes must be positive");
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("creating buffer directory {}", dir.display()))?;
        // An existing directory is tightened too: what goes in it is sensitive.
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("restricting {} to its owner", dir.display()))?;
        let lock = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(dir.join("lock"))
            .with_context(|| format!("opening {}", dir.join("lock").display()))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                anyhow::bail!("buffer directory {} is in use by another buffer", dir.display())
            }
            Err(TryLockError::Error(err)) => return Err(err).context(format!("locking {}", dir.display())),
        }
        let dir_handle = File::open(dir).with_context(|| format!("opening {}", dir.display()))?;
        Self::recover(dir.to_owned(), options, dir_handle, lock)
            .with_context(|| format!("recovering buffer {}", dir.display()))
    }

    fn recover(dir: PathBuf, options: Options, dir_handle: File, lock: File) -> anyhow::Result<(DiskBuffer, Recovery)> {
        match std::fs::remove_file(dir.join(ack_file::TEMP)) {
            Err(err) if err.kind() != io::ErrorKind::NotFound => return Err(err.into()),
            _ => {}
        }
        let (ack, ack_state) = ack_file::read(&dir)?;
        let mut seqs = Vec::new();
        for entry in std::fs::read_dir(&dir)? {
            if let Some(seq) = entry?.file_name().to_str().and_then(segment::parse_name) {
                seqs.push(seq);
            }
        }
        seqs.sort_unstable();

        let mut recovery =
            Recovery { pending_records: 0, pending_bytes: 0, skipped: Vec::new(), torn_tail: None, ack: ack_state };
        let mut segments = VecDeque::new();
        let mut writable = true;
        for (i, &seq) in seqs.iter().enumerate() {
            let path = dir.join(segment::file_name(seq));
            if seq < ack.segment {
                // Fully acknowledged; a crash came between the ack and the delete.
                std::fs::remove_file(&path)?;
                continue;
            }
            let last = i + 1 == seqs.len();
            let len = std::fs::metadata(&path)?.len();
            let mut seg = Segment { seq, len, readable: len, scanned: len };
            let start = if seq == ack.segment { ack.offset } else { 0 };
            if start > len {
                // The acknowledged data itself is gone (power loss under
                // Fsync::Never); nothing unacknowledged can be found in it,
                // and appending to it would put records below the ack.
                writable &= !last;
                segments.push_back(seg);
                continue;
            }
            let mut reader = SegmentReader::open(&path, seq)?;
            let mut offset = start;
            while offset < len {
                let parsed = reader.parse(offset, len)?;
                match parsed {
                    Parsed::Good { end } => {
                        recovery.pending_records += 1;
                        recovery.pending_bytes += end - offset;
                        offset = end;
                        continue;
                    }
                    Parsed::Torn | Parsed::Bad { .. } if last && torn(parsed, len) => {
                        let file = OpenOptions::new().write(true).open(&path)?;
                        file.set_len(offset)?;
                        if options.sync == Fsync::Always {
                            file.sync_all()?;
                        }
                        recovery.torn_tail = Some(Skipped {
                            segment: path.clone(),
                            offset,
                            bytes: len - offset,
                            rest_of_segment: false,
                        });
                        seg = Segment { seq, len: offset, readable: offset, scanned: offset };
                        break;
                    }
                    _ => {}
                }
                if let Some(end) = reader.damaged_extent(offset, len)? {
                    recovery.skipped.push(Skipped {
                        segment: path.clone(),
                        offset,
                        bytes: end - offset,
                        rest_of_segment: false,
                    });
                    offset = end;
                } else {
                    recovery.skipped.push(Skipped {
                        segment: path.clone(),
                        offset,
                        bytes: len - offset,
                        rest_of_segment: true,
                    });
                    seg.readable = offset;
                    // Keep the damaged bytes for inspection; append elsewhere.
                    writable &= !last;
                    break;
                }
            }
            segments.push_back(seg);
        }

        let active = match segments.back() {
            Some(last) if writable => {
                Some(OpenOptions::new().append(true).open(dir.join(segment::file_name(last.seq)))?)
            }
            _ => None,
        };
        let next_seq = seqs.last().copied().unwrap_or(0).max(ack.segment) + 1;
        let mut buffer = DiskBuffer {
            dir,
            options,
            dir_handle,
            _lock: lock,
            segments,
            active,
            next_seq,
            ack,
            read: ack,
            reader: None,
            in_flight: VecDeque::new(),
            unacked_records: recovery.pending_records,
            unacked_bytes: recovery.pending_bytes,
            scratch: Vec::new(),
        };
        buffer.collect()?;
        Ok((buffer, recovery))
    }

    /// Append a batch of records with one write (and one fsync under
    /// [`Fsync::Always`]), durable per the sync policy when this returns.
    ///
    /// Refuses with [`AppendError::Full`], writing nothing, when the batch
    /// would take the unacknowledged records past `max_bytes`; with
    /// [`AppendError::TooLarge`] when it could never fit. After an
    /// [`AppendError::Io`] some of the batch may be on disk and be read after
    /// a restart: a retry can duplicate records, never lose them.
    pub fn append(&mut self, records: &[&[u8]]) -> Result<Appended, AppendError> {
        let max = self.options.max_bytes;
        let mut bytes = 0;
        for record in records {
            let size = HEADER + record.len() as u64;
            if u32::try_from(record.len()).is_err() || size > max {
                return Err(AppendError::TooLarge { size, max });
            }
            bytes += size;
        }
        if bytes > max {
            return Err(AppendError::TooLarge { size: bytes, max });
        }
        if records.is_empty() {
            return Ok(Appended { records: 0, bytes: 0 });
        }
        if self.unacked_bytes + bytes > max {
            return Err(AppendError::Full);
        }
        self.scratch.clear();
        for record in records {
            segment::encode(&mut self.scratch, record);
        }
        let sync = self.options.sync;
        self.make_room(bytes)?;
        let file = self.active.as_mut().expect("an active segment");
        let written = file.write_all(&self.scratch).and_then(|()| match sync {
            Fsync::Always => file.sync_data(),
            Fsync::Never => Ok(()),
        });
        if let Err(err) = written {
            // The segment's end is now unknown (and after a failed fsync the
            // page cache cannot be trusted either): seal it, so that the next
            // append starts a new segment. Reopening reports what is left.
            self.active = None;
            return Err(AppendError::Io(err));
        }
        let seg = self.segments.back_mut().expect("an active segment");
        seg.len += bytes;
        seg.readable = seg.len;
        self.unacked_records += records.len() as u64;
        self.unacked_bytes += bytes;
        Ok(Appended { records: records.len(), bytes })
    }

    /// Start a new segment if none takes appends or if `bytes` more would
    /// take the current one past `max_segment_bytes`.
    fn make_room(&mut self, bytes: u64) -> io::Result<()> {
        let roll = match (&self.active, self.segments.back()) {
            (Some(_), Some(seg)) => seg.len > 0 && seg.len + bytes > self.options.max_segment_bytes,
            _ => true,
        };
        if roll {
            let seq = self.next_seq;
            let file = OpenOptions::new()
                .append(true)
                .create_new(true)
                .mode(0o600)
                .open(self.dir.join(segment::file_name(seq)))?;
            if self.options.sync == Fsync::Always {
                // Else a power loss could lose the file's name with its synced data.
                self.dir_handle.sync_all()?;
            }
            self.next_seq += 1;
            self.segments.push_back(Segment { seq, len: 0, readable: 0, scanned: 0 });
            self.active = Some(file);
            // The segment just sealed may be acknowledged already.
            self.collect()?;
        }
        Ok(())
    }

    /// Forget what was read and not acknowledged: reading starts again just
    /// after the last acknowledged record. For a destination that failed a
    /// batch, which must be sent again with everything read after it.
    pub fn rewind(&mut self) {
        self.read = self.ack;
        self.in_flight.clear();
    }

    /// The next record after the read cursor, if any. Records read but not
    /// acknowledged are not returned again until the buffer is reopened or
    /// rewound.
    // Not an Iterator: records are acknowledged through the buffer while
    // being read, and reading can fail.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> anyhow::Result<Option<(RecordId, Vec<u8>)>> {
        loop {
            let Some(i) = self.segments.iter().position(|s| s.seq >= self.read.segment) else {
                return Ok(None);
            };
            let seg = self.segments[i];
            if seg.seq > self.read.segment {
                self.read = Position { segment: seg.seq, offset: 0 };
            }
            if self.read.offset >= seg.readable {
                match self.segments.get(i + 1) {
                    Some(next) => self.read = Position { segment: next.seq, offset: 0 },
                    None => return Ok(None),
                }
                continue;
            }
            if self.reader.as_ref().is_none_or(|r| r.seq() != seg.seq) {
                let path = self.dir.join(segment::file_name(seg.seq));
                self.reader =
                    Some(SegmentReader::open(&path, seg.seq).with_context(|| format!("opening {}", path.display()))?);
            }
            let reader = self.reader.as_mut().expect("just opened");
            let offset = self.read.offset;
            if let Parsed::Good { end } = reader.parse(offset, seg.readable)? {
                let payload = reader.bytes(offset + HEADER, (end - offset - HEADER) as usize, end)?.to_vec();
                self.read.offset = end;
                self.in_flight.push_back((self.read, end - offset));
                return Ok(Some((self.read.id(), payload)));
            }
            // Damage: reported at open if it was there then, else it happened
            // under us (a failing disk) and is reported here.
            let extent = reader.damaged_extent(offset, seg.readable)?;
            let skipped = extent.unwrap_or(seg.readable) - offset;
            if offset >= seg.scanned {
                tracing::warn!(
                    segment = %self.dir.join(segment::file_name(seg.seq)).display(),
                    offset, bytes = skipped, rest_of_segment = extent.is_none(),
                    "skipping damaged records in the disk buffer"
                );
                self.unacked_bytes = self.unacked_bytes.saturating_sub(skipped);
                self.unacked_records = self.unacked_records.saturating_sub(1);
            }
            match extent {
                Some(end) => self.read.offset = end,
                None => {
                    self.segments[i].readable = offset;
                    if i + 1 == self.segments.len() {
                        self.active = None;
                    }
                }
            }
        }
    }

    /// Acknowledge every record up to and including `up_to`, which must have
    /// been read: persist the position (atomically), then delete segments
    /// left with nothing unacknowledged. Acknowledged records are never
    /// returned again, even after a crash.
    pub fn ack(&mut self, up_to: RecordId) -> anyhow::Result<()> {
        let to = Position { segment: up_to.0, offset: up_to.1 };
        if to <= self.ack {
            return Ok(());
        }
        anyhow::ensure!(to <= self.read, "acknowledging a record that was not read");
        ack_file::write(&self.dir, &self.dir_handle, to, self.options.sync)
            .with_context(|| format!("writing {}", self.dir.join(ack_file::NAME).display()))?;
        self.ack = to;
        while let Some(&(end, size)) = self.in_flight.front()
            && end <= to
        {
            self.in_flight.pop_front();
            self.unacked_records = self.unacked_records.saturating_sub(1);
            self.unacked_bytes = self.unacked_bytes.saturating_sub(size);
        }
        self.collect()?;
        Ok(())
    }

    /// Delete the oldest segments while all they hold is acknowledged,
    /// except the one taking appends.
    fn collect(&mut self) -> io::Result<()> {
        while let Some(front) = self.segments.front() {
            let appending = self.segments.len() == 1 && self.active.is_some();
            let acked =
                front.seq < self.ack.segment || (front.seq == self.ack.segment && self.ack.offset >= front.readable);
            if appending || !acked {
                break;
            }
            match std::fs::remove_file(self.dir.join(segment::file_name(front.seq))) {
                Err(err) if err.kind() != io::ErrorKind::NotFound => return Err(err),
                _ => {}
            }
            if self.reader.as_ref().is_some_and(|r| r.seq() == front.seq) {
                self.reader = None;
            }
            self.segments.pop_front();
        }
        Ok(())
    }

    /// Unacknowledged records (read or not).
    pub fn len(&self) -> u64 {
        self.unacked_records
    }

    pub fn is_empty(&self) -> bool {
        self.unacked_records == 0
    }

    /// Bytes of unacknowledged records, as counted against `max_bytes`.
    pub fn unacked_bytes(&self) -> u64 {
        self.unacked_bytes
    }

    pub fn options(&self) -> &Options {
        &self.options
    }
}

/// Whether damage at the end of the newest segment looks like a write cut
/// short: the record runs past the end of file, or it fails its CRC and ends
/// exactly there (pages of a last write lost to a power loss).
fn torn(parsed: Parsed, len: u64) -> bool {
    match parsed {
        Parsed::Torn => true,
        Parsed::Bad { end } => end == len,
        Parsed::Good { .. } => false,
    }
}
