//! The `webhook` sink against a loopback receiver that checks signatures
//! the way docs/sinks.md tells a SOAR to.

use super::*;
use crate::ack::BatchStatus;
use crate::sinks::testing::receiver::{Answer, Received, Receiver};
use crate::sinks::testing::{self, FAST, Running, event, finished, requests};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

const SECRET: &str = "a-shared-secret-of-32-characters";

fn config(uri: &str) -> WebhookConfig {
    let config: WebhookConfig = toml::from_str(&format!("uri = \"{uri}\"\nsecret = \"{SECRET}\"")).unwrap();
    let mut errors = Vec::new();
    config.validate("sinks.soar", &mut errors);
    assert_eq!(errors, []);
    config
}

fn start(config: WebhookConfig) -> Running {
    testing::start(FAST.grace, move |ctx| async move { sender(config, &ctx, FAST)?.run(ctx).await })
}

/// The receiving side's check: the signature is the HMAC of
/// `<timestamp>.<body>`, compared in constant time, and the timestamp is
/// recent.
fn verify(request: &Received, secret: &[u8]) -> bool {
    let timestamp = request.header("x-sluice-timestamp");
    let Some(hex) = request.header("x-sluice-signature").strip_prefix("sha256=") else { return false };
    let Ok(sent) =
        (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16)).collect::<Result<Vec<u8>, _>>()
    else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(&request.body);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let fresh = timestamp.parse::<u64>().is_ok_and(|t| now.abs_diff(t) <= 300);
    mac.verify_slice(&sent).is_ok() && fresh
}

#[test]
fn the_signature_is_hmac_sha256_of_the_timestamp_dot_body() {
    // Computed apart, with Python's hmac module (as docs/sinks.md's check does):
    // hmac.new(b"Jefe", b"1700000000.{}", "sha256").hexdigest()
    assert_eq!(
        signature(b"Jefe", "1700000000", b"{}"),
        "sha256=d3793e2b4103edfbd98cc19591832f5fad701d413db9fcae0ae7dab8184ed207"
    );
}

#[tokio::test]
async fn each_event_is_one_signed_post_with_its_id_as_the_idempotency_key() {
    let receiver = Arc::new(Receiver::start(|request| {
        // A receiver that refuses what it cannot verify, as a SOAR should.
        if verify(request, SECRET.as_bytes()) { Answer::new(202, "") } else { Answer::new(401, "bad signature") }
    }));
    let sink = start(config(&receiver.uri("/hooks/sluice")));
    let with_id = event(json!({"event": {"id": "alert-1", "kind": "detection"}}));
    let without_id = event(json!({"event": {"kind": "detection"}}));
    assert_eq!(finished(sink.send(vec![with_id, without_id]).await).await, BatchStatus::Delivered);
    let got = requests(&receiver, 2).await;
    assert_eq!(got.len(), 2, "one request per event");
    assert!(got.iter().all(|r| r.method == "POST" && r.header("content-type") == "application/json"));
    assert_eq!(got[0].header("idempotency-key"), "alert-1");
    let digest = hex(&Sha256::digest(&got[1].body));
    assert_eq!(got[1].header("idempotency-key"), digest, "no id: the body's digest");
    let body: serde_json::Value = serde_json::from_slice(&got[0].body).unwrap();
    assert_eq!(body["event"]["id"], "alert-1");
    assert_eq!(sink.metrics.statuses().get(&202), Some(&2), "both verified");
    assert!(sink.finish().await.is_empty());
}

#[tokio::test]
async fn a_wrong_secret_is_refused_by_the_receiver_and_dead_lettered() {
    let receiver = Arc::new(Receiver::start(|request| {
        if verify(request, b"another-secret-entirely") {
            Answer::new(200, "")
        } else {
            Answer::new(401, "bad signature")
        }
    }));
    let sink = start(config(&receiver.uri("/")));
    assert_eq!(finished(sink.send(vec![event(json!({"event": {"id": "a"}}))]).await).await, BatchStatus::Delivered);
    let dead = sink.finish().await;
    assert_eq!(dead.len(), 1);
    assert!(dead[0]["reason"].as_str().unwrap().contains("401"), "{}", dead[0]);
}

#[tokio::test]
async fn a_retry_keeps_the_key_and_signs_again() {
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let receiver = Arc::new(Receiver::start(move |request| {
        assert!(verify(request, SECRET.as_bytes()), "every attempt is signed");
        if seen.fetch_add(1, Ordering::SeqCst) == 0 { Answer::new(503, "") } else { Answer::new(200, "") }
    }));
    let sink = start(config(&receiver.uri("/")));
    assert_eq!(finished(sink.send(vec![event(json!({"event": {"id": "a"}}))]).await).await, BatchStatus::Delivered);
    let got = requests(&receiver, 2).await;
    assert_eq!(got.len(), 2);
    assert_eq!((got[0].header("idempotency-key"), got[1].header("idempotency-key")), ("a", "a"));
    sink.finish().await;
}

#[test]
fn a_short_secret_and_a_bad_uri_are_refused_and_the_secret_never_printed() {
    let config: WebhookConfig = toml::from_str("uri = \"soar.example/hook\"\nsecret = \"short\"").unwrap();
    let mut errors = Vec::new();
    config.validate("sinks.soar", &mut errors);
    let errors: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert!(errors.iter().any(|e| e.starts_with("sinks.soar.uri")), "{errors:?}");
    assert!(errors.iter().any(|e| e.starts_with("sinks.soar.secret") && e.contains("16 bytes")), "{errors:?}");
    assert!(!format!("{config:?}").contains("short"));
    let missing = toml::from_str::<WebhookConfig>("uri = \"http://x/\"").unwrap_err();
    assert!(missing.to_string().contains("missing field `secret`"), "{missing}");
}
