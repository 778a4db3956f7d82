//! The plugin's `config` table.
//!
//! ```toml
//! [transforms.format.config]
//! version = "2.0"                 # "1.0" (the default: attributes split by TAB) or "2.0"
//! delimiter = "^"                 # 2.0 only: one character, or its hex code "0x5E" / "x5E"
//! vendor = "AgentSec"             # header fields, constant
//! product = "AgentRouter"
//! product_version = "1.0"
//! event_id = "event.kind"         # header EventID: a path, a list of paths or { value = … }
//! [transforms.format.config.mapping]
//! usrName = "agent.id"            # LEEF key = path, list of paths or { value = … }
//! identHostName = "syslog.hostname"
//! model = false                   # leave a default key out
//! ```
//!
//! A LEEF 2.0 delimiter must not be a character that keys are made of
//! (letters, digits, `_`), nor `=`, a space, a line break or another control
//! character but TAB; a delimiter the header could not carry as written (`|`,
//! TAB) goes there in hex. Every error names the config key, and the router
//! shows it when it loads the plugin.

use crate::mapping::{self, default_attributes};
use serde_json::Value;
use sluice_plugin::fields::{Mapping, Source};

/// The LEEF version written in the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// `LEEF:1.0`, attributes separated by TAB.
    V1,
    /// `LEEF:2.0`, with the delimiter named in the header.
    V2,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub version: Version,
    pub delimiter: char,
    /// The delimiter as the 2.0 header writes it.
    pub delimiter_field: String,
    pub vendor: String,
    pub product: String,
    pub product_version: String,
    pub event_id: Source,
    /// LEEF key ← source, in the order written.
    pub attributes: Mapping,
}

const KEYS: &[&str] = &["version", "delimiter", "vendor", "product", "product_version", "event_id", "mapping"];

impl Settings {
    pub fn parse(config: &Value) -> Result<Settings, String> {
        let table = config.as_object().ok_or("config must be a table")?;
        if let Some(unknown) = table.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(format!("unknown config key `{unknown}` (expected one of {})", KEYS.join(", ")));
        }
        let text = |key: &str, default: &str| match table.get(key) {
            None => Ok(default.to_owned()),
            Some(Value::String(text)) => Ok(text.clone()),
            Some(other) => Err(format!("config key `{key}` must be a string, got {other}")),
        };
        let version = match table.get("version") {
            None => Version::V1,
            Some(value) => match (value.as_str(), value.as_f64()) {
                (Some("1.0"), _) | (_, Some(1.0)) => Version::V1,
                (Some("2.0"), _) | (_, Some(2.0)) => Version::V2,
                _ => return Err(format!("config key `version` must be \"1.0\" or \"2.0\", got {value}")),
            },
        };
        let (delimiter, delimiter_field) = match (version, table.get("delimiter")) {
            (Version::V1, None) => ('\t', String::new()),
            (Version::V2, None) => ('^', "^".to_owned()),
            (_, Some(Value::String(spec))) => {
                let (delimiter, field) =
                    parse_delimiter(spec).map_err(|why| format!("config key `delimiter`: {why}"))?;
                if version == Version::V1 && delimiter != '\t' {
                    return Err("config key `delimiter`: LEEF 1.0 always separates attributes with a tab; \
                                set version = \"2.0\" to choose a delimiter"
                        .to_owned());
                }
                (delimiter, field)
            }
            (_, Some(other)) => return Err(format!("config key `delimiter` must be a string, got {other}")),
        };
        let event_id = match table.get("event_id") {
            None => Source::paths(&["event.kind"]),
            Some(spec) => Source::parse("config key `event_id`", spec)?
                .ok_or("config key `event_id` cannot be false: the header needs it")?,
        };
        let mut attributes = default_attributes();
        if let Some(overrides) = table.get("mapping") {
            attributes.apply("mapping", overrides, mapping::check_key)?;
        }
        Ok(Settings {
            version,
            delimiter,
            delimiter_field,
            vendor: text("vendor", "sluice")?,
            product: text("product", "agent-events")?,
            product_version: text("product_version", env!("CARGO_PKG_VERSION"))?,
            event_id,
            attributes,
        })
    }
}

/// A delimiter: one character, or `0x`/`x` and 1–4 hex digits. Returns the
/// character and how the header writes it: as configured, except that a
/// character the header cannot hold literally is written in hex.
fn parse_delimiter(spec: &str) -> Result<(char, String), String> {
    let mut chars = spec.chars();
    let (delimiter, hex) = match (chars.next(), chars.next()) {
        (Some(c), None) => (c, false),
        _ => {
            let digits = spec
                .strip_prefix("0x")
                .or_else(|| spec.strip_prefix("0X"))
                .or_else(|| spec.strip_prefix('x'))
                .or_else(|| spec.strip_prefix('X'))
                .filter(|d| (1..=4).contains(&d.len()) && d.chars().all(|c| c.is_ascii_hexdigit()))
                .ok_or_else(|| format!("{spec:?} is neither one character nor a hex code such as \"0x5E\""))?;
            let code = u32::from_str_radix(digits, 16).expect("checked hex digits");
            (char::from_u32(code).ok_or_else(|| format!("{spec:?} is not a character"))?, true)
        }
    };
    if delimiter.is_ascii_alphanumeric() || delimiter == '_' || delimiter == '=' {
        return Err(format!("{delimiter:?} can appear in `key=value` itself, so it cannot separate attributes"));
    }
    if (delimiter.is_whitespace() || delimiter.is_control()) && delimiter != '\t' {
        return Err(format!("{delimiter:?} is a space, line break or control character; use a visible one or TAB"));
    }
    let field = if hex {
        spec.to_owned()
    } else if delimiter == '|' || delimiter == '\t' {
        format!("0x{:02X}", u32::from(delimiter))
    } else {
        delimiter.to_string()
    };
    Ok((delimiter, field))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_are_leef_1_with_tab() {
        let settings = Settings::parse(&json!({})).unwrap();
        assert_eq!((settings.version, settings.delimiter), (Version::V1, '\t'));
        assert_eq!(settings.vendor, "sluice");
        assert_eq!(settings.event_id, Source::paths(&["event.kind"]));
        let v2 = Settings::parse(&json!({"version": "2.0"})).unwrap();
        assert_eq!((v2.delimiter, v2.delimiter_field.as_str()), ('^', "^"));
    }

    #[test]
    fn delimiters_in_every_form() {
        let d = |spec: &str| parse_delimiter(spec);
        assert_eq!(d("^").unwrap(), ('^', "^".to_owned()));
        assert_eq!(d("0x5E").unwrap(), ('^', "0x5E".to_owned()));
        assert_eq!(d("x5e").unwrap(), ('^', "x5e".to_owned()));
        assert_eq!(d("x7c").unwrap(), ('|', "x7c".to_owned()));
        assert_eq!(d("|").unwrap(), ('|', "0x7C".to_owned()));
        assert_eq!(d("\t").unwrap(), ('\t', "0x09".to_owned()));
        assert_eq!(d("0x00A6").unwrap(), ('¦', "0x00A6".to_owned()));
        assert_eq!(d("¦").unwrap(), ('¦', "¦".to_owned()));
        for bad in ["", "ab", "0x", "0x12345", "0xZZ", "a", "7", "_", "=", " ", "0x0A", "\n", "x0d", "0xD800"] {
            assert!(d(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn errors_name_the_bad_key() {
        let error = |config: Value| Settings::parse(&config).unwrap_err();
        assert!(error(json!({"vendr": "x"})).contains("unknown config key `vendr`"));
        assert!(error(json!({"version": "3.0"})).contains("`version` must be"));
        assert!(error(json!({"delimiter": "^"})).contains("`delimiter`: LEEF 1.0 always"));
        assert!(error(json!({"version": "2.0", "delimiter": "="})).contains("`delimiter`"));
        assert!(error(json!({"version": "2.0", "delimiter": 5})).contains("`delimiter` must be a string"));
        assert!(error(json!({"product": ["x"]})).contains("`product` must be a string"));
        assert!(error(json!({"event_id": false})).contains("`event_id` cannot be false"));
        assert!(error(json!({"mapping": {"devTimeFormat": {"value": "x"}}})).contains("`mapping.devTimeFormat`"));
        assert!(error(json!({"mapping": {"bad key": "x"}})).contains("`mapping.bad key`"));
        assert!(error(json!({"mapping": {"msg": 1}})).contains("`mapping.msg` must be"));
    }

    #[test]
    fn numbers_name_versions_too_and_a_tab_suits_1_0() {
        assert_eq!(Settings::parse(&json!({"version": 2.0})).unwrap().version, Version::V2);
        assert_eq!(Settings::parse(&json!({"delimiter": "0x09"})).unwrap().delimiter, '\t');
    }
}
