//! Golden files: the CEF lines for the shared corpus of canonical events, with
//! the default mapping and with a site's configuration. `SLUICE_BLESS=1`
//! rewrites them (see `plugins/testdata/golden.rs`).

#[path = "../../testdata/golden.rs"]
mod support;

use serde_json::{Value, json};
use sluice_plugin::{Outcome, Plugin};
use sluice_plugin_cef::Cef;

fn lines(config: Value) -> Vec<String> {
    let mut cef = Cef::configure(config).unwrap();
    support::corpus()
        .iter()
        .map(|event| match cef.process(&event.to_string()) {
            Outcome::Emit(line) => line,
            other => panic!("expected a line for {event}, got {other:?}"),
        })
        .collect()
}

#[test]
fn default_mapping() {
    support::check("default.cef", &lines(json!({})));
}

#[test]
fn configured_mapping() {
    let config = json!({
        "vendor": "Agent|Sec", "product": "Router\\Prod", "version": "1.0",
        "name": ["event.action"], "severity": {"value": "5"}, "time_format": "rfc3339",
        "mapping": {"suser": "agent.id", "cs6Label": {"value": "model"}, "cs6": "agent.model", "flexString1": false,
                    "flexString1Label": false, "cn1": false, "deviceExternalId": {"value": "gw-1"},
                    "cs4": ["tool.arguments.url", "tool.arguments"]},
    });
    support::check("configured.cef", &lines(config));
}
