//! Reading a plugin file, at startup and on hot reload alike: only a regular
//! file, and only up to `plugins.max_bytes`.

use std::fmt;
use std::path::Path;

/// The default of `plugins.max_bytes`: well above the largest real plugin
/// (a Python component is about 18.5 MB).
pub const DEFAULT_MAX_BYTES: u64 = 64 << 20;

/// Why a plugin file was not read.
#[derive(Debug)]
pub enum ReadError {
    /// Nothing is at the path.
    Missing,
    /// Its size changed while it was read: it is still being written.
    Changing,
    /// It is not something sluice loads; the text says why.
    Refused(String),
    Io(std::io::Error),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Missing => f.write_str("no such file"),
            ReadError::Changing => f.write_str("the file changed while it was read"),
            ReadError::Refused(why) => f.write_str(why),
            ReadError::Io(err) => write!(f, "{err}"),
        }
    }
}

impl std::error::Error for ReadError {}

/// The whole file at `path`, following a symbolic link, if it is a regular
/// file of at most `max_bytes`.
///
/// The checks are made on the opened file, not on the name, so nothing can
/// be swapped in between. The open does not wait for a FIFO's writer, and at
/// most `max_bytes + 1` bytes are read, so neither a FIFO nor `/dev/zero` nor a
/// file that keeps growing holds the caller or its memory.
pub fn read(path: &Path, max_bytes: u64) -> Result<Vec<u8>, ReadError> {
    use std::io::Read;
    use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
    let file =
        std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path).map_err(|err| {
            match err.kind() {
                std::io::ErrorKind::NotFound => ReadError::Missing,
                _ => ReadError::Io(err),
            }
        })?;
    let before = file.metadata().map_err(ReadError::Io)?;
    let kind = before.file_type();
    if !kind.is_file() {
        let what = if kind.is_fifo() {
            "a FIFO"
        } else if kind.is_char_device() {
            "a character device"
        } else if kind.is_block_device() {
            "a block device"
        } else if kind.is_socket() {
            "a socket"
        } else if kind.is_dir() {
            "a directory"
        } else {
            "not a file"
        };
        return Err(ReadError::Refused(format!("not a regular file ({what}); only regular files are loaded")));
    }
    let too_big = |len: u64| ReadError::Refused(format!("{len} bytes, more than plugins.max_bytes ({max_bytes})"));
    if before.len() > max_bytes {
        return Err(too_big(before.len()));
    }
    let mut bytes = Vec::with_capacity(before.len() as usize);
    (&file).take(max_bytes.saturating_add(1)).read_to_end(&mut bytes).map_err(ReadError::Io)?;
    if bytes.len() as u64 > max_bytes {
        return Err(ReadError::Refused(format!("grew past plugins.max_bytes ({max_bytes}) while it was read")));
    }
    // A file copied into place (rather than renamed) may still be growing.
    let after = file.metadata().map_err(ReadError::Io)?.len();
    if bytes.len() as u64 != before.len() || after != before.len() {
        return Err(ReadError::Changing);
    }
    Ok(bytes)
}
