//! Which event field goes into which CEF field: the default table, and the
//! keys a config may not map.
//!
//! The agent is bound to every line: its id in `suid`, its name (else its id)
//! in `suser`, the principal it acts for in `duser`. The AI agent never goes
//! into the `agent*` keys (`aid`, `ahost`, `art` …): ArcSight connectors set
//! those to describe themselves, and refuse or overwrite them, so a config
//! mapping one of them, or any other key the standard reserves for the
//! consumer, is rejected. Dictionary keys come before custom ones, as the
//! standard asks (`spriv` for the scope rather than a `csN`); the custom
//! strings carry the identity context that has no dictionary key.
//!
//! | CEF | event field | max. characters |
//! | --- | --- | --- |
//! | header SignatureID | `event.kind` | 1023 |
//! | header Name | `event.action`, else `event.kind` | 512 |
//! | header Severity | `event.severity`: 0–10 (rounded, clamped), a standard word, else `Unknown` | – |
//! | `rt` | `time`, else `received_at`, in epoch milliseconds | – |
//! | `externalId` | `event.id` | 40 |
//! | `suid` | `agent.id` | 1023 |
//! | `suser` | `agent.name`, else `agent.id` | 1023 |
//! | `duser` | `delegation.on_behalf_of` | 1023 |
//! | `cs1Label`=tenant, `cs1` | `tenant.id` | 4000 |
//! | `cs2Label`=session, `cs2` | `session.id` | 4000 |
//! | `act` | `event.kind` | 63 |
//! | `app` | the scheme of `destination.url`, upper case (`HTTPS`) | 31 |
//! | `dhost` | `destination.host` | 1023 |
//! | `request` | `destination.url` | 1023 |
//! | `destinationServiceName` | `destination.service` | 1023 |
//! | `outcome` | `authz.decision`, else `event.outcome` | 63 |
//! | `reason` | `authz.reason` | 1023 |
//! | `cs3Label`=tool, `cs3` | `tool.name` | 4000 |
//! | `cs4Label`=args, `cs4` | `tool.arguments` (compact JSON) | 4000 |
//! | `cs5Label`=policy, `cs5` | `authz.policy` | 4000 |
//! | `cs6Label`=trace, `cs6` | `trace.id` | 4000 |
//! | `spriv` | `authz.scope`, comma-separated | 1023 |
//! | `flexString1Label`=model, `flexString1` | `agent.model` | 1023 |
//! | `cn1Label`=redactions, `cn1` | `redaction.count` | – |
//! | `msg` | the first of `prompt.text`, `output.text`, `reasoning.summary`, `error.message` | 1023 |
//!
//! A field that is absent, null or empty is left out, and so is a label whose
//! field is. Values are cut to the standard's length for their key (module
//! `escape`); keys the table does not list get 1023.

use sluice_plugin::fields::{Mapping, Source};

/// The header's per-event fields.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    pub signature_id: Source,
    pub name: Source,
    pub severity: Source,
}

impl Default for Header {
    fn default() -> Self {
        Header {
            signature_id: Source::paths(&["event.kind"]),
            name: Source::paths(&["event.action", "event.kind"]),
            severity: Source::paths(&["event.severity"]),
        }
    }
}

/// The default extension, in the order it is written.
pub fn default_extension() -> Mapping {
    let path = |key: &str, paths: &[&str]| (key.to_owned(), Source::paths(paths));
    let constant = |key: &str, text: &str| (key.to_owned(), Source::constant(text));
    Mapping::new(vec![
        path("rt", &["time", "received_at"]),
        path("externalId", &["event.id"]),
        path("suid", &["agent.id"]),
        path("suser", &["agent.name", "agent.id"]),
        path("duser", &["delegation.on_behalf_of"]),
        constant("cs1Label", "tenant"),
        path("cs1", &["tenant.id"]),
        constant("cs2Label", "session"),
        path("cs2", &["session.id"]),
        path("act", &["event.kind"]),
        path("app", &["destination.url"]),
        path("dhost", &["destination.host"]),
        path("request", &["destination.url"]),
        path("destinationServiceName", &["destination.service"]),
        path("outcome", &["authz.decision", "event.outcome"]),
        path("reason", &["authz.reason"]),
        constant("cs3Label", "tool"),
        path("cs3", &["tool.name"]),
        constant("cs4Label", "args"),
        path("cs4", &["tool.arguments"]),
        constant("cs5Label", "policy"),
        path("cs5", &["authz.policy"]),
        constant("cs6Label", "trace"),
        path("cs6", &["trace.id"]),
        path("spriv", &["authz.scope"]),
        constant("flexString1Label", "model"),
        path("flexString1", &["agent.model"]),
        constant("cn1Label", "redactions"),
        path("cn1", &["redaction.count"]),
        path("msg", &["prompt.text", "output.text", "reasoning.summary", "error.message"]),
    ])
}

/// Keys that only the consumer sets (CEF standard rev. 27, "audience:
/// consumer"), besides every key starting with `agent`.
const CONSUMER_KEYS: &[&str] = &[
    "agt",
    "ahost",
    "aid",
    "amac",
    "art",
    "at",
    "atz",
    "av",
    "customerExternalID",
    "customerURI",
    "destinationTranslatedZoneExternalID",
    "destinationTranslatedZoneURI",
    "destinationZoneExternalID",
    "destinationZoneURI",
    "deviceTranslatedZoneExternalID",
    "deviceTranslatedZoneURI",
    "deviceZoneExternalID",
    "deviceZoneURI",
    "dlat",
    "dlong",
    "eventId",
    "rawEvent",
    "slat",
    "slong",
    "sourceTranslatedZoneExternalID",
    "sourceTranslatedZoneURI",
    "sourceZoneExternalID",
    "sourceZoneURI",
];

/// Whether a config may map `key`: letters and digits only (the standard's
/// key syntax; `_` is tolerated as ArcSight parsers accept it), and not a key
/// the consumer sets.
pub fn check_key(key: &str) -> Result<(), String> {
    if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err("a CEF key holds only letters, digits and `_`".to_owned());
    }
    if key.starts_with("agent") || CONSUMER_KEYS.contains(&key) {
        return Err(format!(
            "`{key}` is set by the ArcSight connector to describe itself, never by a producer; \
             the AI agent goes in `suid`/`suser`"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_never_uses_consumer_keys_and_pairs_every_label() {
        let mapping = default_extension();
        for (key, _) in mapping.entries() {
            assert_eq!(check_key(key), Ok(()), "{key}");
            if let Some(base) = key.strip_suffix("Label") {
                assert!(mapping.get(base).is_some(), "{key} labels nothing");
            }
        }
    }

    #[test]
    fn connector_keys_are_refused() {
        for key in ["agentId", "agentHostName", "aid", "ahost", "art", "rawEvent", "eventId"] {
            assert!(check_key(key).unwrap_err().contains("ArcSight connector"), "{key}");
        }
        assert!(check_key("bad key").unwrap_err().contains("letters, digits"));
        assert_eq!(check_key("deviceExternalId"), Ok(()));
    }
}
