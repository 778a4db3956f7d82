//! A sluice plugin in Rust: label events from a lookup table, drop a kind.
//!
//! Config (JSON, from the transform's `config` table):
//!   {"labels": {"<agent id>": "<label>", ...}, "drop_kind": "reasoning"}
//!
//! Each event whose `agent.id` is in `labels` gets that label appended to its
//! `labels` list; events of `drop_kind` are dropped; an event without
//! `agent.id` (one that did not go through agent-event first) fails: it goes
//! to the dead-letter output with the reason.
//!
//! The plugin declares the three fields it reads (`reads`), so the router
//! finds them in each event and the plugin never parses a whole event; it
//! answers a labelled event with one edit, which the router applies.
//! Build: ./build.sh  (cargo, target wasm32-wasip2: the output is a component)

use serde_json::Value;
use sluice_plugin::{Declared, Edit, Outcome, Plugin, export_plugin, log};
use std::collections::HashMap;

/// The fields this plugin reads, in the order `Declared` gives them.
const AGENT_ID: usize = 0;
const EVENT_KIND: usize = 1;
const LABELS: usize = 2;

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
            // `drop_kind = null` (possible in JSON, not in TOML) means no drop_kind.
            None | Some(Value::Null) => None,
            Some(Value::String(kind)) => Some(kind.clone()),
            Some(_) => return Err("config key `drop_kind` must be a string".into()),
        };
        log::info("rust plugin ready", &[("labels", &labels.len().to_string())]);
        Ok(Label { labels, drop_kind })
    }

    fn reads(&self) -> Vec<String> {
        ["agent.id", "event.kind", "labels"].map(String::from).to_vec()
    }

    fn process_declared(&mut self, event: &Declared<'_>) -> Outcome {
        // `str` borrows the string from the batch, and decodes only one
        // written with escapes.
        let Some(agent) = event.str(AGENT_ID) else {
            return Outcome::Fail("event has no agent.id: run the agent-event plugin before this one".into());
        };
        if self.drop_kind.is_some() && event.str(EVENT_KIND).as_deref() == self.drop_kind.as_deref() {
            return Outcome::Drop;
        }
        let Some(label) = self.labels.get(agent.as_ref()) else {
            // Unchanged: nothing is copied back across the boundary.
            return Outcome::Keep;
        };
        // Only the labels array is parsed; anything but an array becomes a
        // list of this one label.
        let mut labels = match event.value(LABELS) {
            Some(Value::Array(labels)) => labels,
            _ => Vec::new(),
        };
        labels.push(Value::String(label.clone()));
        Outcome::Edit(vec![Edit::set("labels", &Value::Array(labels))])
    }
}

export_plugin!(Label);
