//! Which event field goes into which CEF field.
//!
//! The default follows the P1 reference layout (`suser` = the agent,
//! `duser` = on whose behalf, `cs1`…`cs5` = tenant, session, tool, arguments,
//! policy) and adds the trace, reason, scope, model and redaction count. The
//! AI agent never goes into the `agent*` keys: ArcSight connectors set those
//! to describe themselves.
//!
//! | CEF | event field |
//! | --- | --- |
//! | SignatureID / Name / Severity | `event.kind` / `event.action`, else `event.kind` / `event.severity` |
//! | `rt` | `time`, else `received_at` (epoch ms) |
//! | `externalId` | `event.id` |
//! | `suser` | `agent.id` |
//! | `duser` | `delegation.on_behalf_of` |
//! | `cs1` tenant, `cs2` session | `tenant.id`, `session.id` |
//! | `act` | `event.kind` |
//! | `dhost`, `request`, `destinationServiceName` | `destination.host`, `.url`, `.service` |
//! | `outcome`, `reason`, `cs5` policy, `spriv` | `authz.decision`, `.reason`, `.policy`, `.scope` |
//! | `cs3` tool, `cs4` args | `tool.name`, `tool.arguments` |
//! | `cs6` trace | `trace.id` |
//! | `flexString1` model | `agent.model` |
//! | `cn1` redactions | `redaction.count` |
//! | `msg` | the first of `prompt.text`, `output.text`, `reasoning.summary`, `error.message` |

use serde_json::Value;
use std::borrow::Cow;

/// Where a CEF field's value comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// The first of these dotted paths that holds a value.
    Paths(Vec<String>),
    /// Always this text.
    Constant(String),
}

impl Source {
    fn paths(paths: &[&str]) -> Source {
        Source::Paths(paths.iter().map(|p| (*p).to_owned()).collect())
    }

    /// The field's text for `event`; `None` when absent, null or empty.
    pub fn text<'e>(&'e self, event: &'e Value) -> Option<Cow<'e, str>> {
        match self {
            Source::Constant(text) => Some(Cow::Borrowed(text.as_str())).filter(|t| !t.is_empty()),
            Source::Paths(paths) => paths.iter().find_map(|path| lookup(event, path).and_then(render)),
        }
    }

    /// The raw value, for fields that convert it (timestamps).
    pub fn value<'e>(&'e self, event: &'e Value) -> Option<Cow<'e, Value>> {
        match self {
            Source::Constant(text) => Some(Cow::Owned(Value::String(text.clone()))),
            Source::Paths(paths) => {
                paths.iter().find_map(|path| lookup(event, path).filter(|v| !v.is_null())).map(Cow::Borrowed)
            }
        }
    }
}

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
pub fn default_extension() -> Vec<(String, Source)> {
    let path = |key: &str, paths: &[&str]| (key.to_owned(), Source::paths(paths));
    let constant = |key: &str, text: &str| (key.to_owned(), Source::Constant(text.to_owned()));
    vec![
        path("rt", &["time", "received_at"]),
        path("externalId", &["event.id"]),
        path("suser", &["agent.id"]),
        path("duser", &["delegation.on_behalf_of"]),
        constant("cs1Label", "tenant"),
        path("cs1", &["tenant.id"]),
        constant("cs2Label", "session"),
        path("cs2", &["session.id"]),
        path("act", &["event.kind"]),
        path("dhost", &["destination.host"]),
        path("request", &["destination.url"]),
        path("destinationServiceName", &["destination.service"]),
        path("outcome", &["authz.decision"]),
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
    ]
}

fn lookup<'e>(event: &'e Value, path: &str) -> Option<&'e Value> {
    path.split('.').try_fold(event, |node, key| match node {
        Value::Object(map) => map.get(key),
        Value::Array(items) => items.get(key.parse::<usize>().ok()?),
        _ => None,
    })
}

/// A value as CEF text: strings as they are, a list of plain values joined
/// with commas, anything structured as compact JSON.
fn render(value: &Value) -> Option<Cow<'_, str>> {
    let text = match value {
        Value::Null => return None,
        Value::String(text) => Cow::Borrowed(text.as_str()),
        Value::Bool(_) | Value::Number(_) => Cow::Owned(value.to_string()),
        Value::Array(items) if items.iter().all(|item| !item.is_array() && !item.is_object()) => {
            Cow::Owned(items.iter().filter_map(|item| render(item).map(Cow::into_owned)).collect::<Vec<_>>().join(","))
        }
        Value::Array(_) | Value::Object(_) => Cow::Owned(value.to_string()),
    };
    Some(text).filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_each_kind_of_value() {
        let event = json!({"s": "x", "n": 3, "b": true, "l": ["read", "write"], "o": {"url": "u"}, "e": "", "z": null,
                           "m": [{"a": 1}]});
        let text = |path: &str| Source::paths(&[path]).text(&event).map(Cow::into_owned);
        assert_eq!(text("s").as_deref(), Some("x"));
        assert_eq!(text("n").as_deref(), Some("3"));
        assert_eq!(text("b").as_deref(), Some("true"));
        assert_eq!(text("l").as_deref(), Some("read,write"));
        assert_eq!(text("o").as_deref(), Some(r#"{"url":"u"}"#));
        assert_eq!(text("m").as_deref(), Some(r#"[{"a":1}]"#));
        assert_eq!(text("e"), None);
        assert_eq!(text("z"), None);
        assert_eq!(text("missing.path"), None);
    }

    #[test]
    fn falls_back_through_paths() {
        let event = json!({"output": {"text": "done"}});
        let source = Source::paths(&["prompt.text", "output.text"]);
        assert_eq!(source.text(&event).as_deref(), Some("done"));
    }
}
