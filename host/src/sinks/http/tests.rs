//! The `http` sink against a loopback receiver; the retry, batching and
//! acknowledgement rules tested here are those of every HTTP sink
//! (`crate::sinks::delivery::http`).

use super::*;
use crate::ack::BatchStatus;
use crate::sinks::testing::receiver::{Answer, Receiver};
use crate::sinks::testing::{self, FAST, Running, event, finished, requests};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

fn config(text: &str) -> HttpSinkConfig {
    let config: HttpSinkConfig = toml::from_str(text).unwrap();
    let mut errors = Vec::new();
    config.validate("sinks.out", &mut errors);
    assert_eq!(errors, []);
    config
}

fn start(config: HttpSinkConfig) -> Running {
    testing::start(FAST.grace, move |ctx| async move { sender(config, &ctx, FAST)?.run(ctx).await })
}

fn events(n: usize) -> Vec<Event> {
    (0..n).map(|i| event(json!({"event": {"id": format!("e-{i}")}, "n": i}))).collect()
}

#[tokio::test]
async fn a_batch_goes_as_gzipped_ndjson_with_the_credentials_and_headers() {
    let receiver = Arc::new(Receiver::start(|_| Answer::new(200, "")));
    let sink = start(config(&format!(
        r#"uri = "{}"
compression = "gzip"
auth = {{ strategy = "bearer", token = "s3cret" }}
headers = {{ "X-Tenant" = "acme" }}"#,
        receiver.uri("/ingest")
    )));
    let status = sink.send(events(3)).await;
    assert_eq!(finished(status).await, BatchStatus::Delivered);
    let got = requests(&receiver, 1).await;
    assert_eq!(got.len(), 1, "one request for the batch");
    let request = &got[0];
    assert_eq!((request.method.as_str(), request.target.as_str()), ("POST", "/ingest"));
    assert!(request.gzipped);
    assert_eq!(request.header("authorization"), "Bearer s3cret");
    assert_eq!(request.header("x-tenant"), "acme");
    assert_eq!(request.header("content-type"), "application/x-ndjson");
    let lines: Vec<serde_json::Value> = request.text().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.iter().map(|l| l["n"].as_u64().unwrap()).collect::<Vec<_>>(), [0, 1, 2]);
    assert!(request.text().ends_with('\n'));
    let counts = sink.metrics.counts();
    assert_eq!((counts.received, counts.sent, counts.requests), (3, 3, 1));
    assert_eq!(sink.metrics.statuses().get(&200), Some(&1));
    assert!(sink.finish().await.is_empty());
}

#[tokio::test]
async fn a_json_array_and_lines_are_the_other_bodies() {
    let receiver = Arc::new(Receiver::start(|_| Answer::new(204, "")));
    let sink = start(config(&format!("uri = \"{}\"\nencoding = \"json_array\"", receiver.uri("/a"))));
    assert_eq!(finished(sink.send(events(2)).await).await, BatchStatus::Delivered);
    let array: serde_json::Value = serde_json::from_slice(&requests(&receiver, 1).await[0].body).unwrap();
    assert_eq!(array.as_array().map(Vec::len), Some(2));
    sink.finish().await;

    let receiver = Arc::new(Receiver::start(|_| Answer::new(200, "")));
    let sink = start(config(&format!("uri = \"{}\"\nencoding = \"lines\"\nmethod = \"put\"", receiver.uri("/l"))));
    let mut formatted = events(2);
    formatted[0].set_line("CEF:0|a\nb".into());
    assert_eq!(finished(sink.send(formatted).await).await, BatchStatus::Delivered);
    let request = &requests(&receiver, 1).await[0];
    assert_eq!(request.method, "PUT");
    let lines: Vec<&str> = request.text().lines().collect();
    assert_eq!(lines[0], "CEF:0|a#012b", "one line per event");
    assert!(lines[1].starts_with('{'), "an unformatted event goes as its JSON");
    sink.finish().await;
}

#[tokio::test]
async fn requests_are_cut_by_events_and_by_bytes() {
    let receiver = Arc::new(Receiver::start(|_| Answer::new(200, "")));
    let sink = start(config(&format!("uri = \"{}\"\nbatch = {{ max_events = 4 }}", receiver.uri("/"))));
    assert_eq!(finished(sink.send(events(10)).await).await, BatchStatus::Delivered);
    let sizes: Vec<usize> = requests(&receiver, 3).await.iter().map(|r| r.text().lines().count()).collect();
    assert_eq!(sizes, [4, 4, 2]);
    sink.finish().await;

    let receiver = Arc::new(Receiver::start(|_| Answer::new(200, "")));
    // Each event's line is 31 or 32 bytes: two fit in 70.
    let sink = start(config(&format!("uri = \"{}\"\nbatch = {{ max_bytes = 70 }}", receiver.uri("/"))));
    assert_eq!(finished(sink.send(events(6)).await).await, BatchStatus::Delivered);
    let got = requests(&receiver, 3).await;
    assert!(got.iter().all(|r| r.body.len() <= 70));
    assert_eq!(got.iter().map(|r| r.text().lines().count()).collect::<Vec<_>>(), [2, 2, 2]);
    sink.finish().await;
}

#[tokio::test]
async fn batches_wait_for_more_until_the_timeout() {
    let receiver = Arc::new(Receiver::start(|_| Answer::new(200, "")));
    let sink = start(config(&format!("uri = \"{}\"\nbatch = {{ timeout_ms = 300 }}", receiver.uri("/"))));
    let started = Instant::now();
    let first = sink.send(events(1)).await;
    let second = sink.send(events(2)).await;
    assert_eq!(finished(first).await, BatchStatus::Delivered);
    assert!(started.elapsed() >= Duration::from_millis(250), "sent after {:?}", started.elapsed());
    assert_eq!(finished(second).await, BatchStatus::Delivered);
    let got = requests(&receiver, 1).await;
    assert_eq!(got.len(), 1, "two batches in one request");
    assert_eq!(got[0].text().lines().count(), 3);
    sink.finish().await;
}

#[tokio::test]
async fn unavailable_and_throttled_answers_are_retried_honouring_retry_after() {
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let receiver = Arc::new(Receiver::start(move |_| match seen.fetch_add(1, Ordering::SeqCst) {
        0 => Answer::new(503, "busy"),
        1 => Answer::new(429, "slow down").header("Retry-After", "1"),
        2 => Answer::new(408, ""),
        _ => Answer::new(200, ""),
    }));
    let sink = start(config(&format!("uri = \"{}\"", receiver.uri("/"))));
    let started = Instant::now();
    assert_eq!(finished(sink.send(events(2)).await).await, BatchStatus::Delivered);
    assert!(started.elapsed() >= Duration::from_secs(1), "Retry-After: 1 was honoured ({:?})", started.elapsed());
    assert_eq!(calls.load(Ordering::SeqCst), 4);
    let counts = sink.metrics.counts();
    assert_eq!((counts.sent, counts.dead_lettered, counts.requests), (2, 0, 4));
    let statuses = sink.metrics.statuses();
    assert_eq!((statuses[&503], statuses[&429], statuses[&408], statuses[&200]), (1, 1, 1, 1));
    assert!(sink.finish().await.is_empty());
}

#[tokio::test]
async fn a_refused_request_dead_letters_its_events_with_the_status_and_body() {
    let receiver = Arc::new(Receiver::start(|_| Answer::new(400, "{\"error\":\"bad field\"}")));
    let sink = start(config(&format!("uri = \"{}\"", receiver.uri("/"))));
    assert_eq!(finished(sink.send(events(2)).await).await, BatchStatus::Delivered, "done: dead-lettered");
    let counts = sink.metrics.counts();
    assert_eq!((counts.sent, counts.dead_lettered, counts.requests), (0, 2, 1));
    let dead = sink.finish().await;
    assert_eq!(dead.len(), 2);
    let reason = dead[0]["reason"].as_str().unwrap();
    assert!(reason.contains("400") && reason.contains("bad field"), "{reason}");
}

#[tokio::test]
async fn a_destination_down_at_shutdown_fails_the_batch_after_the_grace_period() {
    // Nothing listens on the port of a receiver that was stopped.
    let address = Receiver::start(|_| Answer::new(200, "")).address;
    let sink = start(config(&format!("uri = \"http://{address}/\"")));
    let status = sink.send(events(2)).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    sink.shutdown.cancel();
    assert_eq!(finished(status).await, BatchStatus::Failed);
    let counts = sink.metrics.counts();
    assert_eq!(counts.sent, 0);
    assert!(counts.request_failures >= 2, "{counts:?}");
    sink.finish().await;
}

#[tokio::test]
async fn https_with_a_private_ca_and_a_client_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let certs = crate::tls::test_certs::make(dir.path());
    let server = crate::tls::ServerTlsConfig {
        cert: certs.server_cert.clone(),
        key: certs.server_key.clone(),
        client_ca: Some(certs.ca.clone()),
    };
    let receiver = Arc::new(Receiver::start_tls(server.load().unwrap(), |_| Answer::new(200, "")));
    let uri = format!("https://localhost:{}/secure", receiver.address.port());
    let sink = start(config(&format!(
        "uri = \"{uri}\"\ntls = {{ ca = \"{}\", cert = \"{}\", key = \"{}\" }}",
        certs.ca.display(),
        certs.client_cert.display(),
        certs.client_key.display()
    )));
    assert_eq!(finished(sink.send(events(1)).await).await, BatchStatus::Delivered);
    assert_eq!(requests(&receiver, 1).await[0].target, "/secure");
    sink.finish().await;
}

#[test]
fn bad_settings_are_refused_with_the_key_named() {
    let errors = |text: &str| {
        let config: HttpSinkConfig = toml::from_str(text).unwrap();
        let mut errors = Vec::new();
        config.validate("sinks.out", &mut errors);
        errors.iter().map(ToString::to_string).collect::<Vec<_>>()
    };
    let got = errors("uri = \"ftp://x/\"\nbatch = { max_events = 0 }\nheaders = { \"bad name\" = \"v\" }");
    assert!(got.iter().any(|e| e.starts_with("sinks.out.uri") && e.contains("http://")), "{got:?}");
    assert!(got.iter().any(|e| e.starts_with("sinks.out.batch.max_events")), "{got:?}");
    assert!(got.iter().any(|e| e.starts_with("sinks.out.headers.bad name")), "{got:?}");
    let got = errors(
        "uri = \"http://x/\"\ntls = { ca = \"/nonexistent.pem\" }\nauth = { strategy = \"bearer\", token = \"\" }",
    );
    assert!(got.iter().any(|e| e.starts_with("sinks.out.tls") && e.contains("https")), "{got:?}");
    assert!(got.iter().any(|e| e.starts_with("sinks.out.auth.token")), "{got:?}");
    let unknown = toml::from_str::<HttpSinkConfig>("uri = \"http://x/\"\nurl = \"http://y/\"").unwrap_err();
    assert!(unknown.to_string().contains("unknown field `url`"), "{unknown}");
    let auth = format!(
        "{:?}",
        config("uri = \"http://x/\"\nauth = { strategy = \"basic\", user = \"u\", password = \"pw\" }")
    );
    assert!(!auth.contains("pw"), "the password is never printed: {auth}");
}
