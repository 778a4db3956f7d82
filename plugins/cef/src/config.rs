//! The plugin's `config` table.
//!
//! ```toml
//! [transforms.format.config]
//! vendor = "AgentSec"                 # header fields, constant
//! product = "AgentRouter"
//! version = "1.0"
//! name = ["event.action", "event.kind"]   # header fields from the event: a path,
//! signature_id = "event.kind"             # a list of paths (first present wins)
//! severity = { value = "5" }              # or a constant
//! time_format = "epoch_ms"           # rt/start/end: epoch ms (the standard), or "rfc3339" as the event has it
//! [transforms.format.config.mapping]
//! suser = "agent.id"                 # CEF key = path, list of paths or { value = … }
//! cs6Label = { value = "model" }
//! cs6 = "agent.model"
//! cn1 = false                        # leave a default key out
//! ```
//!
//! Unknown config keys are refused, and so are mapping keys that the ArcSight
//! connector sets itself (`agent*`, `art`, `rawEvent` …, see module `mapping`):
//! the error names the key, and the router shows it when it loads the plugin.

use crate::mapping::{self, Header, default_extension};
use serde_json::Value;
use sluice_plugin::fields::{Mapping, Source};

/// How time fields (`rt`, `start`, `end` …) are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeFormat {
    /// Milliseconds since the epoch, as the CEF standard asks.
    EpochMillis,
    /// The event's own RFC 3339 text, for consumers that parse it (the P1
    /// benchmark's reference does).
    Rfc3339,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub vendor: String,
    pub product: String,
    pub version: String,
    pub header: Header,
    pub time_format: TimeFormat,
    /// CEF key ← source, in the order written.
    pub extension: Mapping,
}

const KEYS: &[&str] = &["vendor", "product", "version", "signature_id", "name", "severity", "time_format", "mapping"];

impl Settings {
    pub fn parse(config: &Value) -> Result<Settings, String> {
        let table = config.as_object().ok_or("config must be a table")?;
        if let Some(unknown) = table.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(format!("unknown config key `{unknown}` (expected one of {})", KEYS.join(", ")));
        }
        let constant = |key: &str, default: &str| match table.get(key) {
            None => Ok(default.to_owned()),
            Some(Value::String(text)) => Ok(text.clone()),
            Some(other) => Err(format!("config key `{key}` must be a string, got {other}")),
        };
        let mut header = Header::default();
        for (key, slot) in
            [("signature_id", &mut header.signature_id), ("name", &mut header.name), ("severity", &mut header.severity)]
        {
            if let Some(spec) = table.get(key) {
                *slot = Source::parse(&format!("config key `{key}`"), spec)?
                    .ok_or_else(|| format!("config key `{key}` cannot be false: the header needs it"))?;
            }
        }
        let time_format = match table.get("time_format") {
            None => TimeFormat::EpochMillis,
            Some(value) => match value.as_str() {
                Some("epoch_ms") => TimeFormat::EpochMillis,
                Some("rfc3339") => TimeFormat::Rfc3339,
                _ => return Err(format!("config key `time_format` must be \"epoch_ms\" or \"rfc3339\", got {value}")),
            },
        };
        let mut extension = default_extension();
        if let Some(overrides) = table.get("mapping") {
            extension.apply("mapping", overrides, mapping::check_key)?;
        }
        Ok(Settings {
            vendor: constant("vendor", "sluice")?,
            product: constant("product", "agent-events")?,
            version: constant("version", env!("CARGO_PKG_VERSION"))?,
            header,
            time_format,
            extension,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn overrides_replace_in_place_add_at_the_end_and_remove() {
        let settings = Settings::parse(&json!({
            "vendor": "AgentSec",
            "name": ["event.action"],
            "mapping": {"suser": "agent.name", "cn1": false, "cn1Label": false, "deviceExternalId": {"value": "gw-1"}},
        }))
        .unwrap();
        assert_eq!(settings.vendor, "AgentSec");
        assert_eq!(settings.product, "agent-events");
        assert_eq!(settings.header.name, Source::Paths(vec!["event.action".into()]));
        let keys: Vec<&str> = settings.extension.entries().iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys[3], "suser", "an override keeps the key's place");
        assert_eq!(settings.extension.get("suser"), Some(&Source::paths(&["agent.name"])));
        assert!(!keys.contains(&"cn1") && !keys.contains(&"cn1Label"));
        assert_eq!(keys.last(), Some(&"deviceExternalId"));
    }

    #[test]
    fn errors_name_the_bad_key() {
        let error = |config: Value| Settings::parse(&config).unwrap_err();
        assert!(error(json!({"vendr": "x"})).contains("unknown config key `vendr`"));
        assert!(error(json!({"vendor": 1})).contains("`vendor` must be a string"));
        assert!(error(json!({"time_format": "iso"})).contains("`time_format`"));
        assert!(error(json!({"name": false})).contains("`name` cannot be false"));
        assert!(error(json!({"mapping": {"bad key": "x"}})).contains("`mapping.bad key`"));
        assert!(error(json!({"mapping": {"msg": {"value": "x", "other": 1}}})).contains("`mapping.msg`"));
        assert!(error(json!({"mapping": {"msg": 3}})).contains("`mapping.msg` must be"));
        assert!(error(json!({"mapping": {"msg": [""]}})).contains("non-empty"));
        assert!(error(json!({"mapping": {"agentId": "agent.id"}})).contains("`mapping.agentId`: `agentId` is set by"));
        assert!(error(json!({"mapping": {"art": "time"}})).contains("ArcSight connector"));
        assert!(error(json!({"mapping": ["msg"]})).contains("`mapping` must be a table"));
    }
}
