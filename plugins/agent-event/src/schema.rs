//! The canonical agent event: which objects it has, which values its enums
//! take, and how near-miss input (a bare string for an object, `"DENIED"`,
//! a scope string) is brought into that shape.
//!
//! Only fields with a fixed meaning are touched (their plain types are
//! module `fields`'s); everything else an agent platform sends is kept as it
//! came, so nothing is lost on the way to the SIEM.

use crate::config::{Config, UnknownKind};
use crate::{fields, path};
use serde_json::{Map, Value, json};
use sluice_plugin::time::Timestamp;

/// The values of `event.kind`.
pub const KINDS: &[&str] =
    &["prompt", "reasoning", "tool_call", "api_call", "retrieval", "authz", "output", "error", "lifecycle"];

/// The schema's objects, and the field a bare string in their place means
/// (`"agent": "planner"` is `"agent": {"id": "planner"}`).
pub const OBJECTS: &[(&str, Option<&str>)] = &[
    ("event", Some("kind")),
    ("agent", Some("id")),
    ("tenant", Some("id")),
    ("authz", None),
    ("delegation", Some("on_behalf_of")),
    ("session", Some("id")),
    ("trace", Some("id")),
    ("prompt", Some("text")),
    ("reasoning", Some("summary")),
    ("output", Some("text")),
    ("tool", Some("name")),
    ("destination", None),
    ("retrieval", Some("source")),
    ("data", Some("classification")),
    ("error", Some("message")),
    ("redaction", None),
];

/// Bring `event` into the canonical shape, or say why it cannot be.
pub fn canonicalise(event: &mut Map<String, Value>, config: &Config) -> Result<(), String> {
    expand_objects(event)?;
    normalise_time(event)?;
    check_kind(event, config.unknown_kind)?;
    check_identity(event, config.require_identity)?;
    normalise_event_id(event);
    normalise_authz(event)?;
    normalise_delegation(event)?;
    normalise_outcome(event);
    normalise_severity(event);
    split_scopes(event);
    fields::coerce(event)?;
    normalise_labels(event)
}

/// A kind as the schema writes it (`Tool-Call` is `tool_call`), if it is one.
pub fn kind_word(text: &str) -> Option<String> {
    let kind = text.trim().to_ascii_lowercase().replace('-', "_");
    KINDS.contains(&kind.as_str()).then_some(kind)
}

/// `allow` or `deny` for the words platforms write, else `None`.
pub fn decision_word(text: &str) -> Option<&'static str> {
    match text.trim().to_ascii_lowercase().as_str() {
        "allow" | "allowed" | "permit" | "permitted" | "grant" | "granted" => Some("allow"),
        "deny" | "denied" | "block" | "blocked" | "reject" | "rejected" | "forbid" | "forbidden" => Some("deny"),
        _ => None,
    }
}

/// `user`, `system` or `agent` for the words platforms write, else `None`.
pub fn delegation_word(text: &str) -> Option<&'static str> {
    match text.trim().to_ascii_lowercase().as_str() {
        "user" | "human" | "person" | "end_user" | "enduser" => Some("user"),
        "system" | "service" | "machine" | "workload" => Some("system"),
        "agent" | "ai_agent" => Some("agent"),
        _ => None,
    }
}

/// `success`, `failure` or `unknown` for an outcome written as text.
pub fn outcome_word(text: &str) -> &'static str {
    match text.trim().to_ascii_lowercase().as_str() {
        "success" | "succeeded" | "ok" | "completed" => "success",
        "failure" | "failed" | "fail" | "error" | "denied" => "failure",
        _ => "unknown",
    }
}

/// The severity of an event that gives none: a denial is high, a failure
/// or error medium, the rest low.
pub fn default_severity(decision: Option<&str>, kind: Option<&str>, outcome: Option<&str>) -> u8 {
    if decision == Some("deny") {
        7
    } else if kind == Some("error") || outcome == Some("failure") {
        5
    } else {
        1
    }
}

/// Add a label, in whichever form (list or map) the event's labels use.
pub fn add_label(event: &mut Map<String, Value>, key: &str, value: &str) {
    let labels = event.entry("labels").or_insert_with(|| json!([]));
    if labels.is_null() {
        *labels = json!([]);
    }
    match labels {
        Value::Object(map) => {
            map.insert(key.to_owned(), json!(value));
        }
        Value::Array(list) => list.push(json!(format!("{key}:{value}"))),
        other => *other = json!([other.take(), format!("{key}:{value}")]),
    }
}

fn expand_objects(event: &mut Map<String, Value>) -> Result<(), String> {
    for (name, field) in OBJECTS {
        match (event.get_mut(*name), field) {
            (None | Some(Value::Object(_)), _) => {}
            (Some(Value::Null), _) => {
                event.remove(*name);
            }
            (Some(value @ Value::String(_)), Some(field)) => *value = json!({ *field: value.take() }),
            (Some(value), Some(field)) => {
                return Err(format!("`{name}` must be an object or a string (its `{field}`), got {value}"));
            }
            (Some(value), None) => return Err(format!("`{name}` must be an object, got {value}")),
        }
    }
    Ok(())
}

fn normalise_time(event: &mut Map<String, Value>) -> Result<(), String> {
    let normalised = match event.get("time") {
        None => return Ok(()),
        Some(Value::Null) => {
            // Absent, so that the normaliser fills it from the envelope.
            event.remove("time");
            return Ok(());
        }
        Some(Value::String(text)) => Timestamp::parse_rfc3339(text),
        Some(Value::Number(number)) => Timestamp::from_epoch(number),
        Some(_) => None,
    }
    .and_then(|time| time.to_rfc3339_utc());
    match normalised {
        Some(text) => {
            event.insert("time".into(), json!(text));
            Ok(())
        }
        None => Err(format!("`time` is not an RFC 3339 timestamp or epoch number: {}", event["time"])),
    }
}

fn check_kind(event: &mut Map<String, Value>, unknown: UnknownKind) -> Result<(), String> {
    let given = event.get("event").and_then(|e| e.get("kind"));
    let bad = match given {
        Some(Value::String(text)) => {
            if let Some(kind) = kind_word(text) {
                path::set(event, "event.kind", json!(kind));
                return Ok(());
            }
            text.clone()
        }
        None | Some(Value::Null) => String::new(),
        Some(other) => other.to_string(),
    };
    match unknown {
        UnknownKind::Fail if bad.is_empty() => Err(format!("event has no `event.kind` (one of {})", KINDS.join(", "))),
        UnknownKind::Fail => Err(format!(
            "`event.kind` {bad:?} is not one of {} (set unknown_kind = \"lifecycle\" to keep such events)",
            KINDS.join(", ")
        )),
        UnknownKind::Lifecycle => {
            path::set(event, "event.kind", json!("lifecycle"));
            add_label(event, "unknown_kind", if bad.is_empty() { "missing" } else { &bad });
            Ok(())
        }
    }
}

fn check_identity(event: &mut Map<String, Value>, required: bool) -> Result<(), String> {
    let id = match event.get("agent").and_then(|a| a.get("id")) {
        Some(Value::String(id)) if !id.trim().is_empty() => return Ok(()),
        Some(Value::Number(number)) => Some(number.to_string()),
        _ => None,
    };
    if let Some(id) = id {
        path::set(event, "agent.id", json!(id));
        return Ok(());
    }
    if required {
        return Err("event has no `agent.id`: every agent event must name its agent \
                    (set require_identity = false to accept it as \"unknown\")"
            .to_owned());
    }
    path::set(event, "agent.id", json!("unknown"));
    add_label(event, "agent_id", "missing");
    Ok(())
}

/// `event.id` as a non-empty string; a blank or unusable one is removed so
/// that the normaliser derives one.
fn normalise_event_id(event: &mut Map<String, Value>) {
    let Some(Value::Object(fields)) = event.get_mut("event") else { return };
    match fields.get("id") {
        Some(Value::String(id)) if !id.trim().is_empty() => {}
        Some(Value::Number(number)) => {
            let id = number.to_string();
            fields.insert("id".into(), json!(id));
        }
        _ => {
            fields.remove("id");
        }
    }
}

fn normalise_authz(event: &mut Map<String, Value>) -> Result<(), String> {
    let Some(Value::Object(authz)) = event.get_mut("authz") else { return Ok(()) };
    let decision = match authz.get("decision") {
        None => return Ok(()),
        Some(Value::Null) => {
            authz.remove("decision");
            return Ok(());
        }
        Some(Value::Bool(true)) => "allow",
        Some(Value::Bool(false)) => "deny",
        Some(Value::String(text)) => match decision_word(text) {
            Some(decision) => decision,
            None => return Err(format!("`authz.decision` {text:?} is neither allow nor deny")),
        },
        Some(other) => return Err(format!("`authz.decision` must be \"allow\" or \"deny\", got {other}")),
    };
    authz.insert("decision".into(), json!(decision));
    Ok(())
}

/// `delegation.type` as one of `user`, `system`, `agent`.
fn normalise_delegation(event: &mut Map<String, Value>) -> Result<(), String> {
    let Some(Value::Object(delegation)) = event.get_mut("delegation") else { return Ok(()) };
    let kind = match delegation.get("type") {
        None => return Ok(()),
        Some(Value::Null) => {
            delegation.remove("type");
            return Ok(());
        }
        Some(Value::String(text)) => match delegation_word(text) {
            Some(kind) => kind,
            None => return Err(format!("`delegation.type` {text:?} is not user, system or agent")),
        },
        Some(other) => return Err(format!("`delegation.type` must be user, system or agent, got {other}")),
    };
    delegation.insert("type".into(), json!(kind));
    Ok(())
}

fn decision(event: &Map<String, Value>) -> Option<&str> {
    event.get("authz")?.get("decision")?.as_str()
}

fn normalise_outcome(event: &mut Map<String, Value>) {
    let outcome = match event.get("event").and_then(|e| e.get("outcome")) {
        Some(Value::Bool(ok)) => {
            if *ok {
                "success"
            } else {
                "failure"
            }
        }
        Some(Value::String(text)) => outcome_word(text),
        // A denied action did not happen, whatever else the source says.
        _ if decision(event) == Some("deny") => "failure",
        _ => "unknown",
    };
    path::set(event, "event.outcome", json!(outcome));
}

/// `event.severity` as an integer 0–10. When absent it follows the event's
/// gravity: a denial is high, a failure or error medium, the rest low.
fn normalise_severity(event: &mut Map<String, Value>) {
    let given = event.get("event").and_then(|e| e.get("severity"));
    let severity = match given.and_then(sluice_plugin::fields::severity) {
        Some(value) => value.round().clamp(0.0, 10.0) as u8,
        None => {
            let field = |name: &str| event.get("event").and_then(|e| e.get(name)).and_then(Value::as_str);
            default_severity(decision(event), field("kind"), field("outcome"))
        }
    };
    path::set(event, "event.severity", json!(severity));
}

/// OAuth writes scopes as one space-separated string; others use commas.
fn split_scopes(event: &mut Map<String, Value>) {
    if let Some(Value::Object(authz)) = event.get_mut("authz")
        && let Some(Value::String(scope)) = authz.get("scope")
    {
        let scopes: Vec<Value> =
            scope.split(|c: char| c.is_whitespace() || c == ',').filter(|s| !s.is_empty()).map(|s| json!(s)).collect();
        authz.insert("scope".into(), Value::Array(scopes));
    }
}

/// `labels` as a list of strings or a map of string to string.
fn normalise_labels(event: &mut Map<String, Value>) -> Result<(), String> {
    if event.get("labels").is_some_and(Value::is_null) {
        event.remove("labels");
    }
    let Some(labels) = event.get_mut("labels") else { return Ok(()) };
    let label = |value: &Value| match value {
        Value::String(text) => Ok(text.clone()),
        Value::Number(_) | Value::Bool(_) => Ok(value.to_string()),
        other => Err(format!("`labels` must hold strings, got {other}")),
    };
    match labels {
        Value::Array(items) => {
            items.retain(|item| !item.is_null());
            for item in items.iter_mut() {
                *item = json!(label(item)?);
            }
        }
        Value::Object(map) => {
            map.retain(|_, value| !value.is_null());
            for value in map.values_mut() {
                *value = json!(label(value)?);
            }
        }
        scalar => *scalar = json!([label(scalar)?]),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(require_identity: bool, unknown_kind: UnknownKind) -> Config {
        Config { require_identity, unknown_kind, mapping: Vec::new() }
    }

    fn canonical(event: Value) -> Result<Value, String> {
        let mut map = event.as_object().unwrap().clone();
        canonicalise(&mut map, &config(true, UnknownKind::Fail)).map(|()| Value::Object(map))
    }

    #[test]
    fn bare_strings_stand_for_the_object_s_main_field() {
        let event =
            canonical(json!({"event": "TOOL-CALL", "agent": "planner", "tenant": "acme", "tool": "http.get"})).unwrap();
        assert_eq!(event["event"]["kind"], "tool_call");
        assert_eq!(event["agent"]["id"], "planner");
        assert_eq!(event["tenant"]["id"], "acme");
        assert_eq!(event["tool"]["name"], "http.get");
    }

    #[test]
    fn wrong_types_for_objects_fail() {
        let reason =
            canonical(json!({"event": {"kind": "prompt"}, "agent": {"id": "a"}, "authz": "allow"})).unwrap_err();
        assert!(reason.contains("`authz` must be an object"), "{reason}");
        let reason = canonical(json!({"event": {"kind": "prompt"}, "agent": 7})).unwrap_err();
        assert!(reason.contains("`agent` must be an object or a string"), "{reason}");
    }

    #[test]
    fn numeric_agent_ids_become_strings() {
        let event = canonical(json!({"event": {"kind": "prompt"}, "agent": {"id": 42}})).unwrap();
        assert_eq!(event["agent"]["id"], "42");
    }

    #[test]
    fn missing_or_blank_agent_id_fails_by_default() {
        for agent in [json!({}), json!({"id": ""}), json!({"id": "  "}), json!({"id": null})] {
            let reason = canonical(json!({"event": {"kind": "prompt"}, "agent": agent})).unwrap_err();
            assert!(reason.contains("no `agent.id`") && reason.contains("require_identity"), "{reason}");
        }
    }

    #[test]
    fn missing_agent_id_becomes_unknown_with_a_label_when_not_required() {
        let mut map = json!({"event": {"kind": "prompt"}, "labels": {"env": "prod"}}).as_object().unwrap().clone();
        canonicalise(&mut map, &config(false, UnknownKind::Fail)).unwrap();
        assert_eq!(map["agent"]["id"], "unknown");
        assert_eq!(map["labels"], json!({"env": "prod", "agent_id": "missing"}));
    }

    #[test]
    fn unknown_kind_fails_or_becomes_lifecycle() {
        let reason = canonical(json!({"event": {"kind": "deploy"}, "agent": "a"})).unwrap_err();
        assert!(reason.contains("\"deploy\" is not one of prompt, reasoning"), "{reason}");
        let reason = canonical(json!({"agent": "a"})).unwrap_err();
        assert!(reason.contains("no `event.kind`"), "{reason}");

        let mut map =
            json!({"event": {"kind": "deploy"}, "agent": "a", "labels": ["prod"]}).as_object().unwrap().clone();
        canonicalise(&mut map, &config(true, UnknownKind::Lifecycle)).unwrap();
        assert_eq!(map["event"]["kind"], "lifecycle");
        assert_eq!(map["labels"], json!(["prod", "unknown_kind:deploy"]));
    }

    #[test]
    fn decisions_outcomes_and_severities_are_normalised() {
        let authz = json!({"decision": "DENIED", "scope": "read write,net"});
        let event = canonical(json!({"event": {"kind": "authz"}, "agent": "a", "authz": authz})).unwrap();
        assert_eq!(event["authz"]["decision"], "deny");
        assert_eq!(event["authz"]["scope"], json!(["read", "write", "net"]));
        assert_eq!(event["event"]["outcome"], "failure");
        assert_eq!(event["event"]["severity"], 7);

        let event =
            canonical(json!({"event": {"kind": "output", "outcome": "ok", "severity": "12"}, "agent": "a"})).unwrap();
        assert_eq!(event["event"]["outcome"], "success");
        assert_eq!(event["event"]["severity"], 10);

        let event = canonical(json!({"event": {"kind": "error", "severity": "High"}, "agent": "a"})).unwrap();
        assert_eq!(event["event"]["outcome"], "unknown");
        assert_eq!(event["event"]["severity"], 8);

        let event = canonical(json!({"event": {"kind": "error"}, "agent": "a"})).unwrap();
        assert_eq!(event["event"]["severity"], 5);
    }

    #[test]
    fn time_is_normalised_to_utc_or_refused() {
        let event = canonical(json!({"time": "2026-11-26T14:00:00+02:00", "event": "prompt", "agent": "a"})).unwrap();
        assert_eq!(event["time"], "2026-11-26T12:00:00Z");
        let event = canonical(json!({"time": 1_764_160_205_000_i64, "event": "prompt", "agent": "a"})).unwrap();
        assert_eq!(event["time"], "2025-11-26T12:30:05.000Z");
        let reason = canonical(json!({"time": "last tuesday", "event": "prompt", "agent": "a"})).unwrap_err();
        assert!(reason.contains("`time` is not an RFC 3339 timestamp") && reason.contains("last tuesday"), "{reason}");
    }

    #[test]
    fn event_ids_are_strings_and_blank_ones_go() {
        let event = canonical(json!({"event": {"kind": "prompt", "id": 17}, "agent": "a"})).unwrap();
        assert_eq!(event["event"]["id"], "17");
        let event = canonical(json!({"event": {"kind": "prompt", "id": " "}, "agent": "a"})).unwrap();
        assert!(event["event"].get("id").is_none());
    }

    #[test]
    fn unreadable_decisions_and_delegation_types_fail() {
        let reason = canonical(json!({"event": "authz", "agent": "a", "authz": {"decision": "maybe"}})).unwrap_err();
        assert_eq!(reason, "`authz.decision` \"maybe\" is neither allow nor deny");
        let reason = canonical(json!({"event": "authz", "agent": "a", "authz": {"decision": 1}})).unwrap_err();
        assert!(reason.starts_with("`authz.decision` must be"), "{reason}");
        let reason = canonical(json!({"event": "prompt", "agent": "a", "delegation": {"type": "robot"}})).unwrap_err();
        assert_eq!(reason, "`delegation.type` \"robot\" is not user, system or agent");
    }

    #[test]
    fn delegation_types_have_synonyms() {
        for (given, expected) in [("User", "user"), ("human", "user"), ("service", "system"), (" AGENT ", "agent")] {
            let event = canonical(json!({"event": "prompt", "agent": "a", "delegation": {"type": given}})).unwrap();
            assert_eq!(event["delegation"]["type"], expected, "{given}");
        }
    }

    #[test]
    fn labels_become_strings_in_a_list_or_map() {
        let labels = |labels: Value| canonical(json!({"event": "prompt", "agent": "a", "labels": labels}));
        assert_eq!(labels(json!("prod")).unwrap()["labels"], json!(["prod"]));
        assert_eq!(labels(json!(["prod", 3, null, true])).unwrap()["labels"], json!(["prod", "3", "true"]));
        assert_eq!(
            labels(json!({"env": "prod", "n": 3, "gone": null})).unwrap()["labels"],
            json!({"env": "prod", "n": "3"})
        );
        assert!(labels(json!(null)).unwrap().get("labels").is_none());
        assert!(labels(json!([{"k": "v"}])).unwrap_err().starts_with("`labels` must hold strings"));
    }

    #[test]
    fn null_objects_are_absent_and_field_types_are_enforced() {
        let event = canonical(json!({"event": "prompt", "agent": "a", "tool": null, "tenant": {"id": 7}})).unwrap();
        assert!(event.get("tool").is_none());
        assert_eq!(event["tenant"]["id"], "7");
        let reason = canonical(json!({"event": "prompt", "agent": "a", "tool": {"name": ["x"]}})).unwrap_err();
        assert_eq!(reason, "`tool.name` must be a string, got [\"x\"]");
    }

    #[test]
    fn error_may_be_given_as_its_message() {
        let event = canonical(json!({"event": "error", "agent": "a", "error": "boom"})).unwrap();
        assert_eq!(event["error"], json!({"message": "boom"}));
    }

    #[test]
    fn delegation_chain_string_becomes_a_list() {
        let event = canonical(json!({"event": "prompt", "agent": "a", "delegation": {"chain": "user:u1"}})).unwrap();
        assert_eq!(event["delegation"]["chain"], json!(["user:u1"]));
    }
}
