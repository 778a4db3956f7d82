use super::*;
use crate::sources::testing::{Harness, Running, messages};
use std::time::Duration;
use tokio::io::AsyncWriteExt;

fn start(input: impl AsyncRead + Unpin + Send + 'static, max_line_bytes: usize, harness: Harness) -> Running {
    harness.start(move |ctx| driver::run(Lines::new(input, max_line_bytes, ctx.id.clone()), ctx))
}

fn stdin() -> Harness {
    Harness::new("stdin")
}

/// The messages of the next batch; every event names the source.
async fn next(source: &mut Running) -> Vec<String> {
    let events = source.next().await;
    for event in &events {
        assert_eq!(event["source"], serde_json::json!({ "id": "stdin" }));
    }
    messages(&events)
}

/// No more batches; the source ends on its own.
async fn finished(source: Running) -> Vec<serde_json::Value> {
    let stopped = source.finish().await;
    assert_eq!(stopped.rest, Vec::<serde_json::Value>::new(), "no more batches");
    stopped.dead
}

#[tokio::test]
async fn cuts_batches_at_max_events_and_sends_the_rest_at_the_end_of_input() {
    let input: &[u8] = b"1\n2\r\n3\n4\n5\n6\n7 has no newline";
    let mut source = start(input, 100, stdin().batch(3, Duration::from_secs(60)));
    assert_eq!(next(&mut source).await, ["1", "2", "3"]);
    assert_eq!(next(&mut source).await, ["4", "5", "6"]);
    assert_eq!(next(&mut source).await, ["7 has no newline"]);
    finished(source).await;
}

#[tokio::test]
async fn a_partial_batch_goes_after_the_timeout() {
    let (mut writer, reader) = tokio::io::duplex(1024);
    let mut source = start(reader, 100, stdin().batch(100, Duration::from_millis(20)));
    writer.write_all(b"a\nb\n").await.unwrap();
    // Input is still open: only the timeout can have cut this batch.
    assert_eq!(next(&mut source).await, ["a", "b"]);
    writer.write_all(b"c\n").await.unwrap();
    assert_eq!(next(&mut source).await, ["c"]);
    drop(writer);
    finished(source).await;
}

#[tokio::test]
async fn stops_on_shutdown_with_input_still_open() {
    let (mut writer, reader) = tokio::io::duplex(1024);
    let mut source = start(reader, 100, stdin().batch(100, Duration::from_secs(60)));
    writer.write_all(b"kept\nunfinished").await.unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    source.shutdown.cancel();
    assert_eq!(next(&mut source).await, ["kept"], "the batch so far is sent");
    finished(source).await;
}

#[tokio::test]
async fn oversized_lines_go_to_the_dead_letter_with_the_reason() {
    let input: &[u8] = b"short\nthis line is too long\nok\n";
    let mut source = start(input, 8, stdin());
    assert_eq!(next(&mut source).await, ["short", "ok"]);
    let dead = finished(source).await;
    assert_eq!(dead.len(), 1, "{dead:#?}");
    let record = &dead[0];
    assert_eq!(record["event"]["message"], "this lin");
    assert_eq!(record["component"], "stdin");
    let reason = record["reason"].as_str().unwrap();
    assert!(reason.contains("21 bytes on standard input exceeds max_line_bytes (8)"), "{reason}");
}

#[test]
fn config_defaults_and_validation() {
    let config: StdinConfig = toml::from_str("").unwrap();
    assert_eq!(config.max_line_bytes, 1048576);
    assert!(toml::from_str::<StdinConfig>("max_lines = 3").is_err());
    let mut errors = Vec::new();
    StdinConfig { max_line_bytes: 0 }.validate("sources.in", &mut errors);
    assert_eq!(errors, [ConfigError::new("sources.in.max_line_bytes", "must be at least 1")]);
}
