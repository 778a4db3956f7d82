//! The canonical event's fields and the type of value each one holds.
//!
//! Formatters, the redact plugin and the JSON Schema in
//! `docs/agent-event.schema.json` rely on these types, so the normaliser
//! brings every listed field to its type: a number or boolean where text is
//! expected becomes text (agent platforms write versions and ids as numbers),
//! and a value that cannot be read as the type fails the event with a reason
//! naming the field. Fields with an enumerated value set (`event.kind`,
//! `event.outcome`, `authz.decision`, `delegation.type`) and `event.severity`,
//! `time` and `labels` have their own rules in module `schema`.

use serde_json::{Map, Value, json};

/// What a canonical field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    /// A string.
    Text,
    /// A list of strings; a single string is a list of one.
    TextList,
    /// A non-negative integer.
    Count,
    /// Any JSON value, kept as it came (tool arguments and results).
    Any,
}

/// Every field of the canonical event with a plain type, in the schema's order.
pub const FIELDS: &[(&str, Type)] = &[
    ("event.id", Type::Text),
    ("event.action", Type::Text),
    ("agent.id", Type::Text),
    ("agent.name", Type::Text),
    ("agent.version", Type::Text),
    ("agent.model", Type::Text),
    ("agent.framework", Type::Text),
    ("tenant.id", Type::Text),
    ("authz.scope", Type::TextList),
    ("authz.policy", Type::Text),
    ("authz.reason", Type::Text),
    ("delegation.on_behalf_of", Type::Text),
    ("delegation.chain", Type::TextList),
    ("session.id", Type::Text),
    ("trace.id", Type::Text),
    ("trace.span_id", Type::Text),
    ("trace.parent_span_id", Type::Text),
    ("prompt.text", Type::Text),
    ("reasoning.summary", Type::Text),
    ("output.text", Type::Text),
    ("output.action", Type::Text),
    ("tool.name", Type::Text),
    ("tool.call_id", Type::Text),
    ("tool.arguments", Type::Any),
    ("tool.result", Type::Any),
    ("destination.service", Type::Text),
    ("destination.host", Type::Text),
    ("destination.url", Type::Text),
    ("retrieval.source", Type::Text),
    ("retrieval.records", Type::Count),
    ("data.classification", Type::Text),
    ("error.type", Type::Text),
    ("error.message", Type::Text),
    ("redaction.count", Type::Count),
    ("redaction.fields", Type::TextList),
];

/// The type of canonical field `object.field`, if it has a plain one.
pub fn type_of(object: &str, field: &str) -> Option<Type> {
    // Runs for every field of every event on the fast path: compare lengths first.
    FIELDS.iter().find_map(|(name, kind)| {
        let matches = name.len() == object.len() + 1 + field.len()
            && name.as_bytes()[object.len()] == b'.'
            && name.starts_with(object)
            && name.ends_with(field);
        matches.then_some(*kind)
    })
}

/// Bring every present field to its type, or say which one cannot be.
/// A null counts as absent and is removed.
pub fn coerce(event: &mut Map<String, Value>) -> Result<(), String> {
    for (name, kind) in FIELDS {
        let (object, field) = name.split_once('.').expect("every field is object.field");
        let Some(Value::Object(parent)) = event.get_mut(object) else { continue };
        let Some(value) = parent.get_mut(field) else { continue };
        if value.is_null() {
            parent.remove(field);
            continue;
        }
        match kind {
            // Already of its type: most fields are, and cloning text costs.
            Type::Any | Type::Text if value.is_string() => {}
            Type::Count if value.is_u64() => {}
            Type::Any => {}
            Type::Text => *value = text(value).ok_or_else(|| wrong(name, "a string", value))?,
            Type::TextList => *value = text_list(value).ok_or_else(|| wrong(name, "a list of strings", value))?,
            Type::Count => *value = count(value).ok_or_else(|| wrong(name, "a non-negative integer", value))?,
        }
    }
    Ok(())
}

/// The canonical fields with rules of their own in module `schema`.
pub const SPECIAL: &[&str] =
    &["time", "event.kind", "event.outcome", "event.severity", "authz.decision", "delegation.type", "labels"];

/// Whether a source may set `name` by using it as a key (an OpenTelemetry
/// attribute named `tenant.id`): any canonical field but the redact plugin's
/// record, which only that plugin writes.
pub fn is_settable(name: &str) -> bool {
    !name.starts_with("redaction.") && (SPECIAL.contains(&name) || FIELDS.iter().any(|(field, _)| *field == name))
}

fn wrong(name: &str, expected: &str, value: &Value) -> String {
    let mut shown = value.to_string();
    if shown.len() > 80 {
        let cut = (0..=77).rev().find(|i| shown.is_char_boundary(*i)).unwrap_or(0);
        shown.truncate(cut);
        shown.push_str("...");
    }
    format!("`{name}` must be {expected}, got {shown}")
}

fn text(value: &Value) -> Option<Value> {
    match value {
        Value::String(_) => Some(value.clone()),
        Value::Number(_) | Value::Bool(_) => Some(json!(value.to_string())),
        _ => None,
    }
}

fn text_list(value: &Value) -> Option<Value> {
    match value {
        Value::Array(items) => items.iter().map(text).collect::<Option<Vec<_>>>().map(Value::Array),
        scalar => text(scalar).map(|item| json!([item])),
    }
}

fn count(value: &Value) -> Option<Value> {
    match value {
        Value::Number(number) => number.as_u64().map(|n| json!(n)),
        Value::String(text) => text.trim().parse::<u64>().ok().map(|n| json!(n)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn coerced(event: Value) -> Result<Value, String> {
        let mut map = event.as_object().unwrap().clone();
        coerce(&mut map).map(|()| Value::Object(map))
    }

    #[test]
    fn scalars_become_text_and_nulls_go() {
        let event = coerced(json!({"agent": {"id": "a", "version": 2, "name": null}, "tenant": {"id": true}})).unwrap();
        assert_eq!(event, json!({"agent": {"id": "a", "version": "2"}, "tenant": {"id": "true"}}));
    }

    #[test]
    fn lists_counts_and_any() {
        let event = coerced(json!({
            "delegation": {"chain": ["user:u", 7]},
            "retrieval": {"records": "12"},
            "tool": {"arguments": {"nested": [1, {"x": null}]}, "result": null},
        }))
        .unwrap();
        assert_eq!(event["delegation"]["chain"], json!(["user:u", "7"]));
        assert_eq!(event["retrieval"]["records"], 12);
        assert_eq!(event["tool"], json!({"arguments": {"nested": [1, {"x": null}]}}));
    }

    #[test]
    fn values_of_the_wrong_shape_fail_naming_the_field() {
        let reason = coerced(json!({"agent": {"id": {"uid": 1}}})).unwrap_err();
        assert_eq!(reason, "`agent.id` must be a string, got {\"uid\":1}");
        let reason = coerced(json!({"retrieval": {"records": -1}})).unwrap_err();
        assert_eq!(reason, "`retrieval.records` must be a non-negative integer, got -1");
        let reason = coerced(json!({"authz": {"scope": [["nested"]]}})).unwrap_err();
        assert!(reason.starts_with("`authz.scope` must be a list of strings"), "{reason}");
    }

    /// The field list here, the table in `docs/agent-event.md` and the JSON
    /// Schema name the same fields.
    #[test]
    fn the_docs_and_the_schema_list_every_field() {
        let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs");
        let doc = std::fs::read_to_string(docs.join("agent-event.md")).unwrap();
        let schema: Value =
            serde_json::from_str(&std::fs::read_to_string(docs.join("agent-event.schema.json")).unwrap()).unwrap();
        let names = FIELDS.iter().map(|(name, _)| *name).chain(SPECIAL.iter().copied());
        for name in names {
            let pointer = format!("/properties/{}", name.replace('.', "/properties/"));
            assert!(schema.pointer(&pointer).is_some(), "{name} is not in the JSON Schema");
            let row =
                if name.starts_with("redaction.") { "| `redaction` |".to_owned() } else { format!("| `{name}` |") };
            assert!(doc.contains(&row), "{name} has no row in the doc's field table");
        }
    }

    #[test]
    fn long_values_are_shortened_in_the_reason() {
        let reason = coerced(json!({"output": {"text": ["é".repeat(100)]}})).unwrap_err();
        assert!(reason.ends_with("...") && reason.len() < 140, "{reason}");
    }
}
