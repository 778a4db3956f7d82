//! Source `stdin`: one event per line of standard input, until it closes.
//!
//! Batches are cut at `batch.max_events` events, or `batch.timeout_ms` after
//! the first event of a batch, so that a slow trickle of lines (a person
//! typing, `tail -f | sluice`) still flows with low latency. Standard input
//! cannot be read again, so there is no position to keep. On shutdown an
//! unfinished last line is left out: it may be only the start of a line.

mod config;
#[cfg(test)]
mod tests;

pub use config::StdinConfig;

use super::decoding::Decoding;
use super::driver::{self, Next, Reader};
use super::lines::{Line, LineSplitter};
use super::{Kind, Origin, SourceContext, Started, message_event};
use crate::validation::ConfigError;
use anyhow::Context;
use std::collections::VecDeque;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncReadExt};

impl Kind for StdinConfig {
    fn validate(&self, at: &str, errors: &mut Vec<ConfigError>) {
        StdinConfig::validate(self, at, errors);
    }

    async fn start(self, ctx: SourceContext) -> anyhow::Result<Started> {
        let lines = Lines::new(tokio::io::stdin(), self.max_line_bytes, ctx.id.clone());
        Ok(Started::new(driver::run(lines, ctx)))
    }
}

/// The lines of a byte stream, as events.
struct Lines<R> {
    input: R,
    id: Arc<str>,
    max_line_bytes: usize,
    splitter: LineSplitter,
    buf: Vec<u8>,
    /// Lines cut and not yet taken, and when their bytes were read.
    lines: VecDeque<Line>,
    received_at: String,
    ended: bool,
}

impl<R: AsyncRead + Unpin + Send> Lines<R> {
    fn new(input: R, max_line_bytes: usize, id: Arc<str>) -> Self {
        Lines {
            input,
            id,
            max_line_bytes,
            splitter: LineSplitter::new(max_line_bytes, 0),
            buf: vec![0; 64 * 1024],
            lines: VecDeque::new(),
            received_at: String::new(),
            ended: false,
        }
    }

    /// A normal line is an event; an oversized one goes to the dead letter.
    fn record(&self, line: Line) -> Next<'_, ()> {
        let origin = Origin { id: &self.id, path: None, address: None };
        let event = message_event(&line.text, origin, &self.received_at, Decoding::Text);
        match line.oversized {
            None => Next::Event(event, ()),
            Some(len) => {
                let max = self.max_line_bytes;
                let reason = format!(
                    "line of {len} bytes on standard input exceeds max_line_bytes ({max}); only its first {max} \
                     bytes are kept"
                );
                Next::Rejected { event, reason, end: () }
            }
        }
    }
}

impl<R: AsyncRead + Unpin + Send> Reader for Lines<R> {
    type Position = ();

    async fn next(&mut self) -> Next<'_, ()> {
        loop {
            if let Some(line) = self.lines.pop_front() {
                return self.record(line);
            }
            if self.ended {
                return Next::End;
            }
            match self.input.read(&mut self.buf).await.context("reading standard input") {
                Ok(0) => {
                    self.lines.extend(self.splitter.finish());
                    self.ended = true;
                }
                Ok(n) => self.splitter.feed(&self.buf[..n], &mut self.lines),
                Err(err) => return Next::Failed(err),
            }
            self.received_at = crate::timestamp::now_rfc3339();
        }
    }
}
