//! The plugin contract (`wit/plugin.wit`) as this build of sluice knows it,
//! for the tools that hand it to plugin authors: `plugin wrap` embeds it in a
//! core module, `plugin bindings` generates code from it, `plugin new` puts it
//! beside a new project. Shipping it inside the binary means a plugin is
//! always built against the contract of the router it will run in.

use anyhow::Context;
use wit_parser::{Resolve, WorldId};

/// The contract's WIT source.
pub const WIT: &str = include_str!("../../../wit/plugin.wit");

/// The file name the WIT is written under.
pub const WIT_FILE: &str = "plugin.wit";

/// The world every plugin implements.
pub const WORLD: &str = "plugin";

/// The contract, parsed, and its plugin world.
pub fn resolve() -> anyhow::Result<(Resolve, WorldId)> {
    let mut resolve = Resolve::default();
    let package = resolve.push_str(WIT_FILE, WIT).context("parsing the embedded plugin contract")?;
    let world = resolve.select_world(&[package], Some(WORLD)).context("finding the plugin world")?;
    Ok((resolve, world))
}

/// The contract's package name with its version (`sluice:plugin@0.3.0`).
pub fn package() -> anyhow::Result<String> {
    let (resolve, world) = resolve()?;
    let package = resolve.worlds[world].package.context("the plugin world belongs to a package")?;
    Ok(resolve.packages[package].name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_contract_parses_and_names_its_version() {
        let package = package().unwrap();
        assert!(package.starts_with("sluice:plugin@"), "{package}");
        let (resolve, world) = resolve().unwrap();
        let exports: Vec<String> = resolve.worlds[world].exports.keys().map(|k| resolve.name_world_key(k)).collect();
        assert_eq!(exports, ["metadata", "configure", "process"]);
    }
}
