//! The `redaction` record an event carries once it has been redacted: how
//! many secrets were found, per rule, which fields changed and which were
//! dropped. Counts add up when several redact stages run, so the record
//! tells the whole story:
//!
//! ```json
//! "redaction": {"count": 3, "rules": {"email": 2, "aws_access_key": 1},
//!               "fields": ["prompt.text", "tool.arguments.to"], "dropped": ["tool.arguments.card"]}
//! ```
//!
//! `dropped` appears once a field has been dropped.

use crate::walk::Report;
use serde_json::{Map, Value, json};

/// The number of secrets found in `report`.
pub fn total(report: &Report) -> u64 {
    report.counts.iter().sum()
}

/// Write `report` into the event's `redaction` object, adding to one that an
/// earlier stage left.
pub fn record(event: &mut Map<String, Value>, names: &[String], report: Report) {
    let entry = event.entry("redaction").or_insert_with(|| json!({}));
    if !entry.is_object() {
        *entry = json!({});
    }
    let redaction = entry.as_object_mut().expect("made an object above");
    let count = redaction.get("count").and_then(Value::as_u64).unwrap_or(0) + total(&report);
    redaction.insert("count".into(), json!(count));

    let rules = object_at(redaction, "rules");
    for (name, n) in names.iter().zip(&report.counts).filter(|(_, n)| **n > 0) {
        let before = rules.get(name).and_then(Value::as_u64).unwrap_or(0);
        rules.insert(name.clone(), json!(before + n));
    }

    add_paths(redaction, "fields", report.fields);
    if !report.dropped.is_empty() {
        add_paths(redaction, "dropped", report.dropped);
    }
}

/// Add `paths` to the list at `key`, each once.
fn add_paths(redaction: &mut Map<String, Value>, key: &str, paths: Vec<String>) {
    let list = redaction.entry(key).or_insert_with(|| json!([]));
    if !list.is_array() {
        *list = json!([]);
    }
    let list = list.as_array_mut().expect("made a list above");
    for path in paths {
        if !list.iter().any(|p| p.as_str() == Some(&path)) {
            list.push(json!(path));
        }
    }
}

fn object_at<'a>(map: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    let entry = map.entry(key).or_insert_with(|| json!({}));
    if !entry.is_object() {
        *entry = json!({});
    }
    entry.as_object_mut().expect("made an object above")
}
