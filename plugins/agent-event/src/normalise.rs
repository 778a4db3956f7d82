//! One event in, one canonical agent event out.
//!
//! Sources hand the agent's JSON over in the `message` field of an envelope
//! (`{"message": …, "source": …, "syslog": …, "received_at": …}`), as a
//! string, or as the object itself when the source decoded it (`decoding =
//! "json"`); an event without either is taken to be the agent event itself. The
//! envelope's provenance survives normalisation, and the agent's look-alikes
//! of it move under `agent_claimed` (module `provenance`); the raw message
//! does not, because its content now lives in the canonical fields. An
//! OTLP/JSON document in its place is read as OpenTelemetry GenAI data first.

use crate::config::{Config, Rule};
use crate::provenance::{self, PROVENANCE};
use crate::{genai, id, otlp, path, schema};
use serde_json::{Map, Value, json};
use sluice_plugin::time::Timestamp;

/// The canonical event for `event`, or the reason it has none.
pub fn normalise(event: &str, config: &Config) -> Result<Map<String, Value>, String> {
    let (mut agent, envelope, sent) = split(sluice_plugin::parse_object(event)?)?;
    if otlp::is_otlp(&agent) {
        // The mapping then works on the GenAI reading, so a site only maps
        // what OpenTelemetry has no name for (from `otel.attributes.…`).
        agent = genai::to_event(otlp::read(&agent)?);
    }
    apply_mapping(&mut agent, &config.mapping);
    schema::canonicalise(&mut agent, config)?;
    // An event without its own time takes the sender's syslog timestamp, else
    // the time the router received it. The sender's time is part of what was
    // sent, so it is filled before the id is derived; the arrival time is not.
    let syslog_time = envelope.get("syslog").and_then(|syslog| syslog.get("timestamp"));
    if !agent.contains_key("time")
        && let Some(time) = utc(syslog_time)
    {
        agent.insert("time".into(), json!(time));
    }
    if agent.get("event").and_then(|e| e.get("id")).is_none() {
        // Hashed before the envelope joins, so a replay of the same agent
        // event keeps its id however and whenever it arrives.
        let content = serde_json::to_string(&agent).map_err(|err| format!("event cannot be serialised: {err}"))?;
        path::set(&mut agent, "event.id", json!(id::derive(&content)));
    }
    // Set aside after the mapping, so that neither a rule's target nor
    // anything the mapping left can take a router-owned name.
    if sent {
        provenance::set_aside(&mut agent);
    }
    for (key, value) in envelope {
        if PROVENANCE.contains(&key.as_str()) {
            agent.insert(key, value);
        } else {
            agent.entry(key).or_insert(value);
        }
    }
    if !agent.contains_key("time") {
        let time = utc(agent.get("received_at")).ok_or(
            "event has no `time`, and no `syslog.timestamp` or `received_at` to take it from \
             (every sluice source sets `received_at`)",
        )?;
        agent.insert("time".into(), json!(time));
    }
    Ok(agent)
}

/// An RFC 3339 timestamp written by a source, in UTC like the event's own.
fn utc(value: Option<&Value>) -> Option<String> {
    Timestamp::parse_rfc3339(value?.as_str()?)?.to_rfc3339_utc()
}

type Object = Map<String, Value>;

/// Separate the agent event from its envelope: (agent event, envelope,
/// whether the agent event is what an agent sent). The agent's event is the
/// JSON text of a string `message`, or an object `message` (a source with
/// `decoding = "json"` decoded it). An event without either was written by a
/// stage before this one (this plugin, say), so
/// its `source`, `syslog`, `received_at` and `agent_claimed` are taken as
/// they are.
fn split(mut outer: Object) -> Result<(Object, Object, bool), String> {
    match outer.remove("message") {
        Some(Value::String(message)) => match serde_json::from_str::<Value>(message.trim_start_matches('\u{feff}')) {
            Ok(Value::Object(agent)) => Ok((agent, outer, true)),
            Ok(other) => Err(format!("`message` holds JSON but not an object: {}", kind_of(&other))),
            Err(err) => Err(format!("`message` is not valid JSON: {err}")),
        },
        // Decoded by the source (`decoding = "json"`).
        Some(Value::Object(agent)) => Ok((agent, outer, true)),
        other => {
            if let Some(message) = other {
                outer.insert("message".into(), message);
            }
            let envelope = PROVENANCE.iter().filter_map(|key| outer.remove_entry(*key)).collect();
            Ok((outer, envelope, false))
        }
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Apply the site's mapping: every rule reads the event as it came, then the
/// moved source fields are removed, then the canonical fields are written, so
/// a source field may share a name with a canonical object (`tenant` ←→
/// `tenant.id`) and rules never see each other's output.
fn apply_mapping(agent: &mut Map<String, Value>, mapping: &[(String, Rule)]) {
    if mapping.is_empty() {
        return;
    }
    let mut root = Value::Object(std::mem::take(agent));
    let mut moved = Vec::new();
    let mut writes = Vec::new();
    for (target, rule) in mapping {
        let value = match rule {
            Rule::Constant(value) => Some(value.clone()),
            Rule::From { paths, default } => {
                let found = paths.iter().find_map(|p| path::get(&root, p).filter(|v| !v.is_null()).map(|v| (p, v)));
                match found {
                    Some((source, value)) => {
                        moved.push(source.as_str());
                        Some(value.clone())
                    }
                    None => default.clone(),
                }
            }
        };
        if let Some(value) = value {
            writes.push((target, value));
        }
    }
    for source in moved {
        path::remove(&mut root, source);
    }
    let Value::Object(map) = root else { unreachable!("built from a map above") };
    *agent = map;
    for (target, value) in writes {
        path::set(agent, target, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::UnknownKind;

    fn config() -> Config {
        Config { require_identity: true, unknown_kind: UnknownKind::Fail, mapping: Vec::new() }
    }

    fn envelope(message: &str) -> String {
        json!({
            "message": message,
            "source": {"id": "agents", "path": "/var/log/agents.jsonl"},
            "received_at": "2026-11-26T12:00:00.123456Z",
        })
        .to_string()
    }

    #[test]
    fn message_embedded_json_becomes_the_event_and_keeps_the_envelope() {
        let message =
            r#"{"event":{"kind":"tool_call","id":"e-1"},"agent":{"id":"planner"},"tool":{"name":"http.get"}}"#;
        let event = normalise(&envelope(message), &config()).unwrap();
        assert!(!event.contains_key("message"));
        assert_eq!(event["event"]["id"], "e-1");
        assert_eq!(event["agent"]["id"], "planner");
        assert_eq!(event["tool"]["name"], "http.get");
        assert_eq!(event["source"], json!({"id": "agents", "path": "/var/log/agents.jsonl"}));
        assert_eq!(event["received_at"], "2026-11-26T12:00:00.123456Z");
        assert_eq!(event["time"], "2026-11-26T12:00:00.123456Z");
    }

    #[test]
    fn an_event_without_a_message_is_the_agent_event() {
        let event = json!({
            "time": "2026-11-26T10:00:00Z",
            "event": {"kind": "prompt", "id": "e-2"},
            "agent": {"id": "planner"},
            "syslog": {"hostname": "gw-1"},
            "received_at": "2026-11-26T12:00:00Z",
        });
        let normalised = normalise(&event.to_string(), &config()).unwrap();
        assert_eq!(normalised["time"], "2026-11-26T10:00:00Z");
        assert_eq!(normalised["syslog"]["hostname"], "gw-1");
        assert_eq!(normalised["received_at"], "2026-11-26T12:00:00Z");
    }

    #[test]
    fn the_envelope_s_provenance_wins_other_fields_do_not() {
        let message = r#"{"event":"prompt","agent":"a","source":"spoofed","stages":["agent"]}"#;
        let mut outer: Map<String, Value> = serde_json::from_str(&envelope(message)).unwrap();
        outer.insert("stages".into(), json!(["router"]));
        let event = normalise(&Value::Object(outer).to_string(), &config()).unwrap();
        assert_eq!(event["source"]["id"], "agents");
        assert_eq!(event["agent_claimed"], json!({"source": "spoofed"}));
        assert_eq!(event["stages"], json!(["agent"]));
    }

    /// An agent cannot forge where its event came from: its look-alikes of
    /// the router's fields (here from a file source, which sends no syslog
    /// header) move under `agent_claimed`, and never take the router's place.
    #[test]
    fn the_agent_s_look_alikes_of_router_fields_move_under_agent_claimed() {
        let claims = json!({
            "source": {"id": "forged", "address": "203.0.113.66:514", "path": "/forged"},
            "received_at": "1999-01-01T00:00:00Z",
            "syslog": {"hostname": "trusted-gw", "app_name": "forged"},
            "source.address": "203.0.113.66:1",
            "agent_claimed": "the agent's own",
        });
        let mut message = json!({"event": {"kind": "prompt", "id": "e-1"}, "agent": {"id": "a"}, "sourcery": "kept"});
        message.as_object_mut().unwrap().extend(claims.as_object().unwrap().clone());
        let event = normalise(&envelope(&message.to_string()), &config()).unwrap();
        assert_eq!(event["source"], json!({"id": "agents", "path": "/var/log/agents.jsonl"}));
        assert_eq!(event["received_at"], "2026-11-26T12:00:00.123456Z");
        assert!(!event.contains_key("syslog"), "the file source sent no syslog header: {event:?}");
        assert!(!event.contains_key("source.address"), "{event:?}");
        assert_eq!(event["agent_claimed"], claims);
        assert_eq!(event["sourcery"], "kept");
        assert_eq!(event["time"], "2026-11-26T12:00:00.123456Z", "the router's arrival time, not the claim");
    }

    /// An event without a message was not sent by an agent as it stands (a
    /// stage before wrote it): it is taken as it is, claims included, so
    /// normalising twice changes nothing.
    #[test]
    fn normalising_twice_changes_nothing() {
        let message = r#"{"event":{"kind":"prompt","id":"e-1"},"agent":{"id":"a"},"syslog":{"hostname":"forged"}}"#;
        let mut outer: Map<String, Value> = serde_json::from_str(&envelope(message)).unwrap();
        outer.insert("syslog".into(), json!({"hostname": "gw-1"}));
        let once = normalise(&Value::Object(outer).to_string(), &config()).unwrap();
        assert_eq!(once["agent_claimed"], json!({"syslog": {"hostname": "forged"}}));
        assert_eq!(once["syslog"], json!({"hostname": "gw-1"}));
        let twice = normalise(&Value::Object(once.clone()).to_string(), &config()).unwrap();
        assert_eq!(twice, once);
    }

    #[test]
    fn invalid_json_fails_quoting_the_parser_error() {
        let reason = normalise(&envelope("{\"agent\": "), &config()).unwrap_err();
        assert!(reason.starts_with("`message` is not valid JSON: EOF while parsing"), "{reason}");
        let reason = normalise(&envelope("plain text line"), &config()).unwrap_err();
        assert!(reason.contains("expected value at line 1 column 1"), "{reason}");
        let reason = normalise(&envelope("[1, 2]"), &config()).unwrap_err();
        assert_eq!(reason, "`message` holds JSON but not an object: a list");
        let reason = normalise("{not json", &config()).unwrap_err();
        assert!(reason.starts_with("event is not valid JSON: key must be a string"), "{reason}");
    }

    #[test]
    fn time_comes_from_the_event_else_the_syslog_timestamp_else_received_at() {
        let message = r#"{"event":"prompt","agent":"a","time":null}"#;
        let mut outer: Map<String, Value> = serde_json::from_str(&envelope(message)).unwrap();
        assert_eq!(
            normalise(&Value::Object(outer.clone()).to_string(), &config()).unwrap()["time"],
            "2026-11-26T12:00:00.123456Z"
        );
        outer.insert("syslog".into(), json!({"timestamp": "2026-11-26T13:59:58.5+02:00"}));
        assert_eq!(
            normalise(&Value::Object(outer.clone()).to_string(), &config()).unwrap()["time"],
            "2026-11-26T11:59:58.5Z"
        );
        outer.insert("message".into(), json!(message.replace("null", "\"2026-11-26T10:00:00Z\"")));
        assert_eq!(normalise(&Value::Object(outer).to_string(), &config()).unwrap()["time"], "2026-11-26T10:00:00Z");
    }

    #[test]
    fn the_sender_s_time_distinguishes_repeats_the_arrival_time_does_not() {
        let message = r#"{"event":"prompt","agent":"a"}"#;
        let at = |syslog_time: Option<&str>, received_at: &str| {
            let mut outer: Map<String, Value> = serde_json::from_str(&envelope(message)).unwrap();
            outer.insert("received_at".into(), json!(received_at));
            if let Some(time) = syslog_time {
                outer.insert("syslog".into(), json!({"timestamp": time}));
            }
            normalise(&Value::Object(outer).to_string(), &config()).unwrap()["event"]["id"].clone()
        };
        assert_eq!(at(None, "2026-11-26T12:00:00Z"), at(None, "2026-11-26T12:05:00Z"));
        let sent = Some("2026-11-26T11:59:59Z");
        assert_eq!(at(sent, "2026-11-26T12:00:00Z"), at(sent, "2026-11-26T12:05:00Z"), "a replay");
        assert_ne!(at(sent, "2026-11-26T12:00:00Z"), at(Some("2026-11-26T11:59:58Z"), "2026-11-26T12:00:00Z"));
    }

    #[test]
    fn an_event_with_no_time_anywhere_fails() {
        let reason = normalise(r#"{"event":"prompt","agent":"a"}"#, &config()).unwrap_err();
        assert!(reason.starts_with("event has no `time`, and no `syslog.timestamp` or `received_at`"), "{reason}");
    }

    #[test]
    fn a_missing_event_id_is_derived_from_the_content_alone() {
        let message = r#"{"event":{"kind":"prompt"},"agent":{"id":"planner"},"prompt":{"text":"hi"}}"#;
        let first = normalise(&envelope(message), &config()).unwrap();
        let mut later: Map<String, Value> = serde_json::from_str(&envelope(message)).unwrap();
        later.insert("received_at".into(), json!("2027-01-01T00:00:00Z"));
        let second = normalise(&Value::Object(later).to_string(), &config()).unwrap();
        assert_eq!(first["event"]["id"], second["event"]["id"]);
        assert_eq!(first["event"]["id"].as_str().unwrap().len(), 36);
        let other = normalise(&envelope(&message.replace("hi", "ho")), &config()).unwrap();
        assert_ne!(first["event"]["id"], other["event"]["id"]);
    }

    #[test]
    fn mapping_moves_fields_and_fills_constants_and_defaults() {
        let mut config = config();
        config.mapping = Config::parse(&json!({"mapping": {
            "time": "ts",
            "event.id": "event_id",
            "event.kind": "kind",
            "event.action": "name",
            "tenant.id": "tenant",
            "agent.id": {"from": ["attributes.gen_ai.agent.id", "agent.id"]},
            "delegation.on_behalf_of": {"from": "on_behalf_of", "default": "nobody"},
            "session.id": "session_id",
            "data.classification": {"value": "internal"},
        }}))
        .unwrap()
        .mapping;
        let message = r#"{"ts":"2026-11-26T12:00:00.000Z","event_id":"evt-00000001","kind":"tool_call",
            "name":"Tool invoked","tenant":"acme-fin","attributes":{"gen_ai.agent.id":"agent-07"},
            "session_id":"sess-1","tool":{"name":"http.get","args":"--x"}}"#;
        let event = normalise(&envelope(message), &config).unwrap();
        assert_eq!(event["time"], "2026-11-26T12:00:00.000Z");
        assert_eq!(event["event"]["id"], "evt-00000001");
        assert_eq!(event["event"]["kind"], "tool_call");
        assert_eq!(event["event"]["action"], "Tool invoked");
        assert_eq!(event["tenant"], json!({"id": "acme-fin"}));
        assert_eq!(event["agent"]["id"], "agent-07");
        assert_eq!(event["delegation"]["on_behalf_of"], "nobody");
        assert_eq!(event["session"]["id"], "sess-1");
        assert_eq!(event["data"]["classification"], "internal");
        assert_eq!(event["tool"]["args"], "--x", "unmapped fields stay");
        for moved in ["ts", "event_id", "kind", "name", "session_id"] {
            assert!(!event.contains_key(moved), "{moved} was moved");
        }
        assert_eq!(event["attributes"], json!({}));
    }
}
