//! Finding plugins by the name a config gives them.
//!
//! `plugin = "…"` in a transform is, in this order: a built-in plugin embedded
//! in the binary, the stem of a `*.wasm` file in `plugins.dir`, or a path to
//! a component file. Each distinct component is compiled once and shared by
//! every transform that uses it.

use super::runtime::{Plugin, Runtime};
use super::{BUILTIN, cache};
use anyhow::{Context, bail};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Resolves plugin names and keeps each loaded component.
#[derive(Debug)]
pub struct Registry {
    runtime: Arc<Runtime>,
    dir: Option<PathBuf>,
    loaded: Mutex<HashMap<String, Plugin>>,
}

impl Registry {
    pub fn new(runtime: Arc<Runtime>, dir: Option<PathBuf>) -> Self {
        Registry { runtime, dir, loaded: Mutex::new(HashMap::new()) }
    }

    pub fn runtime(&self) -> &Arc<Runtime> {
        &self.runtime
    }

    /// The plugin a config names, loaded and ready to instantiate.
    pub fn resolve(&self, reference: &str) -> anyhow::Result<Plugin> {
        let (name, bytes) = self.read(reference)?;
        self.load(&name, &bytes)
    }

    /// A component from its bytes; the same bytes are compiled only once.
    pub fn load(&self, name: &str, bytes: &[u8]) -> anyhow::Result<Plugin> {
        let key = cache::digest(bytes);
        if let Some(plugin) = self.loaded.lock().expect("registry lock").get(&key) {
            return Ok(plugin.clone());
        }
        let plugin = self.runtime.load(name, bytes)?;
        self.loaded.lock().expect("registry lock").insert(key, plugin.clone());
        Ok(plugin)
    }

    /// The file stem under `plugins.dir` that a reference resolves to, when it
    /// resolves there (and not to a built-in or a path): such plugins are
    /// hot-reloaded.
    pub fn dir_stem(&self, reference: &str) -> Option<String> {
        let dir = self.dir.as_ref()?;
        let builtin = BUILTIN.iter().any(|(name, _)| *name == reference);
        (!builtin && is_plain_name(reference) && dir.join(format!("{reference}.wasm")).is_file())
            .then(|| reference.to_owned())
    }

    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// The component bytes behind a reference, with a display name.
    fn read(&self, reference: &str) -> anyhow::Result<(String, Vec<u8>)> {
        if let Some((name, bytes)) = BUILTIN.iter().find(|(name, _)| *name == reference) {
            return Ok(((*name).to_owned(), bytes.to_vec()));
        }
        if let Some(dir) = &self.dir {
            let candidate = dir.join(format!("{reference}.wasm"));
            if is_plain_name(reference) && candidate.is_file() {
                return read_file(&candidate).map(|bytes| (reference.to_owned(), bytes));
            }
        }
        let path = Path::new(reference);
        if path.is_file() {
            let stem = path.file_stem().map_or_else(|| reference.to_owned(), |s| s.to_string_lossy().into_owned());
            return read_file(path).map(|bytes| (stem, bytes));
        }
        let builtins: Vec<&str> = BUILTIN.iter().map(|(name, _)| *name).collect();
        let in_dir = match &self.dir {
            Some(dir) => format!("no {reference}.wasm in plugins.dir ({})", dir.display()),
            None => "no plugins.dir is set".to_owned(),
        };
        bail!("no plugin `{reference}`: not a built-in ({}), {in_dir}, and no such file", builtins.join(", "))
    }
}

fn is_plain_name(reference: &str) -> bool {
    !reference.is_empty() && !reference.contains(['/', '\\']) && !reference.ends_with(".wasm")
}

fn read_file(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading plugin file {}", path.display()))
}
