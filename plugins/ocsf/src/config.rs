//! The plugin's `config` table.
//!
//! ```toml
//! [transforms.ocsf.config]
//! include_unmapped = true          # keep the fields OCSF has no place for, under `unmapped`
//! [transforms.ocsf.config.product] # `metadata.product`: who produced the OCSF event
//! name = "sluice"
//! vendor_name = "sluice"
//! version = "0.1.0"                # default: this plugin's version
//! ```

use serde_json::{Map, Value};

/// What the router's configuration asks of the plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub product: Product,
    pub include_unmapped: bool,
}

/// `metadata.product`, with OCSF's attribute names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub name: String,
    pub vendor_name: String,
    pub version: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            product: Product {
                name: "sluice".to_owned(),
                vendor_name: "sluice".to_owned(),
                version: env!("CARGO_PKG_VERSION").to_owned(),
            },
            include_unmapped: true,
        }
    }
}

impl Settings {
    /// Read the config table; errors name the offending key.
    pub fn parse(config: &Value) -> Result<Settings, String> {
        let table = config.as_object().ok_or("config must be a table")?;
        known_keys(table, "", &["product", "include_unmapped"])?;
        let mut settings = Settings::default();
        match table.get("include_unmapped") {
            None => {}
            Some(Value::Bool(flag)) => settings.include_unmapped = *flag,
            Some(other) => return Err(format!("config key `include_unmapped` must be true or false, got {other}")),
        }
        match table.get("product") {
            None => {}
            Some(Value::Object(product)) => {
                known_keys(product, "product.", &["name", "vendor_name", "version"])?;
                let fields = [
                    ("name", &mut settings.product.name),
                    ("vendor_name", &mut settings.product.vendor_name),
                    ("version", &mut settings.product.version),
                ];
                for (key, slot) in fields {
                    match product.get(key) {
                        None => {}
                        Some(Value::String(text)) if !text.trim().is_empty() => *slot = text.clone(),
                        Some(other) => {
                            return Err(format!("config key `product.{key}` must be a non-empty string, got {other}"));
                        }
                    }
                }
            }
            Some(other) => {
                return Err(format!("config key `product` must be a table (name, vendor_name, version), got {other}"));
            }
        }
        Ok(settings)
    }
}

fn known_keys(table: &Map<String, Value>, prefix: &str, known: &[&str]) -> Result<(), String> {
    match table.keys().find(|key| !known.contains(&key.as_str())) {
        Some(unknown) => Err(format!("unknown config key `{prefix}{unknown}` (expected one of {})", known.join(", "))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_and_overrides() {
        let settings = Settings::parse(&json!({})).unwrap();
        assert_eq!(settings, Settings::default());
        assert_eq!(settings.product.name, "sluice");
        assert!(settings.include_unmapped);

        let settings =
            Settings::parse(&json!({"product": {"vendor_name": "AgentSec"}, "include_unmapped": false})).unwrap();
        assert_eq!(settings.product.vendor_name, "AgentSec");
        assert_eq!(settings.product.name, "sluice");
        assert_eq!(settings.product.version, env!("CARGO_PKG_VERSION"));
        assert!(!settings.include_unmapped);
    }

    #[test]
    fn errors_name_the_bad_key() {
        let error = |config: Value| Settings::parse(&config).unwrap_err();
        assert!(error(json!([])).contains("config must be a table"));
        assert!(error(json!({"include_unmaped": true})).contains("unknown config key `include_unmaped`"));
        assert!(error(json!({"include_unmapped": "yes"})).contains("`include_unmapped` must be true or false"));
        assert!(error(json!({"product": "sluice"})).contains("`product` must be a table"));
        assert!(error(json!({"product": {"vendor": "x"}})).contains("unknown config key `product.vendor`"));
        assert!(error(json!({"product": {"name": ""}})).contains("`product.name` must be a non-empty string"));
        assert!(error(json!({"product": {"version": 2}})).contains("`product.version` must be a non-empty string"));
    }
}
