//! Operating a running router: `/metrics` scraped over TCP and checked by
//! Prometheus's own `promtool`, `/health` through a start, and the log
//! flags.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::peers::free_tcp_port;
use support::{Scratch, test_plugin, wait_for_lines};

/// `GET path` on 127.0.0.1:`port` as a plain HTTP/1.1 client: the status
/// and the body, or `None` when nothing accepts the connection.
fn get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    // A connection reset while the router stops counts as no answer.
    stream.read_to_string(&mut response).ok()?;
    let status = response.split(' ').nth(1)?.parse().ok()?;
    let body = response.split_once("\r\n\r\n")?.1.to_owned();
    Some((status, body))
}

/// The value of the sample of `name` whose labels include `component="id"`.
fn sample(scrape: &str, name: &str, component: &str) -> Option<u64> {
    let label = format!("component=\"{component}\"");
    scrape
        .lines()
        .find(|line| line.starts_with(&format!("{name}{{")) && line.contains(&label))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
}

/// A file source → `tag` (drops lines with DROP, fails those with FAIL) →
/// file sink, with a syslog listener beside it and the API on `api`.
fn config(scratch: &Scratch, api: u16, syslog: u16) -> String {
    format!(
        r#"
data_dir = "{data}"

[api]
address = "127.0.0.1:{api}"

[sources.agents]
type = "file"
include = ["{logs}/*.jsonl"]
read_from = "beginning"

[sources.net]
type = "syslog"
mode = "tcp"
address = "127.0.0.1:{syslog}"

[transforms.tag]
type = "wasm"
plugin = "{tag}"
inputs = ["agents", "net"]
config = {{ stage = "t", drop_containing = "DROP", fail_containing = "FAIL" }}

[sinks.archive]
type = "file"
inputs = ["tag"]
path = "{out}"

[dead_letter]
path = "{dead}"
"#,
        data = scratch.path("data").display(),
        logs = scratch.path("logs").display(),
        tag = test_plugin("tag"),
        out = scratch.path("out.jsonl").display(),
        dead = scratch.path("dead.jsonl").display(),
    )
}

#[test]
fn metrics_pass_promtool_and_count_every_event_and_health_waits_for_the_listeners() {
    support::apt_install("the metrics test", &["prometheus"]);
    let scratch = Scratch::new();
    let (good, dropped, failed): (u64, u64, u64) = (6, 3, 2);
    let mut input = String::new();
    for n in 0..good {
        input.push_str(&format!("{{\"n\":{n},\"note\":\"fine\"}}\n"));
    }
    for n in 0..dropped {
        input.push_str(&format!("{{\"n\":{n},\"note\":\"DROP me\"}}\n"));
    }
    for n in 0..failed {
        input.push_str(&format!("{{\"n\":{n},\"note\":\"FAIL me\"}}\n"));
    }
    scratch.write("logs/agent.jsonl", &input);
    let (api, syslog) = (free_tcp_port(), free_tcp_port());
    let router = support::Router::start(&scratch.write("sluice.toml", &config(&scratch, api, syslog)));

    // Ready means listening: whenever /health says 200, the syslog port
    // accepts connections; before that it answers 503 or is not bound yet.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut answers = Vec::new();
    loop {
        match get(api, "/health") {
            Some((200, body)) => {
                assert_eq!(body.trim(), r#"{"status":"ok"}"#);
                assert!(TcpStream::connect(("127.0.0.1", syslog)).is_ok(), "ready before the syslog source listens");
                break;
            }
            Some((503, body)) => {
                assert_eq!(body.trim(), r#"{"status":"starting"}"#);
                answers.push(503);
            }
            other => assert!(other.is_none(), "unexpected answer before start: {other:?}"),
        }
        assert!(Instant::now() < deadline, "/health not 200 within 60 s (answers so far: {answers:?})");
        std::thread::sleep(Duration::from_millis(5));
    }

    wait_for_lines(&scratch.path("out.jsonl"), good as usize, Duration::from_secs(60));
    wait_for_lines(&scratch.path("dead.jsonl"), failed as usize, Duration::from_secs(60));
    // What leaves a component is counted once it has left: wait for the last count.
    let expected: &[(&str, &str, u64)] = &[
        ("sluice_component_received_events_total", "agents", good + dropped + failed),
        ("sluice_component_sent_events_total", "agents", good + dropped + failed),
        ("sluice_component_received_events_total", "tag", good + dropped + failed),
        ("sluice_component_sent_events_total", "tag", good),
        ("sluice_component_dropped_events_total", "tag", dropped),
        ("sluice_component_dead_lettered_events_total", "tag", failed),
        ("sluice_component_errors_total", "tag", 0),
        ("sluice_component_received_events_total", "archive", good),
        ("sluice_component_sent_events_total", "archive", good),
        ("sluice_component_errors_total", "archive", 0),
        ("sluice_component_received_events_total", "dead_letter", failed),
        ("sluice_component_sent_events_total", "dead_letter", failed),
        ("sluice_plugin_reloads_total", "tag", 0),
        ("sluice_udp_lost_events_total", "net", 0),
    ];
    let deadline = Instant::now() + Duration::from_secs(30);
    let scrape = loop {
        let (status, scrape) = get(api, "/metrics").expect("the API answers");
        assert_eq!(status, 200, "{scrape}");
        let wrong: Vec<_> = expected
            .iter()
            .filter(|(name, id, value)| sample(&scrape, name, id) != Some(*value))
            .map(|(name, id, value)| format!("{name}{{{id}}} = {:?}, expected {value}", sample(&scrape, name, id)))
            .collect();
        if wrong.is_empty() {
            break scrape;
        }
        assert!(Instant::now() < deadline, "{wrong:#?}\n{scrape}");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        scrape.contains(
            "sluice_component_sent_events_total{component=\"archive\",component_kind=\"sink\",component_type=\"file\"} 6"
        ),
        "{scrape}"
    );
    // Conservation, for every component in this mixed run (good, dropped and
    // failing events; no buffer, so nothing is still buffered once it is
    // all through): what came in went out, was dropped or was dead-lettered.
    let components: Vec<String> = scrape
        .lines()
        .filter(|line| line.starts_with("sluice_component_received_events_total{"))
        .filter_map(|line| line.split("component=\"").nth(1)?.split('"').next().map(str::to_owned))
        .collect();
    assert!(components.len() >= 5, "{components:?}");
    for id in &components {
        let count = |name: &str| sample(&scrape, name, id).unwrap_or_else(|| panic!("{name} of {id}\n{scrape}"));
        let received = count("sluice_component_received_events_total");
        let accounted = count("sluice_component_sent_events_total")
            + count("sluice_component_dropped_events_total")
            + count("sluice_component_dead_lettered_events_total");
        assert_eq!(received, accounted, "{id}: in = out + dropped + dead-lettered");
    }

    // Prometheus's own check: the text parses, and names, types and help
    // follow its conventions (promtool prints each problem and exits non-zero).
    let mut promtool = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool is installed with Debian's prometheus package");
    promtool.stdin.take().unwrap().write_all(scrape.as_bytes()).unwrap();
    let checked = promtool.wait_with_output().unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&checked.stdout), String::from_utf8_lossy(&checked.stderr));
    assert!(checked.status.success(), "promtool check metrics failed:\n{said}\n--- scrape ---\n{scrape}");
    assert!(said.trim().is_empty(), "promtool found problems:\n{said}");

    router.stop();
}

#[test]
fn health_never_says_ready_when_a_source_cannot_listen() {
    let scratch = Scratch::new();
    scratch.write("logs/agent.jsonl", "{\"n\":1}\n");
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let syslog = held.local_addr().unwrap().port();
    let api = free_tcp_port();
    let log = scratch.path("sluice.log");
    let mut router =
        support::Router::start_logging_to(&scratch.write("sluice.toml", &config(&scratch, api, syslog)), &log);
    // The API is bound before the plugins load; the start then fails on the
    // syslog port, so the router exits without ever being ready.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut starting = 0;
    let status = loop {
        if let Some(status) = router.try_wait() {
            break status;
        }
        if let Some((status, body)) = get(api, "/health") {
            assert_eq!((status, body.trim()), (503, r#"{"status":"starting"}"#));
            starting += 1;
        }
        assert!(Instant::now() < deadline, "the router neither failed nor stopped");
        std::thread::sleep(Duration::from_millis(5));
    };
    assert!(!status.success());
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(log.contains("source `net` could not start"), "{log}");
    assert!(starting > 0, "the API answered 503 while the plugins loaded");
    drop(held);
}

/// A stdin → stdout pipeline run to the end of its input, with these flags
/// and environment: its standard error.
fn run_logging(scratch: &Scratch, flags: &[&str], env: &[(&str, &str)]) -> String {
    let config = format!(
        "data_dir = \"{}\"\n[sources.in]\ntype = \"stdin\"\n[sinks.out]\ntype = \"stdout\"\ninputs = [\"in\"]\n",
        scratch.path("data").display()
    );
    let config = scratch.write("stdin.toml", &config);
    let mut command = Command::new(env!("CARGO_BIN_EXE_sluice"));
    command.args(flags).args(["run", "--config"]).arg(&config).env_remove("RUST_LOG").env_remove("SLUICE_LOG");
    let mut child = command
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"one\ntwo\n").unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(output.status.success(), "{stderr}");
    stderr
}

#[test]
fn log_format_json_writes_one_object_per_line_with_the_fields_beside_the_message() {
    let scratch = Scratch::new();
    let stderr = run_logging(&scratch, &["--log-format", "json"], &[]);
    let lines: Vec<serde_json::Value> = stderr
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|err| panic!("not JSON ({err}): {line}")))
        .collect();
    let counts = lines
        .iter()
        .find(|line| line["message"] == "final counts" && line["component"] == "out")
        .unwrap_or_else(|| panic!("no final counts of `out` in\n{stderr}"));
    assert_eq!(counts["level"], "INFO");
    assert_eq!(counts["sent"], 2, "{counts}");
    assert!(counts["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')), "{counts}");
}

#[test]
fn log_level_and_sluice_log_choose_what_is_logged() {
    let scratch = Scratch::new();
    let info = run_logging(&scratch, &[], &[]);
    assert!(info.contains("final counts"), "info is the default:\n{info}");
    let warn = run_logging(&scratch, &["--log-level", "warn"], &[]);
    assert!(!warn.contains("final counts"), "{warn}");
    let from_env = run_logging(&scratch, &[], &[("SLUICE_LOG", "warn")]);
    assert!(!from_env.contains("final counts"), "{from_env}");
    let flag_wins = run_logging(&scratch, &["--log-level", "info"], &[("SLUICE_LOG", "warn")]);
    assert!(flag_wins.contains("final counts"), "{flag_wins}");

    let refused = support::sluice(&["--log-level", "info,=x[", "validate"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("invalid value 'info,=x[' for '--log-level"));
    let output = Command::new(env!("CARGO_BIN_EXE_sluice")).arg("validate").env("SLUICE_LOG", "=x[").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("SLUICE_LOG: `=x[` is not a log filter"));
}
