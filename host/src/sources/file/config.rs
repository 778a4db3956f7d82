//! The settings of a `file` source.

use crate::sources::decoding::Decoding;
use crate::validation::ConfigError;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// `[sources.<id>]` with `type = "file"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Glob patterns of the files to read, such as `/var/log/agents/*.jsonl`
    /// (`**` matches any depth). Directories that do not exist yet are
    /// watched for: their files are read when they appear.
    pub include: Vec<String>,
    /// Glob patterns of files to leave out although `include` matches them,
    /// matched against the path as `include` produces it (e.g. `*.gz`).
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Where to start in a file found when the source starts that has no
    /// checkpoint: `"beginning"` (the default) or `"end"`. Files that appear
    /// later are always read from their beginning, so no line is missed.
    #[serde(default)]
    pub read_from: ReadFrom,
    /// The longest line accepted, in bytes (default 1 MiB). A longer line goes
    /// to the dead-letter output with its first `max_line_bytes` bytes.
    #[serde(default = "crate::sources::lines::default_max_line_bytes")]
    pub max_line_bytes: usize,
    /// How often to look for new files, in milliseconds (default 1000).
    #[serde(default = "default_glob_interval_ms")]
    pub glob_interval_ms: u64,
    /// How often to check open files for new data, in milliseconds (default 50).
    #[serde(default = "default_poll_interval_ms")]
    pub poll_interval_ms: u64,
    /// `"text"` (the default) or `"json"`: a line that is a JSON object
    /// becomes the event's `message` as an object, parsed once here instead
    /// of by every plugin (see `sources::decoding`).
    #[serde(default)]
    pub decoding: Decoding,
}

/// Where to start reading a file that has no checkpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadFrom {
    #[default]
    Beginning,
    End,
}

fn default_glob_interval_ms() -> u64 {
    1000
}

fn default_poll_interval_ms() -> u64 {
    50
}

/// `*` and `?` stop at `/` in `exclude` as they do in `include`.
pub(super) const MATCH: glob::MatchOptions =
    glob::MatchOptions { case_sensitive: true, require_literal_separator: true, require_literal_leading_dot: false };

impl FileConfig {
    /// Report every problem with these settings.
    pub fn validate(&self, at: &str, errors: &mut Vec<ConfigError>) {
        if self.include.is_empty() {
            errors.push(ConfigError::new(format!("{at}.include"), "no patterns: list the files to read, as globs"));
        }
        for pattern in &self.include {
            if let Err(err) = glob::Pattern::new(pattern) {
                errors.push(ConfigError::new(format!("{at}.include"), format!("invalid glob `{pattern}`: {err}")));
                continue;
            }
            // A missing directory is fine (its files may come later); one
            // that is there but unreadable would silently yield nothing.
            let base = base_dir(pattern);
            if base.exists()
                && let Err(err) = std::fs::read_dir(&base)
            {
                errors.push(ConfigError::new(
                    format!("{at}.include"),
                    format!("cannot read directory {} (from `{pattern}`): {err}", base.display()),
                ));
            }
        }
        for pattern in &self.exclude {
            if let Err(err) = glob::Pattern::new(pattern) {
                errors.push(ConfigError::new(format!("{at}.exclude"), format!("invalid glob `{pattern}`: {err}")));
            }
        }
        for (key, value) in [
            ("max_line_bytes", self.max_line_bytes as u64),
            ("glob_interval_ms", self.glob_interval_ms),
            ("poll_interval_ms", self.poll_interval_ms),
        ] {
            if value == 0 {
                errors.push(ConfigError::new(format!("{at}.{key}"), "must be at least 1"));
            }
        }
    }
}

/// The directory a pattern starts from: its leading components without glob
/// characters, less the file name.
pub(super) fn base_dir(pattern: &str) -> PathBuf {
    let components: Vec<_> = Path::new(pattern).components().collect();
    let fixed = components[..components.len().saturating_sub(1)]
        .iter()
        .take_while(|c| !c.as_os_str().to_string_lossy().contains(['*', '?', '[']));
    let base: PathBuf = fixed.collect();
    if base.as_os_str().is_empty() { PathBuf::from(".") } else { base }
}
