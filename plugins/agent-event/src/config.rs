//! The plugin's `config` table.
//!
//! ```toml
//! [transforms.normalise.config]
//! require_identity = true     # a missing agent.id fails the event (false: "unknown" + label)
//! unknown_kind = "fail"       # or "lifecycle": keep the event as kind lifecycle + label
//! [transforms.normalise.config.mapping]
//! "agent.id" = "agentId"                                  # canonical path ← source path
//! "tenant.id" = { from = ["org.id", "tenant"], default = "default" }
//! "event.kind" = { value = "tool_call" }                  # a constant
//! ```

use serde_json::{Map, Value};

/// What to do with an `event.kind` outside the schema's list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnknownKind {
    /// Fail the event to the dead-letter output.
    Fail,
    /// Keep it as kind `lifecycle`, with a label naming the kind it had.
    Lifecycle,
}

/// Where one canonical field comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    /// The first of these source paths that is present (and is moved, not
    /// copied), else `default` if given.
    From { paths: Vec<String>, default: Option<Value> },
    /// Always this value.
    Constant(Value),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub require_identity: bool,
    pub unknown_kind: UnknownKind,
    /// (canonical path, rule), in the order they apply.
    pub mapping: Vec<(String, Rule)>,
}

impl Config {
    pub fn parse(config: &Value) -> Result<Config, String> {
        let table = config.as_object().ok_or("config must be a table")?;
        let mut parsed = Config { require_identity: true, unknown_kind: UnknownKind::Fail, mapping: Vec::new() };
        for (key, value) in table {
            match key.as_str() {
                "require_identity" => {
                    parsed.require_identity = value
                        .as_bool()
                        .ok_or_else(|| format!("config key `require_identity` must be true or false, got {value}"))?;
                }
                "unknown_kind" => {
                    parsed.unknown_kind = match value.as_str() {
                        Some("fail") => UnknownKind::Fail,
                        Some("lifecycle") => UnknownKind::Lifecycle,
                        _ => {
                            return Err(format!(
                                "config key `unknown_kind` must be \"fail\" or \"lifecycle\", got {value}"
                            ));
                        }
                    };
                }
                "mapping" => parsed.mapping = parse_mapping(value)?,
                other => {
                    return Err(format!(
                        "unknown config key `{other}` (expected `require_identity`, `unknown_kind` or `mapping`)"
                    ));
                }
            }
        }
        Ok(parsed)
    }
}

fn parse_mapping(value: &Value) -> Result<Vec<(String, Rule)>, String> {
    let table = value.as_object().ok_or("config key `mapping` must be a table of canonical path = source path")?;
    table.iter().map(|(target, rule)| Ok((target.clone(), parse_rule(target, rule)?))).collect()
}

fn parse_rule(target: &str, rule: &Value) -> Result<Rule, String> {
    let at = format!("config key `mapping.\"{target}\"`");
    if target.is_empty() || target.split('.').any(str::is_empty) {
        return Err(format!("{at}: the canonical path must be dotted names, like \"agent.id\""));
    }
    match rule {
        Value::String(path) => Ok(Rule::From { paths: vec![source_path(&at, path)?], default: None }),
        Value::Object(spec) => parse_rule_table(&at, spec),
        other => Err(format!("{at} must be a source path or a table with `from`, `default` or `value`, got {other}")),
    }
}

fn parse_rule_table(at: &str, spec: &Map<String, Value>) -> Result<Rule, String> {
    if let Some(unknown) = spec.keys().find(|k| !matches!(k.as_str(), "from" | "default" | "value")) {
        return Err(format!("{at}: unknown key `{unknown}` (expected `from`, `default` or `value`)"));
    }
    match (spec.get("from"), spec.get("default"), spec.get("value")) {
        (None, None, Some(constant)) => Ok(Rule::Constant(constant.clone())),
        (Some(_), _, Some(_)) | (None, Some(_), Some(_)) => {
            Err(format!("{at}: `value` cannot be combined with `from` or `default`"))
        }
        (None, _, None) => Err(format!("{at} needs `from` (a source path or a list of them) or `value`")),
        (Some(from), default, None) => {
            let paths = match from {
                Value::String(path) => vec![source_path(at, path)?],
                Value::Array(items) if !items.is_empty() => items
                    .iter()
                    .map(|item| item.as_str().ok_or_else(|| format!("{at}: `from` must hold strings, got {item}")))
                    .map(|path| source_path(at, path?))
                    .collect::<Result<_, _>>()?,
                other => return Err(format!("{at}: `from` must be a source path or a list of them, got {other}")),
            };
            Ok(Rule::From { paths, default: default.cloned() })
        }
    }
}

fn source_path(at: &str, path: &str) -> Result<String, String> {
    if path.is_empty() {
        return Err(format!("{at}: a source path cannot be empty"));
    }
    Ok(path.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_fail_on_missing_identity_and_unknown_kinds() {
        let config = Config::parse(&json!({})).unwrap();
        assert!(config.require_identity);
        assert_eq!(config.unknown_kind, UnknownKind::Fail);
        assert!(config.mapping.is_empty());
    }

    #[test]
    fn parses_every_rule_form() {
        let config = Config::parse(&json!({
            "require_identity": false,
            "unknown_kind": "lifecycle",
            "mapping": {
                "agent.id": "agentId",
                "tenant.id": {"from": ["org.id", "tenant"], "default": "default"},
                "event.kind": {"value": "tool_call"},
            },
        }))
        .unwrap();
        assert!(!config.require_identity);
        assert_eq!(config.unknown_kind, UnknownKind::Lifecycle);
        assert_eq!(
            config.mapping,
            vec![
                ("agent.id".into(), Rule::From { paths: vec!["agentId".into()], default: None }),
                ("event.kind".into(), Rule::Constant(json!("tool_call"))),
                (
                    "tenant.id".into(),
                    Rule::From { paths: vec!["org.id".into(), "tenant".into()], default: Some(json!("default")) }
                ),
            ]
        );
    }

    #[test]
    fn errors_name_the_bad_key() {
        let error = |config: Value| Config::parse(&config).unwrap_err();
        assert!(error(json!({"require_identity": "yes"})).contains("`require_identity`"));
        assert!(error(json!({"unknown_kind": "drop"})).contains("`unknown_kind`"));
        assert!(error(json!({"mapping": {"agent.id": 3}})).contains("`mapping.\"agent.id\"`"));
        assert!(error(json!({"mapping": {"agent.id": {"form": "x"}}})).contains("unknown key `form`"));
        assert!(error(json!({"mapping": {"agent.id": {"from": "x", "value": 1}}})).contains("cannot be combined"));
        assert!(error(json!({"mapping": {"agent..id": "x"}})).contains("dotted names"));
        assert!(error(json!({"mappings": {}})).contains("unknown config key `mappings`"));
    }
}
