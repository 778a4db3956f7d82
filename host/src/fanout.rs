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
            delivered |= target.send(copy).await.is_ok();
        }
        if delivered { Ok(()) } else { Err(Closed) }
    }

    /// Send from a worker thread (outside the async runtime), blocking while a
    /// consumer is full.
    pub fn blocking_send(&self, batch: Batch) -> Result<(), Closed> {
        let mut delivered = self.targets.is_empty() || batch.is_empty();
        for (target, copy) in self.copies(batch) {
            delivered |= target.blocking_send(copy).is_ok();
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
