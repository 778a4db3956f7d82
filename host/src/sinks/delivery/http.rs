//! Delivery over HTTP, which every HTTP sink (`http`, `webhook`,
//! `splunk_hec`, `elasticsearch`, `azure_monitor_logs`) builds on.
//!
//! A sink says how events become request bodies and requests, and what a
//! successful reply means for each event ([`Service`]); this module does the
//! rest, the same for all of them:
//!
//! - **Batching**: the batches from the sink's inputs are gathered until
//!   `batch.max_events` events or `batch.max_bytes` bytes are waiting, or
//!   `batch.timeout_ms` has passed since the first; they are then cut into
//!   requests of at most those sizes.
//! - **Retries**: no answer (refused, reset, timed out), `408`, `429` and
//!   `5xx` are tried again after an exponential backoff with jitter, or after
//!   the time a `Retry-After` header asks for. Other answers outside `2xx`
//!   send the request's events to the dead letter with the status and the
//!   start of the response body.
//! - **Acknowledgement**: the batches are let go only once every event in
//!   them was accepted by the destination (or dead-lettered); a sink's
//!   [`Service::accepted`] may accept part of a request and ask for the rest
//!   to be sent again (Elasticsearch's per-item results) or wait for a later
//!   confirmation (Splunk's indexer acknowledgement).
//! - **Compression** (`compression = "gzip"`) and **TLS** (rustls, with the
//!   `tls` table's CA and client certificate) for every request.
//! - Each request's status and latency are counted
//!   ([`HttpRequest`](crate::internal_events::HttpRequest)).

use super::retry::{Backoff, Retry, give_up};
use crate::event::{Batch, Event};
use crate::internal_events::{EventsReceived, EventsSent, HttpRequest, InternalEvent, PeerError};
use crate::metrics::ComponentMetrics;
use crate::secrets::Secret;
use crate::sinks::SinkContext;
use crate::tls::ClientTlsConfig;
use crate::validation::ConfigError;
use anyhow::Context;
use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_ENCODING, HeaderMap, RETRY_AFTER};
use serde::Deserialize;
use std::borrow::Cow;
use std::future::Future;
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A `Retry-After` longer than this is cut to it: a destination asking for
/// an hour's pause must not hold the pipeline for an hour.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

/// How much of a refusing response body goes into the dead-letter reason.
const REASON_BODY_BYTES: usize = 1024;

/// `batch = { … }` in an HTTP sink's table: when a request is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpBatch {
    /// Most events in one request (default 1000).
    #[serde(default = "default_max_events")]
    pub max_events: usize,
    /// Most bytes in one request body, before compression (default 1 MiB).
    /// An event larger than this alone is sent in a request of its own.
    #[serde(default = "default_max_bytes")]
    pub max_bytes: usize,
    /// How long the first event waiting may wait for more (default 1000 ms).
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
}

fn default_max_events() -> usize {
    1000
}

fn default_max_bytes() -> usize {
    1 << 20
}

fn default_timeout_ms() -> u64 {
    1000
}

impl Default for HttpBatch {
    fn default() -> Self {
        HttpBatch { max_events: default_max_events(), max_bytes: default_max_bytes(), timeout_ms: default_timeout_ms() }
    }
}

impl HttpBatch {
    /// Report every problem with these limits; `at` is the `batch` table.
    pub fn validate(&self, at: &str, errors: &mut Vec<ConfigError>) {
        if self.max_events == 0 {
            errors.push(ConfigError::new(format!("{at}.max_events"), "must be at least 1"));
        }
        if self.max_bytes == 0 {
            errors.push(ConfigError::new(format!("{at}.max_bytes"), "must be at least 1"));
        }
    }
}

/// `compression = "…"`: how request bodies are encoded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// As they are (the default).
    #[default]
    None,
    /// gzip, with `Content-Encoding: gzip`.
    Gzip,
}

/// Check an HTTP sink's URI: absolute, `http` or `https`, with a host.
pub fn validate_uri(at: &str, uri: &str, errors: &mut Vec<ConfigError>) -> Option<reqwest::Url> {
    let problem = match reqwest::Url::parse(uri) {
        Err(err) => format!("`{uri}` is not a URI ({err}); such as https://siem.example:8088/path"),
        Ok(url) if !matches!(url.scheme(), "http" | "https") => {
            format!("`{uri}` must start with http:// or https://")
        }
        Ok(url) if url.host_str().is_none() => format!("`{uri}` has no host"),
        Ok(url) => return Some(url),
    };
    errors.push(ConfigError::new(at, problem));
    None
}

/// Check an HTTP sink's `tls` table. The name the server's certificate must
/// carry is the URI's host: HTTP clients send it as SNI and check it.
pub fn validate_tls(
    at: &str,
    tls: Option<&ClientTlsConfig>,
    url: Option<&reqwest::Url>,
    errors: &mut Vec<ConfigError>,
) {
    let Some(tls) = tls else { return };
    if tls.server_name.is_some() {
        errors.push(ConfigError::new(
            format!("{at}.server_name"),
            "not used by HTTP sinks: the server's certificate must carry the URI's host",
        ));
    }
    if let Some(url) = url
        && url.scheme() != "https"
    {
        errors.push(ConfigError::new(at, format!("only used with an https:// URI, not `{url}`")));
        return;
    }
    let mut tls = tls.clone();
    tls.server_name = None;
    tls.validate(at, "localhost:443", errors);
}

/// Check a `headers` table: each a valid HTTP header name and value.
pub fn validate_headers(at: &str, headers: &std::collections::BTreeMap<String, String>, errors: &mut Vec<ConfigError>) {
    for (name, value) in headers {
        if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
            errors.push(ConfigError::new(format!("{at}.{name}"), "is not a valid HTTP header name"));
        } else if reqwest::header::HeaderValue::from_str(value).is_err() {
            errors.push(ConfigError::new(format!("{at}.{name}"), "has characters an HTTP header value cannot hold"));
        }
    }
}

/// `auth = { … }`: how an HTTP sink proves who it is. Write the secret as
/// `${ENV_VAR}` or `${file:/path}` so it stays out of the config file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "strategy", rename_all = "lowercase", deny_unknown_fields)]
pub enum Auth {
    /// `Authorization: Bearer <token>`.
    Bearer { token: Secret },
    /// `Authorization: Basic …` with `user` and `password`.
    Basic { user: String, password: Secret },
}

impl Auth {
    /// Report every problem; `at` is the `auth` table.
    pub fn validate(&self, at: &str, errors: &mut Vec<ConfigError>) {
        match self {
            Auth::Bearer { token } if token.is_blank() => {
                errors.push(ConfigError::new(format!("{at}.token"), "is empty"));
            }
            Auth::Basic { user, .. } if user.is_empty() => {
                errors.push(ConfigError::new(format!("{at}.user"), "is empty"))
            }
            _ => {}
        }
    }

    /// Add the credentials to `request`.
    pub fn apply(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self {
            Auth::Bearer { token } => request.bearer_auth(token.expose()),
            Auth::Basic { user, password } => request.basic_auth(user, Some(password.expose())),
        }
    }
}

/// The HTTP client of one sink.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    compression: Compression,
    metrics: Arc<ComponentMetrics>,
}

/// A destination's answer to one request.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    /// The start of the body as text, for messages.
    pub fn text(&self) -> Cow<'_, str> {
        let end = self.body.len().min(REASON_BODY_BYTES);
        String::from_utf8_lossy(&self.body[..end])
    }

    /// Why the destination refused, for the dead letter.
    pub fn refusal(&self) -> String {
        format!("HTTP {}: {}", self.status, self.text().trim())
    }

    /// How long the destination asked us to wait (`Retry-After`, in seconds
    /// or as an HTTP date), at most [`MAX_RETRY_AFTER`].
    pub fn retry_after(&self) -> Option<Duration> {
        let value = self.headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
        let wait = match value.parse::<u64>() {
            Ok(seconds) => Duration::from_secs(seconds),
            Err(_) => {
                let at = time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc2822).ok()?;
                let wait = at - time::OffsetDateTime::now_utc();
                Duration::try_from(wait).unwrap_or(Duration::ZERO)
            }
        };
        Some(wait.min(MAX_RETRY_AFTER))
    }
}

/// What to do after a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The request was taken: ask [`Service::accepted`] what of it.
    Success,
    /// Send it again, after `after` if the destination said.
    Retry { after: Option<Duration> },
    /// The destination will not take it: dead-letter its events.
    Refuse,
}

impl Verdict {
    /// The rule every HTTP sink starts from: `2xx` succeeds; `408`, `429`
    /// and `5xx` are tried again; anything else is refused.
    pub fn of(reply: &Reply) -> Verdict {
        let status = reply.status;
        if status.is_success() {
            Verdict::Success
        } else if status == StatusCode::REQUEST_TIMEOUT
            || status == StatusCode::TOO_MANY_REQUESTS
            || status.is_server_error()
        {
            Verdict::Retry { after: reply.retry_after() }
        } else {
            Verdict::Refuse
        }
    }
}

impl Client {
    /// A client whose requests time out after `timeout`; `tls` is used for
    /// `https` URIs (default: the system's CAs, no client certificate).
    pub fn new(
        tls: Option<&ClientTlsConfig>,
        timeout: Duration,
        compression: Compression,
        metrics: Arc<ComponentMetrics>,
    ) -> anyhow::Result<Client> {
        let tls = tls.cloned().unwrap_or_default();
        let mut rustls = (*tls.load().context("loading the TLS settings")?).clone();
        // The client speaks HTTP/1.1 only: one protocol to get right.
        rustls.alpn_protocols = vec![b"http/1.1".to_vec()];
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(rustls)
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("sluice/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("building the HTTP client")?;
        Ok(Client { http, compression, metrics })
    }

    /// The client to build requests with.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// A body as it goes on the wire, compressed as configured.
    fn payload(&self, body: &Bytes) -> Bytes {
        match self.compression {
            Compression::None => body.clone(),
            Compression::Gzip => {
                let mut gzip =
                    flate2::write::GzEncoder::new(Vec::with_capacity(body.len() / 4), flate2::Compression::fast());
                gzip.write_all(body).expect("writing to memory");
                Bytes::from(gzip.finish().expect("writing to memory"))
            }
        }
    }

    /// Send one request and read its whole reply. `what` names the
    /// destination in the log.
    pub async fn send(
        &self,
        request: reqwest::RequestBuilder,
        payload: Option<Bytes>,
        what: &str,
    ) -> anyhow::Result<Reply> {
        let request = match payload {
            Some(payload) => {
                let request = request.body(payload);
                match self.compression {
                    Compression::None => request,
                    Compression::Gzip => request.header(CONTENT_ENCODING, "gzip"),
                }
            }
            None => request,
        };
        let started = Instant::now();
        let result = async {
            let response = request.send().await?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = response.bytes().await?;
            Ok::<_, reqwest::Error>(Reply { status, headers, body })
        }
        .await;
        let status = result.as_ref().ok().map(|reply| reply.status.as_u16());
        HttpRequest { destination: what, status, latency: started.elapsed() }.emit(&self.metrics);
        // As an anyhow error, `{:#}` shows the chain: "connection refused"
        // is in the source, not in reqwest's own message.
        result.map_err(anyhow::Error::from)
    }
}

/// A request's body and the events it carries.
#[derive(Debug, Default)]
pub struct Body {
    /// Shared, not copied, by every attempt at sending it.
    pub bytes: Bytes,
    /// The events in it, as indices into the slice given to [`Service::encode`].
    pub events: Vec<usize>,
}

/// Events encoded into request bodies.
#[derive(Debug, Default)]
pub struct Encoded {
    pub bodies: Vec<Body>,
    /// Events that cannot be sent, as indices into the slice given to
    /// [`Service::encode`], with the reason.
    pub rejected: Vec<(usize, String)>,
}

/// How events are joined into one body.
#[derive(Debug, Clone, Copy)]
pub struct Framing {
    pub open: &'static [u8],
    pub separator: &'static [u8],
    pub close: &'static [u8],
}

impl Framing {
    /// Each event's bytes right after the last: NDJSON when each ends in LF
    /// (as `_bulk` requires), one document when a body holds one event.
    pub const CONCATENATED: Framing = Framing { open: b"", separator: b"", close: b"" };
    /// A JSON array.
    pub const JSON_ARRAY: Framing = Framing { open: b"[", separator: b",", close: b"]" };
}

/// Encode `events` one by one with `encode` (which appends one event's
/// bytes to what it is given, LF included where the framing wants one, or
/// says why it cannot) and cut the result into bodies within `limits`.
pub fn pack(
    events: &[&Event],
    limits: &HttpBatch,
    framing: Framing,
    mut encode: impl FnMut(&Event, &mut Vec<u8>) -> Result<(), String>,
) -> Encoded {
    let mut encoded = Encoded::default();
    let mut bytes = Vec::new();
    let mut in_body = Vec::new();
    let close = framing.close;
    for (i, event) in events.iter().enumerate() {
        // Each event is encoded straight into the body; only one that does
        // not fit is moved, to the start of the next.
        let mark = bytes.len();
        bytes.extend_from_slice(if in_body.is_empty() { framing.open } else { framing.separator });
        let start = bytes.len();
        if let Err(reason) = encode(event, &mut bytes) {
            bytes.truncate(mark);
            encoded.rejected.push((i, reason));
            continue;
        }
        let full = in_body.len() >= limits.max_events || bytes.len() + close.len() > limits.max_bytes;
        if !in_body.is_empty() && full {
            let item = bytes.split_off(start);
            bytes.truncate(mark);
            bytes.extend_from_slice(close);
            encoded
                .bodies
                .push(Body { bytes: Bytes::from(std::mem::take(&mut bytes)), events: std::mem::take(&mut in_body) });
            bytes.extend_from_slice(framing.open);
            bytes.extend_from_slice(&item);
        }
        in_body.push(i);
    }
    if !in_body.is_empty() {
        bytes.extend_from_slice(close);
        encoded.bodies.push(Body { bytes: Bytes::from(bytes), events: in_body });
    }
    encoded
}

/// What a destination made of a request it answered with success.
#[derive(Debug, PartialEq, Eq)]
pub enum Accepted {
    /// Every event is through.
    All,
    /// Some are not: `retry` are sent again, `rejected` go to the dead letter
    /// with their reasons (both as positions in [`Body::events`]); the rest
    /// are through.
    Partly { retry: Vec<usize>, rejected: Vec<(usize, String)> },
}

/// What makes one HTTP sink: how events become bodies and requests, and
/// what a reply means.
pub trait Service: Send + Sync {
    /// The destination, for messages (a URI without credentials).
    fn destination(&self) -> &str;

    /// Encode `events` into bodies (see [`pack`]).
    fn encode(&self, events: &[&Event]) -> Encoded;

    /// The request for one attempt at sending `body` (made again for each
    /// attempt, so a signature's time or a token is fresh); the body itself,
    /// compressed, is added by the caller. An error counts as a failed
    /// attempt and is retried.
    fn request(
        &self,
        client: &reqwest::Client,
        body: &Body,
    ) -> impl Future<Output = anyhow::Result<reqwest::RequestBuilder>> + Send;

    /// What to do after `reply` (default: [`Verdict::of`]).
    fn verdict(&self, reply: &Reply) -> Verdict {
        Verdict::of(reply)
    }

    /// What a successful `reply` means for the events in `body` (default:
    /// they are all through). This may take time (polling for a later
    /// acknowledgement); the router's shutdown cuts it short.
    fn accepted(&self, client: &Client, reply: Reply, body: &Body) -> impl Future<Output = Accepted> + Send {
        let _ = (client, reply, body);
        async { Accepted::All }
    }
}

/// An HTTP sink: its client, its service, and when it sends.
pub struct Sender<S> {
    pub client: Client,
    pub service: S,
    pub batch: HttpBatch,
    pub retry: Retry,
}

/// The batches gathered for the next requests.
#[derive(Default)]
struct Gathered {
    batches: Vec<Batch>,
    events: usize,
    bytes: usize,
    /// When they must go, at the latest.
    deadline: Option<tokio::time::Instant>,
}

/// What became of one body.
enum Sent {
    Accepted(Accepted),
    Refused(String),
}

/// The router stopped while the destination was still failing.
struct GaveUp;

impl<S: Service> Sender<S> {
    /// Send batches until every input has closed (or the router stops while
    /// the destination is down).
    pub async fn run(self, mut ctx: SinkContext) -> anyhow::Result<()> {
        let mut gathered = Gathered::default();
        loop {
            let deadline = gathered.deadline;
            let batch = tokio::select! {
                batch = ctx.input.recv() => batch,
                () = tokio::time::sleep_until(deadline.unwrap_or_else(tokio::time::Instant::now)), if deadline.is_some() => {
                    if self.flush(&mut ctx, &mut gathered).await.is_err() { return Ok(()) }
                    continue;
                }
            };
            let Some(batch) = batch else { break };
            gathered.events += batch.len();
            gathered.bytes += batch.events.iter().map(|event| event.body().len()).sum::<usize>();
            gathered.batches.push(batch);
            gathered
                .deadline
                .get_or_insert_with(|| tokio::time::Instant::now() + Duration::from_millis(self.batch.timeout_ms));
            if (gathered.events >= self.batch.max_events || gathered.bytes >= self.batch.max_bytes)
                && self.flush(&mut ctx, &mut gathered).await.is_err()
            {
                return Ok(());
            }
        }
        let _ = self.flush(&mut ctx, &mut gathered).await;
        let statuses = ctx.metrics.statuses();
        if !statuses.is_empty() {
            let counts = ctx.metrics.counts();
            let statuses: Vec<String> = statuses.iter().map(|(status, n)| format!("{status}={n}")).collect();
            tracing::info!(component = %ctx.id, destination = self.service.destination(), requests = counts.requests,
                no_answer = counts.request_failures, statuses = %statuses.join(" "),
                mean_latency_ms = counts.request_ms.checked_div(counts.requests).unwrap_or(0), "HTTP requests");
        }
        Ok(())
    }

    /// Send everything gathered until each event is through or
    /// dead-lettered, then let the batches go.
    async fn flush(&self, ctx: &mut SinkContext, gathered: &mut Gathered) -> Result<(), GaveUp> {
        let batches = std::mem::take(&mut gathered.batches);
        *gathered = Gathered::default();
        if batches.is_empty() {
            return Ok(());
        }
        // Every event by its batch and place in it.
        let place: Vec<(usize, usize)> =
            batches.iter().enumerate().flat_map(|(b, batch)| (0..batch.len()).map(move |e| (b, e))).collect();
        EventsReceived { count: place.len() }.emit(&ctx.metrics);
        let mut dead: Vec<Vec<(Event, String)>> = batches.iter().map(|_| Vec::new()).collect();
        let mut delivered = 0;
        let result = {
            let mut dead_letter = |i: usize, reason: String| {
                let (b, e) = place[i];
                dead[b].push((batches[b].events[e].clone(), reason));
            };
            let events: Vec<&Event> = place.iter().map(|&(b, e)| &batches[b].events[e]).collect();
            self.send_all(ctx, &events, &mut dead_letter, &mut delivered).await
        };
        if result.is_err() {
            super::abandon(ctx, batches, self.service.destination()).await;
            return Err(GaveUp);
        }
        for (batch, records) in batches.iter().zip(dead) {
            ctx.dead_letter.send(&ctx.metrics, batch, records).await;
        }
        EventsSent { count: delivered }.emit(&ctx.metrics);
        Ok(())
    }

    /// Send `events` until each is through (counted in `delivered`) or
    /// dead-lettered.
    async fn send_all(
        &self,
        ctx: &SinkContext,
        events: &[&Event],
        dead_letter: &mut impl FnMut(usize, String),
        delivered: &mut usize,
    ) -> Result<(), GaveUp> {
        let mut give_up = std::pin::pin!(give_up(&ctx.shutdown, self.retry.grace));
        let mut backoff = Backoff::new(self.retry);
        let mut todo: Vec<usize> = (0..events.len()).collect();
        while !todo.is_empty() {
            let slice: Vec<&Event> = todo.iter().map(|&i| events[i]).collect();
            let encoded = self.service.encode(&slice);
            for (k, reason) in encoded.rejected {
                dead_letter(todo[k], reason);
            }
            let mut again = Vec::new();
            for body in &encoded.bodies {
                let sent = tokio::select! {
                    sent = self.send(ctx, body) => sent,
                    () = &mut give_up => return Err(GaveUp),
                };
                let original = |k: usize| todo[body.events[k]];
                match sent {
                    Sent::Accepted(Accepted::All) => *delivered += body.events.len(),
                    Sent::Accepted(Accepted::Partly { retry, rejected }) => {
                        *delivered += body.events.len() - retry.len() - rejected.len();
                        again.extend(retry.iter().map(|&k| original(k)));
                        for (k, reason) in rejected {
                            dead_letter(original(k), reason);
                        }
                    }
                    Sent::Refused(reason) => {
                        for k in 0..body.events.len() {
                            dead_letter(original(k), reason.clone());
                        }
                    }
                }
            }
            todo = again;
            if !todo.is_empty() {
                let delay = backoff.next_delay();
                tracing::warn!(component = %ctx.id, destination = self.service.destination(), events = todo.len(),
                    "the destination asked for some events again; retrying in {delay:.1?}");
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    () = &mut give_up => return Err(GaveUp),
                }
            }
        }
        Ok(())
    }

    /// Send one body until the destination answers with anything but a
    /// failure worth retrying.
    async fn send(&self, ctx: &SinkContext, body: &Body) -> Sent {
        let destination = self.service.destination();
        let payload = self.client.payload(&body.bytes);
        let mut backoff = Backoff::new(self.retry);
        loop {
            let attempt = async {
                let request = self.service.request(self.client.http(), body).await?;
                self.client.send(request, Some(payload.clone()), destination).await
            };
            let (delay, why) = match attempt.await {
                Ok(reply) => match self.service.verdict(&reply) {
                    Verdict::Success => return Sent::Accepted(self.service.accepted(&self.client, reply, body).await),
                    Verdict::Refuse => return Sent::Refused(reply.refusal()),
                    Verdict::Retry { after } => (after.unwrap_or_else(|| backoff.next_delay()), reply.refusal()),
                },
                Err(err) => (backoff.next_delay(), format!("{err:#}")),
            };
            PeerError {
                kind: "http retry",
                what: &format!("sending to {destination}; retrying in {delay:.1?}"),
                error: &why,
            }
            .emit(&ctx.metrics);
            tokio::time::sleep(delay).await;
        }
    }
}

#[cfg(test)]
mod tests;
