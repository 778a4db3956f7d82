//! Sink `http`: sends events to any HTTP endpoint, in batches, as NDJSON, a
//! JSON array or the formatted lines ([`config::HttpSinkConfig`]). Delivery —
//! batching, retries, compression, TLS, the acknowledgement after a `2xx` —
//! is [`crate::sinks::delivery::http`]'s.

pub mod config;
#[cfg(test)]
mod tests;

use super::SinkContext;
use super::delivery::http::{Body, Client, Encoded, Framing, Sender, Service, pack};
use super::delivery::retry::Retry;
use crate::event::Event;
use anyhow::Context;
use config::{Encoding, HttpSinkConfig, Method};
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use std::time::Duration;

/// Send batches until every input has closed (or the router stops while
/// the destination is down).
pub async fn run(config: HttpSinkConfig, ctx: SinkContext) -> anyhow::Result<()> {
    let retry = ctx.retry();
    sender(config, &ctx, retry)?.run(ctx).await
}

/// The sink, with the retry timing as a parameter (tests shorten it).
fn sender(config: HttpSinkConfig, ctx: &SinkContext, retry: Retry) -> anyhow::Result<Sender<Generic>> {
    let timeout = Duration::from_secs(config.request_timeout_secs);
    let client = Client::new(config.tls.as_ref(), timeout, config.compression, ctx.metrics.clone())
        .context("preparing the HTTP client")?;
    let mut headers = HeaderMap::new();
    for (name, value) in &config.headers {
        let name = HeaderName::from_bytes(name.as_bytes()).with_context(|| format!("header name `{name}`"))?;
        headers.insert(name, HeaderValue::from_str(value).context("a header value")?);
    }
    let content_type = match config.encoding {
        Encoding::Ndjson => "application/x-ndjson",
        Encoding::JsonArray => "application/json",
        Encoding::Lines => "text/plain; charset=utf-8",
    };
    headers.entry(CONTENT_TYPE).or_insert(HeaderValue::from_static(content_type));
    let destination = redacted(&config.uri);
    let batch = config.batch;
    Ok(Sender { client, service: Generic { config, headers, destination }, batch, retry })
}

/// The URI without the password it may carry, for messages.
pub(crate) fn redacted(uri: &str) -> String {
    match reqwest::Url::parse(uri) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        _ => uri.to_owned(),
    }
}

/// The `http` sink's requests.
struct Generic {
    config: HttpSinkConfig,
    headers: HeaderMap,
    destination: String,
}

impl Service for Generic {
    fn destination(&self) -> &str {
        &self.destination
    }

    fn encode(&self, events: &[&Event]) -> Encoded {
        let (framing, body_only) = match self.config.encoding {
            Encoding::Ndjson => (Framing::CONCATENATED, false),
            Encoding::JsonArray => (Framing::JSON_ARRAY, false),
            Encoding::Lines => (Framing::CONCATENATED, true),
        };
        pack(events, &self.config.batch, framing, |event, out| {
            if body_only {
                // One line per event, by the rule of every line-oriented sink.
                super::line::push_body(event, out);
            } else {
                out.extend_from_slice(event.json().as_bytes());
                if self.config.encoding == Encoding::Ndjson {
                    out.push(b'\n');
                }
            }
            Ok(())
        })
    }

    async fn request(&self, client: &reqwest::Client, _body: &Body) -> anyhow::Result<reqwest::RequestBuilder> {
        let request = match self.config.method {
            Method::Post => client.post(&self.config.uri),
            Method::Put => client.put(&self.config.uri),
        };
        let request = request.headers(self.headers.clone());
        Ok(match &self.config.auth {
            Some(auth) => auth.apply(request),
            None => request,
        })
    }
}
