//! Helpers the integration tests share: the two corpora, running the plugin,
//! and the pinned OCSF JSON Schemas.

#![allow(dead_code)] // each test binary uses its own part of this module

use serde_json::Value;
use sluice_plugin::{Outcome, Plugin};
use sluice_plugin_ocsf::Ocsf;
use std::path::{Path, PathBuf};

fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read_jsonl(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|err| panic!("read {}: {err}", path.display()));
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .enumerate()
        .map(|(n, line)| serde_json::from_str(line).unwrap_or_else(|err| panic!("{}:{}: {err}", path.display(), n + 1)))
        .collect()
}

/// The formatters' shared corpus (`plugins/testdata/canonical-events.jsonl`).
pub fn shared_corpus() -> Vec<Value> {
    read_jsonl(&crate_dir().join("../testdata/canonical-events.jsonl"))
}

/// This crate's own corpus: the branches of the OCSF mapping the shared
/// corpus does not reach (Authentication, Detection Finding, events that
/// skipped the normaliser …).
pub fn own_corpus() -> Vec<Value> {
    read_jsonl(&crate_dir().join("tests/corpus.jsonl"))
}

/// Both corpora.
pub fn all_events() -> Vec<Value> {
    let mut events = shared_corpus();
    events.extend(own_corpus());
    events
}

/// The plugin's line for `event` with `config`; panics unless it emits one.
pub fn emit_line(config: &Value, event: &Value) -> String {
    let mut plugin = Ocsf::configure(config.clone()).unwrap_or_else(|err| panic!("configure {config}: {err}"));
    match plugin.process(&event.to_string()) {
        Outcome::Emit(line) => line,
        other => panic!("expected a line for {event}, got {other:?}"),
    }
}

/// [`emit_line`], parsed.
pub fn emit(config: &Value, event: &Value) -> Value {
    let line = emit_line(config, event);
    serde_json::from_str(&line).unwrap_or_else(|err| panic!("emitted line is not JSON ({err}): {line}"))
}

/// A file of `schema/`, parsed.
pub fn schema_file(name: &str) -> Value {
    let path = crate_dir().join("schema").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("read {}: {err}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// The path of a golden file.
pub fn golden_path(name: &str) -> PathBuf {
    crate_dir().join("tests/golden").join(name)
}
