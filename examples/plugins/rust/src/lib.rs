//! A sluice plugin in Rust: label events from a lookup table, drop a kind.
//!
//! Config (JSON, from the transform's `config` table):
//!   {"labels": {"<agent id>": "<label>", ...}, "drop_kind": "reasoning"}
//!
//! Each event whose `agent.id` is in `labels` gets that label appended to its
//! `labels` list; events of `drop_kind` are dropped; an event without
//! `agent.id` (one that did not go through agent-event first) fails: it goes
//! to the dead-letter output with the reason.
//! Build: ./build.sh  (cargo, target wasm32-wasip2: the output is a component)

use serde_json::Value;
use sluice_plugin::event::Labels;
use sluice_plugin::{AgentEvent, Outcome, Plugin, export_plugin, log};
use std::collections::HashMap;

struct Label {
    labels: HashMap<String, String>,
    drop_kind: Option<String>,
}

impl Plugin for Label {
    fn configure(config: Value) -> Result<Self, String> {
        let labels = match config.get("labels") {
            None => HashMap::new(),
            Some(Value::Object(table)) => table
                .iter()
                .map(|(agent, label)| label.as_str().map(|label| (agent.clone(), label.to_owned())))
                .collect::<Option<_>>()
                .ok_or("config key `labels` must be a table of agent id = label")?,
            Some(_) => return Err("config key `labels` must be a table of agent id = label".into()),
        };
        let drop_kind = match config.get("drop_kind") {
            None => None,
            Some(Value::String(kind)) => Some(kind.clone()),
            Some(_) => return Err("config key `drop_kind` must be a string".into()),
        };
        log::info("rust plugin ready", &[("labels", &labels.len().to_string())]);
        Ok(Label { labels, drop_kind })
    }

    // The SDK parses each event into the canonical AgentEvent for us; fields
    // this plugin does not touch are written back as they came.
    fn process_event(&mut self, mut event: AgentEvent) -> Outcome {
        let Some(agent) = event.agent.id.as_deref() else {
            return Outcome::Fail("event has no agent.id: run the agent-event plugin before this one".into());
        };
        let kind = event.event.kind.as_ref().map(|kind| kind.as_str());
        if kind.is_some() && kind == self.drop_kind.as_deref() {
            return Outcome::Drop;
        }
        let Some(label) = self.labels.get(agent) else {
            // Unchanged: nothing is copied back across the boundary.
            return Outcome::Keep;
        };
        match &mut event.labels {
            Some(Labels::List(list)) => list.push(label.clone()),
            // A map of labels has no place for one more bare label.
            Some(Labels::Map(_)) => return Outcome::Fail("event's `labels` is a map, not a list".into()),
            None => event.labels = Some(Labels::List(vec![label.clone()])),
        }
        Outcome::replace_with(&event)
    }
}

export_plugin!(Label);
