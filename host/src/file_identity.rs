//! Whether a path still names a file that is open: how the file sink and the
//! dead letter notice that logrotate or an operator moved their file away.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// A file's device and inode, which it keeps across renames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileId(u64, u64);

impl FileId {
    pub fn of(meta: &std::fs::Metadata) -> Self {
        FileId(meta.dev(), meta.ino())
    }

    /// Whether `path` names this file now (not when nothing is there).
    pub async fn named_by(self, path: &Path) -> std::io::Result<bool> {
        match tokio::fs::metadata(path).await {
            Ok(meta) => Ok(FileId::of(&meta) == self),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(err) => Err(err),
        }
    }
}
