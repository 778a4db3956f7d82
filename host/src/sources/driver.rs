//! The one loop that drives every source's reader.
//!
//! A source kind only reads: it turns its input (standard input, a syslog
//! connection, a UDP socket, files) into records, one at a time, each with
//! its position. The driver does the rest the same way for all of them:
//! it stops on shutdown, cuts batches ([`super::batcher`]), sends them on
//! (waiting while the pipeline is full: that is the back-pressure that stops
//! the reader), tells the reader which positions are done, in order
//! ([`super::window`]), sends what cannot become an event to the dead
//! letter, and counts.
//!
//! The position is the reader's own type, so that a source whose input can
//! be read again (a file offset, a Kafka offset, a request waiting for its
//! response) learns when to move on, and one that cannot uses `()`.

use super::SourceContext;
use super::batcher::{Batcher, Cut};
use super::malformed::{Malformed, Runs};
use super::window::{Settled, Window};
use crate::ack::BatchStatus;
use crate::event::Event;
use crate::internal_events::{ComponentError, EventsReceived, EventsSent, InternalEvent};
use crate::metrics::ComponentMetrics;
use futures_util::FutureExt;
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

/// What a reader found next in its input.
#[derive(Debug)]
pub enum Next<'a, P> {
    /// An event, and the position just past it.
    Event(Event, P),
    /// A record that cannot become an event (a line over the limit): it goes
    /// to the dead letter as evidence, with `reason`, and the position
    /// passes it only once it is written.
    Rejected { event: Event, reason: String, end: P },
    /// Input that a peer can send at will and that is no record: counted,
    /// and reported in runs ([`super::malformed`]).
    Malformed(Malformed<'a>),
    /// The records so far belong together: send them now. A reader whose
    /// positions are not one ordered sequence (several files) cuts where the
    /// sequence changes, since a batch is acknowledged by its last position.
    Cut,
    /// The input has ended.
    End,
    /// The input cannot be read any more.
    Failed(anyhow::Error),
}

/// A source's input, read one record at a time.
pub trait Reader: Send {
    /// A point in the input before which every record was read; given back
    /// once the batches up to it are settled.
    type Position: Send;

    /// Batches that may be unacknowledged at once before the reader waits.
    /// Input that cannot be read again (a stream) reads ahead only so far,
    /// which holds a TCP sender back and bounds what a crash can lose.
    const WINDOW: usize = 8;

    /// How long the end waits for the batches still out, for their
    /// positions; zero when there is nothing to keep.
    const SETTLE_AT_END: Duration = Duration::ZERO;

    /// The next record. It must be cancel safe: the driver drops it when a
    /// batch is due, an acknowledgement comes or the router stops, and asks
    /// again.
    fn next(&mut self) -> impl Future<Output = Next<'_, Self::Position>> + Send;

    /// Every sink accepted the batch that ended at `end`, and every batch
    /// before it is settled.
    fn acknowledge(&mut self, end: Self::Position) {
        let _ = end;
    }

    /// A sink could not accept the batch of `events` events that ended at
    /// `end`. Input that cannot be read again can only report it.
    fn fail(&mut self, end: Self::Position, events: usize, metrics: &ComponentMetrics) {
        let _ = end;
        ComponentError {
            what: "delivering events read from a stream",
            error: &format!("{events} events were not accepted by every sink"),
        }
        .emit(metrics);
    }

    /// The reading is over and the acknowledgements are in: keep the
    /// positions.
    fn finish(self) -> impl Future<Output = anyhow::Result<()>> + Send
    where
        Self: Sized,
    {
        async { Ok(()) }
    }
}

/// Read `reader` until its input ends or the router stops, then send what is
/// batched and settle.
pub async fn run<R: Reader>(mut reader: R, ctx: SourceContext) -> anyhow::Result<()> {
    let mut driver = Driver { batcher: Batcher::new(ctx.batch), window: Window::new(), runs: Runs::new(&ctx), ctx };
    let read = driver.read(&mut reader).await;
    let settled = driver.finish(&mut reader).await;
    let finished = reader.finish().await;
    read.and(settled).and(finished)
}

struct Driver<P> {
    ctx: SourceContext,
    batcher: Batcher<P>,
    window: Window<P>,
    runs: Runs,
}

impl<P: Send> Driver<P> {
    async fn read<R: Reader<Position = P>>(&mut self, reader: &mut R) -> anyhow::Result<()> {
        loop {
            let due = match (self.batcher.due(), self.runs.due()) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            // A record already at hand is taken without setting up the
            // select's timer and waiters, which cost the syslog TCP path
            // about 6 % of its CPU when done for every record. Input that
            // keeps being ready still yields: tokio's budget makes a socket
            // read pending after a while.
            if self.ctx.shutdown.is_cancelled() {
                return Ok(());
            }
            let ready = reader.next().now_or_never();
            let next = match ready {
                Some(next) => next,
                None => tokio::select! {
                    biased;
                    () = self.ctx.shutdown.cancelled() => return Ok(()),
                    () = tokio::time::sleep_until(due.unwrap_or_else(Instant::now)), if due.is_some() => {
                        self.cut(reader).await?;
                        continue;
                    }
                    settled = self.window.oldest(), if !self.window.is_empty() => {
                        settle(reader, settled, &self.ctx.metrics);
                        continue;
                    }
                    next = reader.next() => next,
                },
            };
            match next {
                Next::Event(event, end) => {
                    self.runs.report();
                    if self.batcher.push(event, end) {
                        self.cut(reader).await?;
                    }
                }
                Next::Rejected { event, reason, end } => {
                    self.runs.report();
                    EventsReceived { count: 1 }.emit(&self.ctx.metrics);
                    let acknowledgement = Some(self.batcher.share(end));
                    self.ctx.dead_letter.send_record(&self.ctx.metrics, event, reason, acknowledgement).await;
                }
                Next::Malformed(malformed) => self.runs.add(malformed),
                Next::Cut => self.cut(reader).await?,
                Next::End => return Ok(()),
                Next::Failed(err) => return Err(err),
            }
        }
    }

    /// Send what is batched, waiting while the pipeline is full, then take
    /// the fates that are known, waiting while the window is over.
    async fn cut<R: Reader<Position = P>>(&mut self, reader: &mut R) -> anyhow::Result<()> {
        self.runs.report();
        let Some(Cut { batch, fate, end }) = self.batcher.cut() else { return Ok(()) };
        let events = batch.len();
        EventsReceived { count: events }.emit(&self.ctx.metrics);
        if self.ctx.out.send(batch).await.is_err() {
            anyhow::bail!("no component reads from source {} any more", self.ctx.id);
        }
        EventsSent { count: events }.emit(&self.ctx.metrics);
        self.window.push(end, events, fate);
        while let Some(settled) = self.window.try_oldest() {
            settle(reader, settled, &self.ctx.metrics);
        }
        while self.window.len() > R::WINDOW {
            let settled = self.window.oldest().await;
            settle(reader, settled, &self.ctx.metrics);
        }
        Ok(())
    }

    /// Send the last batch; then, with the outputs let go so that the
    /// stages downstream can end, wait (up to the reader's bound) for the
    /// batches still out.
    async fn finish<R: Reader<Position = P>>(mut self, reader: &mut R) -> anyhow::Result<()> {
        let cut = self.cut(reader).await;
        let Driver { ctx, mut window, runs, .. } = self;
        let SourceContext { out, dead_letter, metrics, id, .. } = ctx;
        drop((out, dead_letter, runs));
        let deadline = Instant::now() + R::SETTLE_AT_END;
        while !window.is_empty() {
            let Ok(settled) = tokio::time::timeout_at(deadline, window.oldest()).await else {
                if !R::SETTLE_AT_END.is_zero() {
                    tracing::warn!(source = %id, timeout_s = R::SETTLE_AT_END.as_secs(),
                        "gave up waiting for acknowledgements; the events not acknowledged are read again at the \
                         next start");
                }
                break;
            };
            settle(reader, settled, &metrics);
        }
        cut
    }
}

fn settle<R: Reader>(reader: &mut R, settled: Settled<R::Position>, metrics: &ComponentMetrics) {
    match settled.status {
        BatchStatus::Delivered => reader.acknowledge(settled.end),
        BatchStatus::Failed => reader.fail(settled.end, settled.events, metrics),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::testing::{Harness, WAIT, messages};
    use std::collections::VecDeque;
    use std::sync::{Arc, Mutex};
    use tokio::sync::mpsc::error::TryRecvError;

    /// A reader of scripted records whose positions are their numbers; it
    /// notes what it is told.
    struct Script {
        records: VecDeque<(u32, Option<&'static str>)>,
        told: Arc<Mutex<Vec<String>>>,
    }

    impl Script {
        fn new(records: impl IntoIterator<Item = (u32, Option<&'static str>)>) -> (Self, Arc<Mutex<Vec<String>>>) {
            let told = Arc::default();
            (Script { records: records.into_iter().collect(), told: Arc::clone(&told) }, told)
        }
    }

    impl Reader for Script {
        type Position = u32;
        const SETTLE_AT_END: Duration = WAIT;

        async fn next(&mut self) -> Next<'_, u32> {
            let Some((n, rejected)) = self.records.pop_front() else { return Next::End };
            let event = Event::from_json(format!(r#"{{"message":"{n}"}}"#));
            match rejected {
                None => Next::Event(event, n),
                Some(reason) => Next::Rejected { event, reason: reason.to_owned(), end: n },
            }
        }

        fn acknowledge(&mut self, end: u32) {
            self.told.lock().unwrap().push(format!("done {end}"));
        }

        fn fail(&mut self, end: u32, events: usize, _: &ComponentMetrics) {
            self.told.lock().unwrap().push(format!("failed {end} ({events})"));
        }
    }

    /// A stream (`()` positions) reads ahead of its acknowledgements only
    /// by its window.
    struct Stream(u32);

    impl Reader for Stream {
        type Position = ();

        async fn next(&mut self) -> Next<'_, ()> {
            let Some(left) = self.0.checked_sub(1) else { return Next::End };
            self.0 = left;
            Next::Event(Event::from_json(format!(r#"{{"n":{left}}}"#)), ())
        }
    }

    #[tokio::test]
    async fn a_reader_waits_when_its_window_of_unacknowledged_batches_is_full() {
        let window = Stream::WINDOW;
        let mut source = Harness::new("stream")
            .batch(1, Duration::from_secs(1))
            .capacity(2 * window)
            .start(move |ctx| run(Stream(window as u32 + 1), ctx));
        // The sink holds every batch: none is acknowledged.
        let mut held = Vec::new();
        for _ in 0..=window {
            held.push(source.batch().await.unwrap());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        let waiting = source.batches.try_recv().unwrap_err();
        assert_eq!(waiting, TryRecvError::Empty, "one batch past the window waits for an acknowledgement");

        held.remove(0); // delivered: the oldest is let go
        let metrics = source.metrics.clone();
        assert!(source.finish().await.rest.is_empty(), "the input has ended");
        drop(held);
        let counts = metrics.counts();
        assert_eq!((counts.sent, counts.errors), (window as u64 + 1, 0));
    }

    #[tokio::test]
    async fn positions_are_told_in_order_and_a_rejected_record_holds_its_batch_until_written() {
        let (script, told) = Script::new([(1, None), (2, Some("too long")), (3, None), (4, None), (5, None)]);
        let mut source = Harness::new("script").batch(3, Duration::from_millis(10)).start(|ctx| run(script, ctx));
        let first = source.batch().await.unwrap();
        let second = source.batch().await.unwrap();
        assert_eq!((first.len(), second.len()), (3, 1), "the rejected record is not in a batch");
        second.finaliser().unwrap().fail();
        drop(second);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(*told.lock().unwrap(), Vec::<String>::new(), "the first batch is still out");
        drop(first);
        let stopped = source.finish().await;
        assert_eq!(*told.lock().unwrap(), ["done 4", "failed 5 (1)"]);
        assert_eq!(messages(&stopped.dead.iter().map(|r| r["event"].clone()).collect::<Vec<_>>()), ["2"]);
        assert_eq!(stopped.dead[0]["reason"], "too long");
    }
}
