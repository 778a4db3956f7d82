//! Syslog on the wire: framing (RFC 6587), parsing and writing RFC 5424 and
//! RFC 3164, and the event fields a parsed message becomes.
//!
//! Framing is separate from format: `frame` cuts a TCP byte stream into
//! messages (octet counting or LF), `rfc5424`/`rfc3164` parse and write one
//! message, `message` holds the parsed parts and renders the event JSON that
//! the syslog source hands to plugins.

pub mod frame;
pub mod message;
pub mod rfc3164;
pub mod rfc5424;

pub use message::{Format, Message, SdElement, parse};

use serde::Deserialize;

/// The transport of a syslog source or sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// One message per datagram (RFC 5426).
    Udp,
    /// A stream of framed messages (RFC 6587).
    Tcp,
    /// The same stream inside TLS (RFC 5425).
    Tls,
}
