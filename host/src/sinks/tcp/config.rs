//! `[sinks.<id>]` with `type = "tcp"`: its keys and their checks.

use crate::validation::ConfigError;
use serde::Deserialize;

/// `[sinks.<id>]` with `type = "tcp"`:
///
/// ```toml
/// [sinks.forward]
/// type = "tcp"
/// inputs = ["agents"]
/// address = "collector.example:5170"
/// encoding = "message"
/// ```
///
/// Each event is one line, by the rule every line-oriented sink follows
/// ([`super::line`]): an LF inside it is written as the four characters
/// `#012` and a CR as `#015` (the escapes rsyslog shows), and CR/LF at its
/// end are dropped, so that one event is always exactly one line at the receiver.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TcpSinkConfig {
    /// The destination as `host:port`, such as `"collector.example:5170"` or
    /// `"[2001:db8::1]:5170"`; the name is resolved on each (re)connection.
    pub address: String,
    /// What each line holds: `"body"` (the default: the line a formatter
    /// plugin emitted, else the event JSON, as the `file` sink writes) or
    /// `"message"` (the event's top-level `message` string, unquoted and
    /// unescaped: the original payload a `syslog`, `file` or `stdin` source
    /// received, forwarded as it came). With `"message"`, an event without a
    /// string `message` goes to the dead-letter output with the reason.
    #[serde(default)]
    pub encoding: Encoding,
}

/// What a `tcp` sink writes for each event.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    /// The formatted line, else the event JSON.
    #[default]
    Body,
    /// The event's `message` field.
    Message,
}

impl TcpSinkConfig {
    /// Report every problem with these settings.
    pub fn validate(&self, at: &str, errors: &mut Vec<ConfigError>) {
        if !crate::validation::is_host_port(&self.address) {
            errors.push(ConfigError::new(
                format!("{at}.address"),
                format!("`{}` is not a host:port, such as collector.example:5170", self.address),
            ));
        }
    }
}
