//! Golden files: the JSON lines for the shared corpus of canonical events, as
//! they are, with ECS-style names, and with fields dropped; `SLUICE_BLESS=1`
//! rewrites them (see `plugins/testdata/golden.rs`). Each line must also read
//! back as the event it came from, as far as the config says it may differ.

#[path = "../../testdata/golden.rs"]
mod support;

use serde_json::{Value, json};
use sluice_plugin::{Outcome, Plugin};
use sluice_plugin_json::Json;

fn lines(config: Value) -> Vec<String> {
    let mut json = Json::configure(config).unwrap();
    support::corpus()
        .iter()
        .map(|event| match json.process(&event.to_string()) {
            Outcome::Emit(line) => line,
            other => panic!("expected a line for {event}, got {other:?}"),
        })
        .collect()
}

#[test]
fn canonical() {
    let lines = lines(json!({}));
    for (event, line) in support::corpus().iter().zip(&lines) {
        assert_eq!(&serde_json::from_str::<Value>(line).unwrap(), event, "the line is the event, losslessly");
    }
    support::check("canonical.jsonl", &lines);
}

#[test]
fn ecs() {
    let lines = lines(json!({"ecs": true}));
    for (event, line) in support::corpus().iter().zip(&lines) {
        let line: Value = serde_json::from_str(line).unwrap();
        assert!(line.get("agent").is_none(), "ECS `agent` is the shipper, never the AI agent: {line}");
        assert_eq!(line["gen_ai"]["agent"]["id"], event["agent"]["id"]);
        assert_eq!(line["event"]["action"], event["event"]["kind"]);
        assert_eq!(line["@timestamp"], event["time"]);
        assert_eq!(leaves(&line), leaves(event), "renaming moves values, it never adds or loses one");
    }
    support::check("ecs.jsonl", &lines);
}

#[test]
fn dropped_fields() {
    let lines = lines(json!({"drop_fields": ["syslog", "source", "tool.arguments", "prompt.text"]}));
    for line in &lines {
        let line: Value = serde_json::from_str(line).unwrap();
        for path in [&["syslog"][..], &["source"], &["tool", "arguments"], &["prompt", "text"]] {
            assert!(path.iter().try_fold(&line, |node, key| node.get(key)).is_none(), "{path:?} in {line}");
        }
    }
    support::check("dropped.jsonl", &lines);
}

/// Every scalar value in `value`, sorted: what a rename must keep.
fn leaves(value: &Value) -> Vec<String> {
    fn walk(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => map.values().for_each(|v| walk(v, out)),
            Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            scalar => out.push(scalar.to_string()),
        }
    }
    let mut out = Vec::new();
    walk(value, &mut out);
    out.sort();
    out
}
