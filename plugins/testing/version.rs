// Shared body of the `version-one` and `version-two` test plugins: two
// different components that tag each event with their own version, so the
// hot-reload tests can tell which version processed an event. The including
// crate defines `const VERSION: u64` first.

use serde_json::{Value, json};
use sluice_plugin::{Outcome, Plugin, export_plugin, parse_object};

struct Version;

impl Plugin for Version {
    fn configure(config: Value) -> Result<Self, String> {
        if config.get("refuse").and_then(Value::as_bool).unwrap_or(false) {
            return Err("config key `refuse` is set".to_owned());
        }
        Ok(Version)
    }

    fn process(&mut self, event: &str) -> Outcome {
        let mut object = match parse_object(event) {
            Ok(object) => object,
            Err(reason) => return Outcome::Fail(reason),
        };
        match object.entry("versions").or_insert_with(|| json!([])) {
            Value::Array(versions) => versions.push(json!(VERSION)),
            _ => return Outcome::Fail("field `versions` is not a list".to_owned()),
        }
        Outcome::Replace(Value::Object(object).to_string())
    }
}

export_plugin!(Version);
