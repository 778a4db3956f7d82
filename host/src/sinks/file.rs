//! Sink `file`: appends one line per event to a file.
//!
//! The file is opened again when its path no longer names it — logrotate
//! moved or deleted it — so that later events go to the new file at the path
//! (checked before a write, at most once a second: a `stat` and the open
//! file's identity), and at once when the router is asked to (SIGHUP).
//! Batches written before the switch stay complete in the old file: nothing
//! is lost or written twice by a rotation.

use super::{LineOutput, SinkContext, write_lines};
use crate::file_identity::FileId;
use crate::metrics::ComponentMetrics;
use crate::validation::{ConfigError, check_writable_file};
use anyhow::Context;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;

/// `[sinks.<id>]` with `type = "file"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSinkConfig {
    /// The file to append to; created with its directories when missing.
    pub path: PathBuf,
}

impl FileSinkConfig {
    pub fn validate(&self, at: &str, errors: &mut Vec<ConfigError>) {
        check_writable_file(&self.path, &format!("{at}.path"), errors);
    }
}

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
            Err(err) => self.metrics.error(&format!("reopening its file {why}"), &format!("{err:#}")),
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
                Err(err) => self.metrics.error(&format!("checking {}", self.path.display()), &err),
            }
        }
        self.file.write_all(lines).await?;
        self.file.flush().await
    }

    async fn reopen(&mut self) {
        self.reopen_because("on request").await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ack::BatchStatus;
    use crate::sinks::testing::{self, WAIT, event, finished};
    use serde_json::json;

    #[tokio::test]
    async fn a_line_with_lf_or_cr_is_written_as_one_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.log");
        let config = FileSinkConfig { path: path.clone() };
        let sink = testing::start(WAIT, move |ctx| run(config, ctx));
        let mut forged = event(json!({"message": "m"}));
        forged.set_line("e|first\nFORGED\r\nthird\r\n".into());
        let status = sink.send(vec![forged, event(json!({"n": 1}))]).await;
        assert_eq!(finished(status).await, BatchStatus::Delivered);
        sink.finish().await;
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "e|first#012FORGED#015#012third\n{\"n\":1}\n");
    }

    /// A file sink writing `out.log` in a directory of its own, checking the
    /// path every `check_every`.
    fn start(check_every: Duration) -> (testing::Running, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.log");
        (testing::start(WAIT, move |ctx| write_to(path, ctx, check_every)), dir)
    }

    fn line(text: &str) -> crate::event::Event {
        let mut event = event(json!({}));
        event.set_line(text.to_owned());
        event
    }

    async fn write(sink: &testing::Running, text: &str) {
        assert_eq!(finished(sink.send(vec![line(text)]).await).await, BatchStatus::Delivered);
    }

    fn read(dir: &tempfile::TempDir, name: &str) -> String {
        std::fs::read_to_string(dir.path().join(name)).unwrap()
    }

    #[tokio::test]
    async fn a_file_moved_away_or_deleted_is_followed_by_a_new_one_at_its_path() {
        let (sink, dir) = start(Duration::ZERO);
        write(&sink, "one").await;
        std::fs::rename(dir.path().join("out.log"), dir.path().join("out.log.1")).unwrap();
        write(&sink, "two").await;
        assert_eq!((read(&dir, "out.log.1"), read(&dir, "out.log")), ("one\n".into(), "two\n".into()));

        std::fs::remove_file(dir.path().join("out.log")).unwrap();
        write(&sink, "three").await;
        assert_eq!(read(&dir, "out.log"), "three\n", "created again");
        assert_eq!(sink.metrics.counts().errors, 0);
        sink.finish().await;
    }

    #[tokio::test]
    async fn asked_to_reopen_it_opens_the_path_again_at_once() {
        let (sink, dir) = start(Duration::from_secs(3600));
        write(&sink, "one").await;
        std::fs::rename(dir.path().join("out.log"), dir.path().join("out.log.1")).unwrap();
        write(&sink, "before the request").await;
        assert_eq!(read(&dir, "out.log.1"), "one\nbefore the request\n", "the path is checked at most hourly here");

        sink.reopen.request();
        write(&sink, "after").await;
        assert_eq!(read(&dir, "out.log"), "after\n");
        assert_eq!(read(&dir, "out.log.1"), "one\nbefore the request\n");
        sink.finish().await;
    }
}
