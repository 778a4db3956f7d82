//! Source `stdin`: one event per line of standard input, until it closes.
//!
//! Batches are cut at `batch.max_events` events, or `batch.timeout_ms` after
//! the first event of a batch, so that a slow trickle of lines (a person
//! typing, `tail -f | sluice`) still flows with low latency. There is no
//! position to keep, so batches carry no acknowledgement.

use super::batcher::Batcher;
use super::decoding::Decoding;
use super::lines::{Line, LineSplitter};
use super::{Origin, SourceContext, message_event};
use crate::validation::ConfigError;
use anyhow::Context;
use serde::Deserialize;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::time::Instant;

/// `[sources.<id>]` with `type = "stdin"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StdinConfig {
    /// The longest line accepted, in bytes (default 1 MiB). A longer line goes
    /// to the dead-letter output with its first `max_line_bytes` bytes.
    #[serde(default = "super::file::default_max_line_bytes")]
    pub max_line_bytes: usize,
}

impl Default for StdinConfig {
    fn default() -> Self {
        StdinConfig { max_line_bytes: super::file::default_max_line_bytes() }
    }
}

impl StdinConfig {
    /// Report every problem with these settings.
    pub fn validate(&self, at: &str, errors: &mut Vec<ConfigError>) {
        if self.max_line_bytes == 0 {
            errors.push(ConfigError::new(format!("{at}.max_line_bytes"), "must be at least 1"));
        }
    }
}

/// Read standard input until it closes or the router stops.
pub async fn run(config: StdinConfig, ctx: SourceContext) -> anyhow::Result<()> {
    read_lines(tokio::io::stdin(), config.max_line_bytes, ctx).await
}

/// The source's loop over any reader. On shutdown an unfinished last line is
/// left out: it may be only the start of a line.
async fn read_lines<R: AsyncRead + Unpin>(
    mut input: R,
    max_line_bytes: usize,
    ctx: SourceContext,
) -> anyhow::Result<()> {
    let mut splitter = LineSplitter::new(max_line_bytes, 0);
    let mut batcher = Batcher::new(ctx.batch);
    let mut buf = vec![0; 64 * 1024];
    let mut lines = Vec::new();
    loop {
        tokio::select! {
            biased;
            () = ctx.shutdown.cancelled() => break,
            () = tokio::time::sleep_until(batcher.due().unwrap_or_else(Instant::now)), if batcher.due().is_some() => {
                batcher.flush(&ctx).await?;
            }
            read = input.read(&mut buf) => {
                let n = match read.context("reading standard input") {
                    Ok(n) => n,
                    Err(err) => {
                        batcher.flush(&ctx).await?;
                        return Err(err);
                    }
                };
                if n == 0 {
                    lines.extend(splitter.finish());
                    add_lines(&mut lines, max_line_bytes, &mut batcher, &ctx).await?;
                    break;
                }
                splitter.feed(&buf[..n], &mut lines);
                add_lines(&mut lines, max_line_bytes, &mut batcher, &ctx).await?;
            }
        }
    }
    batcher.flush(&ctx).await
}

/// Turn lines into events: normal ones are batched, oversized ones go to the
/// dead-letter output.
async fn add_lines(
    lines: &mut Vec<Line>,
    max_line_bytes: usize,
    batcher: &mut Batcher,
    ctx: &SourceContext,
) -> anyhow::Result<()> {
    let received_at = crate::timestamp::now_rfc3339();
    let origin = Origin { id: &ctx.id, path: None, address: None };
    for line in lines.drain(..) {
        let event = message_event(&line.text, origin, &received_at, Decoding::Text);
        match line.oversized {
            None => {
                ctx.metrics.received(1);
                batcher.push(event, ctx).await?;
            }
            Some(len) => {
                let reason = format!(
                    "line of {len} bytes on standard input exceeds max_line_bytes ({max_line_bytes}); only its first \
                     {max_line_bytes} bytes are kept"
                );
                ctx.reject(event, reason).await;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::BatchConfig;
    use crate::dead_letter::DeadLetter;
    use crate::event::{Batch, Event};
    use crate::fanout::Fanout;
    use crate::metrics::Metrics;
    use std::path::Path;
    use std::time::Duration;
    use tokio::io::AsyncWriteExt;
    use tokio::sync::mpsc;
    use tokio::task::JoinHandle;
    use tokio_util::sync::CancellationToken;

    const WAIT: Duration = Duration::from_secs(5);

    struct Running {
        batches: mpsc::Receiver<Batch>,
        shutdown: CancellationToken,
        source: JoinHandle<anyhow::Result<()>>,
        dead_letter: JoinHandle<anyhow::Result<()>>,
    }

    fn start(
        input: impl AsyncRead + Unpin + Send + 'static,
        max_line_bytes: usize,
        batch: BatchConfig,
        dir: &Path,
    ) -> Running {
        let metrics = Metrics::default();
        let (tx, batches) = mpsc::channel(16);
        let (dead_letter, rejected) = DeadLetter::channel(metrics.component("dead_letter"));
        let writer = crate::dead_letter::run_writer(dir.join("dead-letter.jsonl"), rejected, metrics.component("dl"));
        let shutdown = CancellationToken::new();
        let ctx = SourceContext {
            id: "stdin".into(),
            out: Fanout::new(vec![tx]),
            dead_letter,
            metrics: metrics.component("stdin"),
            shutdown: shutdown.clone(),
            data_dir: dir.to_path_buf(),
            batch,
        };
        Running {
            batches,
            shutdown,
            source: tokio::spawn(read_lines(input, max_line_bytes, ctx)),
            dead_letter: tokio::spawn(writer),
        }
    }

    fn messages(batch: &Batch) -> Vec<String> {
        let message = |event: &Event| {
            let json: serde_json::Value = serde_json::from_str(event.json()).unwrap();
            assert_eq!(json["source"], serde_json::json!({ "id": "stdin" }));
            json["message"].as_str().unwrap().to_owned()
        };
        batch.events.iter().map(message).collect()
    }

    impl Running {
        async fn next(&mut self) -> Option<Vec<String>> {
            let batch = tokio::time::timeout(WAIT, self.batches.recv()).await.expect("timed out waiting for a batch");
            batch.map(|b| messages(&b))
        }

        async fn finished(mut self) {
            assert_eq!(self.next().await, None, "no more batches");
            self.source.await.unwrap().unwrap();
            self.dead_letter.await.unwrap().unwrap();
        }
    }

    #[tokio::test]
    async fn cuts_batches_at_max_events_and_sends_the_rest_at_the_end_of_input() {
        let dir = tempfile::tempdir().unwrap();
        let input: &[u8] = b"1\n2\r\n3\n4\n5\n6\n7 has no newline";
        let batch = BatchConfig { max_events: 3, timeout: Duration::from_secs(60) };
        let mut source = start(input, 100, batch, dir.path());
        assert_eq!(source.next().await.unwrap(), ["1", "2", "3"]);
        assert_eq!(source.next().await.unwrap(), ["4", "5", "6"]);
        assert_eq!(source.next().await.unwrap(), ["7 has no newline"]);
        source.finished().await;
    }

    #[tokio::test]
    async fn a_partial_batch_goes_after_the_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let (mut writer, reader) = tokio::io::duplex(1024);
        let batch = BatchConfig { max_events: 100, timeout: Duration::from_millis(20) };
        let mut source = start(reader, 100, batch, dir.path());
        writer.write_all(b"a\nb\n").await.unwrap();
        // Input is still open: only the timeout can have cut this batch.
        assert_eq!(source.next().await.unwrap(), ["a", "b"]);
        writer.write_all(b"c\n").await.unwrap();
        assert_eq!(source.next().await.unwrap(), ["c"]);
        drop(writer);
        source.finished().await;
    }

    #[tokio::test]
    async fn stops_on_shutdown_with_input_still_open() {
        let dir = tempfile::tempdir().unwrap();
        let (mut writer, reader) = tokio::io::duplex(1024);
        let batch = BatchConfig { max_events: 100, timeout: Duration::from_secs(60) };
        let mut source = start(reader, 100, batch, dir.path());
        writer.write_all(b"kept\nunfinished").await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        source.shutdown.cancel();
        assert_eq!(source.next().await.unwrap(), ["kept"], "the batch so far is sent");
        source.finished().await;
    }

    #[tokio::test]
    async fn oversized_lines_go_to_the_dead_letter_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let input: &[u8] = b"short\nthis line is too long\nok\n";
        let mut source = start(input, 8, BatchConfig::default(), dir.path());
        assert_eq!(source.next().await.unwrap(), ["short", "ok"]);
        source.finished().await;
        let dead = std::fs::read_to_string(dir.path().join("dead-letter.jsonl")).unwrap();
        let record: serde_json::Value = serde_json::from_str(dead.trim()).unwrap();
        assert_eq!(record["event"]["message"], "this lin");
        assert_eq!(record["component"], "stdin");
        let reason = record["reason"].as_str().unwrap();
        assert!(reason.contains("21 bytes on standard input exceeds max_line_bytes (8)"), "{reason}");
    }

    #[test]
    fn config_defaults_and_validation() {
        let config: StdinConfig = toml::from_str("").unwrap();
        assert_eq!(config.max_line_bytes, 1048576);
        assert!(toml::from_str::<StdinConfig>("max_lines = 3").is_err());
        let mut errors = Vec::new();
        StdinConfig { max_line_bytes: 0 }.validate("sources.in", &mut errors);
        assert_eq!(errors, [ConfigError::new("sources.in.max_line_bytes", "must be at least 1")]);
    }
}
