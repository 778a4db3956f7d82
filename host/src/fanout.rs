//! Delivery of one component's output batches to every component that lists it
//! as an input.
//!
//! Channels are bounded, so a slow consumer slows its producers instead of
//! growing memory. Each consumer gets its own copy of a batch; the last one
//! gets the original, so the common single-consumer case copies nothing.

use crate::event::Batch;
use tokio::sync::mpsc;

/// The senders to a component's consumers.
#[derive(Debug, Clone, Default)]
pub struct Fanout {
    targets: Vec<mpsc::Sender<Batch>>,
}

/// Every consumer has gone away; the topology is shutting down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closed;

impl Fanout {
    pub fn new(targets: Vec<mpsc::Sender<Batch>>) -> Self {
        Fanout { targets }
    }

    /// Send from async code, waiting while a consumer is full.
    pub async fn send(&self, batch: Batch) -> Result<(), Closed> {
        let mut delivered = self.targets.is_empty() || batch.is_empty();
        for (target, copy) in self.copies(batch) {
            delivered |= target.send(copy).await.map_err(|unsent| unsent.0.fail()).is_ok();
        }
        if delivered { Ok(()) } else { Err(Closed) }
    }

    /// Send from a worker thread (outside the async runtime), blocking while a
    /// consumer is full.
    pub fn blocking_send(&self, batch: Batch) -> Result<(), Closed> {
        let mut delivered = self.targets.is_empty() || batch.is_empty();
        for (target, copy) in self.copies(batch) {
            delivered |= target.blocking_send(copy).map_err(|unsent| unsent.0.fail()).is_ok();
        }
        if delivered { Ok(()) } else { Err(Closed) }
    }

    /// One copy of a non-empty batch per consumer; the last gets the original.
    fn copies(&self, batch: Batch) -> impl Iterator<Item = (&mpsc::Sender<Batch>, Batch)> + Send {
        let targets = if batch.is_empty() { &self.targets[..0] } else { &self.targets[..] };
        let last = targets.len().saturating_sub(1);
        let mut batch = Some(batch);
        targets.iter().enumerate().map(move |(i, target)| {
            let copy = if i == last { batch.take() } else { batch.clone() };
            (target, copy.expect("the original is taken only by the last consumer"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ack::{BatchStatus, Finaliser};
    use crate::event::Event;

    #[tokio::test]
    async fn every_consumer_gets_a_copy_and_the_source_hears_once_all_are_done() {
        let (tx1, mut rx1) = mpsc::channel(1);
        let (tx2, mut rx2) = mpsc::channel(1);
        let (finaliser, mut status) = Finaliser::new();
        let batch = Batch::with_finaliser(vec![Event::from_json("{}".into())], finaliser);
        Fanout::new(vec![tx1, tx2]).send(batch).await.unwrap();
        let (a, b) = (rx1.recv().await.unwrap(), rx2.recv().await.unwrap());
        assert_eq!((a.len(), b.len()), (1, 1));
        drop(a);
        assert!(status.try_recv().is_err(), "one consumer still holds the batch");
        drop(b);
        assert_eq!(status.try_recv().unwrap(), BatchStatus::Delivered);
    }

    #[tokio::test]
    async fn a_stopped_consumer_fails_the_batch() {
        let (tx1, mut rx1) = mpsc::channel(1);
        let (tx2, rx2) = mpsc::channel(1);
        drop(rx2);
        let (finaliser, mut status) = Finaliser::new();
        let batch = Batch::with_finaliser(vec![Event::from_json("{}".into())], finaliser);
        Fanout::new(vec![tx1, tx2]).send(batch).await.expect("one consumer is still there");
        drop(rx1.recv().await.unwrap());
        assert_eq!(status.try_recv().unwrap(), BatchStatus::Failed);
    }
}
