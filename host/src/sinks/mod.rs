//! Sinks: where events leave the router.
//!
//! Each sink kind has a config struct, a `validate`, and a `run` loop that
//! takes batches from its inputs, writes each event's body (the formatted
//! line a plugin emitted, else the event JSON), and then lets go of the batch
//! so its source learns it was delivered — or marks it failed first.

pub mod azure_monitor_logs;
pub mod buffer;
pub mod delivery;
pub mod elasticsearch;
pub mod file;
pub mod http;
pub mod line;
pub mod splunk_hec;
pub mod stdout;
pub mod syslog;
pub mod tcp;
#[cfg(test)]
mod testing;
pub mod webhook;

use crate::dead_letter::DeadLetter;
use crate::event::Batch;
use crate::internal_events::{ComponentError, EventsReceived, EventsSent, InternalEvent};
use crate::metrics::ComponentMetrics;
use crate::validation::ConfigError;
use serde::Deserialize;
use std::sync::Arc;
use tokio::io::AsyncWriteExt;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

/// Declares the sink kinds from one table, so that the config enum, the
/// names accepted in `type = "…"`, and the dispatch to each kind's
/// `validate` and `run` cannot disagree: a kind is registered by one line.
macro_rules! sink_kinds {
    ($($(#[doc = $doc:literal])* $name:literal => $variant:ident($module:ident::$config:ident),)*) => {
        /// A `[sinks.<id>]` table, less its `inputs`.
        #[derive(Debug, Clone, Deserialize)]
        #[serde(tag = "type")]
        pub enum SinkConfig {
            $($(#[doc = $doc])* #[serde(rename = $name)] $variant($module::config::$config),)*
        }

        /// The type names accepted in `type = "…"`, for error messages.
        pub const TYPES: &[&str] = &[$($name),*];

        impl SinkConfig {
            /// The `type = "…"` this sink was configured with.
            pub fn type_name(&self) -> &'static str {
                match self {
                    $(SinkConfig::$variant(_) => $name,)*
                }
            }

            /// Report every problem with this sink's settings.
            pub fn validate(&self, at: &str, errors: &mut Vec<ConfigError>) {
                match self {
                    $(SinkConfig::$variant(config) => config.validate(at, errors),)*
                }
            }

            /// Run until every input has closed and the last batch is written.
            pub async fn run(self, ctx: SinkContext) -> anyhow::Result<()> {
                match self {
                    $(SinkConfig::$variant(config) => $module::run(config, ctx).await,)*
                }
            }
        }
    };
}

sink_kinds! {
    /// Append one line per event to a file.
    "file" => File(file::FileSinkConfig),
    /// Send events to an HTTP endpoint in batches.
    "http" => Http(http::HttpSinkConfig),
    /// Print one line per event to standard output.
    "stdout" => Stdout(stdout::StdoutConfig),
    /// Send each event as a syslog message over UDP, TCP or TLS.
    "syslog" => Syslog(syslog::SyslogSinkConfig),
    /// Write one line per event to a TCP destination.
    "tcp" => Tcp(tcp::TcpSinkConfig),
    /// POST each event, signed, to a SOAR's webhook.
    "webhook" => Webhook(webhook::WebhookConfig),
    /// Send events to Splunk's HTTP Event Collector, optionally waiting
    /// for indexer acknowledgement.
    "splunk_hec" => SplunkHec(splunk_hec::SplunkHecConfig),
    /// Index events into Elasticsearch or OpenSearch with `_bulk`, each
    /// created once under its `event.id`.
    "elasticsearch" => Elasticsearch(elasticsearch::ElasticsearchSinkConfig),
    /// Send events to Microsoft Sentinel through the Azure Monitor Logs
    /// Ingestion API.
    "azure_monitor_logs" => AzureMonitorLogs(azure_monitor_logs::AzureMonitorLogsSinkConfig),
}

/// What a running sink is given.
#[derive(Debug)]
pub struct SinkContext {
    pub id: Arc<str>,
    /// Batches from every input, interleaved; each input's order is kept.
    pub input: mpsc::Receiver<Batch>,
    pub dead_letter: DeadLetter,
    pub metrics: Arc<ComponentMetrics>,
    /// Cancelled when the router stops. A sink that is retrying an
    /// unreachable destination gives up then (failing the batch, so its
    /// source does not count it as delivered) instead of holding shutdown.
    pub shutdown: CancellationToken,
    /// How long after `shutdown` a sink may keep retrying (`shutdown_timeout_ms`).
    pub shutdown_timeout: std::time::Duration,
    /// Changes when a sink that writes a file is to open it again (SIGHUP,
    /// after logrotate moved it); see [`ReopenFiles`].
    pub reopen: watch::Receiver<()>,
}

impl SinkContext {
    /// The retry timing of a sink that sends to a destination: the default
    /// backoff, and this router's `shutdown_timeout_ms` as the grace period.
    pub fn retry(&self) -> delivery::retry::Retry {
        delivery::retry::Retry { grace: self.shutdown_timeout, ..delivery::retry::Retry::DEFAULT }
    }
}

/// The topology's handle that asks every sink writing a file to open it
/// again, as logrotate's `postrotate` asks with SIGHUP.
#[derive(Debug, Clone)]
pub struct ReopenFiles(watch::Sender<()>);

impl ReopenFiles {
    pub fn new() -> Self {
        ReopenFiles(watch::Sender::new(()))
    }

    /// Ask every sink subscribed so far (a request while none is running
    /// has nothing to reopen).
    pub fn request(&self) {
        self.0.send_replace(());
    }

    /// What a sink watches.
    pub fn subscribe(&self) -> watch::Receiver<()> {
        self.0.subscribe()
    }
}

impl Default for ReopenFiles {
    fn default() -> Self {
        Self::new()
    }
}

/// Where [`write_lines`] writes.
pub trait LineOutput {
    /// Write one batch's lines and hand them to the OS.
    fn write_batch(&mut self, lines: &[u8]) -> impl Future<Output = std::io::Result<()>> + Send;

    /// Open the destination again, when asked to ([`SinkContext::reopen`]).
    fn reopen(&mut self) -> impl Future<Output = ()> + Send {
        async {}
    }
}

impl LineOutput for tokio::io::Stdout {
    async fn write_batch(&mut self, lines: &[u8]) -> std::io::Result<()> {
        self.write_all(lines).await?;
        self.flush().await
    }
}

/// Write each event's body as one line ([`line::push`]) to `out`, batch by
/// batch, until the inputs close. `what` names the destination in error messages.
pub async fn write_lines<O: LineOutput>(mut ctx: SinkContext, out: &mut O, what: &str) -> anyhow::Result<()> {
    let mut buf = Vec::with_capacity(64 * 1024);
    loop {
        let batch = tokio::select! {
            // A batch that came in with the request goes to the new file.
            biased;
            Ok(()) = ctx.reopen.changed() => {
                out.reopen().await;
                continue;
            }
            batch = ctx.input.recv() => match batch {
                Some(batch) => batch,
                None => break,
            },
        };
        EventsReceived { count: batch.len() }.emit(&ctx.metrics);
        buf.clear();
        for event in &batch.events {
            line::push_body(event, &mut buf);
        }
        // Handed to the OS before the batch is let go: a crash of sluice loses
        // nothing acknowledged; surviving power loss is the disk buffer's job.
        match out.write_batch(&buf).await {
            Ok(()) => EventsSent { count: batch.len() }.emit(&ctx.metrics),
            Err(err) => {
                batch.fail();
                ComponentError { what: &format!("writing to {what}"), error: &err }.emit(&ctx.metrics);
            }
        }
    }
    Ok(())
}
