//! Sink `tcp`: writes one LF-terminated line per event to a TCP destination.
//!
//! Delivery is the syslog sink's, with the same code
//! ([`super::delivery::stream`]): the
//! connection is opened lazily; a batch is let go only once all of it was
//! written and flushed; on any failure the connection is dropped and the same
//! batch is sent again on a new one after an exponential backoff with jitter
//! (at least once: a retried batch can arrive twice, none is lost), while the
//! inputs wait; once the router stops, a destination that is still down is
//! retried for `shutdown_timeout_ms` more, then the batches held are failed so
//! their sources do not count them as sent.

pub mod config;
#[cfg(test)]
mod tests;

use super::SinkContext;
use super::delivery::retry::Retry;
use super::delivery::stream::{Destination, Encoded, deliver_with};
use crate::event::{Batch, Event};
use config::{Encoding, TcpSinkConfig};
use serde::Deserialize;
use std::borrow::Cow;

/// Send batches until every input has closed (or the router stops while
/// the destination is down).
pub async fn run(config: TcpSinkConfig, ctx: SinkContext) -> anyhow::Result<()> {
    let retry = ctx.retry();
    deliver(ctx, config, retry).await
}

/// The sink's loop, with the retry timing as a parameter (tests shorten it).
async fn deliver(ctx: SinkContext, config: TcpSinkConfig, retry: Retry) -> anyhow::Result<()> {
    let destination = Destination::tcp(config.address);
    deliver_with(ctx, &destination, retry, |batch, out| encode(config.encoding, batch, out)).await
}

/// Why an event is not sent with `encoding = "message"`.
const NO_MESSAGE: &str = "the event has no string `message` field to send (sink encoding = \"message\")";

/// Encode a batch as LF-terminated lines into `out`; the events that have
/// no line to send are returned with the reason.
fn encode(encoding: Encoding, batch: &Batch, out: &mut Encoded) -> Vec<(Event, String)> {
    out.bytes.clear();
    out.datagrams.clear();
    out.events = 0;
    let mut rejected = Vec::new();
    for event in &batch.events {
        match encoding {
            Encoding::Body => super::line::push_body(event, &mut out.bytes),
            Encoding::Message => match event.message().map(Cow::Borrowed).or_else(|| message(event.json())) {
                Some(message) => super::line::push(message.as_bytes(), &mut out.bytes),
                None => {
                    rejected.push((event.clone(), NO_MESSAGE.to_owned()));
                    continue;
                }
            },
        }
        out.events += 1;
    }
    rejected
}

/// The top-level `message` of an event's JSON, if it is a string.
fn message(json: &str) -> Option<Cow<'_, str>> {
    #[derive(Deserialize)]
    struct Fields<'a> {
        #[serde(borrow, default, deserialize_with = "borrowed_str")]
        message: Option<Cow<'a, str>>,
    }
    /// A string, borrowed from the JSON text unless it has escapes.
    fn borrowed_str<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Cow<'de, str>>, D::Error> {
        #[derive(Deserialize)]
        struct Text<'a>(#[serde(borrow)] Cow<'a, str>);
        Ok(Some(Text::deserialize(d)?.0))
    }
    serde_json::from_str::<Fields<'_>>(json).ok()?.message
}
