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

pub mod config;
#[cfg(test)]
mod tests;

use super::SinkContext;
use super::delivery::retry::Retry;
use super::delivery::stream::{Destination, Encoded, deliver_with};
use crate::event::{Batch, Event};
use crate::syslog::Message;
use crate::syslog::Mode;
use crate::syslog::frame::Framing;
use anyhow::Context;
use config::{SyslogFormat, SyslogSinkConfig, printable};
use serde::Deserialize;
use std::borrow::Cow;

/// The largest UDP payload (IPv4: 65535 less the IP and UDP headers).
const MAX_DATAGRAM_BYTES: usize = 65_507;

/// Send batches until every input has closed (or the router stops while
/// the destination is down).
pub async fn run(config: SyslogSinkConfig, ctx: SinkContext) -> anyhow::Result<()> {
    let header = Header::new(&config).map_err(anyhow::Error::msg).context("reading the syslog settings")?;
    let destination = Destination::new(config.mode, &config.address, config.tls.as_ref())
        .context("preparing the syslog destination")?;
    let retry = ctx.retry();
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
