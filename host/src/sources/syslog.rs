//! Source `syslog`: receives syslog messages over UDP, TCP or TLS.
//!
//! Each message is parsed (RFC 5424, RFC 3164, or kept raw as "unparsed")
//! into an event with the `syslog.*` fields, `source.address` (the peer) and
//! `received_at`. Streams are cut into messages by the framing of RFC 6587
//! ([`crate::syslog::frame`]); a UDP datagram is one message (RFC 5426).
//!
//! Batches are cut per connection (at `batch.max_events`, or `batch.timeout_ms`
//! after the first event), so each peer's order is kept, and each connection
//! stops reading while its batch waits for the pipeline: a slow pipeline
//! pushes back on the peers through TCP instead of filling memory. A message
//! over `max_message_bytes` or a frame that cannot be cut goes to the
//! dead-letter output with the reason; nothing a peer sends stops the source.
//! Bad frames in a row from one peer make one dead-letter record, with their
//! count and the first of them as a sample (written when a good message
//! comes, when the batch is cut, at most a second after the first of them,
//! or when the connection ends): tiny bad frames cannot be amplified into a
//! record each. Syslog has no
//! acknowledgements, so batches carry none.

mod stream;
mod udp;

use super::batcher::Batcher;
use super::decoding::Decoding;
use super::{Origin, SourceContext, message_event};
use crate::event::Event;
pub use crate::syslog::Mode;
use crate::syslog::frame::Framing;
use crate::tls::ServerTlsConfig;
use crate::validation::ConfigError;
use anyhow::Context;
use serde::Deserialize;
use std::net::SocketAddr;
use tokio::time::Instant;

/// `[sources.<id>]` with `type = "syslog"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyslogSourceConfig {
    /// The transport: `"udp"`, `"tcp"` or `"tls"`.
    pub mode: Mode,
    /// The `ip:port` to listen on, such as `"0.0.0.0:6514"` or `"[::]:514"`.
    pub address: String,
    /// How a TCP or TLS stream is cut into messages: `"auto"` (the default:
    /// decided per connection by its first frame), `"octet-counting"` or
    /// `"newline"`. Not used with UDP.
    pub framing: Option<Framing>,
    /// The longest message accepted, in bytes (default 65536). A longer one
    /// goes to the dead-letter output with its first `max_message_bytes` bytes.
    #[serde(default = "default_max_message_bytes")]
    pub max_message_bytes: usize,
    /// Connections open at once (TCP and TLS; default 1024). One more is
    /// closed as soon as it is accepted, and counted as an error.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// The socket receive buffer to ask for, in bytes (UDP; default 8 MiB).
    /// It holds datagrams while the pipeline is busy; the kernel caps it at
    /// `net.core.rmem_max`. Datagrams dropped because it was full are counted.
    pub receive_buffer_bytes: Option<usize>,
    /// Certificate and key (and, for mutual TLS, the CA that client
    /// certificates must chain to): required with `mode = "tls"`, refused
    /// otherwise. `tls = { cert = "server.pem", key = "server.key", client_ca = "clients.pem" }`.
    pub tls: Option<ServerTlsConfig>,
    /// `"text"` (the default) or `"json"`: a message that is a JSON object
    /// becomes the event's `message` as an object, parsed once here instead
    /// of by every plugin (see `sources::decoding`).
    #[serde(default)]
    pub decoding: Decoding,
}

fn default_max_message_bytes() -> usize {
    64 * 1024
}

fn default_max_connections() -> usize {
    1024
}

/// The longest a run of bad frames from one peer waits for its record: a
/// peer that sends nothing else gets one record per interval, not per frame.
const BAD_FRAMES_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// What a UDP source asks the kernel for when `receive_buffer_bytes` is not set.
const DEFAULT_RECEIVE_BUFFER_BYTES: usize = 8 * 1024 * 1024;

impl SyslogSourceConfig {
    /// Report every problem with these settings.
    /// Whether another process holds this source's address now. Not a config
    /// error (what holds a port at deploy time is unknown), but `validate`
    /// says so, since `run` would then fail to start.
    pub fn address_in_use(&self) -> bool {
        let Ok(address) = self.address.parse::<SocketAddr>() else { return false };
        let refused = match self.mode {
            Mode::Udp => std::net::UdpSocket::bind(address).err(),
            Mode::Tcp | Mode::Tls => std::net::TcpListener::bind(address).err(),
        };
        refused.is_some_and(|err| err.kind() == std::io::ErrorKind::AddrInUse)
    }

    pub fn validate(&self, at: &str, errors: &mut Vec<ConfigError>) {
        if let Err(err) = self.address.parse::<SocketAddr>() {
            errors.push(ConfigError::new(
                format!("{at}.address"),
                format!("`{}` is not an ip:port to listen on, such as 0.0.0.0:6514 ({err})", self.address),
            ));
        }
        if self.max_message_bytes == 0 {
            errors.push(ConfigError::new(format!("{at}.max_message_bytes"), "must be at least 1"));
        }
        if self.max_connections == 0 {
            errors.push(ConfigError::new(format!("{at}.max_connections"), "must be at least 1"));
        }
        if self.receive_buffer_bytes == Some(0) {
            errors.push(ConfigError::new(format!("{at}.receive_buffer_bytes"), "must be at least 1"));
        }
        match (self.mode, &self.tls) {
            (Mode::Tls, Some(tls)) => tls.validate(&format!("{at}.tls"), errors),
            (Mode::Tls, None) => errors.push(ConfigError::new(
                format!("{at}.tls"),
                "missing: mode \"tls\" needs tls = { cert = \"…\", key = \"…\" }",
            )),
            (_, Some(_)) => errors.push(ConfigError::new(format!("{at}.tls"), "only used with mode = \"tls\"")),
            (_, None) => {}
        }
        if self.mode == Mode::Udp {
            if self.framing.is_some() {
                errors.push(ConfigError::new(
                    format!("{at}.framing"),
                    "only used with mode \"tcp\" or \"tls\": a UDP datagram is one message",
                ));
            }
        } else if self.receive_buffer_bytes.is_some() {
            errors.push(ConfigError::new(format!("{at}.receive_buffer_bytes"), "only used with mode = \"udp\""));
        }
    }
}

/// Bind the socket (and load the TLS settings), reading nothing yet.
pub async fn start(config: SyslogSourceConfig, ctx: SourceContext) -> anyhow::Result<Started> {
    Ok(Started { listener: Listener::bind(config, &ctx.id).await?, ctx })
}

/// A syslog source with its socket bound, ready to serve.
pub struct Started {
    listener: Listener,
    ctx: SourceContext,
}

impl Started {
    /// Listen until shutdown.
    pub async fn serve(self) -> anyhow::Result<()> {
        self.listener.serve(self.ctx).await
    }
}

/// A bound socket, ready to serve: binding comes first so that the port is
/// known (and taken) before any peer is told to send.
struct Listener {
    socket: Socket,
    config: SyslogSourceConfig,
}

enum Socket {
    Udp(tokio::net::UdpSocket),
    Stream(tokio::net::TcpListener, Option<tokio_rustls::TlsAcceptor>),
}

impl Listener {
    async fn bind(config: SyslogSourceConfig, id: &str) -> anyhow::Result<Listener> {
        let address: SocketAddr =
            config.address.parse().with_context(|| format!("`{}` is not an ip:port", config.address))?;
        let socket = match config.mode {
            Mode::Udp => {
                let buffer = config.receive_buffer_bytes.unwrap_or(DEFAULT_RECEIVE_BUFFER_BYTES);
                Socket::Udp(udp::bind(address, buffer).with_context(|| format!("listening on udp {address}"))?)
            }
            Mode::Tcp | Mode::Tls => {
                let tls = match (&config.tls, config.mode) {
                    (Some(tls), Mode::Tls) => Some(tls.load().context("loading the TLS settings")?.into()),
                    (None, Mode::Tls) => anyhow::bail!("mode \"tls\" needs a `tls` table"),
                    _ => None,
                };
                let listener = tokio::net::TcpListener::bind(address)
                    .await
                    .with_context(|| format!("listening on tcp {address}"))?;
                Socket::Stream(listener, tls)
            }
        };
        let listener = Listener { socket, config };
        let local = listener.local_addr()?;
        tracing::info!(component = %id, mode = ?listener.config.mode, address = %local, "listening for syslog");
        Ok(listener)
    }

    fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        match &self.socket {
            Socket::Udp(socket) => socket.local_addr(),
            Socket::Stream(listener, _) => listener.local_addr(),
        }
        .context("reading the bound address")
    }

    async fn serve(self, ctx: SourceContext) -> anyhow::Result<()> {
        let config = self.config;
        match self.socket {
            Socket::Udp(socket) => udp::serve(socket, config.max_message_bytes, config.decoding, ctx).await,
            Socket::Stream(listener, tls) => {
                let settings = stream::Settings {
                    framing: config.framing.unwrap_or_default(),
                    max_message_bytes: config.max_message_bytes,
                    max_connections: config.max_connections,
                    decoding: config.decoding,
                };
                stream::serve(listener, tls, settings, ctx).await
            }
        }
    }
}

/// Turns what one connection (or the UDP socket) receives into events, in
/// batches, waiting while the pipeline is full.
struct Messages {
    ctx: SourceContext,
    batcher: Batcher,
    bad: Option<BadFrames>,
    decoding: Decoding,
}

/// Bad frames in a row from one peer, reported as one dead-letter record.
struct BadFrames {
    peer: String,
    /// The first of them, as an event, and what was wrong with it.
    sample: Event,
    reason: String,
    count: u64,
    /// When the record goes even if more bad frames keep coming.
    due: Instant,
}

impl Messages {
    fn new(ctx: SourceContext, decoding: Decoding) -> Self {
        Messages { batcher: Batcher::new(ctx.batch), ctx, bad: None, decoding }
    }

    /// When the batch being filled, or the record of bad frames, must go.
    fn due(&self) -> Option<Instant> {
        match (self.batcher.due(), self.bad.as_ref().map(|bad| bad.due)) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// One message from `peer` (`ip:port`).
    async fn message(&mut self, bytes: &[u8], peer: &str) -> anyhow::Result<()> {
        self.report_bad_frames();
        self.ctx.metrics.received(1);
        let received_at = crate::timestamp::now_rfc3339();
        let origin = Origin { id: &self.ctx.id, path: None, address: Some(peer) };
        let event = crate::syslog::parse(bytes).to_event(origin, &received_at, self.decoding);
        self.batcher.push(event, &self.ctx).await
    }

    /// Something from `peer` that is not a message (an oversized or broken
    /// frame). It is counted; the first of a run from one peer is kept, with
    /// `reason`, as the sample of the run's dead-letter record.
    fn reject(&mut self, head: &[u8], peer: &str, reason: String) {
        self.ctx.metrics.received(1);
        match &mut self.bad {
            Some(bad) if bad.peer == peer => {
                bad.count += 1;
                return;
            }
            Some(_) => self.report_bad_frames(),
            None => {}
        }
        let received_at = crate::timestamp::now_rfc3339();
        let origin = Origin { id: &self.ctx.id, path: None, address: Some(peer) };
        let sample = message_event(&String::from_utf8_lossy(head), origin, &received_at, Decoding::Text);
        let due = Instant::now() + BAD_FRAMES_EVERY.max(self.ctx.batch.timeout);
        self.bad = Some(BadFrames { peer: peer.to_owned(), sample, reason, count: 1, due });
    }

    /// Send the record of the bad frames so far, if any.
    fn report_bad_frames(&mut self) {
        let Some(BadFrames { sample, reason, count, .. }) = self.bad.take() else { return };
        let reason = match count {
            1 => reason,
            n => format!("{reason}; {} more bad frames followed from the same peer", n - 1),
        };
        self.ctx.dead_letter.send_parse_errors(&self.ctx.metrics, sample, reason, count);
    }

    async fn flush(&mut self) -> anyhow::Result<()> {
        self.report_bad_frames();
        self.batcher.flush(&self.ctx).await
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::config::BatchConfig;
    use crate::dead_letter::DeadLetter;
    use crate::event::Batch;
    use crate::fanout::Fanout;
    use crate::metrics::{ComponentMetrics, Metrics};
    use std::sync::Arc;
    use std::time::Duration;
    use tokio::sync::mpsc;
    use tokio::task::JoinHandle;
    use tokio_util::sync::CancellationToken;

    pub const WAIT: Duration = Duration::from_secs(10);

    /// A source listening on 127.0.0.1 with a port of its own.
    pub struct Running {
        pub address: SocketAddr,
        pub batches: mpsc::Receiver<Batch>,
        pub metrics: Arc<ComponentMetrics>,
        pub shutdown: CancellationToken,
        pub dir: tempfile::TempDir,
        source: JoinHandle<anyhow::Result<()>>,
        dead_letter: JoinHandle<anyhow::Result<()>>,
    }

    pub fn config(mode: &str, extra: &str) -> SyslogSourceConfig {
        toml::from_str(&format!("mode = \"{mode}\"\naddress = \"127.0.0.1:0\"\n{extra}")).unwrap()
    }

    pub async fn start(config: SyslogSourceConfig, batch: BatchConfig, capacity: usize) -> Running {
        let dir = tempfile::tempdir().unwrap();
        let metrics = Metrics::default();
        let (tx, batches) = mpsc::channel(capacity);
        let (dead_letter, rejected) = DeadLetter::channel(metrics.component("dead_letter"));
        let writer =
            crate::dead_letter::run_writer(dir.path().join("dead-letter.jsonl"), rejected, metrics.component("dl"));
        let shutdown = CancellationToken::new();
        let ctx = SourceContext {
            id: "net".into(),
            out: Fanout::new(vec![tx]),
            dead_letter,
            metrics: metrics.component("net"),
            shutdown: shutdown.clone(),
            data_dir: dir.path().to_path_buf(),
            batch,
        };
        let mut errors = Vec::new();
        config.validate("sources.net", &mut errors);
        assert_eq!(errors, []);
        let listener = Listener::bind(config, "net").await.unwrap();
        Running {
            address: listener.local_addr().unwrap(),
            batches,
            metrics: metrics.component("net"),
            shutdown,
            dir,
            source: tokio::spawn(listener.serve(ctx)),
            dead_letter: tokio::spawn(writer),
        }
    }

    impl Running {
        /// The events of the next batch, as JSON values.
        pub async fn next(&mut self) -> Vec<serde_json::Value> {
            let batch = tokio::time::timeout(WAIT, self.batches.recv()).await.expect("timed out waiting for a batch");
            let batch = batch.expect("the source ended early");
            batch.events.iter().map(|e| serde_json::from_str(e.json()).unwrap()).collect()
        }

        /// The next `n` events, over as many batches as they come in.
        pub async fn events(&mut self, n: usize) -> Vec<serde_json::Value> {
            let mut events = Vec::new();
            while events.len() < n {
                events.extend(self.next().await);
            }
            assert_eq!(events.len(), n, "{events:#?}");
            events
        }

        /// Stop the source and return the dead-letter records it wrote.
        pub async fn stop(mut self) -> Vec<serde_json::Value> {
            self.shutdown.cancel();
            tokio::time::timeout(WAIT, &mut self.source).await.expect("the source stops").unwrap().unwrap();
            let rest = tokio::time::timeout(WAIT, self.batches.recv()).await.expect("the output closes");
            assert!(rest.is_none(), "unexpected batch after the test's events: {rest:?}");
            self.dead_letter.await.unwrap().unwrap();
            let dead = std::fs::read_to_string(self.dir.path().join("dead-letter.jsonl")).unwrap_or_default();
            dead.lines().map(|line| serde_json::from_str(line).unwrap()).collect()
        }
    }

    fn problems(config: &str) -> Vec<String> {
        let config: SyslogSourceConfig = toml::from_str(config).unwrap();
        let mut errors = Vec::new();
        config.validate("sources.s", &mut errors);
        errors.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn config_defaults() {
        let config = config("tcp", "");
        assert_eq!(config.framing, None);
        assert_eq!(config.max_message_bytes, 65536);
        assert_eq!(config.max_connections, 1024);
        assert_eq!(config.receive_buffer_bytes, None);
        assert_eq!(config.tls, None);
        assert!(toml::from_str::<SyslogSourceConfig>("mode = \"tcp\"\naddress = \"0:1\"\nport = 1").is_err());
        assert!(toml::from_str::<SyslogSourceConfig>("mode = \"sctp\"\naddress = \"0:1\"").is_err());
        let framed: SyslogSourceConfig =
            toml::from_str("mode = \"tcp\"\naddress = \"0:1\"\nframing = \"octet-counting\"").unwrap();
        assert_eq!(framed.framing, Some(Framing::OctetCounting));
    }

    #[test]
    fn validation_reports_every_problem() {
        let errors = problems(
            "mode = \"udp\"\naddress = \"localhost\"\nframing = \"newline\"\nmax_message_bytes = 0\n\
             max_connections = 0\nreceive_buffer_bytes = 0\ntls = { cert = \"c.pem\", key = \"k.pem\" }",
        );
        assert_eq!(errors.len(), 6, "{errors:#?}");
        assert!(errors[0].starts_with("sources.s.address: `localhost` is not an ip:port to listen on"));
        assert_eq!(
            errors[1..],
            [
                "sources.s.max_message_bytes: must be at least 1",
                "sources.s.max_connections: must be at least 1",
                "sources.s.receive_buffer_bytes: must be at least 1",
                "sources.s.tls: only used with mode = \"tls\"",
                "sources.s.framing: only used with mode \"tcp\" or \"tls\": a UDP datagram is one message",
            ]
        );
    }

    #[test]
    fn tls_mode_needs_its_table_and_readable_files() {
        assert_eq!(
            problems("mode = \"tls\"\naddress = \"0.0.0.0:6514\""),
            ["sources.s.tls: missing: mode \"tls\" needs tls = { cert = \"…\", key = \"…\" }"]
        );
        let errors = problems(
            "mode = \"tls\"\naddress = \"0.0.0.0:6514\"\nreceive_buffer_bytes = 1\n\
             tls = { cert = \"/nonexistent/c.pem\", key = \"/nonexistent/k.pem\" }",
        );
        assert_eq!(errors.len(), 3, "{errors:#?}");
        assert!(errors[0].starts_with("sources.s.tls.cert: cannot read /nonexistent/c.pem"), "{errors:#?}");
        assert!(errors[1].starts_with("sources.s.tls.key: cannot read /nonexistent/k.pem"), "{errors:#?}");
        assert_eq!(errors[2], "sources.s.receive_buffer_bytes: only used with mode = \"udp\"");
    }
}
