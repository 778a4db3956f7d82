//! Where a formatter's output fields come from: the shared reading of field
//! mappings for CEF, LEEF and later formatters.
//!
//! A formatter writes an ordered list of output keys, each filled from a
//! [`Source`]: a dotted path into the event (`agent.id`), a list of paths of
//! which the first present one wins (`["agent.name", "agent.id"]`), or a
//! constant. A [`Mapping`] is that list; its defaults are the formatter's
//! documented table, and a site's config table overrides it key by key:
//!
//! ```toml
//! [transforms.format.config.mapping]
//! suser = "agent.name"                  # a path
//! msg = ["prompt.text", "output.text"]  # paths, the first present wins
//! cs6Label = { value = "model" }        # a constant
//! cn1 = false                           # leave a default key out
//! ```
//!
//! Sharing one implementation keeps the formatters agreeing on what a path
//! finds, how a value reads as text and which config is valid, so one mapping
//! table reads the same whichever format it feeds.

use crate::time::Timestamp;
use serde_json::Value;
use std::borrow::Cow;

/// Where a formatter reads an event's fields: the whole event as a tree
/// (`serde_json::Value`), or the fields the router located for the plugin
/// ([`Declared`](crate::Declared)), read in place without building a tree.
/// Both find the same value at the same path.
pub trait Fields {
    /// The value at a dotted `path` (a numeric segment indexes a list).
    fn get(&self, path: &str) -> Option<Cow<'_, Value>>;

    /// The value at `path` as text, as [`render`] writes it.
    fn text(&self, path: &str) -> Option<Cow<'_, str>> {
        match self.get(path)? {
            Cow::Borrowed(value) => render(value),
            Cow::Owned(value) => render(&value).map(|text| Cow::Owned(text.into_owned())),
        }
    }
}

impl Fields for Value {
    fn get(&self, path: &str) -> Option<Cow<'_, Value>> {
        lookup(self, path).map(Cow::Borrowed)
    }
}

/// Where one output field's value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The first of these dotted paths that holds a value.
    Paths(Vec<String>),
    /// Always this text.
    Constant(String),
}

impl Source {
    /// The first of `paths` that holds a value.
    pub fn paths(paths: &[&str]) -> Source {
        Source::Paths(paths.iter().map(|p| (*p).to_owned()).collect())
    }

    /// Always `text`.
    pub fn constant(text: &str) -> Source {
        Source::Constant(text.to_owned())
    }

    /// Read a source from config: a path, a non-empty list of paths,
    /// `{ value = … }` (a string, number or boolean), or `false`, which is
    /// `None` (leave the field out). `at` names the config key in errors,
    /// e.g. ``config key `mapping.msg` ``.
    pub fn parse(at: &str, spec: &Value) -> Result<Option<Source>, String> {
        let path = |value: &Value| match value.as_str() {
            Some(path) if !path.is_empty() => Ok(path.to_owned()),
            _ => Err(format!("{at}: a path must be a non-empty string, got {value}")),
        };
        match spec {
            Value::Bool(false) => Ok(None),
            Value::String(_) => Ok(Some(Source::Paths(vec![path(spec)?]))),
            Value::Array(items) if !items.is_empty() => {
                Ok(Some(Source::Paths(items.iter().map(path).collect::<Result<_, _>>()?)))
            }
            Value::Object(table) => match (table.len(), table.get("value")) {
                (1, Some(Value::String(text))) => Ok(Some(Source::Constant(text.clone()))),
                (1, Some(value @ (Value::Number(_) | Value::Bool(_)))) => Ok(Some(Source::Constant(value.to_string()))),
                _ => Err(format!("{at}: a constant is written {{ value = \"…\" }}, got {spec}")),
            },
            other => Err(format!("{at} must be a path, a list of paths, {{ value = … }} or false, got {other}")),
        }
    }

    /// The paths this source reads (none for a constant): what a
    /// [`Projection`](crate::projection::Projection) must keep.
    pub fn paths_read(&self) -> impl Iterator<Item = &str> {
        let paths: &[String] = match self {
            Source::Paths(paths) => paths,
            Source::Constant(_) => &[],
        };
        paths.iter().map(String::as_str)
    }

    /// The field's text for `event` (see [`render`]); `None` when absent,
    /// null or empty.
    pub fn text<'e, F: Fields + ?Sized>(&'e self, event: &'e F) -> Option<Cow<'e, str>> {
        match self {
            Source::Constant(text) => Some(Cow::Borrowed(text.as_str())).filter(|t| !t.is_empty()),
            Source::Paths(paths) => paths.iter().find_map(|path| event.text(path)),
        }
    }

    /// The raw value, for fields that convert it (timestamps, severities);
    /// `None` when absent or null. A constant is a string value.
    pub fn value<'e, F: Fields + ?Sized>(&'e self, event: &'e F) -> Option<Cow<'e, Value>> {
        match self {
            Source::Constant(text) => Some(Cow::Owned(Value::String(text.clone()))),
            Source::Paths(paths) => paths.iter().find_map(|path| event.get(path).filter(|v| !v.is_null())),
        }
    }

    /// The value read as a timestamp (RFC 3339 text or an epoch number), in
    /// milliseconds since the epoch; `None` when absent or not a time. Only
    /// the first present path is read: a present but unreadable time is not
    /// replaced by a later path's, since that would report a different
    /// moment as if it were this one.
    pub fn epoch_millis<F: Fields + ?Sized>(&self, event: &F) -> Option<i64> {
        match self.value(event)?.as_ref() {
            Value::String(text) => Timestamp::parse_rfc3339(text),
            Value::Number(number) => Timestamp::from_epoch(number),
            _ => None,
        }
        .map(|time| time.epoch_millis())
    }
}

/// A severity as events write it — a number, or a word such as `high` — on
/// the schema's 0–10 scale, before each format rounds and clamps it to its
/// own range. `None` when it is neither (or not finite).
pub fn severity(value: &Value) -> Option<f64> {
    let number = match value {
        Value::Number(number) => number.as_f64()?,
        Value::String(text) => match text.trim().to_ascii_lowercase().as_str() {
            "info" | "informational" => 1.0,
            "low" => 3.0,
            "medium" => 5.0,
            "high" => 8.0,
            "very-high" | "critical" => 10.0,
            number => number.parse::<f64>().ok()?,
        },
        _ => return None,
    };
    number.is_finite().then_some(number)
}

/// The value at a dotted `path` in `event`; a numeric segment indexes a list.
pub fn lookup<'e>(event: &'e Value, path: &str) -> Option<&'e Value> {
    path.split('.').try_fold(event, |node, key| match node {
        Value::Object(map) => map.get(key),
        Value::Array(items) => items.get(key.parse::<usize>().ok()?),
        _ => None,
    })
}

/// A value as text: strings as they are, numbers and booleans as JSON writes
/// them, a list of plain values joined with commas (`read,write`), anything
/// structured as compact JSON. `None` for null and for empty text, so an
/// empty field is left out rather than written blank.
pub fn render(value: &Value) -> Option<Cow<'_, str>> {
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

/// An ordered list of output keys and their sources, as a formatter writes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    entries: Vec<(String, Source)>,
}

impl Mapping {
    /// A mapping of these `(key, source)` entries, in the order written.
    pub fn new(entries: Vec<(String, Source)>) -> Mapping {
        Mapping { entries }
    }

    /// The entries in the order written.
    pub fn entries(&self) -> &[(String, Source)] {
        &self.entries
    }

    /// The source of `key`, if mapped.
    pub fn get(&self, key: &str) -> Option<&Source> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, source)| source)
    }

    /// Apply the config table at key `at` (e.g. `mapping`): a key already
    /// mapped gets its new source in place, new keys are added at the end (in
    /// key order: the config arrives as a JSON object, whose order a plugin
    /// cannot rely on), `false` removes a key. `check_key` vets each key the table names, so
    /// each format refuses the keys it cannot write; every error names the
    /// offending config key.
    pub fn apply(
        &mut self,
        at: &str,
        table: &Value,
        check_key: impl Fn(&str) -> Result<(), String>,
    ) -> Result<(), String> {
        let Value::Object(table) = table else {
            return Err(format!("config key `{at}` must be a table of key = source, got {table}"));
        };
        for (key, spec) in table {
            let here = format!("config key `{at}.{key}`");
            check_key(key).map_err(|reason| format!("{here}: {reason}"))?;
            let position = self.entries.iter().position(|(k, _)| k == key);
            match (Source::parse(&here, spec)?, position) {
                (Some(source), Some(index)) => self.entries[index].1 = source,
                (Some(source), None) => self.entries.push((key.clone(), source)),
                (None, Some(index)) => {
                    self.entries.remove(index);
                }
                (None, None) => {}
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_each_kind_of_value() {
        let event = json!({"s": "x", "n": 3, "b": true, "l": ["read", "write"], "o": {"url": "u"}, "e": "", "z": null,
                           "m": [{"a": 1}], "f": 2.5, "mixed": ["a", 1, null, true]});
        let text = |path: &str| Source::paths(&[path]).text(&event).map(Cow::into_owned);
        assert_eq!(text("s").as_deref(), Some("x"));
        assert_eq!(text("n").as_deref(), Some("3"));
        assert_eq!(text("f").as_deref(), Some("2.5"));
        assert_eq!(text("b").as_deref(), Some("true"));
        assert_eq!(text("l").as_deref(), Some("read,write"));
        assert_eq!(text("mixed").as_deref(), Some("a,1,true"));
        assert_eq!(text("o").as_deref(), Some(r#"{"url":"u"}"#));
        assert_eq!(text("m").as_deref(), Some(r#"[{"a":1}]"#));
        assert_eq!(text("e"), None);
        assert_eq!(text("z"), None);
        assert_eq!(text("missing.path"), None);
    }

    #[test]
    fn paths_reach_into_objects_and_lists() {
        let event = json!({"a": {"b": [{"c": "deep"}, "second"]}, "s": "text"});
        assert_eq!(lookup(&event, "a.b.0.c"), Some(&json!("deep")));
        assert_eq!(lookup(&event, "a.b.1"), Some(&json!("second")));
        assert_eq!(lookup(&event, "a.b.2"), None);
        assert_eq!(lookup(&event, "a.b.x"), None);
        assert_eq!(lookup(&event, "s.length"), None);
    }

    #[test]
    fn falls_back_through_paths_skipping_empty_and_null() {
        let event = json!({"prompt": {"text": ""}, "reasoning": {"summary": null}, "output": {"text": "done"}});
        let source = Source::paths(&["prompt.text", "reasoning.summary", "output.text"]);
        assert_eq!(source.text(&event).as_deref(), Some("done"));
        assert_eq!(Source::constant("").text(&event), None);
        assert_eq!(Source::constant("k").text(&event).as_deref(), Some("k"));
    }

    #[test]
    fn times_read_as_epoch_millis() {
        let event = json!({"time": "2026-11-26T12:30:05.123456Z", "n": 1_795_696_205_i64, "bad": "yesterday",
                           "received_at": "1970-01-01T00:00:01Z"});
        assert_eq!(Source::paths(&["time"]).epoch_millis(&event), Some(1_795_696_205_123));
        assert_eq!(Source::paths(&["n"]).epoch_millis(&event), Some(1_795_696_205_000));
        assert_eq!(Source::paths(&["missing", "received_at"]).epoch_millis(&event), Some(1000));
        assert_eq!(Source::paths(&["bad", "received_at"]).epoch_millis(&event), None);
        assert_eq!(Source::constant("1970-01-01T00:00:02Z").epoch_millis(&event), Some(2000));
    }

    #[test]
    fn sources_parse_from_config() {
        let parse = |spec: Value| Source::parse("config key `k`", &spec);
        assert_eq!(parse(json!("a.b")).unwrap(), Some(Source::paths(&["a.b"])));
        assert_eq!(parse(json!(["a", "b"])).unwrap(), Some(Source::paths(&["a", "b"])));
        assert_eq!(parse(json!({"value": "x"})).unwrap(), Some(Source::constant("x")));
        assert_eq!(parse(json!({"value": 5})).unwrap(), Some(Source::constant("5")));
        assert_eq!(parse(json!(false)).unwrap(), None);
        for bad in [json!(true), json!(3), json!([]), json!([""]), json!(""), json!({"value": "x", "o": 1})] {
            assert!(parse(bad.clone()).unwrap_err().contains("`k`"), "{bad}");
        }
    }

    #[test]
    fn overrides_replace_in_place_add_at_the_end_and_remove() {
        let mut mapping = Mapping::new(vec![
            ("a".into(), Source::paths(&["x"])),
            ("b".into(), Source::paths(&["y"])),
            ("c".into(), Source::paths(&["z"])),
        ]);
        mapping
            .apply("mapping", &json!({"b": {"value": "k"}, "c": false, "d": "w", "gone": false}), |_| Ok(()))
            .unwrap();
        let keys: Vec<&str> = mapping.entries().iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["a", "b", "d"]);
        assert_eq!(mapping.get("b"), Some(&Source::constant("k")));
        assert_eq!(mapping.get("d"), Some(&Source::paths(&["w"])));
    }

    #[test]
    fn override_errors_name_the_key() {
        let mut mapping = Mapping::new(Vec::new());
        let refuse = |key: &str| if key == "agentId" { Err("belongs to the connector".to_owned()) } else { Ok(()) };
        let error = mapping.apply("mapping", &json!({"agentId": "agent.id"}), refuse).unwrap_err();
        assert_eq!(error, "config key `mapping.agentId`: belongs to the connector");
        let error = mapping.apply("mapping", &json!({"msg": 1}), refuse).unwrap_err();
        assert!(error.starts_with("config key `mapping.msg` must be"), "{error}");
        let error = mapping.apply("mapping", &json!(["msg"]), refuse).unwrap_err();
        assert!(error.starts_with("config key `mapping` must be a table"), "{error}");
    }
}
