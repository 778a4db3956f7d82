//! The settings of a `stdin` source.

use crate::validation::ConfigError;
use serde::Deserialize;

/// `[sources.<id>]` with `type = "stdin"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StdinConfig {
    /// The longest line accepted, in bytes (default 1 MiB). A longer line goes
    /// to the dead-letter output with its first `max_line_bytes` bytes.
    #[serde(default = "crate::sources::lines::default_max_line_bytes")]
    pub max_line_bytes: usize,
}

impl Default for StdinConfig {
    fn default() -> Self {
        StdinConfig { max_line_bytes: crate::sources::lines::default_max_line_bytes() }
    }
}

impl StdinConfig {
    /// Report every problem with these settings.
    pub fn validate(&self, at: &str, errors: &mut Vec<ConfigError>) {
        if self.max_line_bytes == 0 {
            errors.push(ConfigError::new(format!("{at}.max_line_bytes"), "must be at least 1"));
        }
    }
}
