//! Sink `syslog`: sends each event as a syslog message over UDP, TCP or TLS.
//!
//! The message body is the event's [`body`](crate::event::Event::body): the
//! line a formatter plugin emitted (CEF, LEEF …), else the event JSON. The
//! header comes from the settings, except:
//!
//! - TIMESTAMP is the event's `time` when it is RFC 3339 text (written in
//!   UTC with at most microseconds, as RFC 5424 allows), else the time of
//!   sending;
//! - SEVERITY follows the event's `event.severity` (the agent-event schema's
//!   0–10 scale, aligned with CEF's bands) when it has one:
//!
//!   | `event.severity` | syslog severity |
//!   |------------------|-----------------|
//!   | 0–1              | 6 informational |
//!   | 2–3              | 5 notice        |
//!   | 4–6              | 4 warning       |
//!   | 7–8              | 3 error         |
//!   | 9–10             | 2 critical      |
//!
//! A batch is let go (acknowledged) only once all of it was written and
//! flushed. On any failure the connection is dropped and the same batch is
//! sent again on a new one, after an exponential backoff with jitter; the
//! events wait meanwhile, bounded by the input channel, so a source slows
//! down instead of losing them. A retried batch can reach the destination
//! twice (at least once, never lost). When the router stops while the
//! destination is down, the sink gives up after a short grace period and
//! fails the batches it holds, so their sources do not count them as sent.

use super::SinkContext;
use super::delivery::retry::Retry;
use super::delivery::stream::{Destination, Encoded, deliver_with};
use crate::event::{Batch, Event};
use crate::syslog::Message;
use crate::syslog::Mode;
use crate::syslog::frame::Framing;
use crate::tls::ClientTlsConfig;
use crate::validation::ConfigError;
use anyhow::Context;
use serde::Deserialize;
use std::borrow::Cow;

/// The largest UDP payload (IPv4: 65535 less the IP and UDP headers).
const MAX_DATAGRAM_BYTES: usize = 65_507;

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

    fn facility(&self) -> Result<u8, String> {
        self.facility.as_ref().map_or(Ok(USER), |code| code.resolve(FACILITIES, 23))
    }

    fn severity(&self) -> Result<u8, String> {
        self.severity.as_ref().map_or(Ok(INFO), |code| code.resolve(SEVERITIES, 7))
    }
}

/// PRINTUSASCII of RFC 5424, the characters allowed in header fields.
fn printable(b: u8) -> bool {
    (33..=126).contains(&b)
}

/// Send batches until every input has closed (or the router stops while
/// the destination is down).
pub async fn run(config: SyslogSinkConfig, ctx: SinkContext) -> anyhow::Result<()> {
    let header = Header::new(&config).map_err(anyhow::Error::msg).context("reading the syslog settings")?;
    let destination = Destination::new(config.mode, &config.address, config.tls.as_ref())
        .context("preparing the syslog destination")?;
    let retry = Retry { grace: ctx.shutdown_timeout, ..Retry::DEFAULT };
    deliver(ctx, &header, &destination, retry).await
}

/// What every message of this sink has in its header.
#[derive(Debug)]
struct Header {
    format: SyslogFormat,
    /// `None` for UDP.
    framing: Option<Framing>,
    facility: u8,
    severity: u8,
    app_name: String,
    hostname: Option<String>,
}

impl Header {
    fn new(config: &SyslogSinkConfig) -> Result<Header, String> {
        Ok(Header {
            format: config.format,
            framing: (config.mode != Mode::Udp).then(|| config.framing.unwrap_or(Framing::OctetCounting)),
            facility: config.facility()?,
            severity: config.severity()?,
            app_name: config.app_name.clone(),
            hostname: config.hostname.clone().or_else(machine_hostname),
        })
    }

    /// The message for `event`; `now` is used when the event has no time.
    fn message<'e>(&'e self, event: &'e Event, now: &'e str) -> Message<'e> {
        let fields = EventHeader::read(event.json());
        Message {
            facility: Some(self.facility),
            severity: Some(fields.severity.map_or(self.severity, syslog_severity)),
            version: (self.format == SyslogFormat::Rfc5424).then_some(1),
            timestamp: Some(fields.time.map_or(Cow::Borrowed(now), Cow::Owned)),
            hostname: self.hostname.as_deref().map(Cow::Borrowed),
            app_name: Some(Cow::Borrowed(&self.app_name)),
            procid: None,
            msgid: None,
            structured_data: Vec::new(),
            msg: Cow::Borrowed(event.body()),
            format: match self.format {
                SyslogFormat::Rfc5424 => crate::syslog::Format::Rfc5424,
                SyslogFormat::Rfc3164 => crate::syslog::Format::Rfc3164,
            },
        }
    }

    /// Encode a batch into `out`: framed messages for a stream, else one
    /// range of `out.bytes` per datagram. Events that cannot be sent (a
    /// datagram over the UDP limit) are returned with the reason.
    fn encode(&self, batch: &Batch, out: &mut Encoded) -> Vec<(Event, String)> {
        out.bytes.clear();
        out.datagrams.clear();
        out.events = 0;
        let now = crate::timestamp::now_rfc3339();
        let mut scratch = Vec::new();
        let mut rejected = Vec::new();
        for event in &batch.events {
            let message = self.message(event, &now);
            scratch.clear();
            match self.format {
                SyslogFormat::Rfc5424 => crate::syslog::rfc5424::encode(&message, &mut scratch),
                SyslogFormat::Rfc3164 => crate::syslog::rfc3164::encode(&message, &mut scratch),
            }
            match self.framing {
                // One line per event, by the rule of every line-oriented sink.
                Some(Framing::Newline) => super::line::push(&scratch, &mut out.bytes),
                Some(framing) => crate::syslog::frame::encode(framing, &scratch, &mut out.bytes),
                None if scratch.len() > MAX_DATAGRAM_BYTES => {
                    let reason = format!(
                        "syslog message of {} bytes exceeds the largest UDP datagram ({MAX_DATAGRAM_BYTES} bytes); \
                         use mode \"tcp\" or \"tls\" for messages this long",
                        scratch.len()
                    );
                    rejected.push((event.clone(), reason));
                    continue;
                }
                None => {
                    let start = out.bytes.len();
                    out.bytes.extend_from_slice(&scratch);
                    out.datagrams.push(start..out.bytes.len());
                }
            }
            out.events += 1;
        }
        rejected
    }
}

/// The parts of an event's JSON that go into the header.
#[derive(Debug, Default, PartialEq)]
struct EventHeader {
    /// `time`, normalised for RFC 5424.
    time: Option<String>,
    /// `event.severity`, 0–10.
    severity: Option<u8>,
}

impl EventHeader {
    /// Read `time` and `event.severity`, ignoring whatever is not in the
    /// expected shape (an event is not bound to any schema).
    fn read(json: &str) -> EventHeader {
        #[derive(Deserialize)]
        struct Fields<'a> {
            #[serde(borrow, default)]
            time: Option<&'a serde_json::value::RawValue>,
            #[serde(borrow, default)]
            event: Option<&'a serde_json::value::RawValue>,
        }
        #[derive(Deserialize)]
        struct EventPart {
            severity: Option<serde_json::Number>,
        }
        let Ok(fields) = serde_json::from_str::<Fields<'_>>(json) else { return EventHeader::default() };
        let time = fields
            .time
            .and_then(|raw| serde_json::from_str::<Cow<'_, str>>(raw.get()).ok())
            .and_then(|text| time::OffsetDateTime::parse(&text, &time::format_description::well_known::Rfc3339).ok())
            .map(crate::timestamp::format_rfc3339);
        let severity = fields
            .event
            .and_then(|raw| serde_json::from_str::<EventPart>(raw.get()).ok())
            .and_then(|part| part.severity?.as_f64())
            .filter(|s| s.is_finite())
            .map(|s| s.round().clamp(0.0, 10.0) as u8);
        EventHeader { time, severity }
    }
}

/// The syslog severity for an agent-event severity (the module's table).
fn syslog_severity(event_severity: u8) -> u8 {
    match event_severity {
        0..=1 => 6,
        2..=3 => 5,
        4..=6 => 4,
        7..=8 => 3,
        _ => 2,
    }
}

/// This machine's host name, if it has a usable one.
fn machine_hostname() -> Option<String> {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is writable for the length given.
    let result = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if result != 0 {
        return None;
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    let name = std::str::from_utf8(&buf[..end]).ok()?;
    (!name.is_empty() && name.bytes().all(printable)).then(|| name.to_owned())
}

/// The sink's loop, with the retry timing as a parameter (tests shorten it).
async fn deliver(ctx: SinkContext, header: &Header, destination: &Destination, retry: Retry) -> anyhow::Result<()> {
    deliver_with(ctx, destination, retry, |batch, out| header.encode(batch, out)).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ack::BatchStatus;
    use crate::sinks::testing::{self, Running, WAIT, event, finished};
    use crate::syslog::frame::Decoder;
    use futures_util::StreamExt;
    use serde_json::json;
    use std::net::SocketAddr;
    use std::time::Duration;
    use tokio::io::AsyncRead;
    use tokio::net::{TcpListener, TcpStream, UdpSocket};
    use tokio_util::codec::FramedRead;

    const FAST: Retry =
        Retry { first: Duration::from_millis(10), max: Duration::from_millis(50), grace: Duration::from_millis(200) };

    fn config(mode: &str, address: SocketAddr, extra: &str) -> SyslogSinkConfig {
        let text = format!("mode = \"{mode}\"\naddress = \"{address}\"\nhostname = \"sluice-host\"\n{extra}");
        let config: SyslogSinkConfig = toml::from_str(&text).unwrap();
        let mut errors = Vec::new();
        config.validate("sinks.out", &mut errors);
        assert_eq!(errors, []);
        config
    }

    fn start(config: SyslogSinkConfig, retry: Retry) -> Running {
        testing::start(retry.grace, move |ctx| async move {
            let header = Header::new(&config).unwrap();
            let destination = Destination::new(config.mode, &config.address, config.tls.as_ref())?;
            deliver(ctx, &header, &destination, retry).await
        })
    }

    fn formatted(line: &str, json: serde_json::Value) -> Event {
        let mut event = event(json);
        event.set_line(line.to_owned());
        event
    }

    /// Read `n` messages from a stream with our own framer and parser.
    async fn read_messages<S: AsyncRead + Unpin>(stream: S, framing: Framing, n: usize) -> Vec<Message<'static>> {
        let mut frames = FramedRead::new(stream, Decoder::new(framing, 1 << 20));
        let mut messages = Vec::new();
        while messages.len() < n {
            let frame = tokio::time::timeout(WAIT, frames.next()).await.expect("a message arrives");
            match frame.expect("the stream is open").unwrap() {
                crate::syslog::frame::Frame::Message(bytes) => {
                    messages.push(crate::syslog::parse(&bytes).into_owned());
                }
                other => panic!("unexpected frame {other:?}"),
            }
        }
        messages
    }

    async fn accept(listener: &TcpListener) -> TcpStream {
        tokio::time::timeout(WAIT, listener.accept()).await.expect("the sink connects").unwrap().0
    }

    #[tokio::test]
    async fn tcp_octet_counted_rfc5424_carries_the_header_and_the_body() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let sink = start(config("tcp", listener.local_addr().unwrap(), "facility = \"local4\""), FAST);
        let cef = "CEF:0|sluice|agent|1|tool|ran tool|8|msg=line one";
        let with_line = formatted(
            cef,
            json!({"time": "2026-11-26T14:00:00.123456789+02:00", "event": {"kind": "tool", "severity": 8}}),
        );
        let plain = event(json!({"event": "prompt", "agent": "a"}));
        let status = sink.send(vec![with_line, plain.clone()]).await;

        let messages = read_messages(accept(&listener).await, Framing::OctetCounting, 2).await;
        let first = &messages[0];
        assert_eq!(first.format, crate::syslog::Format::Rfc5424);
        assert_eq!((first.facility, first.severity, first.version), (Some(20), Some(3), Some(1)));
        assert_eq!(first.timestamp.as_deref(), Some("2026-11-26T12:00:00.123456Z"));
        assert_eq!(first.hostname.as_deref(), Some("sluice-host"));
        assert_eq!(first.app_name.as_deref(), Some("sluice"));
        assert_eq!((first.procid.as_deref(), first.msgid.as_deref()), (None, None));
        assert_eq!(first.msg, cef);
        let second = &messages[1];
        assert_eq!(second.severity, Some(6), "the configured default");
        assert_eq!(second.msg, plain.json(), "no formatted line: the event JSON");
        let sent_at = second.timestamp.as_deref().unwrap();
        assert!(time::OffsetDateTime::parse(sent_at, &time::format_description::well_known::Rfc3339).is_ok());

        assert_eq!(status.await.unwrap(), BatchStatus::Delivered);
        assert_eq!(sink.metrics.counts().sent, 2);
        assert_eq!(sink.finish().await, Vec::<serde_json::Value>::new());
    }

    #[tokio::test]
    async fn tcp_newline_rfc3164() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let extra =
            "format = \"rfc3164\"\nframing = \"newline\"\nfacility = 4\nseverity = \"warning\"\napp_name = \"agentd\"";
        let sink = start(config("tcp", listener.local_addr().unwrap(), extra), FAST);
        let status = sink.send(vec![formatted("first", json!({})), formatted("second", json!({}))]).await;
        let messages = read_messages(accept(&listener).await, Framing::Newline, 2).await;
        for (message, text) in messages.iter().zip(["first", "second"]) {
            assert_eq!(message.format, crate::syslog::Format::Rfc3164);
            assert_eq!((message.facility, message.severity, message.version), (Some(4), Some(4), None));
            assert_eq!(message.hostname.as_deref(), Some("sluice-host"));
            assert_eq!(message.app_name.as_deref(), Some("agentd"));
            assert_eq!(message.msg, text);
        }
        assert_eq!(finished(status).await, BatchStatus::Delivered);
        sink.finish().await;
    }

    /// Newline framing follows the rule of every line-oriented sink
    /// ([`crate::sinks::line`]): a line break in the body cannot split the message.
    #[tokio::test]
    async fn tcp_newline_keeps_a_body_with_line_breaks_in_one_message() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let sink = start(config("tcp", listener.local_addr().unwrap(), "framing = \"newline\""), FAST);
        let status = sink.send(vec![formatted("one\nFORGED\r\n", json!({})), formatted("two", json!({}))]).await;
        let messages = read_messages(accept(&listener).await, Framing::Newline, 2).await;
        let bodies: Vec<&str> = messages.iter().map(|m| m.msg.as_ref()).collect();
        assert_eq!(bodies, ["one#012FORGED", "two"]);
        assert_eq!(finished(status).await, BatchStatus::Delivered);
        sink.finish().await;
    }

    #[tokio::test]
    async fn tls_with_a_client_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let certs = crate::tls::test_certs::make(dir.path());
        let server = crate::tls::ServerTlsConfig {
            cert: certs.server_cert.clone(),
            key: certs.server_key.clone(),
            client_ca: Some(certs.ca.clone()),
        };
        let acceptor = tokio_rustls::TlsAcceptor::from(server.load().unwrap());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let tls = format!(
            "tls = {{ ca = {:?}, cert = {:?}, key = {:?}, server_name = \"localhost\" }}",
            certs.ca, certs.client_cert, certs.client_key
        );
        let sink = start(config("tls", address, &tls), FAST);
        let status = sink.send(vec![formatted("over tls", json!({"event": {"severity": 10}}))]).await;
        let stream = acceptor.accept(accept(&listener).await).await.expect("the client certificate is accepted");
        let messages = read_messages(stream, Framing::OctetCounting, 1).await;
        assert_eq!(messages[0].msg, "over tls");
        assert_eq!(messages[0].severity, Some(2));
        assert_eq!(finished(status).await, BatchStatus::Delivered);
        sink.finish().await;
    }

    #[tokio::test]
    async fn udp_sends_one_datagram_per_message_and_dead_letters_what_cannot_fit() {
        let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let sink = start(config("udp", server.local_addr().unwrap(), ""), FAST);
        let huge = "h".repeat(MAX_DATAGRAM_BYTES);
        let status = sink
            .send(vec![formatted("one", json!({})), formatted(&huge, json!({})), formatted("two", json!({}))])
            .await;
        let mut buf = vec![0; 70_000];
        for expected in ["one", "two"] {
            let n = tokio::time::timeout(WAIT, server.recv(&mut buf)).await.unwrap().unwrap();
            let message = crate::syslog::parse(&buf[..n]);
            assert_eq!(message.msg, expected);
            assert_eq!(message.format, crate::syslog::Format::Rfc5424);
        }
        assert_eq!(finished(status).await, BatchStatus::Delivered, "dead-lettering is a delivery");
        let dead = sink.finish().await;
        assert_eq!(dead.len(), 1);
        let reason = dead[0]["reason"].as_str().unwrap();
        assert!(reason.contains("exceeds the largest UDP datagram (65507 bytes)"), "{reason}");
        assert_eq!(dead[0]["line"], huge);
    }

    #[tokio::test]
    async fn a_destination_that_is_down_at_first_gets_every_event_once_it_is_up() {
        let address = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
        let sink = start(config("tcp", address, ""), FAST);
        let mut statuses = Vec::new();
        for i in 0..3 {
            statuses.push(sink.send(vec![formatted(&format!("event {i}"), json!({}))]).await);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(sink.metrics.counts().errors >= 2, "connection refused, retried");
        assert_eq!(sink.metrics.counts().sent, 0);

        let listener = TcpListener::bind(address).await.unwrap();
        let messages = read_messages(accept(&listener).await, Framing::OctetCounting, 3).await;
        let texts: Vec<&str> = messages.iter().map(|m| m.msg.as_ref()).collect();
        assert_eq!(texts, ["event 0", "event 1", "event 2"]);
        for status in statuses {
            assert_eq!(self::finished(status).await, BatchStatus::Delivered);
        }
        sink.finish().await;
    }

    #[tokio::test]
    async fn a_closed_connection_is_noticed_and_the_next_batch_goes_on_a_new_one() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let sink = start(config("tcp", listener.local_addr().unwrap(), ""), FAST);
        let first = sink.send(vec![formatted("before", json!({}))]).await;
        let stream = accept(&listener).await;
        let (read, write) = stream.into_split();
        let mut frames = read_messages(read, Framing::OctetCounting, 1).await;
        assert_eq!(frames.remove(0).msg, "before");
        assert_eq!(finished(first).await, BatchStatus::Delivered);
        drop(write); // The destination restarts: its end of the connection closes.
        tokio::time::sleep(Duration::from_millis(50)).await;

        let second = sink.send(vec![formatted("after", json!({}))]).await;
        let messages = read_messages(accept(&listener).await, Framing::OctetCounting, 1).await;
        assert_eq!(messages[0].msg, "after");
        assert_eq!(finished(second).await, BatchStatus::Delivered);
        sink.finish().await;
    }

    #[tokio::test]
    async fn shutdown_while_the_destination_is_down_fails_the_batches() {
        let address = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
        let sink = start(config("tcp", address, ""), FAST);
        let first = sink.send(vec![formatted("lost", json!({}))]).await;
        let second = sink.send(vec![formatted("queued", json!({}))]).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        sink.shutdown.cancel();
        assert_eq!(finished(first).await, BatchStatus::Failed);
        assert_eq!(finished(second).await, BatchStatus::Failed);
        assert!(sink.input.send(Batch::new(vec![formatted("late", json!({}))])).await.is_err(), "input closed");
        assert_eq!(sink.metrics.counts().sent, 0);
        sink.finish().await;
    }

    #[test]
    fn event_time_and_severity_feed_the_header() {
        let read = |json: serde_json::Value| EventHeader::read(&json.to_string());
        let header = read(json!({"time": "2026-11-26T14:00:00+02:00", "event": {"severity": 7.6}}));
        assert_eq!(header, EventHeader { time: Some("2026-11-26T12:00:00Z".into()), severity: Some(8) });
        assert_eq!(read(json!({"time": "yesterday", "event": "prompt"})), EventHeader::default());
        assert_eq!(read(json!({"time": 1764160205, "event": {"severity": "high"}})), EventHeader::default());
        assert_eq!(read(json!({"event": {"severity": 99}})).severity, Some(10));
        assert_eq!(EventHeader::read("not json"), EventHeader::default());
        let mapped: Vec<u8> = (0..=10).map(syslog_severity).collect();
        assert_eq!(mapped, [6, 6, 5, 5, 4, 4, 4, 3, 3, 2, 2]);
    }

    fn problems(text: &str) -> Vec<String> {
        let config: SyslogSinkConfig = toml::from_str(text).unwrap();
        let mut errors = Vec::new();
        config.validate("sinks.s", &mut errors);
        errors.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn config_defaults_and_codes() {
        let config: SyslogSinkConfig = toml::from_str("mode = \"tcp\"\naddress = \"siem:514\"").unwrap();
        assert_eq!(config.format, SyslogFormat::Rfc5424);
        assert_eq!((config.facility(), config.severity()), (Ok(1), Ok(6)));
        assert_eq!(config.app_name, "sluice");
        let header = Header::new(&config).unwrap();
        assert_eq!(header.framing, Some(Framing::OctetCounting));
        assert!(header.hostname.is_some_and(|h| !h.is_empty()), "the machine's name");
        let named: SyslogSinkConfig =
            toml::from_str("mode = \"udp\"\naddress = \"siem:514\"\nfacility = \"LOCAL7\"\nseverity = 3").unwrap();
        assert_eq!((named.facility(), named.severity()), (Ok(23), Ok(3)));
        assert_eq!(Header::new(&named).unwrap().framing, None);
        assert!(toml::from_str::<SyslogSinkConfig>("mode = \"tcp\"\naddress = \"s:1\"\nport = 1").is_err());
    }

    #[test]
    fn validation_reports_every_problem() {
        let errors = problems(
            "mode = \"udp\"\naddress = \"siem\"\nframing = \"newline\"\nfacility = \"local9\"\nseverity = 8\n\
             app_name = \"has space\"\nhostname = \"\"\ntls = { ca = \"ca.pem\" }",
        );
        assert_eq!(errors.len(), 7, "{errors:#?}");
        assert_eq!(errors[0], "sinks.s.address: `siem` is not a host:port, such as siem.example:6514");
        assert!(errors[1].starts_with("sinks.s.facility: unknown name `local9` (one of: kern, user,"), "{errors:#?}");
        assert_eq!(errors[2], "sinks.s.severity: must be 0–7");
        assert_eq!(errors[3], "sinks.s.framing: only used with mode \"tcp\" or \"tls\": a UDP datagram is one message");
        assert!(errors[4].starts_with("sinks.s.app_name: must be 1–48 printable"), "{errors:#?}");
        assert!(errors[5].starts_with("sinks.s.hostname: must be 1–255 printable"), "{errors:#?}");
        assert_eq!(errors[6], "sinks.s.tls: only used with mode = \"tls\"");
        assert_eq!(
            problems("mode = \"tcp\"\naddress = \"siem:514\"\nframing = \"auto\""),
            ["sinks.s.framing: must be \"octet-counting\" or \"newline\""]
        );
    }

    #[test]
    fn tls_problems_are_reported_under_the_tls_key() {
        let errors = problems(
            "mode = \"tls\"\naddress = \"siem:6514\"\ntls = { ca = \"/nonexistent/ca.pem\", key = \"k.pem\" }",
        );
        assert_eq!(errors.len(), 2, "{errors:#?}");
        assert!(errors[0].starts_with("sinks.s.tls.ca: cannot read /nonexistent/ca.pem"), "{errors:#?}");
        assert_eq!(errors[1], "sinks.s.tls.cert: missing: `key` needs its `cert`");
    }
}
