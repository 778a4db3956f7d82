//! An operator deploys new plugin versions into `plugins.dir` while events
//! stream through: every event is processed exactly once, by exactly one
//! version, and versions only move forward; a broken file changes nothing.

mod support;

use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};
use support::{Router, Scratch, test_plugin, wait_for_lines};

const EVENTS: usize = 200_000;
const SWAPS: usize = 20;

/// Deploy `bytes` as `dir/stamp.wasm` the safe way: write aside, rename into place.
fn deploy(dir: &Path, bytes: &[u8]) {
    let aside = dir.join(".stamp.wasm.partial");
    std::fs::write(&aside, bytes).unwrap();
    std::fs::rename(&aside, dir.join("stamp.wasm")).unwrap();
}

/// A file source through the `stamp` transform (the plugin `stamp` from
/// `plugins`) into `out.jsonl`.
fn stamp_config(scratch: &Scratch, plugins: &Path) -> String {
    format!(
        r#"
data_dir = "{data}"
[plugins]
dir = "{plugins}"
[sources.agents]
type = "file"
include = ["{logs}/*.jsonl"]
poll_interval_ms = 10
[transforms.stamp]
type = "wasm"
plugin = "stamp"
inputs = ["agents"]
[sinks.archive]
type = "file"
inputs = ["stamp"]
path = "{out}"
"#,
        data = scratch.path("data").display(),
        plugins = plugins.display(),
        logs = scratch.path("logs").display(),
        out = scratch.path("out.jsonl").display(),
    )
}

#[test]
fn plugins_swapped_under_a_steady_stream_lose_and_repeat_nothing() {
    let scratch = Scratch::new();
    let plugins = scratch.path("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    let (one, two) =
        (std::fs::read(test_plugin("version-one")).unwrap(), std::fs::read(test_plugin("version-two")).unwrap());
    deploy(&plugins, &one);
    let config = stamp_config(&scratch, &plugins);
    scratch.write("logs/agent.jsonl", "");
    let log = scratch.path("sluice.log");
    let router = Router::start_logging_to(&scratch.write("sluice.toml", &config), &log);

    // A steady stream: the writer appends events while the plugin is swapped.
    let logs = scratch.path("logs/agent.jsonl");
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new().append(true).open(logs).unwrap();
        for chunk in 0..EVENTS / 500 {
            let lines: String = (chunk * 500..(chunk + 1) * 500).map(|n| format!("{{\"n\":{n}}}\n")).collect();
            file.write_all(lines.as_bytes()).unwrap();
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    for swap in 0..SWAPS {
        std::thread::sleep(Duration::from_millis(350));
        deploy(&plugins, if swap % 2 == 0 { &two } else { &one });
        if swap == SWAPS / 2 {
            // A broken file mid-stream: rejected, the running version stays.
            std::thread::sleep(Duration::from_millis(350));
            deploy(&plugins, b"\0asm but not really a component");
        }
    }
    writer.join().unwrap();
    let lines = wait_for_lines(&scratch.path("out.jsonl"), EVENTS, Duration::from_secs(120));
    std::thread::sleep(Duration::from_millis(300));
    router.stop();

    let lines = if lines.len() == EVENTS { lines } else { scratch.lines("out.jsonl") };
    assert_eq!(lines.len(), EVENTS, "every event arrives exactly once");
    let mut versions = Vec::with_capacity(EVENTS);
    for (expected, line) in lines.iter().enumerate() {
        let event: Value = serde_json::from_str(line).unwrap();
        let message: Value = serde_json::from_str(event["message"].as_str().unwrap()).unwrap();
        assert_eq!(message["n"].as_u64(), Some(expected as u64), "in order, none lost or repeated");
        let tags = event["versions"].as_array().expect("tagged");
        assert_eq!(tags.len(), 1, "processed by exactly one version: {line}");
        versions.push(tags[0].as_u64().unwrap());
    }
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(log.contains("plugin reload rejected; the running version stays"), "the broken file is reported");
    let counts = log.lines().find(|l| l.contains("final counts") && l.contains("component=stamp")).unwrap();
    assert!(counts.contains("reload_failures=1"), "{counts}");
    // Deployments that land while the previous one is still being loaded are
    // taken together, so a loaded machine may see fewer reloads than files.
    let reloads: usize = counts.split("reloads=").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
    assert!((SWAPS / 2..=SWAPS).contains(&reloads), "{counts}");

    let changes = versions.windows(2).filter(|w| w[0] != w[1]).count();
    assert!(changes >= 4, "the stream saw the versions change ({changes} times)");
    assert!(changes <= reloads, "versions only move forward: {changes} changes for {reloads} reloads");
}

/// Wait until `log` has `n` lines containing `needle`; panics after `timeout`.
fn wait_for_log(log: &Path, needle: &str, n: usize, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if text.lines().filter(|l| l.contains(needle)).count() >= n {
            return;
        }
        assert!(Instant::now() < deadline, "no {n}× {needle:?} in the log within {timeout:?}:\n{text}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The `versions` tag of the last event in `out.jsonl`, once there are `n`.
fn version_of_event(scratch: &Scratch, n: usize) -> Value {
    let lines = wait_for_lines(&scratch.path("out.jsonl"), n, Duration::from_secs(60));
    serde_json::from_str::<Value>(&lines[n - 1]).unwrap()["versions"].clone()
}

/// The issue's reproduction: a FIFO (and then a symlink to /dev/zero) renamed
/// over a plugin in use. Each is refused and counted without reading it; a
/// good version deployed afterwards is picked up; SIGTERM still stops the
/// router promptly.
#[test]
fn a_fifo_or_a_device_renamed_into_place_is_refused_and_later_versions_load() {
    let scratch = Scratch::new();
    let plugins = scratch.path("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    deploy(&plugins, &std::fs::read(test_plugin("version-one")).unwrap());
    scratch.write("logs/agent.jsonl", "");
    let log = scratch.path("sluice.log");
    let router = Router::start_logging_to(&scratch.write("sluice.toml", &stamp_config(&scratch, &plugins)), &log);
    scratch.append("logs/agent.jsonl", "{\"n\":0}\n");
    assert_eq!(version_of_event(&scratch, 1), serde_json::json!([1]));

    let fifo = plugins.join(".f");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    std::fs::rename(&fifo, plugins.join("stamp.wasm")).unwrap();
    wait_for_log(&log, "not a regular file (a FIFO)", 1, Duration::from_secs(30));
    std::os::unix::fs::symlink("/dev/zero", plugins.join(".z")).unwrap();
    std::fs::rename(plugins.join(".z"), plugins.join("stamp.wasm")).unwrap();
    wait_for_log(&log, "not a regular file (a character device)", 1, Duration::from_secs(30));

    deploy(&plugins, &std::fs::read(test_plugin("version-two")).unwrap());
    wait_for_log(&log, "plugin reloaded", 1, Duration::from_secs(60));
    scratch.append("logs/agent.jsonl", "{\"n\":1}\n");
    assert_eq!(version_of_event(&scratch, 2), serde_json::json!([2]), "the good version runs");

    router.signal("TERM");
    let started = Instant::now();
    let status = router.wait(Duration::from_secs(20));
    assert!(status.success(), "{status} after {:?}", started.elapsed());
    let log = std::fs::read_to_string(&log).unwrap();
    let counts = log.lines().find(|l| l.contains("final counts") && l.contains("component=stamp")).unwrap();
    assert!(counts.contains("reloads=1 ") && counts.contains("reload_failures=2"), "{counts}");
}
