use super::*;
use crate::ack::BatchStatus;
use crate::sinks::testing::{self, Running, WAIT, event, finished};
use crate::syslog::frame::Decoder;
use futures_util::StreamExt;
use serde_json::json;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::AsyncRead;
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio_util::codec::FramedRead;

const FAST: Retry =
    Retry { first: Duration::from_millis(10), max: Duration::from_millis(50), grace: Duration::from_millis(200) };

fn config(mode: &str, address: SocketAddr, extra: &str) -> SyslogSinkConfig {
    let text = format!("mode = \"{mode}\"\naddress = \"{address}\"\nhostname = \"sluice-host\"\n{extra}");
    let config: SyslogSinkConfig = toml::from_str(&text).unwrap();
    let mut errors = Vec::new();
    config.validate("sinks.out", &mut errors);
    assert_eq!(errors, []);
    config
}

fn start(config: SyslogSinkConfig, retry: Retry) -> Running {
    testing::start(retry.grace, move |ctx| async move {
        let header = Header::new(&config).unwrap();
        let destination = Destination::new(config.mode, &config.address, config.tls.as_ref())?;
        deliver(ctx, &header, &destination, retry).await
    })
}

fn formatted(line: &str, json: serde_json::Value) -> Event {
    let mut event = event(json);
    event.set_line(line.to_owned());
    event
}

/// Read `n` messages from a stream with our own framer and parser.
async fn read_messages<S: AsyncRead + Unpin>(stream: S, framing: Framing, n: usize) -> Vec<Message<'static>> {
    let mut frames = FramedRead::new(stream, Decoder::new(framing, 1 << 20));
    let mut messages = Vec::new();
    while messages.len() < n {
        let frame = tokio::time::timeout(WAIT, frames.next()).await.expect("a message arrives");
        match frame.expect("the stream is open").unwrap() {
            crate::syslog::frame::Frame::Message(bytes) => {
                messages.push(crate::syslog::parse(&bytes).into_owned());
            }
            other => panic!("unexpected frame {other:?}"),
        }
    }
    messages
}

async fn accept(listener: &TcpListener) -> TcpStream {
    tokio::time::timeout(WAIT, listener.accept()).await.expect("the sink connects").unwrap().0
}

#[tokio::test]
async fn tcp_octet_counted_rfc5424_carries_the_header_and_the_body() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sink = start(config("tcp", listener.local_addr().unwrap(), "facility = \"local4\""), FAST);
    let cef = "CEF:0|sluice|agent|1|tool|ran tool|8|msg=line one";
    let with_line = formatted(
        cef,
        json!({"time": "2026-11-26T14:00:00.123456789+02:00", "event": {"kind": "tool", "severity": 8}}),
    );
    let plain = event(json!({"event": "prompt", "agent": "a"}));
    let status = sink.send(vec![with_line, plain.clone()]).await;

    let messages = read_messages(accept(&listener).await, Framing::OctetCounting, 2).await;
    let first = &messages[0];
    assert_eq!(first.format, crate::syslog::Format::Rfc5424);
    assert_eq!((first.facility, first.severity, first.version), (Some(20), Some(3), Some(1)));
    assert_eq!(first.timestamp.as_deref(), Some("2026-11-26T12:00:00.123456Z"));
    assert_eq!(first.hostname.as_deref(), Some("sluice-host"));
    assert_eq!(first.app_name.as_deref(), Some("sluice"));
    assert_eq!((first.procid.as_deref(), first.msgid.as_deref()), (None, None));
    assert_eq!(first.msg, cef);
    let second = &messages[1];
    assert_eq!(second.severity, Some(6), "the configured default");
    assert_eq!(second.msg, plain.json(), "no formatted line: the event JSON");
    let sent_at = second.timestamp.as_deref().unwrap();
    assert!(time::OffsetDateTime::parse(sent_at, &time::format_description::well_known::Rfc3339).is_ok());

    assert_eq!(status.await.unwrap(), BatchStatus::Delivered);
    assert_eq!(sink.metrics.counts().sent, 2);
    assert_eq!(sink.finish().await, Vec::<serde_json::Value>::new());
}

#[tokio::test]
async fn tcp_newline_rfc3164() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let extra =
        "format = \"rfc3164\"\nframing = \"newline\"\nfacility = 4\nseverity = \"warning\"\napp_name = \"agentd\"";
    let sink = start(config("tcp", listener.local_addr().unwrap(), extra), FAST);
    let status = sink.send(vec![formatted("first", json!({})), formatted("second", json!({}))]).await;
    let messages = read_messages(accept(&listener).await, Framing::Newline, 2).await;
    for (message, text) in messages.iter().zip(["first", "second"]) {
        assert_eq!(message.format, crate::syslog::Format::Rfc3164);
        assert_eq!((message.facility, message.severity, message.version), (Some(4), Some(4), None));
        assert_eq!(message.hostname.as_deref(), Some("sluice-host"));
        assert_eq!(message.app_name.as_deref(), Some("agentd"));
        assert_eq!(message.msg, text);
    }
    assert_eq!(finished(status).await, BatchStatus::Delivered);
    sink.finish().await;
}

/// Newline framing follows the rule of every line-oriented sink
/// ([`crate::sinks::line`]): a line break in the body cannot split the message.
#[tokio::test]
async fn tcp_newline_keeps_a_body_with_line_breaks_in_one_message() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sink = start(config("tcp", listener.local_addr().unwrap(), "framing = \"newline\""), FAST);
    let status = sink.send(vec![formatted("one\nFORGED\r\n", json!({})), formatted("two", json!({}))]).await;
    let messages = read_messages(accept(&listener).await, Framing::Newline, 2).await;
    let bodies: Vec<&str> = messages.iter().map(|m| m.msg.as_ref()).collect();
    assert_eq!(bodies, ["one#012FORGED", "two"]);
    assert_eq!(finished(status).await, BatchStatus::Delivered);
    sink.finish().await;
}

#[tokio::test]
async fn tls_with_a_client_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let certs = crate::tls::test_certs::make(dir.path());
    let server = crate::tls::ServerTlsConfig {
        cert: certs.server_cert.clone(),
        key: certs.server_key.clone(),
        client_ca: Some(certs.ca.clone()),
    };
    let acceptor = tokio_rustls::TlsAcceptor::from(server.load().unwrap());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let tls = format!(
        "tls = {{ ca = {:?}, cert = {:?}, key = {:?}, server_name = \"localhost\" }}",
        certs.ca, certs.client_cert, certs.client_key
    );
    let sink = start(config("tls", address, &tls), FAST);
    let status = sink.send(vec![formatted("over tls", json!({"event": {"severity": 10}}))]).await;
    let stream = acceptor.accept(accept(&listener).await).await.expect("the client certificate is accepted");
    let messages = read_messages(stream, Framing::OctetCounting, 1).await;
    assert_eq!(messages[0].msg, "over tls");
    assert_eq!(messages[0].severity, Some(2));
    assert_eq!(finished(status).await, BatchStatus::Delivered);
    sink.finish().await;
}

#[tokio::test]
async fn udp_sends_one_datagram_per_message_and_dead_letters_what_cannot_fit() {
    let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let sink = start(config("udp", server.local_addr().unwrap(), ""), FAST);
    let huge = "h".repeat(MAX_DATAGRAM_BYTES);
    let status =
        sink.send(vec![formatted("one", json!({})), formatted(&huge, json!({})), formatted("two", json!({}))]).await;
    let mut buf = vec![0; 70_000];
    for expected in ["one", "two"] {
        let n = tokio::time::timeout(WAIT, server.recv(&mut buf)).await.unwrap().unwrap();
        let message = crate::syslog::parse(&buf[..n]);
        assert_eq!(message.msg, expected);
        assert_eq!(message.format, crate::syslog::Format::Rfc5424);
    }
    assert_eq!(finished(status).await, BatchStatus::Delivered, "dead-lettering is a delivery");
    let dead = sink.finish().await;
    assert_eq!(dead.len(), 1);
    let reason = dead[0]["reason"].as_str().unwrap();
    assert!(reason.contains("exceeds the largest UDP datagram (65507 bytes)"), "{reason}");
    assert_eq!(dead[0]["line"], huge);
}

#[tokio::test]
async fn a_destination_that_is_down_at_first_gets_every_event_once_it_is_up() {
    let address = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    let sink = start(config("tcp", address, ""), FAST);
    let mut statuses = Vec::new();
    for i in 0..3 {
        statuses.push(sink.send(vec![formatted(&format!("event {i}"), json!({}))]).await);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(sink.metrics.counts().errors >= 2, "connection refused, retried");
    assert_eq!(sink.metrics.counts().sent, 0);

    let listener = TcpListener::bind(address).await.unwrap();
    let messages = read_messages(accept(&listener).await, Framing::OctetCounting, 3).await;
    let texts: Vec<&str> = messages.iter().map(|m| m.msg.as_ref()).collect();
    assert_eq!(texts, ["event 0", "event 1", "event 2"]);
    for status in statuses {
        assert_eq!(self::finished(status).await, BatchStatus::Delivered);
    }
    sink.finish().await;
}

#[tokio::test]
async fn a_closed_connection_is_noticed_and_the_next_batch_goes_on_a_new_one() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sink = start(config("tcp", listener.local_addr().unwrap(), ""), FAST);
    let first = sink.send(vec![formatted("before", json!({}))]).await;
    let stream = accept(&listener).await;
    let (read, write) = stream.into_split();
    let mut frames = read_messages(read, Framing::OctetCounting, 1).await;
    assert_eq!(frames.remove(0).msg, "before");
    assert_eq!(finished(first).await, BatchStatus::Delivered);
    drop(write); // The destination restarts: its end of the connection closes.
    tokio::time::sleep(Duration::from_millis(50)).await;

    let second = sink.send(vec![formatted("after", json!({}))]).await;
    let messages = read_messages(accept(&listener).await, Framing::OctetCounting, 1).await;
    assert_eq!(messages[0].msg, "after");
    assert_eq!(finished(second).await, BatchStatus::Delivered);
    sink.finish().await;
}

#[tokio::test]
async fn shutdown_while_the_destination_is_down_fails_the_batches() {
    let address = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    let sink = start(config("tcp", address, ""), FAST);
    let first = sink.send(vec![formatted("lost", json!({}))]).await;
    let second = sink.send(vec![formatted("queued", json!({}))]).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    sink.shutdown.cancel();
    assert_eq!(finished(first).await, BatchStatus::Failed);
    assert_eq!(finished(second).await, BatchStatus::Failed);
    assert!(sink.input.send(Batch::new(vec![formatted("late", json!({}))])).await.is_err(), "input closed");
    assert_eq!(sink.metrics.counts().sent, 0);
    sink.finish().await;
}

#[test]
fn event_time_and_severity_feed_the_header() {
    let read = |json: serde_json::Value| EventHeader::read(&json.to_string());
    let header = read(json!({"time": "2026-11-26T14:00:00+02:00", "event": {"severity": 7.6}}));
    assert_eq!(header, EventHeader { time: Some("2026-11-26T12:00:00Z".into()), severity: Some(8) });
    assert_eq!(read(json!({"time": "yesterday", "event": "prompt"})), EventHeader::default());
    assert_eq!(read(json!({"time": 1764160205, "event": {"severity": "high"}})), EventHeader::default());
    assert_eq!(read(json!({"event": {"severity": 99}})).severity, Some(10));
    assert_eq!(EventHeader::read("not json"), EventHeader::default());
    let mapped: Vec<u8> = (0..=10).map(syslog_severity).collect();
    assert_eq!(mapped, [6, 6, 5, 5, 4, 4, 4, 3, 3, 2, 2]);
}

fn problems(text: &str) -> Vec<String> {
    let config: SyslogSinkConfig = toml::from_str(text).unwrap();
    let mut errors = Vec::new();
    config.validate("sinks.s", &mut errors);
    errors.iter().map(ToString::to_string).collect()
}

#[test]
fn config_defaults_and_codes() {
    let config: SyslogSinkConfig = toml::from_str("mode = \"tcp\"\naddress = \"siem:514\"").unwrap();
    assert_eq!(config.format, SyslogFormat::Rfc5424);
    assert_eq!((config.facility(), config.severity()), (Ok(1), Ok(6)));
    assert_eq!(config.app_name, "sluice");
    let header = Header::new(&config).unwrap();
    assert_eq!(header.framing, Some(Framing::OctetCounting));
    assert!(header.hostname.is_some_and(|h| !h.is_empty()), "the machine's name");
    let named: SyslogSinkConfig =
        toml::from_str("mode = \"udp\"\naddress = \"siem:514\"\nfacility = \"LOCAL7\"\nseverity = 3").unwrap();
    assert_eq!((named.facility(), named.severity()), (Ok(23), Ok(3)));
    assert_eq!(Header::new(&named).unwrap().framing, None);
    assert!(toml::from_str::<SyslogSinkConfig>("mode = \"tcp\"\naddress = \"s:1\"\nport = 1").is_err());
}

#[test]
fn validation_reports_every_problem() {
    let errors = problems(
        "mode = \"udp\"\naddress = \"siem\"\nframing = \"newline\"\nfacility = \"local9\"\nseverity = 8\n\
         app_name = \"has space\"\nhostname = \"\"\ntls = { ca = \"ca.pem\" }",
    );
    assert_eq!(errors.len(), 7, "{errors:#?}");
    assert_eq!(errors[0], "sinks.s.address: `siem` is not a host:port, such as siem.example:6514");
    assert!(errors[1].starts_with("sinks.s.facility: unknown name `local9` (one of: kern, user,"), "{errors:#?}");
    assert_eq!(errors[2], "sinks.s.severity: must be 0–7");
    assert_eq!(errors[3], "sinks.s.framing: only used with mode \"tcp\" or \"tls\": a UDP datagram is one message");
    assert!(errors[4].starts_with("sinks.s.app_name: must be 1–48 printable"), "{errors:#?}");
    assert!(errors[5].starts_with("sinks.s.hostname: must be 1–255 printable"), "{errors:#?}");
    assert_eq!(errors[6], "sinks.s.tls: only used with mode = \"tls\"");
    assert_eq!(
        problems("mode = \"tcp\"\naddress = \"siem:514\"\nframing = \"auto\""),
        ["sinks.s.framing: must be \"octet-counting\" or \"newline\""]
    );
}

#[test]
fn tls_problems_are_reported_under_the_tls_key() {
    let errors =
        problems("mode = \"tls\"\naddress = \"siem:6514\"\ntls = { ca = \"/nonexistent/ca.pem\", key = \"k.pem\" }");
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(errors[0].starts_with("sinks.s.tls.ca: cannot read /nonexistent/ca.pem"), "{errors:#?}");
    assert_eq!(errors[1], "sinks.s.tls.cert: missing: `key` needs its `cert`");
}
