//! Plugin `leef`: format the canonical agent event as one IBM QRadar LEEF line
//! (`LEEF:1.0|Vendor|Product|Version|EventID|key=value<TAB>key=value…`, or
//! LEEF 2.0 with a chosen delimiter named in the header) that the sinks send
//! instead of the JSON; the event itself passes on unchanged.
//!
//! The field mapping is a documented table (module `mapping`) that the config
//! overrides key by key (module `config`), read through the SDK's
//! `sluice_plugin::fields` as the CEF formatter reads its own. LEEF has no
//! escaping, so characters that would break a field are replaced and counted
//! in the plugin's log (module `safe`).

mod config;
mod format;
mod mapping;
mod safe;

use serde_json::Value;
use sluice_plugin::declared::declarable;
use sluice_plugin::fields::Fields;
use sluice_plugin::projection::Projection;
use sluice_plugin::{Declared, Outcome, Plugin, export_plugin, log};

/// The plugin instance.
pub struct Leef {
    formatter: format::Formatter,
    /// The fields the mapping reads: the rest of each event is skipped, not built.
    fields: Projection,
    /// The same fields, declared to the router so that it locates them.
    reads: Vec<String>,
    tally: safe::Tally,
}

impl Plugin for Leef {
    fn configure(config: Value) -> Result<Self, String> {
        let settings = config::Settings::parse(&config)?;
        let sources =
            std::iter::once(&settings.event_id).chain(settings.attributes.entries().iter().map(|(_, source)| source));
        let paths: Vec<&str> = sources.flat_map(|source| source.paths_read()).collect();
        let fields = Projection::new(paths.iter().copied());
        let mut reads: Vec<String> = paths.iter().map(|p| declarable(p).to_owned()).filter(|p| !p.is_empty()).collect();
        reads.sort_unstable();
        reads.dedup();
        let (formatter, replaced) = format::Formatter::new(settings);
        if replaced > 0 {
            log::warn(
                "the configured header fields hold characters LEEF cannot carry; each is replaced by a space",
                &[("characters", &replaced.to_string())],
            );
        }
        Ok(Leef { formatter, fields, reads, tally: safe::Tally::default() })
    }

    fn reads(&self) -> Vec<String> {
        self.reads.clone()
    }

    /// The declared fields, located by the router, are read in place: the
    /// event is neither parsed nor built as a tree.
    fn process_declared(&mut self, event: &Declared<'_>) -> Outcome {
        self.emit(event)
    }

    fn process(&mut self, event: &str) -> Outcome {
        match self.fields.parse(event) {
            Ok(event) => self.emit(&event),
            Err(reason) => Outcome::Fail(reason),
        }
    }
}

impl Leef {
    fn emit<F: Fields + ?Sized>(&mut self, event: &F) -> Outcome {
        let (line, replaced) = self.formatter.format(event);
        if self.tally.add(&replaced) {
            log::warn(
                "replaced characters that LEEF cannot carry (delimiter, `|` in the header, TAB, CR, LF) by spaces",
                &[
                    ("events", &self.tally.events.to_string()),
                    ("characters", &self.tally.characters.to_string()),
                    ("latest_fields", &replaced.fields.join(",")),
                ],
            );
        }
        Outcome::Emit(line)
    }
}

export_plugin!(Leef);

#[cfg(test)]
mod tests;
