//! Plugin `cef`: format the canonical agent event as one ArcSight CEF line
//! (`CEF:0|Vendor|Product|Version|SignatureID|Name|Severity|Extension`) that
//! the sinks send instead of the JSON; the event itself passes on unchanged.
//!
//! Escaping and field lengths follow the CEF standard (module `escape`); the field
//! mapping is a documented table (module `mapping`) that the config overrides key
//! by key (module `config`). Paths, fallbacks and constants are read by the SDK's
//! `sluice_plugin::fields`, which the LEEF formatter shares.

mod config;
mod escape;
mod format;
mod mapping;

use serde_json::Value;
use sluice_plugin::{Outcome, Plugin, export_plugin};

/// The plugin instance.
pub struct Cef {
    formatter: format::Formatter,
}

impl Plugin for Cef {
    fn configure(config: Value) -> Result<Self, String> {
        Ok(Cef { formatter: format::Formatter::new(config::Settings::parse(&config)?) })
    }

    fn process(&mut self, event: &str) -> Outcome {
        match serde_json::from_str::<Value>(event) {
            Ok(event @ Value::Object(_)) => Outcome::Emit(self.formatter.format(&event)),
            Ok(_) => Outcome::Fail("event is JSON but not an object".to_owned()),
            Err(err) => Outcome::Fail(format!("event is not valid JSON: {err}")),
        }
    }
}

export_plugin!(Cef);

#[cfg(test)]
mod tests;
