//! What the sinks' unit tests share: a sink running on a channel, with a
//! real dead-letter writer in a scratch directory.

use super::delivery::retry::Retry;
use super::{ReopenFiles, SinkContext};
use crate::ack::{BatchStatus, Finaliser};
use crate::dead_letter::DeadLetter;
use crate::event::{Batch, Event};
use crate::metrics::{ComponentMetrics, Metrics};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Retry timing for tests of sinks that send to a destination: a fast
/// backoff and a short grace period.
pub const FAST: Retry =
    Retry { first: Duration::from_millis(10), max: Duration::from_millis(50), grace: Duration::from_millis(300) };

/// Wait, off the async runtime's threads, until `receiver` has `n` requests.
pub async fn requests(receiver: &Arc<receiver::Receiver>, n: usize) -> Vec<receiver::Received> {
    let receiver = receiver.clone();
    tokio::task::spawn_blocking(move || receiver.wait_for(WAIT, |got| got.len() >= n)).await.unwrap()
}

/// How long a test waits for something that should happen at once.
pub const WAIT: Duration = Duration::from_secs(10);

/// A sink under test.
pub struct Running {
    pub input: mpsc::Sender<Batch>,
    pub shutdown: CancellationToken,
    pub metrics: Arc<ComponentMetrics>,
    pub dir: tempfile::TempDir,
    pub sink: JoinHandle<anyhow::Result<()>>,
    pub dead_letter: JoinHandle<anyhow::Result<()>>,
    /// What SIGHUP does in the router.
    pub reopen: ReopenFiles,
}

/// Start the sink `run` with a context whose shutdown grace is `grace`.
pub fn start<F>(grace: Duration, run: impl FnOnce(SinkContext) -> F) -> Running
where
    F: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let dir = tempfile::tempdir().unwrap();
    let metrics = Metrics::default();
    let (input, rx) = mpsc::channel(4);
    let (dead_letter, rejected) = DeadLetter::channel(metrics.component("dead_letter"));
    let writer =
        crate::dead_letter::run_writer(dir.path().join("dead-letter.jsonl"), rejected, metrics.component("dl"));
    let shutdown = CancellationToken::new();
    let reopen = ReopenFiles::new();
    let ctx = SinkContext {
        id: "out".into(),
        input: rx,
        dead_letter,
        metrics: metrics.component("out"),
        shutdown: shutdown.clone(),
        shutdown_timeout: grace,
        reopen: reopen.subscribe(),
    };
    let sink = tokio::spawn(run(ctx));
    let dead_letter = tokio::spawn(writer);
    Running { input, shutdown, metrics: metrics.component("out"), dir, sink, dead_letter, reopen }
}

impl Running {
    /// Send a batch with an acknowledgement to wait on.
    pub async fn send(&self, events: Vec<Event>) -> oneshot::Receiver<BatchStatus> {
        let (finaliser, status) = Finaliser::new();
        self.input.send(Batch::with_finaliser(events, finaliser)).await.unwrap();
        status
    }

    /// Close the input, wait for the sink to end, and return the
    /// dead-letter records.
    pub async fn finish(self) -> Vec<serde_json::Value> {
        drop(self.input);
        tokio::time::timeout(WAIT, self.sink).await.expect("the sink ends").unwrap().unwrap();
        self.dead_letter.await.unwrap().unwrap();
        let dead = std::fs::read_to_string(self.dir.path().join("dead-letter.jsonl")).unwrap_or_default();
        dead.lines().map(|line| serde_json::from_str(line).unwrap()).collect()
    }
}

/// The fate of a batch, waiting at most [`WAIT`].
pub async fn finished(rx: oneshot::Receiver<BatchStatus>) -> BatchStatus {
    tokio::time::timeout(WAIT, rx).await.expect("the batch is finished").unwrap()
}

pub fn event(json: serde_json::Value) -> Event {
    Event::from_json(json.to_string())
}

pub mod receiver;
