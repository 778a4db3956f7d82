//! The plugin's `config` table.
//!
//! ```toml
//! [transforms.redact.config]
//! defaults = true                    # start from every built-in rule (false: none)
//! replacement = "[REDACTED]"         # `{rule}` in it is replaced by the rule's name
//! skip = ["event.id", "trace.id"]    # paths never scanned (replaces the default list)
//! [transforms.redact.config.rules]
//! email = false                      # switch a built-in rule off
//! card_number = true                 # or on, when defaults = false
//! employee_id = 'EMP-[0-9]{6}'       # add a rule: a regular expression
//! session = '(?i)session=(?P<secret>\w+)'  # a `secret` group masks only that part
//! ```

use crate::rules::{BUILTIN, Builtin};
use serde_json::{Map, Value};

/// Identifiers that correlate events; masking a digit run inside one would
/// break the SIEM's joins, and they carry no content.
const DEFAULT_SKIP: &[&str] =
    &["event.id", "session.id", "trace.id", "trace.span_id", "trace.parent_span_id", "time", "received_at"];

/// One rule to run: a built-in or a custom regular expression.
#[derive(Debug, Clone)]
pub struct RuleSpec {
    pub name: String,
    pub pattern: String,
    pub validate: Option<fn(&str) -> bool>,
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// The rules, in the order they run.
    pub rules: Vec<RuleSpec>,
    pub replacement: String,
    /// Dotted paths left alone, each split into its keys.
    pub skip: Vec<Vec<String>>,
}

impl Settings {
    pub fn parse(config: &Value) -> Result<Settings, String> {
        let table = config.as_object().ok_or("config must be a table")?;
        if let Some(unknown) =
            table.keys().find(|k| !matches!(k.as_str(), "defaults" | "replacement" | "skip" | "rules"))
        {
            return Err(format!(
                "unknown config key `{unknown}` (expected `defaults`, `replacement`, `skip` or `rules`)"
            ));
        }
        let defaults = match table.get("defaults") {
            None => true,
            Some(value) => {
                value.as_bool().ok_or_else(|| format!("config key `defaults` must be true or false, got {value}"))?
            }
        };
        let replacement = match table.get("replacement") {
            None => "[REDACTED]".to_owned(),
            Some(Value::String(text)) => text.clone(),
            Some(other) => return Err(format!("config key `replacement` must be a string, got {other}")),
        };
        let skip = match table.get("skip") {
            None => DEFAULT_SKIP.iter().map(|p| split_path(p)).collect(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| match item.as_str() {
                    Some(path) if !path.is_empty() => Ok(split_path(path)),
                    _ => Err(format!("config key `skip` must be a list of dotted paths, got {item}")),
                })
                .collect::<Result<_, _>>()?,
            Some(other) => return Err(format!("config key `skip` must be a list of dotted paths, got {other}")),
        };
        let mut rules: Vec<RuleSpec> = if defaults { BUILTIN.iter().map(builtin_spec).collect() } else { Vec::new() };
        match table.get("rules") {
            None => {}
            Some(Value::Object(choices)) => apply_choices(&mut rules, choices)?,
            Some(other) => {
                return Err(format!("config key `rules` must be a table of rule = true/false/regex, got {other}"));
            }
        }
        Ok(Settings { rules, replacement, skip })
    }
}

fn split_path(path: &str) -> Vec<String> {
    path.split('.').map(str::to_owned).collect()
}

fn builtin_spec(rule: &Builtin) -> RuleSpec {
    RuleSpec { name: rule.name.to_owned(), pattern: rule.pattern.to_owned(), validate: rule.validate }
}

fn apply_choices(rules: &mut Vec<RuleSpec>, choices: &Map<String, Value>) -> Result<(), String> {
    for (name, choice) in choices {
        let at = format!("config key `rules.{name}`");
        let builtin = BUILTIN.iter().find(|rule| rule.name == name);
        let position = rules.iter().position(|rule| &rule.name == name);
        match (choice, builtin, position) {
            (Value::Bool(false), _, Some(index)) => {
                rules.remove(index);
            }
            (Value::Bool(false), Some(_), None) | (Value::Bool(true), Some(_), Some(_)) => {}
            (Value::Bool(true), Some(rule), None) => {
                // Keep the built-in order: it decides which rule claims a match.
                let rank = |name: &str| BUILTIN.iter().position(|b| b.name == name).unwrap_or(usize::MAX);
                let at = rules.iter().position(|r| rank(&r.name) > rank(rule.name)).unwrap_or(rules.len());
                rules.insert(at, builtin_spec(rule));
            }
            (Value::Bool(_), None, _) => {
                return Err(format!(
                    "{at}: there is no built-in rule `{name}` (built-in: {}); give a regular expression to add one",
                    BUILTIN.iter().map(|r| r.name).collect::<Vec<_>>().join(", ")
                ));
            }
            (Value::String(pattern), _, position) => {
                if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')) {
                    return Err(format!("{at}: a rule name may hold only letters, digits, `_`, `-` and `.`"));
                }
                let spec = RuleSpec { name: name.clone(), pattern: pattern.clone(), validate: None };
                match position {
                    Some(index) => rules[index] = spec,
                    None => rules.push(spec),
                }
            }
            (other, _, _) => {
                return Err(format!("{at} must be true, false or a regular expression, got {other}"));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn names(settings: &Settings) -> Vec<&str> {
        settings.rules.iter().map(|r| r.name.as_str()).collect()
    }

    #[test]
    fn defaults_to_every_built_in_rule() {
        let settings = Settings::parse(&json!({})).unwrap();
        assert_eq!(names(&settings), BUILTIN.iter().map(|r| r.name).collect::<Vec<_>>());
        assert_eq!(settings.replacement, "[REDACTED]");
        assert!(settings.skip.contains(&vec!["trace".to_owned(), "id".to_owned()]));
    }

    #[test]
    fn rules_switch_built_ins_and_add_custom_ones() {
        let settings =
            Settings::parse(&json!({"rules": {"email": false, "employee_id": "EMP-[0-9]{6}", "jwt": true}})).unwrap();
        let names = names(&settings);
        assert!(!names.contains(&"email"));
        assert!(names.contains(&"jwt"));
        assert_eq!(names.last(), Some(&"employee_id"));
    }

    #[test]
    fn defaults_off_picks_rules_in_built_in_order() {
        let settings =
            Settings::parse(&json!({"defaults": false, "rules": {"email": true, "aws_access_key": true}})).unwrap();
        assert_eq!(names(&settings), ["aws_access_key", "email"]);
    }

    #[test]
    fn a_custom_pattern_replaces_a_built_in_of_the_same_name() {
        let settings = Settings::parse(&json!({"rules": {"email": "[a-z]+@corp"}})).unwrap();
        let email = settings.rules.iter().find(|r| r.name == "email").unwrap();
        assert_eq!(email.pattern, "[a-z]+@corp");
    }

    #[test]
    fn errors_name_the_bad_key() {
        let error = |config: Value| Settings::parse(&config).unwrap_err();
        assert!(error(json!({"rule": {}})).contains("unknown config key `rule`"));
        assert!(error(json!({"defaults": 1})).contains("`defaults`"));
        assert!(error(json!({"replacement": 1})).contains("`replacement`"));
        assert!(error(json!({"skip": "trace.id"})).contains("`skip`"));
        assert!(error(json!({"rules": {"mail": false}})).contains("`rules.mail`: there is no built-in rule"));
        assert!(error(json!({"rules": {"email": 3}})).contains("`rules.email` must be"));
        assert!(error(json!({"rules": {"a b": "x"}})).contains("`rules.a b`"));
    }
}
