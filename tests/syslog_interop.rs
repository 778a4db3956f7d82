//! sluice against the real syslog peers an operator has: util-linux `logger`
//! sending to it, and `rsyslogd` on either side of it.

mod support;

use serde_json::Value;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;
use support::peers::{FIELDS_TEMPLATE, Rsyslog, free_tcp_port, free_udp_port, logger, wait_for_listener};
use support::{Router, Scratch, test_plugin, wait_for_lines};

/// The event in `lines` whose `message` is `text`.
fn event_with_message(lines: &[String], text: &str) -> Value {
    lines
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|e| e["message"] == text)
        .unwrap_or_else(|| panic!("no event with message {text:?} in {lines:#?}"))
}

#[test]
fn logger_sends_rfc5424_and_rfc3164_over_tcp_and_udp() {
    let scratch = Scratch::new();
    let (tcp, udp) = (free_tcp_port(), free_udp_port());
    let config = format!(
        r#"
data_dir = "{data}"
[sources.tcp]
type = "syslog"
mode = "tcp"
address = "127.0.0.1:{tcp}"
[sources.udp]
type = "syslog"
mode = "udp"
address = "127.0.0.1:{udp}"
[sinks.events]
type = "file"
inputs = ["tcp", "udp"]
path = "{out}"
"#,
        data = scratch.path("data").display(),
        out = scratch.path("events.jsonl").display(),
    );
    let router = Router::start(&scratch.write("sluice.toml", &config));
    wait_for_listener(tcp, Duration::from_secs(30));
    let (tcp, udp) = (tcp.to_string(), udp.to_string());
    let to_tcp = ["-n", "127.0.0.1", "-P", &tcp, "--tcp"];
    let to_udp = ["-n", "127.0.0.1", "-P", &udp, "--udp"];
    let sd = ["--sd-id", "agent@32473", "--sd-param", "id=\"agt-7\"", "--sd-param", "scope=\"files:read\""];
    logger(
        &[
            &to_tcp[..],
            &["--octet-count", "--rfc5424", "-t", "planner", "-p", "local4.warning", "--msgid", "TOOL"],
            &sd[..],
            &["tcp octet-counted 5424"],
        ]
        .concat(),
    );
    logger(&[&to_tcp[..], &["--rfc5424", "-t", "planner", "-p", "auth.notice", "tcp newline 5424"]].concat());
    logger(&[&to_tcp[..], &["--rfc3164", "-t", "legacy", "-i", "-p", "daemon.err", "tcp newline 3164"]].concat());
    logger(
        &[&to_udp[..], &["--rfc5424", "-t", "retriever", "-p", "local0.info", "--msgid", "RAG", "udp 5424"]].concat(),
    );
    logger(&[&to_udp[..], &["--rfc3164", "-t", "legacy", "-p", "user.debug", "udp 3164"]].concat());

    let lines = wait_for_lines(&scratch.path("events.jsonl"), 5, Duration::from_secs(30));
    router.stop();

    let e = event_with_message(&lines, "tcp octet-counted 5424");
    assert_eq!(e["syslog"]["format"], "rfc5424");
    assert_eq!(e["syslog"]["version"], 1);
    assert_eq!((e["syslog"]["facility"].as_u64(), e["syslog"]["severity"].as_u64()), (Some(20), Some(4)));
    assert_eq!(e["syslog"]["app_name"], "planner");
    assert_eq!(e["syslog"]["msgid"], "TOOL");
    assert_eq!(e["syslog"]["structured_data"]["agent@32473"]["id"], "agt-7");
    assert_eq!(e["syslog"]["structured_data"]["agent@32473"]["scope"], "files:read");
    assert!(e["syslog"]["timestamp"].as_str().unwrap().contains('T'), "{e}");
    assert!(e["syslog"]["hostname"].as_str().is_some_and(|h| !h.is_empty()), "{e}");
    assert!(e["syslog"].get("procid").is_none(), "NILVALUE fields are absent: {e}");
    assert_eq!(e["source"]["id"], "tcp");
    assert!(e["source"]["address"].as_str().unwrap().starts_with("127.0.0.1:"), "{e}");
    assert!(e["received_at"].as_str().unwrap().ends_with('Z'));

    let e = event_with_message(&lines, "tcp newline 5424");
    assert_eq!((e["syslog"]["facility"].as_u64(), e["syslog"]["severity"].as_u64()), (Some(4), Some(5)));

    let e = event_with_message(&lines, "tcp newline 3164");
    assert_eq!(e["syslog"]["format"], "rfc3164");
    assert!(e["syslog"].get("version").is_none(), "{e}");
    assert_eq!((e["syslog"]["facility"].as_u64(), e["syslog"]["severity"].as_u64()), (Some(3), Some(3)));
    assert_eq!(e["syslog"]["app_name"], "legacy");
    assert!(e["syslog"]["procid"].as_str().unwrap().parse::<u32>().is_ok(), "logger -i sends its pid: {e}");

    let e = event_with_message(&lines, "udp 5424");
    assert_eq!(e["source"]["id"], "udp");
    assert_eq!(e["syslog"]["msgid"], "RAG");
    assert_eq!((e["syslog"]["facility"].as_u64(), e["syslog"]["severity"].as_u64()), (Some(16), Some(6)));

    let e = event_with_message(&lines, "udp 3164");
    assert_eq!(e["syslog"]["format"], "rfc3164");
    assert_eq!((e["syslog"]["facility"].as_u64(), e["syslog"]["severity"].as_u64()), (Some(1), Some(7)));
}

/// Run sluice on `lines` from stdin, through a plugin that emits `out|<line>`
/// as the body, into the syslog sinks in `sinks` (TOML), until stdin ends.
fn send_through_sluice(scratch: &Scratch, sinks: &str, lines: &str) {
    let config = format!(
        "data_dir = \"{data}\"\n[sources.pipe]\ntype = \"stdin\"\n\
         [transforms.body]\ntype = \"wasm\"\nplugin = \"{tag}\"\ninputs = [\"pipe\"]\n\
         config = {{ stage = \"out\", emit = true }}\n{sinks}",
        data = scratch.path("data").display(),
        tag = test_plugin("tag"),
    );
    let config = scratch.write("forward.toml", &config);
    let mut child = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(["run", "--config", config.to_str().unwrap()])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(lines.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}

/// rsyslog's `fields` lines, split at `|` (the last field, MSG, may hold more).
fn fields(lines: &[String]) -> Vec<Vec<String>> {
    lines.iter().map(|l| l.splitn(10, '|').map(str::to_owned).collect()).collect()
}

#[test]
fn sluice_forwards_to_rsyslog_over_tcp_in_both_framings() {
    let scratch = Scratch::new();
    let port = free_tcp_port();
    let _rsyslog = Rsyslog::tcp_collector(&scratch.path("rsyslog"), port, FIELDS_TEMPLATE, "fields");
    let sinks = format!(
        r#"
[sinks.octet]
type = "syslog"
inputs = ["body"]
mode = "tcp"
address = "127.0.0.1:{port}"
format = "rfc5424"
framing = "octet-counting"
facility = "local4"
app_name = "sluice"
hostname = "router-1"

[sinks.newline]
type = "syslog"
inputs = ["body"]
mode = "tcp"
address = "127.0.0.1:{port}"
format = "rfc3164"
framing = "newline"
facility = "auth"
app_name = "sluice-legacy"
hostname = "router-1"
"#
    );
    let body = "CEF:0|AgentSec|Router|1.0|tool_call|call = \\\\ \\| done|3|act=tool_call msg=a\\=b";
    send_through_sluice(&scratch, &sinks, &format!("first event\n{body}\n"));

    let lines = wait_for_lines(&scratch.path("rsyslog/received.log"), 4, Duration::from_secs(30));
    let received = fields(&lines);
    // RFC 3164 has no field separator after the TAG's colon but a space, which
    // rsyslog keeps at the start of MSG; RFC 5424's MSG must arrive untouched.
    let by = |app: &str, msg: &str| {
        received
            .iter()
            .find(|f| f[5] == app && (f[9] == msg || (app == "sluice-legacy" && f[9].strip_prefix(' ') == Some(msg))))
            .unwrap_or_else(|| panic!("rsyslog got no {app} message {msg:?}: {lines:#?}"))
            .clone()
    };
    for msg in ["out|first event".to_owned(), format!("out|{body}")] {
        let f = by("sluice", &msg);
        assert_eq!((f[0].as_str(), f[1].as_str(), f[2].as_str()), ("166", "20", "6"), "local4.info: {f:?}");
        assert_eq!(f[4], "router-1");
        assert!(f[3].starts_with("20"), "RFC 3339 timestamp: {f:?}");
        let f = by("sluice-legacy", &msg);
        assert_eq!((f[1].as_str(), f[2].as_str()), ("4", "6"), "auth.info: {f:?}");
        assert_eq!(f[4], "router-1");
    }
}

#[test]
fn rsyslog_forwards_to_sluice_octet_counted() {
    let scratch = Scratch::new();
    let (relay, sluice_port) = (free_tcp_port(), free_tcp_port());
    let config = format!(
        "data_dir = \"{}\"\n[sources.relay]\ntype = \"syslog\"\nmode = \"tcp\"\naddress = \"127.0.0.1:{sluice_port}\"\n\
         framing = \"octet-counting\"\n[sinks.events]\ntype = \"file\"\ninputs = [\"relay\"]\npath = \"{}\"\n",
        scratch.path("data").display(),
        scratch.path("events.jsonl").display(),
    );
    let router = Router::start(&scratch.write("sluice.toml", &config));
    wait_for_listener(sluice_port, Duration::from_secs(30));
    let rsyslog_conf = format!(
        "module(load=\"imtcp\")\ninput(type=\"imtcp\" port=\"{relay}\" address=\"127.0.0.1\")\n\
         action(type=\"omfwd\" target=\"127.0.0.1\" port=\"{sluice_port}\" protocol=\"tcp\" \
         tcp_framing=\"octet-counted\" template=\"RSYSLOG_SyslogProtocol23Format\")\n"
    );
    let _rsyslog = Rsyslog::start(&scratch.path("rsyslog"), &rsyslog_conf, relay);
    let relay = relay.to_string();
    logger(&[
        "-n",
        "127.0.0.1",
        "-P",
        &relay,
        "--tcp",
        "--rfc5424",
        "-t",
        "agentd",
        "-p",
        "local3.err",
        "--msgid",
        "AUTHZ",
        "--sd-id",
        "agent@32473",
        "--sd-param",
        "decision=\"deny\"",
        "relayed through rsyslog",
    ]);

    let lines = wait_for_lines(&scratch.path("events.jsonl"), 1, Duration::from_secs(30));
    router.stop();
    let e = event_with_message(&lines, "relayed through rsyslog");
    assert_eq!(e["syslog"]["format"], "rfc5424");
    assert_eq!((e["syslog"]["facility"].as_u64(), e["syslog"]["severity"].as_u64()), (Some(19), Some(3)));
    assert_eq!(e["syslog"]["app_name"], "agentd");
    assert_eq!(e["syslog"]["msgid"], "AUTHZ");
    assert_eq!(e["syslog"]["structured_data"]["agent@32473"]["decision"], "deny");
}

#[test]
fn sluice_forwards_to_rsyslog_over_tls() {
    let scratch = Scratch::new();
    let certs = support::certs::server(&scratch.path("certs"));
    let port = free_tcp_port();
    let rsyslog_conf = format!(
        "global(defaultNetstreamDriver=\"gtls\" defaultNetstreamDriverCAFile=\"{ca}\" \
         defaultNetstreamDriverCertFile=\"{cert}\" defaultNetstreamDriverKeyFile=\"{key}\")\n\
         module(load=\"imtcp\" streamDriver.name=\"gtls\" streamDriver.mode=\"1\" streamDriver.authMode=\"anon\")\n\
         input(type=\"imtcp\" port=\"{port}\" address=\"127.0.0.1\")\n{FIELDS_TEMPLATE}\n\
         action(type=\"omfile\" file=\"{out}\" template=\"fields\")\n",
        ca = certs.ca.display(),
        cert = certs.cert.display(),
        key = certs.key.display(),
        out = scratch.path("rsyslog/received.log").display(),
    );
    let _rsyslog = Rsyslog::start(&scratch.path("rsyslog"), &rsyslog_conf, port);
    let sinks = format!(
        r#"
[sinks.siem]
type = "syslog"
inputs = ["body"]
mode = "tls"
address = "127.0.0.1:{port}"
facility = "local7"
severity = "warning"
app_name = "sluice"
hostname = "router-tls"
tls = {{ ca = "{ca}", server_name = "localhost" }}
"#,
        ca = certs.ca.display(),
    );
    send_through_sluice(&scratch, &sinks, "over tls one\nover tls two\n");

    let lines = wait_for_lines(&scratch.path("rsyslog/received.log"), 2, Duration::from_secs(30));
    let received = fields(&lines);
    for (f, msg) in received.iter().zip(["out|over tls one", "out|over tls two"]) {
        assert_eq!(f[9], msg, "order and body kept: {lines:#?}");
        assert_eq!((f[0].as_str(), f[1].as_str(), f[2].as_str()), ("188", "23", "4"), "local7.warning: {f:?}");
        assert_eq!((f[4].as_str(), f[5].as_str()), ("router-tls", "sluice"));
    }
}

/// Connect to the router and keep the connection if it stays open: a
/// connection over `max_connections` is closed at once. Returns it and how
/// many attempts were refused first (a slot may still be held by a peer that
/// has just gone).
fn connect_accepted(port: u16) -> (std::net::TcpStream, usize) {
    use std::io::Read;
    for refused in 0..50 {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
        match stream.read(&mut [0; 1]) {
            Err(err) if matches!(err.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                return (stream, refused);
            }
            _ => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    panic!("the router closed 50 connections in a row");
}

/// A sender that opens more than `max_connections` gets the extra ones closed
/// at once (each logged), while the connections it holds keep delivering; a
/// slot freed by a closed connection can be taken again.
#[test]
fn connections_over_max_connections_are_refused_while_the_others_keep_working() {
    use std::io::Read;
    let scratch = Scratch::new();
    let port = free_tcp_port();
    let config = format!(
        "data_dir = \"{}\"\n[sources.net]\ntype = \"syslog\"\nmode = \"tcp\"\naddress = \"127.0.0.1:{port}\"\n\
         framing = \"newline\"\nmax_connections = 3\n\
         [sinks.events]\ntype = \"file\"\ninputs = [\"net\"]\npath = \"{}\"\n",
        scratch.path("data").display(),
        scratch.path("events.jsonl").display(),
    );
    let log = scratch.path("sluice.log");
    let router = Router::start_logging_to(&scratch.write("sluice.toml", &config), &log);
    wait_for_listener(port, Duration::from_secs(30));
    let events = scratch.path("events.jsonl");

    let mut refusals = 0;
    let mut held = Vec::new();
    for i in 0..3 {
        let (mut stream, refused) = connect_accepted(port);
        refusals += refused;
        stream.write_all(format!("<13>held {i} first\n").as_bytes()).unwrap();
        held.push(stream);
    }
    wait_for_lines(&events, 3, Duration::from_secs(30));

    // Four more: each is accepted by the kernel, then closed by the router
    // without a byte read; what they send never arrives.
    for i in 0..4 {
        let mut extra = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        extra.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let _ = extra.write_all(format!("<13>extra {i}\n").as_bytes());
        match extra.read(&mut [0; 16]) {
            Ok(0) => {}
            Err(err) if err.kind() == std::io::ErrorKind::ConnectionReset => {}
            other => panic!("connection {} over the limit was not closed: {other:?}", i + 1),
        }
        // The held connections are served in between.
        held[i % 3].write_all(format!("<13>held {} during {i}\n", i % 3).as_bytes()).unwrap();
    }
    for (i, stream) in held.iter_mut().enumerate() {
        stream.write_all(format!("<13>held {i} after\n").as_bytes()).unwrap();
    }
    wait_for_lines(&events, 10, Duration::from_secs(30));

    // A slot freed is a slot taken.
    drop(held.remove(0));
    let (mut again, refused) = connect_accepted(port);
    refusals += refused;
    again.write_all(b"<13>slot taken again\n").unwrap();
    let lines = wait_for_lines(&events, 11, Duration::from_secs(30));
    drop((held, again));
    router.stop();

    let messages: Vec<String> = lines
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["message"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(messages.len(), 11, "{messages:#?}");
    for i in 0..3 {
        assert!(messages.contains(&format!("held {i} first")), "{messages:#?}");
        assert!(messages.contains(&format!("held {i} after")), "{messages:#?}");
    }
    for i in 0..4 {
        assert!(messages.contains(&format!("held {} during {i}", i % 3)), "{messages:#?}");
    }
    assert!(messages.contains(&"slot taken again".to_owned()), "{messages:#?}");
    assert!(!messages.iter().any(|m| m.starts_with("extra")), "nothing from a refused connection: {messages:#?}");
    let log = std::fs::read_to_string(&log).unwrap();
    let logged = log.matches("refused a syslog connection from 127.0.0.1:").count();
    assert_eq!(logged, 4 + refusals, "each refusal is logged once:\n{log}");
    assert!(log.contains("max_connections (3) are open"), "{log}");
}

/// The flood from the issue: 100,000 `0 \n` frames (300 KB) on one
/// connection used to make 100,000 dead-letter records and a log line each.
/// Now bad frames in a row make one record with their count (and the first
/// as a sample), and the log stays short.
#[test]
fn a_flood_of_bad_frames_makes_a_few_counted_records_and_a_short_log() {
    let scratch = Scratch::new();
    let port = free_tcp_port();
    let config = format!(
        "data_dir = \"{}\"\n[sources.net]\ntype = \"syslog\"\nmode = \"tcp\"\naddress = \"127.0.0.1:{port}\"\n\
         framing = \"octet-counting\"\n[sinks.events]\ntype = \"file\"\ninputs = [\"net\"]\npath = \"{}\"\n",
        scratch.path("data").display(),
        scratch.path("events.jsonl").display(),
    );
    let log = scratch.path("sluice.log");
    let router = Router::start_logging_to(&scratch.write("sluice.toml", &config), &log);
    wait_for_listener(port, Duration::from_secs(30));

    let frames = 100_000;
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.write_all(&b"0 \n".repeat(frames)).unwrap();
    stream.write_all(b"12 <13>1 - - - ").unwrap();
    drop(stream);

    // Each record says how many frames it stands for; together, all of them.
    let dead_letter = scratch.path("data/dead-letter.jsonl");
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    let records = loop {
        let records: Vec<Value> =
            support::read_lines(&dead_letter).iter().map(|l| serde_json::from_str(l).unwrap()).collect();
        let counted: u64 = records.iter().map(|r| r["count"].as_u64().unwrap_or(1)).sum();
        if counted >= frames as u64 {
            break records;
        }
        assert!(std::time::Instant::now() < deadline, "{counted} of {frames} bad frames in the dead letter");
        std::thread::sleep(Duration::from_millis(100));
    };
    wait_for_lines(&scratch.path("events.jsonl"), 1, Duration::from_secs(30));
    router.stop();

    let counted: u64 = records.iter().map(|r| r["count"].as_u64().unwrap()).sum();
    assert_eq!(counted, frames as u64);
    assert!(records.len() <= 20, "a handful of records, not one per frame: {}", records.len());
    let reason = records[0]["reason"].as_str().unwrap();
    assert!(reason.starts_with("invalid syslog frame from 127.0.0.1:"), "{reason}");
    assert!(reason.contains(": MSG-LEN starts with 0; "), "{reason}");
    assert_eq!(records[0]["event"]["message"], "0 \n");
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(log.lines().count() <= 40, "a short log ({} lines):\n{log}", log.lines().count());
    assert!(log.len() < 20_000, "a short log ({} bytes)", log.len());
    assert!(log.contains(&format!("component=net received={} ", frames + 1)), "{log}");
}
