//! The on-disk cache of compiled plugin components.
//!
//! Compiling takes 20 ms for a small Rust component and seconds for Python or
//! JavaScript; loading compiled code takes a few ms. Entries are keyed
//! by the component's sha256 and the engine's compatibility hash (wasmtime
//! version and settings), so a changed plugin or a new sluice never loads
//! stale code. Entries are written to a temporary file and renamed, so a crash
//! leaves no half-written entry; an entry that fails to load is rebuilt.
//!
//! An entry is native code that runs outside the sandbox, so it is checked
//! before it is deserialised: the directory and the entry are created owner-only
//! (0700, 0600) whatever the umask, an entry that others could have written
//! (not a regular file owned by sluice's user, or group- or world-writable, or
//! in such a directory) is refused, and each entry starts with a record of the
//! sha256 of the component it was compiled from and of its code, checked
//! against the bytes read, which are the bytes then deserialised. A refused
//! entry is recompiled and overwritten, with a warning naming it and why.

use anyhow::Context;
use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
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

/// What an entry starts with: this tag, the sha256 of the component it was
/// compiled from, and the sha256 of the compiled code that follows.
const MAGIC: &[u8; 16] = b"sluice-cwasm-v1\n";
const RECORD_LEN: usize = MAGIC.len() + 32 + 32;

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
    store(dir, path, bytes, &compiled)
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
    match cached(engine, dir, &path, bytes) {
        Ok(Some(component)) => return Ok((component, true)),
        Ok(None) => {}
        Err(why) => tracing::warn!(path = %path.display(), reason = %why, "cached plugin code refused; recompiling"),
    }
    if let Some(exe) = COMPILER.get() {
        match compile_in(exe, bytes, &path) {
            Ok(()) => match cached(engine, dir, &path, bytes) {
                Ok(Some(component)) => {
                    tracing::info!(path = %path.display(), "plugin compiled by a child process into the cache");
                    return Ok((component, false));
                }
                Ok(None) => {
                    tracing::warn!(path = %path.display(), "plugin compiled apart left no cache file; compiling in-process")
                }
                Err(why) => tracing::warn!(path = %path.display(), reason = %why,
                    "plugin compiled apart is refused; compiling in-process"),
            },
            Err(err) => {
                tracing::warn!(error = %format!("{err:#}"), "could not compile a plugin apart; compiling in-process")
            }
        }
    }
    let compiled = engine.precompile_component(bytes)?;
    if let Err(err) = store(dir, &path, bytes, &compiled) {
        tracing::warn!(path = %path.display(), error = %format!("{err:#}"), "could not cache compiled plugin code");
    }
    // SAFETY: `compiled` was just produced by this engine.
    let component = unsafe { Component::deserialize(engine, &compiled)? };
    Ok((component, false))
}

/// The component in the cache entry `path` for the component `bytes`: `None`
/// when there is no entry, an error saying why when the entry is refused.
fn cached(engine: &Engine, dir: &Path, path: &Path, bytes: &[u8]) -> Result<Option<Component>, String> {
    let Some(entry) = read_entry(dir, path, &Sha256::digest(bytes).into())? else { return Ok(None) };
    // SAFETY: the code was written by `precompile_component` of an engine
    // with the same compatibility hash (it is in the name), in an entry only
    // sluice's user can write, and these very bytes match the sha256 recorded
    // with them for this component.
    match unsafe { Component::deserialize(engine, &entry[RECORD_LEN..]) } {
        Ok(component) => Ok(Some(component)),
        Err(err) => Err(format!("the code does not load: {err}")),
    }
}

/// The verified entry at `path` (record and code), or why it is refused.
fn read_entry(dir: &Path, path: &Path, component: &[u8; 32]) -> Result<Option<Vec<u8>>, String> {
    let file = match std::fs::OpenOptions::new()
        .read(true)
        // Not through a symlink, and not waiting on a FIFO: what is checked
        // below is the file that is read.
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
    {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) if err.raw_os_error() == Some(libc::ELOOP) => return Err("it is a symbolic link".to_owned()),
        Err(err) => return Err(format!("cannot open it: {err}")),
    };
    let meta = file.metadata().map_err(|err| format!("cannot stat it: {err}"))?;
    if !meta.file_type().is_file() {
        return Err("it is not a regular file".to_owned());
    }
    private("the entry", &meta)?;
    private("its directory", &std::fs::metadata(dir).map_err(|err| format!("cannot stat its directory: {err}"))?)?;
    let mut entry = Vec::with_capacity(meta.len() as usize);
    (&file).read_to_end(&mut entry).map_err(|err| format!("cannot read it: {err}"))?;
    if entry.len() < RECORD_LEN || &entry[..MAGIC.len()] != MAGIC {
        return Err("it has no integrity record".to_owned());
    }
    let (recorded_component, recorded_code) = entry[MAGIC.len()..RECORD_LEN].split_at(32);
    if recorded_component != component {
        return Err("it was compiled from another component".to_owned());
    }
    if recorded_code != Sha256::digest(&entry[RECORD_LEN..]).as_slice() {
        return Err("its code does not match its recorded sha256 (corrupted)".to_owned());
    }
    Ok(Some(entry))
}

/// Refuse a file or directory that someone other than sluice's user could
/// have written to.
fn private(what: &str, meta: &std::fs::Metadata) -> Result<(), String> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let uid = unsafe { libc::geteuid() };
    if meta.uid() != uid {
        return Err(format!("{what} is owned by uid {}, not by sluice's user (uid {uid})", meta.uid()));
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o022 != 0 {
        return Err(format!("{what} is writable by others than its owner (mode {mode:o})"));
    }
    Ok(())
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

/// Write the entry for `component`, compiled to `compiled`, as `path`: its
/// record and code together, owner-only, renamed into place once complete.
fn store(dir: &Path, path: &Path, component: &[u8], compiled: &[u8]) -> anyhow::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("creating {}", dir.display()))?;
    // Set, not left to the umask; and a directory left open by an older
    // sluice is closed, as anyone who can write here can swap native code.
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .with_context(|| format!("making {} owner-only", dir.display()))?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    // A leftover of a crashed process with the same pid; `create_new` below
    // then also refuses to follow a symlink planted in its place.
    let _ = std::fs::remove_file(&tmp);
    let written = (|| {
        let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&tmp)?;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        file.write_all(MAGIC)?;
        file.write_all(&Sha256::digest(component))?;
        file.write_all(&Sha256::digest(compiled))?;
        file.write_all(compiled)
    })();
    if let Err(err) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(err).with_context(|| format!("writing {}", tmp.display()));
    }
    std::fs::rename(&tmp, path).with_context(|| format!("renaming {} into place", tmp.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::Outcome;
    use crate::plugins::runtime::{Limits, Runtime, compile_into};
    use std::os::unix::fs::PermissionsExt;

    fn test_plugin(name: &str) -> Vec<u8> {
        std::fs::read(format!("{}/{name}.wasm", env!("SLUICE_TEST_PLUGINS"))).expect("test plugin built by build.rs")
    }

    fn mode(path: &Path) -> u32 {
        std::fs::symlink_metadata(path).unwrap().permissions().mode() & 0o7777
    }

    /// The cache entry of a component, found by the digest its name starts with.
    fn entry_of(dir: &Path, bytes: &[u8]) -> PathBuf {
        let prefix = digest(bytes);
        let mut entries = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(&prefix))
            .filter(|p| p.extension().is_some_and(|e| e == "cwasm"));
        let entry = entries.next().expect("an entry");
        assert!(entries.next().is_none());
        entry
    }

    /// Load `bytes` with a fresh runtime on the cache `dir`: whether it came
    /// from the cache, and the `versions` tag it puts on an event.
    fn load_and_run(dir: &Path, bytes: &[u8]) -> (bool, serde_json::Value) {
        let runtime = Runtime::new(Some(dir.to_owned())).unwrap();
        let plugin = runtime.load("stamp", bytes).unwrap();
        let cached = plugin.was_cached();
        let mut instance = plugin.instantiate("t", "{}", Limits::default()).unwrap();
        let outcomes = instance.process(&[r#"{"n":1}"#.to_owned()]).unwrap();
        let Outcome::Replace(json) = &outcomes[0] else { panic!("{outcomes:?}") };
        (cached, serde_json::from_str::<serde_json::Value>(json).unwrap()["versions"].clone())
    }

    /// Directories the cache creates are 0700 and entries 0600, set
    /// explicitly rather than left to the umask; a cache directory left lax
    /// (by an older sluice under umask 000) is tightened when written to.
    #[test]
    fn the_cache_is_owner_only() {
        let data = tempfile::tempdir().unwrap();
        let dir = data.path().join("cache/plugins");
        let one = test_plugin("version-one");
        assert!(!load_and_run(&dir, &one).0, "compiled");
        assert_eq!(mode(&data.path().join("cache")), 0o700, "a directory created for the cache");
        assert_eq!(mode(&dir), 0o700, "the cache directory");
        assert_eq!(mode(&entry_of(&dir, &one)), 0o600, "an entry");

        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let two = test_plugin("version-two");
        load_and_run(&dir, &two);
        assert_eq!(mode(&dir), 0o700, "a lax cache directory is tightened");
        assert_eq!(mode(&entry_of(&dir, &two)), 0o600);
    }

    /// An entry copied under another plugin's key is recompiled, not run as
    /// that plugin.
    #[test]
    fn an_entry_swapped_under_another_key_is_not_loaded() {
        let dir = tempfile::tempdir().unwrap();
        let (one, two) = (test_plugin("version-one"), test_plugin("version-two"));
        assert_eq!(load_and_run(dir.path(), &one), (false, serde_json::json!([1])));
        assert_eq!(load_and_run(dir.path(), &two), (false, serde_json::json!([2])));
        assert_eq!(load_and_run(dir.path(), &two), (true, serde_json::json!([2])), "cached");

        std::fs::copy(entry_of(dir.path(), &one), entry_of(dir.path(), &two)).unwrap();
        assert_eq!(load_and_run(dir.path(), &two), (false, serde_json::json!([2])), "recompiled, and runs as two");
        assert_eq!(load_and_run(dir.path(), &two), (true, serde_json::json!([2])), "the entry was rewritten");
    }

    /// A corrupted byte, or an entry with no integrity record (as an older
    /// sluice wrote them), is recompiled.
    #[test]
    fn a_corrupted_or_unrecorded_entry_is_recompiled() {
        let dir = tempfile::tempdir().unwrap();
        let one = test_plugin("version-one");
        load_and_run(dir.path(), &one);
        let entry = entry_of(dir.path(), &one);
        let mut bytes = std::fs::read(&entry).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0x01;
        std::fs::write(&entry, &bytes).unwrap();
        // Checked before anything runs: corrupted native code must not.
        let runtime = Runtime::new(Some(dir.path().to_owned())).unwrap();
        assert!(!runtime.load("stamp", &one).unwrap().was_cached(), "a corrupted entry is recompiled");
        assert_eq!(load_and_run(dir.path(), &one), (true, serde_json::json!([1])), "and rewritten");

        let engine = Engine::default();
        std::fs::write(&entry, engine.precompile_component(&one).unwrap()).unwrap();
        assert!(!runtime.load("stamp", &one).unwrap().was_cached(), "an entry without a record is recompiled");
    }

    /// An entry others can write to, in a directory others can write to, or
    /// that is a symlink, is refused and rewritten.
    #[test]
    fn an_entry_others_could_have_written_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let one = test_plugin("version-one");
        load_and_run(dir.path(), &one);
        let entry = entry_of(dir.path(), &one);

        std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(0o666)).unwrap();
        assert_eq!(load_and_run(dir.path(), &one), (false, serde_json::json!([1])), "a world-writable entry");
        assert_eq!(mode(&entry), 0o600);

        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o775)).unwrap();
        assert_eq!(load_and_run(dir.path(), &one), (false, serde_json::json!([1])), "a group-writable directory");
        assert_eq!(mode(dir.path()), 0o700);

        let elsewhere = tempfile::tempdir().unwrap();
        let target = elsewhere.path().join("entry.cwasm");
        std::fs::rename(&entry, &target).unwrap();
        std::os::unix::fs::symlink(&target, &entry).unwrap();
        assert_eq!(load_and_run(dir.path(), &one), (false, serde_json::json!([1])), "a symlink");
        assert!(std::fs::symlink_metadata(&entry).unwrap().is_file(), "replaced by a file");
    }

    /// The child compiler (`sluice __compile-plugin`) writes an entry the
    /// router accepts.
    #[test]
    fn the_child_compiler_writes_a_verified_entry() {
        let dir = tempfile::tempdir().unwrap();
        let one = test_plugin("version-one");
        load_and_run(dir.path(), &one);
        let entry = entry_of(dir.path(), &one);
        std::fs::remove_file(&entry).unwrap();
        compile_into(&one, &entry).unwrap();
        assert_eq!(mode(&entry), 0o600);
        assert_eq!(load_and_run(dir.path(), &one), (true, serde_json::json!([1])));
    }
}
