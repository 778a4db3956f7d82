//! Source `file`: follows the files that match glob patterns, as `tail -F`
//! does ([`tail`]), and remembers across restarts how far each was
//! delivered ([`checkpoint`]).
//!
//! One reader per source takes its open files in turns, a few reads each,
//! polls them for new data every `poll_interval_ms` once none has more, and
//! rescans the globs every `glob_interval_ms`. The [driver](super::driver)
//! batches the lines; a turn's lines are cut into batches of their own, so
//! that each batch is acknowledged by one file's offset, and a file's
//! checkpoint advances only over batches that every destination accepted,
//! in order: a crash or a failed delivery means reading again, never a loss.

mod checkpoint;
mod config;
mod tail;
#[cfg(test)]
mod tests;

pub use config::{FileConfig, ReadFrom};

use super::decoding::Decoding;
use super::driver::{self, Next, Reader};
use super::lines::Line;
use super::{Kind, Origin, SourceContext, Started, message_event};
use crate::internal_events::{ComponentError, InternalEvent};
use crate::metrics::ComponentMetrics;
use crate::validation::ConfigError;
use anyhow::Context;
use checkpoint::{CheckpointFile, Saver};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;
use tail::{Found, Read, Reading, Source, Tail};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// Reads of one file before the others get their turn.
const READS_PER_TURN: usize = 16;
/// How long shutdown waits for outstanding acknowledgements.
const ACK_TIMEOUT: Duration = Duration::from_secs(10);

impl Kind for FileConfig {
    fn validate(&self, at: &str, errors: &mut Vec<ConfigError>) {
        FileConfig::validate(self, at, errors);
    }

    /// Load the checkpoint and open the files there are now, reading nothing yet.
    async fn start(self, ctx: SourceContext) -> anyhow::Result<Started> {
        let files = Files::start(self, &ctx).await?;
        Ok(Started::new(driver::run(files, ctx)))
    }
}

/// Follow the files until shutdown; see the module documentation.
#[cfg(test)]
async fn run(config: FileConfig, ctx: SourceContext) -> anyhow::Result<()> {
    driver::run(Files::start(config, &ctx).await?, ctx).await
}

/// A line's place: the file as it was read (see [`tail::Tracked`]) and
/// the offset just past the line.
#[derive(Debug, Clone, Copy)]
struct Offset {
    key: u64,
    end: u64,
}

/// The files of one source as a reader.
struct Files {
    tail: Tail,
    saver: Saver,
    id: Arc<str>,
    metrics: Arc<ComponentMetrics>,
    decoding: Decoding,
    /// Lines read and not yet handed out, where they come from, and when
    /// they were read.
    lines: VecDeque<Line>,
    from: Source,
    received_at: String,
    /// The last lines of files just closed, handed out after `lines`.
    last_lines: Vec<(Source, Line)>,
    /// The lines handed out must be cut into a batch before others.
    cut: bool,
    /// The file having its turn, if any, and its reads so far.
    turn: Option<Turn>,
    reading: Option<Reading>,
    scratch: Vec<u8>,
    /// The next file to have a turn in this round.
    next_file: usize,
    /// A file of this round may have more to read at once.
    more: bool,
    scanning: Option<JoinHandle<Found>>,
    next_scan: Instant,
    idle_until: Option<Instant>,
}

struct Turn {
    file: usize,
    reads: usize,
    over: bool,
}

impl Files {
    async fn start(config: FileConfig, ctx: &SourceContext) -> anyhow::Result<Files> {
        let checkpoint = CheckpointFile::new(&ctx.data_dir, &ctx.id);
        let saved = {
            let checkpoint = checkpoint.clone();
            tokio::task::spawn_blocking(move || checkpoint.load()).await.context("loading the checkpoint")??
        };
        let decoding = config.decoding;
        let glob_interval = Duration::from_millis(config.glob_interval_ms);
        let tail = Tail::start(config, ctx.id.clone(), ctx.metrics.clone(), saved).await?;
        Ok(Files {
            tail,
            saver: Saver::new(checkpoint),
            id: ctx.id.clone(),
            metrics: ctx.metrics.clone(),
            decoding,
            lines: VecDeque::new(),
            from: Source { key: u64::MAX, path: "".into() },
            received_at: String::new(),
            last_lines: Vec::new(),
            cut: false,
            turn: None,
            reading: None,
            scratch: Vec::new(),
            next_file: 0,
            more: false,
            scanning: None,
            next_scan: Instant::now() + glob_interval,
            idle_until: None,
        })
    }

    /// A line as an event, or for the dead letter when it is too long.
    fn record(&self, line: Line) -> Next<'_, Offset> {
        let end = Offset { key: self.from.key, end: line.end };
        let origin = Origin { id: &self.id, path: Some(&self.from.path), address: None };
        let event = message_event(&line.text, origin, &self.received_at, self.decoding);
        match line.oversized {
            None => Next::Event(event, end),
            Some(len) => {
                let max = self.tail.config().max_line_bytes;
                let reason = format!(
                    "line of {len} bytes in {} exceeds max_line_bytes ({max}); only its first {max} bytes are kept",
                    self.from.path
                );
                Next::Rejected { event, reason, end }
            }
        }
    }

    /// Take in the read of the file having its turn.
    fn took(&mut self, buf: Vec<u8>, read: std::io::Result<tail::Chunk>) {
        let turn = self.turn.as_mut().expect("a read belongs to a turn");
        let file = &mut self.tail.files[turn.file];
        match file.took(&buf, read, &mut self.lines, &self.id, &self.metrics) {
            Read::Data => self.received_at = crate::timestamp::now_rfc3339(),
            Read::End | Read::Failed => turn.over = true,
            Read::Truncated => {
                turn.over = true;
                self.more = true;
            }
        }
        self.scratch = buf;
    }

    /// Between rounds: close the files that are done, save the checkpoint
    /// when due, wait for new data when no file had more, and rescan the
    /// globs when due. Cancel safe: each step can be taken again.
    async fn between_rounds(&mut self) -> anyhow::Result<()> {
        self.tail.close_finished(&mut self.last_lines);
        if self.saver.is_running() || (self.tail.is_dirty() && self.saver.is_due()) {
            if !self.saver.is_running() {
                self.saver.start(self.tail.positions()).await?;
            }
            if let Err(err) = self.saver.wait().await {
                self.tail.unsaved();
                ComponentError { what: "saving the checkpoint", error: &format!("{err:#}") }.emit(&self.metrics);
            }
        }
        if !self.more && self.last_lines.is_empty() {
            let poll = Duration::from_millis(self.tail.config().poll_interval_ms);
            tokio::time::sleep_until(*self.idle_until.get_or_insert_with(|| Instant::now() + poll)).await;
        }
        if Instant::now() >= self.next_scan {
            let scanning = self.scanning.get_or_insert_with(|| self.tail.scan());
            let found = scanning.await;
            self.scanning = None;
            match found {
                Ok(found) => self.tail.found(found, &mut HashMap::new(), false),
                Err(err) => ComponentError { what: "looking for files", error: &err }.emit(&self.metrics),
            }
            self.next_scan = Instant::now() + Duration::from_millis(self.tail.config().glob_interval_ms);
        }
        self.idle_until = None;
        self.next_file = 0;
        self.more = false;
        Ok(())
    }
}

impl Reader for Files {
    type Position = Offset;

    /// A file can be read again: how much is on its way is bounded by the
    /// pipeline alone.
    const WINDOW: usize = usize::MAX;
    const SETTLE_AT_END: Duration = ACK_TIMEOUT;

    async fn next(&mut self) -> Next<'_, Offset> {
        loop {
            if let Some(line) = self.lines.pop_front() {
                return self.record(line);
            }
            if std::mem::take(&mut self.cut) {
                return Next::Cut;
            }
            if let Some((from, line)) = self.last_lines.pop() {
                self.from = from;
                self.received_at = crate::timestamp::now_rfc3339();
                self.lines.push_back(line);
                self.cut = true;
                continue;
            }
            if let Some(reading) = &mut self.reading {
                let read = reading.await;
                self.reading = None;
                match read {
                    Ok((buf, read)) => self.took(buf, read),
                    Err(err) => return Next::Failed(anyhow::Error::new(err).context("reading a file")),
                }
                continue;
            }
            if let Some(turn) = &mut self.turn {
                if turn.over {
                } else if turn.reads == READS_PER_TURN {
                    self.more = true;
                } else {
                    turn.reads += 1;
                    self.reading = Some(self.tail.files[turn.file].read(std::mem::take(&mut self.scratch)));
                    continue;
                }
                self.turn = None;
                self.cut = true;
                continue;
            }
            if let Some(file) = self.tail.files.get(self.next_file) {
                self.from = file.source();
                self.turn = Some(Turn { file: self.next_file, reads: 0, over: false });
                self.next_file += 1;
                continue;
            }
            if let Err(err) = self.between_rounds().await {
                return Next::Failed(err);
            }
        }
    }

    fn acknowledge(&mut self, end: Offset) {
        if let Some(file) = self.tail.file(end.key) {
            file.acknowledge(end.end);
        }
    }

    fn fail(&mut self, end: Offset, _events: usize, metrics: &ComponentMetrics) {
        if let Some(file) = self.tail.file(end.key) {
            file.fail(metrics);
        }
    }

    /// Save the positions the acknowledgements reached.
    async fn finish(mut self) -> anyhow::Result<()> {
        if let Err(err) = self.saver.wait().await {
            // The last save goes on to hold what this one did.
            self.tail.unsaved();
            ComponentError { what: "saving the checkpoint", error: &format!("{err:#}") }.emit(&self.metrics);
        }
        if self.tail.is_dirty() {
            self.saver.start(self.tail.positions()).await?;
            self.saver.wait().await?;
        }
        Ok(())
    }
}
