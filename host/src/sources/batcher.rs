//! Cutting a stream of records into batches: a batch goes when it holds
//! `max_events`, or `timeout` after its first record arrived, whichever comes
//! first — so throughput gets full batches and a trickle still has low latency.
//!
//! A batch also stands for the records that went to the dead letter while
//! it was filled: they share its acknowledgement, so that a reader learns
//! that its position passed them only once they are written.

use crate::ack::{BatchStatus, Finaliser};
use crate::event::{Batch, Event};
use serde::Deserialize;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::time::Instant;

/// How sources cut batches: at `max_events` events, or `timeout_ms` after the
/// first event of a batch arrived, whichever comes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BatchConfig {
    pub max_events: usize,
    #[serde(rename = "timeout_ms", deserialize_with = "millis")]
    pub timeout: Duration,
}

impl Default for BatchConfig {
    fn default() -> Self {
        BatchConfig { max_events: 128, timeout: Duration::from_millis(10) }
    }
}

fn millis<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    u64::deserialize(d).map(Duration::from_millis)
}

/// The batch being filled by one reader; `P` is the reader's position.
#[derive(Debug)]
pub(super) struct Batcher<P> {
    config: BatchConfig,
    events: Vec<Event>,
    due: Option<Instant>,
    /// Made with the batch's first record, not per event.
    acknowledgement: Option<(Finaliser, oneshot::Receiver<BatchStatus>)>,
    /// The position just past the batch's last record.
    end: Option<P>,
}

/// A batch cut, ready to send.
#[derive(Debug)]
pub(super) struct Cut<P> {
    pub batch: Batch,
    pub fate: oneshot::Receiver<BatchStatus>,
    pub end: P,
}

impl<P> Batcher<P> {
    pub fn new(config: BatchConfig) -> Self {
        Batcher { config, events: Vec::new(), due: None, acknowledgement: None, end: None }
    }

    /// When the batch must go although it is not full; `None` while empty.
    pub fn due(&self) -> Option<Instant> {
        self.due
    }

    /// Add an event that ends at `end`; whether the batch is now full.
    pub fn push(&mut self, event: Event, end: P) -> bool {
        self.events.push(event);
        self.record(end);
        self.events.len() >= self.config.max_events.max(1)
    }

    /// The acknowledgement of the batch, for a record that ends at `end` and
    /// goes elsewhere (the dead letter) instead of into the batch.
    pub fn share(&mut self, end: P) -> Finaliser {
        self.record(end);
        self.acknowledgement.get_or_insert_with(Finaliser::new).0.clone()
    }

    fn record(&mut self, end: P) {
        self.end = Some(end);
        self.due.get_or_insert_with(|| Instant::now() + self.config.timeout);
    }

    /// The batch so far, if any record came since the last cut.
    pub fn cut(&mut self) -> Option<Cut<P>> {
        self.due = None;
        let end = self.end.take()?;
        let (finaliser, fate) = self.acknowledgement.take().unwrap_or_else(Finaliser::new);
        let batch = Batch::with_finaliser(std::mem::take(&mut self.events), finaliser);
        Some(Cut { batch, fate, end })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn event(n: u32) -> Event {
        Event::from_json(format!(r#"{{"n":{n}}}"#))
    }

    #[test]
    fn a_batch_is_full_at_max_events_and_ends_at_its_last_record() {
        let mut batcher = Batcher::new(BatchConfig { max_events: 2, timeout: Duration::from_secs(1) });
        assert!(batcher.cut().is_none() && batcher.due().is_none(), "nothing to cut");
        assert!(!batcher.push(event(1), 10));
        assert!(batcher.due().is_some());
        assert!(batcher.push(event(2), 20), "full");
        let cut = batcher.cut().unwrap();
        assert_eq!((cut.batch.len(), cut.end), (2, 20));
        assert!(batcher.due().is_none());
    }

    #[test]
    fn a_record_sent_elsewhere_shares_the_acknowledgement_of_the_batch() {
        let mut batcher = Batcher::new(BatchConfig::default());
        let shared = batcher.share(5);
        let Cut { batch, mut fate, end } = batcher.cut().unwrap();
        assert_eq!((batch.len(), end), (0, 5), "a batch of no events still stands for the record");
        drop(batch);
        assert!(fate.try_recv().is_err(), "the shared record is not written yet");
        shared.fail();
        drop(shared);
        assert_eq!(fate.try_recv().unwrap(), BatchStatus::Failed);
    }
}
