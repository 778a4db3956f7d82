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
use sluice_plugin::projection::Projection;
use sluice_plugin::{Outcome, Plugin, export_plugin};

/// The plugin instance.
pub struct Cef {
    formatter: format::Formatter,
    /// The fields the mapping reads: the rest of each event is skipped, not built.
    fields: Projection,
}

impl Plugin for Cef {
    fn configure(config: Value) -> Result<Self, String> {
        let settings = config::Settings::parse(&config)?;
        let header = &settings.header;
        let sources = [&header.signature_id, &header.name, &header.severity]
            .into_iter()
            .chain(settings.extension.entries().iter().map(|(_, source)| source));
        let fields = Projection::new(sources.flat_map(|source| source.paths_read()));
        Ok(Cef { formatter: format::Formatter::new(settings), fields })
    }

    fn process(&mut self, event: &str) -> Outcome {
        match self.fields.parse(event) {
            Ok(event) => Outcome::Emit(self.formatter.format(&event)),
            Err(reason) => Outcome::Fail(reason),
        }
    }
}

export_plugin!(Cef);

#[cfg(test)]
mod tests;
