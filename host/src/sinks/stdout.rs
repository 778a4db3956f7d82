//! Sink `stdout`: prints one line per event.

use super::{SinkContext, write_lines};
use serde::Deserialize;

/// `[sinks.<id>]` with `type = "stdout"`; it has no settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StdoutConfig {}

pub async fn run(_config: StdoutConfig, ctx: SinkContext) -> anyhow::Result<()> {
    write_lines(ctx, &mut tokio::io::stdout(), "standard output").await
}
