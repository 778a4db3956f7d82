//! Sink `webhook`: one signed JSON POST per event, for SOAR platforms.
//!
//! Each request carries:
//!
//! - `X-Sluice-Timestamp`: the Unix time of the attempt, in seconds;
//! - `X-Sluice-Signature`: `sha256=` and the hex HMAC-SHA256, keyed with
//!   `secret`, of the timestamp, a `.`, and the body, so the receiver can
//!   check who sent it and refuse a replay of an old request (docs/sinks.md
//!   has the receiving side's check);
//! - `Idempotency-Key`: the event's `event.id` (else the SHA-256 of the
//!   body), the same on every attempt, so a receiver can drop what a retry
//!   or a crash made sluice send twice.
//!
//! Delivery (retries, TLS, the acknowledgement after a `2xx`) is
//! [`crate::sinks::delivery::http`]'s; each request holds one event.

pub mod config;
#[cfg(test)]
mod tests;

use super::SinkContext;
use super::delivery::fields::Fields;
use super::delivery::http::{Body, Client, Compression, Encoded, Framing, HttpBatch, Sender, Service, pack};
use super::delivery::retry::Retry;
use crate::event::Event;
use anyhow::Context;
use config::WebhookConfig;
use hmac::{Hmac, Mac};
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use sha2::{Digest, Sha256};
use std::time::Duration;

/// One event per request; sent as soon as it comes.
const ONE_EVENT: HttpBatch = HttpBatch { max_events: 1, max_bytes: usize::MAX, timeout_ms: 0 };

/// Send events until every input has closed (or the router stops while
/// the destination is down).
pub async fn run(config: WebhookConfig, ctx: SinkContext) -> anyhow::Result<()> {
    let retry = ctx.retry();
    sender(config, &ctx, retry)?.run(ctx).await
}

/// The sink, with the retry timing as a parameter (tests shorten it).
fn sender(config: WebhookConfig, ctx: &SinkContext, retry: Retry) -> anyhow::Result<Sender<Webhook>> {
    let timeout = Duration::from_secs(config.request_timeout_secs);
    let client = Client::new(config.tls.as_ref(), timeout, Compression::None, ctx.metrics.clone())
        .context("preparing the HTTP client")?;
    let mut headers = HeaderMap::new();
    for (name, value) in &config.headers {
        let name = HeaderName::from_bytes(name.as_bytes()).with_context(|| format!("header name `{name}`"))?;
        headers.insert(name, HeaderValue::from_str(value).context("a header value")?);
    }
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let service = Webhook {
        destination: super::http::redacted(&config.uri),
        fields: Fields::new(&["event.id"]).expect("a valid path"),
        headers,
        config,
    };
    Ok(Sender { client, service, batch: ONE_EVENT, retry })
}

/// The `webhook` sink's requests.
struct Webhook {
    config: WebhookConfig,
    headers: HeaderMap,
    destination: String,
    fields: Fields,
}

impl Webhook {
    /// The `X-Sluice-Signature` of `body` sent at `timestamp`.
    fn signature(&self, timestamp: &str, body: &[u8]) -> String {
        signature(self.config.secret.expose().as_bytes(), timestamp, body)
    }

    /// The event's id, else a digest of the body: the same for every attempt.
    fn idempotency_key(&self, body: &[u8]) -> String {
        let id = std::str::from_utf8(body).ok().and_then(|json| {
            let found = self.fields.read_json(json);
            found.text(0).filter(|id| !id.is_empty()).map(|id| id.into_owned())
        });
        id.unwrap_or_else(|| hex(&Sha256::digest(body)))
    }
}

/// `sha256=` and the hex HMAC-SHA256 of `<timestamp>.<body>` keyed with `secret`.
pub fn signature(secret: &[u8], timestamp: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex(&mac.finalize().into_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Service for Webhook {
    fn destination(&self) -> &str {
        &self.destination
    }

    fn encode(&self, events: &[&Event]) -> Encoded {
        pack(events, &ONE_EVENT, Framing::CONCATENATED, |event, out| {
            out.extend_from_slice(event.json().as_bytes());
            Ok(())
        })
    }

    async fn request(&self, client: &reqwest::Client, body: &Body) -> anyhow::Result<reqwest::RequestBuilder> {
        // Made again for each attempt: a retry carries a fresh timestamp, so
        // a receiver's replay window need not cover the backoff.
        let timestamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .context("the clock is before 1970")?
            .as_secs()
            .to_string();
        Ok(client
            .post(&self.config.uri)
            .headers(self.headers.clone())
            .header("X-Sluice-Signature", self.signature(&timestamp, &body.bytes))
            .header("X-Sluice-Timestamp", timestamp)
            .header("Idempotency-Key", self.idempotency_key(&body.bytes)))
    }
}
