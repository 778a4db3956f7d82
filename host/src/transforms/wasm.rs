//! Transform `wasm`: runs a plugin on every batch, contains its failures.
//!
//! A worker owns its plugin instance, so the hot path takes no locks. A trap,
//! a deadline overrun or memory exhaustion fails that batch only: its events
//! go to the dead-letter output with the reason and the instance is replaced.
//! A deadline overrun is first retried once on a fresh instance, because a
//! first call's warm-up (a regex's lazy DFA) or a starved thread, not the
//! plugin, may be what made the call slow.
//! After `max_failures` failures in a row the plugin is quarantined: its
//! events are dead-lettered without calling it, while the rest of the router
//! runs on.

use super::workers::Spread;
use crate::dead_letter::DeadLetter;
use crate::event::{Batch, Event};
use crate::fanout::Fanout;
use crate::internal_events::{
    ComponentError, EventsDropped, EventsReceived, EventsSent, InternalEvent, PluginCallRetried, PluginReloadRejected,
};
use crate::metrics::ComponentMetrics;
use crate::plugins::edits;
use crate::plugins::slots::Slots;
use crate::plugins::state::StateLimits;
use crate::plugins::{CallFailure, Grants, Instance, Limits, Outcome, Plugin};
use crate::validation::ConfigError;
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// `[transforms.<id>]` with `type = "wasm"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WasmConfig {
    /// A built-in plugin name, a stem from `plugins.dir`, or a path to a component.
    pub plugin: String,
    /// Passed to the plugin's `configure` as JSON.
    #[serde(default)]
    pub config: toml::Table,
    #[serde(default)]
    pub limits: LimitsConfig,
    /// Plugin instances run in parallel, each on a thread of its own
    /// (default: the number of cores). See `transforms::workers`.
    pub workers: Option<usize>,
    /// Spread events over the workers by this field's value (`agent.id`),
    /// so each value's events meet one instance, in order; unset: whole
    /// batches in turn, in order.
    pub shard_by: Option<String>,
}

/// `limits = { … }` of a wasm transform.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// CPU-time budget of one batch, in milliseconds; the call also ends
    /// after ten times as much wall time (see `plugins::deadline`).
    pub deadline_ms: u64,
    /// Cap on the plugin's memory, in MiB.
    pub memory_mb: u64,
    /// Failed batches in a row before the plugin is quarantined.
    pub max_failures: u32,
    /// Cap on the keys and values the plugin keeps in its `state`, in MiB.
    pub state_mb: u64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig { deadline_ms: 100, memory_mb: 64, max_failures: 5, state_mb: 16 }
    }
}

impl WasmConfig {
    pub fn validate(&self, at: &str, errors: &mut Vec<ConfigError>) {
        if self.plugin.trim().is_empty() {
            errors.push(ConfigError::new(format!("{at}.plugin"), "must name a plugin"));
        }
        if let Some(workers) = self.workers
            && !(1..=256).contains(&workers)
        {
            errors.push(ConfigError::new(format!("{at}.workers"), "must be between 1 and 256"));
        }
        if let Some(path) = &self.shard_by
            && let Err(problem) = Slots::new(std::slice::from_ref(path))
        {
            errors.push(ConfigError::new(format!("{at}.shard_by"), problem));
        }
        let limits = &self.limits;
        if !(1..=60_000).contains(&limits.deadline_ms) {
            errors.push(ConfigError::new(format!("{at}.limits.deadline_ms"), "must be between 1 and 60000"));
        }
        if !(1..=4096).contains(&limits.memory_mb) {
            errors.push(ConfigError::new(format!("{at}.limits.memory_mb"), "must be between 1 and 4096"));
        }
        if !(1..=4096).contains(&limits.state_mb) {
            errors.push(ConfigError::new(format!("{at}.limits.state_mb"), "must be between 1 and 4096"));
        }
        if limits.max_failures == 0 {
            errors.push(ConfigError::new(format!("{at}.limits.max_failures"), "must be at least 1"));
        }
    }

    /// The `config` table as the JSON text `configure` receives.
    pub fn config_json(&self) -> String {
        serde_json::to_string(&self.config).expect("a TOML table serialises as JSON")
    }

    /// How many workers run the plugin: `workers`, or by default the
    /// number of cores. (On two cores P1's three stages measured the same
    /// CPU per event with one worker each as with two: BENCHMARKS.md.)
    pub fn workers(&self) -> usize {
        self.workers.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
    }

    /// How batches are spread over the workers.
    pub fn spread(&self) -> Spread {
        match &self.shard_by {
            None => Spread::ByBatch,
            Some(path) => Spread::ByKey(Slots::new(std::slice::from_ref(path)).expect("checked by validate")),
        }
    }

    /// How much state the plugin may keep.
    pub fn state_limits(&self) -> StateLimits {
        StateLimits { max_bytes: self.limits.state_mb << 20, ..StateLimits::default() }
    }

    pub fn limits(&self) -> Limits {
        Limits {
            deadline: Duration::from_millis(self.limits.deadline_ms),
            memory_bytes: (self.limits.memory_mb as usize) << 20,
        }
    }
}

/// A running wasm transform (one worker).
pub struct WasmTransform {
    plugin: Plugin,
    config_json: String,
    limits: Limits,
    max_failures: u32,
    instance: Option<Instance>,
    failures_in_a_row: u32,
    quarantine: Option<String>,
    metrics: Arc<ComponentMetrics>,
    dead_letter: DeadLetter,
    /// The clock and state store every instance of this transform gets; the
    /// store outlives instances and versions.
    grants: Grants,
    /// New versions of the plugin from hot reload, already checked with this
    /// transform's config; taken only between two batches.
    updates: Option<watch::Receiver<Plugin>>,
}

impl WasmTransform {
    /// Instantiate the plugin and run its `configure`: an error here is a config error.
    pub fn new(
        plugin: Plugin,
        config: &WasmConfig,
        metrics: Arc<ComponentMetrics>,
        dead_letter: DeadLetter,
        grants: Grants,
    ) -> anyhow::Result<Self> {
        let config_json = config.config_json();
        let limits = config.limits();
        let instance = plugin.instantiate_with(metrics.id(), &config_json, limits, &grants)?;
        log_metadata(metrics.id(), &plugin, &instance);
        Ok(WasmTransform {
            plugin,
            config_json,
            limits,
            max_failures: config.limits.max_failures,
            instance: Some(instance),
            failures_in_a_row: 0,
            quarantine: None,
            metrics,
            dead_letter,
            grants,
            updates: None,
        })
    }

    /// The plugin's configuration as `configure` receives it, and its limits: what
    /// hot reload checks a new version against.
    pub fn settings(&self) -> (String, Limits) {
        (self.config_json.clone(), self.limits)
    }

    /// Follow new versions of the plugin published on `updates`.
    pub fn follow_updates(&mut self, updates: watch::Receiver<Plugin>) {
        self.updates = Some(updates);
    }

    /// Stop following new versions and hand their channel over, to a
    /// dispatcher that swaps every worker of a transform at the same batch.
    pub fn take_updates(&mut self) -> Option<watch::Receiver<Plugin>> {
        self.updates.take()
    }

    /// Swap in a newer version if one was published. Called between batches,
    /// so each event is processed by exactly one version, in order.
    fn take_update(&mut self) {
        let Some(updates) = self.updates.as_mut() else { return };
        if !updates.has_changed().unwrap_or(false) {
            return;
        }
        let plugin = updates.borrow_and_update().clone();
        self.swap_to(plugin);
    }

    /// Run `plugin` from the next batch on. Instantiated now rather than on
    /// the next call, so the pause is here and a surprise failure leaves the
    /// old version running.
    pub fn swap_to(&mut self, plugin: Plugin) {
        let started = std::time::Instant::now();
        match plugin.instantiate_with(self.metrics.id(), &self.config_json, self.limits, &self.grants) {
            Ok(instance) => {
                log_metadata(self.metrics.id(), &plugin, &instance);
                self.plugin = plugin;
                self.instance = Some(instance);
                self.failures_in_a_row = 0;
                self.quarantine = None;
                let pause_us = started.elapsed().as_micros() as u64;
                tracing::info!(component = %self.metrics.id(), sha256 = self.plugin.digest(), pause_us,
                    "new plugin version swapped in between two batches");
            }
            Err(err) => PluginReloadRejected { plugin: plugin.name(), reason: &format!("{err:#}") }.emit(&self.metrics),
        }
    }

    /// Process the next batch: first swap in a newer plugin version if one
    /// was published, so each batch is processed by one version.
    pub fn process_next(&mut self, batch: Batch) -> Batch {
        self.take_update();
        self.process(batch)
    }

    /// Process batches until every input has closed.
    pub fn run(mut self, mut input: mpsc::Receiver<Batch>, out: Fanout) {
        while let Some(batch) = input.blocking_recv() {
            let batch = self.process_next(batch);
            let n = batch.len();
            if out.blocking_send(batch).is_err() {
                ComponentError {
                    what: "every consumer has stopped; failing what is still queued",
                    error: &"consumers gone",
                }
                .emit(&self.metrics);
                input.close();
                while let Ok(batch) = input.try_recv() {
                    if let Some(finaliser) = batch.finaliser() {
                        finaliser.fail();
                    }
                }
                return;
            }
            EventsSent { count: n }.emit(&self.metrics);
        }
    }

    /// Run one batch through the plugin; returns what goes on.
    pub fn process(&mut self, mut batch: Batch) -> Batch {
        EventsReceived { count: batch.len() }.emit(&self.metrics);
        let mut events = std::mem::take(&mut batch.events);
        let mut texts: Vec<String> = events.iter_mut().map(Event::take_json).collect();
        let result = match &self.quarantine {
            Some(reason) => Err(CallFailure::new(reason.clone())),
            None => self.call(&texts),
        };
        let outcomes = match result {
            Ok(outcomes) => outcomes,
            Err(failure) => {
                for (event, text) in events.iter_mut().zip(texts) {
                    event.restore_json(text);
                }
                let records = events.into_iter().map(|event| (event, failure.reason().to_owned())).collect();
                self.dead_letter.blocking_send(&self.metrics, &batch, records);
                return batch;
            }
        };

        let mut kept = Vec::with_capacity(events.len());
        let mut failed = Vec::new();
        let mut dropped = 0;
        let plugin = self.plugin.name();
        for ((mut event, text), outcome) in events.into_iter().zip(texts.drain(..)).zip(outcomes) {
            event.restore_json(text);
            match apply(plugin, event.json(), outcome) {
                Applied::Unchanged => kept.push(event),
                Applied::Rewritten(json) => {
                    event.set_json(json);
                    kept.push(event);
                }
                Applied::Line(line) => {
                    event.set_line(line);
                    kept.push(event);
                }
                Applied::Children(children) => kept.extend(children.into_iter().map(Event::from_json)),
                Applied::Dropped => dropped += 1,
                // The event goes to the dead letter as it came in: what the
                // plugin answered is not an event anything downstream can read.
                Applied::Failed(reason) => {
                    failed.push((event, format!("plugin `{plugin}` failed the event: {reason}")))
                }
                Applied::Invalid(reason) => failed.push((event, reason)),
            }
        }
        EventsDropped { count: dropped }.emit(&self.metrics);
        self.dead_letter.blocking_send(&self.metrics, &batch, failed);
        if let Err(err) = self.grants.state.flush() {
            ComponentError {
                what: "writing the plugin's state failed; its changes are kept in memory",
                error: &format!("{err:#}"),
            }
            .emit(&self.metrics);
        }
        batch.events = kept;
        batch
    }

    /// Call the plugin, once more on a fresh instance if the call overran its
    /// deadline, and keep count of failed batches in a row.
    ///
    /// A plugin that overruns on every event costs two deadlines per batch.
    fn call(&mut self, texts: &[String]) -> Result<Vec<Outcome>, CallFailure> {
        let mut result = self.attempt(texts);
        if let Err(failure) = &result
            && failure.overran_deadline()
        {
            PluginCallRetried { reason: failure }.emit(&self.metrics);
            result = self.attempt(texts);
        }
        match &result {
            Ok(_) => self.failures_in_a_row = 0,
            Err(failure) => {
                self.failures_in_a_row += 1;
                ComponentError { what: "plugin call failed; batch sent to the dead-letter output", error: failure }
                    .emit(&self.metrics);
                if self.failures_in_a_row >= self.max_failures {
                    let reason = format!(
                        "plugin `{}` is quarantined after {} failed batches in a row (last: {failure})",
                        self.plugin.name(),
                        self.failures_in_a_row
                    );
                    ComponentError {
                        what: "plugin quarantined; its events go to the dead-letter output",
                        error: &reason,
                    }
                    .emit(&self.metrics);
                    self.quarantine = Some(reason);
                }
            }
        }
        result
    }

    /// One call of the plugin, on a fresh instance if the last call failed.
    fn attempt(&mut self, texts: &[String]) -> Result<Vec<Outcome>, CallFailure> {
        let result = match self.instance.as_mut() {
            Some(instance) => instance.process(texts),
            None => match self.plugin.instantiate_with(self.metrics.id(), &self.config_json, self.limits, &self.grants)
            {
                Ok(instance) => self.instance.insert(instance).process(texts),
                Err(err) => Err(CallFailure::new(format!("{err:#}"))),
            },
        };
        if result.is_err() {
            // A failed call leaves the store poisoned: start afresh next time.
            self.instance = None;
        }
        result
    }
}

/// What a plugin's outcome makes of the event it answers, as the router
/// applies it: the one reading of outcomes, for the transform and for
/// `plugin check`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// Passed on as it came in.
    Unchanged,
    /// Passed on as this JSON text (replaced, or edited by the router).
    Rewritten(String),
    /// Passed on with this formatted line.
    Line(String),
    /// These events (JSON objects, checked) take its place.
    Children(Vec<String>),
    /// Filtered out on purpose (`drop`, or a `split` into nothing).
    Dropped,
    /// The plugin failed it, for this reason of its own.
    Failed(String),
    /// The plugin answered with something the router refuses (text that is
    /// not an object, an edit that cannot apply): the dead-letter reason.
    Invalid(String),
}

/// Apply `outcome`, from plugin `plugin`, to the event `json`.
pub fn apply(plugin: &str, json: &str, outcome: Outcome) -> Applied {
    match outcome {
        Outcome::Keep => Applied::Unchanged,
        Outcome::Replace(json) => match check_object(&json) {
            Ok(()) => Applied::Rewritten(json),
            Err(problem) => Applied::Invalid(format!("plugin `{plugin}` returned {problem}")),
        },
        Outcome::Edit(list) => match edits::apply(json, &list) {
            Ok(json) => Applied::Rewritten(json),
            Err(problem) => Applied::Invalid(format!("plugin `{plugin}` answered with an edit that failed: {problem}")),
        },
        Outcome::Emit(line) => Applied::Line(line),
        // Every child is checked before any is passed on, so an event is
        // either replaced whole or dead-lettered whole.
        Outcome::Split(children) => {
            match children.iter().enumerate().find_map(|(n, child)| check_object(child).err().map(|p| (n, p))) {
                None if children.is_empty() => Applied::Dropped,
                None => Applied::Children(children),
                Some((n, problem)) => Applied::Invalid(format!(
                    "plugin `{plugin}` split the event into {} events, of which number {} is {problem}",
                    children.len(),
                    n + 1
                )),
            }
        }
        Outcome::Drop => Applied::Dropped,
        Outcome::Fail(reason) => Applied::Failed(reason),
    }
}

/// Say which plugin a transform runs, as the plugin describes itself, and
/// warn when it claims a contract other than the one it implements.
fn log_metadata(component: &str, plugin: &Plugin, instance: &Instance) {
    let contract = plugin.contract();
    match instance.metadata() {
        Some(meta) => {
            tracing::info!(component, plugin = plugin.name(), name = %meta.name, version = %meta.version,
                contract = %contract, "plugin ready");
            if meta.contract != contract.version() {
                tracing::warn!(component, plugin = plugin.name(), claimed = %meta.contract, implements = %contract,
                    "the plugin's metadata names another contract version than the world it implements");
            }
        }
        None => tracing::info!(component, plugin = plugin.name(), contract = %contract, "plugin ready"),
    }
}

/// Check that a plugin's replacement text is one JSON object, so that a sink,
/// the dead letter or the next plugin never gets something that is not an
/// event. It only validates (nothing is built): a single pass over the text.
pub fn check_object(json: &str) -> Result<(), String> {
    if let Err(err) = serde_json::from_str::<serde::de::IgnoredAny>(json) {
        return Err(format!("text that is not valid JSON ({err})"));
    }
    let kind = match json.trim_start_matches([' ', '\t', '\n', '\r']).as_bytes().first() {
        Some(b'{') => return Ok(()),
        Some(b'[') => "an array",
        Some(b'"') => "a string",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        _ => "a number",
    };
    Err(format!("JSON that is not an object ({kind})"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dead_letter::Rejected;
    use crate::metrics::Metrics;
    use crate::plugins::Runtime;
    use std::sync::OnceLock;

    fn runtime() -> &'static Runtime {
        static RUNTIME: OnceLock<Runtime> = OnceLock::new();
        RUNTIME.get_or_init(|| Runtime::new(None).expect("runtime"))
    }

    fn test_plugin(name: &str) -> Plugin {
        let path = format!("{}/{name}.wasm", env!("SLUICE_TEST_PLUGINS"));
        let bytes = std::fs::read(&path).expect("test plugin built by build.rs");
        runtime().load(name, &bytes).expect("plugin loads")
    }

    fn transform(name: &str, config: &str) -> (WasmTransform, mpsc::Receiver<Rejected>) {
        transform_of(test_plugin(name), config, Grants::default())
    }

    fn transform_of(plugin: Plugin, config: &str, grants: Grants) -> (WasmTransform, mpsc::Receiver<Rejected>) {
        let config: WasmConfig = toml::from_str(&format!("plugin = \"{}\"\n{config}", plugin.name())).expect("config");
        let metrics = Metrics::default();
        let (dead_letter, rx) = DeadLetter::channel(metrics.component("dead_letter"));
        let transform =
            WasmTransform::new(plugin, &config, metrics.component("t"), dead_letter, grants).expect("transform starts");
        (transform, rx)
    }

    fn json_batch(events: &[serde_json::Value]) -> Batch {
        Batch::new(events.iter().map(|e| Event::from_json(e.to_string())).collect())
    }

    fn values(batch: &Batch) -> Vec<serde_json::Value> {
        batch.events.iter().map(|e| serde_json::from_str(e.json()).unwrap()).collect()
    }

    /// The 0.2 plugin kept as a fixture: built by the SDK of the last 0.2
    /// release (tests/fixtures/contract-0.2/README.md).
    fn contract_0_2_tag() -> Plugin {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/contract-0.2/tag.wasm");
        runtime().load("tag-0.2", &std::fs::read(path).expect("the 0.2 fixture")).expect("a 0.2 plugin loads")
    }

    #[test]
    fn a_0_2_plugin_runs_beside_a_0_3_one() {
        use crate::plugins::Contract;
        let old = contract_0_2_tag();
        assert_eq!(old.contract(), Contract::V02);
        let new = test_plugin("tag");
        assert_eq!(new.contract(), Contract::V03);
        let (mut old, mut dead_old) =
            transform_of(old, "config = { stage = \"old\", drop_containing = \"x\" }", Grants::default());
        let (mut new, _) =
            transform_of(new, "config = { stage = \"new\", fail_containing = \"bad\" }", Grants::default());
        let out = new.process(old.process(batch(&["a", "x", "bad"])));
        let stages: Vec<serde_json::Value> = values(&out).iter().map(|e| e["stages"].clone()).collect();
        assert_eq!(stages, [serde_json::json!(["old", "new"])], "both stages ran, in order");
        assert!(dead_old.try_recv().is_err(), "the 0.2 stage dropped `x`, it did not fail it");
        assert_eq!(old.metrics.counts().dropped, 1);
        assert_eq!(new.instance.as_ref().unwrap().metadata().map(|m| m.contract.as_str()), Some("0.3.0"));
        assert!(old.instance.as_ref().unwrap().metadata().is_none(), "0.2 has no metadata export");
    }

    #[test]
    fn declared_fields_reach_the_plugin_at_their_slots() {
        let (mut transform, _) = transform("capabilities", "");
        let events = [
            serde_json::json!({"message": "READ", "agent": {"id": "agt \"7\"", "model": "m"}, "big": [1, {"message": "no"}]}),
            serde_json::json!({"agent": {"name": "x"}, "message": "READ"}),
        ];
        let out = values(&transform.process(json_batch(&events)));
        assert_eq!(out[0]["read"], serde_json::json!({"message": "READ", "agent.id": "agt \"7\""}));
        assert_eq!(out[1]["read"], serde_json::json!({"message": "READ", "agent.id": ""}), "absent reads as empty");
    }

    #[test]
    fn edits_are_applied_by_the_host_and_a_bad_edit_fails_only_its_event() {
        let (mut transform, mut dead) = transform("capabilities", "");
        let events = [
            serde_json::json!({"message": "EDIT", "remove_me": 1, "old": {"k": "v"}, "kept": true}),
            serde_json::json!({"message": "BADEDIT"}),
            serde_json::json!({"message": "other"}),
        ];
        let out = values(&transform.process(json_batch(&events)));
        assert_eq!(
            out,
            [
                serde_json::json!({"message": "EDIT", "edited": true, "new": {"k": "v"}, "kept": true}),
                serde_json::json!({"message": "other"})
            ]
        );
        let rejected = dead.try_recv().expect("the bad edit is dead-lettered");
        assert_eq!(rejected.records().len(), 1);
        assert_eq!(
            rejected.records()[0].1,
            "plugin `capabilities` answered with an edit that failed: edit 1 of 1 (set `message.inner`): \
             `message` is not an object but a string"
        );
    }

    /// One event becomes three, in its place and order; they travel in the
    /// parent's batch, so the source hears the batch delivered only when the
    /// last of them is.
    #[test]
    fn a_split_event_s_children_take_its_place_and_share_its_acknowledgement() {
        let (mut transform, _) = transform("capabilities", "");
        let (finaliser, mut status) = crate::ack::Finaliser::new();
        let events = ["before", "SPLIT:a,b,c", "SPLIT:", "after"]
            .iter()
            .map(|m| Event::from_json(serde_json::json!({"message": m, "agent": {"id": "g"}}).to_string()))
            .collect();
        let out = transform.process(Batch::with_finaliser(events, finaliser));
        assert_eq!(messages(&out), ["before", "a", "b", "c", "after"], "an empty split is a drop");
        assert_eq!(values(&out)[3], serde_json::json!({"message": "c", "part": 2, "agent": {"id": "g"}}));
        assert_eq!(transform.metrics.counts().dropped, 1);
        let mut parts = out.events.clone();
        let first = out.split_off(parts.drain(..2).collect());
        drop(out);
        assert!(status.try_recv().is_err(), "not acknowledged while children are in flight");
        drop(first);
        assert_eq!(status.try_recv().unwrap(), crate::ack::BatchStatus::Delivered);
    }

    /// The state belongs to the transform, not the instance: a replaced
    /// instance, a new version and a restart (the store reopened from its
    /// directory) all see the count so far.
    #[test]
    fn state_outlives_instances_versions_and_restarts() {
        use crate::plugins::state::{StateLimits, StateStore};
        let dir = tempfile::tempdir().unwrap();
        let open = || Grants {
            clock: crate::plugins::PluginClock::Real,
            state: Arc::new(StateStore::open(dir.path(), StateLimits::default()).unwrap()),
        };
        let count = |transform: &mut WasmTransform| {
            let event = serde_json::json!({"message": "COUNT", "agent": {"id": "agt-1"}});
            values(&transform.process(json_batch(&[event])))[0]["count"].clone()
        };
        let grants = open();
        let (mut transform, _) = transform_of(test_plugin("capabilities"), "", grants.clone());
        assert_eq!(count(&mut transform), 1);
        transform.instance = None; // as after a trap
        assert_eq!(count(&mut transform), 2, "a fresh instance");
        let (tx, rx) = watch::channel(test_plugin("capabilities"));
        transform.follow_updates(rx);
        tx.send_modify(|_| {});
        assert_eq!(count(&mut transform), 3, "a hot-reloaded version");
        drop((transform, grants));
        let (mut restarted, _) = transform_of(test_plugin("capabilities"), "", open());
        assert_eq!(count(&mut restarted), 4, "after a restart");
    }

    #[test]
    fn a_full_state_refuses_with_the_limit_and_the_clock_can_be_frozen() {
        let frozen = std::time::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let grants = Grants { clock: crate::plugins::PluginClock::Frozen(frozen), ..Grants::default() };
        let (mut frozen, mut dead) = transform_of(test_plugin("capabilities"), "", grants);
        let out = values(&frozen.process(batch(&["CLOCK", "FILLSTATE"])));
        assert_eq!(out[0]["now"], 1_800_000_000);
        assert_eq!(out[0]["monotonic"], 0);
        let rejected = dead.try_recv().unwrap();
        assert_eq!(
            rejected.records()[0].1,
            "plugin `capabilities` failed the event: refused: a state value of 2097152 bytes is larger than 1048576 bytes"
        );
        let (mut real, _) = transform("capabilities", "");
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        let read = values(&real.process(batch(&["CLOCK"])))[0]["now"].as_u64().unwrap();
        assert!(read.abs_diff(now) <= 5, "the real clock: {read} against {now}");
    }

    fn batch(messages: &[&str]) -> Batch {
        Batch::new(messages.iter().map(|m| Event::from_json(format!(r#"{{"message":"{m}"}}"#))).collect())
    }

    fn messages(batch: &Batch) -> Vec<String> {
        batch
            .events
            .iter()
            .map(|e| {
                serde_json::from_str::<serde_json::Value>(e.json()).unwrap()["message"].as_str().unwrap().to_owned()
            })
            .collect()
    }

    /// Each misbehaviour fails only its own batch: the batch is dead-lettered with
    /// a reason that names the cause, and the next batch goes through.
    fn contained(marker: &str, limits: &str, expected_reason: &str, retries: u64) {
        let (mut transform, mut dead) = transform("misbehave", limits);
        let out = transform.process(batch(&["a", marker, "b"]));
        assert_eq!(transform.metrics.counts().retries, retries, "retries of {marker}");
        assert!(out.is_empty(), "a failed batch passes nothing on");
        let rejected = dead.try_recv().expect("the batch went to the dead letter");
        assert_eq!(rejected.records().len(), 3, "every event of the batch is dead-lettered");
        let reason = &rejected.records()[1].1;
        assert!(reason.contains(expected_reason), "reason {reason:?} should mention {expected_reason:?}");
        assert!(rejected.records()[1].0.json().contains(marker), "the original event is kept");

        let out = transform.process(batch(&["c", "d"]));
        assert_eq!(messages(&out), ["c", "d"], "the next batch succeeds on a fresh instance");
    }

    #[test]
    fn an_infinite_loop_hits_the_deadline() {
        contained("LOOP", "limits = { deadline_ms = 50 }", "exceeded its deadline of 50 ms", 1);
    }

    #[test]
    fn unbounded_allocation_hits_the_memory_limit() {
        // Running out of memory is no accident of load: it is not retried.
        contained("OOM", "limits = { memory_mb = 16 }", "exceeded its memory limit of 16 MiB", 0);
    }

    #[test]
    fn a_panic_traps_and_quotes_the_panic_message() {
        contained("TRAP", "", "asked to trap", 0);
    }

    /// The sandbox grants nothing beyond the contract: a plugin that tries to
    /// read a file, connect out, read the environment or the clock gets an
    /// error or a frozen clock, and the attempt fails only its own event.
    #[test]
    fn a_plugin_gets_no_file_network_environment_or_clock() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let connect = format!("CONNECT:{}", listener.local_addr().unwrap());
        let manifest = format!("OPEN:{}/Cargo.toml", env!("CARGO_MANIFEST_DIR"));
        let (mut transform, mut dead) = transform("misbehave", "");
        let out = transform.process(batch(&["OPEN:/etc/hostname", &manifest, &connect, "ENV:PATH", "CLOCK", "ok"]));
        assert_eq!(messages(&out), ["ok"], "only the harmless event passes");
        let rejected = dead.try_recv().expect("the attempts are dead-lettered");
        let reasons: Vec<&str> = rejected.records().iter().map(|(_, reason)| reason.as_str()).collect();
        let prefix = "plugin `misbehave` failed the event: ";
        assert!(reasons[0].starts_with(&format!("{prefix}open /etc/hostname: ")), "{}", reasons[0]);
        assert!(reasons[1].starts_with(&format!("{prefix}open {}: ", &manifest[5..])), "{}", reasons[1]);
        assert!(reasons[2].starts_with(&format!("{prefix}connect {}: ", &connect[8..])), "{}", reasons[2]);
        assert_eq!(reasons[3], format!("{prefix}env PATH: environment variable not found"));
        assert_eq!(reasons[4], format!("{prefix}clock: 0 s since the epoch"));
        assert!(
            matches!(listener.accept(), Err(err) if err.kind() == std::io::ErrorKind::WouldBlock),
            "no connection reached the listener"
        );
    }

    /// A call cut short by its deadline may be the machine's fault, not the
    /// plugin's: the batch is run again once, on a fresh instance, and passes
    /// through whole when that succeeds; the retry is counted, and the
    /// overrun does not count towards quarantine.
    #[test]
    fn a_batch_that_overruns_once_passes_on_the_retry() {
        let (mut transform, mut dead) = transform("misbehave", "limits = { deadline_ms = 50, max_failures = 1 }");
        assert_eq!(messages(&transform.process(batch(&["SLOW_IF_USED"]))), ["SLOW_IF_USED"], "fresh: no overrun");
        let out = transform.process(batch(&["a", "SLOW_IF_USED", "b"]));
        assert_eq!(messages(&out), ["a", "SLOW_IF_USED", "b"], "the batch passes on intact");
        assert!(dead.try_recv().is_err(), "nothing was dead-lettered");
        let counts = transform.metrics.counts();
        assert_eq!((counts.retries, counts.errors, counts.dead_lettered), (1, 0, 0), "{counts:?}");
        assert!(transform.quarantine.is_none(), "a batch that succeeded on retry is no failure");
        assert_eq!(transform.failures_in_a_row, 0);

        let out = transform.process(batch(&["c", "d"]));
        assert_eq!(messages(&out), ["c", "d"], "the instance of the retry runs on");
        assert_eq!(transform.metrics.counts().retries, 1);
    }

    /// A plugin that loops on every event is tried twice per batch, no more:
    /// two deadlines of CPU, then the batch is dead-lettered.
    #[test]
    fn a_plugin_that_always_overruns_costs_two_deadlines_per_batch() {
        use crate::plugins::deadline::thread_cpu_time;
        let deadline = Duration::from_millis(200);
        let (mut transform, mut dead) = transform("misbehave", "limits = { deadline_ms = 200 }");
        let (started, cpu_before) = (std::time::Instant::now(), thread_cpu_time());
        let out = transform.process(batch(&["a", "LOOP"]));
        let (took, cpu) = (started.elapsed(), thread_cpu_time() - cpu_before);
        assert!(out.is_empty());
        let rejected = dead.try_recv().expect("the batch is dead-lettered after the retry");
        assert_eq!(rejected.records().len(), 2);
        assert_eq!(rejected.records()[1].1, "plugin `misbehave` exceeded its deadline of 200 ms");
        let counts = transform.metrics.counts();
        assert_eq!((counts.retries, counts.errors, counts.dead_lettered), (1, 1, 2), "{counts:?}");
        assert_eq!(transform.failures_in_a_row, 1, "one failed batch, however many attempts");
        // The deadline counts the CPU this thread used (the calls run on it),
        // so the count holds however loaded the machine is: each attempt used
        // at least its deadline, and there was no third.
        assert!(cpu >= 2 * deadline, "two attempts use at least two deadlines of CPU: {cpu:?}");
        assert!(cpu < 3 * deadline, "at most two attempts: {cpu:?}");
        assert!(took >= cpu, "{took:?}");
    }

    /// Every instance, the first and each fresh one, has been given one empty
    /// batch after `configure` and before its first events.
    #[test]
    fn each_instance_is_warmed_with_one_empty_batch() {
        let (mut transform, mut dead) = transform("misbehave", "");
        transform.process(batch(&["WARMED"]));
        transform.process(batch(&["TRAP"]));
        transform.process(batch(&["WARMED"]));
        let reasons: Vec<String> =
            std::iter::from_fn(|| dead.try_recv().ok()).map(|r| r.records()[0].1.clone()).collect();
        let warmed = "plugin `misbehave` failed the event: empty batches before this one: 1";
        assert_eq!(reasons.len(), 3, "{reasons:?}");
        assert_eq!(reasons[0], warmed);
        assert_eq!(reasons[2], warmed, "the instance that replaced the trapped one");
    }

    /// Text a plugin hands the host is cut to a length a log or a terminal can
    /// take, on a char boundary, saying how much was cut.
    #[test]
    fn a_huge_failure_reason_is_cut_saying_how_much() {
        let (mut transform, mut dead) = transform("misbehave", "limits = { deadline_ms = 10000 }");
        let out = transform.process(batch(&["HUGE_FAIL", "ok"]));
        assert_eq!(messages(&out), ["ok"]);
        let rejected = dead.try_recv().expect("the event is dead-lettered");
        let reason = &rejected.records()[0].1;
        assert!(
            reason.starts_with("plugin `misbehave` failed the event: asked for a huge reason: éé"),
            "{reason:.200}"
        );
        assert!(reason.len() < 2_500, "{} bytes", reason.len());
        assert!(reason.ends_with("é… (10,483,810 more bytes cut)"), "{}", &reason[reason.len() - 60..]);
    }

    #[test]
    fn a_huge_config_error_is_cut_saying_how_much() {
        let config: WasmConfig =
            toml::from_str("plugin = \"misbehave\"\nconfig = { refuse_huge = true }\nlimits = { deadline_ms = 10000 }")
                .unwrap();
        let metrics = Metrics::default();
        let (dead_letter, _rx) = DeadLetter::channel(metrics.component("dead_letter"));
        let err = WasmTransform::new(
            test_plugin("misbehave"),
            &config,
            metrics.component("t"),
            dead_letter,
            Grants::default(),
        )
        .err()
        .expect("configure refuses");
        let err = format!("{err:#}");
        assert!(err.contains("rejected its config: config key `refuse_huge` is set: éé"), "{err:.200}");
        assert!(err.len() < 2_500, "{} bytes", err.len());
        assert!(err.ends_with("é… (10,483,826 more bytes cut)"), "{}", &err[err.len() - 60..]);
    }

    #[test]
    fn outcomes_keep_drop_fail_and_emit() {
        let config = r#"config = { stage = "s", drop_containing = "skip", fail_containing = "bad" }"#;
        let (mut transform, mut dead) = transform("tag", config);
        let out = transform.process(batch(&["one", "skip me", "bad one", "two"]));
        assert_eq!(messages(&out), ["one", "two"]);
        let first: serde_json::Value = serde_json::from_str(out.events[0].json()).unwrap();
        assert_eq!(first["stages"], serde_json::json!(["s"]));
        let rejected = dead.try_recv().expect("failed event dead-lettered");
        assert_eq!(rejected.records().len(), 1);
        assert_eq!(rejected.records()[0].1, "plugin `tag` failed the event: stage s refused the event");

        let (mut emitter, _dead) = transform_with_emit();
        let out = emitter.process(batch(&["hello"]));
        assert_eq!(out.events[0].body(), "e|hello");
    }

    fn transform_with_emit() -> (WasmTransform, mpsc::Receiver<Rejected>) {
        transform("tag", r#"config = { stage = "e", emit = true }"#)
    }

    #[test]
    fn state_persists_between_batches_in_one_instance() {
        let (mut transform, _dead) = transform("tag", r#"config = { stage = "n" }"#);
        transform.process(batch(&["a", "b"]));
        let out = transform.process(batch(&["c"]));
        let event: serde_json::Value = serde_json::from_str(out.events[0].json()).unwrap();
        assert_eq!(event["n_seen"], 3);
    }

    #[test]
    fn repeated_failures_quarantine_the_plugin() {
        let (mut transform, mut dead) = transform("misbehave", "limits = { max_failures = 2 }");
        transform.process(batch(&["TRAP"]));
        transform.process(batch(&["TRAP"]));
        let out = transform.process(batch(&["fine"]));
        assert!(out.is_empty(), "a quarantined plugin is not called");
        let reasons: Vec<String> =
            std::iter::from_fn(|| dead.try_recv().ok()).map(|r| r.records()[0].1.clone()).collect();
        assert_eq!(reasons.len(), 3);
        assert!(reasons[2].contains("quarantined after 2 failed batches"), "{}", reasons[2]);
    }

    /// Replacement text that is not JSON (even with braces at both ends), or
    /// JSON that is not an object, sends that one event to the dead letter as
    /// it came in, with a reason naming the problem; the rest of the batch
    /// passes on, and the plugin is not counted as failing (no quarantine).
    #[test]
    fn output_that_is_not_a_json_object_is_dead_lettered_alone() {
        let (mut transform, mut dead) = transform("misbehave", "limits = { max_failures = 1 }");
        for _ in 0..3 {
            let out = transform.process(batch(&["a", "BADJSON", "b", "NOTOBJECT", "c"]));
            assert_eq!(messages(&out), ["a", "b", "c"], "the rest of the batch passes on");
            let rejected = dead.try_recv().expect("the bad events are dead-lettered");
            let records = rejected.records();
            assert_eq!(records.len(), 2, "{records:?}");
            assert_eq!(
                records[0].1,
                "plugin `misbehave` returned text that is not valid JSON (expected value at line 1 column 13)"
            );
            assert_eq!(records[1].1, "plugin `misbehave` returned JSON that is not an object (an array)");
            assert_eq!(records[0].0.json(), r#"{"message":"BADJSON"}"#, "the event as it came in");
            assert_eq!(records[1].0.json(), r#"{"message":"NOTOBJECT"}"#, "the event as it came in");
        }
        assert!(dead.try_recv().is_err(), "nothing else was dead-lettered");
        assert!(transform.quarantine.is_none(), "bad output fails events, not the plugin");
    }

    #[test]
    fn the_output_check_names_what_the_text_is() {
        let ok = [r#"{}"#, r#" {"a":[1,{"b":null}]} "#, "\n\t{\"k\":\"\\u00e9\"}\r\n", r#"{"n":-1e400}"#];
        for text in ok {
            assert_eq!(check_object(text), Ok(()), "{text:?}");
        }
        let not_json = ["", " ", "{", "{} {}", r#"{"a":1} x"#, "{'a':1}", r#"{"a":1,}"#, "{\"a\":\"\\x\"}", "\u{a0}{}"];
        for text in not_json {
            let problem = check_object(text).expect_err(text);
            assert!(problem.starts_with("text that is not valid JSON ("), "{text:?}: {problem}");
        }
        // Validation does not recurse: deep nesting costs no stack.
        let deep = format!("{}0{}", "{\"a\":".repeat(100_000), "}".repeat(100_000));
        assert_eq!(check_object(&deep), Ok(()));
        for (text, kind) in [
            ("[]", "an array"),
            (r#""{}""#, "a string"),
            ("-1.5e3", "a number"),
            ("false", "a boolean"),
            ("null", "null"),
        ] {
            assert_eq!(check_object(text), Err(format!("JSON that is not an object ({kind})")), "{text:?}");
        }
    }

    /// JSON values, as text: valid, or broken by one edit.
    fn json_text() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        use serde_json::Value;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
            "(?s).{0,6}".prop_map(Value::from),
        ];
        let value = leaf.prop_recursive(4, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::btree_map("[a-z\"\\\\{]{0,3}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        });
        let object_first = prop_oneof![
            3 => proptest::collection::btree_map("[a-z]{1,3}", value.clone(), 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            1 => value,
        ];
        let edit = prop_oneof![
            3 => Just(None),
            1 => (any::<proptest::sample::Index>(), proptest::sample::select(&[' ', '{', '}', '[', ']', '"', ',', ':', '\\', 'x', '0'][..]))
                .prop_map(Some),
        ];
        (object_first, any::<bool>(), edit, any::<proptest::sample::Index>(), any::<bool>()).prop_map(
            |(value, pretty, edit, cut, delete)| {
                let mut text =
                    if pretty { serde_json::to_string_pretty(&value) } else { serde_json::to_string(&value) }.unwrap();
                if let Some((at, c)) = edit {
                    let bounds: Vec<usize> = text.char_indices().map(|(i, _)| i).chain([text.len()]).collect();
                    let at = bounds[at.index(bounds.len())];
                    if delete && at < text.len() {
                        text.remove(at);
                    } else {
                        text.insert(at, c);
                    }
                } else if delete && cut.index(4) == 0 {
                    let bounds: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
                    text.truncate(bounds[cut.index(bounds.len())]);
                }
                text
            },
        )
    }

    /// Whatever text a plugin returns, through the real plugin and transform:
    /// exactly the JSON objects pass on, byte for byte; anything else goes to
    /// the dead letter with the event as it came in, and its neighbours pass.
    #[test]
    fn fuzzed_plugin_output_is_passed_on_only_when_it_is_an_object() {
        use proptest::test_runner::{Config, TestCaseError, TestRunner};
        // A generous deadline: a loaded machine must not fail a whole batch.
        let (transform, dead) = transform("misbehave", "limits = { deadline_ms = 10000 }");
        let state = std::cell::RefCell::new((transform, dead));
        let mut runner = TestRunner::new(Config { cases: 2000, failure_persistence: None, ..Config::default() });
        let (objects, rejected) = (std::cell::Cell::new(0), std::cell::Cell::new(0));
        runner
            .run(&json_text(), |text| {
                let (transform, dead) = &mut *state.borrow_mut();
                let input = serde_json::json!({ "message": "fuzz", "replace_with": text }).to_string();
                let events = vec![
                    Event::from_json(r#"{"message":"before"}"#.to_owned()),
                    Event::from_json(input.clone()),
                    Event::from_json(r#"{"message":"after"}"#.to_owned()),
                ];
                let out = transform.process(Batch::new(events));
                // The model: serde_json's own parser, where numbers past f64's
                // range (`1e400`) are errors though JSON allows them.
                let is_object = match serde_json::from_str::<serde_json::Value>(&text) {
                    Ok(value) => value.is_object(),
                    Err(err) if err.to_string().starts_with("number out of range") => {
                        serde_json::from_str::<Box<serde_json::value::RawValue>>(&text)
                            .is_ok_and(|raw| raw.get().starts_with('{'))
                    }
                    Err(_) => false,
                };
                let passed: Vec<&str> = out.events.iter().map(Event::json).collect();
                if is_object {
                    objects.set(objects.get() + 1);
                    proptest::prop_assert_eq!(passed, [r#"{"message":"before"}"#, &text, r#"{"message":"after"}"#]);
                    proptest::prop_assert!(dead.try_recv().is_err());
                } else {
                    rejected.set(rejected.get() + 1);
                    proptest::prop_assert_eq!(passed, [r#"{"message":"before"}"#, r#"{"message":"after"}"#]);
                    let record = dead.try_recv().map_err(|_| TestCaseError::fail("not dead-lettered"))?;
                    proptest::prop_assert_eq!(record.records().len(), 1);
                    let (event, reason) = &record.records()[0];
                    proptest::prop_assert_eq!(event.json(), input.as_str());
                    proptest::prop_assert!(
                        reason.starts_with("plugin `misbehave` returned text that is not valid JSON (")
                            || reason.starts_with("plugin `misbehave` returned JSON that is not an object ("),
                        "{}",
                        reason
                    );
                }
                Ok(())
            })
            .unwrap();
        let (objects, rejected) = (objects.get(), rejected.get());
        assert!(objects > 300 && rejected > 300, "both kinds were tried: {objects} objects, {rejected} others");
    }

    #[test]
    fn init_that_refuses_its_config_is_an_error() {
        let config: WasmConfig = toml::from_str("plugin = \"misbehave\"\nconfig = { refuse = true }").unwrap();
        let metrics = Metrics::default();
        let (dead_letter, _rx) = DeadLetter::channel(metrics.component("dead_letter"));
        let err = WasmTransform::new(
            test_plugin("misbehave"),
            &config,
            metrics.component("t"),
            dead_letter,
            Grants::default(),
        )
        .err()
        .expect("configure refuses");
        assert!(format!("{err:#}").contains("rejected its config: config key `refuse` is set"), "{err:#}");
    }
}
