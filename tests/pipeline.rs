//! A user's session with a file-to-file pipeline of two wasm transforms:
//! everything arrives once and in order, restarts resume where they stopped,
//! and a misbehaving plugin costs only its own events.

mod support;

use serde_json::Value;
use std::time::Duration;
use support::{Router, Scratch, test_plugin, wait_for_lines};

fn events(range: std::ops::Range<usize>) -> String {
    range.map(|n| format!("{{\"n\":{n},\"agent\":{{\"id\":\"agent-{}\"}}}}\n", n % 7)).collect()
}

fn two_stage_config(scratch: &Scratch) -> std::path::PathBuf {
    let config = format!(
        r#"
data_dir = "{data}"

[sources.agents]
type = "file"
include = ["{logs}/*.jsonl"]

[transforms.first]
type = "wasm"
plugin = "{tag}"
inputs = ["agents"]
config = {{ stage = "first" }}

[transforms.second]
type = "wasm"
plugin = "{tag}"
inputs = ["first"]
config = {{ stage = "second" }}

[sinks.archive]
type = "file"
inputs = ["second"]
path = "{out}"
"#,
        data = scratch.path("data").display(),
        logs = scratch.path("logs").display(),
        tag = test_plugin("tag"),
        out = scratch.path("out/events.jsonl").display(),
    );
    scratch.write("sluice.toml", &config)
}

/// The `n` of every output line, checking each passed both stages in order.
fn numbers(lines: &[String]) -> Vec<u64> {
    lines
        .iter()
        .map(|line| {
            let event: Value = serde_json::from_str(line).expect("each output line is an event");
            assert_eq!(event["stages"], serde_json::json!(["first", "second"]), "{line}");
            let message: Value = serde_json::from_str(event["message"].as_str().unwrap()).unwrap();
            message["n"].as_u64().unwrap()
        })
        .collect()
}

#[test]
fn ten_thousand_events_arrive_once_in_order_and_a_restart_resumes() {
    let scratch = Scratch::new();
    scratch.write("logs/agent.jsonl", &events(0..10_000));
    let config = two_stage_config(&scratch);
    let out = scratch.path("out/events.jsonl");

    let router = Router::start(&config);
    wait_for_lines(&out, 10_000, Duration::from_secs(120));
    router.stop();
    let lines = scratch.lines("out/events.jsonl");
    assert_eq!(numbers(&lines), (0..10_000).collect::<Vec<_>>(), "every event once, in order");

    // New events arrive while sluice is down; after a restart only they are read.
    scratch.append("logs/agent.jsonl", &events(10_000..10_500));
    let router = Router::start(&config);
    wait_for_lines(&out, 10_500, Duration::from_secs(60));
    // Give a re-read, if there were one, the time to show up.
    std::thread::sleep(Duration::from_millis(500));
    router.stop();
    let lines = scratch.lines("out/events.jsonl");
    assert_eq!(numbers(&lines), (0..10_500).collect::<Vec<_>>(), "nothing read twice after a clean stop");
}

/// `run` compiles a plugin it has not cached yet in a child process, so the
/// compiler's memory never stays with the router; the next start loads it.
#[test]
fn plugins_are_compiled_by_a_child_process_into_the_cache() {
    let scratch = Scratch::new();
    scratch.write("logs/agent.jsonl", &events(0..10));
    let config = two_stage_config(&scratch);
    let log = scratch.path("sluice.log");
    let router = Router::start_logging_to(&config, &log);
    wait_for_lines(&scratch.path("out/events.jsonl"), 10, Duration::from_secs(60));
    router.stop();
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(log.contains("plugin compiled by a child process into the cache"), "{log}");
    assert!(!log.contains("compiling in-process"), "{log}");
    let cached = std::fs::read_dir(scratch.path("data/cache/plugins")).unwrap().count();
    assert_eq!(cached, 1, "both stages run the same plugin, compiled once");
}

#[test]
fn a_trapping_plugin_dead_letters_only_its_event_and_the_router_keeps_going() {
    let scratch = Scratch::new();
    let input = "{\"n\":1}\n{\"n\":2,\"note\":\"TRAP\"}\n{\"n\":3}\n{\"n\":4,\"note\":\"LOOP\"}\n{\"n\":5}\n";
    scratch.write("logs/agent.jsonl", input);
    let config = format!(
        r#"
data_dir = "{data}"
batch = {{ max_events = 1 }}

[sources.agents]
type = "file"
include = ["{logs}/*.jsonl"]

[transforms.risky]
type = "wasm"
plugin = "{misbehave}"
inputs = ["agents"]
limits = {{ deadline_ms = 50 }}

[sinks.archive]
type = "file"
inputs = ["risky"]
path = "{out}"

[dead_letter]
path = "{dead}"
"#,
        data = scratch.path("data").display(),
        logs = scratch.path("logs").display(),
        misbehave = test_plugin("misbehave"),
        out = scratch.path("out.jsonl").display(),
        dead = scratch.path("dead.jsonl").display(),
    );
    let log = scratch.path("sluice.log");
    let router = Router::start_logging_to(&scratch.write("sluice.toml", &config), &log);
    let out = wait_for_lines(&scratch.path("out.jsonl"), 3, Duration::from_secs(60));
    let dead = wait_for_lines(&scratch.path("dead.jsonl"), 2, Duration::from_secs(60));
    router.stop();

    // The overrun was retried once on a fresh instance before it was
    // dead-lettered; the trap was not retried.
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(log.contains("plugin call overran its deadline; retrying the batch once"), "{log}");
    let counts = log.lines().find(|l| l.contains("final counts") && l.contains("component=risky")).unwrap();
    assert!(counts.contains(" errors=2 ") && counts.contains(" retries=1"), "{counts}");

    let delivered: Vec<String> =
        out.iter().map(|l| serde_json::from_str::<Value>(l).unwrap()["message"].as_str().unwrap().to_owned()).collect();
    assert_eq!(delivered, ["{\"n\":1}", "{\"n\":3}", "{\"n\":5}"]);

    let dead: Vec<Value> = dead.iter().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(dead[0]["component"], "risky");
    assert!(dead[0]["event"]["message"].as_str().unwrap().contains("TRAP"));
    assert!(dead[0]["reason"].as_str().unwrap().contains("asked to trap"), "{}", dead[0]["reason"]);
    assert!(dead[1]["event"]["message"].as_str().unwrap().contains("LOOP"));
    assert!(dead[1]["reason"].as_str().unwrap().contains("exceeded its deadline of 50 ms"), "{}", dead[1]["reason"]);
    assert!(dead[0]["time"].as_str().unwrap().ends_with('Z'));
}

#[test]
fn events_piped_through_stdin_come_out_on_stdout_and_sluice_exits_at_end_of_input() {
    use std::io::Write;
    use std::process::{Command, Stdio};

    let scratch = Scratch::new();
    let config = format!(
        "data_dir = \"{}\"\n[sources.pipe]\ntype = \"stdin\"\n\
         [transforms.mark]\ntype = \"wasm\"\nplugin = \"{}\"\ninputs = [\"pipe\"]\nconfig = {{ stage = \"m\", emit = true }}\n\
         [sinks.console]\ntype = \"stdout\"\ninputs = [\"mark\"]\n",
        scratch.path("data").display(),
        test_plugin("tag"),
    );
    let config = scratch.write("pipe.toml", &config);
    let mut child = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(["run", "--config", config.to_str().unwrap()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"first\nsecond\r\nthird").unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(String::from_utf8_lossy(&output.stdout), "m|first\nm|second\nm|third\n");
}

/// Under umask 000, the compiled-plugin cache (written by the child compiler
/// of `sluice run`) is still owner-only: 0700 directories, 0600 entries.
#[test]
fn the_plugin_cache_is_owner_only_whatever_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    use std::process::{Command, Stdio};

    let scratch = Scratch::new();
    let config = format!(
        "data_dir = \"{}\"\n[sources.pipe]\ntype = \"stdin\"\n\
         [transforms.mark]\ntype = \"wasm\"\nplugin = \"{}\"\ninputs = [\"pipe\"]\n\
         [sinks.console]\ntype = \"stdout\"\ninputs = [\"mark\"]\n",
        scratch.path("data").display(),
        test_plugin("tag"),
    );
    let config = scratch.write("pipe.toml", &config);
    let output = Command::new("sh")
        .args(["-c", "umask 000 && exec \"$0\" run --config \"$1\"", env!("CARGO_BIN_EXE_sluice")])
        .arg(&config)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{log}");
    assert!(log.contains("plugin compiled by a child process into the cache"), "{log}");
    let mode = |path: &std::path::Path| path.metadata().unwrap().permissions().mode() & 0o7777;
    let cache = scratch.path("data/cache/plugins");
    assert_eq!(mode(&scratch.path("data/cache")), 0o700);
    assert_eq!(mode(&cache), 0o700);
    let entries: Vec<_> = std::fs::read_dir(&cache).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(mode(&entries[0]), 0o600, "{}", entries[0].display());
}

/// A peer's message may hold line breaks (octet counting carries them), and
/// a plugin may emit a line with them: every line-oriented sink writes one
/// line per event all the same, with LF as `#012` and CR as `#015`, so
/// nothing downstream can be handed a forged extra record.
#[test]
fn a_line_break_in_an_emitted_line_cannot_forge_a_record_in_file_or_stdout() {
    use std::io::Write;
    use support::peers::{free_tcp_port, wait_for_listener};

    let scratch = Scratch::new();
    let port = free_tcp_port();
    let config = format!(
        r#"
data_dir = "{data}"
[sources.net]
type = "syslog"
mode = "tcp"
address = "127.0.0.1:{port}"
[transforms.mark]
type = "wasm"
plugin = "{tag}"
inputs = ["net"]
config = {{ stage = "e", emit = true }}
[sinks.archive]
type = "file"
inputs = ["mark"]
path = "{out}"
[sinks.console]
type = "stdout"
inputs = ["mark"]
"#,
        data = scratch.path("data").display(),
        tag = test_plugin("tag"),
        out = scratch.path("out.log").display(),
    );
    let stdout = scratch.path("stdout.log");
    let router = Router::start_with_stdout_to(&scratch.write("sluice.toml", &config), &stdout);
    wait_for_listener(port, Duration::from_secs(30));
    let mut peer = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    for msg in ["<13>1 - h app - - - first\nFORGED|admin login\r\nthird", "<13>1 - h app - - - next"] {
        write!(peer, "{} {msg}", msg.len()).unwrap();
    }
    drop(peer);
    let expected = ["e|first#012FORGED|admin login#015#012third", "e|next"];
    wait_for_lines(&scratch.path("out.log"), 2, Duration::from_secs(60));
    wait_for_lines(&stdout, 2, Duration::from_secs(60));
    router.stop();
    assert_eq!(scratch.lines("out.log"), expected, "the file sink");
    assert_eq!(scratch.lines("stdout.log"), expected, "the stdout sink");
}

/// A pipeline mixing contract versions: a plugin built against 0.2 (kept as
/// a fixture) feeds one built against 0.3 that splits events, counts per
/// agent in its transform's state and reads the clock, frozen by config.
/// Every child arrives once, and the count carries over a restart.
#[test]
fn a_0_2_plugin_feeds_a_0_3_one_that_splits_counts_across_a_restart_and_reads_a_frozen_clock() {
    // The file source puts each line in `message`: the plugin acts on it.
    let scratch = Scratch::new();
    let config = format!(
        r#"
data_dir = "{data}"

[plugins]
frozen_clock = "2026-01-31T12:00:00Z"

[sources.agents]
type = "file"
include = ["{logs}/*.jsonl"]

[transforms.old]
type = "wasm"
plugin = "{old}"
inputs = ["agents"]
config = {{ stage = "old" }}

[transforms.new]
type = "wasm"
plugin = "{new}"
inputs = ["old"]

[sinks.archive]
type = "file"
inputs = ["new"]
path = "{out}"
"#,
        data = scratch.path("data").display(),
        logs = scratch.path("logs").display(),
        old = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/contract-0.2/tag.wasm"),
        new = test_plugin("capabilities"),
        out = scratch.path("out/events.jsonl").display(),
    );
    let config = scratch.write("sluice.toml", &config);
    let lines: String = (0..100)
        .map(|n| match n % 3 {
            0 => format!("SPLIT:{n}a,{n}b,{n}c\n"),
            1 => "COUNT\n".to_owned(),
            _ => "CLOCK\n".to_owned(),
        })
        .collect();
    scratch.write("logs/agent.jsonl", &lines);
    let out = scratch.path("out/events.jsonl");
    // 34 events split in three, 33 counted, 33 stamped.
    let expected = 34 * 3 + 33 + 33;
    let router = Router::start(&config);
    wait_for_lines(&out, expected, Duration::from_secs(120));
    router.stop();
    let events: Vec<Value> =
        scratch.lines("out/events.jsonl").iter().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(events.len(), expected, "every child once, nothing else");
    let parts: Vec<&str> =
        events.iter().filter(|e| e.get("part").is_some()).map(|e| e["message"].as_str().unwrap()).collect();
    assert_eq!(&parts[..6], ["0a", "0b", "0c", "3a", "3b", "3c"], "children in place and in order");
    let counts: Vec<u64> = events.iter().filter_map(|e| e["count"].as_u64()).collect();
    assert_eq!(counts, (1..=33).collect::<Vec<_>>(), "one count per event, in order");
    let stamped: Vec<&Value> = events.iter().filter(|e| e.get("now").is_some()).collect();
    assert_eq!(stamped.len(), 33);
    assert!(stamped.iter().all(|e| e["now"] == 1_769_860_800 && e["monotonic"] == 0), "{:?}", stamped[0]);
    assert!(stamped.iter().all(|e| e["stages"] == serde_json::json!(["old"])), "the 0.2 stage ran first");

    // After a restart the state still holds the count.
    scratch.append("logs/agent.jsonl", "COUNT\n");
    let router = Router::start(&config);
    let lines = wait_for_lines(&out, expected + 1, Duration::from_secs(60));
    router.stop();
    let last: Value = serde_json::from_str(lines.last().unwrap()).unwrap();
    assert_eq!(last["count"], 34, "{last}");
}
