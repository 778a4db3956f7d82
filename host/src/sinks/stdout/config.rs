//! `[sinks.<id>]` with `type = "stdout"`; it has no settings.

use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StdoutConfig {}

impl StdoutConfig {
    /// Nothing to check: it has no settings.
    pub fn validate(&self, _at: &str, _errors: &mut Vec<crate::validation::ConfigError>) {}
}
