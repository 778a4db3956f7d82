//! A plugin's config, typed with serde: errors name the key at fault.
//!
//! ```
//! #[derive(serde::Deserialize)]
//! #[serde(deny_unknown_fields)]
//! struct Config { labels: std::collections::BTreeMap<String, String>, #[serde(default)] drop_kind: Option<String> }
//!
//! let err = sluice_plugin::config::parse::<Config>(serde_json::json!({"labels": {"a": 1}})).err().unwrap();
//! assert_eq!(err, "config key `labels.a`: invalid type: integer `1`, expected a string");
//! ```

use serde::de::DeserializeOwned;

/// `config` (the transform's `config` table, as `configure` receives it) as
/// a `T`, or an error naming the key at fault, ready to return from
/// `configure`.
pub fn parse<T: DeserializeOwned>(config: serde_json::Value) -> Result<T, String> {
    serde_path_to_error::deserialize(config).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if path == "." { format!("config: {inner}") } else { format!("config key `{path}`: {inner}") }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Config {
        #[serde(default)]
        limit: u32,
        nested: Option<Nested>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Nested {
        paths: Vec<String>,
    }

    #[test]
    fn errors_name_the_key_and_good_config_parses() {
        assert_eq!(parse::<Config>(json!({"limit": 3})).unwrap(), Config { limit: 3, nested: None });
        let err = parse::<Config>(json!({"nested": {"paths": ["a", 2]}})).unwrap_err();
        assert_eq!(err, "config key `nested.paths[1]`: invalid type: integer `2`, expected a string");
        let err = parse::<Config>(json!({"colour": 1})).unwrap_err();
        assert!(err.starts_with("config key `colour`: unknown field `colour`"), "{err}");
        let err = parse::<Config>(json!({"limit": -1})).unwrap_err();
        assert!(err.starts_with("config key `limit`: invalid value"), "{err}");
    }
}
