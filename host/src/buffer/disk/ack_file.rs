//! The ack file: the position up to which records are acknowledged.
//!
//! ```text
//! ack = magic "SLCBUF\0\x01" (8) | segment: u64 LE | offset: u64 LE | crc: u32 LE (CRC-32 of the first 24 bytes)
//! ```
//!
//! It is replaced whole: written to `ack.tmp`, then renamed over `ack`, so a
//! reader sees the old position or the new one, never a mix. The CRC catches
//! what the rename cannot: a file whose data did not reach the disk before a
//! power loss (possible under [`Fsync::Never`], which skips the fsyncs).

use super::Position;
use crate::buffer::Fsync;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

pub(super) const NAME: &str = "ack";
pub(super) const TEMP: &str = "ack.tmp";
/// The magic carries the format version (the last byte) for segments too.
const MAGIC: &[u8; 8] = b"SLCBUF\0\x01";
const LEN: usize = 28;

/// What was found in the ack file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AckState {
    /// A valid position: records before it are not returned again.
    Found,
    /// No ack file: a new buffer, or nothing was acknowledged before a crash.
    Missing,
    /// An unreadable ack file (the reason is given). The buffer falls back to
    /// replaying every record still on disk: duplicates, never a loss.
    Invalid(String),
}

/// The acknowledged position, or the start of the buffer if there is none.
pub(super) fn read(dir: &Path) -> io::Result<(Position, AckState)> {
    let bytes = match std::fs::read(dir.join(NAME)) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok((Position::default(), AckState::Missing)),
        Err(err) => return Err(err),
    };
    let invalid = |reason: String| Ok((Position::default(), AckState::Invalid(reason)));
    if bytes.len() != LEN {
        return invalid(format!("{} bytes, expected {LEN}", bytes.len()));
    }
    if &bytes[..8] != MAGIC {
        return invalid("not a sluice ack file of format version 1".into());
    }
    let crc = u32::from_le_bytes(bytes[24..].try_into().expect("4 bytes"));
    if crc32fast::hash(&bytes[..24]) != crc {
        return invalid("checksum mismatch".into());
    }
    let segment = u64::from_le_bytes(bytes[8..16].try_into().expect("8 bytes"));
    let offset = u64::from_le_bytes(bytes[16..24].try_into().expect("8 bytes"));
    Ok((Position { segment, offset }, AckState::Found))
}

/// Replace the ack file with `position`. Under [`Fsync::Always`] the new
/// file's data is synced before the rename (else a power loss could leave
/// the new name pointing at nothing) and the directory after it (so the
/// rename itself survives).
pub(super) fn write(dir: &Path, dir_handle: &File, position: Position, sync: Fsync) -> io::Result<()> {
    let mut bytes = [0u8; LEN];
    bytes[..8].copy_from_slice(MAGIC);
    bytes[8..16].copy_from_slice(&position.segment.to_le_bytes());
    bytes[16..24].copy_from_slice(&position.offset.to_le_bytes());
    let crc = crc32fast::hash(&bytes[..24]);
    bytes[24..].copy_from_slice(&crc.to_le_bytes());

    let temp = dir.join(TEMP);
    let mut file = OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&temp)?;
    file.write_all(&bytes)?;
    if sync == Fsync::Always {
        file.sync_data()?;
    }
    drop(file);
    std::fs::rename(&temp, dir.join(NAME))?;
    if sync == Fsync::Always {
        dir_handle.sync_all()?;
    }
    Ok(())
}
