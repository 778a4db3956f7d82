//! Sink `elasticsearch` (Elasticsearch or OpenSearch): sends events to the
//! `_bulk` API, each as a `create` of a document in a data stream or a
//! dated index ([`config::ElasticsearchSinkConfig`]).
//!
//! Each document's `_id` is the event's `event.id`, and the action is
//! `create`, which fails with `409` when that `_id` exists: an event sent
//! again after a crash (delivery is at least once) is refused as a
//! duplicate, and that refusal counts as delivered. An event without an
//! `event.id` is sent without `_id`; Elasticsearch then makes one up, and a
//! redelivery of it is stored twice.
//!
//! `_bulk` answers `200` even when some documents were refused; the items
//! of its answer say which ([`Bulk::accepted`]).

pub mod config;
#[cfg(test)]
mod tests;

use super::SinkContext;
use super::delivery::fields::Fields;
use super::delivery::http::{Accepted, Body, Client, Encoded, Framing, Reply, Sender, Service, pack};
use super::delivery::retry::Retry;
use crate::event::Event;
use anyhow::Context;
use config::{ElasticsearchSinkConfig, Target};
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use serde::Deserialize;
use std::collections::HashMap;
use std::time::Duration;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Only what is needed of each item: the status and the reason of a refusal.
/// Less to send back for a large request (`filter_path` is one of the
/// options common to every Elasticsearch and OpenSearch API).
const FILTER_PATH: &str = "errors,items.*.status,items.*.error.type,items.*.error.reason";

/// Send batches until every input has closed (or the router stops while
/// the destination is down).
pub async fn run(config: ElasticsearchSinkConfig, ctx: SinkContext) -> anyhow::Result<()> {
    let retry = ctx.retry();
    sender(config, &ctx, retry)?.run(ctx).await
}

/// The sink, with the retry timing as a parameter (tests shorten it).
fn sender(config: ElasticsearchSinkConfig, ctx: &SinkContext, retry: Retry) -> anyhow::Result<Sender<Bulk>> {
    let timeout = Duration::from_secs(config.request_timeout_secs);
    let client = Client::new(config.tls.as_ref(), timeout, config.compression, ctx.metrics.clone())
        .context("preparing the HTTP client")?;
    let mut url = reqwest::Url::parse(&config.uri).with_context(|| format!("the URI `{}`", config.uri))?;
    let path = format!("{}/_bulk", url.path().trim_end_matches('/'));
    url.set_path(&path);
    url.query_pairs_mut().append_pair("filter_path", FILTER_PATH);
    let api_key = match &config.api_key {
        Some(key) => {
            let mut value = HeaderValue::from_str(&format!("ApiKey {}", key.expose())).context("the API key")?;
            value.set_sensitive(true);
            Some(value)
        }
        None => None,
    };
    let mut destination = super::http::redacted(config.uri.trim_end_matches('/'));
    destination.push_str("/_bulk");
    let fields = Fields::new(&["event.id", "time", "@timestamp"]).expect("valid paths");
    let batch = config.batch;
    let service = Bulk { target: config.target(), url, api_key, destination, fields, config };
    Ok(Sender { client, service, batch, retry })
}

/// The `elasticsearch` sink's requests.
struct Bulk {
    config: ElasticsearchSinkConfig,
    target: Target,
    /// `<uri>/_bulk?filter_path=…`.
    url: reqwest::Url,
    api_key: Option<HeaderValue>,
    destination: String,
    /// `event.id`, `time` and `@timestamp`.
    fields: Fields,
}

impl Bulk {
    /// Append the action line and the document line of `event`.
    fn encode_one(&self, event: &Event, out: &mut Vec<u8>) -> Result<(), String> {
        let json = event.json().trim();
        let Some(inside) = json.strip_prefix('{') else {
            return Err("Elasticsearch takes JSON objects only; this event is not one".into());
        };
        let found = self.fields.read(event);
        let time = found.text(1).and_then(|text| OffsetDateTime::parse(&text, &Rfc3339).ok());
        let index = match &self.target {
            Target::DataStream(name) => std::borrow::Cow::Borrowed(name.as_str()),
            Target::Index(pattern) => {
                let date = time.unwrap_or_else(OffsetDateTime::now_utc).to_offset(time::UtcOffset::UTC).date();
                std::borrow::Cow::Owned(config::expand(pattern, date.year(), date.month().into(), date.day()))
            }
        };
        out.extend_from_slice(b"{\"create\":{\"_index\":");
        serde_json::to_writer(&mut *out, &index).expect("writing to memory");
        if let Some(id) = found.text(0) {
            out.extend_from_slice(b",\"_id\":");
            serde_json::to_writer(&mut *out, &id).expect("writing to memory");
        }
        out.extend_from_slice(b"}}\n");
        let start = out.len();
        // A data stream refuses a document without `@timestamp`.
        if matches!(self.target, Target::DataStream(_)) && found.raw(2).is_none() {
            let at = crate::timestamp::format_rfc3339(time.unwrap_or_else(OffsetDateTime::now_utc));
            out.extend_from_slice(b"{\"@timestamp\":");
            serde_json::to_writer(&mut *out, &at).expect("writing to memory");
            if !inside.trim_start().starts_with('}') {
                out.push(b',');
            }
            out.extend_from_slice(inside.as_bytes());
        } else {
            out.extend_from_slice(json.as_bytes());
        }
        // A document takes one line. A line feed in JSON text is whitespace
        // between tokens (in a string it is escaped), so a space does as well.
        for byte in &mut out[start..] {
            if matches!(*byte, b'\n' | b'\r') {
                *byte = b' ';
            }
        }
        out.push(b'\n');
        Ok(())
    }
}

/// What `_bulk` answers, as far as is read
/// (<https://www.elastic.co/guide/en/elasticsearch/reference/current/docs-bulk.html#bulk-api-response-body>).
#[derive(Deserialize)]
struct BulkReply {
    errors: bool,
    /// One per action, in the order of the request, each keyed by its action.
    items: Vec<HashMap<String, Item>>,
}

#[derive(Deserialize)]
struct Item {
    status: u16,
    error: Option<ItemError>,
}

#[derive(Deserialize)]
struct ItemError {
    #[serde(rename = "type")]
    kind: Option<String>,
    reason: Option<String>,
}

impl Service for Bulk {
    fn destination(&self) -> &str {
        &self.destination
    }

    fn encode(&self, events: &[&Event]) -> Encoded {
        pack(events, &self.config.batch, Framing::CONCATENATED, |event, out| self.encode_one(event, out))
    }

    async fn request(&self, client: &reqwest::Client, _body: &Body) -> anyhow::Result<reqwest::RequestBuilder> {
        let request = client.post(self.url.clone()).header(CONTENT_TYPE, "application/x-ndjson");
        Ok(match (&self.config.auth, &self.api_key) {
            (Some(auth), _) => auth.apply(request),
            (None, Some(key)) => request.header(AUTHORIZATION, key.clone()),
            (None, None) => request,
        })
    }

    /// Each document's fate from the items of the answer: `2xx` created;
    /// `409` (its `_id` exists: a redelivery) counts as delivered; `429`
    /// (and `5xx`, a shard unavailable for now) is sent again alone; any
    /// other status goes to the dead letter with the item's error.
    async fn accepted(&self, _client: &Client, reply: Reply, body: &Body) -> Accepted {
        let reply = match serde_json::from_slice::<BulkReply>(&reply.body) {
            Ok(bulk) if bulk.items.len() == body.events.len() => bulk,
            // A 200 that does not say what became of each document (a proxy's
            // page, a cut answer) leaves each document's fate unknown. Sending
            // the whole body again is safe: the documents already created are
            // refused as duplicates by their `_id` (and count as delivered);
            // only those without `event.id` may be stored twice.
            Ok(bulk) => {
                return self
                    .unreadable(body, &format!("{} items for {} documents", bulk.items.len(), body.events.len()));
            }
            Err(err) => return self.unreadable(body, &format!("not a bulk answer ({err}): {}", reply.text())),
        };
        if !reply.errors {
            return Accepted::All;
        }
        let mut retry = Vec::new();
        let mut rejected = Vec::new();
        for (k, item) in reply.items.iter().enumerate() {
            let Some(item) = item.values().next() else {
                return self.unreadable(body, &format!("item {k} is empty"));
            };
            let status = StatusCode::from_u16(item.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            if status.is_success() || status == StatusCode::CONFLICT {
                continue;
            }
            if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
                retry.push(k);
                continue;
            }
            let (kind, reason) = match &item.error {
                Some(error) => (error.kind.as_deref().unwrap_or("error"), error.reason.as_deref().unwrap_or("")),
                None => ("error", ""),
            };
            rejected.push((k, format!("Elasticsearch refused the document: HTTP {status}: {kind}: {reason}")));
        }
        if retry.is_empty() && rejected.is_empty() { Accepted::All } else { Accepted::Partly { retry, rejected } }
    }
}

impl Bulk {
    /// Send every document of `body` again, after saying why.
    fn unreadable(&self, body: &Body, why: &str) -> Accepted {
        tracing::warn!(destination = %self.destination, documents = body.events.len(),
            "the bulk answer does not say what became of each document, so they are sent again: {why}");
        Accepted::Partly { retry: (0..body.events.len()).collect(), rejected: Vec::new() }
    }
}
