//! Sink `file`: appends one line per event to a file.

use super::{SinkContext, write_lines};
use crate::config::{ConfigError, check_writable_file};
use anyhow::Context;
use serde::Deserialize;
use std::path::{Path, PathBuf};

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

/// Open `path` for appending, creating it and its directories.
pub async fn open_append(path: &Path) -> anyhow::Result<tokio::fs::File> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        tokio::fs::create_dir_all(parent).await.with_context(|| format!("creating directory {}", parent.display()))?;
    }
    tokio::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .await
        .with_context(|| format!("opening {} for appending", path.display()))
}

pub async fn run(config: FileSinkConfig, ctx: SinkContext) -> anyhow::Result<()> {
    let mut file = open_append(&config.path).await?;
    write_lines(ctx, &mut file, &config.path.display().to_string()).await
}
