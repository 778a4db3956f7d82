//! Transform `wasm`: runs a plugin on every batch, contains its failures.
//!
//! A worker owns its plugin instance, so the hot path takes no locks. A trap,
//! a deadline overrun or memory exhaustion fails that batch only: its events
//! go to the dead-letter output with the reason and the instance is replaced.
//! After `max_failures` failures in a row the plugin is quarantined: its
//! events are dead-lettered without calling it, while the rest of the router
//! runs on.

use crate::config::ConfigError;
use crate::dead_letter::DeadLetter;
use crate::event::{Batch, Event};
use crate::fanout::Fanout;
use crate::metrics::ComponentMetrics;
use crate::plugins::{CallFailure, Instance, Limits, Outcome, Plugin};
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// `[transforms.<id>]` with `type = "wasm"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WasmConfig {
    /// A built-in plugin name, a stem from `plugins.dir`, or a path to a component.
    pub plugin: String,
    /// Passed to the plugin's `init` as JSON.
    #[serde(default)]
    pub config: toml::Table,
    #[serde(default)]
    pub limits: LimitsConfig,
}

/// `limits = { … }` of a wasm transform.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Wall-clock budget of one batch, in milliseconds.
    pub deadline_ms: u64,
    /// Cap on the plugin's memory, in MiB.
    pub memory_mb: u64,
    /// Failed batches in a row before the plugin is quarantined.
    pub max_failures: u32,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig { deadline_ms: 100, memory_mb: 64, max_failures: 5 }
    }
}

impl WasmConfig {
    pub fn validate(&self, at: &str, errors: &mut Vec<ConfigError>) {
        if self.plugin.trim().is_empty() {
            errors.push(ConfigError::new(format!("{at}.plugin"), "must name a plugin"));
        }
        let limits = &self.limits;
        if !(1..=60_000).contains(&limits.deadline_ms) {
            errors.push(ConfigError::new(format!("{at}.limits.deadline_ms"), "must be between 1 and 60000"));
        }
        if !(1..=4096).contains(&limits.memory_mb) {
            errors.push(ConfigError::new(format!("{at}.limits.memory_mb"), "must be between 1 and 4096"));
        }
        if limits.max_failures == 0 {
            errors.push(ConfigError::new(format!("{at}.limits.max_failures"), "must be at least 1"));
        }
    }

    /// The `config` table as the JSON text `init` receives.
    pub fn config_json(&self) -> String {
        serde_json::to_string(&self.config).expect("a TOML table serialises as JSON")
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
}

impl WasmTransform {
    /// Instantiate the plugin and run its `init`: an error here is a config error.
    pub fn new(
        plugin: Plugin,
        config: &WasmConfig,
        metrics: Arc<ComponentMetrics>,
        dead_letter: DeadLetter,
    ) -> anyhow::Result<Self> {
        let config_json = config.config_json();
        let limits = config.limits();
        let instance = plugin.instantiate(metrics.id(), &config_json, limits)?;
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
        })
    }

    /// Process batches until every input has closed.
    pub fn run(mut self, mut input: mpsc::Receiver<Batch>, out: Fanout) {
        while let Some(batch) = input.blocking_recv() {
            let batch = self.process(batch);
            let n = batch.len();
            if out.blocking_send(batch).is_err() {
                self.metrics.error("every consumer has stopped", &"shutdown");
                return;
            }
            self.metrics.sent(n);
        }
    }

    /// Run one batch through the plugin; returns what goes on.
    pub fn process(&mut self, mut batch: Batch) -> Batch {
        self.metrics.received(batch.len());
        let mut events = std::mem::take(&mut batch.events);
        let mut texts: Vec<String> = events.iter_mut().map(Event::take_json).collect();
        let result = match &self.quarantine {
            Some(reason) => Err(CallFailure(reason.clone())),
            None => self.call(&texts),
        };
        let outcomes = match result {
            Ok(outcomes) => outcomes,
            Err(failure) => {
                for (event, text) in events.iter_mut().zip(texts) {
                    event.set_json(text);
                }
                let records = events.into_iter().map(|event| (event, failure.0.clone())).collect();
                self.dead_letter.blocking_send(&self.metrics, &batch, records);
                return batch;
            }
        };

        let mut kept = Vec::with_capacity(events.len());
        let mut failed = Vec::new();
        let mut dropped = 0;
        for ((mut event, text), outcome) in events.into_iter().zip(texts.drain(..)).zip(outcomes) {
            event.set_json(text);
            match outcome {
                Outcome::Keep(None) => kept.push(event),
                Outcome::Keep(Some(json)) if looks_like_object(&json) => {
                    event.set_json(json);
                    kept.push(event);
                }
                Outcome::Keep(Some(_)) => {
                    failed.push((
                        event,
                        format!("plugin `{}` returned text that is not a JSON object", self.plugin.name()),
                    ));
                }
                Outcome::Emit(line) => {
                    event.set_line(line);
                    kept.push(event);
                }
                Outcome::Drop => dropped += 1,
                Outcome::Fail(reason) => {
                    failed.push((event, format!("plugin `{}` failed the event: {reason}", self.plugin.name())))
                }
            }
        }
        self.metrics.dropped(dropped);
        self.dead_letter.blocking_send(&self.metrics, &batch, failed);
        batch.events = kept;
        batch
    }

    /// Call the plugin, replacing a poisoned instance first, and keep count
    /// of failures in a row.
    fn call(&mut self, texts: &[String]) -> Result<Vec<Outcome>, CallFailure> {
        let result = match self.instance.as_mut() {
            Some(instance) => instance.process(texts),
            None => match self.plugin.instantiate(self.metrics.id(), &self.config_json, self.limits) {
                Ok(instance) => self.instance.insert(instance).process(texts),
                Err(err) => Err(CallFailure(format!("{err:#}"))),
            },
        };
        match &result {
            Ok(_) => self.failures_in_a_row = 0,
            Err(failure) => {
                // A failed call leaves the store poisoned: start afresh next time.
                self.instance = None;
                self.failures_in_a_row += 1;
                self.metrics.error("plugin call failed; batch sent to the dead-letter output", failure);
                if self.failures_in_a_row >= self.max_failures {
                    let reason = format!(
                        "plugin `{}` is quarantined after {} failed batches in a row (last: {failure})",
                        self.plugin.name(),
                        self.failures_in_a_row
                    );
                    self.metrics.error("plugin quarantined; its events go to the dead-letter output", &reason);
                    self.quarantine = Some(reason);
                }
            }
        }
        result
    }
}

/// A cheap check that a plugin's replacement text is an object, so a sink never
/// writes a bare string where an event belongs; full validation is the plugin's.
fn looks_like_object(json: &str) -> bool {
    let trimmed = json.trim();
    trimmed.starts_with('{') && trimmed.ends_with('}')
}
