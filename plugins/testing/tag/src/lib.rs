//! Test plugin: appends a stage name to each event's `stages` list and numbers
//! events per instance, and can drop, fail or emit on request, so the router's
//! tests can follow events through a chain and check every outcome.
//!
//! Config: `{"stage": "a", "drop_containing": "x", "fail_containing": "y",
//! "emit": false}`; all keys optional.

use serde_json::{Value, json};
use sluice_plugin::{Outcome, Plugin, export_plugin, log, parse_object};

struct Tag {
    stage: String,
    drop_containing: Option<String>,
    fail_containing: Option<String>,
    emit: bool,
    seen: u64,
}

fn optional_string(config: &Value, key: &str) -> Result<Option<String>, String> {
    match config.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(format!("config key `{key}` must be a string, got {other}")),
    }
}

impl Plugin for Tag {
    fn configure(config: Value) -> Result<Self, String> {
        let stage = optional_string(&config, "stage")?.unwrap_or_else(|| "tag".to_owned());
        log::debug("tag plugin ready", &[("stage", &stage)]);
        Ok(Tag {
            stage,
            drop_containing: optional_string(&config, "drop_containing")?,
            fail_containing: optional_string(&config, "fail_containing")?,
            emit: config.get("emit").and_then(Value::as_bool).unwrap_or(false),
            seen: 0,
        })
    }

    fn process(&mut self, event: &str) -> Outcome {
        if self.drop_containing.as_deref().is_some_and(|m| event.contains(m)) {
            return Outcome::Drop;
        }
        if self.fail_containing.as_deref().is_some_and(|m| event.contains(m)) {
            return Outcome::Fail(format!("stage {} refused the event", self.stage));
        }
        let mut object = match parse_object(event) {
            Ok(object) => object,
            Err(reason) => return Outcome::Fail(reason),
        };
        self.seen += 1;
        match object.entry("stages").or_insert_with(|| json!([])) {
            Value::Array(stages) => stages.push(json!(self.stage)),
            _ => return Outcome::Fail("field `stages` is not a list".to_owned()),
        }
        object.insert(format!("{}_seen", self.stage), json!(self.seen));
        if self.emit {
            let message = object.get("message").and_then(Value::as_str).unwrap_or("");
            return Outcome::Emit(format!("{}|{message}", self.stage));
        }
        Outcome::Replace(Value::Object(object).to_string())
    }
}

export_plugin!(Tag);
