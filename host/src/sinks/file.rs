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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ack::BatchStatus;
    use crate::sinks::testing::{self, WAIT, event, finished};
    use serde_json::json;

    #[tokio::test]
    async fn a_line_with_lf_or_cr_is_written_as_one_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.log");
        let config = FileSinkConfig { path: path.clone() };
        let sink = testing::start(WAIT, move |ctx| run(config, ctx));
        let mut forged = event(json!({"message": "m"}));
        forged.set_line("e|first\nFORGED\r\nthird\r\n".into());
        let status = sink.send(vec![forged, event(json!({"n": 1}))]).await;
        assert_eq!(finished(status).await, BatchStatus::Delivered);
        sink.finish().await;
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "e|first#012FORGED#015#012third\n{\"n\":1}\n");
    }
}
