//! Hot reload of `plugins.dir`: a new or changed `*.wasm` replaces the running
//! version of that plugin without stopping the router or losing an event.
//!
//! A thread watches the directory (inotify through `notify`) and waits until
//! a file has been quiet for a moment and its size is stable, so a file being
//! copied is not read half-written (renaming a finished file into place is
//! the safe way to deploy). Only a regular file within `plugins.max_bytes` is
//! read (the check startup makes too, see [`super::file`]): a FIFO or a
//! device renamed into place is rejected like a broken file. The new version
//! is compiled here, off the hot path, and `configure` is tried with each
//! using transform's own config; only a
//! version that passes is published to that transform, whose worker swaps it
//! in between two batches. A broken file is rejected with a log line and a
//! metric while the previous version keeps running; a deleted file changes
//! nothing. An unchanged file (same sha256) is ignored.

use super::cache;
use super::file::ReadError;
use super::registry::Registry;
use super::runtime::{Limits, Plugin};
use crate::internal_events::{InternalEvent, PluginReloadRejected, PluginReloaded};
use crate::metrics::ComponentMetrics;
use anyhow::Context;
use notify::{RecursiveMode, Watcher};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// How long a file must see no change before it is read.
const QUIET: Duration = Duration::from_millis(200);

/// A transform that runs a plugin from the directory.
struct Subscriber {
    config_json: String,
    limits: Limits,
    metrics: Arc<ComponentMetrics>,
    updates: watch::Sender<Plugin>,
}

/// The plugins of `plugins.dir` in use, and who uses them.
pub struct Reloader {
    registry: Arc<Registry>,
    dir: PathBuf,
    /// By file stem.
    subscribers: HashMap<String, Vec<Subscriber>>,
    /// The sha256 of the version last loaded, by file stem.
    current: HashMap<String, String>,
}

impl Reloader {
    pub fn new(registry: Arc<Registry>, dir: PathBuf) -> Self {
        Reloader { registry, dir, subscribers: HashMap::new(), current: HashMap::new() }
    }

    /// Transform `metrics.id()` runs `plugin`, loaded from `<stem>.wasm`:
    /// the receiver yields the versions that pass its `configure`.
    pub fn subscribe(
        &mut self,
        stem: &str,
        plugin: Plugin,
        config_json: String,
        limits: Limits,
        metrics: Arc<ComponentMetrics>,
    ) -> watch::Receiver<Plugin> {
        self.current.insert(stem.to_owned(), plugin.digest().to_owned());
        let (updates, receiver) = watch::channel(plugin);
        self.subscribers.entry(stem.to_owned()).or_default().push(Subscriber { config_json, limits, metrics, updates });
        receiver
    }

    pub fn is_empty(&self) -> bool {
        self.subscribers.is_empty()
    }

    /// Watch the directory on a thread of its own until the handle is dropped.
    pub fn spawn(self) -> anyhow::Result<ReloadHandle> {
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, rx) = std::sync::mpsc::channel();
        let mut watcher = notify::recommended_watcher(move |event| {
            let _ = tx.send(event);
        })
        .context("starting the plugin directory watcher")?;
        watcher
            .watch(&self.dir, RecursiveMode::NonRecursive)
            .with_context(|| format!("watching plugins.dir {}", self.dir.display()))?;
        tracing::info!(dir = %self.dir.display(), "watching the plugin directory for new versions");
        let thread_stop = stop.clone();
        let thread = std::thread::Builder::new()
            .name("plugin-reload".into())
            .spawn(move || self.watch(&rx, &thread_stop))
            .context("starting the plugin reload thread")?;
        Ok(ReloadHandle { stop, thread: Some(thread), _watcher: watcher })
    }

    fn watch(mut self, events: &std::sync::mpsc::Receiver<notify::Result<notify::Event>>, stop: &AtomicBool) {
        let mut pending: HashMap<PathBuf, Instant> = HashMap::new();
        while !stop.load(Ordering::Relaxed) {
            match events.recv_timeout(QUIET / 4) {
                Ok(Ok(event)) => {
                    for path in event.paths {
                        if path.extension().is_some_and(|e| e == "wasm") {
                            pending.insert(path, Instant::now());
                        }
                    }
                }
                Ok(Err(err)) => tracing::warn!(error = %err, "the plugin directory watcher reported an error"),
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
            }
            let quiet: Vec<PathBuf> =
                pending.iter().filter(|(_, at)| at.elapsed() >= QUIET).map(|(path, _)| path.clone()).collect();
            for path in quiet {
                pending.remove(&path);
                if !self.reload(&path) {
                    // Still being written: look again once it is quiet.
                    pending.insert(path, Instant::now());
                }
            }
        }
    }

    /// Load a changed file and publish it to every transform whose `configure`
    /// accepts it. Returns false when the file was still changing.
    fn reload(&mut self, path: &Path) -> bool {
        let Some(stem) = path.file_stem().map(|s| s.to_string_lossy().into_owned()) else { return true };
        let Some(subscribers) = self.subscribers.get(&stem) else { return true };
        let bytes = match self.registry.read_file(path) {
            Ok(bytes) => bytes,
            Err(ReadError::Missing) => {
                tracing::warn!(plugin = %stem, path = %path.display(),
                    "plugin file deleted; the transforms that use it keep their loaded version");
                return true;
            }
            Err(ReadError::Changing) => return false,
            Err(err @ (ReadError::Refused(_) | ReadError::Io(_))) => {
                let reason = format!("reading {}: {err}", path.display());
                for subscriber in subscribers {
                    PluginReloadRejected { plugin: &stem, reason: &reason }.emit(&subscriber.metrics);
                }
                return true;
            }
        };
        let digest = cache::digest(&bytes);
        if self.current.get(&stem) == Some(&digest) {
            return true;
        }
        self.current.insert(stem.clone(), digest.clone());
        let plugin = match self.registry.load(&stem, &bytes) {
            Ok(plugin) => plugin,
            Err(err) => {
                for subscriber in subscribers {
                    PluginReloadRejected { plugin: &stem, reason: &format!("{err:#}") }.emit(&subscriber.metrics);
                }
                return true;
            }
        };
        for subscriber in subscribers {
            match plugin.instantiate(subscriber.metrics.id(), &subscriber.config_json, subscriber.limits) {
                Ok(_) => {
                    subscriber.updates.send_replace(plugin.clone());
                    PluginReloaded { plugin: &stem, sha256: &digest }.emit(&subscriber.metrics);
                }
                Err(err) => {
                    PluginReloadRejected { plugin: &stem, reason: &format!("{err:#}") }.emit(&subscriber.metrics)
                }
            }
        }
        true
    }
}

/// Stops the reload thread when dropped.
pub struct ReloadHandle {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
    _watcher: notify::RecommendedWatcher,
}

impl Drop for ReloadHandle {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Metrics;
    use crate::plugins::Runtime;

    fn test_plugin(name: &str) -> Vec<u8> {
        std::fs::read(format!("{}/{name}.wasm", env!("SLUICE_TEST_PLUGINS"))).expect("test plugin built by build.rs")
    }

    /// A reloader of `dir/stamp.wasm` with one transform running version-one:
    /// its metrics and the versions published to it.
    fn reloader(dir: &Path) -> (Reloader, Arc<ComponentMetrics>, watch::Receiver<Plugin>) {
        let registry = Registry::new(Arc::new(Runtime::new(None).unwrap()), Some(dir.to_owned()), 64 << 20);
        let registry = Arc::new(registry);
        let one = registry.load("stamp", &test_plugin("version-one")).unwrap();
        let metrics = Metrics::default().component("stamp");
        let mut reloader = Reloader::new(registry, dir.to_owned());
        let updates = reloader.subscribe("stamp", one, "{}".to_owned(), Limits::default(), metrics.clone());
        (reloader, metrics, updates)
    }

    /// `reload(path)` on a thread of its own, which must finish: a read that
    /// blocks fails the test instead of hanging it.
    fn reload(reloader: Reloader, path: &Path) -> Reloader {
        let (done, finished) = std::sync::mpsc::channel();
        let path = path.to_owned();
        std::thread::spawn(move || {
            let mut reloader = reloader;
            let complete = reloader.reload(&path);
            let _ = done.send((reloader, complete));
        });
        let (reloader, complete) = finished.recv_timeout(Duration::from_secs(30)).expect("reload blocked on the file");
        assert!(complete, "the file is not left pending");
        reloader
    }

    fn deploy(dir: &Path, bytes: &[u8]) -> PathBuf {
        let aside = dir.join(".stamp.wasm.partial");
        std::fs::write(&aside, bytes).unwrap();
        std::fs::rename(&aside, dir.join("stamp.wasm")).unwrap();
        dir.join("stamp.wasm")
    }

    /// What `plant` renames into place as `stamp.wasm` is refused without
    /// blocking the reload thread or being read whole, is counted, and the
    /// next good version is still picked up.
    fn refused_then_the_next_version_loads(plant: impl FnOnce(&Path)) {
        let dir = tempfile::tempdir().unwrap();
        let (reloader, metrics, mut updates) = reloader(dir.path());
        let aside = dir.path().join(".planted");
        plant(&aside);
        let path = dir.path().join("stamp.wasm");
        std::fs::rename(&aside, &path).unwrap();
        let reloader = reload(reloader, &path);
        assert_eq!(metrics.counts().reload_failures, 1);
        assert!(!updates.has_changed().unwrap(), "nothing published");

        let two = test_plugin("version-two");
        let _reloader = reload(reloader, &deploy(dir.path(), &two));
        assert_eq!((metrics.counts().reloads, metrics.counts().reload_failures), (1, 1));
        assert!(updates.has_changed().unwrap());
        assert_eq!(updates.borrow_and_update().digest(), cache::digest(&two));
    }

    #[test]
    fn a_fifo_is_refused_and_the_next_version_still_loads() {
        refused_then_the_next_version_loads(|aside| {
            let aside = std::ffi::CString::new(aside.to_str().unwrap()).unwrap();
            // SAFETY: a valid NUL-terminated path.
            assert_eq!(unsafe { libc::mkfifo(aside.as_ptr(), 0o600) }, 0);
        });
    }

    #[test]
    fn a_symlink_to_dev_zero_is_refused() {
        refused_then_the_next_version_loads(|aside| std::os::unix::fs::symlink("/dev/zero", aside).unwrap());
    }
}
