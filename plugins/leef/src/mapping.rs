//! Which event field goes into which LEEF attribute: the default table, the
//! kind of value each predefined key takes, and the keys a config may map.
//!
//! Predefined keys come first, as IBM asks; QRadar normalises `devTime`,
//! `cat`, `sev`, `usrName`, `src` and `dst` into its own event fields (the
//! rest need a custom property, which QRadar 7.3.2+ detects by itself). The
//! header's EventID and `cat` together pick the QRadar QID, so `cat` carries
//! what refines the kind (IBM's own example is `Login Event` + `cat=Failed`).
//!
//! | LEEF | event field | notes |
//! | --- | --- | --- |
//! | header EventID | `event.kind` | at most 255 characters |
//! | `devTime` | `time`, else `received_at` | epoch milliseconds (13 digits), so no `devTimeFormat` |
//! | `cat` | `authz.decision`, else `event.outcome` | `deny`, `allow`, `success`, `failure` … |
//! | `sev` | `event.severity` | 0–10 → 1–10, see below |
//! | `usrName` | `agent.name`, else `agent.id` | at most 255 characters |
//! | `realm` | `tenant.id` | the identity's domain: the agent's tenant |
//! | `role` | `authz.scope`, comma-separated | |
//! | `policy` | `authz.policy` | |
//! | `url` | `destination.url` | |
//! | `resource` | `destination.service`, else `retrieval.source` | what the agent acted on |
//! | `src` | `source.ip` | only a valid IP address; not the syslog peer, see below |
//! | `dst` | `destination.ip` | only a valid IP address |
//! | `agentId` | `agent.id` | custom keys from here on |
//! | `onBehalfOf` | `delegation.on_behalf_of` | |
//! | `sessionId` | `session.id` | |
//! | `toolName` | `tool.name` | |
//! | `toolArgs` | `tool.arguments` | compact JSON |
//! | `dstHost` | `destination.host` | |
//! | `eventId` | `event.id` | |
//! | `action` | `event.action` | |
//! | `outcome` | `event.outcome` | |
//! | `reason` | `authz.reason` | |
//! | `traceId` | `trace.id` | |
//! | `model` | `agent.model` | |
//! | `redactions` | `redaction.count` | |
//! | `msg` | the first of `prompt.text`, `output.text`, `reasoning.summary`, `error.message` | |
//!
//! The tenant is written once, in `realm`, not again in a custom key. `src`
//! is not taken from the syslog peer (`source.address`): a relay would pass
//! for the agent's host.
//!
//! **Severity.** LEEF's `sev` runs 1–10, the schema's `event.severity` 0–10:
//! 1–10 are kept, 0 (informational) becomes 1, anything outside is clamped and
//! a fraction rounded. A word is read as the normaliser reads it (`low` 3,
//! `medium` 5, `high` 8, `very-high`/`critical` 10, `info` 1); anything else
//! leaves `sev` out, so QRadar applies the log source's default.
//!
//! A field that is absent, null or empty is left out.

use sluice_plugin::fields::{Mapping, Source};

/// How an attribute's value is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Text, made safe (module `safe`).
    Text,
    /// Epoch milliseconds.
    Time,
    /// 1–10.
    Severity,
    /// An IP address, else left out.
    Address,
    /// A port number 0–65535, else left out.
    Port,
}

/// The kind of value `key` takes.
pub fn kind(key: &str) -> Kind {
    match key {
        "devTime" => Kind::Time,
        "sev" => Kind::Severity,
        "src" | "dst" | "srcPreNAT" | "dstPreNAT" | "srcPostNAT" | "dstPostNAT" | "identSrc" | "vSrc" => Kind::Address,
        "srcPort" | "dstPort" | "srcPreNATPort" | "dstPreNATPort" | "srcPostNATPort" | "dstPostNATPort" => Kind::Port,
        _ => Kind::Text,
    }
}

/// The longest value IBM allows for `key`, in characters.
pub fn max_len(key: &str) -> Option<usize> {
    match key {
        "usrName" | "accountName" | "identHostName" | "identNetBios" | "identGrpName" | "vSrcName" => Some(255),
        _ => None,
    }
}

/// The header's EventID is at most this many characters.
pub const EVENT_ID_MAX: usize = 255;

/// The default attributes, in the order written.
pub fn default_attributes() -> Mapping {
    let path = |key: &str, paths: &[&str]| (key.to_owned(), Source::paths(paths));
    Mapping::new(vec![
        path("devTime", &["time", "received_at"]),
        path("cat", &["authz.decision", "event.outcome"]),
        path("sev", &["event.severity"]),
        path("usrName", &["agent.name", "agent.id"]),
        path("realm", &["tenant.id"]),
        path("role", &["authz.scope"]),
        path("policy", &["authz.policy"]),
        path("url", &["destination.url"]),
        path("resource", &["destination.service", "retrieval.source"]),
        path("src", &["source.ip"]),
        path("dst", &["destination.ip"]),
        path("agentId", &["agent.id"]),
        path("onBehalfOf", &["delegation.on_behalf_of"]),
        path("sessionId", &["session.id"]),
        path("toolName", &["tool.name"]),
        path("toolArgs", &["tool.arguments"]),
        path("dstHost", &["destination.host"]),
        path("eventId", &["event.id"]),
        path("action", &["event.action"]),
        path("outcome", &["event.outcome"]),
        path("reason", &["authz.reason"]),
        path("traceId", &["trace.id"]),
        path("model", &["agent.model"]),
        path("redactions", &["redaction.count"]),
        path("msg", &["prompt.text", "output.text", "reasoning.summary", "error.message"]),
    ])
}

/// Whether a config may map `key`: letters, digits and `_` (so no key holds
/// `=`, a space or a delimiter), and not `devTimeFormat`, since `devTime` is
/// always written in epoch milliseconds, which take no format.
pub fn check_key(key: &str) -> Result<(), String> {
    if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err("a LEEF key holds only letters, digits and `_`".to_owned());
    }
    if key == "devTimeFormat" {
        return Err("`devTime` is written in epoch milliseconds, which need no `devTimeFormat`".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_keys_are_valid_and_unique() {
        let mapping = default_attributes();
        let mut seen = std::collections::BTreeSet::new();
        for (key, _) in mapping.entries() {
            assert_eq!(check_key(key), Ok(()), "{key}");
            assert!(seen.insert(key.as_str()), "{key} twice");
        }
    }

    #[test]
    fn kinds_and_lengths() {
        assert_eq!(kind("devTime"), Kind::Time);
        assert_eq!(kind("sev"), Kind::Severity);
        assert_eq!(kind("dst"), Kind::Address);
        assert_eq!(kind("dstPort"), Kind::Port);
        assert_eq!(kind("msg"), Kind::Text);
        assert_eq!(max_len("usrName"), Some(255));
        assert_eq!(max_len("msg"), None);
        assert!(check_key("devTimeFormat").unwrap_err().contains("epoch milliseconds"));
        assert!(check_key("a=b").is_err() && check_key("").is_err() && check_key("a b").is_err());
    }
}
