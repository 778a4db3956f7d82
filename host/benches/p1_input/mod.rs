//! P1's input for the benchmarks that measure its stages (`p1`,
//! `contract_proto`): the stages of `bench/peer/P1.toml` and the harness
//! corpus sample as the syslog source hands it on.

use sluice::plugins::{BUILTIN, Instance, Limits, Runtime};
use sluice::sources::Origin;
use sluice::sources::decoding::Decoding;

pub const STAGES: &str = include_str!("../../../bench/peer/P1.toml");
pub const CORPUS: &str = include_str!("../../../bench/peer/corpus-sample.jsonl");
pub const BATCH: usize = 128;

/// Each stage of P1.toml: (transform id, plugin, config as JSON).
pub fn stages() -> Vec<(String, String, String)> {
    let table: toml::Table = STAGES.parse().expect("P1.toml is valid TOML");
    let transforms = table["transforms"].as_table().expect("P1.toml has transforms");
    ["normalise", "redact", "cef"]
        .into_iter()
        .map(|id| {
            let stage = &transforms[id];
            let plugin = stage["plugin"].as_str().expect("a plugin name").to_owned();
            let config = serde_json::to_string(&stage["config"]).expect("TOML serialises as JSON");
            (id.to_owned(), plugin, config)
        })
        .collect()
}

/// The corpus as the syslog source hands it on, with the decoding the
/// harness peer configures for P1 (`bench/peer/start.sh`: `json`).
pub fn envelopes() -> Vec<String> {
    envelopes_decoded(Decoding::Json)
}

/// The corpus as the syslog source hands it on with `decoding`.
pub fn envelopes_decoded(decoding: Decoding) -> Vec<String> {
    let origin = Origin { id: "in", path: None, address: Some("127.0.0.1:40000") };
    CORPUS
        .lines()
        .map(|line| {
            let raw = format!("<134>1 2026-11-26T12:00:00.000Z agent-host agentd 4242 AUDIT - {line}");
            let message = sluice::syslog::parse(raw.as_bytes());
            message.to_event(origin, "2026-11-26T12:00:00.123456Z", decoding).json().to_owned()
        })
        .collect()
}

/// A built-in plugin, configured.
pub fn instance(runtime: &Runtime, plugin: &str, config: &str) -> Instance {
    let (_, bytes) = BUILTIN.iter().find(|(n, _)| *n == plugin).expect("a built-in plugin");
    runtime.load(plugin, bytes).expect("plugin loads").instantiate(plugin, config, Limits::default()).expect("starts")
}
