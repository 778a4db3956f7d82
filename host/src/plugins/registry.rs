//! Finding plugins by the name a config gives them.
//!
//! `plugin = "…"` in a transform is, in this order: a built-in plugin embedded
//! in the binary, the stem of a `*.wasm` file in `plugins.dir`, or a path to
//! a component file. Each distinct component is compiled once and shared by
//! every transform that uses it.

use super::runtime::{Plugin, Runtime};
use super::{BUILTIN, cache, file};
use anyhow::{Context, bail};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Resolves plugin names and keeps each loaded component.
#[derive(Debug)]
pub struct Registry {
    runtime: Arc<Runtime>,
    dir: Option<PathBuf>,
    /// `plugins.max_bytes`: no plugin file larger than this is read.
    max_bytes: u64,
    loaded: Mutex<HashMap<String, Plugin>>,
}

impl Registry {
    pub fn new(runtime: Arc<Runtime>, dir: Option<PathBuf>, max_bytes: u64) -> Self {
        Registry { runtime, dir, max_bytes, loaded: Mutex::new(HashMap::new()) }
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

    /// A plugin file's bytes, under the one check that startup and hot
    /// reload share: a regular file within `plugins.max_bytes`.
    pub fn read_file(&self, path: &Path) -> Result<Vec<u8>, file::ReadError> {
        file::read(path, self.max_bytes)
    }

    /// The component bytes behind a reference, with a display name.
    fn read(&self, reference: &str) -> anyhow::Result<(String, Vec<u8>)> {
        if let Some((name, bytes)) = BUILTIN.iter().find(|(name, _)| *name == reference) {
            return Ok(((*name).to_owned(), bytes.to_vec()));
        }
        if let Some(dir) = &self.dir {
            let candidate = dir.join(format!("{reference}.wasm"));
            // Whatever is there is read (and refused if it is no regular
            // file), rather than passed over for a "no plugin" error.
            if is_plain_name(reference) && candidate.exists() {
                return self.read_named(&candidate).map(|bytes| (reference.to_owned(), bytes));
            }
        }
        let path = Path::new(reference);
        if path.exists() {
            let stem = path.file_stem().map_or_else(|| reference.to_owned(), |s| s.to_string_lossy().into_owned());
            return self.read_named(path).map(|bytes| (stem, bytes));
        }
        let builtins: Vec<&str> = BUILTIN.iter().map(|(name, _)| *name).collect();
        let in_dir = match &self.dir {
            Some(dir) => format!("no {reference}.wasm in plugins.dir ({})", dir.display()),
            None => "no plugins.dir is set".to_owned(),
        };
        bail!("no plugin `{reference}`: not a built-in ({}), {in_dir}, and no such file", builtins.join(", "))
    }

    fn read_named(&self, path: &Path) -> anyhow::Result<Vec<u8>> {
        self.read_file(path).with_context(|| format!("reading plugin file {}", path.display()))
    }
}

fn is_plain_name(reference: &str) -> bool {
    !reference.is_empty() && !reference.contains(['/', '\\']) && !reference.ends_with(".wasm")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test_plugin(name: &str) -> Vec<u8> {
        std::fs::read(format!("{}/{name}.wasm", env!("SLUICE_TEST_PLUGINS"))).expect("test plugin built by build.rs")
    }

    fn registry(dir: &Path, max_bytes: u64) -> Registry {
        Registry::new(Arc::new(Runtime::new(None).unwrap()), Some(dir.to_owned()), max_bytes)
    }

    /// The error of resolving `reference`, which must fail.
    fn refusal(registry: &Registry, reference: &str) -> String {
        format!("{:#}", registry.resolve(reference).expect_err("refused"))
    }

    /// A FIFO, a symlink to /dev/zero or a file over the cap in plugins.dir
    /// (or named by path) is refused at startup, naming the file and why.
    #[test]
    fn only_regular_files_within_the_cap_are_loaded_at_startup() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo.wasm");
        let fifo_c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(fifo_c.as_ptr(), 0o600) }, 0);
        std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero.wasm")).unwrap();
        let one = test_plugin("version-one");
        std::fs::write(dir.path().join("big.wasm"), &one).unwrap();
        let registry = registry(dir.path(), one.len() as u64 - 1);

        let error = refusal(&registry, "fifo");
        assert!(error.contains(&format!("reading plugin file {}", fifo.display())), "{error}");
        assert!(error.contains("not a regular file (a FIFO)"), "{error}");
        let error = refusal(&registry, fifo.to_str().unwrap());
        assert!(error.contains("not a regular file (a FIFO)"), "by path: {error}");
        let error = refusal(&registry, "zero");
        assert!(error.contains(&dir.path().join("zero.wasm").display().to_string()), "{error}");
        assert!(error.contains("not a regular file (a character device)"), "{error}");
        let error = refusal(&registry, "big");
        assert!(error.contains(&dir.path().join("big.wasm").display().to_string()), "{error}");
        assert!(
            error.contains(&format!("{} bytes, more than plugins.max_bytes ({})", one.len(), one.len() - 1)),
            "{error}"
        );

        // At the cap, the same file loads.
        assert!(self::registry(dir.path(), one.len() as u64).resolve("big").is_ok());
    }
}
