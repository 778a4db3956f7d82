//! What the sources' unit tests share: a source running with a context on a
//! channel, a real dead-letter writer in a scratch directory, and the test
//! as the only consumer, acknowledging (or failing) what it takes.

use super::SourceContext;
use crate::dead_letter::DeadLetter;
use crate::event::Batch;
use crate::fanout::Fanout;
use crate::metrics::{ComponentMetrics, Metrics};
use crate::sources::batcher::BatchConfig;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// How long a test waits for something that should happen at once.
pub const WAIT: Duration = Duration::from_secs(10);

/// How a source under test is set up.
#[derive(Debug, Clone)]
pub struct Harness {
    id: String,
    batch: BatchConfig,
    capacity: usize,
    data_dir: Option<PathBuf>,
}

impl Harness {
    /// The source `id`, with the default batches, room for 16 batches on its
    /// output and a data directory of its own.
    pub fn new(id: &str) -> Self {
        Harness { id: id.to_owned(), batch: BatchConfig::default(), capacity: 16, data_dir: None }
    }

    pub fn batch(self, max_events: usize, timeout: Duration) -> Self {
        Harness { batch: BatchConfig { max_events, timeout }, ..self }
    }

    /// Batches the output holds before the source waits.
    pub fn capacity(self, capacity: usize) -> Self {
        Harness { capacity, ..self }
    }

    /// A data directory that outlives the source (checkpoints across restarts).
    pub fn data_dir(self, dir: &Path) -> Self {
        Harness { data_dir: Some(dir.to_path_buf()), ..self }
    }

    /// Start the source `run`; its dead letter is `dead-letter.jsonl` in the data directory.
    pub fn start<F>(self, run: impl FnOnce(SourceContext) -> F) -> Running
    where
        F: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let scratch = tempfile::tempdir().unwrap();
        let data_dir = self.data_dir.unwrap_or_else(|| scratch.path().to_path_buf());
        let metrics = Metrics::default();
        let (tx, batches) = mpsc::channel(self.capacity);
        let (dead_letter, rejected) = DeadLetter::channel(metrics.component("dead_letter"));
        let writer =
            crate::dead_letter::run_writer(data_dir.join("dead-letter.jsonl"), rejected, metrics.component("dl"));
        let shutdown = CancellationToken::new();
        let ctx = SourceContext {
            id: self.id.as_str().into(),
            out: Fanout::new(vec![tx]),
            dead_letter,
            metrics: metrics.component(&self.id),
            shutdown: shutdown.clone(),
            data_dir: data_dir.clone(),
            batch: self.batch,
        };
        Running {
            batches,
            shutdown,
            metrics: metrics.component(&self.id),
            sizes: Vec::new(),
            data_dir,
            _scratch: scratch,
            source: tokio::spawn(run(ctx)),
            dead_letter: tokio::spawn(writer),
        }
    }
}

/// A source under test.
pub struct Running {
    pub batches: mpsc::Receiver<Batch>,
    pub shutdown: CancellationToken,
    pub metrics: Arc<ComponentMetrics>,
    /// The sizes of the batches taken so far.
    pub sizes: Vec<usize>,
    data_dir: PathBuf,
    _scratch: tempfile::TempDir,
    source: JoinHandle<anyhow::Result<()>>,
    dead_letter: JoinHandle<anyhow::Result<()>>,
}

/// What a source sent after the test stopped taking, and its dead letter.
#[derive(Debug)]
pub struct Stopped {
    pub rest: Vec<serde_json::Value>,
    pub dead: Vec<serde_json::Value>,
}

impl Running {
    /// The next batch, held by the test (unacknowledged until dropped);
    /// `None` once the source has ended.
    pub async fn batch(&mut self) -> Option<Batch> {
        let batch = tokio::time::timeout(WAIT, self.batches.recv()).await.expect("timed out waiting for a batch");
        if let Some(batch) = &batch {
            self.sizes.push(batch.len());
        }
        batch
    }

    /// The events of the next batch, which is acknowledged.
    pub async fn next(&mut self) -> Vec<serde_json::Value> {
        json(&self.batch().await.expect("the source ended early"))
    }

    /// The next `n` events, over as many batches as they come in; each
    /// batch is acknowledged, or failed first when `fail`.
    pub async fn receive(&mut self, n: usize, fail: bool) -> Vec<serde_json::Value> {
        let mut events = Vec::new();
        while events.len() < n {
            let batch = tokio::time::timeout(WAIT, self.batch())
                .await
                .unwrap_or_else(|_| panic!("timed out with {events:?}, waiting for {n} events"))
                .expect("the source ended early");
            if fail {
                batch.finaliser().expect("source batches are acknowledged").fail();
            }
            events.extend(json(&batch));
        }
        assert_eq!(events.len(), n, "{events:#?}");
        events
    }

    /// [`Self::receive`], acknowledging.
    pub async fn events(&mut self, n: usize) -> Vec<serde_json::Value> {
        self.receive(n, false).await
    }

    /// Stop the source and wait for it to end.
    pub async fn stop(self) -> Stopped {
        self.shutdown.cancel();
        self.finish().await
    }

    /// Wait for the source to end (its input ended, or it was stopped).
    pub async fn finish(mut self) -> Stopped {
        let mut rest = Vec::new();
        while let Some(batch) = self.batch().await {
            rest.extend(json(&batch));
        }
        tokio::time::timeout(WAIT, &mut self.source).await.expect("the source ends").unwrap().unwrap();
        self.dead_letter.await.unwrap().unwrap();
        let dead = std::fs::read_to_string(self.data_dir.join("dead-letter.jsonl")).unwrap_or_default();
        Stopped { rest, dead: dead.lines().map(|line| serde_json::from_str(line).unwrap()).collect() }
    }
}

/// A batch's events as JSON.
pub fn json(batch: &Batch) -> Vec<serde_json::Value> {
    batch.events.iter().map(|e| serde_json::from_str(e.json()).unwrap()).collect()
}

/// The `message` of each event, which must be text.
pub fn messages(events: &[serde_json::Value]) -> Vec<String> {
    events.iter().map(|e| e["message"].as_str().expect("a text message").to_owned()).collect()
}
