//! The `redaction` record an event carries once it has been redacted: how
//! many matches were masked, per rule, and in which fields. Counts add up
//! when several redact stages run, so the record tells the whole story.

use crate::walk::Report;
use serde_json::{Map, Value, json};

/// The number of matches masked in `report`.
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

    let fields = redaction.entry("fields").or_insert_with(|| json!([]));
    if !fields.is_array() {
        *fields = json!([]);
    }
    let fields = fields.as_array_mut().expect("made a list above");
    for field in report.fields {
        if !fields.iter().any(|f| f.as_str() == Some(&field)) {
            fields.push(json!(field));
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
