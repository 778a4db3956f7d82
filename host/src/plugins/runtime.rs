//! The sandboxed WebAssembly runtime that plugins run in.
//!
//! One wasmtime [`Engine`] serves the process. Each plugin file becomes one
//! compiled component (cached on disk, see [`super::cache`]) and one
//! pre-linked `InstancePre`; each worker owns an [`Instance`] in its own
//! `Store`, so the hot path takes no locks. Every call runs under a deadline
//! of CPU time (epoch interruption, see [`super::deadline`]) and a memory
//! cap; a trap poisons only its `Store`, which the caller replaces from the
//! same `InstancePre` in microseconds. Whatever text the guest hands back as
//! a message is cut by [`guest_text::bounded`].

use super::cache;
use super::deadline::{CallClock, TICK};
use super::guest_text;
use super::sandbox::{self, Grants, GuestOutput, HostState, MemoryLimiter};
use super::slots::Slots;
use super::worlds::{Contract, Metadata, Outcome, v02, v03};
use anyhow::{Context, anyhow};
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, Trap};

/// Per-instance limits, from a transform's `limits` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// CPU-time budget of one call (see [`super::deadline`]).
    pub deadline: Duration,
    /// Cap on the instance's linear memory.
    pub memory_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { deadline: Duration::from_millis(100), memory_bytes: 64 << 20 }
    }
}

/// The process-wide engine, linker and component cache.
pub struct Runtime {
    engine: Engine,
    linker: Linker<HostState>,
    cache_dir: Option<PathBuf>,
    ticking: Arc<AtomicBool>,
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime").field("cache_dir", &self.cache_dir).finish_non_exhaustive()
    }
}

impl Runtime {
    /// Build the engine. Compiled components are cached in `cache_dir` when given.
    pub fn new(cache_dir: Option<PathBuf>) -> anyhow::Result<Runtime> {
        let engine = match Engine::new(&engine_config(true)) {
            Ok(engine) => engine,
            Err(err) => {
                // The pooling allocator reserves address space up front; where
                // that is refused (tight `ulimit -v`), allocate on demand.
                tracing::warn!(error = %err, "pooling allocator unavailable; allocating instances on demand");
                Engine::new(&engine_config(false))
                    .map_err(anyhow::Error::from)
                    .context("creating the WebAssembly engine")?
            }
        };
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)
            .map_err(anyhow::Error::from)
            .context("linking the sandboxed WASI imports")?;
        sandbox::bound_clock_waits(&mut linker)
            .map_err(anyhow::Error::from)
            .context("bounding the sandbox's clock waits")?;
        v03::Plugin::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |state| state)
            .map_err(anyhow::Error::from)
            .context("linking the sluice:plugin@0.3.0 imports")?;
        v02::Plugin::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |state| state)
            .map_err(anyhow::Error::from)
            .context("linking the sluice:plugin@0.2.0 imports")?;
        let ticking = Arc::new(AtomicBool::new(true));
        spawn_epoch_ticker(engine.clone(), ticking.clone())?;
        Ok(Runtime { engine, linker, cache_dir, ticking })
    }

    /// Compile (or load from the cache) and pre-link a plugin component.
    pub fn load(&self, name: &str, bytes: &[u8]) -> anyhow::Result<Plugin> {
        let started = Instant::now();
        let (component, cached) = cache::load(&self.engine, self.cache_dir.as_deref(), bytes)
            .with_context(|| format!("compiling plugin `{name}`"))?;
        let pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("plugin `{name}` imports something sluice does not provide"))?;
        let pre = match v03::PluginPre::new(pre.clone()) {
            Ok(pre) => World::V03(pre),
            Err(v03_err) => match v02::PluginPre::new(pre) {
                Ok(pre) => World::V02(pre),
                // A plugin built for neither: explain against the current contract.
                Err(_) => {
                    return Err(anyhow::Error::from(v03_err)).with_context(|| {
                        format!(
                            "plugin `{name}` implements neither the {} world nor the {} one",
                            Contract::V03,
                            Contract::V02
                        )
                    });
                }
            },
        };
        let load_time = started.elapsed();
        tracing::debug!(plugin = name, cached, ?load_time, contract = %pre.contract(), "plugin loaded");
        Ok(Plugin { name: name.into(), digest: cache::digest(bytes).into(), pre, cached, load_time })
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.ticking.store(false, Ordering::Relaxed);
    }
}

/// Compile `bytes` into the cache file `path` for the engine a [`Runtime`]
/// uses: the child's side of [`cache::compile_in_child`].
pub fn compile_into(bytes: &[u8], path: &std::path::Path) -> anyhow::Result<()> {
    let engine = Engine::new(&engine_config(true))
        .or_else(|_| Engine::new(&engine_config(false)))
        .map_err(anyhow::Error::from)
        .context("creating the WebAssembly engine")?;
    cache::compile_to(&engine, bytes, path)
}

fn engine_config(pooling: bool) -> Config {
    let mut config = Config::new();
    config.epoch_interruption(true);
    // `perf` cannot name JIT-compiled plugin code on its own; a perf map
    // (/tmp/perf-PID.map) lets it, at a small cost per loaded plugin.
    if std::env::var_os("SLUICE_WASM_PROFILER").is_some_and(|v| v == "perfmap") {
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    if pooling {
        let mut pool = PoolingAllocationConfig::new();
        // Room for a few hundred live instances; a Python or JS component has
        // dozens of core instances and large tables.
        pool.total_component_instances(256)
            .total_core_instances(2048)
            .total_memories(512)
            .total_tables(1024)
            .max_core_instances_per_component(64)
            .max_memories_per_component(16)
            .max_tables_per_component(32)
            .max_component_instance_size(1 << 20)
            .max_core_instance_size(1 << 20)
            .table_elements(100_000)
            // Per-transform memory caps are enforced by the store's limiter.
            .max_memory_size(4 << 30);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    config
}

/// Advance the engine's epoch every tick, for as long as the runtime lives.
fn spawn_epoch_ticker(engine: Engine, ticking: Arc<AtomicBool>) -> anyhow::Result<()> {
    std::thread::Builder::new()
        .name("sluice-epoch".into())
        .spawn(move || {
            while ticking.load(Ordering::Relaxed) {
                std::thread::sleep(TICK);
                engine.increment_epoch();
            }
        })
        .context("starting the epoch ticker thread")?;
    Ok(())
}

/// A loaded plugin: compiled and pre-linked, ready to instantiate.
#[derive(Clone)]
pub struct Plugin {
    name: Arc<str>,
    digest: Arc<str>,
    pre: World,
    cached: bool,
    load_time: Duration,
}

/// A plugin pre-linked as the contract version it implements.
#[derive(Clone)]
enum World {
    V02(v02::PluginPre<HostState>),
    V03(v03::PluginPre<HostState>),
}

impl World {
    fn contract(&self) -> Contract {
        match self {
            World::V02(_) => Contract::V02,
            World::V03(_) => Contract::V03,
        }
    }

    fn instance_pre(&self) -> &wasmtime::component::InstancePre<HostState> {
        match self {
            World::V02(pre) => pre.instance_pre(),
            World::V03(pre) => pre.instance_pre(),
        }
    }

    fn engine(&self) -> &Engine {
        match self {
            World::V02(pre) => pre.engine(),
            World::V03(pre) => pre.engine(),
        }
    }
}

impl fmt::Debug for Plugin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Plugin").field("name", &self.name).field("cached", &self.cached).finish_non_exhaustive()
    }
}

impl Plugin {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The names the component imports (`sluice:plugin/log@0.3.0`,
    /// `wasi:cli/environment@0.2.6` …), for `plugin check` to show.
    pub fn imports(&self) -> Vec<String> {
        let component = self.pre.instance_pre().component();
        component.component_type().imports(self.pre.engine()).map(|(name, _)| name.to_owned()).collect()
    }

    /// The contract version the component implements.
    pub fn contract(&self) -> Contract {
        self.pre.contract()
    }

    /// The sha256 of the component, as hex: which version this is.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// Whether the compiled code came from the on-disk cache.
    pub fn was_cached(&self) -> bool {
        self.cached
    }

    /// How long compiling or loading from the cache took.
    pub fn load_time(&self) -> Duration {
        self.load_time
    }

    /// A fresh instance in its own store, with `configure(config)` called and
    /// warmed up (see [`Instance::warm_up`]), granted a real clock and a
    /// state store in memory.
    ///
    /// `component` tags the plugin's log lines (the transform id).
    pub fn instantiate(&self, component: &str, config_json: &str, limits: Limits) -> anyhow::Result<Instance> {
        self.instantiate_with(component, config_json, limits, &Grants::default())
    }

    /// [`Plugin::instantiate`], with the clock and state store a transform grants.
    pub fn instantiate_with(
        &self,
        component: &str,
        config_json: &str,
        limits: Limits,
        grants: &Grants,
    ) -> anyhow::Result<Instance> {
        let output = GuestOutput::default();
        let limiter = MemoryLimiter::new(limits.memory_bytes);
        let state = HostState::new(component, limiter, CallClock::new(limits.deadline), output.clone(), grants.clone());
        let mut store = Store::new(self.pre.engine(), state);
        store.limiter(|state| &mut state.limiter);
        store.epoch_deadline_callback(|mut store| Ok(store.data_mut().clock.on_epoch()));
        let fail = |err: wasmtime::Error, store: &Store<HostState>, doing: &str| {
            anyhow!(
                "plugin `{}` failed in {doing}: {}",
                self.name,
                describe_failure(&err, store.data(), &output, limits)
            )
        };
        start_call(&mut store);
        let instantiated = match &self.pre {
            World::V02(pre) => pre.instantiate(&mut store).map(Bound::V02),
            World::V03(pre) => pre.instantiate(&mut store).map(|bindings| Bound::V03 {
                bindings,
                slots: Slots::default(),
                batch: v03::Batch { text: Vec::new(), ends: Vec::new(), slots: Vec::new() },
            }),
        };
        let mut bound = instantiated
            .map_err(|err| anyhow!(describe_failure(&err, store.data(), &output, limits)))
            .with_context(|| format!("instantiating plugin `{}`", self.name))?;
        let mut metadata = None;
        if let Bound::V03 { bindings, .. } = &bound {
            start_call(&mut store);
            let answer = bindings.call_metadata(&mut store);
            output.forward_to_log(component, &self.name);
            let answer: Metadata = answer.map_err(|err| fail(err, &store, "metadata"))?.into();
            metadata = Some(Metadata {
                name: guest_text::bounded(answer.name),
                version: guest_text::bounded(answer.version),
                contract: guest_text::bounded(answer.contract),
            });
        }
        start_call(&mut store);
        let configured = match &mut bound {
            Bound::V02(bindings) => bindings.call_configure(&mut store, config_json).map(|r| r.map(|()| None)),
            Bound::V03 { bindings, .. } => bindings.call_configure(&mut store, config_json).map(|r| r.map(Some)),
        };
        output.forward_to_log(component, &self.name);
        let reads = match configured {
            Ok(Ok(reads)) => reads,
            Ok(Err(message)) => {
                return Err(anyhow!("plugin `{}` rejected its config: {}", self.name, guest_text::bounded(message)));
            }
            Err(err) => return Err(fail(err, &store, "configure")),
        };
        if let (Bound::V03 { slots, .. }, Some(reads)) = (&mut bound, reads) {
            *slots = Slots::new(&reads).map_err(|problem| {
                anyhow!("plugin `{}` answered configure with a bad path: {}", self.name, guest_text::bounded(problem))
            })?;
        }
        let mut instance = Instance { store, bound, output, limits, plugin: self.name.clone(), metadata };
        instance
            .warm_up()
            .map_err(|failure| anyhow!(failure))
            .with_context(|| format!("warming plugin `{}` up with an empty batch", self.name))?;
        Ok(instance)
    }
}

/// Lay `events` out as a 0.3 batch: their texts in one buffer, where each
/// ends, and the slots of the declared paths.
fn pack(events: &[String], slots: &Slots, batch: &mut v03::Batch) -> Result<(), CallFailure> {
    batch.text.clear();
    batch.ends.clear();
    batch.slots.clear();
    let total: usize = events.iter().map(String::len).sum();
    if total > u32::MAX as usize {
        return Err(CallFailure::new(format!("a batch of {total} bytes is too large to hand to a plugin (4 GiB)")));
    }
    batch.text.reserve(total);
    batch.ends.reserve(events.len());
    batch.slots.reserve(events.len() * slots.len() * 3);
    for event in events {
        let base = batch.text.len() as u32;
        batch.text.extend_from_slice(event.as_bytes());
        batch.ends.push(batch.text.len() as u32);
        slots.locate(event.as_bytes(), base, &mut batch.slots);
    }
    Ok(())
}

/// Start the deadline of a call about to be made on this thread.
fn start_call(store: &mut Store<HostState>) {
    let ticks = store.data_mut().clock.start();
    store.set_epoch_deadline(ticks);
}

/// Why a call failed; the text becomes the dead-letter reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallFailure {
    reason: String,
    overran: bool,
}

impl CallFailure {
    pub fn new(reason: impl Into<String>) -> Self {
        CallFailure { reason: reason.into(), overran: false }
    }

    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// Whether the call was interrupted at its deadline (of CPU, or its wall
    /// ceiling): the one failure that a first call's warm-up or a starved
    /// thread, not the plugin and its input, may have caused. A trap
    /// or running out of memory happens again on the same input.
    pub fn overran_deadline(&self) -> bool {
        self.overran
    }
}

impl fmt::Display for CallFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

/// A live plugin instance owned by one worker.
pub struct Instance {
    store: Store<HostState>,
    bound: Bound,
    output: GuestOutput,
    limits: Limits,
    plugin: Arc<str>,
    metadata: Option<Metadata>,
}

/// An instance's exports, as the contract version it implements.
enum Bound {
    V02(v02::Plugin),
    V03 {
        bindings: v03::Plugin,
        /// Where the paths it declared are found.
        slots: Slots,
        /// The batch as it crosses, its buffers kept from call to call.
        batch: v03::Batch,
    },
}

impl Instance {
    /// Who the plugin says it is (0.3 plugins; `None` for 0.2).
    pub fn metadata(&self) -> Option<&Metadata> {
        self.metadata.as_ref()
    }

    /// Run one batch of event texts (JSON objects) through the plugin: one
    /// outcome per event, in order.
    ///
    /// After an error the instance is poisoned and must be replaced.
    pub fn process(&mut self, events: &[String]) -> Result<Vec<Outcome>, CallFailure> {
        let result = match &mut self.bound {
            Bound::V02(bindings) => {
                start_call(&mut self.store);
                bindings
                    .call_process(&mut self.store, events)
                    .map(|outcomes| outcomes.into_iter().map(Outcome::from).collect::<Vec<_>>())
            }
            Bound::V03 { bindings, slots, batch } => {
                pack(events, slots, batch)?;
                start_call(&mut self.store);
                bindings
                    .call_process(&mut self.store, batch)
                    .map(|outcomes| outcomes.into_iter().map(Outcome::from).collect::<Vec<_>>())
            }
        };
        let component = self.store.data().component().to_owned();
        match result {
            Ok(mut outcomes) if outcomes.len() == events.len() => {
                self.output.forward_to_log(&component, &self.plugin);
                for reason in outcomes.iter_mut().filter_map(Outcome::reason_mut) {
                    *reason = guest_text::bounded(std::mem::take(reason));
                }
                Ok(outcomes)
            }
            Ok(outcomes) => Err(CallFailure::new(format!(
                "plugin `{}` returned {} outcomes for {} events",
                self.plugin,
                outcomes.len(),
                events.len()
            ))),
            Err(err) => {
                let reason = describe_failure(&err, self.store.data(), &self.output, self.limits);
                self.output.forward_to_log(&component, &self.plugin);
                let overran = interrupted(&err, self.store.data());
                Err(CallFailure { reason: format!("plugin `{}` {reason}", self.plugin), overran })
            }
        }
    }

    /// Call `process` once with an empty batch, under the deadline.
    ///
    /// This warms what a first call pays for whatever it is given: the pages
    /// of the instance's code and memory the call touches, wasmtime's lazily
    /// initialised tables, and the guest's own first-call initialisation
    /// (runtime and language glue, state built on the first `process`). It
    /// passes no events, so a plugin sees nothing it could count or act on.
    /// It cannot warm what depends on the events — a regex's lazy DFA, caches
    /// keyed by field names —, which is why an overrun is retried once.
    fn warm_up(&mut self) -> Result<(), CallFailure> {
        self.process(&[]).map(drop)
    }
}

/// Whether a call failed because its deadline interrupted it (and not
/// because the memory limiter refused a growth first).
fn interrupted(err: &wasmtime::Error, state: &HostState) -> bool {
    !state.limiter.exceeded() && matches!(err.downcast_ref::<Trap>(), Some(Trap::Interrupt))
}

/// Turn a wasmtime error into a reason an operator can act on.
fn describe_failure(err: &wasmtime::Error, state: &HostState, output: &GuestOutput, limits: Limits) -> String {
    let mut reason = if state.limiter.exceeded() {
        format!("exceeded its memory limit of {} MiB", limits.memory_bytes >> 20)
    } else if interrupted(err, state) && state.clock.cut_at_ceiling() {
        format!(
            "exceeded its deadline of {} ms (ended at its wall-clock ceiling of {} ms: it waited, or its thread was starved)",
            limits.deadline.as_millis(),
            state.clock.ceiling().as_millis()
        )
    } else if interrupted(err, state) {
        format!("exceeded its deadline of {} ms", limits.deadline.as_millis())
    } else if let Some(trap) = err.downcast_ref::<Trap>() {
        format!("trapped: {trap}")
    } else {
        format!("failed: {err:#}")
    };
    if let Some(tail) = output.tail(2) {
        reason.push_str(&format!(" (plugin output: {})", guest_text::bounded(tail)));
    }
    reason
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::Outcome;
    use crate::plugins::deadline::thread_cpu_time;
    use std::sync::OnceLock;

    fn misbehave(deadline_ms: u64) -> Instance {
        static PLUGIN: OnceLock<(Runtime, Plugin)> = OnceLock::new();
        let (_, plugin) = PLUGIN.get_or_init(|| {
            let runtime = Runtime::new(None).expect("runtime");
            let path = format!("{}/misbehave.wasm", env!("SLUICE_TEST_PLUGINS"));
            let bytes = std::fs::read(&path).expect("test plugin built by build.rs");
            let plugin = runtime.load("misbehave", &bytes).expect("plugin loads");
            (runtime, plugin)
        });
        let limits = Limits { deadline: Duration::from_millis(deadline_ms), ..Limits::default() };
        plugin.instantiate("t", "{}", limits).expect("instance")
    }

    /// Run one event through a fresh instance: the result, the wall time and
    /// the CPU time of this thread (the call runs on it).
    fn call(deadline_ms: u64, message: &str) -> (Result<Vec<Outcome>, CallFailure>, Duration, Duration) {
        let mut instance = misbehave(deadline_ms);
        let (wall, cpu) = (Instant::now(), thread_cpu_time());
        let result = instance.process(&[format!(r#"{{"message":"{message}"}}"#)]);
        (result, wall.elapsed(), thread_cpu_time() - cpu)
    }

    /// Each built-in formatter, run by the router (on 0.3, the fields it
    /// declared located by the host), writes exactly the golden lines its
    /// own native tests check with the whole event in hand.
    #[test]
    fn built_in_formatters_write_their_golden_lines_through_the_router() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../plugins");
        let corpus: Vec<String> = std::fs::read_to_string(format!("{root}/testdata/canonical-events.jsonl"))
            .unwrap()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap().to_string())
            .collect();
        let cef_configured = serde_json::json!({
            "vendor": "Agent|Sec", "product": "Router\\Prod", "version": "1.0",
            "name": ["event.action"], "severity": {"value": "5"}, "time_format": "rfc3339",
            "mapping": {"suser": "agent.id", "cs6Label": {"value": "model"}, "cs6": "agent.model", "flexString1": false,
                        "flexString1Label": false, "cn1": false, "deviceExternalId": {"value": "gw-1"},
                        "cs4": ["tool.arguments.url", "tool.arguments"]},
        });
        let runtime = Runtime::new(None).unwrap();
        for (plugin, config, golden) in [
            ("cef", "{}".to_owned(), "cef/tests/golden/default.cef"),
            ("cef", cef_configured.to_string(), "cef/tests/golden/configured.cef"),
            ("leef", "{}".to_owned(), "leef/tests/golden/v1-tab.leef"),
            ("leef", r#"{"version":"2.0","delimiter":"^"}"#.to_owned(), "leef/tests/golden/v2-caret.leef"),
            ("ocsf", "{}".to_owned(), "ocsf/tests/golden/shared.ocsf.jsonl"),
            ("json", "{}".to_owned(), "json/tests/golden/canonical.jsonl"),
        ] {
            let bytes = std::fs::read(format!("{}/{plugin}.wasm", env!("SLUICE_TEST_PLUGINS"))).unwrap();
            let mut instance =
                runtime.load(plugin, &bytes).unwrap().instantiate("t", &config, Limits::default()).unwrap();
            let lines: Vec<String> = instance
                .process(&corpus)
                .unwrap()
                .into_iter()
                .map(|outcome| match outcome {
                    Outcome::Emit(line) => line,
                    other => panic!("{plugin}: expected a line, got {other:?}"),
                })
                .collect();
            let expected = std::fs::read_to_string(format!("{root}/{golden}")).unwrap();
            let expected: Vec<&str> = expected.lines().collect();
            assert_eq!(lines.len(), expected.len(), "{golden}");
            for (n, (line, expected)) in lines.iter().zip(expected).enumerate() {
                assert_eq!(line, expected, "{golden}, line {}", n + 1);
            }
        }
    }

    /// A plugin waiting in a WASI clock wait uses no CPU: its wall time, three
    /// deadlines long, is not held against it.
    #[test]
    fn a_wait_that_uses_no_cpu_is_not_cut_by_the_deadline() {
        let (result, wall, cpu) = call(50, "SLEEP:150");
        assert!(matches!(result.as_deref(), Ok([Outcome::Keep])), "{result:?}");
        assert!(wall >= Duration::from_millis(150), "the plugin slept: {wall:?}");
        assert!(cpu < Duration::from_millis(50), "and used little CPU: {cpu:?}");
    }

    /// Past the wall-clock ceiling (ten deadlines) a call ends however little
    /// CPU it used, even in the middle of a wait.
    #[test]
    fn a_wait_past_the_wall_ceiling_is_cut_there() {
        let (result, wall, _) = call(20, "SLEEP:3000");
        let failure = result.expect_err("the wait is cut");
        assert!(failure.overran_deadline(), "{failure}");
        assert!(failure.reason().contains("exceeded its deadline of 20 ms"), "{failure}");
        assert!(wall >= Duration::from_millis(200), "not before the ceiling: {wall:?}");
        assert!(wall < Duration::from_millis(1500), "at the ceiling, not at the end of the wait: {wall:?}");
    }

    /// A busy loop is cut once it has used its deadline of CPU, and soon after.
    #[test]
    fn a_busy_loop_is_cut_after_its_deadline_of_cpu() {
        let (result, wall, cpu) = call(100, "LOOP");
        let failure = result.expect_err("the loop is cut");
        assert!(failure.overran_deadline(), "{failure}");
        assert_eq!(failure.reason(), "plugin `misbehave` exceeded its deadline of 100 ms");
        assert!(cpu >= Duration::from_millis(100), "it had its whole deadline of CPU: {cpu:?}");
        assert!(cpu < Duration::from_millis(300), "and not much more: {cpu:?}");
        assert!(wall < Duration::from_millis(1000), "{wall:?}");
    }

    /// A thread that gets half a core (pinned to one CPU with a spinning
    /// neighbour) still gets its whole deadline of CPU: the loop is cut after
    /// about twice the deadline of wall time, not after one.
    #[test]
    fn a_starved_thread_gets_its_whole_deadline_of_cpu() {
        let cpu_set = |cpu: usize| {
            // SAFETY: a zeroed cpu_set_t is an empty set; CPU_SET writes inside it.
            let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
            unsafe { libc::CPU_SET(cpu, &mut set) };
            set
        };
        let pin = |set: &libc::cpu_set_t| {
            // SAFETY: pid 0 is the calling thread; `set` is a valid cpu_set_t.
            let rc = unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), set) };
            assert_eq!(rc, 0, "pinning the thread: {}", std::io::Error::last_os_error());
        };
        // SAFETY: sched_getcpu has no preconditions.
        let cpu = unsafe { libc::sched_getcpu() } as usize;
        let spinning = Arc::new(AtomicBool::new(true));
        let neighbour = {
            let spinning = spinning.clone();
            std::thread::spawn(move || {
                pin(&cpu_set(cpu));
                while spinning.load(Ordering::Relaxed) {
                    std::hint::spin_loop();
                }
            })
        };
        pin(&cpu_set(cpu));
        let mut instance = misbehave(100);
        let (wall, cpu) = (Instant::now(), thread_cpu_time());
        let result = instance.process(&[r#"{"message":"LOOP"}"#.to_owned()]);
        let (wall, cpu) = (wall.elapsed(), thread_cpu_time() - cpu);
        spinning.store(false, Ordering::Relaxed);
        neighbour.join().unwrap();
        let failure = result.expect_err("the loop is cut");
        assert!(failure.overran_deadline(), "{failure}");
        assert!(cpu >= Duration::from_millis(100), "it had its whole deadline of CPU: {cpu:?}");
        assert!(wall >= Duration::from_millis(150), "which took more wall time on half a core: {wall:?}");
    }
}
