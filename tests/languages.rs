//! Plugins written in other languages, built from source with their own
//! toolchains from the package registries, and run through the router.
//!
//! Every example in `examples/plugins/<lang>/` implements the same plugin
//! (see `examples/plugins/README.md`), so one check fits them all: a lookup
//! table labels events, a configured kind is dropped, an event without
//! `agent.id` fails to the dead-letter output, and `configure` logs a line.

mod support;

#[path = "languages/assemblyscript.rs"]
mod assemblyscript;
#[path = "languages/c.rs"]
mod c;
#[path = "languages/go.rs"]
mod go;
#[path = "languages/js.rs"]
mod js;
#[path = "languages/python.rs"]
mod python;
#[path = "languages/rust.rs"]
mod rust;
#[path = "languages/zig.rs"]
mod zig;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use support::{Router, Scratch, wait_for_lines};

/// Start a project from the example of `lang` with `sluice plugin new`, as a
/// user would, and build it with its `build.sh` into `<scratch>/<lang>/label/label.wasm`.
///
/// The script gets the `sluice` under test as `$SLUICE` (for `plugin wrap`
/// and `plugin bindings`) and any extra environment the toolchain needs.
fn build_example(scratch: &Scratch, lang: &str, env: &[(&str, &str)]) -> PathBuf {
    let parent = scratch.path(lang);
    let new = support::sluice(&["plugin", "new", "--lang", lang, "label", "--dir", parent.to_str().unwrap()]);
    assert!(new.status.success(), "plugin new --lang {lang}: {}", String::from_utf8_lossy(&new.stderr));
    let project = parent.join("label");
    let script = project.join("build.sh");
    let build = Command::new(&script)
        .env("SLUICE", env!("CARGO_BIN_EXE_sluice"))
        .envs(env.iter().copied())
        .current_dir(&project)
        .output()
        .unwrap_or_else(|err| panic!("run {}: {err}", script.display()));
    assert!(
        build.status.success(),
        "{} failed:\n{}\n{}",
        script.display(),
        String::from_utf8_lossy(&build.stdout),
        String::from_utf8_lossy(&build.stderr)
    );
    let wasm = project.join("label.wasm");
    assert!(wasm.is_file(), "{} did not write {}", script.display(), wasm.display());
    wasm
}

/// Run the example plugin at `wasm` through the router and check that it
/// labels, drops, fails and logs as every example must.
fn check_example(scratch: &Scratch, wasm: &Path) {
    let events = concat!(
        r#"{"agent":{"id":"agt-1"},"event":{"kind":"tool_call"}}"#,
        "\n",
        r#"{"agent":{"id":"agt-2"},"event":{"kind":"reasoning"}}"#,
        "\n",
        r#"{"agent":{"id":"agt-3"},"event":{"kind":"prompt"}}"#,
        "\n",
    );
    scratch.write("logs/agents.jsonl", events);
    // Raw lines reach the plugin without agent-event: it fails them.
    scratch.write("logs/broken.raw", "");
    let config = format!(
        r#"
data_dir = "{data}"
[sources.agents]
type = "file"
include = ["{logs}/*.jsonl"]
[sources.agents_raw]
type = "file"
include = ["{logs}/*.raw"]
[transforms.parse]
type = "wasm"
plugin = "agent-event"
inputs = ["agents"]
[transforms.label]
type = "wasm"
plugin = "{wasm}"
inputs = ["parse", "agents_raw"]
config = {{ labels = {{ "agt-1" = "finance" }}, drop_kind = "reasoning" }}
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
    let log = scratch.path("router.log");
    let router = Router::start_logging_to(&scratch.write("sluice.toml", &config), &log);
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
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(
        log.lines().any(|l| l.contains("plugin ready") && l.contains(r#"labels="1""#)),
        "configure logs `plugin ready` with the number of labels:\n{log}"
    );
}
