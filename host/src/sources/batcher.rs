//! Cutting a stream of events into batches: a batch goes when it holds
//! `max_events`, or `timeout` after its first event arrived, whichever comes
//! first — so throughput gets full batches and a trickle still has low latency.
//!
//! A stream cannot be read again, so a reader reads ahead of its
//! acknowledgements only so far: once [`WINDOW`] of its batches are on their
//! way and not yet accepted by every sink (delivered, or durably buffered),
//! it waits for the oldest before it reads on. For TCP that holds the sender
//! back, and bounds what a crash can lose to the window.

use super::SourceContext;
use crate::ack::{BatchStatus, Finaliser};
use crate::config::BatchConfig;
use crate::event::{Batch, Event};
use std::collections::VecDeque;
use tokio::sync::oneshot;
use tokio::time::Instant;

/// Batches of one reader that may be unacknowledged at once.
const WINDOW: usize = 8;

/// The batch being filled by one reader (a connection, standard input …).
#[derive(Debug)]
pub struct Batcher {
    config: BatchConfig,
    events: Vec<Event>,
    due: Option<Instant>,
    /// The fates of the batches sent and not yet acknowledged, oldest first,
    /// with their sizes.
    unacknowledged: VecDeque<(usize, oneshot::Receiver<BatchStatus>)>,
}

impl Batcher {
    pub fn new(config: BatchConfig) -> Self {
        Batcher { config, events: Vec::new(), due: None, unacknowledged: VecDeque::new() }
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
        let (finaliser, fate) = Finaliser::new();
        if ctx.out.send(Batch::with_finaliser(events, finaliser)).await.is_err() {
            anyhow::bail!("no component reads from source {} any more", ctx.id);
        }
        ctx.metrics.sent(count);
        self.unacknowledged.push_back((count, fate));
        self.settle(ctx, WINDOW).await;
        Ok(())
    }

    /// Wait until at most `keep` batches are unacknowledged; reports batches
    /// that a sink could not take (a stream cannot send them again).
    async fn settle(&mut self, ctx: &SourceContext, keep: usize) {
        loop {
            let over = self.unacknowledged.len() > keep;
            let Some((count, fate)) = self.unacknowledged.front_mut() else { return };
            let status = if over {
                fate.await.ok()
            } else {
                match fate.try_recv() {
                    Err(oneshot::error::TryRecvError::Empty) => return,
                    result => result.ok(),
                }
            };
            if status != Some(BatchStatus::Delivered) {
                let lost = format!("{count} events were not accepted by every sink");
                ctx.metrics.error("delivering events read from a stream", &lost);
            }
            self.unacknowledged.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dead_letter::DeadLetter;
    use crate::fanout::Fanout;
    use crate::metrics::Metrics;
    use std::time::Duration;
    use tokio::sync::mpsc;

    #[tokio::test]
    async fn a_reader_waits_when_its_window_of_unacknowledged_batches_is_full() {
        let metrics = Metrics::default();
        let (tx, mut rx) = mpsc::channel(2 * WINDOW);
        let (dead_letter, _dead) = DeadLetter::channel(metrics.component("dead_letter"));
        let ctx = SourceContext {
            id: "stream".into(),
            out: Fanout::new(vec![tx]),
            dead_letter,
            metrics: metrics.component("stream"),
            shutdown: tokio_util::sync::CancellationToken::new(),
            data_dir: std::env::temp_dir(),
            batch: BatchConfig { max_events: 1, timeout: Duration::from_secs(1) },
        };
        let reader = tokio::spawn(async move {
            let mut batcher = Batcher::new(ctx.batch);
            for n in 0..=WINDOW {
                batcher.push(Event::from_json(format!(r#"{{"n":{n}}}"#)), &ctx).await.unwrap();
            }
            ctx.metrics.counts()
        });
        // The sink holds every batch: none is acknowledged.
        let mut held = Vec::new();
        for _ in 0..=WINDOW {
            held.push(tokio::time::timeout(Duration::from_secs(5), rx.recv()).await.unwrap().unwrap());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!reader.is_finished(), "one batch past the window waits for an acknowledgement");

        held.remove(0); // delivered: the oldest is let go
        let counts = tokio::time::timeout(Duration::from_secs(5), reader).await.unwrap().unwrap();
        assert_eq!((counts.sent, counts.errors), (WINDOW as u64 + 1, 0));
    }
}
