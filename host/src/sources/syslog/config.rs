//! The settings of a `syslog` source.

use crate::sources::decoding::Decoding;
use crate::syslog::Mode;
use crate::syslog::frame::Framing;
use crate::tls::ServerTlsConfig;
use crate::validation::ConfigError;
use serde::Deserialize;
use std::net::SocketAddr;

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

/// What a UDP source asks the kernel for when `receive_buffer_bytes` is not set.
pub(super) const DEFAULT_RECEIVE_BUFFER_BYTES: usize = 8 * 1024 * 1024;

impl SyslogSourceConfig {
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

    /// The warning `sluice validate` gives when the address is in use now.
    pub fn warnings(&self, at: &str) -> Vec<String> {
        if !self.address_in_use() {
            return Vec::new();
        }
        vec![format!(
            "{at}.address: {} ({}) is in use by another process now; `sluice run` would fail to start",
            self.address,
            if self.mode == Mode::Udp { "udp" } else { "tcp" }
        )]
    }

    /// Report every problem with these settings.
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
