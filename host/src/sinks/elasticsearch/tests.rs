//! The `elasticsearch` sink against a loopback receiver that implements
//! `_bulk` as documented in
//! <https://www.elastic.co/guide/en/elasticsearch/reference/current/docs-bulk.html>:
//! an NDJSON body of action and document lines; a `200` whose `items` hold
//! one result per action, in order, keyed by the action, with its `status`
//! and, for a failure, an `error` with `type` and `reason`; `errors` true
//! when any item failed; `create` of an existing `_id` fails with `409`
//! `version_conflict_engine_exception`.

use super::*;
use crate::ack::BatchStatus;
use crate::sinks::testing::receiver::{Answer, Received, Receiver};
use crate::sinks::testing::{self, FAST, Running, event, finished, requests};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

fn config(text: &str) -> ElasticsearchSinkConfig {
    let config: ElasticsearchSinkConfig = toml::from_str(text).unwrap();
    let mut errors = Vec::new();
    config.validate("sinks.es", &mut errors);
    assert_eq!(errors, []);
    config
}

fn start(config: ElasticsearchSinkConfig) -> Running {
    testing::start(FAST.grace, move |ctx| async move { sender(config, &ctx, FAST)?.run(ctx).await })
}

fn events(n: usize) -> Vec<Event> {
    (0..n).map(|i| event(json!({"event": {"id": format!("e-{i}")}, "time": "2026-03-04T05:06:07Z", "n": i}))).collect()
}

/// A bulk request's (action, document) pairs.
fn pairs(request: &Received) -> Vec<(Value, Value)> {
    let text = request.text();
    assert!(text.ends_with('\n'), "the last line ends with a line feed");
    let lines: Vec<Value> = text.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert_eq!(lines.len() % 2, 0, "an action line and a document line for each");
    lines.chunks(2).map(|pair| (pair[0].clone(), pair[1].clone())).collect()
}

/// An item's error as Elasticsearch writes it.
fn error(status: u16) -> Value {
    match status {
        409 => json!({"type": "version_conflict_engine_exception",
            "reason": "[x]: version conflict, document already exists (current version [1])"}),
        429 => {
            json!({"type": "es_rejected_execution_exception", "reason": "rejected execution of coordinating operation"})
        }
        _ => json!({"type": "mapper_parsing_exception", "reason": "failed to parse field [n] of type [long]"}),
    }
}

/// A cluster: `create` stores the `_id`s it has not seen (`201`) and
/// refuses those it has (`409`); `status` may decide another status for a
/// document first.
struct Cluster {
    ids: Mutex<HashSet<String>>,
    status: Box<Decide>,
}

type Decide = dyn Fn(&Value) -> Option<u16> + Send + Sync;

impl Cluster {
    fn new(status: impl Fn(&Value) -> Option<u16> + Send + Sync + 'static) -> Arc<Cluster> {
        Arc::new(Cluster { ids: Mutex::new(HashSet::new()), status: Box::new(status) })
    }

    fn bulk(&self, request: &Received) -> Answer {
        if request.method != "POST" || request.path() != "/_bulk" {
            return Answer::json(404, json!({"error": "no handler", "status": 404}));
        }
        let mut errors = false;
        let items: Vec<Value> = pairs(request)
            .iter()
            .enumerate()
            .map(|(seq, (action, document))| {
                let create = &action["create"];
                let id = create["_id"].as_str().map_or_else(|| format!("auto-{seq}"), str::to_owned);
                let status = (self.status)(document)
                    .unwrap_or_else(|| if self.ids.lock().unwrap().insert(id.clone()) { 201 } else { 409 });
                let mut item = json!({"_index": create["_index"], "_id": id, "status": status});
                if status == 201 {
                    item["result"] = json!("created");
                    item["_version"] = json!(1);
                    item["_shards"] = json!({"total": 2, "successful": 1, "failed": 0});
                    item["_seq_no"] = json!(seq);
                    item["_primary_term"] = json!(1);
                } else {
                    errors = true;
                    item["error"] = error(status);
                }
                json!({"create": item})
            })
            .collect();
        Answer::json(200, json!({"took": 3, "errors": errors, "items": items}))
    }
}

fn receiver(cluster: &Arc<Cluster>) -> Arc<Receiver> {
    let cluster = cluster.clone();
    Arc::new(Receiver::start(move |request| cluster.bulk(request)))
}

#[tokio::test]
async fn documents_are_created_in_a_data_stream_with_their_event_id_and_a_timestamp() {
    let cluster = Cluster::new(|_| None);
    let receiver = receiver(&cluster);
    let sink = start(config(&format!(
        "uri = \"{}\"\ndata_stream = \"logs-sluice-default\"\napi_key = \"a2V5OnNlY3JldA==\"\ncompression = \"gzip\"",
        receiver.uri("/")
    )));
    let batch = vec![
        event(json!({"event": {"id": "a"}, "time": "2026-03-04T07:06:07+02:00", "n": 0})),
        event(json!({"event": {"id": "b"}, "time": "2026-03-04T05:06:07Z", "@timestamp": "2020-01-01T00:00:00Z"})),
        event(json!({"time": "2026-03-04T05:06:07Z", "n": 2})),
        event(json!({"event": {"id": "d"}})),
    ];
    let before = OffsetDateTime::now_utc();
    assert_eq!(finished(sink.send(batch).await).await, BatchStatus::Delivered);
    let request = &requests(&receiver, 1).await[0];
    assert_eq!(request.path(), "/_bulk");
    assert!(request.target.contains("filter_path="), "{}", request.target);
    assert!(request.gzipped);
    assert_eq!(request.header("content-type"), "application/x-ndjson");
    assert_eq!(request.header("authorization"), "ApiKey a2V5OnNlY3JldA==");
    let pairs = pairs(request);
    assert_eq!(pairs.len(), 4);
    let actions: Vec<&Value> = pairs.iter().map(|(action, _)| action).collect();
    assert_eq!(actions[0], &json!({"create": {"_index": "logs-sluice-default", "_id": "a"}}));
    assert_eq!(actions[2], &json!({"create": {"_index": "logs-sluice-default"}}), "no event.id, no _id");
    assert_eq!(
        pairs[0].1,
        json!({"@timestamp": "2026-03-04T05:06:07Z", "event": {"id": "a"}, "time": "2026-03-04T07:06:07+02:00", "n": 0})
    );
    assert_eq!(pairs[1].1["@timestamp"], "2020-01-01T00:00:00Z", "an @timestamp of the event's own is kept");
    assert_eq!(pairs[2].1["@timestamp"], "2026-03-04T05:06:07Z");
    let now = OffsetDateTime::parse(pairs[3].1["@timestamp"].as_str().unwrap(), &Rfc3339).unwrap();
    assert!(now >= before - Duration::from_secs(1), "no time: now ({now})");
    let counts = sink.metrics.counts();
    assert_eq!((counts.sent, counts.dead_lettered, counts.requests), (4, 0, 1));
    assert!(sink.finish().await.is_empty());
}

#[tokio::test]
async fn a_dated_index_takes_the_date_of_each_event_with_basic_credentials() {
    let cluster = Cluster::new(|_| None);
    let receiver = receiver(&cluster);
    let sink = start(config(&format!(
        "uri = \"{}\"\nindex = \"sluice-%Y.%m.%d\"\nauth = {{ strategy = \"basic\", user = \"elastic\", password = \"pw\" }}",
        receiver.uri("/es/")
    )));
    let batch = vec![
        event(json!({"event": {"id": "a"}, "time": "2026-12-31T23:30:00-02:00"})),
        event(json!({"event": {"id": "b"}, "time": "2026-01-02T03:04:05.678Z"})),
        event(json!({"event": {"id": "c"}})),
    ];
    assert_eq!(finished(sink.send(batch).await).await, BatchStatus::Delivered);
    let request = &requests(&receiver, 1).await[0];
    assert_eq!(request.path(), "/es/_bulk", "the URI's path is kept");
    // "elastic:pw" in base64.
    assert_eq!(request.header("authorization"), "Basic ZWxhc3RpYzpwdw==");
    let pairs = pairs(request);
    let indices: Vec<&str> = pairs.iter().map(|(action, _)| action["create"]["_index"].as_str().unwrap()).collect();
    let today = OffsetDateTime::now_utc().date();
    let today = format!("sluice-{}.{:02}.{:02}", today.year(), u8::from(today.month()), today.day());
    assert_eq!(indices, ["sluice-2027.01.01", "sluice-2026.01.02", today.as_str()], "UTC dates");
    assert!(pairs.iter().all(|(_, document)| document.get("@timestamp").is_none()), "only data streams need it");
    assert!(!request.text().contains("pw"));
    sink.finish().await;
}

#[tokio::test]
async fn per_item_results_retry_throttled_documents_only_and_dead_letter_refused_ones() {
    // By the document's `n`: 0 created, 1 a duplicate, 2 throttled once, 3 refused.
    let throttled = Arc::new(Mutex::new(HashSet::new()));
    let cluster = Cluster::new(move |document| match document["n"].as_u64().unwrap() % 4 {
        2 if throttled.lock().unwrap().insert(document["n"].as_u64()) => Some(429),
        3 => Some(400),
        _ => None,
    });
    cluster.ids.lock().unwrap().extend(["e-1".to_owned(), "e-5".to_owned()]);
    let receiver = receiver(&cluster);
    let sink = start(config(&format!("uri = \"{}\"\ndata_stream = \"logs-sluice-default\"", receiver.uri(""))));
    assert_eq!(finished(sink.send(events(8)).await).await, BatchStatus::Delivered);
    let got = requests(&receiver, 2).await;
    assert_eq!(got.len(), 2);
    let ids = |request: &Received| -> Vec<String> {
        pairs(request).iter().map(|(action, _)| action["create"]["_id"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(ids(&got[0]).len(), 8);
    assert_eq!(ids(&got[1]), ["e-2", "e-6"], "the second request holds exactly the throttled documents");
    let counts = sink.metrics.counts();
    assert_eq!((counts.sent, counts.dead_lettered), (6, 2), "201s, 409s and the retried 429s are delivered");
    let dead = sink.finish().await;
    assert_eq!(dead.len(), 2);
    for record in &dead {
        let reason = record["reason"].as_str().unwrap();
        assert!(
            reason.contains("400")
                && reason.contains("mapper_parsing_exception")
                && reason.contains("failed to parse field [n]"),
            "{reason}"
        );
    }
    let mut dead_ids: Vec<&str> = dead.iter().map(|r| r["event"]["event"]["id"].as_str().unwrap_or("?")).collect();
    dead_ids.sort();
    assert_eq!(dead_ids, ["e-3", "e-7"], "{dead:?}");
}

#[tokio::test]
async fn a_redelivered_event_is_refused_as_a_duplicate_and_counts_as_delivered() {
    let cluster = Cluster::new(|_| None);
    let receiver = receiver(&cluster);
    let sink = start(config(&format!("uri = \"{}\"\nindex = \"sluice\"", receiver.uri(""))));
    assert_eq!(finished(sink.send(events(3)).await).await, BatchStatus::Delivered);
    // As after a crash: the same events again.
    assert_eq!(finished(sink.send(events(3)).await).await, BatchStatus::Delivered);
    assert_eq!(requests(&receiver, 2).await.len(), 2, "no retry of a 409");
    assert_eq!(cluster.ids.lock().unwrap().len(), 3, "stored once");
    let counts = sink.metrics.counts();
    assert_eq!((counts.sent, counts.dead_lettered), (6, 0));
    assert!(sink.finish().await.is_empty());
}

#[tokio::test]
async fn a_throttled_or_unavailable_cluster_is_retried_honouring_retry_after() {
    let cluster = Cluster::new(|_| None);
    let calls = Arc::new(AtomicUsize::new(0));
    let (bulk, seen) = (cluster.clone(), calls.clone());
    let receiver = Arc::new(Receiver::start(move |request| match seen.fetch_add(1, Ordering::SeqCst) {
        0 => Answer::json(
            429,
            json!({"error": {"type": "es_rejected_execution_exception", "reason": "rejected"}, "status": 429}),
        )
        .header("Retry-After", "1"),
        1 => Answer::json(
            503,
            json!({"error": {"type": "unavailable_shards_exception", "reason": "primary shard is not active"}, "status": 503}),
        ),
        _ => bulk.bulk(request),
    }));
    let sink = start(config(&format!("uri = \"{}\"\nindex = \"sluice\"", receiver.uri(""))));
    let started = Instant::now();
    assert_eq!(finished(sink.send(events(2)).await).await, BatchStatus::Delivered);
    assert!(started.elapsed() >= Duration::from_secs(1), "Retry-After: 1 was honoured ({:?})", started.elapsed());
    let got = requests(&receiver, 3).await;
    assert_eq!(got.len(), 3);
    assert!(got.iter().all(|request| request.body == got[0].body), "the same body each time");
    assert_eq!(cluster.ids.lock().unwrap().len(), 2);
    let statuses = sink.metrics.statuses();
    assert_eq!((statuses[&429], statuses[&503], statuses[&200]), (1, 1, 1));
    assert_eq!(sink.metrics.counts().sent, 2);
    assert!(sink.finish().await.is_empty());
}

#[tokio::test]
async fn a_malformed_success_is_retried_whole() {
    let cluster = Cluster::new(|_| None);
    let calls = Arc::new(AtomicUsize::new(0));
    let (bulk, seen) = (cluster.clone(), calls.clone());
    let receiver = Arc::new(Receiver::start(move |request| match seen.fetch_add(1, Ordering::SeqCst) {
        0 => Answer::new(200, "<html>proxy says hi</html>"),
        1 => {
            // A bulk answer that lost an item: created, but not reported.
            let mut answer: Value = serde_json::from_str(&bulk.bulk(request).body).unwrap();
            answer["items"].as_array_mut().unwrap().pop();
            Answer::json(200, answer)
        }
        _ => bulk.bulk(request),
    }));
    let sink = start(config(&format!("uri = \"{}\"\nindex = \"sluice\"", receiver.uri(""))));
    assert_eq!(finished(sink.send(events(3)).await).await, BatchStatus::Delivered);
    let got = requests(&receiver, 3).await;
    assert_eq!(got.len(), 3);
    assert!(got.iter().all(|request| pairs(request).len() == 3), "the whole body each time");
    assert_eq!(cluster.ids.lock().unwrap().len(), 3, "the third attempt's duplicates are not stored twice");
    let counts = sink.metrics.counts();
    assert_eq!((counts.sent, counts.dead_lettered), (3, 0));
    assert!(sink.finish().await.is_empty());
}

#[tokio::test]
async fn ten_thousand_events_arrive_once() {
    let cluster = Cluster::new(|_| None);
    let receiver = receiver(&cluster);
    let sink = start(config(&format!(
        "uri = \"{}\"\ndata_stream = \"logs-sluice-default\"\nbatch = {{ max_events = 1000, timeout_ms = 50 }}",
        receiver.uri("")
    )));
    let started = Instant::now();
    let mut statuses = Vec::new();
    for chunk in events(10_000).chunks(500) {
        statuses.push(sink.send(chunk.to_vec()).await);
    }
    for status in statuses {
        assert_eq!(finished(status).await, BatchStatus::Delivered);
    }
    let elapsed = started.elapsed();
    let documents: usize = receiver.received().iter().map(|request| pairs(request).len()).sum();
    assert_eq!(documents, 10_000, "each event once");
    assert_eq!(cluster.ids.lock().unwrap().len(), 10_000);
    assert_eq!(sink.metrics.counts().sent, 10_000);
    eprintln!("elasticsearch: 10000 events in {elapsed:?} ({:.0} events/s)", 10_000.0 / elapsed.as_secs_f64());
    assert!(sink.finish().await.is_empty());
}

#[test]
fn bad_settings_are_refused_with_the_key_named() {
    let errors = |text: &str| {
        let config: ElasticsearchSinkConfig = toml::from_str(text).unwrap();
        let mut errors = Vec::new();
        config.validate("sinks.es", &mut errors);
        errors.iter().map(ToString::to_string).collect::<Vec<_>>()
    };
    let got = errors("uri = \"es.example:9200\"");
    assert!(got.iter().any(|e| e.starts_with("sinks.es.uri")), "{got:?}");
    assert!(got.iter().any(|e| e.starts_with("sinks.es.data_stream") && e.contains("index")), "{got:?}");
    let got = errors(
        "uri = \"http://x/\"\ndata_stream = \"logs\"\nindex = \"i\"\napi_key = \"k\"\nauth = { strategy = \"bearer\", token = \"t\" }",
    );
    assert!(got.iter().any(|e| e.starts_with("sinks.es.index") && e.contains("data_stream")), "{got:?}");
    assert!(got.iter().any(|e| e.starts_with("sinks.es.api_key") && e.contains("auth")), "{got:?}");
    let got = errors("uri = \"http://x/\"\nindex = \"sluice-%Y-%H\"\napi_key = \" \"");
    assert!(got.iter().any(|e| e.starts_with("sinks.es.index") && e.contains("%H")), "{got:?}");
    assert!(got.iter().any(|e| e.starts_with("sinks.es.api_key") && e.contains("empty")), "{got:?}");
    for bad in ["Sluice", "_sluice", "a b", "a%", ""] {
        let got = errors(&format!("uri = \"http://x/\"\nindex = \"{bad}\""));
        assert!(got.iter().any(|e| e.starts_with("sinks.es.index")), "{bad}: {got:?}");
    }
    let got = errors("uri = \"http://x/\"\ndata_stream = \"logs-%Y\"\nbatch = { max_bytes = 0 }");
    assert!(got.iter().any(|e| e.starts_with("sinks.es.data_stream")), "{got:?}");
    assert!(got.iter().any(|e| e.starts_with("sinks.es.batch.max_bytes")), "{got:?}");
    let unknown = toml::from_str::<ElasticsearchSinkConfig>("uri = \"http://x/\"\nindices = \"i\"").unwrap_err();
    assert!(unknown.to_string().contains("unknown field `indices`"), "{unknown}");
    let printed = format!("{:?}", config("uri = \"http://x/\"\nindex = \"i\"\napi_key = \"s3cret\""));
    assert!(!printed.contains("s3cret"), "the key is never printed: {printed}");
}
