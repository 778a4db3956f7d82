//! HEC indexer acknowledgement: a `200` from HEC only says the request
//! looked valid; with acknowledgement on, it also carries an `ackId`, and
//! the events count as delivered once `/services/collector/ack` says that id
//! was indexed. Until then the batch is held (its source does not advance);
//! an id that is not confirmed in time has its events sent again, as
//! Splunk's "About HTTP Event Collector Indexer Acknowledgment" asks.

use crate::sinks::delivery::http::Client;
use crate::validation::ConfigError;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use serde::Deserialize;
use std::collections::HashMap;
use std::time::Duration;
use tokio::time::Instant;

/// `acknowledgements = { … }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Acknowledgements {
    /// Wait for the indexer's acknowledgement of each request (default
    /// false). The token must have indexer acknowledgement enabled.
    #[serde(default)]
    pub enabled: bool,
    /// How often to ask whether a request was indexed (default 500 ms).
    #[serde(default = "default_poll_interval_ms")]
    pub poll_interval_ms: u64,
    /// How long to wait for it before sending the events again (default 60 s).
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
}

fn default_poll_interval_ms() -> u64 {
    500
}

fn default_timeout_secs() -> u64 {
    60
}

impl Default for Acknowledgements {
    fn default() -> Self {
        Acknowledgements {
            enabled: false,
            poll_interval_ms: default_poll_interval_ms(),
            timeout_secs: default_timeout_secs(),
        }
    }
}

impl Acknowledgements {
    /// Report every problem; `at` is the `acknowledgements` table.
    pub fn validate(&self, at: &str, errors: &mut Vec<ConfigError>) {
        if self.poll_interval_ms < 10 {
            errors.push(ConfigError::new(format!("{at}.poll_interval_ms"), "must be at least 10"));
        }
        if self.timeout_secs == 0 {
            errors.push(ConfigError::new(format!("{at}.timeout_secs"), "must be at least 1"));
        } else if self.timeout_secs.saturating_mul(1000) < self.poll_interval_ms {
            errors.push(ConfigError::new(format!("{at}.timeout_secs"), "must be longer than poll_interval_ms"));
        }
    }
}

/// What became of one `ackId`.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Indexed.
    Indexed,
    /// Not confirmed within the timeout: send the events again.
    TimedOut,
    /// HEC will never confirm it (acknowledgement is off for the token):
    /// the reason, for the dead letter.
    Refused(String),
}

/// The `/services/collector/ack` endpoint of one sink run's channel.
#[derive(Debug)]
pub struct Poller {
    /// `…/services/collector/ack?channel=<id>`.
    pub url: reqwest::Url,
    pub channel: HeaderValue,
    pub authorization: HeaderValue,
    pub settings: Acknowledgements,
    /// For messages.
    pub destination: String,
}

/// HEC's answer to an ack query: `{"acks":{"N":true}}`.
#[derive(Deserialize)]
struct Statuses {
    acks: HashMap<String, bool>,
}

/// HEC's error shape: `{"text":"…","code":N}`.
#[derive(Deserialize)]
struct HecError {
    code: Option<i64>,
}

/// The HEC status code of a token with indexer acknowledgement disabled
/// ("Troubleshoot HTTP Event Collector").
pub(super) const ACK_DISABLED: i64 = 14;

/// One answer of the ack endpoint.
enum Answer {
    /// Whether the id was indexed.
    Indexed(bool),
    /// Acknowledgement is off for the token (HEC's code 14): the reason.
    Disabled(String),
    /// No answer, `5xx`, a malformed reply …: ask again later.
    Failed,
}

impl Poller {
    /// Ask about `ack_id` every poll interval until HEC says it was indexed,
    /// refuses to say, or the timeout passes. Failed queries are asked
    /// again: the id stays valid.
    pub async fn wait(&self, client: &Client, ack_id: u64) -> Outcome {
        let deadline = Instant::now() + Duration::from_secs(self.settings.timeout_secs);
        let interval = Duration::from_millis(self.settings.poll_interval_ms);
        loop {
            // The request needs time to reach an indexer: ask only after a pause.
            if Instant::now() + interval > deadline {
                return Outcome::TimedOut;
            }
            tokio::time::sleep(interval).await;
            match self.ask(client, ack_id).await {
                Answer::Indexed(true) => return Outcome::Indexed,
                Answer::Indexed(false) | Answer::Failed => {}
                Answer::Disabled(reason) => return Outcome::Refused(reason),
            }
        }
    }

    /// Why HEC will give no acknowledgement, when the ack endpoint says it
    /// is disabled for the token (asked once, after a `200` that had no
    /// `ackId`); `None` when it says anything else.
    pub async fn disabled(&self, client: &Client) -> Option<String> {
        match self.ask(client, 0).await {
            Answer::Disabled(reason) => Some(reason),
            _ => None,
        }
    }

    /// `POST /services/collector/ack?channel=…` with `{"acks":[ack_id]}`.
    async fn ask(&self, client: &Client, ack_id: u64) -> Answer {
        let request = client
            .http()
            .post(self.url.clone())
            .header(AUTHORIZATION, self.authorization.clone())
            .header(super::CHANNEL_HEADER, self.channel.clone())
            .header(CONTENT_TYPE, "application/json")
            .body(format!("{{\"acks\":[{ack_id}]}}"));
        let reply = match client.send(request, None, &self.destination).await {
            Ok(reply) => reply,
            Err(err) => {
                tracing::debug!(destination = %self.destination, "asking about ackId {ack_id}: {err:#}");
                return Answer::Failed;
            }
        };
        if reply.status.is_success() {
            return match serde_json::from_slice::<Statuses>(&reply.body) {
                Ok(statuses) => Answer::Indexed(statuses.acks.get(&ack_id.to_string()) == Some(&true)),
                Err(err) => {
                    tracing::debug!(destination = %self.destination, "a malformed ack reply ({err}): {}", reply.text());
                    Answer::Failed
                }
            };
        }
        let code = serde_json::from_slice::<HecError>(&reply.body).ok().and_then(|error| error.code);
        if code == Some(ACK_DISABLED) {
            return Answer::Disabled(format!(
                "{}; the HEC token has indexer acknowledgement disabled: enable it on the token, \
                 or set acknowledgements.enabled = false (events answered with 200 may have been indexed)",
                reply.refusal()
            ));
        }
        tracing::debug!(destination = %self.destination, "asking about ackId {ack_id}: {}", reply.refusal());
        Answer::Failed
    }
}
