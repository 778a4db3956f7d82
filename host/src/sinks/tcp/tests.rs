use super::*;
use crate::ack::BatchStatus;
use crate::sinks::testing::{self, Running, WAIT, event, finished};
use serde_json::json;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

const FAST: Retry =
    Retry { first: Duration::from_millis(10), max: Duration::from_millis(50), grace: Duration::from_millis(200) };

fn config(address: SocketAddr, extra: &str) -> TcpSinkConfig {
    let config: TcpSinkConfig = toml::from_str(&format!("address = \"{address}\"\n{extra}")).unwrap();
    assert_eq!(problems(&config), Vec::<String>::new());
    config
}

fn problems(config: &TcpSinkConfig) -> Vec<String> {
    let mut errors = Vec::new();
    config.validate("sinks.out", &mut errors);
    errors.iter().map(ToString::to_string).collect()
}

fn start(config: TcpSinkConfig) -> Running {
    testing::start(FAST.grace, move |ctx| deliver(ctx, config, FAST))
}

fn formatted(line: &str) -> Event {
    let mut event = event(json!({"message": "not this"}));
    event.set_line(line.to_owned());
    event
}

async fn accept(listener: &TcpListener) -> TcpStream {
    tokio::time::timeout(WAIT, listener.accept()).await.expect("the sink connects").unwrap().0
}

/// Read `n` lines (without their LF) from a connection.
async fn read_lines(stream: TcpStream, n: usize) -> Vec<String> {
    let mut lines = BufReader::new(stream).lines();
    let mut out = Vec::new();
    while out.len() < n {
        let line = tokio::time::timeout(WAIT, lines.next_line()).await.expect("a line arrives").unwrap();
        out.push(line.expect("the stream is open"));
    }
    out
}

#[tokio::test]
async fn lines_arrive_in_order_batch_after_batch() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sink = start(config(listener.local_addr().unwrap(), ""));
    let plain = event(json!({"agent": {"id": "a1"}, "message": "m"}));
    let first = sink.send(vec![formatted("CEF:0|one"), plain.clone()]).await;
    let second = sink.send((2..100).map(|i| formatted(&format!("line {i}"))).collect()).await;
    let lines = read_lines(accept(&listener).await, 100).await;
    assert_eq!(lines[0], "CEF:0|one", "the formatted line");
    assert_eq!(lines[1], plain.json(), "no formatted line: the event JSON");
    for (i, line) in lines.iter().enumerate().skip(2) {
        assert_eq!(*line, format!("line {i}"));
    }
    assert_eq!(finished(first).await, BatchStatus::Delivered);
    assert_eq!(finished(second).await, BatchStatus::Delivered);
    assert_eq!(sink.metrics.counts().sent, 100);
    assert_eq!(sink.finish().await, Vec::<serde_json::Value>::new());
}

/// A collector that restarts between two batches closes the connection;
/// the next batch must not go into that dead socket (where it would be
/// lost) but onto a new connection.
#[tokio::test]
async fn a_destination_that_closed_between_batches_gets_the_next_on_a_new_connection() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sink = start(config(listener.local_addr().unwrap(), ""));
    let first = sink.send(vec![formatted("one")]).await;
    let connection = accept(&listener).await;
    assert_eq!(finished(first).await, BatchStatus::Delivered);
    let mut lines = BufReader::new(connection).lines();
    assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("one"));
    drop(lines); // the collector closes its end
    tokio::time::sleep(Duration::from_millis(100)).await;

    let second = sink.send(vec![formatted("two")]).await;
    assert_eq!(read_lines(accept(&listener).await, 1).await, ["two"]);
    assert_eq!(finished(second).await, BatchStatus::Delivered);
    sink.finish().await;
}

/// The source's own copy of the message is sent when the event still has
/// it (a plugin that rewrote the event drops it, and the JSON's is read).
#[tokio::test]
async fn message_encoding_prefers_the_source_s_message() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sink = start(config(listener.local_addr().unwrap(), "encoding = \"message\""));
    let kept = Event::with_message(r#"{"message":"in the JSON"}"#.into(), "as received".into());
    let mut rewritten = kept.clone();
    rewritten.set_json(r#"{"message":"rewritten"}"#.into());
    let status = sink.send(vec![kept, rewritten]).await;
    assert_eq!(read_lines(accept(&listener).await, 2).await, ["as received", "rewritten"]);
    assert_eq!(finished(status).await, BatchStatus::Delivered);
    sink.finish().await;
}

#[tokio::test]
async fn message_encoding_forwards_the_payload_raw_and_dead_letters_events_without_one() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sink = start(config(listener.local_addr().unwrap(), "encoding = \"message\""));
    let payload = r#"{"agent":{"id":"a1"},"text":"say \"hi\"\tthere \\ é"}"#;
    let mut with_line = event(json!({"message": "plain", "syslog": {"facility": 1}}));
    with_line.set_line("CEF:0|ignored".into());
    let batch = vec![
        event(json!({"message": payload, "source": {"id": "in"}})),
        event(json!({"agent": "no message"})),
        event(json!({"message": 42})),
        with_line,
    ];
    let status = sink.send(batch).await;
    let lines = read_lines(accept(&listener).await, 2).await;
    assert_eq!(lines, [payload, "plain"]);
    assert_eq!(finished(status).await, BatchStatus::Delivered, "dead-lettering is a delivery");
    assert_eq!(sink.metrics.counts().sent, 2);
    let dead = sink.finish().await;
    assert_eq!(dead.len(), 2, "{dead:#?}");
    assert_eq!(dead[0]["reason"], NO_MESSAGE);
    assert_eq!(dead[0]["event"], json!({"agent": "no message"}));
    assert_eq!(dead[1]["event"], json!({"message": 42}));
}

#[tokio::test]
async fn a_newline_inside_a_message_does_not_split_the_record() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sink = start(config(listener.local_addr().unwrap(), "encoding = \"message\""));
    let status =
        sink.send(vec![event(json!({"message": "first\nsecond\r\nthird\n"})), event(json!({"message": "next"}))]).await;
    let lines = read_lines(accept(&listener).await, 2).await;
    assert_eq!(lines, ["first#012second#015#012third", "next"]);
    assert_eq!(finished(status).await, BatchStatus::Delivered);
    sink.finish().await;

    let mut encoded = Encoded::default();
    encode(Encoding::Body, &Batch::new(vec![formatted("a\nb")]), &mut encoded);
    assert_eq!(encoded.bytes, b"a#012b\n", "the same for formatted lines");
}

#[tokio::test]
async fn a_destination_that_comes_up_late_gets_every_event_in_order() {
    let address = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    let sink = start(config(address, ""));
    let mut statuses = Vec::new();
    for i in 0..3 {
        statuses.push(sink.send(vec![formatted(&format!("event {i}"))]).await);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(sink.metrics.counts().errors >= 2, "connection refused, retried");
    assert_eq!(sink.metrics.counts().sent, 0);

    let listener = TcpListener::bind(address).await.unwrap();
    let lines = read_lines(accept(&listener).await, 3).await;
    assert_eq!(lines, ["event 0", "event 1", "event 2"]);
    for status in statuses {
        assert_eq!(finished(status).await, BatchStatus::Delivered);
    }
    sink.finish().await;
}

#[tokio::test]
async fn shutdown_while_the_destination_is_down_fails_the_batches() {
    let address = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    let sink = start(config(address, ""));
    let first = sink.send(vec![formatted("lost")]).await;
    let second = sink.send(vec![formatted("queued")]).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    sink.shutdown.cancel();
    assert_eq!(finished(first).await, BatchStatus::Failed);
    assert_eq!(finished(second).await, BatchStatus::Failed);
    assert_eq!(sink.metrics.counts().sent, 0);
    sink.finish().await;
}

#[test]
fn config_defaults_and_validation_errors_name_the_key() {
    let config: TcpSinkConfig = toml::from_str("address = \"collector:5170\"").unwrap();
    assert_eq!(config.encoding, Encoding::Body);
    assert_eq!(problems(&config), Vec::<String>::new());
    for bad in ["collector", ":5170", "collector:0", "collector:99999", ""] {
        let config: TcpSinkConfig = toml::from_str(&format!("address = \"{bad}\"")).unwrap();
        assert_eq!(
            problems(&config),
            [format!("sinks.out.address: `{bad}` is not a host:port, such as collector.example:5170")]
        );
    }
    assert!(toml::from_str::<TcpSinkConfig>("address = \"c:1\"\nencoding = \"cef\"").is_err());
    assert!(toml::from_str::<TcpSinkConfig>("address = \"c:1\"\nport = 1").is_err());
}

#[test]
fn message_is_read_only_as_a_top_level_string() {
    assert_eq!(message(r#"{"message":"plain"}"#), Some(Cow::Borrowed("plain")));
    assert_eq!(message(r#"{"a":{"message":"x"},"message":"q\"s"}"#).as_deref(), Some("q\"s"));
    assert_eq!(message(r#"{"a":{"message":"nested only"}}"#), None);
    assert_eq!(message(r#"{"message":null}"#), None);
    assert_eq!(message(r#"{"message":["x"]}"#), None);
    assert_eq!(message("not json"), None);
}
