//! Plugins written in other languages, built from source with their own
//! toolchains from the package registries, and run through the router.

mod support;

use serde_json::Value;
use std::process::Command;
use std::time::Duration;
use support::{Router, Scratch, wait_for_lines};

/// PyPI's componentize-py at the version the example is known to build with.
const COMPONENTIZE_PY: &str = "componentize-py==0.25.1";

fn ensure_componentize_py() {
    let has = || Command::new("componentize-py").arg("--version").output().is_ok_and(|o| o.status.success());
    if !has() {
        let pip = Command::new("python3").args(["-m", "pip", "install", "-q", COMPONENTIZE_PY]).status();
        assert!(pip.is_ok_and(|s| s.success()) && has(), "the Python example needs `pip install {COMPONENTIZE_PY}`");
    }
}

#[test]
fn the_python_example_labels_drops_and_fails_events_in_the_router() {
    ensure_componentize_py();
    let scratch = Scratch::new();
    let wasm = scratch.path("label.wasm");
    let build = Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/plugins/python/build.sh"))
        .arg(&wasm)
        .output()
        .unwrap();
    assert!(build.status.success(), "{}", String::from_utf8_lossy(&build.stderr));

    let events = concat!(
        r#"{"agent":{"id":"agt-1"},"event":{"kind":"tool_call"}}"#,
        "\n",
        r#"{"agent":{"id":"agt-2"},"event":{"kind":"reasoning"}}"#,
        "\n",
        r#"{"agent":{"id":"agt-3"},"event":{"kind":"prompt"}}"#,
        "\n",
    );
    scratch.write("logs/agents.jsonl", events);
    let config = format!(
        r#"
data_dir = "{data}"
[sources.agents]
type = "file"
include = ["{logs}/*.jsonl"]
[transforms.parse]
type = "wasm"
plugin = "agent-event"
inputs = ["agents"]
[transforms.label]
type = "wasm"
plugin = "{wasm}"
inputs = ["parse", "agents_raw"]
config = {{ labels = {{ "agt-1" = "finance" }}, drop_kind = "reasoning" }}
[sources.agents_raw]
type = "file"
include = ["{logs}/*.raw"]
[sinks.out]
type = "file"
inputs = ["label"]
path = "{out}"
[dead_letter]
path = "{dead}"
"#,
        data = scratch.path("data").display(),
        logs = scratch.path("logs").display(),
        wasm = wasm.display(),
        out = scratch.path("out.jsonl").display(),
        dead = scratch.path("dead.jsonl").display(),
    );
    // Raw lines reach the plugin without agent-event: it fails them.
    scratch.write("logs/broken.raw", "");
    let router = Router::start(&scratch.write("sluice.toml", &config));
    let out = wait_for_lines(&scratch.path("out.jsonl"), 2, Duration::from_secs(120));
    scratch.append("logs/broken.raw", "[1]\n");
    let dead = wait_for_lines(&scratch.path("dead.jsonl"), 1, Duration::from_secs(60));
    router.stop();

    let out: Vec<Value> = out.iter().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(out.len(), 2, "the reasoning event is dropped: {out:#?}");
    assert_eq!(out[0]["agent"]["id"], "agt-1");
    assert_eq!(out[0]["labels"], serde_json::json!(["finance"]), "labelled from the lookup table");
    assert_eq!(out[1]["agent"]["id"], "agt-3");
    assert!(out[1].get("labels").is_none() || out[1]["labels"] == serde_json::json!([]), "{}", out[1]);
    let reasons: Vec<String> =
        dead.iter().map(|l| serde_json::from_str::<Value>(l).unwrap()["reason"].as_str().unwrap().to_owned()).collect();
    assert_eq!(
        reasons,
        ["plugin `label` failed the event: event has no agent.id: run the agent-event plugin before this one"]
    );
}
