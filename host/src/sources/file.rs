//! Source `file` (placeholder).
use super::SourceContext;
use crate::config::ConfigError;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub include: Vec<String>,
}

impl FileConfig {
    pub fn validate(&self, _at: &str, _errors: &mut Vec<ConfigError>) {}
}

pub async fn run(_config: FileConfig, _ctx: SourceContext) -> anyhow::Result<()> {
    anyhow::bail!("not yet")
}
