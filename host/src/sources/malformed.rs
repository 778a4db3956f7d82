//! Runs of malformed input from one peer (frames that cannot be cut, or
//! are too long), reported as one dead-letter record each.
//!
//! A peer can send such input at will, so it must not be amplified into a
//! record per frame: bad frames in a row from one peer make one record,
//! with their count and the first of them as a sample. The record goes
//! when good input comes, when the batch is cut, at most [`EVERY`] after
//! the first of the run, or when the reader ends; it is droppable (see
//! [`crate::dead_letter::Kind::ParseErrors`]), so a flood cannot stall the
//! source.

use super::decoding::Decoding;
use super::{Origin, SourceContext, message_event};
use crate::dead_letter::DeadLetter;
use crate::event::Event;
use crate::internal_events::{EventsReceived, InternalEvent};
use crate::metrics::ComponentMetrics;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// The longest a run waits for its record: a peer that sends nothing else
/// gets one record per interval, not per frame.
const EVERY: Duration = Duration::from_secs(1);

/// Input from `peer` that is not a record: its first bytes, and what is
/// wrong with it.
#[derive(Debug)]
pub struct Malformed<'a> {
    /// The peer's address, `ip:port`.
    pub peer: &'a str,
    pub head: &'a [u8],
    pub reason: String,
}

/// The runs of one reader, and where their records go.
#[derive(Debug)]
pub(super) struct Runs {
    id: Arc<str>,
    dead_letter: DeadLetter,
    metrics: Arc<ComponentMetrics>,
    /// A run lasts at least as long as a batch may wait.
    at_least: Duration,
    run: Option<Run>,
}

#[derive(Debug)]
struct Run {
    peer: String,
    /// The first of the run, as an event, and what was wrong with it.
    sample: Event,
    reason: String,
    count: u64,
    /// When the record goes even if more bad frames keep coming.
    due: Instant,
}

impl Runs {
    pub fn new(ctx: &SourceContext) -> Self {
        Runs {
            id: ctx.id.clone(),
            dead_letter: ctx.dead_letter.clone(),
            metrics: ctx.metrics.clone(),
            at_least: ctx.batch.timeout,
            run: None,
        }
    }

    /// When the record of the run so far must go.
    pub fn due(&self) -> Option<Instant> {
        self.run.as_ref().map(|run| run.due)
    }

    /// Count `malformed`; the first of a run is kept as its sample.
    pub fn add(&mut self, malformed: Malformed<'_>) {
        EventsReceived { count: 1 }.emit(&self.metrics);
        match &mut self.run {
            Some(run) if run.peer == malformed.peer => {
                run.count += 1;
                return;
            }
            Some(_) => self.report(),
            None => {}
        }
        let received_at = crate::timestamp::now_rfc3339();
        let origin = Origin { id: &self.id, path: None, address: Some(malformed.peer) };
        let sample = message_event(&String::from_utf8_lossy(malformed.head), origin, &received_at, Decoding::Text);
        let due = Instant::now() + EVERY.max(self.at_least);
        self.run = Some(Run { peer: malformed.peer.to_owned(), sample, reason: malformed.reason, count: 1, due });
    }

    /// Send the record of the run so far, if any.
    pub fn report(&mut self) {
        let Some(Run { sample, reason, count, .. }) = self.run.take() else { return };
        let reason = match count {
            1 => reason,
            n => format!("{reason}; {} more bad frames followed from the same peer", n - 1),
        };
        self.dead_letter.send_parse_errors(&self.metrics, sample, reason, count);
    }
}
