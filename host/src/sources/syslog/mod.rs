//! Source `syslog`: receives syslog messages over UDP, TCP or TLS.
//!
//! Each message is parsed (RFC 5424, RFC 3164, or kept raw as "unparsed")
//! into an event with the `syslog.*` fields, `source.address` (the peer) and
//! `received_at`. Streams are cut into messages by the framing of RFC 6587
//! ([`crate::syslog::frame`]); a UDP datagram is one message (RFC 5426).
//!
//! Each connection (and the UDP socket) is a reader of its own for the
//! [driver](super::driver): batches are cut per connection (at
//! `batch.max_events`, or `batch.timeout_ms` after the first event), so each
//! peer's order is kept, and each connection stops reading while its batch
//! waits for the pipeline: a slow pipeline pushes back on the peers through
//! TCP instead of filling memory. A message over `max_message_bytes` or a
//! frame that cannot be cut goes to the dead-letter output with the reason,
//! in runs per peer ([`super::malformed`]); nothing a peer sends stops the
//! source. Syslog cannot be asked to send again, so there is no position to
//! keep.

mod config;
mod stream;
#[cfg(test)]
mod tests;
mod udp;

pub use config::SyslogSourceConfig;

use super::decoding::Decoding;
use super::{Kind, Origin, SourceContext, Started};
use crate::event::Event;
use crate::syslog::Mode;
use crate::validation::ConfigError;
use anyhow::Context;
use std::net::SocketAddr;

impl Kind for SyslogSourceConfig {
    fn validate(&self, at: &str, errors: &mut Vec<ConfigError>) {
        SyslogSourceConfig::validate(self, at, errors);
    }

    fn warnings(&self, at: &str) -> Vec<String> {
        SyslogSourceConfig::warnings(self, at)
    }

    /// Bind the socket (and load the TLS settings), reading nothing yet.
    async fn start(self, ctx: SourceContext) -> anyhow::Result<Started> {
        let listener = Listener::bind(self, &ctx.id).await?;
        Ok(Started::new(listener.serve(ctx)))
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
                let buffer = config.receive_buffer_bytes.unwrap_or(config::DEFAULT_RECEIVE_BUFFER_BYTES);
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

/// The event for one message from `peer` (`ip:port`).
fn event(message: &[u8], id: &str, peer: &str, decoding: Decoding) -> Event {
    let received_at = crate::timestamp::now_rfc3339();
    let origin = Origin { id, path: None, address: Some(peer) };
    crate::syslog::parse(message).to_event(origin, &received_at, decoding)
}
