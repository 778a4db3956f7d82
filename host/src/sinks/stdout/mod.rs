//! Sink `stdout`: prints one line per event.

pub mod config;

use super::{SinkContext, write_lines};
use config::StdoutConfig;

pub async fn run(_config: StdoutConfig, ctx: SinkContext) -> anyhow::Result<()> {
    write_lines(ctx, &mut tokio::io::stdout(), "standard output").await
}
