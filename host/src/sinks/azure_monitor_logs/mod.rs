//! Sink `azure_monitor_logs`: sends events to a Log Analytics workspace
//! (and so to Microsoft Sentinel) through the Logs Ingestion API: a JSON
//! array of events per request to a data collection rule's stream, with a
//! token from Microsoft Entra ID ([`token`]) ([`config::AzureMonitorLogsSinkConfig`]).
//!
//! A request carries at most 1 MiB, the API's limit; an event larger than
//! that alone is dead-lettered. The API answers `204` when it has taken the
//! whole request; it does not de-duplicate, so an event sent again after a
//! crash is stored twice (the rule's transformation or a query can drop
//! copies by `event.id`).

pub mod config;
#[cfg(test)]
mod tests;
mod token;

use super::SinkContext;
use super::delivery::http::{Body, Client, Encoded, Framing, Reply, Sender, Service, Verdict, pack};
use super::delivery::retry::Retry;
use crate::event::Event;
use anyhow::Context;
use config::{AzureMonitorLogsSinkConfig, MAX_REQUEST_BYTES};
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use std::time::Duration;
use token::Tokens;

/// Send batches until every input has closed (or the router stops while
/// the destination is down).
pub async fn run(config: AzureMonitorLogsSinkConfig, ctx: SinkContext) -> anyhow::Result<()> {
    let retry = ctx.retry();
    sender(config, &ctx, retry)?.run(ctx).await
}

/// The sink, with the retry timing as a parameter (tests shorten it).
fn sender(config: AzureMonitorLogsSinkConfig, ctx: &SinkContext, retry: Retry) -> anyhow::Result<Sender<Ingestion>> {
    let timeout = Duration::from_secs(config.request_timeout_secs);
    let client = Client::new(config.tls.as_ref(), timeout, config.compression, ctx.metrics.clone())
        .context("preparing the HTTP client")?;
    let tokens = Tokens::new(config.token_endpoint(), &config.client_id, config.client_secret.expose(), &config.scope);
    let uri = config.ingestion_uri();
    let batch = config.batch;
    Ok(Sender { client, service: Ingestion { uri, tokens, batch }, batch, retry })
}

/// The `azure_monitor_logs` sink's requests.
struct Ingestion {
    /// `{endpoint}/dataCollectionRules/{dcr}/streams/{stream}?api-version=…`.
    uri: String,
    tokens: Tokens,
    batch: super::delivery::http::HttpBatch,
}

impl Service for Ingestion {
    fn destination(&self) -> &str {
        &self.uri
    }

    fn encode(&self, events: &[&Event]) -> Encoded {
        let framing = Framing::JSON_ARRAY;
        let overhead = framing.open.len() + framing.close.len();
        pack(events, &self.batch, framing, |event, out| {
            let json = event.json();
            if json.len() + overhead > MAX_REQUEST_BYTES {
                return Err(format!(
                    "the event is {} bytes: the Logs Ingestion API takes at most {MAX_REQUEST_BYTES} bytes (1 MiB) in one request",
                    json.len()
                ));
            }
            out.extend_from_slice(json.as_bytes());
            Ok(())
        })
    }

    async fn request(&self, client: &reqwest::Client, _body: &Body) -> anyhow::Result<reqwest::RequestBuilder> {
        let bearer = self.tokens.bearer(client).await?;
        Ok(client.post(&self.uri).header(AUTHORIZATION, bearer).header(CONTENT_TYPE, "application/json"))
    }

    /// [`Verdict::of`], except that a `401` (the token expired early or was
    /// revoked) drops the token and tries again at once with a new one —
    /// once: a new token refused as well is a lasting refusal (such as a
    /// `scope` the endpoint does not take), dead-lettered with the answer.
    fn verdict(&self, reply: &Reply) -> Verdict {
        if reply.status == StatusCode::UNAUTHORIZED {
            return if self.tokens.rejected() {
                Verdict::Retry { after: Some(Duration::ZERO) }
            } else {
                Verdict::Refuse
            };
        }
        let verdict = Verdict::of(reply);
        if verdict == Verdict::Success {
            self.tokens.accepted();
        }
        verdict
    }
}
