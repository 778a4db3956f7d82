//! Source `demo` (placeholder).
use super::SourceContext;
use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoConfig {}

pub async fn run(_config: DemoConfig, _ctx: SourceContext) -> anyhow::Result<()> {
    anyhow::bail!("not yet")
}
