//! The running graph: sources → transforms → sinks, wired by bounded channels.
//!
//! Building a topology checks the config and loads every plugin (calling its
//! `configure`), so every problem is reported before anything starts. Running it
//! first starts every source (binds its socket, loads its checkpoint), failing
//! if any cannot start, then spawns sources and sinks on the async runtime and
//! each transform on a thread of its own (plugin calls are CPU work and must
//! not stall I/O).
//! Shutdown flows downstream: sources stop and drop their senders, each
//! stage drains and ends when its inputs close, sinks write the last batch,
//! and acknowledgements travel back so sources save their final position.

use crate::api::readiness::{Phase, Readiness};
use crate::config::Config;
use crate::dead_letter::{self, DeadLetter, Rejected};
use crate::event::Batch;
use crate::fanout::Fanout;
use crate::internal_events::{ComponentError, InternalEvent};
use crate::metrics::{ComponentKind, Counts, Metrics};
use crate::plugins::reload::Reloader;
use crate::plugins::state::StateStore;
use crate::plugins::{Grants, Registry, Runtime};
use crate::sinks::{self, ReopenFiles, SinkContext};
use crate::sources::SourceContext;
use crate::transforms::TransformConfig;
use crate::transforms::wasm::WasmTransform;
use crate::transforms::workers::{self, Spread};
use crate::validation::{ConfigError, ConfigErrors};
use anyhow::Context;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Batches waiting on each edge of the graph; a full edge back-pressures its producer.
const EDGE_CAPACITY: usize = 4;

/// The component id under which dead-letter writes are counted.
pub const DEAD_LETTER_ID: &str = "dead_letter";

/// A checked configuration with its plugins loaded, ready to run.
pub struct Topology {
    config: Config,
    /// Each transform's workers (one plugin instance each) and how they share batches.
    transforms: BTreeMap<String, (Vec<WasmTransform>, Spread)>,
    plugin_notes: BTreeMap<String, String>,
    /// Keeps the runtime (and its epoch ticker, which enforces deadlines)
    /// alive while plugins run; hot reload will resolve new plugins here.
    registry: Option<Arc<Registry>>,
    /// Watches `plugins.dir` for new versions of the plugins in use.
    reloader: Option<Reloader>,
    metrics: Metrics,
    dead_letter: DeadLetter,
    dead_letter_rx: mpsc::Receiver<Rejected>,
    /// Asks the sinks that write files to open them again.
    reopen: ReopenFiles,
    /// What `/health` says: ready once every source listens.
    readiness: Readiness,
}

/// What a finished run did, per component.
#[derive(Debug, Clone)]
pub struct Report {
    pub counts: BTreeMap<String, Counts>,
}

/// What a topology is built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Run,
    Check,
}

impl Topology {
    /// Load every plugin of a checked config and run each `configure`, reporting
    /// every failure with the transform's table and key.
    pub fn build(config: Config) -> Result<Topology, ConfigErrors> {
        Topology::build_with(config, Purpose::Run)
    }

    /// As [`Topology::build`], to check the config and describe it (`sluice
    /// validate`), not to run it: the plugins' state stores are kept in
    /// memory, so that a check beside a running router never opens (and
    /// never repairs the tail of) the state log that router is writing.
    pub fn check(config: Config) -> Result<Topology, ConfigErrors> {
        Topology::build_with(config, Purpose::Check)
    }

    fn build_with(config: Config, purpose: Purpose) -> Result<Topology, ConfigErrors> {
        let metrics = Metrics::default();
        // Labelled for `/metrics` before anything counts.
        for (id, source) in &config.sources {
            metrics.register(id, ComponentKind::Source, source.type_name());
        }
        for (id, transform) in &config.transforms {
            metrics.register(id, ComponentKind::Transform, transform.kind.type_name());
        }
        for (id, sink) in &config.sinks {
            metrics.register(id, ComponentKind::Sink, sink.kind.type_name());
        }
        metrics.register(DEAD_LETTER_ID, ComponentKind::DeadLetter, "file");
        let (dead_letter, dead_letter_rx) = DeadLetter::channel(metrics.component(DEAD_LETTER_ID));
        let mut errors = Vec::new();
        let mut transforms = BTreeMap::new();
        let mut plugin_notes = BTreeMap::new();
        let mut registry = None;
        let mut reloader = None;
        if !config.transforms.is_empty() {
            let runtime = Runtime::new(Some(config.data_dir.join("cache").join("plugins")))
                .map_err(|err| ConfigErrors(vec![ConfigError::new("plugins", format!("{err:#}"))]))?;
            let registry = registry.insert(Arc::new(Registry::new(
                Arc::new(runtime),
                config.plugins.dir.clone(),
                config.plugins.max_bytes,
            )));
            for (id, transform) in &config.transforms {
                let TransformConfig::Wasm(wasm) = &transform.kind;
                let plugin = match registry.resolve(&wasm.plugin) {
                    Ok(plugin) => plugin,
                    Err(err) => {
                        errors.push(ConfigError::new(format!("transforms.{id}.plugin"), format!("{err:#}")));
                        continue;
                    }
                };
                plugin_notes.insert(
                    id.clone(),
                    format!(
                        "plugin {} ({} in {:.2} ms)",
                        plugin.name(),
                        if plugin.was_cached() { "loaded from cache" } else { "compiled" },
                        plugin.load_time().as_secs_f64() * 1e3
                    ),
                );
                let state = match purpose {
                    Purpose::Check => Ok(StateStore::in_memory(wasm.state_limits())),
                    Purpose::Run => StateStore::open(&config.data_dir.join("state").join(id), wasm.state_limits()),
                };
                let state = match state {
                    Ok(state) => Arc::new(state),
                    Err(err) => {
                        errors.push(ConfigError::new(format!("transforms.{id}"), format!("{err:#}")));
                        continue;
                    }
                };
                let clock = config.plugins.clock().expect("checked when the config was parsed");
                let grants = Grants { clock, state };
                let component = metrics.component(id);
                let built: anyhow::Result<Vec<WasmTransform>> = (0..wasm.workers())
                    .map(|_| {
                        WasmTransform::new(plugin.clone(), wasm, component.clone(), dead_letter.clone(), grants.clone())
                    })
                    .collect();
                match built {
                    Ok(mut built) => {
                        if let Some(stem) = registry.dir_stem(&wasm.plugin) {
                            let reloader = reloader.get_or_insert_with(|| {
                                Reloader::new(registry.clone(), registry.dir().expect("a dir stem").to_owned())
                            });
                            let (config_json, limits) = built[0].settings();
                            let updates = reloader.subscribe(&stem, plugin, config_json, limits, component.clone());
                            for worker in &mut built {
                                worker.follow_updates(updates.clone());
                            }
                        }
                        transforms.insert(id.clone(), (built, wasm.spread()));
                    }
                    Err(err) => errors.push(ConfigError::new(format!("transforms.{id}.config"), format!("{err:#}"))),
                }
            }
        }
        if !errors.is_empty() {
            // A plugin may quote the config it refuses, secrets included.
            config.secrets.scrub_errors(&mut errors);
            return Err(ConfigErrors(errors));
        }
        Ok(Topology {
            config,
            transforms,
            plugin_notes,
            registry,
            reloader,
            metrics,
            dead_letter,
            dead_letter_rx,
            reopen: ReopenFiles::new(),
            readiness: Readiness::default(),
        })
    }

    /// The handle that asks every running sink that writes a file to open
    /// it again (what SIGHUP does, after logrotate moved the files).
    pub fn reopen_files(&self) -> ReopenFiles {
        self.reopen.clone()
    }

    /// The counters of every component, live while the topology runs.
    pub fn metrics(&self) -> Metrics {
        self.metrics.clone()
    }

    /// Whether the running topology is ready for traffic (for `/health`).
    pub fn readiness(&self) -> Readiness {
        self.readiness.clone()
    }

    /// What the machine says about the config now (a listen address in use),
    /// for `sluice validate` to warn about.
    pub fn warnings(&self) -> Vec<String> {
        let sources = self.config.sources.iter().flat_map(|(id, source)| source.warnings(&format!("sources.{id}")));
        sources.chain(self.config.api.iter().flat_map(|api| api.warnings())).collect()
    }

    /// A readable outline of the graph, for `sluice validate`.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        let config = &self.config;
        let _ = writeln!(out, "data_dir: {}", config.data_dir.display());
        for (id, source) in &config.sources {
            let _ = writeln!(out, "source    {id}: {}", source.type_name());
        }
        for (id, transform) in &config.transforms {
            let note = self.plugin_notes.get(id).map(String::as_str).unwrap_or("");
            let _ = writeln!(out, "transform {id} <- [{}]: {note}", transform.inputs.join(", "));
        }
        for (id, sink) in &config.sinks {
            let buffer = match &sink.buffer {
                None => String::new(),
                Some(buffer) => format!(" ({} buffer)", buffer.type_name()),
            };
            let _ = writeln!(out, "sink      {id} <- [{}]: {}{buffer}", sink.inputs.join(", "), sink.kind.type_name());
        }
        let _ = writeln!(out, "dead letter -> {}", config.dead_letter_path().display());
        config.secrets.scrub(&out)
    }

    /// Run until every source has ended (or `shutdown` stops them) and every
    /// event has reached its sinks or the dead-letter output.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<Report> {
        let Topology {
            config,
            mut transforms,
            registry,
            reloader,
            metrics,
            dead_letter,
            dead_letter_rx,
            reopen,
            readiness,
            ..
        } = self;
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating data_dir {}", config.data_dir.display()))?;

        let mut senders: BTreeMap<String, mpsc::Sender<Batch>> = BTreeMap::new();
        let mut receivers: BTreeMap<String, mpsc::Receiver<Batch>> = BTreeMap::new();
        for id in config.transforms.keys().chain(config.sinks.keys()) {
            let (tx, rx) = mpsc::channel(EDGE_CAPACITY);
            senders.insert(id.clone(), tx);
            receivers.insert(id.clone(), rx);
        }
        let fanout = |producer: &str| {
            let consumers = config
                .transforms
                .iter()
                .map(|(id, t)| (id, &t.inputs))
                .chain(config.sinks.iter().map(|(id, s)| (id, &s.inputs)))
                .filter(|(_, inputs)| inputs.iter().any(|i| i == producer))
                .map(|(id, _)| senders[id].clone())
                .collect();
            Fanout::new(consumers)
        };

        // Every source opens what it reads from before anything runs, so one
        // that cannot (an address in use, an unreadable checkpoint) fails the
        // start with nothing half-running: a supervisor sees the failure and
        // no other source reads (and checkpoints) events meanwhile.
        let mut started = Vec::new();
        for (id, source) in &config.sources {
            let ctx = SourceContext {
                id: id.as_str().into(),
                out: fanout(id),
                dead_letter: dead_letter.clone(),
                metrics: metrics.component(id),
                shutdown: shutdown.clone(),
                data_dir: config.data_dir.clone(),
                batch: config.batch,
            };
            let source = source.clone().start(ctx).await.with_context(|| format!("source `{id}` could not start"))?;
            started.push((id, source));
        }

        let dl_settings = dead_letter::Settings {
            path: config.dead_letter_path(),
            max_bytes: config.dead_letter.max_bytes,
            max_files: config.dead_letter.max_files,
            shutdown: shutdown.clone(),
        };
        let dl_writer =
            tokio::spawn(dead_letter::run_writer(dl_settings, dead_letter_rx, metrics.component(DEAD_LETTER_ID)));

        let mut sinks = Vec::new();
        let mut buffers = Vec::new();
        for (id, sink) in &config.sinks {
            let mut input = receivers.remove(id).expect("a channel per sink");
            if let Some(buffer) = &sink.buffer {
                let dir = config.data_dir.join("buffers").join(id);
                let (buffered, tasks) =
                    sinks::buffer::start(buffer, &dir, input, metrics.component(id), shutdown.clone())
                        .await
                        .with_context(|| format!("starting the buffer of sink {id}"))?;
                input = buffered;
                buffers.extend(tasks);
            }
            let ctx = SinkContext {
                id: id.as_str().into(),
                input,
                dead_letter: dead_letter.clone(),
                metrics: metrics.component(id),
                shutdown: shutdown.clone(),
                shutdown_timeout: config.shutdown_timeout,
                reopen: reopen.subscribe(),
            };
            let kind = sink.kind.clone();
            let m = metrics.component(id);
            sinks.push(tokio::spawn(async move {
                if let Err(err) = kind.run(ctx).await {
                    ComponentError { what: "sink stopped", error: &format!("{err:#}") }.emit(&m);
                }
            }));
        }

        let mut workers = Vec::new();
        for id in config.transforms.keys() {
            let (mut built, spread) = transforms.remove(id).expect("built at load time");
            let input = receivers.remove(id).expect("a channel per transform");
            let out = fanout(id);
            let component = metrics.component(id);
            let worker = std::thread::Builder::new()
                .name(format!("transform-{id}"))
                .spawn(move || {
                    if built.len() == 1 {
                        built.pop().expect("one worker").run(input, out);
                    } else if let Err(err) = workers::run(built, spread, input, out, component.clone()) {
                        ComponentError { what: "the transform's workers could not start", error: &format!("{err:#}") }
                            .emit(&component);
                    }
                })
                .with_context(|| format!("starting the worker thread of transform {id}"))?;
            workers.push(worker);
        }

        let reloading = match reloader {
            Some(reloader) => Some(reloader.spawn()?),
            None => None,
        };

        let mut sources = Vec::new();
        for (id, source) in started {
            let m = metrics.component(id);
            sources.push(tokio::spawn(async move {
                if let Err(err) = source.serve().await {
                    ComponentError { what: "source stopped", error: &format!("{err:#}") }.emit(&m);
                }
            }));
        }
        // Only the components hold senders now, so each stage ends when its
        // producers have.
        drop(senders);
        drop(dead_letter);
        // Every source listens (each bound its socket in `start`) and every
        // plugin was loaded when the topology was built.
        readiness.set(Phase::Ready);
        let stopping = {
            let (readiness, shutdown) = (readiness.clone(), shutdown.clone());
            tokio::spawn(async move {
                shutdown.cancelled().await;
                readiness.set(Phase::Stopping);
            })
        };

        for source in sources {
            source.await.context("a source task panicked")?;
        }
        // Every source has ended (a stop, or finite inputs): no longer ready.
        readiness.set(Phase::Stopping);
        stopping.abort();
        tokio::task::spawn_blocking(move || {
            for worker in workers {
                if worker.join().is_err() {
                    tracing::error!("a transform worker panicked");
                }
            }
        })
        .await
        .context("joining transform workers")?;
        for buffer in buffers {
            buffer.await.context("a sink buffer task panicked")?;
        }
        for sink in sinks {
            sink.await.context("a sink task panicked")?;
        }
        dl_writer.await.context("the dead-letter writer panicked")??;
        drop(reloading);
        drop(registry);
        Ok(Report { counts: metrics.snapshot() })
    }
}
