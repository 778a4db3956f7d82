//! The plugin's `config` table.
//!
//! ```toml
//! [transforms.format.config]
//! ecs = true                                # ECS-style field names (module `ecs`); default false
//! drop_fields = ["syslog", "tool.result"]   # dotted canonical paths to leave out
//! ```
//!
//! `drop_fields` names canonical paths and applies before the ECS renaming, so
//! one list serves both forms. Every error names the config key, and the
//! router shows it when it loads the plugin.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Settings {
    pub ecs: bool,
    pub drop_fields: Vec<String>,
}

const KEYS: &[&str] = &["ecs", "drop_fields"];

impl Settings {
    pub fn parse(config: &Value) -> Result<Settings, String> {
        let table = config.as_object().ok_or("config must be a table")?;
        if let Some(unknown) = table.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(format!("unknown config key `{unknown}` (expected one of {})", KEYS.join(", ")));
        }
        let ecs = match table.get("ecs") {
            None => false,
            Some(Value::Bool(ecs)) => *ecs,
            Some(other) => return Err(format!("config key `ecs` must be true or false, got {other}")),
        };
        let drop_fields = match table.get("drop_fields") {
            None => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| match item.as_str() {
                    Some(path) if !path.is_empty() && path.split('.').all(|key| !key.is_empty()) => Ok(path.to_owned()),
                    _ => Err(format!(
                        "config key `drop_fields`: each entry is a dotted path such as \"tool.result\", got {item}"
                    )),
                })
                .collect::<Result<_, _>>()?,
            Some(other) => return Err(format!("config key `drop_fields` must be a list of dotted paths, got {other}")),
        };
        Ok(Settings { ecs, drop_fields })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_both_keys() {
        assert_eq!(Settings::parse(&json!({})).unwrap(), Settings::default());
        let settings = Settings::parse(&json!({"ecs": true, "drop_fields": ["syslog", "tool.result"]})).unwrap();
        assert!(settings.ecs);
        assert_eq!(settings.drop_fields, ["syslog", "tool.result"]);
    }

    #[test]
    fn errors_name_the_bad_key() {
        let error = |config: Value| Settings::parse(&config).unwrap_err();
        assert!(error(json!({"ECS": true})).contains("unknown config key `ECS`"));
        assert!(error(json!({"ecs": "yes"})).contains("`ecs` must be true or false"));
        assert!(error(json!({"drop_fields": "syslog"})).contains("`drop_fields` must be a list"));
        for bad in [json!(""), json!("a..b"), json!(".a"), json!(3)] {
            assert!(error(json!({"drop_fields": [bad]})).contains("`drop_fields`: each entry"));
        }
    }
}
