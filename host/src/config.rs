//! The router's configuration: TOML in the shape Vector users know.
//!
//! Loading reports **every** problem at once, each naming its table and key,
//! so that an operator fixes a config in one pass. Checks that need the plugin
//! runtime (a plugin file that fails to load, an `configure` that refuses its
//! config) happen when the topology is built, with the same error type.

use crate::api::ApiConfig;
use crate::secrets::Secrets;
use crate::sinks::SinkConfig;
use crate::sinks::buffer::BufferConfig;
use crate::sources::SourceConfig;
use crate::transforms::TransformConfig;
use crate::validation::ConfigErrors;
use crate::validation::{ConfigError, check_writable_dir, check_writable_file};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use crate::sources::batcher::BatchConfig;

/// The pipeline that `sluice run` uses when no `--config` is given.
pub const DEFAULT_CONFIG: &str = include_str!("default.toml");

/// The `[plugins]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PluginsConfig {
    /// A directory of `*.wasm` components that transforms can name by file stem.
    pub dir: Option<PathBuf>,
    /// The largest plugin file read, at startup or on hot reload; a larger
    /// file (or anything but a regular file) is refused before it is read.
    pub max_bytes: u64,
    /// Freeze the clock plugins read at this RFC 3339 instant (their
    /// monotonic clock then reads zero), so tests of time-dependent plugins
    /// repeat exactly. Unset: the real clock.
    pub frozen_clock: Option<String>,
}

impl Default for PluginsConfig {
    fn default() -> Self {
        PluginsConfig { dir: None, max_bytes: crate::plugins::file::DEFAULT_MAX_BYTES, frozen_clock: None }
    }
}

impl PluginsConfig {
    /// The clock plugins read, or why `frozen_clock` is not an RFC 3339 instant.
    pub fn clock(&self) -> Result<crate::plugins::PluginClock, String> {
        use time::format_description::well_known::Rfc3339;
        match &self.frozen_clock {
            None => Ok(crate::plugins::PluginClock::Real),
            Some(text) => match time::OffsetDateTime::parse(text, &Rfc3339) {
                Ok(at) if at.unix_timestamp() >= 0 => Ok(crate::plugins::PluginClock::Frozen(at.into())),
                Ok(_) => Err(format!("{text:?} is before 1970")),
                Err(err) => Err(format!("{text:?} is not an RFC 3339 time such as 2026-01-31T12:00:00Z ({err})")),
            },
        }
    }
}

/// The `[dead_letter]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeadLetterConfig {
    /// JSON-lines file for events that could not be handled
    /// (default: `<data_dir>/dead-letter.jsonl`).
    pub path: Option<PathBuf>,
    /// The size at which the file is rotated (`path` → `path.1` → `path.2`
    /// …), in bytes (default 100 MiB).
    #[serde(default = "default_dead_letter_max_bytes")]
    pub max_bytes: u64,
    /// The files the dead letter may fill, the current one included
    /// (default 10). When all are full nothing is deleted: records of bad
    /// frames are dropped (counted), events that failed in a plugin or a
    /// sink wait until an operator moves files away.
    #[serde(default = "default_dead_letter_max_files")]
    pub max_files: u32,
}

impl Default for DeadLetterConfig {
    fn default() -> Self {
        DeadLetterConfig {
            path: None,
            max_bytes: default_dead_letter_max_bytes(),
            max_files: default_dead_letter_max_files(),
        }
    }
}

fn default_dead_letter_max_bytes() -> u64 {
    100 * 1024 * 1024
}

fn default_dead_letter_max_files() -> u32 {
    10
}

/// The smallest `dead_letter.max_bytes`: room for a few records of big events.
const MIN_DEAD_LETTER_BYTES: u64 = 64 * 1024;

/// The most `dead_letter.max_files`: rotation renames every file each time.
const MAX_DEAD_LETTER_FILES: u32 = 1000;

/// A `[transforms.<id>]` table: its inputs and what it does.
#[derive(Debug, Clone)]
pub struct Transform {
    pub inputs: Vec<String>,
    pub kind: TransformConfig,
}

/// A `[sinks.<id>]` table: its inputs, its buffer and where it writes.
#[derive(Debug, Clone)]
pub struct Sink {
    pub inputs: Vec<String>,
    pub buffer: Option<BufferConfig>,
    pub kind: SinkConfig,
}

/// A whole, structurally valid configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Checkpoints and caches live here.
    pub data_dir: PathBuf,
    /// How long after SIGTERM a sink keeps retrying an unreachable
    /// destination before it gives up (its events stay unacknowledged).
    pub shutdown_timeout: Duration,
    pub plugins: PluginsConfig,
    pub batch: BatchConfig,
    pub sources: BTreeMap<String, SourceConfig>,
    pub transforms: BTreeMap<String, Transform>,
    pub sinks: BTreeMap<String, Sink>,
    pub dead_letter: DeadLetterConfig,
    /// The operator's HTTP API (`/metrics`, `/health`): off without `[api]`.
    pub api: Option<ApiConfig>,
    /// What the `${…}` references resolved to, to keep out of what is printed.
    pub secrets: Secrets,
    /// `[[tests]]`: what `sluice test` checks; nothing else reads them.
    pub tests: Vec<crate::pipeline_tests::PipelineTest>,
}

const TOP_LEVEL: &[&str] = &[
    "data_dir",
    "shutdown_timeout_ms",
    "plugins",
    "batch",
    "sources",
    "transforms",
    "sinks",
    "dead_letter",
    "api",
    "tests",
];

impl Config {
    /// Read and check a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigErrors> {
        let text = std::fs::read_to_string(path).map_err(|err| {
            ConfigErrors(vec![ConfigError::new(
                path.display().to_string(),
                format!("cannot read the config file: {err}"),
            )])
        })?;
        Config::parse(&text)
    }

    /// Parse and check config text, reporting every problem.
    pub fn parse(text: &str) -> Result<Config, ConfigErrors> {
        let mut table: toml::Table = text.parse().map_err(|err: toml::de::Error| {
            let at = match err.span() {
                // The line the error starts on: one more than the newlines before it.
                Some(span) => {
                    let before = &text.as_bytes()[..span.start.min(text.len())];
                    format!("line {}", before.iter().filter(|&&b| b == b'\n').count() + 1)
                }
                None => "config".to_owned(),
            };
            ConfigErrors(vec![ConfigError::new(at, format!("invalid TOML: {}", err.message()))])
        })?;
        let mut errors = Vec::new();
        let secrets = Secrets::resolve(&mut table, &mut errors);
        for key in table.keys() {
            if !TOP_LEVEL.contains(&key.as_str()) {
                errors.push(ConfigError::new(key, format!("unknown key (expected one of: {})", TOP_LEVEL.join(", "))));
            }
        }
        let data_dir = field::<PathBuf>(&table, "data_dir", &mut errors).unwrap_or_else(|| PathBuf::from(".sluice"));
        let shutdown_timeout =
            Duration::from_millis(field::<u64>(&table, "shutdown_timeout_ms", &mut errors).unwrap_or(5_000));
        let plugins = field::<PluginsConfig>(&table, "plugins", &mut errors).unwrap_or_default();
        let batch = field::<BatchConfig>(&table, "batch", &mut errors).unwrap_or_default();
        let dead_letter = field::<DeadLetterConfig>(&table, "dead_letter", &mut errors).unwrap_or_default();
        let api = field::<ApiConfig>(&table, "api", &mut errors);
        if batch.max_events == 0 {
            errors.push(ConfigError::new("batch.max_events", "must be at least 1"));
        }
        if let Err(problem) = plugins.clock() {
            errors.push(ConfigError::new("plugins.frozen_clock", problem));
        }

        let sources = components(&table, "sources", crate::sources::TYPES, &mut errors, |_, _, value| {
            value.try_into::<SourceConfig>()
        });
        let transforms =
            components(&table, "transforms", crate::transforms::TYPES, &mut errors, |at, errors, mut value| {
                let inputs = take_inputs(at, &mut value, errors);
                value.try_into::<TransformConfig>().map(|kind| Transform { inputs, kind })
            });
        let sinks = components(&table, "sinks", crate::sinks::TYPES, &mut errors, |at, errors, mut value| {
            let inputs = take_inputs(at, &mut value, errors);
            let buffer = take_buffer(at, &mut value, errors);
            value.try_into::<SinkConfig>().map(|kind| Sink { inputs, buffer, kind })
        });

        let mut config = Config {
            data_dir,
            shutdown_timeout,
            plugins,
            batch,
            sources,
            transforms,
            sinks,
            dead_letter,
            api,
            secrets,
            tests: Vec::new(),
        };
        config.check(&Declared::from(&table), &mut errors);
        config.tests = crate::pipeline_tests::parse_in_config(table.get("tests"), &config, &table, &mut errors);
        // A check may quote a value, and a value may be a secret.
        config.secrets.scrub_errors(&mut errors);
        if errors.is_empty() { Ok(config) } else { Err(ConfigErrors(errors)) }
    }

    /// Where dead-lettered events are written.
    pub fn dead_letter_path(&self) -> PathBuf {
        self.dead_letter.path.clone().unwrap_or_else(|| self.data_dir.join("dead-letter.jsonl"))
    }

    /// Cross-component checks: ids, inputs, cycles, and each component's own.
    /// Ids are taken from the tables as written, so a component whose own
    /// settings are broken does not also cause "unknown input" noise.
    fn check(&self, declared: &Declared, errors: &mut Vec<ConfigError>) {
        if declared.sources.is_empty() {
            errors.push(ConfigError::new("sources", "no source is configured: add a [sources.<id>] table"));
        }
        if declared.sinks.is_empty() {
            errors.push(ConfigError::new("sinks", "no sink is configured: add a [sinks.<id>] table"));
        }
        let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
        let kinds = [("sources", &declared.sources), ("transforms", &declared.transforms), ("sinks", &declared.sinks)];
        for (kind, ids) in &kinds {
            for id in ids.iter() {
                if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
                    errors.push(ConfigError::new(
                        format!("{kind}.{id}"),
                        "a component id may only use letters, digits, `_` and `-`",
                    ));
                }
                if let Some(other) = seen.insert(id.as_str(), kind) {
                    errors.push(ConfigError::new(
                        format!("{kind}.{id}"),
                        format!("the id is already used by {other}.{id}"),
                    ));
                }
            }
        }

        let producers: BTreeSet<&str> =
            declared.sources.iter().chain(&declared.transforms).map(String::as_str).collect();
        let inputs = self
            .transforms
            .iter()
            .map(|(id, t)| ("transforms", id, &t.inputs))
            .chain(self.sinks.iter().map(|(id, s)| ("sinks", id, &s.inputs)));
        for (kind, id, inputs) in inputs {
            if inputs.is_empty() {
                errors.push(ConfigError::new(
                    format!("{kind}.{id}.inputs"),
                    "no inputs: list the sources or transforms it reads from",
                ));
            }
            for input in inputs {
                if declared.sinks.contains(input) {
                    errors.push(ConfigError::new(
                        format!("{kind}.{id}.inputs"),
                        format!("`{input}` is a sink; a sink has no output to read"),
                    ));
                } else if !producers.contains(input.as_str()) {
                    let known: Vec<&str> = producers.iter().copied().collect();
                    errors.push(ConfigError::new(
                        format!("{kind}.{id}.inputs"),
                        format!("unknown input `{input}` (known sources and transforms: {})", known.join(", ")),
                    ));
                }
            }
        }
        if let Some(cycle) = self.find_cycle() {
            errors.push(ConfigError::new(
                format!("transforms.{}", cycle[0]),
                format!("the transforms form a cycle: {}", cycle.join(" -> ")),
            ));
        }

        for (id, source) in &self.sources {
            source.validate(&format!("sources.{id}"), errors);
        }
        for (id, transform) in &self.transforms {
            transform.kind.validate(&format!("transforms.{id}"), errors);
        }
        for (id, sink) in &self.sinks {
            sink.kind.validate(&format!("sinks.{id}"), errors);
        }
        if let Some(api) = &self.api {
            api.validate(errors);
        }
        check_writable_dir(&self.data_dir, "data_dir", errors);
        if self.plugins.max_bytes == 0 {
            errors
                .push(ConfigError::new("plugins.max_bytes", "must be at least 1 (the largest plugin file, in bytes)"));
        }
        if let Some(dir) = &self.plugins.dir
            && let Err(err) = std::fs::read_dir(dir)
        {
            errors.push(ConfigError::new("plugins.dir", format!("cannot read directory {}: {err}", dir.display())));
        }
        if let Some(path) = &self.dead_letter.path {
            check_writable_file(path, "dead_letter.path", errors);
        }
        if self.dead_letter.max_bytes < MIN_DEAD_LETTER_BYTES {
            errors.push(ConfigError::new(
                "dead_letter.max_bytes",
                format!("must be at least {MIN_DEAD_LETTER_BYTES} (64 KiB), got {}", self.dead_letter.max_bytes),
            ));
        }
        if !(1..=MAX_DEAD_LETTER_FILES).contains(&self.dead_letter.max_files) {
            errors.push(ConfigError::new(
                "dead_letter.max_files",
                format!("must be from 1 to {MAX_DEAD_LETTER_FILES}, got {}", self.dead_letter.max_files),
            ));
        }
    }

    /// A cycle among transforms, as the ids along it, first repeated at the end.
    fn find_cycle(&self) -> Option<Vec<String>> {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            Visiting,
            Done,
        }
        fn visit(
            config: &Config,
            id: &str,
            marks: &mut BTreeMap<String, Mark>,
            path: &mut Vec<String>,
        ) -> Option<Vec<String>> {
            match marks.get(id) {
                Some(Mark::Done) => return None,
                Some(Mark::Visiting) => {
                    let start = path.iter().position(|p| p == id).unwrap_or(0);
                    let mut cycle = path[start..].to_vec();
                    cycle.push(id.to_owned());
                    return Some(cycle);
                }
                None => {}
            }
            marks.insert(id.to_owned(), Mark::Visiting);
            path.push(id.to_owned());
            for input in &config.transforms[id].inputs {
                if config.transforms.contains_key(input)
                    && let Some(cycle) = visit(config, input, marks, path)
                {
                    return Some(cycle);
                }
            }
            path.pop();
            marks.insert(id.to_owned(), Mark::Done);
            None
        }
        let mut marks = BTreeMap::new();
        self.transforms.keys().find_map(|id| visit(self, id, &mut marks, &mut Vec::new()))
    }
}

/// The component ids written in the config, parsed or not.
struct Declared {
    sources: Vec<String>,
    transforms: Vec<String>,
    sinks: Vec<String>,
}

impl From<&toml::Table> for Declared {
    fn from(table: &toml::Table) -> Self {
        let ids = |kind: &str| -> Vec<String> {
            table.get(kind).and_then(toml::Value::as_table).map(|t| t.keys().cloned().collect()).unwrap_or_default()
        };
        Declared { sources: ids("sources"), transforms: ids("transforms"), sinks: ids("sinks") }
    }
}

/// An optional top-level table or value.
fn field<T: serde::de::DeserializeOwned>(table: &toml::Table, key: &str, errors: &mut Vec<ConfigError>) -> Option<T> {
    let value = table.get(key)?.clone();
    match value.try_into::<T>() {
        Ok(parsed) => Some(parsed),
        Err(err) => {
            errors.push(ConfigError::new(key, err.message().trim().to_owned()));
            None
        }
    }
}

/// The components under `[<kind>.<id>]`, each checked for a known `type`.
fn components<T>(
    table: &toml::Table,
    kind: &str,
    types: &[&str],
    errors: &mut Vec<ConfigError>,
    mut parse: impl FnMut(&str, &mut Vec<ConfigError>, toml::Value) -> Result<T, toml::de::Error>,
) -> BTreeMap<String, T> {
    let mut out = BTreeMap::new();
    let Some(value) = table.get(kind) else { return out };
    let Some(entries) = value.as_table() else {
        errors.push(ConfigError::new(kind, format!("must be a table of {kind} by id, like [{kind}.my_id]")));
        return out;
    };
    for (id, value) in entries {
        let at = format!("{kind}.{id}");
        let Some(component) = value.as_table() else {
            errors.push(ConfigError::new(&at, "must be a table"));
            continue;
        };
        match component.get("type") {
            None => {
                errors.push(ConfigError::new(format!("{at}.type"), format!("missing; one of: {}", types.join(", "))));
                continue;
            }
            Some(toml::Value::String(t)) if !types.contains(&t.as_str()) => {
                errors.push(ConfigError::new(
                    format!("{at}.type"),
                    format!("unknown type `{t}`; one of: {}", types.join(", ")),
                ));
                continue;
            }
            Some(toml::Value::String(_)) => {}
            Some(other) => {
                errors.push(ConfigError::new(
                    format!("{at}.type"),
                    format!("must be a string, got {}", other.type_str()),
                ));
                continue;
            }
        }
        match parse(&at, errors, value.clone()) {
            Ok(parsed) => {
                out.insert(id.clone(), parsed);
            }
            Err(err) => errors.push(ConfigError::new(at, err.message().trim().to_owned())),
        }
    }
    out
}

/// The `buffer` table of a sink, checked, taken out of `value` so that the
/// sink kind's own keys are all that is left.
fn take_buffer(at: &str, value: &mut toml::Value, errors: &mut Vec<ConfigError>) -> Option<BufferConfig> {
    let buffer = value.as_table_mut()?.remove("buffer")?;
    let at = format!("{at}.buffer");
    match buffer.try_into::<BufferConfig>() {
        Ok(buffer) => {
            buffer.validate(&at, errors);
            Some(buffer)
        }
        Err(err) => {
            errors.push(ConfigError::new(at, err.message().to_owned()));
            None
        }
    }
}

/// Remove and return the `inputs` list from a component table.
fn take_inputs(at: &str, value: &mut toml::Value, errors: &mut Vec<ConfigError>) -> Vec<String> {
    let Some(table) = value.as_table_mut() else { return Vec::new() };
    match table.remove("inputs") {
        None => Vec::new(),
        Some(toml::Value::Array(items)) => items
            .into_iter()
            .filter_map(|item| match item {
                toml::Value::String(s) => Some(s),
                other => {
                    errors.push(ConfigError::new(
                        format!("{at}.inputs"),
                        format!("each input must be a string id, got {}", other.type_str()),
                    ));
                    None
                }
            })
            .collect(),
        Some(other) => {
            errors.push(ConfigError::new(
                format!("{at}.inputs"),
                format!("must be a list of ids, got {}", other.type_str()),
            ));
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(text: &str) -> Vec<String> {
        match Config::parse(text) {
            Ok(_) => panic!("config should be rejected:\n{text}"),
            Err(ConfigErrors(errors)) => errors.iter().map(ToString::to_string).collect(),
        }
    }

    fn assert_has(errors: &[String], expected: &str) {
        assert!(errors.iter().any(|e| e == expected), "expected error {expected:?} in {errors:#?}");
    }

    const STDIN_TO_STDOUT: &str = "[sources.in]\ntype = \"stdin\"\n[sinks.out]\ntype = \"stdout\"\ninputs = [\"in\"]\n";

    #[test]
    fn the_default_config_is_valid() {
        let config = Config::parse(DEFAULT_CONFIG).expect("default config parses");
        assert_eq!(config.transforms.len(), 3);
        assert_eq!(config.dead_letter_path(), PathBuf::from(".sluice/dead-letter.jsonl"));
    }

    #[test]
    fn dead_letter_cap_defaults_and_limits() {
        let config = Config::parse(STDIN_TO_STDOUT).unwrap();
        assert_eq!((config.dead_letter.max_bytes, config.dead_letter.max_files), (100 * 1024 * 1024, 10));
        let config =
            Config::parse(&format!("{STDIN_TO_STDOUT}[dead_letter]\nmax_bytes = 65536\nmax_files = 1\n")).unwrap();
        assert_eq!((config.dead_letter.max_bytes, config.dead_letter.max_files), (65536, 1));
        let errors = errors(&format!("{STDIN_TO_STDOUT}[dead_letter]\nmax_bytes = 100\nmax_files = 0\n"));
        assert_has(&errors, "dead_letter.max_bytes: must be at least 65536 (64 KiB), got 100");
        assert_has(&errors, "dead_letter.max_files: must be from 1 to 1000, got 0");
    }

    #[test]
    fn minimal_config_gets_defaults() {
        let config = Config::parse(STDIN_TO_STDOUT).unwrap();
        assert_eq!(config.batch, BatchConfig::default());
        assert_eq!(config.data_dir, PathBuf::from(".sluice"));
    }

    #[test]
    fn invalid_toml_names_the_line() {
        let errors = errors("[sources.in]\ntype = \"stdin\"\ninclude = [\n");
        assert_eq!(errors.len(), 1);
        assert!(errors[0].starts_with("line "), "{errors:?}");
        assert!(errors[0].contains("invalid TOML"), "{errors:?}");
    }

    #[test]
    fn unknown_input_is_named_with_the_known_ones() {
        let errors = errors(&STDIN_TO_STDOUT.replace("inputs = [\"in\"]", "inputs = [\"inn\"]"));
        assert_has(&errors, "sinks.out.inputs: unknown input `inn` (known sources and transforms: in)");
    }

    #[test]
    fn sinks_and_transforms_without_inputs_are_rejected() {
        let text = "[sources.in]\ntype = \"stdin\"\n[transforms.t]\ntype = \"wasm\"\nplugin = \"tag\"\n\
                    [sinks.out]\ntype = \"stdout\"\n";
        let errors = errors(text);
        assert_has(&errors, "sinks.out.inputs: no inputs: list the sources or transforms it reads from");
        assert_has(&errors, "transforms.t.inputs: no inputs: list the sources or transforms it reads from");
    }

    #[test]
    fn reading_from_a_sink_is_rejected() {
        let text = format!("{STDIN_TO_STDOUT}[sinks.again]\ntype = \"stdout\"\ninputs = [\"out\"]\n");
        assert_has(&errors(&text), "sinks.again.inputs: `out` is a sink; a sink has no output to read");
    }

    #[test]
    fn cycles_are_reported_with_their_path() {
        let text = "[sources.in]\ntype = \"stdin\"\n\
                    [transforms.a]\ntype = \"wasm\"\nplugin = \"tag\"\ninputs = [\"in\", \"c\"]\n\
                    [transforms.b]\ntype = \"wasm\"\nplugin = \"tag\"\ninputs = [\"a\"]\n\
                    [transforms.c]\ntype = \"wasm\"\nplugin = \"tag\"\ninputs = [\"b\"]\n\
                    [sinks.out]\ntype = \"stdout\"\ninputs = [\"c\"]\n";
        assert_has(&errors(text), "transforms.a: the transforms form a cycle: a -> c -> b -> a");
    }

    #[test]
    fn unknown_types_keys_and_tables_are_all_reported_at_once() {
        let text = "colour = \"blue\"\n[sources.in]\ntype = \"stdin\"\n[sources.net]\ntype = \"kafka\"\n\
                    [sinks.out]\ntype = \"stdout\"\ninputs = [\"in\"]\nformat = \"cef\"\n\
                    [sinks.notype]\ninputs = [\"in\"]\n";
        let errors = errors(text);
        assert_has(&errors, "sources.net.type: unknown type `kafka`; one of: file, stdin, demo, syslog");
        let kinds = crate::sinks::TYPES.join(", ");
        assert!(kinds.starts_with("file, http, stdout, syslog, tcp"), "{kinds}");
        assert_has(&errors, &format!("sinks.notype.type: missing; one of: {kinds}"));
        assert!(errors.iter().any(|e| e.starts_with("colour: unknown key")), "{errors:#?}");
        assert!(errors.iter().any(|e| e.starts_with("sinks.out: unknown field `format`")), "{errors:#?}");
        assert_eq!(errors.len(), 4, "{errors:#?}");
    }

    #[test]
    fn duplicate_ids_across_kinds_are_rejected() {
        let text = "[sources.x]\ntype = \"stdin\"\n[sinks.x]\ntype = \"stdout\"\ninputs = [\"x\"]\n";
        assert_has(&errors(text), "sinks.x: the id is already used by sources.x");
    }

    #[test]
    fn transform_limits_are_checked() {
        let text = "[sources.in]\ntype = \"stdin\"\n[transforms.t]\ntype = \"wasm\"\nplugin = \"tag\"\n\
                    inputs = [\"in\"]\nlimits = { deadline_ms = 0, memory_mb = 9000, state_mb = 0 }\n\
                    workers = 0\nshard_by = \"agent..id\"\n\
                    [sinks.out]\ntype = \"stdout\"\ninputs = [\"t\"]\n\
                    [plugins]\nfrozen_clock = \"yesterday\"\n";
        let errors = errors(text);
        assert_has(&errors, "transforms.t.limits.deadline_ms: must be between 1 and 60000");
        assert_has(&errors, "transforms.t.limits.memory_mb: must be between 1 and 4096");
        assert_has(&errors, "transforms.t.limits.state_mb: must be between 1 and 4096");
        assert_has(&errors, "transforms.t.workers: must be between 1 and 256");
        assert!(
            errors.iter().any(|e| e.starts_with("transforms.t.shard_by: path \"agent..id\" has an empty segment")),
            "{errors:#?}"
        );
        assert!(
            errors.iter().any(|e| e.starts_with("plugins.frozen_clock: \"yesterday\" is not an RFC 3339 time")),
            "{errors:#?}"
        );
    }

    #[test]
    fn the_plugin_file_cap_has_a_default_and_must_be_positive() {
        let config = Config::parse(STDIN_TO_STDOUT).unwrap();
        assert_eq!(config.plugins.max_bytes, 64 << 20);
        let config = Config::parse(&format!("[plugins]\nmax_bytes = 1000\n{STDIN_TO_STDOUT}")).unwrap();
        assert_eq!(config.plugins.max_bytes, 1000);
        let errors = errors(&format!("[plugins]\nmax_bytes = 0\n{STDIN_TO_STDOUT}"));
        assert_has(&errors, "plugins.max_bytes: must be at least 1 (the largest plugin file, in bytes)");
    }

    #[test]
    fn unwritable_paths_are_rejected() {
        // A path under a regular file can never be created, even by root.
        let file = tempfile::NamedTempFile::new().unwrap();
        let under_file = file.path().join("sub");
        let text = format!(
            "data_dir = {:?}\n[plugins]\ndir = {:?}\n{STDIN_TO_STDOUT}\
             [sinks.f]\ntype = \"file\"\ninputs = [\"in\"]\npath = {:?}\n",
            under_file.join("data"),
            under_file.join("plugins"),
            under_file.join("out.log"),
        );
        let errors = errors(&text);
        let file = file.path().display();
        assert_has(&errors, &format!("data_dir: {file} is not a directory"));
        assert_has(&errors, &format!("sinks.f.path: {file} is not a directory"));
        assert!(errors.iter().any(|e| e.starts_with("plugins.dir: cannot read directory")), "{errors:#?}");
    }
    #[test]
    fn invalid_toml_names_the_line_the_error_is_on() {
        let found = errors("[sources.in]\ntype = \"stdin\"\n!oops = 1\n");
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("line 3: invalid TOML"), "{found:?}");
        let found = errors("data_dir = \"x\"\r\n\r\n= 1\r\n");
        assert!(found[0].starts_with("line 3: invalid TOML"), "{found:?}");
    }

    mod fuzz {
        use super::super::*;
        use proptest::prelude::*;
        use proptest::sample::{Index, select};
        use proptest::test_runner::TestCaseError;

        /// Config files to mutate: the embedded default and every example.
        fn seeds() -> &'static [String] {
            static SEEDS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
            SEEDS.get_or_init(|| {
                let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
                let mut seeds = vec![DEFAULT_CONFIG.to_owned()];
                for entry in std::fs::read_dir(&examples).expect("examples/") {
                    let path = entry.unwrap().path();
                    if path.extension().is_some_and(|e| e == "toml") {
                        let text = std::fs::read_to_string(&path).unwrap();
                        // `NAME.tests.toml` holds the `[[tests]]` of NAME.toml
                        // (of the embedded default for `default`).
                        let name =
                            path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".tests.toml"));
                        seeds.push(match name {
                            None => text,
                            Some("default") => format!("{DEFAULT_CONFIG}\n{text}"),
                            Some(name) => {
                                let config = std::fs::read_to_string(examples.join(format!("{name}.toml"))).unwrap();
                                format!("{config}\n{text}")
                            }
                        });
                    }
                }
                assert!(seeds.len() >= 3, "the default and at least two examples");
                for seed in &seeds {
                    Config::parse(seed).expect("every seed is valid");
                }
                seeds
            })
        }

        /// `parse` returned (it did not panic): the text is valid, or every
        /// error names where: the line of a TOML syntax error, or a key that
        /// is in the text.
        fn check(text: &str) -> Result<(), TestCaseError> {
            let Err(ConfigErrors(errors)) = Config::parse(text) else { return Ok(()) };
            prop_assert!(!errors.is_empty());
            for error in &errors {
                prop_assert!(!error.message.trim().is_empty(), "{error:?}");
            }
            match text.parse::<toml::Table>() {
                Err(err) => {
                    prop_assert_eq!(errors.len(), 1);
                    // The line the error starts on, counted from 1.
                    let line = err.span().map_or(1, |span| text[..span.start].matches('\n').count() + 1);
                    prop_assert_eq!(&errors[0].at, &format!("line {line}"));
                }
                Ok(table) => {
                    for error in &errors {
                        let at = &error.at;
                        // A key of the text, or a table it lacks (`sources`).
                        let keys = table.keys().map(String::as_str).chain(TOP_LEVEL.iter().copied());
                        prop_assert!(
                            keys.into_iter().any(|key| {
                                at == key || at.starts_with(&format!("{key}.")) || at.starts_with(&format!("{key}["))
                            }),
                            "{at:?} names no key of the config: {error}"
                        );
                    }
                }
            }
            Ok(())
        }

        const FRAGMENTS: &[&str] = &[
            "[",
            "]",
            "[[",
            "]]",
            "sources",
            "transforms",
            "sinks",
            "dead_letter",
            "plugins",
            "batch",
            "data_dir",
            ".",
            "type",
            "inputs",
            "=",
            " = ",
            " ",
            "\n",
            "\r\n",
            "\"",
            "'",
            "\"\"\"",
            "'''",
            "{",
            "}",
            ",",
            "#",
            "\\",
            "\\u",
            "stdin",
            "stdout",
            "file",
            "syslog",
            "wasm",
            "demo",
            "mode",
            "\"tcp\"",
            "\"udp\"",
            "tls",
            "address",
            "\"127.0.0.1:0\"",
            "max_events",
            "0",
            "-1",
            "1e400",
            "99999999999999999999",
            "true",
            "1979-05-27T07:32:00Z",
            "\"in\"",
            "[\"in\"]",
            "limits",
            "deadline_ms",
            "memory_mb",
            "path",
            "include",
            "\"stdin\"",
            "\"stdout\"",
            "\"wasm\"",
            "\u{0}",
            "é",
            "\u{feff}",
            "\t",
        ];

        /// Text built from TOML's and the config's tokens, with some noise.
        fn soup() -> impl Strategy<Value = String> {
            let piece = prop_oneof![
                6 => select(FRAGMENTS).prop_map(str::to_owned),
                1 => "(?s).{0,6}",
                1 => "[a-z_]{1,8}",
            ];
            proptest::collection::vec(piece, 0..60).prop_map(|pieces| pieces.concat())
        }

        #[derive(Debug, Clone)]
        enum Edit {
            DeleteLine(Index),
            DuplicateLine(Index),
            /// Put a line of any seed in its place.
            ReplaceLine(Index, Index, Index),
            SwapLines(Index, Index),
            DeleteChar(Index),
            InsertChar(Index, char),
            ReplaceChar(Index, char),
        }

        fn a_char() -> impl Strategy<Value = char> {
            prop_oneof![
                3 => select(&['[', ']', '{', '}', '"', '\'', '=', ',', '.', '#', '\n', ' ', '\\', '0', 'x', '-'][..]),
                1 => any::<char>(),
            ]
        }

        fn edit() -> impl Strategy<Value = Edit> {
            prop_oneof![
                any::<Index>().prop_map(Edit::DeleteLine),
                any::<Index>().prop_map(Edit::DuplicateLine),
                (any::<Index>(), any::<Index>(), any::<Index>()).prop_map(|(a, b, c)| Edit::ReplaceLine(a, b, c)),
                (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Edit::SwapLines(a, b)),
                any::<Index>().prop_map(Edit::DeleteChar),
                (any::<Index>(), a_char()).prop_map(|(a, c)| Edit::InsertChar(a, c)),
                (any::<Index>(), a_char()).prop_map(|(a, c)| Edit::ReplaceChar(a, c)),
            ]
        }

        fn apply(text: &str, edit: &Edit) -> String {
            let mut chars: Vec<char> = text.chars().collect();
            let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
            if lines.is_empty() {
                return match edit {
                    Edit::InsertChar(_, c) | Edit::ReplaceChar(_, c) => c.to_string(),
                    _ => String::new(),
                };
            }
            let n = lines.len();
            match edit {
                Edit::DeleteLine(i) => _ = lines.remove(i.index(n)),
                Edit::DuplicateLine(i) => lines.insert(i.index(n), lines[i.index(n)]),
                Edit::ReplaceLine(i, seed, line) => {
                    let donor: Vec<&str> = seeds()[seed.index(seeds().len())].split_inclusive('\n').collect();
                    lines[i.index(n)] = donor[line.index(donor.len())];
                }
                Edit::SwapLines(a, b) => lines.swap(a.index(n), b.index(n)),
                Edit::DeleteChar(i) => _ = chars.remove(i.index(chars.len())),
                Edit::InsertChar(i, c) => chars.insert(i.index(chars.len() + 1), *c),
                Edit::ReplaceChar(i, c) => {
                    let i = i.index(chars.len());
                    chars[i] = *c;
                }
            }
            match edit {
                Edit::DeleteChar(_) | Edit::InsertChar(..) | Edit::ReplaceChar(..) => chars.into_iter().collect(),
                _ => lines.concat(),
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2000))]

            #[test]
            fn parse_never_panics_on_arbitrary_text(text in prop_oneof!["(?s).{0,300}", soup()]) {
                check(&text)?;
            }

            #[test]
            fn parse_never_panics_on_mutated_configs(
                seed in any::<Index>(),
                edits in proptest::collection::vec(edit(), 1..6),
            ) {
                let mut text = seeds()[seed.index(seeds().len())].clone();
                for edit in &edits {
                    text = apply(&text, edit);
                }
                check(&text)?;
            }
        }
    }
}
