//! `[sinks.<id>]` with `type = "file"`: its keys and their checks.

use crate::validation::{ConfigError, check_writable_file};
use serde::Deserialize;
use std::path::PathBuf;

/// `[sinks.<id>]` with `type = "file"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSinkConfig {
    /// The file to append to; created with its directories when missing.
    pub path: PathBuf,
}

impl FileSinkConfig {
    pub fn validate(&self, at: &str, errors: &mut Vec<ConfigError>) {
        check_writable_file(&self.path, &format!("{at}.path"), errors);
    }
}
