//! Plugin `agent-event`: normalise whatever an agent platform logs into the
//! canonical, identity-bound agent event: `time`, `event.{id,kind,action,
//! outcome,severity}`, `agent.{id,name,version,model,framework}`,
//! `tenant.id`, `authz.*`, `delegation.*`, `session.id`, `trace.*`, content
//! (`prompt.text`, `reasoning.summary`, `output.text`), `tool.*`,
//! `destination.*`, `retrieval.*`, `data.classification`, `labels`.
//!
//! It reads the agent's JSON from the envelope's `message` (a string, or the
//! object a source with `decoding = "json"` decoded; or takes the event
//! itself when there is none); reads OpenTelemetry GenAI log records and
//! spans sent as OTLP/JSON (modules `otlp` and `genai`); moves site-specific
//! fields into place through the `mapping` config; validates identity, kind
//! and the types of the canonical fields; fills `time` and `event.id` when
//! absent; and keeps the envelope's `source`, `syslog` and `received_at`,
//! moving the agent's look-alikes of them under `agent_claimed` (module
//! `provenance`). An event it cannot normalise fails to the dead-letter
//! output with the reason. Config keys are described in module `config`; the schema, with
//! every field and its OpenTelemetry and OCSF names, in `docs/agent-event.md`
//! and `docs/agent-event.schema.json`.

mod config;
mod fast;
mod fields;
mod genai;
mod id;
mod normalise;
mod otlp;
mod path;
mod provenance;
mod schema;

use serde_json::Value;
use sluice_plugin::{Outcome, Plugin, export_plugin};

/// The plugin instance: its config, read once at `configure`.
pub struct AgentEvent {
    config: config::Config,
}

impl Plugin for AgentEvent {
    fn configure(config: Value) -> Result<Self, String> {
        Ok(AgentEvent { config: config::Config::parse(&config)? })
    }

    fn process(&mut self, event: &str) -> Outcome {
        if let Some(json) = fast::normalise(event, &self.config) {
            return Outcome::Replace(json);
        }
        match normalise::normalise(event, &self.config) {
            Ok(event) => Outcome::Replace(sluice_plugin::object_to_json(&event)),
            Err(reason) => Outcome::Fail(reason),
        }
    }
}

export_plugin!(AgentEvent);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(config: Value, event: Value) -> Outcome {
        AgentEvent::configure(config).unwrap().process(&event.to_string())
    }

    #[test]
    fn replaces_the_event_with_its_canonical_form() {
        let message = r#"{"event":{"kind":"prompt","id":"e-1"},"agent":{"id":"planner"},"prompt":{"text":"hi"}}"#;
        let outcome = run(json!({}), json!({"message": message, "received_at": "2026-11-26T12:00:00Z"}));
        let Outcome::Replace(json) = outcome else { panic!("expected a replacement, got {outcome:?}") };
        let event: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(event["prompt"]["text"], "hi");
        assert_eq!(event["event"]["outcome"], "unknown");
        assert_eq!(event["time"], "2026-11-26T12:00:00Z");
    }

    /// A message the source decoded (`decoding = "json"`) normalises exactly
    /// as the same message sent as text, on the fast path and the tree path
    /// (an OTLP document takes the tree path).
    #[test]
    fn a_decoded_message_normalises_as_its_text_does() {
        let envelope = json!({"received_at": "2026-11-26T12:00:00Z", "source": {"id": "in"},
                              "syslog": {"hostname": "h", "timestamp": "2026-11-26T11:59:59Z"}});
        let messages = [
            json!({"event": {"kind": "prompt", "id": "e-1"}, "agent": {"id": "planner"}, "prompt": {"text": "a\"b\nc"},
                   "source": "forged"}),
            json!({"event": {"kind": "tool_call"}, "agent": {"id": "x"}, "tool": {"name": "t", "arguments": {"u": 1}}}),
            json!({"resourceLogs": []}),
        ];
        for message in messages {
            let mut as_text = envelope.clone();
            as_text["message"] = json!(message.to_string());
            let mut decoded = envelope.clone();
            decoded["message"] = message.clone();
            let config = json!({"mapping": {"event.action": "tool.name"}});
            assert_eq!(run(config.clone(), decoded), run(config, as_text), "{message}");
        }
    }

    #[test]
    fn missing_agent_id_fails_or_is_marked_by_config() {
        let event = json!({"message": r#"{"event":{"kind":"prompt"}}"#, "received_at": "2026-11-26T12:00:00Z"});
        assert!(matches!(run(json!({}), event.clone()), Outcome::Fail(reason) if reason.contains("agent.id")));
        let Outcome::Replace(json) = run(json!({"require_identity": false}), event) else { panic!() };
        let event: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(event["agent"]["id"], "unknown");
        assert_eq!(event["labels"], json!(["agent_id:missing"]));
    }

    /// The mapping example of `docs/agent-event.md`, config as the router passes it (TOML read into JSON).
    #[test]
    fn the_documented_mapping_example() {
        let config = json!({
            "require_identity": true,
            "unknown_kind": "lifecycle",
            "mapping": {
                "time": "ts",
                "agent.id": "agentId",
                "tenant.id": {"from": ["org.id", "tenant"], "default": "default"},
                "event.kind": {"value": "tool_call"},
                "tool.name": "fn",
                "tool.arguments": "args",
                "authz.decision": "allowed",
                "agent.framework": {"value": "native"},
            },
        });
        let message = r#"{"ts": 1764160205123, "agentId": "a-7", "org": {"id": "acme"}, "type": "TOOL",
            "fn": "http.get", "args": {"url": "https://x.example"}, "allowed": false}"#;
        let outcome = run(config, json!({"message": message, "received_at": "2026-11-26T12:00:00Z"}));
        let Outcome::Replace(json) = outcome else { panic!("expected a replacement, got {outcome:?}") };
        let mut event: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(event["event"]["id"].as_str().unwrap().len(), 36);
        event["event"].as_object_mut().unwrap().remove("id");
        assert_eq!(
            event,
            json!({
                "time": "2025-11-26T12:30:05.123Z",
                "event": {"kind": "tool_call", "outcome": "failure", "severity": 7},
                "agent": {"id": "a-7", "framework": "native"},
                "tenant": {"id": "acme"},
                "org": {},
                "type": "TOOL",
                "tool": {"name": "http.get", "arguments": {"url": "https://x.example"}},
                "authz": {"decision": "deny"},
                "received_at": "2026-11-26T12:00:00Z",
            })
        );
    }

    /// The `agent_claimed` example of `docs/agent-event.md`.
    #[test]
    fn the_documented_agent_claimed_example() {
        let message = r#"{"agent":{"id":"a-7"},"event":{"kind":"prompt","id":"e-1"},"syslog":{"hostname":"trusted-gw"},"source.address":"203.0.113.66:1"}"#;
        let event = json!({"message": message, "source": {"id": "agents", "path": "/var/log/agents.jsonl"},
                           "received_at": "2026-11-26T12:00:00.1Z"});
        let Outcome::Replace(json) = run(json!({}), event) else { panic!("expected a replacement") };
        assert_eq!(
            serde_json::from_str::<Value>(&json).unwrap(),
            json!({"time": "2026-11-26T12:00:00.1Z",
                   "event": {"id": "e-1", "kind": "prompt", "outcome": "unknown", "severity": 1},
                   "agent": {"id": "a-7"}, "source": {"id": "agents", "path": "/var/log/agents.jsonl"},
                   "received_at": "2026-11-26T12:00:00.1Z",
                   "agent_claimed": {"syslog": {"hostname": "trusted-gw"}, "source.address": "203.0.113.66:1"}})
        );
    }

    #[test]
    fn bad_config_is_refused_at_configure() {
        let error = AgentEvent::configure(json!({"unknown_kind": 3})).err().unwrap();
        assert!(error.contains("unknown_kind"));
    }
}
