//! Source `stdin` (placeholder).
use super::SourceContext;
use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StdinConfig {}

pub async fn run(_config: StdinConfig, _ctx: SourceContext) -> anyhow::Result<()> {
    anyhow::bail!("not yet")
}
