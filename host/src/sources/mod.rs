//! Sources: where events come into the router.
//!
//! Each source kind is a folder shaped like its siblings: its config (its
//! keys, with doc comments, and a `validate` that reports every problem with
//! its key), a start that opens what it reads from (binds its socket, loads
//! its checkpoint), and a [`driver::Reader`] that turns its input into
//! records. The [`driver`] runs every reader the same way: batches, shutdown,
//! acknowledgements in order, the dead letter and the counters. A kind is
//! registered once, in [`kinds!`] below.

pub mod batcher;
pub mod decoding;
pub mod demo;
mod driver;
pub mod file;
pub mod lines;
mod malformed;
pub mod stdin;
pub mod syslog;
#[cfg(test)]
pub(crate) mod testing;
mod window;

use crate::dead_letter::DeadLetter;
use crate::event::Event;
use crate::fanout::Fanout;
use crate::metrics::ComponentMetrics;
use crate::sources::batcher::BatchConfig;
use crate::validation::ConfigError;
use decoding::Decoding;
use serde::Deserialize;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// What every source kind's config does.
trait Kind {
    /// Report every problem with these settings.
    fn validate(&self, at: &str, errors: &mut Vec<ConfigError>);

    /// What the machine says about this source now, as warnings (the config
    /// itself may be fine), such as a listen address another process holds.
    fn warnings(&self, _at: &str) -> Vec<String> {
        Vec::new()
    }

    /// Open what the source reads from, reading nothing yet.
    fn start(self, ctx: SourceContext) -> impl Future<Output = anyhow::Result<Started>> + Send;
}

/// The source kinds: the enum of `[sources.<id>]` tables, the `type = "…"`
/// names and the dispatch to each kind, from one list.
macro_rules! kinds {
    ($($(#[$doc:meta])* $variant:ident($config:ty) = $name:literal,)*) => {
        /// A `[sources.<id>]` table.
        #[derive(Debug, Clone, Deserialize)]
        #[serde(tag = "type")]
        pub enum SourceConfig {
            $($(#[$doc])* #[serde(rename = $name)] $variant($config),)*
        }

        /// The type names accepted in `type = "…"`, for error messages.
        pub const TYPES: &[&str] = &[$($name),*];

        impl SourceConfig {
            /// The `type = "…"` this source was configured with.
            pub fn type_name(&self) -> &'static str {
                match self {
                    $(SourceConfig::$variant(_) => $name,)*
                }
            }

            /// Report every problem with this source's settings.
            pub fn validate(&self, at: &str, errors: &mut Vec<ConfigError>) {
                match self {
                    $(SourceConfig::$variant(config) => config.validate(at, errors),)*
                }
            }

            /// What the machine says about this source now, as warnings.
            pub fn warnings(&self, at: &str) -> Vec<String> {
                match self {
                    $(SourceConfig::$variant(config) => config.warnings(at),)*
                }
            }

            /// Open what the source reads from (bind its socket, load its
            /// checkpoint and open its files), reading nothing yet. An error
            /// here means the source cannot run at all, so the router must
            /// not start without it.
            pub async fn start(self, ctx: SourceContext) -> anyhow::Result<Started> {
                match self {
                    $(SourceConfig::$variant(config) => config.start(ctx).await,)*
                }
            }
        }
    };
}

kinds! {
    /// Tail files matching glob patterns.
    File(file::FileConfig) = "file",
    /// Read lines from standard input until it closes.
    Stdin(stdin::StdinConfig) = "stdin",
    /// Generate realistic sample agent events.
    Demo(demo::DemoConfig) = "demo",
    /// Receive syslog messages over UDP, TCP or TLS.
    Syslog(syslog::SyslogSourceConfig) = "syslog",
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

/// A source that has opened what it reads from, ready to serve.
pub struct Started(Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send>>);

impl Started {
    fn new(serve: impl Future<Output = anyhow::Result<()>> + Send + 'static) -> Self {
        Started(Box::pin(serve))
    }

    /// Run until shutdown, or until the input ends (stdin closed, demo done).
    pub async fn serve(self) -> anyhow::Result<()> {
        self.0.await
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
    fn every_kind_has_its_type_name() {
        for name in TYPES {
            let config = match *name {
                "file" => "include = [\"/var/log/*.log\"]",
                "syslog" => "mode = \"udp\"\naddress = \"127.0.0.1:0\"",
                _ => "",
            };
            let source: SourceConfig = toml::from_str(&format!("type = \"{name}\"\n{config}")).unwrap();
            assert_eq!(source.type_name(), *name);
        }
    }

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
