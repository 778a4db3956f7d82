//! Helpers shared by the corpus tests: run the plugin as the router would
//! (JSON text in, JSON text out) and read back every piece of text an event
//! holds.

// Each test binary compiles this module and uses only part of it.
#![allow(dead_code)]

use serde_json::Value;
use sluice_plugin::{Outcome, Plugin};
use sluice_plugin_redact::Redact;

/// A plugin instance for `config`.
pub fn plugin(config: &Value) -> Redact {
    Redact::configure(config.clone()).unwrap_or_else(|err| panic!("configure {config}: {err}"))
}

/// `event` after the plugin, as the next stage would see it.
pub fn run(plugin: &mut Redact, event: &Value) -> Value {
    match plugin.process(&event.to_string()) {
        Outcome::Keep => event.clone(),
        Outcome::Replace(json) => serde_json::from_str(&json).expect("the plugin writes JSON"),
        other => panic!("unexpected outcome {other:?}"),
    }
}

/// Every member name and string in `value`, depth first; a string that is
/// itself JSON (a tool's result) is read into as well.
pub fn texts(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(text) => {
            out.push(text.clone());
            if let Ok(inner @ (Value::Object(_) | Value::Array(_) | Value::String(_))) =
                serde_json::from_str::<Value>(text)
            {
                texts(&inner, out);
            }
        }
        Value::Number(number) => out.push(number.to_string()),
        Value::Array(items) => items.iter().for_each(|item| texts(item, out)),
        Value::Object(map) => {
            for (key, item) in map {
                out.push(key.clone());
                texts(item, out);
            }
        }
        Value::Null | Value::Bool(_) => {}
    }
}

/// JSON text with every non-ASCII character escaped (`\u00e9`, surrogate
/// pairs for the rest), as Python's `json.dumps` writes by default.
pub fn ascii_json(value: &Value) -> String {
    let mut out = String::new();
    for c in value.to_string().chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}
