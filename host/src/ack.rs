//! End-to-end acknowledgement of batches.
//!
//! A source gives each batch a [`Finaliser`]; every copy of the batch (one per
//! sink after fan-out, parts split off to the dead-letter output) holds a clone.
//! A sink drops its copy once the events are delivered or durably buffered, or
//! marks it failed first. When the last copy is gone the source learns the
//! batch's fate and may advance its checkpoint. Dropping on purpose and
//! dead-lettering count as done: neither is a loss.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::oneshot;

/// The fate of a batch, once every copy of it is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchStatus {
    /// Every destination accepted its events.
    Delivered,
    /// At least one destination failed to accept them.
    Failed,
}

/// Shared handle held by every copy of a batch.
#[derive(Debug, Clone)]
pub struct Finaliser(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    failed: AtomicBool,
    notify: std::sync::Mutex<Option<oneshot::Sender<BatchStatus>>>,
}

impl Finaliser {
    /// A finaliser and the receiver its source waits on.
    pub fn new() -> (Finaliser, oneshot::Receiver<BatchStatus>) {
        let (tx, rx) = oneshot::channel();
        let inner = Inner { failed: AtomicBool::new(false), notify: std::sync::Mutex::new(Some(tx)) };
        (Finaliser(Arc::new(inner)), rx)
    }

    /// Record that a destination could not accept this batch.
    pub fn fail(&self) {
        self.0.failed.store(true, Ordering::Release);
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        let status = if self.failed.load(Ordering::Acquire) { BatchStatus::Failed } else { BatchStatus::Delivered };
        if let Some(tx) = self.notify.get_mut().ok().and_then(Option::take) {
            // The source may have stopped waiting (shutdown timeout): nothing to tell.
            let _ = tx.send(status);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivered_only_when_every_copy_is_dropped() {
        let (finaliser, mut rx) = Finaliser::new();
        let copy = finaliser.clone();
        drop(finaliser);
        assert!(rx.try_recv().is_err(), "one copy is still held");
        drop(copy);
        assert_eq!(rx.try_recv().unwrap(), BatchStatus::Delivered);
    }

    #[test]
    fn one_failed_copy_fails_the_batch() {
        let (finaliser, mut rx) = Finaliser::new();
        let copy = finaliser.clone();
        copy.fail();
        drop(copy);
        drop(finaliser);
        assert_eq!(rx.try_recv().unwrap(), BatchStatus::Failed);
    }
}
