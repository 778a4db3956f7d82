//! Plugin `agent-event`: normalise whatever an agent platform logs into the
//! canonical, identity-bound agent event: `time`, `event.{id,kind,action,
//! outcome,severity}`, `agent.{id,name,version,model,framework}`,
//! `tenant.id`, `authz.*`, `delegation.*`, `session.id`, `trace.*`, content
//! (`prompt.text`, `reasoning.summary`, `output.text`), `tool.*`,
//! `destination.*`, `retrieval.*`, `data.classification`, `labels`.
//!
//! It reads the agent's JSON from the envelope's `message` (or takes the event
//! itself when there is none), moves site-specific fields into place through
//! the `mapping` config, validates identity and kind, fills `time` and
//! `event.id` when absent, and keeps the envelope's `source`, `syslog` and
//! `received_at`. An event it cannot normalise fails to the dead-letter
//! output with the reason. Config keys are described in module `config`.

mod config;
mod id;
mod normalise;
mod path;
mod schema;

use serde_json::Value;
use sluice_plugin::{Outcome, Plugin, export_plugin};

/// The plugin instance: its config, read once at `init`.
pub struct AgentEvent {
    config: config::Config,
}

impl Plugin for AgentEvent {
    fn init(config: Value) -> Result<Self, String> {
        Ok(AgentEvent { config: config::Config::parse(&config)? })
    }

    fn process(&mut self, event: &str) -> Outcome {
        match normalise::normalise(event, &self.config) {
            Ok(event) => Outcome::Replace(Value::Object(event).to_string()),
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
        AgentEvent::init(config).unwrap().process(&event.to_string())
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

    #[test]
    fn missing_agent_id_fails_or_is_marked_by_config() {
        let event = json!({"message": r#"{"event":{"kind":"prompt"}}"#});
        assert!(matches!(run(json!({}), event.clone()), Outcome::Fail(reason) if reason.contains("agent.id")));
        let Outcome::Replace(json) = run(json!({"require_identity": false}), event) else { panic!() };
        let event: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(event["agent"]["id"], "unknown");
        assert_eq!(event["labels"], json!(["agent_id:missing"]));
    }

    #[test]
    fn bad_config_is_refused_at_init() {
        let error = AgentEvent::init(json!({"unknown_kind": 3})).err().unwrap();
        assert!(error.contains("unknown_kind"));
    }
}
