//! The settings of a `demo` source.

use super::generator::SCRIPT;
use serde::Deserialize;

/// `[sources.<id>]` with `type = "demo"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DemoConfig {
    /// How many events to generate; after that the source ends. Twelve is
    /// one whole agent session.
    pub count: u64,
    /// Milliseconds to wait between events; 0 sends them as fast as the
    /// pipeline takes them, in full batches.
    pub interval_ms: u64,
    /// Seed of the generator: the same seed gives the same events.
    pub seed: u64,
}

impl Default for DemoConfig {
    fn default() -> Self {
        DemoConfig { count: SCRIPT.len() as u64, interval_ms: 0, seed: 42 }
    }
}
