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
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use wasmtime::Engine;
use wasmtime::component::Component;

/// The `sluice` executable that compiles plugins into the cache, when the
/// router runs long enough for it to matter (see [`compile_in_child`]).
static COMPILER: OnceLock<PathBuf> = OnceLock::new();

/// The hidden subcommand of `sluice` that compiles one component from its
/// standard input into a cache file.
pub const COMPILE_COMMAND: &str = "__compile-plugin";

/// Compile plugins that are not cached yet in a child process running
/// `exe` (this `sluice` binary), then load them from the cache.
///
/// Compiling a large component takes tens of MiB of compiler memory that a
/// process never fully gives back; the router holds only the compiled code.
/// Set once, by the `run` command; anything else compiles in-process.
pub fn compile_in_child(exe: PathBuf) {
    let _ = COMPILER.set(exe);
}

/// The child's side: compile `bytes` with `engine` into `path`.
pub fn compile_to(engine: &Engine, bytes: &[u8], path: &Path) -> anyhow::Result<()> {
    let compiled = engine.precompile_component(bytes)?;
    let dir = path.parent().context("a cache file has a directory")?;
    store(dir, path, &compiled)
}

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
    if let Some(exe) = COMPILER.get() {
        match compile_in(exe, bytes, &path) {
            // SAFETY: as above; the child is this same binary, and the file
            // name carries its engine's compatibility hash.
            Ok(()) => match unsafe { Component::deserialize_file(engine, &path) } {
                Ok(component) => {
                    tracing::info!(path = %path.display(), "plugin compiled by a child process into the cache");
                    return Ok((component, false));
                }
                Err(err) => tracing::warn!(error = %err, "plugin compiled apart is unusable; compiling in-process"),
            },
            Err(err) => {
                tracing::warn!(error = %format!("{err:#}"), "could not compile a plugin apart; compiling in-process")
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

/// Run `exe __compile-plugin PATH` with `bytes` on its standard input.
fn compile_in(exe: &Path, bytes: &[u8], path: &Path) -> anyhow::Result<()> {
    let mut child = Command::new(exe)
        .arg(COMPILE_COMMAND)
        .arg(path)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", exe.display()))?;
    // Wait for the child whether or not it took the whole component, so it
    // does not linger as a zombie; its exit status says more than the pipe.
    let sent = child.stdin.take().context("the child's stdin")?.write_all(bytes);
    let status = child.wait().context("waiting for the compiler")?;
    anyhow::ensure!(status.success(), "the compiler process {status}");
    sent.context("sending the component")
}

fn store(dir: &Path, path: &Path, compiled: &[u8]) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, compiled).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming {} into place", tmp.display()))
}
