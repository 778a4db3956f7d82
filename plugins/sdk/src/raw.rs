//! Reading event JSON in place.
//!
//! Parsing an event into a `serde_json::Value` builds every string and
//! object it holds; a plugin that rewrites a few fields and passes the rest
//! on pays for all of them twice, once to build and once to write. Here an
//! object is read one level deep: member names decoded, each value kept as
//! its validated JSON text ([`RawValue`]), which a plugin reads further only
//! where it needs to and otherwise copies to its output as it came.
//!
//! ```
//! use sluice_plugin::raw::{self, Members};
//! let event = Members::parse(r#"{"agent": {"id": "a-1"}, "prompt": {"text": "hi"}}"#).unwrap();
//! let agent = Members::parse(event.get("agent").unwrap().get()).unwrap();
//! assert_eq!(raw::text(agent.get("id").unwrap()).as_deref(), Some("a-1"));
//! ```

use serde::de::{self, MapAccess, Visitor};
pub use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;

/// The members of a JSON object: names decoded, values as their JSON text,
/// in the order written; a repeated name keeps its last value (as
/// `serde_json::Value` does) in its first position.
#[derive(Debug, Clone, Default)]
pub struct Members<'a> {
    list: Vec<(Cow<'a, str>, &'a RawValue)>,
    /// A name appeared more than once: the text holds values `list` does not.
    repeated: bool,
}

impl<'a> Members<'a> {
    /// Read the object that `text` holds, or say why it is not one, with the
    /// reasons [`parse_object`](crate::parse_object) gives.
    pub fn parse(text: &'a str) -> Result<Members<'a>, String> {
        let mut de = serde_json::Deserializer::from_str(text);
        let members = de::Deserializer::deserialize_any(&mut de, ObjectVisitor).and_then(|m| de.end().map(|()| m));
        match members {
            Ok(Some(members)) => Ok(members),
            Ok(None) => Err("event is JSON but not an object".to_owned()),
            Err(err) => Err(format!("event is not valid JSON: {err}")),
        }
    }

    /// The value of member `name`.
    pub fn get(&self, name: &str) -> Option<&'a RawValue> {
        self.list.iter().find(|(key, _)| key == name).map(|(_, value)| *value)
    }

    /// The members in the order written.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &'a RawValue)> {
        self.list.iter().map(|(key, value)| (key.as_ref(), *value))
    }

    /// Whether a name appeared more than once. A plugin that edits the text
    /// in place must then take another way: the earlier values are still
    /// in the text, unseen.
    pub fn has_repeated_names(&self) -> bool {
        self.repeated
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

impl<'a> IntoIterator for Members<'a> {
    type Item = (Cow<'a, str>, &'a RawValue);
    type IntoIter = std::vec::IntoIter<(Cow<'a, str>, &'a RawValue)>;

    fn into_iter(self) -> Self::IntoIter {
        self.list.into_iter()
    }
}

/// What a JSON value is, read from its first character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Null,
    Bool,
    Number,
    String,
    Array,
    Object,
}

/// The kind of a validated value.
pub fn kind(value: &RawValue) -> Kind {
    // serde_json keeps a RawValue without surrounding whitespace.
    match value.get().as_bytes().first() {
        Some(b'n') => Kind::Null,
        Some(b't' | b'f') => Kind::Bool,
        Some(b'"') => Kind::String,
        Some(b'[') => Kind::Array,
        Some(b'{') => Kind::Object,
        _ => Kind::Number,
    }
}

/// The text of a JSON string value, decoded (borrowed when it has no
/// escapes); `None` for any other kind.
pub fn text(value: &RawValue) -> Option<Cow<'_, str>> {
    if kind(value) != Kind::String {
        return None;
    }
    let raw = value.get();
    let inner = &raw[1..raw.len() - 1];
    if !inner.contains('\\') {
        return Some(Cow::Borrowed(inner));
    }
    serde_json::from_str::<String>(raw).ok().map(Cow::Owned)
}

/// Append `text` to `out` as a JSON string, quotes included, escaped as
/// serde_json escapes (so both write the same text).
pub fn write_string(out: &mut String, text: &str) {
    out.reserve(text.len() + 2);
    out.push('"');
    let mut start = 0;
    for (at, byte) in text.bytes().enumerate() {
        let escape = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&text[start..at]);
        if escape.is_empty() {
            out.push_str(&format!("\\u{byte:04x}"));
        } else {
            out.push_str(escape);
        }
        start = at + 1;
    }
    out.push_str(&text[start..]);
    out.push('"');
}

struct ObjectVisitor;

impl<'de> Visitor<'de> for ObjectVisitor {
    /// `None` when the value is valid JSON but not an object.
    type Value = Option<Members<'de>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut list: Vec<(Cow<'de, str>, &'de RawValue)> = Vec::new();
        let mut repeated = false;
        while let Some(key) = map.next_key::<Name<'de>>()? {
            let value: &'de RawValue = map.next_value()?;
            match list.iter_mut().find(|(k, _)| *k == key.0) {
                Some(slot) => {
                    slot.1 = value;
                    repeated = true;
                }
                None => list.push((key.0, value)),
            }
        }
        Ok(Some(Members { list, repeated }))
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<de::IgnoredAny>()?.is_some() {}
        Ok(None)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

/// A member name, borrowed from the text unless it had escapes.
struct Name<'de>(Cow<'de, str>);

impl<'de> serde::Deserialize<'de> for Name<'de> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NameVisitor;
        impl<'de> Visitor<'de> for NameVisitor {
            type Value = Name<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Name<'de>, E> {
                Ok(Name(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Name<'de>, E> {
                Ok(Name(Cow::Owned(v.to_owned())))
            }
        }
        deserializer.deserialize_str(NameVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_hold_each_value_s_text_and_the_last_of_a_repeated_name() {
        let members = Members::parse(r#" { "a" : [1, 2] , "b\"q": "x\u00e9", "c": {"d": null}, "a": 3 } "#).unwrap();
        let seen: Vec<(&str, &str)> = members.iter().map(|(k, v)| (k, v.get())).collect();
        assert_eq!(seen, [("a", "3"), ("b\"q", r#""x\u00e9""#), ("c", r#"{"d": null}"#)]);
        assert!(members.has_repeated_names());
        assert!(!Members::parse(r#"{"a": 1, "b": {"a": 2}}"#).unwrap().has_repeated_names());
        assert_eq!(text(members.get("b\"q").unwrap()).as_deref(), Some("xé"));
        assert_eq!(kind(members.get("c").unwrap()), Kind::Object);
        assert_eq!(text(members.get("a").unwrap()), None);
    }

    #[test]
    fn refuses_with_the_reasons_of_parse_object() {
        for bad in [r#"{"a": }"#, r#"{"a": 1} x"#, "", r#"{"a": "\x"}"#] {
            assert_eq!(Members::parse(bad).unwrap_err(), crate::parse_object(bad).unwrap_err(), "{bad}");
        }
        for other in ["[1]", "\"s\"", "1", "null"] {
            assert_eq!(Members::parse(other).unwrap_err(), "event is JSON but not an object");
        }
    }

    #[test]
    fn strings_written_read_back_as_they_were() {
        let all_controls: String = (0u8..0x20).map(char::from).collect();
        for text in ["plain", "quote \" backslash \\ nl \n tab \t nul \u{0} é ☃ 😀 \u{7f}", "", &all_controls] {
            let mut out = String::from("x");
            write_string(&mut out, text);
            assert_eq!(out[1..], serde_json::to_string(text).unwrap());
        }
    }
}
