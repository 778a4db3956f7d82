//! Golden files: the OCSF lines for the shared corpus of canonical events
//! (default config, and a site's config) and for this crate's own corpus.
//! `SLUICE_BLESS=1` rewrites them (see `plugins/testdata/golden.rs`); the diff
//! then shows a reviewer exactly what a change did.

mod common;
#[path = "../../testdata/golden.rs"]
mod support;

use serde_json::{Value, json};

fn lines(config: Value, events: &[Value]) -> Vec<String> {
    events.iter().map(|event| common::emit_line(&config, event)).collect()
}

#[test]
fn shared_corpus_default_config() {
    support::check("shared.ocsf.jsonl", &lines(json!({}), &support::corpus()));
}

#[test]
fn shared_corpus_configured() {
    let config = json!({"include_unmapped": false,
                        "product": {"name": "Agent|Gateway", "vendor_name": "Acme \"Sec\"", "version": "2.0"}});
    support::check("shared-configured.ocsf.jsonl", &lines(config, &support::corpus()));
}

#[test]
fn own_corpus_default_config() {
    support::check("own.ocsf.jsonl", &lines(json!({}), &common::own_corpus()));
}

/// The lines are byte-for-byte what the component writes: keys sorted (as
/// serde_json writes without `preserve_order`), so a dev-dependency that turned
/// that feature on for the tests alone would show here rather than as
/// golden files the component does not reproduce.
#[test]
fn lines_are_compact_json_with_sorted_keys() {
    fn sorted(value: &Value, out: &mut String) {
        match value {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                out.push('{');
                for (n, key) in keys.into_iter().enumerate() {
                    if n > 0 {
                        out.push(',');
                    }
                    out.push_str(&serde_json::to_string(key).unwrap());
                    out.push(':');
                    sorted(&map[key], out);
                }
                out.push('}');
            }
            Value::Array(items) => {
                out.push('[');
                for (n, item) in items.iter().enumerate() {
                    if n > 0 {
                        out.push(',');
                    }
                    sorted(item, out);
                }
                out.push(']');
            }
            scalar => out.push_str(&serde_json::to_string(scalar).unwrap()),
        }
    }
    for event in common::all_events() {
        let line = common::emit_line(&json!({}), &event);
        let mut expected = String::new();
        sorted(&serde_json::from_str(&line).unwrap(), &mut expected);
        assert_eq!(line, expected);
    }
}
