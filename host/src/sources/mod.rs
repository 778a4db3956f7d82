//! Sources: where events come into the router.
//!
//! Each source kind has a config struct (its keys, with doc comments), a
//! `validate` that reports every problem with its key, a start that opens
//! what it reads from (binds its socket, loads its checkpoint), and a serving
//! loop that cuts batches and sends them on until shutdown. A source that needs
//! acknowledgements gives each batch a [`Finaliser`](crate::ack::Finaliser)
//! and advances its position (file offset, read window) only when its
//! batches are done.

pub mod batcher;
pub mod checkpoint;
pub mod decoding;
pub mod demo;
pub mod file;
pub mod lines;
pub mod stdin;
pub mod syslog;

use crate::config::BatchConfig;
use crate::dead_letter::DeadLetter;
use crate::event::Event;
use crate::fanout::Fanout;
use crate::metrics::ComponentMetrics;
use crate::validation::ConfigError;
use decoding::Decoding;
use serde::Deserialize;
use std::path::PathBuf;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// A `[sources.<id>]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SourceConfig {
    /// Tail files matching glob patterns.
    File(file::FileConfig),
    /// Read lines from standard input until it closes.
    Stdin(stdin::StdinConfig),
    /// Generate realistic sample agent events.
    Demo(demo::DemoConfig),
    /// Receive syslog messages over UDP, TCP or TLS.
    Syslog(syslog::SyslogSourceConfig),
}

/// The type names accepted in `type = "…"`, for error messages.
pub const TYPES: &[&str] = &["file", "stdin", "demo", "syslog"];

impl SourceConfig {
    /// The `type = "…"` this source was configured with.
    pub fn type_name(&self) -> &'static str {
        match self {
            SourceConfig::File(_) => "file",
            SourceConfig::Stdin(_) => "stdin",
            SourceConfig::Demo(_) => "demo",
            SourceConfig::Syslog(_) => "syslog",
        }
    }
}

/// What a running source is given.
#[derive(Debug, Clone)]
pub struct SourceContext {
    /// The source's id (its key under `[sources]`).
    pub id: Arc<str>,
    /// The components that read from this source.
    pub out: Fanout,
    /// Where events that cannot be turned into events go (oversized lines …).
    pub dead_letter: DeadLetter,
    pub metrics: Arc<ComponentMetrics>,
    /// Cancelled when the router stops: finish the current batch, wait (a
    /// bounded time) for outstanding acknowledgements, save position, return.
    pub shutdown: CancellationToken,
    /// The router's `data_dir`, for checkpoints.
    pub data_dir: PathBuf,
    pub batch: BatchConfig,
}

impl SourceContext {
    /// Send one event that could not become a normal one (a file or stdin
    /// line over the size limit) to the dead-letter output with `reason`, as
    /// evidence: it waits for room in a full dead letter rather than being
    /// dropped. (The syslog source reports runs of bad frames apart, as
    /// droppable parse errors.)
    pub async fn reject(&self, event: Event, reason: String) {
        self.metrics.received(1);
        self.dead_letter.send(&self.metrics, &crate::event::Batch::new(Vec::new()), vec![(event, reason)]).await;
    }
}

impl SourceConfig {
    /// What the machine says about this source now, as warnings (the config
    /// itself may be fine): a listen address another process holds.
    pub fn warnings(&self, at: &str) -> Vec<String> {
        match self {
            SourceConfig::Syslog(config) if config.address_in_use() => vec![format!(
                "{at}.address: {} ({}) is in use by another process now; `sluice run` would fail to start",
                config.address,
                if config.mode == syslog::Mode::Udp { "udp" } else { "tcp" }
            )],
            _ => Vec::new(),
        }
    }

    /// Report every problem with this source's settings.
    pub fn validate(&self, at: &str, errors: &mut Vec<ConfigError>) {
        match self {
            SourceConfig::File(config) => config.validate(at, errors),
            SourceConfig::Stdin(config) => config.validate(at, errors),
            SourceConfig::Demo(_) => {}
            SourceConfig::Syslog(config) => config.validate(at, errors),
        }
    }

    /// Open what the source reads from (bind its socket, load its checkpoint
    /// and open its files), reading nothing yet. An error here means the
    /// source cannot run at all, so the router must not start without it.
    pub async fn start(self, ctx: SourceContext) -> anyhow::Result<Started> {
        Ok(Started(match self {
            SourceConfig::File(config) => Opened::File(file::start(config, ctx).await?),
            SourceConfig::Stdin(config) => Opened::Stdin(config, ctx),
            SourceConfig::Demo(config) => Opened::Demo(config, ctx),
            SourceConfig::Syslog(config) => Opened::Syslog(syslog::start(config, ctx).await?),
        }))
    }
}

/// A source that has opened what it reads from, ready to serve.
pub struct Started(Opened);

enum Opened {
    File(file::Started),
    Stdin(stdin::StdinConfig, SourceContext),
    Demo(demo::DemoConfig, SourceContext),
    Syslog(syslog::Started),
}

impl Started {
    /// Run until shutdown, or until the input ends (stdin closed, demo done).
    pub async fn serve(self) -> anyhow::Result<()> {
        match self.0 {
            Opened::File(started) => started.serve().await,
            Opened::Stdin(config, ctx) => stdin::run(config, ctx).await,
            Opened::Demo(config, ctx) => demo::run(config, ctx).await,
            Opened::Syslog(started) => started.serve().await,
        }
    }
}

/// Where an event's raw message came from, as it appears under `source` in
/// the event.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Origin<'a> {
    /// The source's id.
    pub id: &'a str,
    /// The file the line was read from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<&'a str>,
    /// The peer address (`ip:port`) for network sources.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<&'a str>,
}

/// The event for one raw message: `{"message": …, "source": {…}, "received_at": …}`.
/// Plugins (such as `agent-event`) parse the message; the router does not.
pub fn message_event(message: &str, origin: Origin<'_>, received_at: &str, decoding: Decoding) -> Event {
    #[derive(serde::Serialize)]
    #[serde(untagged)]
    enum Message<'a> {
        Text(&'a str),
        Object(&'a serde_json::value::RawValue),
    }
    #[derive(serde::Serialize)]
    struct MessageEvent<'a> {
        message: Message<'a>,
        source: Origin<'a>,
        received_at: &'a str,
    }
    let decoded = match decoding.object(message) {
        Some(object) => Message::Object(object),
        None => Message::Text(message),
    };
    let json = serde_json::to_string(&MessageEvent { message: decoded, source: origin, received_at })
        .expect("an event of strings serialises");
    Event::from_json(json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_event_escapes_the_raw_text() {
        let origin = Origin { id: "agents", path: Some("/var/log/a.jsonl"), address: None };
        let event = message_event("{\"agent\":\"a\"}\t\u{1}", origin, "2026-11-26T00:00:00Z", Decoding::Text);
        let parsed: serde_json::Value = serde_json::from_str(event.json()).unwrap();
        assert_eq!(parsed["message"], "{\"agent\":\"a\"}\t\u{1}");
        assert_eq!(parsed["source"]["id"], "agents");
        assert_eq!(parsed["source"]["path"], "/var/log/a.jsonl");
        assert!(parsed["source"].get("address").is_none());
        let event = message_event("{\"agent\":\"a\"}", origin, "2026-11-26T00:00:00Z", Decoding::Json);
        let parsed: serde_json::Value = serde_json::from_str(event.json()).unwrap();
        assert_eq!(parsed["message"], serde_json::json!({"agent": "a"}), "decoded");
    }
}
