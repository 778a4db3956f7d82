//! Sink `splunk_hec`: sends events to Splunk's HTTP Event Collector
//! ([`config::SplunkHecConfig`]), as JSON envelopes to
//! `/services/collector/event` or as lines to `/services/collector/raw`,
//! optionally waiting for indexer acknowledgement ([`ack`]). Delivery —
//! batching, retries, compression, TLS — is
//! [`crate::sinks::delivery::http`]'s; HEC's error answers (`400` invalid
//! data, `401`/`403` token, `503` busy) fall under its default rule.
//!
//! Each envelope carries the event's `event.id` as the indexed field
//! `fields.event_id`, so a search can drop the copies that redelivery after
//! a crash (or an acknowledgement that timed out) sent twice.

pub mod ack;
pub mod config;
#[cfg(test)]
mod tests;

use super::SinkContext;
use super::delivery::fields::{Fields, Found};
use super::delivery::http::{Accepted, Body, Client, Encoded, Framing, Reply, Sender, Service, Verdict, pack};
use super::delivery::retry::Retry;
use crate::event::Event;
use crate::internal_events::{InternalEvent, PeerError};
use crate::metrics::ComponentMetrics;
use ack::{ACK_DISABLED, Outcome, Poller};
use anyhow::Context;
use config::{DEFAULT_SOURCETYPE, Endpoint, Meta, SplunkHecConfig};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

/// The header naming the channel a request belongs to; acknowledgements
/// are per channel.
pub const CHANNEL_HEADER: &str = "X-Splunk-Request-Channel";

/// Envelopes follow one another with nothing between, as HEC's batch
/// format shows them.
const CONCATENATED: Framing = Framing { open: b"", separator: b"", close: b"" };

/// The paths every envelope reads; metadata fields follow them.
const EVENT_ID: usize = 0;
const TIME: usize = 1;

/// Send batches until every input has closed (or the router stops while
/// HEC is down).
pub async fn run(config: SplunkHecConfig, ctx: SinkContext) -> anyhow::Result<()> {
    let retry = ctx.retry();
    sender(config, &ctx, retry)?.run(ctx).await
}

/// The sink, with the retry timing as a parameter (tests shorten it).
fn sender(config: SplunkHecConfig, ctx: &SinkContext, retry: Retry) -> anyhow::Result<Sender<Hec>> {
    let timeout = Duration::from_secs(config.request_timeout_secs);
    let client = Client::new(config.tls.as_ref(), timeout, config.compression, ctx.metrics.clone())
        .context("preparing the HTTP client")?;
    let base = reqwest::Url::parse(&config.uri).with_context(|| format!("the URI `{}`", config.uri))?;
    let channel = channel_id();
    let authorization = HeaderValue::from_str(&format!("Splunk {}", config.token.expose())).context("the token")?;

    // Fixed metadata is written once; a field's value is read per event.
    let mut paths = vec!["event.id", "time"];
    let mut metadata = Vec::new();
    let sourcetype = Meta::Text(DEFAULT_SOURCETYPE.to_owned());
    for (key, meta) in config.metadata() {
        let meta = if key == "sourcetype" { Some(meta.unwrap_or(&sourcetype)) } else { meta };
        match meta {
            None => {}
            Some(Meta::Text(text)) => metadata.push((key, Value::Text(text.clone()))),
            Some(Meta::Field(path)) => {
                metadata.push((key, Value::Slot(paths.len())));
                paths.push(path);
            }
        }
    }
    let fields = Fields::new(&paths).map_err(anyhow::Error::msg)?;

    let mut url = endpoint(&base, config.endpoint.path());
    if config.endpoint == Endpoint::Raw {
        let mut query = url.query_pairs_mut();
        for (key, value) in &metadata {
            if let Value::Text(text) = value {
                query.append_pair(key, text);
            }
        }
        query.append_pair("channel", &channel);
    }
    let destination = super::http::redacted(url.as_str());
    let poller = config.acknowledgements.enabled.then(|| {
        let mut url = endpoint(&base, "services/collector/ack");
        url.query_pairs_mut().append_pair("channel", &channel);
        Poller {
            destination: super::http::redacted(url.as_str()),
            url,
            channel: HeaderValue::from_str(&channel).expect("a UUID is a header value"),
            authorization: authorization.clone(),
            settings: config.acknowledgements,
        }
    });
    let service = Hec {
        endpoint: config.endpoint,
        url,
        destination,
        authorization,
        channel: HeaderValue::from_str(&channel).expect("a UUID is a header value"),
        fields,
        metadata,
        batch: config.batch,
        poller,
        metrics: ctx.metrics.clone(),
    };
    Ok(Sender { client, service, batch: config.batch, retry })
}

/// `base` with `path` added to its own.
fn endpoint(base: &reqwest::Url, path: &str) -> reqwest::Url {
    let mut url = base.clone();
    let prefix = base.path().trim_end_matches('/').to_owned();
    url.set_path(&format!("{prefix}/{path}"));
    url
}

/// A fresh channel id for this run of the sink: a random (version 4) UUID,
/// as HEC expects. It needs to be unique, not secret.
fn channel_id() -> String {
    let mut bytes = [0u8; 16];
    fastrand::fill(&mut bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

/// A metadata value: fixed, or read from the event at a slot of `fields`.
#[derive(Debug)]
enum Value {
    Text(String),
    Slot(usize),
}

/// The `splunk_hec` sink's requests.
struct Hec {
    endpoint: Endpoint,
    /// The endpoint, with the metadata and channel in the query for `/raw`.
    url: reqwest::Url,
    destination: String,
    authorization: HeaderValue,
    channel: HeaderValue,
    fields: Fields,
    /// `host`, `source`, `sourcetype`, `index`, those that are set.
    metadata: Vec<(&'static str, Value)>,
    batch: super::delivery::http::HttpBatch,
    /// With indexer acknowledgement on.
    poller: Option<Poller>,
    metrics: Arc<ComponentMetrics>,
}

/// Why a blank event is not sent: HEC refuses the whole request that holds
/// one (code 12 or 13, "Event field is required/cannot be blank").
const BLANK: &str =
    "the event's line is blank, which Splunk HEC refuses (and with it every other event of the request)";

impl Hec {
    /// Append `event`'s `/event` envelope to `out`.
    fn envelope(&self, event: &Event, out: &mut Vec<u8>) -> Result<(), String> {
        if event.line().is_some_and(|line| line.trim().is_empty()) {
            return Err(BLANK.to_owned());
        }
        let found = self.fields.read(event);
        out.push(b'{');
        if let Some(time) = found.text(TIME).as_deref().and_then(epoch) {
            write!(out, "\"time\":{time},").expect("writing to memory");
        }
        for (key, value) in &self.metadata {
            let text = match value {
                Value::Text(text) => Some(std::borrow::Cow::Borrowed(text.as_str())),
                Value::Slot(slot) => found.text(*slot),
            };
            if let Some(text) = text {
                write!(out, "\"{key}\":").expect("writing to memory");
                json_string(&text, out);
                out.push(b',');
            }
        }
        out.extend_from_slice(b"\"event\":");
        match event.line() {
            // A formatter plugin's line (CEF, LEEF …) goes as the event's text.
            Some(line) => json_string(line, out),
            None => out.extend_from_slice(event.json().trim().as_bytes()),
        }
        push_event_id(&found, out);
        out.push(b'}');
        Ok(())
    }
}

/// `,"fields":{"event_id":…}` when the event has an id.
fn push_event_id(found: &Found<'_>, out: &mut Vec<u8>) {
    if let Some(id) = found.text(EVENT_ID) {
        out.extend_from_slice(b",\"fields\":{\"event_id\":");
        json_string(&id, out);
        out.push(b'}');
    }
}

fn json_string(text: &str, out: &mut Vec<u8>) {
    serde_json::to_writer(&mut *out, text).expect("writing to memory");
}

/// An RFC 3339 time as HEC's `time`: seconds since the epoch, with the
/// fraction (to the microsecond) when there is one. Anything else is left
/// out, and HEC stamps the event with the time it received it.
fn epoch(text: &str) -> Option<String> {
    let at = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    let micros = at.unix_timestamp_nanos() / 1000;
    let sign = if micros < 0 { "-" } else { "" };
    let (seconds, fraction) = (micros.abs() / 1_000_000, micros.abs() % 1_000_000);
    if fraction == 0 {
        return Some(format!("{sign}{seconds}"));
    }
    let fraction = format!("{fraction:06}");
    Some(format!("{sign}{seconds}.{}", fraction.trim_end_matches('0')))
}

/// A `2xx` reply to a request, with acknowledgement on:
/// `{"text":"Success","code":0,"ackId":N}`.
#[derive(serde::Deserialize)]
struct Receipt {
    #[serde(rename = "ackId")]
    ack_id: u64,
}

impl Service for Hec {
    fn destination(&self) -> &str {
        &self.destination
    }

    fn encode(&self, events: &[&Event]) -> Encoded {
        match self.endpoint {
            Endpoint::Event => pack(events, &self.batch, CONCATENATED, |event, out| self.envelope(event, out)),
            Endpoint::Raw => pack(events, &self.batch, Framing::CONCATENATED, |event, out| {
                if event.body().trim().is_empty() {
                    return Err(BLANK.to_owned());
                }
                super::line::push_body(event, out);
                Ok(())
            }),
        }
    }

    async fn request(&self, client: &reqwest::Client, _body: &Body) -> anyhow::Result<reqwest::RequestBuilder> {
        let content_type = match self.endpoint {
            Endpoint::Event => "application/json",
            Endpoint::Raw => "text/plain; charset=utf-8",
        };
        Ok(client
            .post(self.url.clone())
            .header(AUTHORIZATION, self.authorization.clone())
            .header(CHANNEL_HEADER, self.channel.clone())
            .header(CONTENT_TYPE, content_type))
    }

    fn verdict(&self, reply: &Reply) -> Verdict {
        let verdict = Verdict::of(reply);
        if verdict == Verdict::Refuse {
            let code =
                serde_json::from_slice::<serde_json::Value>(&reply.body).ok().and_then(|body| body["code"].as_i64());
            if code == Some(ACK_DISABLED) {
                PeerError { kind: "hec ack disabled", what: &format!("sending to {}: indexer acknowledgement is disabled for this HEC token; enable it on the token, or set acknowledgements.enabled = false", self.destination), error: &reply.refusal() }.emit(&self.metrics);
            }
        }
        verdict
    }

    async fn accepted(&self, client: &Client, reply: Reply, body: &Body) -> Accepted {
        let Some(poller) = &self.poller else { return Accepted::All };
        let all = || 0..body.events.len();
        let ack_id = match serde_json::from_slice::<Receipt>(&reply.body) {
            Ok(receipt) => receipt.ack_id,
            Err(err) => {
                // HEC took the request but gave no id to ask about. A token
                // without acknowledgement answers so: the ack endpoint says
                // which (code 14), and sending again would only index the
                // events again and again, so they are refused with the fix.
                if let Some(reason) = poller.disabled(client).await {
                    return Accepted::Partly {
                        retry: Vec::new(),
                        rejected: all().map(|k| (k, reason.clone())).collect(),
                    };
                }
                // Otherwise the reply is malformed (a proxy answering for
                // HEC, a HEC failing midway): nothing confirms the events
                // were indexed, so they are sent again rather than counted
                // as delivered; a copy that was indexed after all is told
                // apart by its fields.event_id.
                PeerError {
                    kind: "hec no ackId",
                    what: &format!(
                        "sending to {}: a 200 reply without an ackId; sending the events again",
                        self.destination
                    ),
                    error: &format!("{err}: {}", reply.text()),
                }
                .emit(&self.metrics);
                return Accepted::Partly { retry: all().collect(), rejected: Vec::new() };
            }
        };
        match poller.wait(client, ack_id).await {
            Outcome::Indexed => Accepted::All,
            Outcome::TimedOut => {
                PeerError {
                    kind: "hec ack timeout",
                    what: &format!(
                        "sending to {}: ackId {ack_id} was not confirmed; sending its events again",
                        self.destination
                    ),
                    error: &format!("no acknowledgement within {} s", poller.settings.timeout_secs),
                }
                .emit(&self.metrics);
                Accepted::Partly { retry: all().collect(), rejected: Vec::new() }
            }
            Outcome::Refused(reason) => {
                Accepted::Partly { retry: Vec::new(), rejected: all().map(|k| (k, reason.clone())).collect() }
            }
        }
    }
}
