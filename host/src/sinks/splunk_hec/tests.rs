//! The `splunk_hec` sink against a loopback HEC that answers as Splunk
//! documents it:
//! - the endpoints, the `Authorization: Splunk <token>` header, the envelope
//!   and the `/raw` query parameters: "HTTP Event Collector REST API
//!   endpoints" (<https://help.splunk.com/en/splunk-enterprise/get-data-in/collect-http-event-data/http-event-collector-rest-api-endpoints>)
//!   and "Format events for HTTP Event Collector"
//!   (<https://help.splunk.com/splunk-enterprise/get-data-in/collect-http-event-data/format-events-for-http-event-collector>);
//! - the status codes and their `{"text":…,"code":…}` bodies: "Troubleshoot
//!   HTTP Event Collector"
//!   (<https://help.splunk.com/en/splunk-enterprise/get-data-in/collect-http-event-data/troubleshoot-http-event-collector>);
//! - the channel, `ackId` and `/services/collector/ack`: "About HTTP Event
//!   Collector Indexer Acknowledgment"
//!   (<https://help.splunk.com/splunk-enterprise/get-data-in/collect-http-event-data/about-http-event-collector-indexer-acknowledgment>).

use super::*;
use crate::ack::BatchStatus;
use crate::sinks::testing::receiver::{Answer, Received, Receiver};
use crate::sinks::testing::{self, FAST, Running, WAIT, event, finished};
use serde_json::{Value as Json, json};
use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

const TOKEN: &str = "11111111-2222-3333-4444-555555555555";

/// A HEC with one token; `indexed` says whether an `ackId` was indexed yet.
struct Hec {
    /// Indexer acknowledgement is enabled for the token.
    acks: bool,
    next_ack: AtomicU64,
    indexed: Box<dyn Fn(u64) -> bool + Send + Sync>,
}

impl Hec {
    fn plain() -> Hec {
        Hec { acks: false, next_ack: AtomicU64::new(0), indexed: Box::new(|_| true) }
    }

    fn acknowledging(indexed: impl Fn(u64) -> bool + Send + Sync + 'static) -> Hec {
        Hec { acks: true, next_ack: AtomicU64::new(0), indexed: Box::new(indexed) }
    }

    fn error(status: u16, text: &str, code: u16) -> Answer {
        Answer::json(status, json!({"text": text, "code": code}))
    }

    fn answer(&self, request: &Received) -> Answer {
        // Troubleshoot HTTP Event Collector: codes 2 and 4.
        match request.header("authorization").strip_prefix("Splunk ") {
            None => return Hec::error(401, "Token is required", 2),
            Some(token) if token != TOKEN => return Hec::error(403, "Invalid token", 4),
            Some(_) => {}
        }
        let channel = !request.header("x-splunk-request-channel").is_empty() || query(request).contains_key("channel");
        match request.path() {
            "/services/collector/event" | "/services/collector/raw" if request.method == "POST" => {
                if request.body.is_empty() {
                    return Hec::error(400, "No data", 5);
                }
                if !self.acks {
                    return Answer::json(200, json!({"text": "Success", "code": 0}));
                }
                // Indexer acknowledgment: a request needs a channel, and its
                // reply carries the id to ask about.
                if !channel {
                    return Hec::error(400, "Data channel is missing", 10);
                }
                let id = self.next_ack.fetch_add(1, Ordering::SeqCst);
                Answer::json(200, json!({"text": "Success", "code": 0, "ackId": id}))
            }
            "/services/collector/ack" if request.method == "POST" => {
                if !self.acks {
                    return Hec::error(400, "ACK is disabled", 14);
                }
                if !channel {
                    return Hec::error(400, "Data channel is missing", 10);
                }
                let Ok(asked) = serde_json::from_slice::<Json>(&request.body) else {
                    return Hec::error(400, "Invalid data format", 6);
                };
                let statuses: serde_json::Map<String, Json> = asked["acks"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Json::as_u64)
                    .map(|id| (id.to_string(), Json::Bool((self.indexed)(id))))
                    .collect();
                Answer::json(200, json!({"acks": statuses}))
            }
            _ => Answer::new(404, ""),
        }
    }
}

fn query(request: &Received) -> BTreeMap<String, String> {
    let url = reqwest::Url::parse(&format!("http://hec{}", request.target)).unwrap();
    url.query_pairs().into_owned().collect()
}

fn config(text: &str) -> SplunkHecConfig {
    let config: SplunkHecConfig = toml::from_str(text).unwrap();
    let mut errors = Vec::new();
    config.validate("sinks.out", &mut errors);
    assert_eq!(errors, []);
    config
}

/// The config for `receiver`, with the token, a short batch timeout and
/// `extra` settings.
fn settings(receiver: &Receiver, extra: &str) -> SplunkHecConfig {
    config(&format!("uri = \"{}\"\ntoken = \"{TOKEN}\"\nbatch = {{ timeout_ms = 20 }}\n{extra}", receiver.uri("")))
}

fn start(config: SplunkHecConfig) -> Running {
    testing::start(FAST.grace, move |ctx| async move { sender(config, &ctx, FAST)?.run(ctx).await })
}

fn events(n: usize) -> Vec<Event> {
    (0..n).map(|i| event(json!({"event": {"id": format!("e-{i}"), "kind": "prompt"}, "n": i}))).collect()
}

/// Wait for requests off the async runtime's threads, until `done` holds.
async fn until(receiver: &Arc<Receiver>, done: impl Fn(&[Received]) -> bool + Send + 'static) -> Vec<Received> {
    let receiver = receiver.clone();
    tokio::task::spawn_blocking(move || receiver.wait_for(WAIT, done)).await.unwrap()
}

fn posts(got: &[Received], path: &str) -> Vec<Received> {
    got.iter().filter(|r| r.path() == path).cloned().collect()
}

const EVENT: &str = "/services/collector/event";
const RAW: &str = "/services/collector/raw";
const ACK: &str = "/services/collector/ack";

/// The concatenated envelopes of an `/event` body.
fn envelopes(request: &Received) -> Vec<Json> {
    serde_json::Deserializer::from_slice(&request.body).into_iter::<Json>().map(Result::unwrap).collect()
}

fn event_ids(requests: &[Received]) -> Vec<String> {
    requests
        .iter()
        .flat_map(envelopes)
        .map(|envelope| envelope["fields"]["event_id"].as_str().unwrap().to_owned())
        .collect()
}

fn is_uuid_v4(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.iter().map(|g| g.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && text.chars().all(|c| c == '-' || c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        && groups[2].starts_with('4')
        && matches!(groups[3].chars().next(), Some('8' | '9' | 'a' | 'b'))
}

#[tokio::test]
async fn envelopes_carry_the_time_metadata_and_event_id_gzipped_with_the_token() {
    let hec = Hec::plain();
    let receiver = Arc::new(Receiver::start(move |r| hec.answer(r)));
    let sink = start(settings(
        &receiver,
        "compression = \"gzip\"\nindex = \"agents\"\nsource = \"sluice-test\"\nhost = { field = \"agent.id\" }",
    ));
    let mut batch = vec![
        event(json!({"time": "2026-11-26T12:00:03.111Z", "event": {"id": "a-1"}, "agent": {"id": "planner-01"}})),
        event(json!({"time": "not a time", "event": {"id": "a-2"}})),
        event(json!({"time": "2026-11-26T12:00:03Z", "event": {"id": "a-3"}, "agent": {"id": "x"}})),
    ];
    batch[2].set_line("CEF:0|sluice|agent|1|prompt|p|3|".into());
    assert_eq!(finished(sink.send(batch).await).await, BatchStatus::Delivered);
    let got = until(&receiver, |got| !got.is_empty()).await;
    assert_eq!(got.len(), 1, "one request for the batch");
    let request = &got[0];
    assert_eq!((request.method.as_str(), request.target.as_str()), ("POST", EVENT));
    assert!(request.gzipped);
    assert_eq!(request.header("authorization"), format!("Splunk {TOKEN}"));
    assert_eq!(request.header("content-type"), "application/json");
    assert!(is_uuid_v4(request.header("x-splunk-request-channel")), "{}", request.header("x-splunk-request-channel"));
    let envelopes = envelopes(request);
    assert_eq!(envelopes.len(), 3);

    let first = &envelopes[0];
    assert_eq!(first["time"].as_f64(), Some(1_795_694_403.111), "epoch seconds of the event's time");
    assert_eq!(first["host"], "planner-01", "host from agent.id");
    assert_eq!((&first["index"], &first["source"]), (&json!("agents"), &json!("sluice-test")));
    assert_eq!(first["sourcetype"], config::DEFAULT_SOURCETYPE);
    assert_eq!(first["event"]["agent"]["id"], "planner-01", "the event's JSON object");
    assert_eq!(first["fields"], json!({"event_id": "a-1"}));

    let second = envelopes[1].as_object().unwrap();
    assert!(!second.contains_key("time"), "a time that is not RFC 3339 is left to HEC: {second:?}");
    assert!(!second.contains_key("host"), "no agent.id, no host: {second:?}");
    assert_eq!(second["fields"]["event_id"], "a-2");

    let third = &envelopes[2];
    assert_eq!(third["time"], json!(1_795_694_403), "whole seconds");
    assert_eq!(third["event"], "CEF:0|sluice|agent|1|prompt|p|3|", "a formatted line goes as text");
    assert_eq!(third["fields"]["event_id"], "a-3");
    assert!(sink.finish().await.is_empty());
}

#[tokio::test]
async fn metadata_comes_from_event_fields_or_fixed_text() {
    let hec = Hec::plain();
    let receiver = Arc::new(Receiver::start(move |r| hec.answer(r)));
    let sink = start(settings(
        &receiver,
        "index = { field = \"labels.index\" }\nsourcetype = { field = \"event.kind\" }\nhost = \"gateway-7\"",
    ));
    let batch = vec![
        event(json!({"event": {"id": "m-1", "kind": "tool_call"}, "labels": {"index": "sec"}})),
        event(json!({"event": {"id": "m-2", "kind": {"not": "text"}}})),
    ];
    assert_eq!(finished(sink.send(batch).await).await, BatchStatus::Delivered);
    let envelopes = envelopes(&until(&receiver, |got| !got.is_empty()).await[0]);
    assert_eq!(
        (&envelopes[0]["index"], &envelopes[0]["sourcetype"], &envelopes[0]["host"]),
        (&json!("sec"), &json!("tool_call"), &json!("gateway-7"))
    );
    let second = envelopes[1].as_object().unwrap();
    assert!(!second.contains_key("index") && !second.contains_key("sourcetype"), "{second:?}");
    assert_eq!(second["host"], "gateway-7");
    sink.finish().await;
}

#[tokio::test]
async fn raw_sends_lines_with_the_metadata_and_channel_in_the_query() {
    let hec = Hec::plain();
    let receiver = Arc::new(Receiver::start(move |r| hec.answer(r)));
    let sink = start(settings(
        &receiver,
        "endpoint = \"raw\"\nindex = \"agents\"\nsourcetype = \"cef\"\nsource = \"sluice\"\nhost = \"gw 1\"",
    ));
    let mut batch = events(3);
    batch[0].set_line("CEF:0|a\nb".into());
    batch[2].set_line("   ".into());
    assert_eq!(finished(sink.send(batch).await).await, BatchStatus::Delivered);
    let request = &until(&receiver, |got| !got.is_empty()).await[0];
    assert_eq!(request.path(), RAW);
    assert_eq!(request.header("authorization"), format!("Splunk {TOKEN}"));
    let query = query(request);
    assert_eq!(query["index"], "agents");
    assert_eq!(query["sourcetype"], "cef");
    assert_eq!(query["source"], "sluice");
    assert_eq!(query["host"], "gw 1");
    assert!(is_uuid_v4(&query["channel"]));
    assert_eq!(query["channel"], request.header("x-splunk-request-channel"));
    let lines: Vec<&str> = request.text().lines().collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0], "CEF:0|a#012b", "one line per event");
    assert_eq!(serde_json::from_str::<Json>(lines[1]).unwrap()["n"], 1, "an unformatted event goes as its JSON");
    assert_eq!(sink.metrics.counts().sent, 2);
    let dead = sink.finish().await;
    assert_eq!(dead.len(), 1, "the blank line is not sent: HEC would refuse the whole request");
    assert!(dead[0]["reason"].as_str().unwrap().contains("blank"), "{dead:?}");
}

#[tokio::test]
async fn events_are_delivered_only_once_the_indexer_acknowledges_them() {
    let indexed = Arc::new(AtomicBool::new(false));
    let flag = indexed.clone();
    let hec = Hec::acknowledging(move |_| flag.load(Ordering::SeqCst));
    let receiver = Arc::new(Receiver::start(move |r| hec.answer(r)));
    let sink =
        start(settings(&receiver, "acknowledgements = { enabled = true, poll_interval_ms = 20, timeout_secs = 10 }"));
    let mut status = sink.send(events(3)).await;
    until(&receiver, |got| posts(got, ACK).len() >= 3).await;
    assert_eq!(
        status.try_recv(),
        Err(tokio::sync::oneshot::error::TryRecvError::Empty),
        "not acknowledged while the indexer says false"
    );
    assert_eq!(sink.metrics.counts().sent, 0);
    indexed.store(true, Ordering::SeqCst);
    assert_eq!(finished(status).await, BatchStatus::Delivered);

    let got = receiver.received();
    let sent = posts(&got, EVENT);
    assert_eq!(sent.len(), 1, "sent once: polling does not resend");
    let channel = sent[0].header("x-splunk-request-channel").to_owned();
    for poll in posts(&got, ACK) {
        assert_eq!(poll.method, "POST");
        assert_eq!(query(&poll)["channel"], channel, "the ack is asked on the request's channel");
        assert_eq!(poll.header("authorization"), format!("Splunk {TOKEN}"));
        assert_eq!(serde_json::from_slice::<Json>(&poll.body).unwrap(), json!({"acks": [0]}));
    }
    assert_eq!(sink.metrics.counts().sent, 3);
    assert!(sink.finish().await.is_empty());
}

#[tokio::test]
async fn events_whose_ack_never_comes_are_sent_again() {
    // ackId 0 is never indexed (lost with an indexer); later ones are.
    let hec = Hec::acknowledging(|id| id > 0);
    let receiver = Arc::new(Receiver::start(move |r| hec.answer(r)));
    let sink =
        start(settings(&receiver, "acknowledgements = { enabled = true, poll_interval_ms = 50, timeout_secs = 1 }"));
    let started = Instant::now();
    assert_eq!(finished(sink.send(events(4)).await).await, BatchStatus::Delivered);
    assert!(started.elapsed() >= Duration::from_millis(900), "waited for the timeout: {:?}", started.elapsed());
    let sent = posts(&receiver.received(), EVENT);
    assert_eq!(sent.len(), 2, "sent again after the timeout");
    assert_eq!(event_ids(&sent[..1]), event_ids(&sent[1..]), "the same events, the same ids");
    let counts = sink.metrics.counts();
    assert_eq!((counts.sent, counts.dead_lettered), (4, 0));
    assert!(sink.finish().await.is_empty());
}

#[tokio::test]
async fn a_busy_hec_is_retried() {
    let hec = Hec::plain();
    let calls = AtomicUsize::new(0);
    let receiver = Arc::new(Receiver::start(move |r| match calls.fetch_add(1, Ordering::SeqCst) {
        0 => Hec::error(503, "Server is busy", 9),
        _ => hec.answer(r),
    }));
    let sink = start(settings(&receiver, ""));
    assert_eq!(finished(sink.send(events(2)).await).await, BatchStatus::Delivered);
    let sent = posts(&receiver.received(), EVENT);
    assert_eq!(sent.len(), 2);
    assert_eq!(event_ids(&sent[..1]), event_ids(&sent[1..]));
    let statuses = sink.metrics.statuses();
    assert_eq!((statuses[&503], statuses[&200]), (1, 1));
    assert_eq!(sink.metrics.counts().sent, 2);
    assert!(sink.finish().await.is_empty());
}

#[tokio::test]
async fn an_invalid_token_or_invalid_data_dead_letters_with_hecs_text() {
    let hec = Hec::plain();
    let receiver = Arc::new(Receiver::start(move |r| hec.answer(r)));
    let sink = start(config(&format!("uri = \"{}\"\ntoken = \"not-the-token\"", receiver.uri(""))));
    assert_eq!(finished(sink.send(events(2)).await).await, BatchStatus::Delivered, "done: dead-lettered");
    assert_eq!(receiver.received().len(), 1, "a refusal is not retried");
    let dead = sink.finish().await;
    assert_eq!(dead.len(), 2);
    let reason = dead[0]["reason"].as_str().unwrap();
    assert!(reason.contains("403") && reason.contains("Invalid token"), "{reason}");
    assert!(!reason.contains("not-the-token"), "the token is not in the reason: {reason}");

    let receiver = Arc::new(Receiver::start(|_| {
        Answer::json(400, json!({"text": "Invalid data format", "code": 6, "invalid-event-number": 1}))
    }));
    let sink = start(settings(&receiver, ""));
    assert_eq!(finished(sink.send(events(2)).await).await, BatchStatus::Delivered);
    let dead = sink.finish().await;
    assert_eq!(dead.len(), 2);
    let reason = dead[1]["reason"].as_str().unwrap();
    assert!(reason.contains("Invalid data format") && reason.contains("invalid-event-number"), "{reason}");
}

#[tokio::test]
async fn a_success_without_an_ack_id_is_sent_again() {
    // A 200 with acknowledgement on but no ackId (a proxy answering for HEC,
    // a reply cut short) confirms nothing: the events must be sent again.
    let hec = Hec::acknowledging(|_| true);
    let calls = AtomicUsize::new(0);
    let receiver = Arc::new(Receiver::start(move |r| {
        if r.path() == EVENT && calls.fetch_add(1, Ordering::SeqCst) == 0 {
            return Answer::json(200, json!({"text": "Success", "code": 0}));
        }
        hec.answer(r)
    }));
    let sink = start(settings(&receiver, "acknowledgements = { enabled = true, poll_interval_ms = 10 }"));
    assert_eq!(finished(sink.send(events(2)).await).await, BatchStatus::Delivered);
    let got = receiver.received();
    let sent = posts(&got, EVENT);
    assert_eq!(sent.len(), 2, "sent again");
    assert_eq!(event_ids(&sent[..1]), event_ids(&sent[1..]));
    assert!(posts(&got, ACK).iter().any(|poll| poll.text() == r#"{"acks":[0]}"#));
    let counts = sink.metrics.counts();
    assert_eq!((counts.sent, counts.dead_lettered), (2, 0));
    assert!(sink.finish().await.is_empty());
}

#[tokio::test]
async fn acknowledgement_disabled_on_the_token_is_refused_with_the_fix() {
    // The token does not acknowledge: its 200s carry no ackId and the ack
    // endpoint answers code 14. Sending again would index the events again.
    let hec = Hec::plain();
    let receiver = Arc::new(Receiver::start(move |r| hec.answer(r)));
    let sink = start(settings(&receiver, "acknowledgements = { enabled = true, poll_interval_ms = 10 }"));
    assert_eq!(finished(sink.send(events(2)).await).await, BatchStatus::Delivered, "done: dead-lettered");
    let got = receiver.received();
    assert_eq!(posts(&got, EVENT).len(), 1, "not sent again");
    assert_eq!(posts(&got, ACK).len(), 1);
    let dead = sink.finish().await;
    assert_eq!(dead.len(), 2);
    let reason = dead[0]["reason"].as_str().unwrap();
    assert!(reason.contains("ACK is disabled") && reason.contains("acknowledgements.enabled = false"), "{reason}");
}

#[tokio::test]
async fn ten_thousand_events_arrive_once() {
    let hec = Hec::plain();
    let receiver = Arc::new(Receiver::start(move |r| hec.answer(r)));
    let sink = start(settings(&receiver, "compression = \"gzip\""));
    let started = Instant::now();
    let batches: Vec<_> = (0..10)
        .map(|b| {
            (0..1000)
                .map(|i| {
                    let n = b * 1000 + i;
                    event(
                        json!({"time": "2026-11-26T12:00:03.111Z", "event": {"id": format!("t-{n}"), "kind": "prompt"},
                        "agent": {"id": "planner-01"}, "n": n}),
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect();
    let mut statuses = Vec::new();
    for batch in batches {
        statuses.push(sink.send(batch).await);
    }
    for status in statuses {
        assert_eq!(finished(status).await, BatchStatus::Delivered);
    }
    let elapsed = started.elapsed();
    let ids = event_ids(&posts(&receiver.received(), EVENT));
    assert_eq!(ids.len(), 10_000);
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 10_000, "each once");
    eprintln!("splunk_hec: 10000 events in {elapsed:?} ({:.0} events/s)", 10_000.0 / elapsed.as_secs_f64());
    assert_eq!(sink.metrics.counts().sent, 10_000);
    sink.finish().await;
}

#[test]
fn bad_settings_are_refused_with_the_key_named() {
    let errors = |text: &str| {
        let config: SplunkHecConfig = toml::from_str(text).unwrap();
        let mut errors = Vec::new();
        config.validate("sinks.out", &mut errors);
        errors.iter().map(ToString::to_string).collect::<Vec<_>>()
    };
    let got = errors("uri = \"ftp://x/\"\ntoken = \" \"\nbatch = { max_events = 0 }");
    assert!(got.iter().any(|e| e.starts_with("sinks.out.uri") && e.contains("http://")), "{got:?}");
    assert!(got.iter().any(|e| e.starts_with("sinks.out.token") && e.contains("empty")), "{got:?}");
    assert!(got.iter().any(|e| e.starts_with("sinks.out.batch.max_events")), "{got:?}");
    let got = errors(
        "uri = \"https://splunk.example:8088/services/collector/event\"\ntoken = \"t\"\nendpoint = \"raw\"\n\
         host = { field = \"agent.id\" }\nindex = \"\"\nacknowledgements = { enabled = true, poll_interval_ms = 0 }",
    );
    assert!(got.iter().any(|e| e.starts_with("sinks.out.uri") && e.contains("base URI")), "{got:?}");
    assert!(got.iter().any(|e| e.starts_with("sinks.out.host") && e.contains("endpoint = \"event\"")), "{got:?}");
    assert!(got.iter().any(|e| e.starts_with("sinks.out.index") && e.contains("empty")), "{got:?}");
    assert!(got.iter().any(|e| e.starts_with("sinks.out.acknowledgements.poll_interval_ms")), "{got:?}");
    let got = errors("uri = \"http://x\"\ntoken = \"t\"\nsource = { field = \"a..b\" }");
    assert!(got.iter().any(|e| e.starts_with("sinks.out.source.field") && e.contains("empty segment")), "{got:?}");

    let parse = |text: &str| toml::from_str::<SplunkHecConfig>(text).unwrap_err().to_string();
    assert!(parse("uri = \"http://x\"").contains("missing field `token`"));
    assert!(parse("uri = \"http://x\"\ntoken = \"t\"\nurl = \"http://y\"").contains("unknown field `url`"));
    let got = parse("uri = \"http://x\"\ntoken = \"t\"\nhost = { path = \"agent.id\" }");
    assert!(got.contains("unknown field `path`"), "{got}");
    let got = parse("uri = \"http://x\"\ntoken = \"t\"\nendpoint = \"metrics\"");
    assert!(got.contains("endpoint") || got.contains("`event`"), "{got}");

    let printed = format!("{:?}", config("uri = \"http://x\"\ntoken = \"s3cret-token\""));
    assert!(!printed.contains("s3cret"), "the token is never printed: {printed}");
}

#[test]
fn times_become_epoch_seconds_and_channels_are_uuids() {
    assert_eq!(epoch("2026-11-26T12:00:03.111Z").as_deref(), Some("1795694403.111"));
    assert_eq!(epoch("2026-11-26T13:00:03.5+01:00").as_deref(), Some("1795694403.5"));
    assert_eq!(epoch("2026-11-26T12:00:03.123456789Z").as_deref(), Some("1795694403.123456"));
    assert_eq!(epoch("1969-12-31T23:59:59.5Z").as_deref(), Some("-0.5"));
    assert_eq!(epoch("yesterday"), None);
    let (a, b) = (channel_id(), channel_id());
    assert!(is_uuid_v4(&a) && is_uuid_v4(&b), "{a} {b}");
    assert_ne!(a, b);
}

#[test]
fn the_sink_is_read_from_a_sinks_table_as_splunk_hec() {
    let table: toml::Value = toml::from_str(
        "type = \"splunk_hec\"\nuri = \"https://splunk.example:8088\"\ntoken = \"t\"\n\
         host = { field = \"agent.id\" }\nindex = \"agents\"",
    )
    .unwrap();
    let sink: crate::sinks::SinkConfig = table.try_into().unwrap();
    assert_eq!(sink.type_name(), "splunk_hec");
    let mut errors = Vec::new();
    sink.validate("sinks.splunk", &mut errors);
    assert_eq!(errors, []);
    let crate::sinks::SinkConfig::SplunkHec(config) = sink else { panic!("not splunk_hec") };
    assert_eq!(config.host, Some(Meta::Field("agent.id".into())));
    assert_eq!(config.index, Some(Meta::Text("agents".into())));
}
