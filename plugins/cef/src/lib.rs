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
use sluice_plugin::declared::declarable;
use sluice_plugin::projection::Projection;
use sluice_plugin::{Declared, Outcome, Plugin, export_plugin};

/// The plugin instance.
pub struct Cef {
    formatter: format::Formatter,
    /// The fields the mapping reads: the rest of each event is skipped, not built.
    fields: Projection,
    /// The same fields, declared to the router so that it locates them.
    reads: Vec<String>,
}

impl Plugin for Cef {
    fn configure(config: Value) -> Result<Self, String> {
        let settings = config::Settings::parse(&config)?;
        let header = &settings.header;
        let sources = [&header.signature_id, &header.name, &header.severity]
            .into_iter()
            .chain(settings.extension.entries().iter().map(|(_, source)| source));
        let paths: Vec<&str> = sources.flat_map(|source| source.paths_read()).collect();
        let fields = Projection::new(paths.iter().copied());
        let mut reads: Vec<String> = paths.iter().map(|p| declarable(p).to_owned()).filter(|p| !p.is_empty()).collect();
        reads.sort_unstable();
        reads.dedup();
        Ok(Cef { formatter: format::Formatter::new(settings), fields, reads })
    }

    fn reads(&self) -> Vec<String> {
        self.reads.clone()
    }

    /// The declared fields, located by the router, are read in place: the
    /// event is neither parsed nor built as a tree.
    fn process_declared(&mut self, event: &Declared<'_>) -> Outcome {
        Outcome::Emit(self.formatter.format(event))
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
