//! Plugins written in other languages, built from source with their own
//! toolchains from the package registries, and run through the router.
//!
//! Every example in `examples/plugins/<lang>/` implements the same plugin
//! (see `examples/plugins/README.md`), so one check fits them all: a lookup
//! table labels events (through an edit of their `labels`, reading the
//! fields the plugin declared, one of them a string with escapes), a
//! configured kind is dropped, an event without `agent.id` fails to the
//! dead-letter output, `configure` logs a line, and the router logs the
//! plugin's metadata.

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
    build_project(scratch, lang, lang, None, env)
}

/// [`build_example`] in `<scratch>/<dir>/label/`, with the file `source.0`
/// of the new project replaced by the text `source.1` before the build.
fn build_project(
    scratch: &Scratch,
    lang: &str,
    dir: &str,
    source: Option<(&str, &str)>,
    env: &[(&str, &str)],
) -> PathBuf {
    let parent = scratch.path(dir);
    let new = support::sluice(&["plugin", "new", "--lang", lang, "label", "--dir", parent.to_str().unwrap()]);
    assert!(new.status.success(), "plugin new --lang {lang}: {}", String::from_utf8_lossy(&new.stderr));
    let project = parent.join("label");
    if let Some((file, text)) = source {
        std::fs::write(project.join(file), text).unwrap();
    }
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

/// Build the plugin of `tests/fixtures/sdk-imports/` in `lang` (its `file`
/// there) in a project that `sluice plugin new` started, so with the SDK as
/// the project vendors it, and check with `sluice plugin check` what its
/// glue does beyond the example: the clock and the state imports, with the
/// router's refusals, and the outcomes split, replace and every edit.
fn check_sdk_imports(scratch: &Scratch, lang: &str, file: &str) {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/sdk-imports");
    let source = std::fs::read_to_string(fixtures.join(file)).unwrap();
    let wasm = build_project(scratch, lang, &format!("{lang}-imports"), Some((file, &source)), &[]);
    let check = support::sluice(&[
        "plugin",
        "check",
        wasm.to_str().unwrap(),
        "--events",
        fixtures.join("events.jsonl").to_str().unwrap(),
    ]);
    let out = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success(), "plugin check:\n{out}\n{}", String::from_utf8_lossy(&check.stderr));
    let state = "too-large=1 too-long=0 deleted=true clock=true";
    for expected in [
        "metadata: sdk-imports 0.0.1 (built against contract 0.3.0)".to_owned(),
        format!("event 0: emit: count=1 absent=true empty=true swapped=false {state}"),
        format!("event 1: emit: count=2 absent=true empty=true swapped=false {state}"),
        r#"event 2: split into 2: {"a":1} {"b":"é"}"#.to_owned(),
        r#"event 3: keep (edited): {"edit":1,"s":"q\"","z":{"w":2}}"#.to_owned(),
        r#"event 4: keep (rewritten): {"r":"ü"}"#.to_owned(),
    ] {
        assert!(out.lines().any(|line| line == expected), "no line `{expected}` in:\n{out}");
    }
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
        // An id that reaches the plugin as a string with escapes (the quotes),
        // and an event that has labels already.
        r#"{"agent":{"id":"agt-\"é\""},"event":{"kind":"prompt"},"labels":["vip"]}"#,
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
config = {{ labels = {{ "agt-1" = "finance", "agt-\"é\"" = "ünï \"q\"" }}, drop_kind = "reasoning" }}
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
    let out = wait_for_lines(&scratch.path("out.jsonl"), 3, Duration::from_secs(120));
    scratch.append("logs/broken.raw", "[1]\n");
    let dead = wait_for_lines(&scratch.path("dead.jsonl"), 1, Duration::from_secs(60));
    router.stop();

    let out: Vec<Value> = out.iter().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(out.len(), 3, "the reasoning event is dropped: {out:#?}");
    let by_agent = |id: &str| {
        out.iter().find(|event| event["agent"]["id"] == id).unwrap_or_else(|| panic!("no event of {id}: {out:#?}"))
    };
    assert_eq!(by_agent("agt-1")["labels"], serde_json::json!(["finance"]), "labelled from the lookup table");
    let unlabelled = by_agent("agt-3");
    assert!(unlabelled.get("labels").is_none() || unlabelled["labels"] == serde_json::json!([]), "{unlabelled}");
    assert_eq!(
        by_agent("agt-\"é\"")["labels"],
        serde_json::json!(["vip", "ünï \"q\""]),
        "an escaped id is decoded, and the label appended to the labels the event has"
    );
    let reasons: Vec<String> =
        dead.iter().map(|l| serde_json::from_str::<Value>(l).unwrap()["reason"].as_str().unwrap().to_owned()).collect();
    assert_eq!(
        reasons,
        ["plugin `label` failed the event: event has no agent.id: run the agent-event plugin before this one"]
    );
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(
        log.lines().any(|l| l.contains("plugin ready") && l.contains(r#"labels="2""#)),
        "configure logs `plugin ready` with the number of labels:\n{log}"
    );
    assert!(
        log.lines().any(|l| l.contains("plugin ready")
            && l.contains("name=label")
            && l.contains("version=0.1.0")
            && l.contains("contract=sluice:plugin@0.3.0")),
        "the router logs the plugin's metadata (name, version) and the contract it implements:\n{log}"
    );
    assert!(
        !log.contains("names another contract version"),
        "the metadata names the contract the plugin implements:\n{log}"
    );
}
