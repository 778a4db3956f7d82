//! Reading only the fields a plugin needs.
//!
//! A formatter reads a dozen fields of an event that may hold fifty. Parsing
//! the whole text into a `serde_json::Value` allocates every string and
//! object it holds and frees them again; a [`Projection`] parses the same
//! text but builds only the fields on its paths, skipping the rest with
//! serde's validating skip. The result is an ordinary `Value`, so the
//! shared field readers ([`fields::lookup`](crate::fields::lookup),
//! [`Source`](crate::fields::Source)) work on it unchanged and find exactly
//! what they would find in the full parse.
//!
//! ```
//! use sluice_plugin::projection::Projection;
//! let wanted = Projection::new(["agent.id", "event.kind"]);
//! let event = wanted.parse(r#"{"agent":{"id":"a","model":"m"},"event":{"kind":"prompt"},"big":[1,2]}"#).unwrap();
//! assert_eq!(event, serde_json::json!({"agent": {"id": "a"}, "event": {"kind": "prompt"}}));
//! ```

use crate::raw::Name;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt;

/// The set of dotted paths to keep (split on every dot; a numeric segment
/// also picks that item of a list, as `lookup` reads it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Projection {
    root: Node,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Node {
    /// A path ends here: keep the whole value.
    whole: bool,
    children: BTreeMap<String, Node>,
}

impl Projection {
    /// The projection keeping `paths` (and everything under each).
    pub fn new<'a>(paths: impl IntoIterator<Item = &'a str>) -> Projection {
        let mut root = Node::default();
        for path in paths {
            let node = path.split('.').fold(&mut root, |node, key| node.children.entry(key.to_owned()).or_default());
            node.whole = true;
        }
        Projection { root }
    }

    /// The event's object with only the projected fields, or the reason the
    /// text is not a JSON object (the same reasons as
    /// [`parse_object`](crate::parse_object)). The whole text is still
    /// checked to be valid JSON.
    pub fn parse(&self, event: &str) -> Result<Value, String> {
        let mut de = serde_json::Deserializer::from_str(event);
        let value = Pick(&self.root).deserialize(&mut de).and_then(|value| de.end().map(|()| value));
        match value {
            Ok(value @ Value::Object(_)) => Ok(value),
            Ok(_) => Err("event is JSON but not an object".to_owned()),
            Err(err) => Err(format!("event is not valid JSON: {err}")),
        }
    }
}

/// Deserialise the value at one node of the projection.
struct Pick<'p>(&'p Node);

impl<'de> DeserializeSeed<'de> for Pick<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        if self.0.whole { serde::Deserialize::deserialize(deserializer) } else { deserializer.deserialize_any(self) }
    }
}

impl<'de> Visitor<'de> for Pick<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut kept = Map::new();
        while let Some(Name(key)) = map.next_key::<Name<'de>>()? {
            match self.0.children.get(key.as_ref()) {
                Some(child) => {
                    let value = map.next_value_seed(Pick(child))?;
                    // A later duplicate wins, as in serde_json's own parse.
                    kept.insert(key.into_owned(), value);
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Value::Object(kept))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        // Items off the paths become nulls, so the kept ones keep their index.
        let mut items = Vec::new();
        loop {
            let next = match self.0.children.get(items.len().to_string().as_str()) {
                Some(child) => seq.next_element_seed(Pick(child))?,
                None => seq.next_element::<IgnoredAny>()?.map(|_| Value::Null),
            };
            match next {
                Some(item) => items.push(item),
                None => return Ok(Value::Array(items)),
            }
        }
    }

    // A scalar where the paths expect an object: no path finds anything
    // under it, just as in the full parse.
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::lookup;
    use serde_json::json;

    /// Every path finds in the projection exactly what it finds in the whole event.
    #[test]
    fn paths_find_what_they_find_in_the_full_parse() {
        let event = json!({
            "agent": {"id": "a-1", "name": null, "model": "m"},
            "event": {"kind": "tool_call", "severity": 7, "extra": {"deep": [1, 2]}},
            "tool": {"arguments": {"url": "https://x", "n": [1, {"k": "v"}]}},
            "labels": ["x", "y", {"z": 1}],
            "flat": "s",
            "esc\"aped": {"q\\": "quote \" and \\ and \u{e9}"},
            "num": 1.5e3,
        });
        let text = event.to_string();
        let paths = [
            "agent.id",
            "agent.name",
            "agent.missing",
            "event.kind",
            "event.severity",
            "tool.arguments",
            "labels.1",
            "labels.2.z",
            "labels.9",
            "flat",
            "flat.deeper",
            "esc\"aped.q\\",
            "num",
            "nothing.at.all",
        ];
        let projected = Projection::new(paths).parse(&text).unwrap();
        for path in paths {
            assert_eq!(lookup(&projected, path), lookup(&event, path), "{path}");
        }
        assert_eq!(projected["agent"], json!({"id": "a-1", "name": null}));
        assert!(projected.get("event").unwrap().get("extra").is_none());
    }

    #[test]
    fn the_rest_of_the_text_is_still_checked() {
        let wanted = Projection::new(["a"]);
        assert!(wanted.parse(r#"{"a": 1, "b": [1, }"#).unwrap_err().starts_with("event is not valid JSON"));
        assert!(wanted.parse(r#"{"a": 1} trailing"#).unwrap_err().starts_with("event is not valid JSON"));
        assert_eq!(wanted.parse("[1]").unwrap_err(), "event is JSON but not an object");
        assert_eq!(wanted.parse(r#"{"b": {"c": 1}}"#).unwrap(), json!({}));
    }
}
