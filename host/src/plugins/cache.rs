//! The on-disk cache of compiled plugin components.
//!
//! Compiling takes 20 ms for a small Rust component and seconds for Python or
//! JavaScript; loading compiled code takes well under 2 ms. Entries are keyed
//! by the component's sha256 and the engine's compatibility hash (wasmtime
//! version and settings), so a changed plugin or a new sluice never loads
//! stale code. Entries are written to a temporary file and renamed, so a crash
//! leaves no half-written entry; an entry that fails to load is rebuilt.

use anyhow::Context;
use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use wasmtime::Engine;
use wasmtime::component::Component;

/// The sha256 of a component, as lowercase hex.
pub fn digest(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The cache file for `bytes` under `dir`.
pub fn entry_path(engine: &Engine, dir: &Path, bytes: &[u8]) -> PathBuf {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    dir.join(format!("{}-{:016x}.cwasm", digest(bytes), hasher.finish()))
}

/// The compiled component for `bytes`, and whether it came from the cache.
pub fn load(engine: &Engine, dir: Option<&Path>, bytes: &[u8]) -> anyhow::Result<(Component, bool)> {
    let Some(dir) = dir else {
        return Ok((Component::new(engine, bytes)?, false));
    };
    let path = entry_path(engine, dir, bytes);
    if path.exists() {
        // SAFETY: the file was written by `precompile_component` of an engine
        // with the same compatibility hash (it is in the name), renamed into
        // place only once complete, and sits in sluice's own data_dir.
        match unsafe { Component::deserialize_file(engine, &path) } {
            Ok(component) => return Ok((component, true)),
            Err(err) => {
                tracing::warn!(path = %path.display(), error = %err, "cached plugin code is unusable; recompiling")
            }
        }
    }
    let compiled = engine.precompile_component(bytes)?;
    if let Err(err) = store(dir, &path, &compiled) {
        tracing::warn!(path = %path.display(), error = %err, "could not cache compiled plugin code");
    }
    // SAFETY: `compiled` was just produced by this engine.
    let component = unsafe { Component::deserialize(engine, &compiled)? };
    Ok((component, false))
}

fn store(dir: &Path, path: &Path, compiled: &[u8]) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, compiled).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming {} into place", tmp.display()))
}
