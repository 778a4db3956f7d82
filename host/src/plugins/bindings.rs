//! `sluice plugin bindings`: the contract as source code for a plugin's own
//! language, written from the contract inside this router so that it always
//! matches the router the plugin will run in.

use super::contract;
use anyhow::Context;
use std::path::{Path, PathBuf};

/// What to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    /// `plugin.h`, `plugin.c` and `plugin_component_type.o`, from wit-bindgen's
    /// C generator: for C and Zig (and any language with a C FFI).
    C,
    /// Just the contract, `plugin.wit`: for toolchains that generate their own
    /// bindings (componentize-py, componentize-js, wit-bindgen, cargo component).
    Wit,
}

/// Write the bindings for `lang` into `dir` (created if missing) and return
/// the paths written.
pub fn write(lang: Lang, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let files: Vec<(String, Vec<u8>)> = match lang {
        Lang::Wit => vec![(contract::WIT_FILE.to_owned(), contract::WIT.as_bytes().to_vec())],
        Lang::C => c()?,
    };
    files
        .into_iter()
        .map(|(name, contents)| {
            let path = dir.join(name);
            std::fs::write(&path, contents).with_context(|| format!("writing {}", path.display()))?;
            Ok(path)
        })
        .collect()
}

/// wit-bindgen's C bindings of the plugin world.
fn c() -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let (mut resolve, world) = contract::resolve()?;
    let mut files = wit_bindgen_core::Files::default();
    wit_bindgen_c::Opts::default()
        .build()
        .generate(&mut resolve, world, &mut files)
        .context("generating the C bindings")?;
    Ok(files.iter().map(|(name, contents)| (name.to_owned(), contents.to_vec())).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_bindings_declare_the_exports_a_plugin_implements() {
        let dir = tempfile::tempdir().unwrap();
        let written = write(Lang::C, dir.path()).unwrap();
        let names: Vec<String> =
            written.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
        assert!(names.contains(&"plugin.h".to_owned()) && names.contains(&"plugin.c".to_owned()), "{names:?}");
        let header = std::fs::read_to_string(dir.path().join("plugin.h")).unwrap();
        for export in ["exports_plugin_metadata(", "exports_plugin_configure(", "exports_plugin_process("] {
            assert!(header.contains(export), "{export}: {header}");
        }
        assert!(header.contains("plugin_batch_t") && header.contains("PLUGIN_OUTCOME_EDIT"), "{header}");
    }

    #[test]
    fn wit_is_the_contract_itself() {
        let dir = tempfile::tempdir().unwrap();
        write(Lang::Wit, dir.path()).unwrap();
        assert_eq!(std::fs::read_to_string(dir.path().join("plugin.wit")).unwrap(), contract::WIT);
    }
}
