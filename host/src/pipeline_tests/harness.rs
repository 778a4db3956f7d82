//! Runs a test's events through the transforms between where they are
//! inserted and where they are extracted, in-process: no source or sink
//! starts, nothing is read or written but the plugins (and their compile
//! cache, as `validate` uses it). Each test gets fresh plugin instances with
//! their state in memory, so tests neither see each other's state nor touch
//! a running router's.

use super::graph::Graph;
use super::spec::{Inserted, PipelineTest};
use crate::config::Config;
use crate::dead_letter::DeadLetter;
use crate::event::{Batch, Event};
use crate::metrics::Metrics;
use crate::plugins::state::StateStore;
use crate::plugins::{Grants, Plugin, PluginClock, Registry, Runtime};
use crate::sources::decoding::Decoding;
use crate::sources::{Origin, SourceConfig, message_event};
use crate::topology::DEAD_LETTER_ID;
use crate::transforms::TransformConfig;
use crate::transforms::wasm::{WasmConfig, WasmTransform};
use crate::validation::{ConfigError, ConfigErrors};
use anyhow::Context;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A config's transforms with their plugins loaded, ready to run tests.
pub struct Harness<'a> {
    config: &'a Config,
    graph: Graph,
    plugins: BTreeMap<String, Plugin>,
    clock: PluginClock,
    /// Keeps the runtime (and the ticker that enforces deadlines) alive.
    _registry: Registry,
}

/// What happened to a test's events at each transform that ran, in the
/// order they ran.
#[derive(Debug, Default)]
pub struct Trace {
    pub stages: Vec<(String, Stage)>,
}

impl Trace {
    pub fn stage(&self, id: &str) -> Option<&Stage> {
        self.stages.iter().find(|(at, _)| at == id).map(|(_, stage)| stage)
    }
}

/// One transform's share of a test run.
#[derive(Debug, Default)]
pub struct Stage {
    /// Events it was given: inserted there or passed on by its inputs.
    pub received: usize,
    /// What it passed on, in order.
    pub emitted: Vec<Event>,
    /// Events it filtered out on purpose.
    pub dropped: u64,
    /// Events it sent to the dead-letter output, each with the reason.
    pub dead_lettered: Vec<(Event, String)>,
}

impl<'a> Harness<'a> {
    /// Load every transform's plugin and run its `configure` once, as
    /// `validate` does, so a plugin that cannot run is a config error
    /// (`transforms.<id>.plugin` or `.config`), not a failed test.
    pub fn load(config: &'a Config) -> Result<Harness<'a>, ConfigErrors> {
        let runtime = Runtime::new(Some(config.data_dir.join("cache").join("plugins")))
            .map_err(|err| ConfigErrors(vec![ConfigError::new("plugins", format!("{err:#}"))]))?;
        let registry = Registry::new(Arc::new(runtime), config.plugins.dir.clone(), config.plugins.max_bytes);
        let clock = config.plugins.clock().expect("checked when the config was parsed");
        let mut harness =
            Harness { config, graph: Graph::new(config, None), plugins: BTreeMap::new(), clock, _registry: registry };
        let mut errors = Vec::new();
        let (metrics, dead_letter) = sinkless();
        for (id, transform) in &config.transforms {
            let TransformConfig::Wasm(wasm) = &transform.kind;
            let plugin = match harness._registry.resolve(&wasm.plugin) {
                Ok(plugin) => plugin,
                Err(err) => {
                    errors.push(ConfigError::new(format!("transforms.{id}.plugin"), format!("{err:#}")));
                    continue;
                }
            };
            match harness.instantiate(id, plugin.clone(), wasm, &metrics, &dead_letter.0) {
                Ok(_) => {
                    harness.plugins.insert(id.clone(), plugin);
                }
                Err(err) => errors.push(ConfigError::new(format!("transforms.{id}.config"), format!("{err:#}"))),
            }
        }
        if !errors.is_empty() {
            // A plugin may quote the config it refuses, secrets included.
            config.secrets.scrub_errors(&mut errors);
            return Err(ConfigErrors(errors));
        }
        Ok(harness)
    }

    /// Run one test: its events enter their transforms, and every transform
    /// on a way from an input to an output runs once, after its inputs.
    pub fn run(&self, test: &PipelineTest) -> anyhow::Result<Trace> {
        let starts = test.inputs.iter().map(|input| input.insert_at.as_str());
        let ends = test.outputs.iter().map(|output| output.extract_from.as_str());
        let (metrics, (dead_letter, mut rejected)) = sinkless();
        let mut trace = Trace::default();
        for id in self.graph.between(starts, ends) {
            let inserted = test.inputs.iter().filter(|input| input.insert_at == id).map(|input| self.event(input));
            let mut events: Vec<Event> = inserted.collect();
            for input in &self.config.transforms[&id].inputs {
                if let Some(upstream) = trace.stage(input) {
                    events.extend(upstream.emitted.iter().cloned());
                }
            }
            let mut stage = Stage { received: events.len(), ..Stage::default() };
            if !events.is_empty() {
                let TransformConfig::Wasm(wasm) = &self.config.transforms[&id].kind;
                let plugin = self.plugins[&id].clone();
                // Its `configure` ran (and was logged) at load; a fresh
                // instance per test says nothing new.
                let mut transform = tracing::subscriber::with_default(tracing::subscriber::NoSubscriber::new(), || {
                    self.instantiate(&id, plugin, wasm, &metrics, &dead_letter)
                })
                .with_context(|| format!("starting transform `{id}`"))?;
                stage.emitted = transform.process(Batch::new(events)).events;
                stage.dropped = metrics.component(&id).counts().dropped;
                while let Ok(records) = rejected.try_recv() {
                    stage.dead_lettered.extend(records.records().iter().cloned());
                }
            }
            trace.stages.push((id, stage));
        }
        Ok(trace)
    }

    /// One instance of transform `id`'s plugin, with its state in memory.
    fn instantiate(
        &self,
        id: &str,
        plugin: Plugin,
        wasm: &WasmConfig,
        metrics: &Metrics,
        dead_letter: &DeadLetter,
    ) -> anyhow::Result<WasmTransform> {
        let grants = Grants { clock: self.clock, state: Arc::new(StateStore::in_memory(wasm.state_limits())) };
        WasmTransform::new(plugin, wasm, metrics.component(id), dead_letter.clone(), grants)
    }

    /// The event an input inserts. A message is put in the envelope the
    /// transform's first source input would put it in (its id and decoding),
    /// received now, or at the frozen clock's instant when there is one.
    fn event(&self, input: &super::spec::Input) -> Event {
        let message = match &input.event {
            Inserted::Event(json) => return Event::from_json(json.clone()),
            Inserted::Message(message) => message,
        };
        let inputs = &self.config.transforms[&input.insert_at].inputs;
        let source = inputs.iter().find_map(|id| self.config.sources.get_key_value(id));
        let (id, decoding) = match source {
            Some((id, SourceConfig::File(file))) => (id.as_str(), file.decoding),
            Some((id, SourceConfig::Syslog(syslog))) => (id.as_str(), syslog.decoding),
            Some((id, _)) => (id.as_str(), Decoding::Text),
            None => ("test", Decoding::Text),
        };
        let received_at = match self.clock {
            PluginClock::Frozen(at) => crate::timestamp::format_rfc3339(at.into()),
            PluginClock::Real => crate::timestamp::now_rfc3339(),
        };
        message_event(message, Origin { id, path: None, address: None }, &received_at, decoding)
    }
}

/// Counters, and a dead-letter output that nothing writes: its records are
/// read back by the test run.
fn sinkless() -> (Metrics, (DeadLetter, tokio::sync::mpsc::Receiver<crate::dead_letter::Rejected>)) {
    let metrics = Metrics::default();
    let dead_letter = DeadLetter::channel(metrics.component(DEAD_LETTER_ID));
    (metrics, dead_letter)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline_tests::spec::{Expect, Input, Output};

    fn config(dir: &std::path::Path) -> Config {
        let tag = format!("{}/tag.wasm", env!("SLUICE_TEST_PLUGINS"));
        Config::parse(&format!(
            r#"
data_dir = "{data}"
[plugins]
frozen_clock = "2026-01-31T12:00:00Z"
[sources.in]
type = "syslog"
mode = "udp"
address = "127.0.0.1:1"
decoding = "json"
[transforms.a]
type = "wasm"
plugin = "{tag}"
inputs = ["in"]
config = {{ stage = "a", drop_containing = "skip", fail_containing = "bad" }}
[transforms.b]
type = "wasm"
plugin = "{tag}"
inputs = ["a"]
config = {{ stage = "b" }}
[transforms.side]
type = "wasm"
plugin = "{tag}"
inputs = ["in"]
config = {{ stage = "side" }}
[sinks.out]
type = "stdout"
inputs = ["b", "side"]
"#,
            data = dir.display()
        ))
        .expect("a valid config")
    }

    fn test(messages: &[&str], extract_from: &str) -> PipelineTest {
        let inputs = messages
            .iter()
            .map(|m| Input { insert_at: "a".into(), event: Inserted::Message((*m).to_owned()) })
            .collect();
        let outputs = vec![Output { extract_from: extract_from.into(), expect: Expect::Dropped }];
        PipelineTest { name: "t".into(), inputs, outputs }
    }

    fn values(events: &[Event]) -> Vec<serde_json::Value> {
        events.iter().map(|e| serde_json::from_str(e.json()).unwrap()).collect()
    }

    #[test]
    fn only_the_transforms_between_run_and_every_outcome_is_traced() {
        let dir = tempfile::tempdir().unwrap();
        let config = config(dir.path());
        let harness = Harness::load(&config).expect("the plugins load");
        let trace = harness.run(&test(&[r#"{"n":1}"#, "skip me", "bad one"], "b")).unwrap();
        let ran: Vec<&str> = trace.stages.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ran, ["a", "b"], "`side` is not between a and b");

        let a = trace.stage("a").unwrap();
        assert_eq!((a.received, a.emitted.len(), a.dropped, a.dead_lettered.len()), (3, 1, 1, 1));
        assert_eq!(a.dead_lettered[0].1, "plugin `tag` failed the event: stage a refused the event");
        // The message went in as the syslog source would have put it: decoded
        // (decoding = "json"), under its id, at the frozen clock's instant.
        let out = &values(&trace.stage("b").unwrap().emitted)[0];
        assert_eq!(out["message"], serde_json::json!({"n": 1}));
        assert_eq!(out["source"]["id"], "in");
        assert_eq!(out["received_at"], "2026-01-31T12:00:00Z");
        assert_eq!(out["stages"], serde_json::json!(["a", "b"]));
        assert_eq!(out["b_seen"], 1);

        // A second run starts from fresh instances: `tag` counts again from 1.
        let again = harness.run(&test(&["{}", "{}"], "b")).unwrap();
        let seen: Vec<_> = values(&again.stage("b").unwrap().emitted).iter().map(|e| e["b_seen"].clone()).collect();
        assert_eq!(seen, [1, 2]);
        assert_eq!(again.stage("a").unwrap().dropped, 0, "counts are the run's own");
        assert!(!dir.path().join("state").exists(), "plugin state stays in memory");
    }

    #[test]
    fn a_plugin_that_cannot_load_or_configure_is_a_config_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = config(dir.path());
        let misbehave = format!("{}/misbehave.wasm", env!("SLUICE_TEST_PLUGINS"));
        config.transforms.get_mut("a").unwrap().kind =
            toml::from_str(&format!("type = \"wasm\"\nplugin = \"{misbehave}\"\nconfig = {{ refuse = true }}"))
                .unwrap();
        config.transforms.get_mut("b").unwrap().kind =
            toml::from_str("type = \"wasm\"\nplugin = \"no-such-plugin\"").unwrap();
        let Err(ConfigErrors(errors)) = Harness::load(&config) else { panic!("the plugins should be refused") };
        let at: Vec<&str> = errors.iter().map(|e| e.at.as_str()).collect();
        assert_eq!(at, ["transforms.a.config", "transforms.b.plugin"], "{errors:#?}");
        assert!(errors[1].message.starts_with("no plugin `no-such-plugin`"), "{errors:#?}");
    }
}
