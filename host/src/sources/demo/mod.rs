//! Source `demo`: realistic sample agent events, so `sluice demo` shows the
//! whole pipeline without any agent platform at hand.
//!
//! Events come as canonical agent-event JSON lines in the `message` field,
//! exactly as a file or syslog source would deliver them; [`generator`]
//! makes them. Without an interval they go as fast as the pipeline takes
//! them, in full batches; with one, each event is a batch of its own, so it
//! shows up when made.

mod config;
mod generator;
#[cfg(test)]
mod tests;

pub use config::DemoConfig;
pub use generator::{SCRIPT, generate};

use super::decoding::Decoding;
use super::driver::{self, Next, Reader};
use super::{Kind, Origin, SourceContext, Started, message_event};
use crate::event::Event;
use crate::metrics::ComponentMetrics;
use crate::validation::ConfigError;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

impl Kind for DemoConfig {
    fn validate(&self, _at: &str, _errors: &mut Vec<ConfigError>) {}

    async fn start(self, ctx: SourceContext) -> anyhow::Result<Started> {
        Ok(Started::new(run(self, ctx)))
    }
}

/// Generate `config.count` events and send them on, then end.
pub async fn run(config: DemoConfig, ctx: SourceContext) -> anyhow::Result<()> {
    let interval = Duration::from_millis(config.interval_ms);
    let per_batch = if interval.is_zero() { ctx.batch.max_events.max(1) as u64 } else { 1 };
    let generated = Generated {
        config,
        interval,
        per_batch,
        id: ctx.id.clone(),
        index: 0,
        ready: VecDeque::new(),
        cut: false,
        next_at: None,
    };
    driver::run(generated, ctx).await
}

/// The events to generate, a batch at a time.
struct Generated {
    config: DemoConfig,
    interval: Duration,
    per_batch: u64,
    id: Arc<str>,
    /// The index of the next event to generate.
    index: u64,
    /// The batch being handed out, and whether it still has to be cut.
    ready: VecDeque<Event>,
    cut: bool,
    /// When the next batch is made, with an interval.
    next_at: Option<Instant>,
}

impl Reader for Generated {
    type Position = ();

    /// Generated events can be made again, and nobody waits for them.
    const WINDOW: usize = usize::MAX;

    async fn next(&mut self) -> Next<'_, ()> {
        if let Some(event) = self.ready.pop_front() {
            return Next::Event(event, ());
        }
        if std::mem::take(&mut self.cut) {
            return Next::Cut;
        }
        if self.index >= self.config.count {
            return Next::End;
        }
        if let Some(at) = self.next_at {
            tokio::time::sleep_until(at).await;
        }
        if !self.interval.is_zero() {
            self.next_at = Some(Instant::now() + self.interval);
        }
        let end = self.config.count.min(self.index.saturating_add(self.per_batch));
        let received_at = crate::timestamp::now_rfc3339();
        let origin = Origin { id: &self.id, path: None, address: None };
        let events = (self.index..end)
            .map(|i| message_event(&generate(self.config.seed, i), origin, &received_at, Decoding::Text));
        self.ready.extend(events);
        self.index = end;
        self.cut = true;
        Next::Event(self.ready.pop_front().expect("a batch has an event"), ())
    }

    /// A sink reports its own failures; generated events are not kept.
    fn fail(&mut self, _end: (), _events: usize, _metrics: &ComponentMetrics) {}
}
