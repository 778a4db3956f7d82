//! Segment files: the record format, and reading records back.
//!
//! A segment is records laid end to end, nothing else (no file header, so a
//! freshly created segment is simply empty and cannot be torn):
//!
//! ```text
//! record = length: u32 LE | crc: u32 LE | payload: `length` bytes
//! crc    = CRC-32 (IEEE, crc32fast) of the 4 length bytes, then the payload
//! ```
//!
//! The CRC covers the length as well as the payload, so a damaged length is
//! detected instead of sending the reader into the middle of a payload.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

/// Bytes in front of each payload: the length and the CRC.
pub(crate) const HEADER: u64 = 8;

/// How much a reader fetches at once: records are small (hundreds of bytes),
/// so one `pread` serves hundreds of them.
const CHUNK: usize = 256 * 1024;

/// The file name of segment `seq`; zero-padded so a listing sorts in order.
pub(super) fn file_name(seq: u64) -> String {
    format!("{seq:012}.seg")
}

/// The sequence number in a segment's file name, if it is one.
pub(super) fn parse_name(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(".seg")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

fn checksum(length: [u8; 4], payload: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&length);
    hasher.update(payload);
    hasher.finalize()
}

/// Append one record to `out`. The caller has checked that the payload's
/// length fits in a u32. (Plugin state logs use the same framing.)
pub(crate) fn encode(out: &mut Vec<u8>, payload: &[u8]) {
    let length = u32::try_from(payload.len()).expect("checked by the caller").to_le_bytes();
    out.extend_from_slice(&length);
    out.extend_from_slice(&checksum(length, payload).to_le_bytes());
    out.extend_from_slice(payload);
}

/// The record at the start of `data`, read from memory: its payload and the
/// bytes the record takes, or `None` when it runs past the end of `data` (a
/// torn write) or its checksum fails.
pub(crate) fn decode(data: &[u8]) -> Option<(&[u8], usize)> {
    let header = data.get(..HEADER as usize)?;
    let length: [u8; 4] = header[..4].try_into().expect("4 bytes");
    let crc = u32::from_le_bytes(header[4..].try_into().expect("4 bytes"));
    let end = (HEADER as usize).checked_add(u32::from_le_bytes(length) as usize)?;
    let payload = data.get(HEADER as usize..end)?;
    (checksum(length, payload) == crc).then_some((payload, end))
}

/// What lies at an offset of a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Parsed {
    /// An intact record ending at `end`.
    Good { end: u64 },
    /// A record whose CRC does not match. `end` is where its length says it
    /// ends, which is only worth believing if an intact record follows.
    Bad { end: u64 },
    /// A header or payload that runs past the end of the data: a write cut
    /// short, or a damaged length.
    Torn,
}

/// Reads one segment through a cache of a few hundred KiB. Segments only
/// grow at their end and the reader never looks past the length it is given,
/// so what is cached never goes stale.
#[derive(Debug)]
pub(super) struct SegmentReader {
    seq: u64,
    file: File,
    start: u64,
    buf: Vec<u8>,
}

impl SegmentReader {
    pub(super) fn open(path: &Path, seq: u64) -> io::Result<SegmentReader> {
        Ok(SegmentReader { seq, file: File::open(path)?, start: 0, buf: Vec::new() })
    }

    pub(super) fn seq(&self) -> u64 {
        self.seq
    }

    /// `n` bytes at `offset`, in a segment whose data ends at `end`
    /// (`offset + n <= end`).
    pub(super) fn bytes(&mut self, offset: u64, n: usize, end: u64) -> io::Result<&[u8]> {
        let cached = offset >= self.start && offset + n as u64 <= self.start + self.buf.len() as u64;
        if !cached {
            let want = (end - offset).min(CHUNK as u64).max(n as u64) as usize;
            if self.buf.capacity() > 4 * CHUNK && want <= CHUNK {
                // A huge record passed; do not keep its buffer for ever.
                self.buf = Vec::new();
            }
            self.buf.resize(want, 0);
            self.file.read_exact_at(&mut self.buf, offset)?;
            self.start = offset;
        }
        let at = (offset - self.start) as usize;
        Ok(&self.buf[at..at + n])
    }

    /// The record at `offset`, in a segment whose data ends at `end`.
    pub(super) fn parse(&mut self, offset: u64, end: u64) -> io::Result<Parsed> {
        if end.saturating_sub(offset) < HEADER {
            return Ok(Parsed::Torn);
        }
        let header = self.bytes(offset, HEADER as usize, end)?;
        let length: [u8; 4] = header[..4].try_into().expect("4 bytes");
        let crc = u32::from_le_bytes(header[4..].try_into().expect("4 bytes"));
        let record_end = offset + HEADER + u64::from(u32::from_le_bytes(length));
        if record_end > end {
            return Ok(Parsed::Torn);
        }
        let record = self.bytes(offset, (record_end - offset) as usize, end)?;
        Ok(if checksum(length, &record[HEADER as usize..]) == crc {
            Parsed::Good { end: record_end }
        } else {
            Parsed::Bad { end: record_end }
        })
    }

    /// Where a damaged record at `offset` ends, if its length can be trusted:
    /// it ends exactly at `end`, or an intact record follows it. Otherwise the
    /// rest of the segment cannot be walked (there is no marker to re-sync
    /// on, and trying every offset would find false CRC matches).
    pub(super) fn damaged_extent(&mut self, offset: u64, end: u64) -> io::Result<Option<u64>> {
        match self.parse(offset, end)? {
            Parsed::Bad { end: next } if next == end => Ok(Some(next)),
            Parsed::Bad { end: next } if matches!(self.parse(next, end)?, Parsed::Good { .. }) => Ok(Some(next)),
            _ => Ok(None),
        }
    }
}
