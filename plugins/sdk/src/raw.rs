//! Reading event JSON in place.
//!
//! Parsing an event into a `serde_json::Value` builds every string and
//! object it holds; a plugin that rewrites a few fields and passes the rest
//! on pays for all of them twice, once to build and once to write. Here an
//! object is read one level deep: member names decoded, each value kept as
//! its JSON text, which a plugin reads further only where it needs to and
//! otherwise copies to its output as it came.
//!
//! Two ways in: [`Members::parse`] checks that the text is JSON (for text
//! from outside, such as the agent's message inside an envelope), and
//! [`Members::of_valid`] trusts it, which the router allows for the event
//! itself: every event a plugin receives is a JSON object the router has
//! checked. Trusting saves the check and jumps over strings many bytes at a
//! time.
//!
//! ```
//! use sluice_plugin::raw::{self, Members};
//! let event = Members::parse(r#"{"agent": {"id": "a-1"}, "prompt": {"text": "hi"}}"#).unwrap();
//! let agent = Members::of_valid(event.get("agent").unwrap()).unwrap();
//! assert_eq!(raw::text(agent.get("id").unwrap()).as_deref(), Some("a-1"));
//! ```

use serde::de::{self, MapAccess, Visitor};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

/// The members of a JSON object: names decoded, values as their JSON text
/// (without surrounding whitespace), in the order written; a repeated name
/// keeps its last value (as `serde_json::Value` does) in its first position.
#[derive(Debug, Clone, Default)]
pub struct Members<'a> {
    list: Vec<(Cow<'a, str>, &'a str)>,
    /// A name appeared more than once: the text holds values `list` does not.
    repeated: bool,
    /// Where each name is in `list`, once there are too many names to look
    /// through one by one (a hostile object may have tens of thousands).
    index: Option<BTreeMap<Cow<'a, str>, usize>>,
}

/// Names looked up one by one in an object up to this size.
const LINEAR: usize = 32;

impl<'a> Members<'a> {
    /// Read the object that `text` holds, or say why it is not one, with the
    /// reasons [`parse_object`](crate::parse_object) gives.
    pub fn parse(text: &'a str) -> Result<Members<'a>, String> {
        // Every check serde_json makes when it builds a value (grammar,
        // escapes and surrogates, number ranges, nesting), without building
        // one; the text is then valid, and read as such.
        let mut de = serde_json::Deserializer::from_str(text);
        let object = de::DeserializeSeed::deserialize(Check, &mut de).and_then(|object| de.end().map(|()| object));
        match object {
            Ok(true) => Members::of_valid(text).ok_or_else(|| "event is not valid JSON".to_owned()),
            Ok(false) => Err("event is JSON but not an object".to_owned()),
            Err(err) => Err(format!("event is not valid JSON: {err}")),
        }
    }

    /// Read an object from text that is known to be valid JSON — an event as
    /// the router hands it over, or a value of one. Nothing is checked, so
    /// this is only for such text: on anything else it returns `None` or
    /// members that mean nothing (it never panics). `None` also when the
    /// text is valid JSON but not an object.
    pub fn of_valid(text: &'a str) -> Option<Members<'a>> {
        let bytes = text.as_bytes();
        let mut at = skip_space(bytes, 0);
        if bytes.get(at) != Some(&b'{') {
            return None;
        }
        at = skip_space(bytes, at + 1);
        let mut members = Members::with_capacity(16);
        if bytes.get(at) == Some(&b'}') {
            return Some(members);
        }
        loop {
            let name_end = string_end(bytes, at)?;
            let name = text.get(at..name_end)?;
            let name = match name.get(1..name.len() - 1)? {
                inner if !inner.contains('\\') => Cow::Borrowed(inner),
                _ => Cow::Owned(serde_json::from_str::<String>(name).ok()?),
            };
            at = skip_space(bytes, name_end);
            if bytes.get(at) != Some(&b':') {
                return None;
            }
            let start = skip_space(bytes, at + 1);
            let end = value_end(bytes, start)?;
            members.insert(name, text.get(start..end)?);
            at = skip_space(bytes, end);
            match bytes.get(at) {
                Some(b',') => at = skip_space(bytes, at + 1),
                Some(b'}') => return Some(members),
                _ => return None,
            }
        }
    }

    /// Most events' objects have fewer than a few dozen members: growing the
    /// list one push at a time showed in profiles.
    fn with_capacity(members: usize) -> Members<'a> {
        Members { list: Vec::with_capacity(members), repeated: false, index: None }
    }

    fn position(&self, name: &str) -> Option<usize> {
        match &self.index {
            Some(index) => index.get(name).copied(),
            None => self.list.iter().position(|(key, _)| key == name),
        }
    }

    fn insert(&mut self, name: Cow<'a, str>, value: &'a str) {
        if let Some(at) = self.position(&name) {
            self.list[at].1 = value;
            self.repeated = true;
            return;
        }
        if let Some(index) = &mut self.index {
            index.insert(name.clone(), self.list.len());
        } else if self.list.len() == LINEAR {
            let mut index: BTreeMap<Cow<'a, str>, usize> =
                self.list.iter().enumerate().map(|(at, (key, _))| (key.clone(), at)).collect();
            index.insert(name.clone(), self.list.len());
            self.index = Some(index);
        }
        self.list.push((name, value));
    }

    /// The value of member `name`, as JSON text.
    pub fn get(&self, name: &str) -> Option<&'a str> {
        self.position(name).map(|at| self.list[at].1)
    }

    /// The members in the order written.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &'a str)> {
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
    type Item = (Cow<'a, str>, &'a str);
    type IntoIter = std::vec::IntoIter<(Cow<'a, str>, &'a str)>;

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

/// The kind of a value, from its JSON text.
pub fn kind(value: &str) -> Kind {
    match value.as_bytes().first() {
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
pub fn text(value: &str) -> Option<Cow<'_, str>> {
    let inner = value.strip_prefix('"')?.strip_suffix('"')?;
    if !inner.contains('\\') {
        return Some(Cow::Borrowed(inner));
    }
    serde_json::from_str::<String>(value).ok().map(Cow::Owned)
}

/// Whether valid JSON `text` gives a name twice in any one object, at any
/// depth. Readers keep one of the values (serde_json the last), but the
/// others are still in the text: a plugin that passes the text on unchanged
/// after reading it as a tree passes them on unseen.
pub fn repeats_a_name(text: &str) -> bool {
    match kind(text) {
        Kind::Object => Members::of_valid(text).is_none_or(|members| {
            members.has_repeated_names() || members.iter().any(|(_, value)| repeats_a_name(value))
        }),
        Kind::Array => serde_json::from_str::<Vec<&serde_json::value::RawValue>>(text)
            .map_or(true, |items| items.iter().any(|item| repeats_a_name(item.get()))),
        _ => false,
    }
}

/// Valid JSON text with the escapes of every string decoded, strings still
/// between their quotes: for a search that must see strings as they read
/// and may see the rest as it is. Borrowed when nothing is escaped; `None`
/// if `text` is not valid JSON after all.
pub fn unescaped(text: &str) -> Option<Cow<'_, str>> {
    if !text.contains('\\') {
        return Some(Cow::Borrowed(text));
    }
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    // Outside strings there are no backslashes, and every quote opens one.
    while let Some(found) = memchr::memchr(b'"', &bytes[at..]) {
        let start = at + found;
        let end = string_end(bytes, start)?;
        out.push_str(&text[at..start]);
        let string = &text[start..end];
        if string.contains('\\') {
            out.push('"');
            out.push_str(&serde_json::from_str::<String>(string).ok()?);
            out.push('"');
        } else {
            out.push_str(string);
        }
        at = end;
    }
    out.push_str(&text[at..]);
    Some(Cow::Owned(out))
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

fn skip_space(bytes: &[u8], mut at: usize) -> usize {
    while matches!(bytes.get(at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        at += 1;
    }
    at
}

/// The index just past the string that opens at `at`. Strings are most of
/// an event's bytes: the search jumps to the next quote or backslash.
fn string_end(bytes: &[u8], at: usize) -> Option<usize> {
    if bytes.get(at) != Some(&b'"') {
        return None;
    }
    let mut from = at + 1;
    loop {
        let found = from + memchr::memchr2(b'"', b'\\', bytes.get(from..)?)?;
        if bytes[found] == b'"' {
            return Some(found + 1);
        }
        from = found + 2; // a backslash and the character it escapes
    }
}

/// The index just past the value that starts at `at`.
fn value_end(bytes: &[u8], at: usize) -> Option<usize> {
    match bytes.get(at)? {
        b'"' => string_end(bytes, at),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = at;
            loop {
                match bytes.get(i)? {
                    b'"' => {
                        i = string_end(bytes, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
        }
        _ => {
            let rest = bytes.get(at..)?;
            let len = rest.iter().position(|b| matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'));
            Some(at + len.unwrap_or(rest.len()))
        }
    }
}

/// A value checked as serde_json checks what it builds: numbers are read
/// (so out of range is an error), strings and names decoded (so a lone
/// surrogate is), nesting counted. `true` when it is an object.
struct Check;

impl<'de> de::DeserializeSeed<'de> for Check {
    type Value = bool;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_any(Check)
    }
}

impl<'de> Visitor<'de> for Check {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        while map.next_key::<Name<'de>>()?.is_some() {
            map.next_value_seed(Check)?;
        }
        Ok(true)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        while seq.next_element_seed(Check)?.is_some() {}
        Ok(false)
    }

    fn visit_bool<E>(self, _: bool) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_i64<E>(self, _: i64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_u64<E>(self, _: u64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_f64<E>(self, _: f64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_str<E>(self, _: &str) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_unit<E>(self) -> Result<bool, E> {
        Ok(false)
    }
}

/// A member name, borrowed from the text unless it had escapes.
pub(crate) struct Name<'de>(pub(crate) Cow<'de, str>);

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
        let seen: Vec<(&str, &str)> = members.iter().collect();
        assert_eq!(seen, [("a", "3"), ("b\"q", r#""x\u00e9""#), ("c", r#"{"d": null}"#)]);
        assert!(members.has_repeated_names());
        assert!(!Members::parse(r#"{"a": 1, "b": {"a": 2}}"#).unwrap().has_repeated_names());
        assert_eq!(text(members.get("b\"q").unwrap()).as_deref(), Some("xé"));
        assert_eq!(kind(members.get("c").unwrap()), Kind::Object);
        assert_eq!(text(members.get("a").unwrap()), None);
    }

    /// On valid JSON, trusting reads exactly what checking reads.
    #[test]
    fn trusting_valid_text_reads_what_checking_reads() {
        let texts = [
            r#"{}"#,
            r#" { } "#,
            r#"{"a":1}"#,
            "{ \"a\" :\n[ 1 , {\"b\": \"}]\\\"{[\"} ] ,\t\"c\\u0041\" : -1.5e+3 , \"d\":true,\"e\":null,\"a\":\"x\\\\\"}",
            r#"{"s": "quote \" inside", "t": "ends with backslash \\", "u": "é ☃ 😀", "n": [[], {}, [{"x": "]"}]]}"#,
            r#"{"nested": {"deep": {"deeper": [1, 2, {"k": "v"}]}}, "last": 0}"#,
        ];
        for text in texts.iter().copied().chain(include_str!("../../../bench/peer/corpus-sample.jsonl").lines()) {
            let checked = Members::parse(text).unwrap_or_else(|err| panic!("{err}: {text}"));
            let trusted = Members::of_valid(text).unwrap_or_else(|| panic!("not read: {text}"));
            assert_eq!(trusted.iter().collect::<Vec<_>>(), checked.iter().collect::<Vec<_>>(), "{text}");
            assert_eq!(trusted.has_repeated_names(), checked.has_repeated_names());
        }
        for other in ["[1]", "\"s\"", "1", "null"] {
            assert!(Members::of_valid(other).is_none());
        }
    }

    #[test]
    fn unescaping_decodes_strings_only() {
        let text = r#"{"a\u0041": "x\"y\\z\n\u00e9\ud83d\ude00", "n": 12, "plain": "p"}"#;
        assert_eq!(unescaped(text).unwrap(), "{\"aA\": \"x\"y\\z\n\u{e9}\u{1f600}\", \"n\": 12, \"plain\": \"p\"}");
        assert!(matches!(unescaped(r#"{"a": "b"}"#), Some(Cow::Borrowed(_))));
    }

    /// Text that is not JSON gives nonsense or nothing, never a panic.
    #[test]
    fn trusting_other_text_never_panics() {
        let text = r#"{"a": {"b": ["c\"d", 1.5, true]}, "e": "f\\", "g": null}"#;
        for end in 0..=text.len() {
            for cut in [&text[..end], &text[end..]] {
                let _ = Members::of_valid(cut);
                let _ = unescaped(cut);
                let mut bytes = cut.to_owned().into_bytes();
                bytes.reverse();
                if let Ok(reversed) = String::from_utf8(bytes) {
                    let _ = Members::of_valid(&reversed);
                }
            }
        }
    }

    #[test]
    fn many_names_and_deep_nesting_are_handled_as_serde_handles_them() {
        let many: Vec<String> = (0..5000).map(|n| format!("\"k{n}\": {n}")).collect();
        let text = format!("{{{}, \"k7\": \"again\"}}", many.join(","));
        for members in [Members::parse(&text).unwrap(), Members::of_valid(&text).unwrap()] {
            assert_eq!(members.len(), 5000);
            assert_eq!(members.get("k7"), Some("\"again\""));
            assert_eq!(members.get("k4999"), Some("4999"));
            assert!(members.has_repeated_names());
        }
        let deep = |n: usize| format!("{{\"a\": {}1{}}}", "[".repeat(n), "]".repeat(n));
        // The deepest serde_json accepts, then one more.
        let ok = (1..200).take_while(|n| crate::parse_object(&deep(*n)).is_ok()).last().unwrap();
        assert!(Members::parse(&deep(ok)).is_ok(), "{ok}");
        assert_eq!(Members::parse(&deep(ok + 1)).unwrap_err(), crate::parse_object(&deep(ok + 1)).unwrap_err());
    }

    #[test]
    fn repeated_names_are_found_at_any_depth() {
        assert!(!repeats_a_name(r#"{"a": {"a": [{"a": 1}, {"a": 2}]}, "b": 1}"#));
        assert!(repeats_a_name(r#"{"a": 1, "a": 2}"#));
        assert!(repeats_a_name(r#"{"a": {"b": [1, {"c": "s", "c": "t"}]}}"#));
        assert!(!repeats_a_name("[1, \"x\"]") && !repeats_a_name("\"x\""));
    }

    #[test]
    fn text_reads_only_strings() {
        assert_eq!(text("\"a\\u0041\"").as_deref(), Some("aA"));
        for other in ["\"", "\"é", "12", "\"x\\\"", ""] {
            assert_eq!(text(other), None, "{other}");
        }
    }

    #[test]
    fn refuses_with_the_reasons_of_parse_object() {
        let huge = format!(r#"{{"n": {}}}"#, "1".repeat(400));
        for bad in [
            r#"{"a": }"#,
            r#"{"a": 1} x"#,
            "",
            r#"{"a": "\x"}"#,
            r#"{"a": {"\udc00": 1}}"#,
            r#"{"a": ["\ud800"]}"#,
            r#"{"a": 1e400}"#,
            &huge,
        ] {
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
