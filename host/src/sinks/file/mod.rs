//! Sink `file`: appends one line per event to a file.
//!
//! The file is opened again when its path no longer names it — logrotate
//! moved or deleted it — so that later events go to the new file at the path
//! (checked before a write, at most once a second: a `stat` and the open
//! file's identity), and at once when the router is asked to (SIGHUP).
//! Batches written before the switch stay complete in the old file: nothing
//! is lost or written twice by a rotation.

pub mod config;
#[cfg(test)]
mod tests;

use super::{LineOutput, SinkContext, write_lines};
use crate::file_identity::FileId;
use crate::internal_events::{ComponentError, InternalEvent};
use crate::metrics::ComponentMetrics;
use anyhow::Context;
use config::FileSinkConfig;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;

/// How often, at most, a write checks that the path still names the open file.
const ROTATION_CHECK_INTERVAL: Duration = Duration::from_secs(1);

/// Open `path` for appending, creating it and its directories.
pub async fn open_append(path: &Path) -> anyhow::Result<tokio::fs::File> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        tokio::fs::create_dir_all(parent).await.with_context(|| format!("creating directory {}", parent.display()))?;
    }
    tokio::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .await
        .with_context(|| format!("opening {} for appending", path.display()))
}

pub async fn run(config: FileSinkConfig, ctx: SinkContext) -> anyhow::Result<()> {
    write_to(config.path, ctx, ROTATION_CHECK_INTERVAL).await
}

/// The sink's loop, with how often to check the path as a parameter (tests change it).
async fn write_to(path: PathBuf, ctx: SinkContext, check_every: Duration) -> anyhow::Result<()> {
    let what = path.display().to_string();
    let mut file = LogFile::open(path, ctx.id.clone(), ctx.metrics.clone(), check_every).await?;
    write_lines(ctx, &mut file, &what).await
}

/// A file opened for appending, and its identity.
async fn open_identified(path: &Path) -> anyhow::Result<(tokio::fs::File, FileId)> {
    let file = open_append(path).await?;
    let meta = file.metadata().await.with_context(|| format!("reading the metadata of {}", path.display()))?;
    Ok((file, FileId::of(&meta)))
}

/// The file a sink appends to, opened again when its path names another
/// file or when asked to.
struct LogFile {
    path: PathBuf,
    file: tokio::fs::File,
    identity: FileId,
    id: Arc<str>,
    metrics: Arc<ComponentMetrics>,
    check_every: Duration,
    last_check: Instant,
}

impl LogFile {
    async fn open(
        path: PathBuf,
        id: Arc<str>,
        metrics: Arc<ComponentMetrics>,
        check_every: Duration,
    ) -> anyhow::Result<LogFile> {
        let (file, identity) = open_identified(&path).await?;
        Ok(LogFile { path, file, identity, id, metrics, check_every, last_check: Instant::now() })
    }

    /// Open the path again (`why` says why, for the log). If that fails the
    /// old file stays open: its events are then in the old place, not lost.
    async fn reopen_because(&mut self, why: &str) {
        self.last_check = Instant::now();
        match open_identified(&self.path).await {
            Ok((file, identity)) => {
                self.file = file;
                self.identity = identity;
                tracing::info!(component = %self.id, path = %self.path.display(), "reopened its file {why}");
            }
            Err(err) => ComponentError { what: &format!("reopening its file {why}"), error: &format!("{err:#}") }
                .emit(&self.metrics),
        }
    }
}

impl LineOutput for LogFile {
    async fn write_batch(&mut self, lines: &[u8]) -> std::io::Result<()> {
        if self.last_check.elapsed() >= self.check_every {
            self.last_check = Instant::now();
            match self.identity.named_by(&self.path).await {
                Ok(true) => {}
                Ok(false) => self.reopen_because("as its path names another file now (moved or deleted)").await,
                Err(err) => ComponentError { what: &format!("checking {}", self.path.display()), error: &err }
                    .emit(&self.metrics),
            }
        }
        self.file.write_all(lines).await?;
        self.file.flush().await
    }

    async fn reopen(&mut self) {
        self.reopen_because("on request").await;
    }
}
