//! Plugin `json`: the canonical agent event as one compact JSON line, for
//! Splunk, Elastic and files; the sinks send the line instead of the event,
//! which passes on unchanged.
//!
//! The line is the event as the pipeline holds it, minus the `drop_fields`
//! of the config, optionally with ECS-style field names (module `ecs`, whose
//! table documents each name). Object keys come out in sorted order, one
//! event per line: JSON escapes every control character, so no raw line
//! break can reach the receiver.

mod config;
mod ecs;
mod tree;

use serde_json::Value;
use sluice_plugin::{Outcome, Plugin, export_plugin};

/// The plugin instance.
pub struct Json {
    settings: config::Settings,
}

impl Plugin for Json {
    fn configure(config: Value) -> Result<Self, String> {
        Ok(Json { settings: config::Settings::parse(&config)? })
    }

    fn process(&mut self, event: &str) -> Outcome {
        let mut event = match sluice_plugin::parse_object(event) {
            Ok(event) => event,
            Err(reason) => return Outcome::Fail(reason),
        };
        for path in &self.settings.drop_fields {
            tree::take(&mut event, path);
        }
        if self.settings.ecs
            && let Err(reason) = ecs::rename(&mut event)
        {
            return Outcome::Fail(reason);
        }
        Outcome::Emit(sluice_plugin::object_to_json(&event))
    }
}

export_plugin!(Json);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn line(config: Value, event: &str) -> Outcome {
        Json::configure(config).unwrap().process(event)
    }

    #[test]
    fn the_event_is_one_compact_line_with_every_character_escaped() {
        let event = r#"{ "prompt": {"text": "a\nb\r\tc \u0007 é \"q\" \\"},  "agent": {"id": "a"} }"#;
        assert_eq!(
            line(json!({}), event),
            Outcome::Emit(r#"{"agent":{"id":"a"},"prompt":{"text":"a\nb\r\tc \u0007 é \"q\" \\"}}"#.to_owned())
        );
    }

    #[test]
    fn dropped_fields_go_before_renaming_and_take_their_emptied_parents() {
        let event = json!({"agent": {"id": "a"}, "tool": {"result": "r"}, "syslog": {"hostname": "h"},
                           "event": {"kind": "output"}})
        .to_string();
        let config = json!({"ecs": true, "drop_fields": ["syslog", "tool.result", "agent.id", "missing.path"]});
        assert_eq!(line(config, &event), Outcome::Emit(r#"{"event":{"action":"output"}}"#.to_owned()));
    }

    #[test]
    fn bad_events_fail_and_bad_config_is_refused() {
        assert!(matches!(line(json!({}), "[1]"), Outcome::Fail(r) if r.contains("not an object")));
        assert!(matches!(line(json!({}), "{"), Outcome::Fail(r) if r.contains("not valid JSON")));
        assert!(Json::configure(json!({"ecs": 1})).err().unwrap().contains("`ecs`"));
    }

    #[test]
    fn a_claim_with_no_room_under_agent_claimed_fails_the_event() {
        let event = json!({"agent_claimed": "text", "event.created": "1999-01-01T00:00:00Z"}).to_string();
        let outcome = line(json!({"ecs": true}), &event);
        assert!(
            matches!(&outcome, Outcome::Fail(r) if r.contains("`event.created`") && r.contains("agent_claimed")),
            "{outcome:?}"
        );
    }
}
