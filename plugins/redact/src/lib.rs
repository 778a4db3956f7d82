//! Plugin `redact`: mask secrets and personal data in every string of an
//! event — nested objects, lists, a raw `message` — before it leaves for the
//! SIEM, and record what was masked in the event's `redaction` object.
//!
//! Built-in rules cover cloud and AI-provider keys, tokens, passwords,
//! private keys, e-mail addresses and payment, social-security and bank
//! numbers (module `rules`); the config switches them and adds custom regular
//! expressions (module `config`). An event with nothing to mask passes on
//! untouched (no copy back to the router).

mod config;
mod redactor;
mod report;
mod rules;
mod walk;

use serde_json::Value;
use sluice_plugin::{Outcome, Plugin, export_plugin, parse_object};

/// The plugin instance: the compiled rules and the skipped paths.
pub struct Redact {
    redactor: redactor::Redactor,
    skip: walk::SkipTree,
}

impl Plugin for Redact {
    fn init(config: Value) -> Result<Self, String> {
        let settings = config::Settings::parse(&config)?;
        Ok(Redact { redactor: redactor::Redactor::new(&settings)?, skip: walk::SkipTree::new(&settings.skip) })
    }

    fn process(&mut self, event: &str) -> Outcome {
        let mut event = match parse_object(event) {
            Ok(event) => event,
            Err(reason) => return Outcome::Fail(reason),
        };
        let report = walk::redact_event(&self.redactor, &self.skip, &mut event);
        if report::total(&report) == 0 {
            return Outcome::Keep;
        }
        report::record(&mut event, self.redactor.names(), report);
        Outcome::Replace(Value::Object(event).to_string())
    }
}

export_plugin!(Redact);

#[cfg(test)]
mod tests;
