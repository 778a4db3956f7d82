//! `[sinks.<id>]` with `type = "syslog"`: its keys and their checks.

use crate::syslog::Mode;
use crate::syslog::frame::Framing;
use crate::tls::ClientTlsConfig;
use crate::validation::ConfigError;
use serde::Deserialize;

/// `[sinks.<id>]` with `type = "syslog"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyslogSinkConfig {
    /// The transport: `"udp"`, `"tcp"` or `"tls"`.
    pub mode: Mode,
    /// The destination as `host:port`, such as `"qradar.example:514"` or
    /// `"[2001:db8::1]:6514"`; the name is resolved on each (re)connection.
    pub address: String,
    /// The message format: `"rfc5424"` (the default) or `"rfc3164"`.
    #[serde(default)]
    pub format: SyslogFormat,
    /// How messages are delimited on a TCP or TLS stream: `"octet-counting"`
    /// (the default; RFC 5425 requires it for TLS) or `"newline"`. Not used
    /// with UDP, where a datagram is one message.
    pub framing: Option<Framing>,
    /// The facility, as a name (`"user"`, `"local4"` …) or a number 0–23
    /// (default `"user"`).
    pub facility: Option<Code>,
    /// The severity of events without `event.severity`, as a name (`"info"`,
    /// `"warning"` …) or a number 0–7 (default `"info"`).
    pub severity: Option<Code>,
    /// APP-NAME (RFC 3164: the TAG); default `"sluice"`.
    #[serde(default = "default_app_name")]
    pub app_name: String,
    /// HOSTNAME; default this machine's host name.
    pub hostname: Option<String>,
    /// With `mode = "tls"`: the CA to trust (default: the system's CA
    /// bundle), a client certificate and key for mutual TLS, and the name
    /// the server's certificate must carry (default: the host of `address`).
    /// `tls = { ca = "ca.pem", cert = "client.pem", key = "client.key", server_name = "siem" }`.
    pub tls: Option<ClientTlsConfig>,
}

/// Which RFC a syslog sink writes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SyslogFormat {
    #[default]
    Rfc5424,
    Rfc3164,
}

/// A facility or severity as written in the config: a name or a number.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Code {
    Number(i64),
    Name(String),
}

const FACILITIES: &[(&str, u8)] = &[
    ("kern", 0),
    ("user", 1),
    ("mail", 2),
    ("daemon", 3),
    ("auth", 4),
    ("syslog", 5),
    ("lpr", 6),
    ("news", 7),
    ("uucp", 8),
    ("cron", 9),
    ("authpriv", 10),
    ("ftp", 11),
    ("ntp", 12),
    ("security", 13),
    ("console", 14),
    ("solaris-cron", 15),
    ("local0", 16),
    ("local1", 17),
    ("local2", 18),
    ("local3", 19),
    ("local4", 20),
    ("local5", 21),
    ("local6", 22),
    ("local7", 23),
];

const SEVERITIES: &[(&str, u8)] = &[
    ("emerg", 0),
    ("emergency", 0),
    ("alert", 1),
    ("crit", 2),
    ("critical", 2),
    ("err", 3),
    ("error", 3),
    ("warning", 4),
    ("warn", 4),
    ("notice", 5),
    ("info", 6),
    ("informational", 6),
    ("debug", 7),
];

const USER: u8 = 1;
const INFO: u8 = 6;

fn default_app_name() -> String {
    "sluice".to_owned()
}

impl Code {
    /// The code, if it is a known name or a number up to `max`.
    fn resolve(&self, names: &[(&str, u8)], max: u8) -> Result<u8, String> {
        match self {
            Code::Number(n) => u8::try_from(*n).ok().filter(|n| *n <= max).ok_or_else(|| format!("must be 0–{max}")),
            Code::Name(name) => {
                let lower = name.to_ascii_lowercase();
                names.iter().find(|(known, _)| *known == lower).map(|(_, code)| *code).ok_or_else(|| {
                    let known: Vec<&str> = names.iter().map(|(known, _)| *known).collect();
                    format!("unknown name `{name}` (one of: {}; or a number 0–{max})", known.join(", "))
                })
            }
        }
    }
}

impl SyslogSinkConfig {
    /// Report every problem with these settings.
    pub fn validate(&self, at: &str, errors: &mut Vec<ConfigError>) {
        let mut error = |key: &str, message: String| errors.push(ConfigError::new(format!("{at}.{key}"), message));
        if !crate::validation::is_host_port(&self.address) {
            error("address", format!("`{}` is not a host:port, such as siem.example:6514", self.address));
        }
        if let Err(message) = self.facility() {
            error("facility", message);
        }
        if let Err(message) = self.severity() {
            error("severity", message);
        }
        match (self.mode, self.framing) {
            (Mode::Udp, Some(_)) => {
                error("framing", "only used with mode \"tcp\" or \"tls\": a UDP datagram is one message".into());
            }
            (_, Some(Framing::Auto)) => error("framing", "must be \"octet-counting\" or \"newline\"".into()),
            _ => {}
        }
        if self.app_name.is_empty() || self.app_name.len() > 48 || !self.app_name.bytes().all(printable) {
            error("app_name", "must be 1–48 printable ASCII characters without spaces (RFC 5424)".into());
        }
        if let Some(hostname) = &self.hostname
            && (hostname.is_empty() || hostname.len() > 255 || !hostname.bytes().all(printable))
        {
            error("hostname", "must be 1–255 printable ASCII characters without spaces (RFC 5424)".into());
        }
        match (self.mode, &self.tls) {
            (Mode::Tls, tls) => tls.clone().unwrap_or_default().validate(&format!("{at}.tls"), &self.address, errors),
            (_, Some(_)) => errors.push(ConfigError::new(format!("{at}.tls"), "only used with mode = \"tls\"")),
            (_, None) => {}
        }
    }

    pub(super) fn facility(&self) -> Result<u8, String> {
        self.facility.as_ref().map_or(Ok(USER), |code| code.resolve(FACILITIES, 23))
    }

    pub(super) fn severity(&self) -> Result<u8, String> {
        self.severity.as_ref().map_or(Ok(INFO), |code| code.resolve(SEVERITIES, 7))
    }
}

/// PRINTUSASCII of RFC 5424, the characters allowed in header fields.
pub(super) fn printable(b: u8) -> bool {
    (33..=126).contains(&b)
}
