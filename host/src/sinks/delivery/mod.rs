//! Delivery: what every sink that sends to a remote destination shares.
//!
//! A batch is let go (acknowledged to its source) only once the destination
//! has taken all of it; until then it is sent again after each failure,
//! with exponential backoff and jitter ([`retry`]), while the sink's inputs
//! wait, so a slow or dead destination slows its sources (or fills the
//! sink's buffer) instead of losing events. Delivery is at least once: a
//! batch retried after a failure part-way can arrive twice. Once the router
//! stops, a destination that is still down gets a grace period
//! (`shutdown_timeout_ms`), then the batches held are failed ([`abandon`]) so
//! their sources do not count them as sent.
//!
//! Two transports build on it: [`stream`] (TCP, TLS, UDP: the `syslog` and
//! `tcp` sinks) and [`http`] (the HTTP sinks).

pub mod fields;
pub mod http;
pub mod retry;
pub(crate) mod stream;

use super::SinkContext;
use crate::event::Batch;
use crate::internal_events::{ComponentError, InternalEvent};

/// Fail the batches `held` and every batch still queued, so that their
/// sources do not count them as delivered, and stop taking more.
pub(crate) async fn abandon(ctx: &mut SinkContext, held: impl IntoIterator<Item = Batch>, destination: &str) {
    let mut events = 0;
    for batch in held {
        events += batch.len();
        batch.fail();
    }
    ctx.input.close();
    while let Some(batch) = ctx.input.recv().await {
        events += batch.len();
        batch.fail();
    }
    ComponentError {
        what: &format!("gave up on {destination} as the router stops: {events} events were not sent"),
        error: &"the destination is unreachable",
    }
    .emit(&ctx.metrics);
}
