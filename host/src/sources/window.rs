//! The batches of one reader that are on their way and not yet accepted by
//! every sink (delivered, or durably buffered), oldest first.
//!
//! Their fates are taken in the order the batches were sent, so a reader
//! learns that its position passed a batch only once every earlier batch is
//! settled too: a position is a point in the input before which nothing is
//! still out.

use crate::ack::BatchStatus;
use std::collections::VecDeque;
use tokio::sync::oneshot;

#[derive(Debug)]
pub(super) struct Window<P> {
    sent: VecDeque<Sent<P>>,
}

#[derive(Debug)]
struct Sent<P> {
    end: P,
    events: usize,
    fate: oneshot::Receiver<BatchStatus>,
}

/// The fate of a batch of `events` events that ended at `end`.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Settled<P> {
    pub end: P,
    pub events: usize,
    pub status: BatchStatus,
}

impl<P> Window<P> {
    pub fn new() -> Self {
        Window { sent: VecDeque::new() }
    }

    pub fn push(&mut self, end: P, events: usize, fate: oneshot::Receiver<BatchStatus>) {
        self.sent.push_back(Sent { end, events, fate });
    }

    pub fn len(&self) -> usize {
        self.sent.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sent.is_empty()
    }

    /// The fate of the oldest batch, waiting for it; never ready while
    /// nothing is out. Cancel safe: nothing is taken until it is known.
    pub async fn oldest(&mut self) -> Settled<P> {
        let Some(front) = self.sent.front_mut() else { return std::future::pending().await };
        // A fate that can no longer be told (its finaliser vanished) is no delivery.
        let status = (&mut front.fate).await.unwrap_or(BatchStatus::Failed);
        self.pop(status)
    }

    /// The fate of the oldest batch if it is known already.
    pub fn try_oldest(&mut self) -> Option<Settled<P>> {
        let status = match self.sent.front_mut()?.fate.try_recv() {
            Ok(status) => status,
            Err(oneshot::error::TryRecvError::Empty) => return None,
            Err(oneshot::error::TryRecvError::Closed) => BatchStatus::Failed,
        };
        Some(self.pop(status))
    }

    fn pop(&mut self, status: BatchStatus) -> Settled<P> {
        let Sent { end, events, .. } = self.sent.pop_front().expect("the oldest batch was there");
        Settled { end, events, status }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ack::Finaliser;

    #[tokio::test]
    async fn fates_are_taken_in_the_order_the_batches_were_sent() {
        let mut window = Window::new();
        let (first, fate) = Finaliser::new();
        window.push(1, 10, fate);
        let (second, fate) = Finaliser::new();
        window.push(2, 20, fate);
        drop(second);
        assert_eq!(window.try_oldest(), None, "the second is done, but the first is still out");
        first.fail();
        drop(first);
        assert_eq!(window.oldest().await, Settled { end: 1, events: 10, status: BatchStatus::Failed });
        assert_eq!(window.try_oldest(), Some(Settled { end: 2, events: 20, status: BatchStatus::Delivered }));
        assert!(window.is_empty());
    }
}
