//! Cutting a stream of events into batches: a batch goes when it holds
//! `max_events`, or `timeout` after its first event arrived, whichever comes
//! first — so throughput gets full batches and a trickle still has low latency.

use super::SourceContext;
use crate::config::BatchConfig;
use crate::event::{Batch, Event};
use tokio::time::Instant;

/// The batch being filled by one reader (a connection, standard input …).
#[derive(Debug)]
pub struct Batcher {
    config: BatchConfig,
    events: Vec<Event>,
    due: Option<Instant>,
}

impl Batcher {
    pub fn new(config: BatchConfig) -> Self {
        Batcher { config, events: Vec::new(), due: None }
    }

    /// Add an event to the batch; sends the batch when it is full.
    pub async fn push(&mut self, event: Event, ctx: &SourceContext) -> anyhow::Result<()> {
        self.events.push(event);
        self.due.get_or_insert_with(|| Instant::now() + self.config.timeout);
        if self.events.len() >= self.config.max_events.max(1) {
            self.flush(ctx).await?;
        }
        Ok(())
    }

    /// When the batch must go although it is not full; `None` while empty.
    pub fn due(&self) -> Option<Instant> {
        self.due
    }

    /// Send what is batched, waiting while the pipeline is full (that wait is
    /// the back-pressure that stops the reader).
    pub async fn flush(&mut self, ctx: &SourceContext) -> anyhow::Result<()> {
        self.due = None;
        if self.events.is_empty() {
            return Ok(());
        }
        let events = std::mem::take(&mut self.events);
        let count = events.len();
        if ctx.out.send(Batch::new(events)).await.is_err() {
            anyhow::bail!("no component reads from source {} any more", ctx.id);
        }
        ctx.metrics.sent(count);
        Ok(())
    }
}
