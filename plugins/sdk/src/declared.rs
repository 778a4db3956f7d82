//! Reading the fields a plugin declared, where the router located them.
//!
//! A plugin that names the paths it reads ([`Plugin::reads`](crate::Plugin::reads))
//! gets each event's text together with, per declared path, where its value
//! is in that text and what kind of JSON value it is: the router found them
//! with one native scan, so the plugin looks nothing up and copies nothing
//! it does not use. [`Declared::str`] reads a string in place (decoding only
//! one with escapes); [`Declared::projection`] builds the object of just the
//! declared fields, for code written against `serde_json::Value` (the
//! [`fields`](crate::fields) mappings), at the cost of parsing only those
//! values.
//!
//! ```no_run
//! use sluice_plugin::{Declared, Outcome, Plugin, export_plugin};
//!
//! struct DropTool(String);
//! impl Plugin for DropTool {
//!     fn configure(_config: serde_json::Value) -> Result<Self, String> { Ok(DropTool("shell".into())) }
//!     fn reads(&self) -> Vec<String> { vec!["tool.name".into()] }
//!     fn process_declared(&mut self, event: &Declared<'_>) -> Outcome {
//!         if event.str(0).as_deref() == Some(self.0.as_str()) { Outcome::Drop } else { Outcome::Keep }
//!     }
//! }
//! export_plugin!(DropTool);
//! ```

use crate::fields::{Fields, lookup};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::collections::HashMap;

/// The paths a plugin declared, in slot order, and each path's slot.
#[derive(Debug, Clone, Default)]
pub struct Reads {
    paths: Vec<String>,
    slots: HashMap<String, usize>,
}

impl Reads {
    pub fn new(paths: Vec<String>) -> Reads {
        let mut slots = HashMap::with_capacity(paths.len());
        for (i, path) in paths.iter().enumerate() {
            slots.entry(path.clone()).or_insert(i);
        }
        Reads { paths, slots }
    }

    /// The paths, in slot order.
    pub fn paths(&self) -> &[String] {
        &self.paths
    }

    fn slot(&self, path: &str) -> Option<usize> {
        self.slots.get(path).copied()
    }
}

/// The part of a dotted path the router can locate: up to its first
/// numeric segment (`labels.0.name` → `labels`), because the router locates
/// members of objects, not items of arrays. Declare this, and read the rest
/// of the path in the value ([`Declared::projection`] holds the whole array).
pub fn declarable(path: &str) -> &str {
    let mut end = 0;
    for segment in path.split('.') {
        if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) {
            break;
        }
        end += segment.len() + 1;
    }
    &path[..end.saturating_sub(1).min(path.len())]
}

/// The kind of a declared field's value, as the router reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A string whose text between the quotes is the string itself.
    String,
    /// A string with escapes, to decode.
    EscapedString,
    Number,
    Bool,
    Null,
    Object,
    Array,
}

impl Kind {
    fn from_code(code: u32) -> Option<Kind> {
        Some(match code {
            1 => Kind::String,
            2 => Kind::EscapedString,
            3 => Kind::Number,
            4 => Kind::Bool,
            5 => Kind::Null,
            6 => Kind::Object,
            7 => Kind::Array,
            _ => return None,
        })
    }
}

/// A batch as it crossed the boundary.
#[derive(Debug, Clone, Copy)]
pub struct Batch<'a> {
    text: &'a str,
    ends: &'a [u32],
    slots: &'a [u32],
    reads: &'a Reads,
}

impl<'a> Batch<'a> {
    /// The batch from the contract's three lists and the paths the plugin
    /// declared; refuses lists that do not fit together, or a text that is
    /// not UTF-8.
    pub fn new(text: &'a [u8], ends: &'a [u32], slots: &'a [u32], reads: &'a Reads) -> Result<Batch<'a>, String> {
        let text = std::str::from_utf8(text).map_err(|err| format!("the batch text is not UTF-8: {err}"))?;
        Batch::of_text(text, ends, slots, reads)
    }

    /// [`Batch::new`] for the batch the router handed over, whose text the
    /// contract guarantees is UTF-8 (the router's events are Rust strings),
    /// as the component model guarantees it for a `string`: checking it
    /// again in WebAssembly cost ~3 µs per KB-sized event (`plugins` bench,
    /// `redact`), more than the plugin's crossing.
    #[doc(hidden)]
    pub fn from_router(
        text: &'a [u8],
        ends: &'a [u32],
        slots: &'a [u32],
        reads: &'a Reads,
    ) -> Result<Batch<'a>, String> {
        // SAFETY: `wit/plugin.wit` promises valid UTF-8 in `batch.text`, as
        // the canonical ABI promises it for a lifted `string`, whose bindings
        // do not check it either.
        let text = unsafe { std::str::from_utf8_unchecked(text) };
        Batch::of_text(text, ends, slots, reads)
    }

    fn of_text(text: &'a str, ends: &'a [u32], slots: &'a [u32], reads: &'a Reads) -> Result<Batch<'a>, String> {
        let mut last = 0;
        for &end in ends {
            if end < last || end as usize > text.len() || !text.is_char_boundary(end as usize) {
                return Err(format!("the batch's event ends are not in order within its {} bytes", text.len()));
            }
            last = end;
        }
        if slots.len() != ends.len() * reads.paths.len() * 3 {
            return Err(format!(
                "the batch has {} slot numbers for {} events and {} declared paths",
                slots.len(),
                ends.len(),
                reads.paths.len()
            ));
        }
        Ok(Batch { text, ends, slots, reads })
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Event `j`.
    pub fn get(&self, j: usize) -> Option<Declared<'a>> {
        let end = *self.ends.get(j)? as usize;
        let start = if j == 0 { 0 } else { self.ends[j - 1] as usize };
        let per = self.reads.paths.len() * 3;
        Some(Declared {
            batch: self.text,
            text: &self.text[start..end],
            slots: &self.slots[j * per..(j + 1) * per],
            reads: self.reads,
        })
    }

    /// The events, in order.
    pub fn iter(&self) -> impl Iterator<Item = Declared<'a>> + '_ {
        (0..self.len()).filter_map(|j| self.get(j))
    }
}

/// One event of a batch: its JSON text and the fields the plugin declared.
#[derive(Debug, Clone, Copy)]
pub struct Declared<'a> {
    /// The batch's whole text, which slot offsets count into.
    batch: &'a str,
    text: &'a str,
    slots: &'a [u32],
    reads: &'a Reads,
}

impl<'a> Declared<'a> {
    /// The event's JSON text (an object).
    pub fn text(&self) -> &'a str {
        self.text
    }

    /// The paths declared, in slot order.
    pub fn paths(&self) -> &'a [String] {
        &self.reads.paths
    }

    /// Declared field `i`: its kind and its JSON text; `None` when the event
    /// does not have it (or `i` is past the declared paths).
    pub fn raw(&self, i: usize) -> Option<(Kind, &'a str)> {
        let slot = self.slots.get(i * 3..i * 3 + 3)?;
        let kind = Kind::from_code(slot[2])?;
        let (start, len) = (slot[0] as usize, slot[1] as usize);
        Some((kind, self.batch.get(start..start + len)?))
    }

    /// Declared field `i` as a string, if it is one: borrowed from the text
    /// unless it holds escapes.
    pub fn str(&self, i: usize) -> Option<Cow<'a, str>> {
        match self.raw(i)? {
            (Kind::String, raw) => Some(Cow::Borrowed(&raw[1..raw.len() - 1])),
            (Kind::EscapedString, raw) => serde_json::from_str::<String>(raw).ok().map(Cow::Owned),
            _ => None,
        }
    }

    /// Declared field `i` parsed as a JSON value.
    pub fn value(&self, i: usize) -> Option<Value> {
        match self.raw(i)? {
            (Kind::String, raw) => Some(Value::String(raw[1..raw.len() - 1].to_owned())),
            (_, raw) => serde_json::from_str(raw).ok(),
        }
    }

    /// An object holding only the declared fields, each at its path: what
    /// [`fields::lookup`](crate::fields::lookup) finds in it for a declared
    /// path is what it would find in the whole event.
    pub fn projection(&self) -> Value {
        let mut root = Map::new();
        for (i, path) in self.reads.paths.iter().enumerate() {
            let Some(value) = self.value(i) else { continue };
            let mut segments = path.split('.').peekable();
            let mut object = &mut root;
            while let Some(name) = segments.next() {
                if segments.peek().is_none() {
                    object.insert(name.to_owned(), value);
                    break;
                }
                let child = object.entry(name).or_insert_with(|| Value::Object(Map::new()));
                match child {
                    Value::Object(child) => object = child,
                    // A shorter declared path already holds the whole
                    // value, this one included.
                    _ => break,
                }
            }
        }
        Value::Object(root)
    }
}

/// A declared path is read at its slot; a longer path (an item of a
/// declared list) inside the value of its declared prefix; anything else
/// is absent, as the router located nothing for it.
impl Fields for Declared<'_> {
    fn get(&self, path: &str) -> Option<Cow<'_, Value>> {
        if let Some(i) = self.reads.slot(path) {
            return self.value(i).map(Cow::Owned);
        }
        let prefix = declarable(path);
        let rest = path.get(prefix.len() + 1..).filter(|_| !prefix.is_empty())?;
        let whole = self.value(self.reads.slot(prefix)?)?;
        lookup(&whole, rest).cloned().map(Cow::Owned)
    }

    fn text(&self, path: &str) -> Option<Cow<'_, str>> {
        match self.reads.slot(path).map(|i| (i, self.raw(i))) {
            Some((_, Some((Kind::String, raw)))) => {
                Some(Cow::Borrowed(&raw[1..raw.len() - 1])).filter(|t| !t.is_empty())
            }
            Some((i, Some((Kind::EscapedString, _)))) => self.str(i).filter(|t| !t.is_empty()),
            _ => match self.get(path)? {
                Cow::Borrowed(value) => crate::fields::render(value),
                Cow::Owned(value) => crate::fields::render(&value).map(|text| Cow::Owned(text.into_owned())),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A batch of one event whose slots are written by hand, as the router
    /// would locate them.
    #[test]
    fn fields_read_at_their_slots_and_project_into_an_object() {
        let prefix = r#"{"skip":1}"#;
        let event = r#"{"agent":{"id":"a-1","n":2},"msg":"l\n2","x":null,"o":{"k":[1]}}"#;
        let text = format!("{prefix}{event}");
        let at = |needle: &str| (text.rfind(needle).unwrap()) as u32;
        let reads = Reads::new(
            ["agent.id", "agent.n", "msg", "x", "o", "o.k", "gone"].iter().map(|p| (*p).to_owned()).collect(),
        );
        let ends = [prefix.len() as u32, text.len() as u32];
        let mut slots = vec![0; reads.paths().len() * 3];
        slots.extend([
            at("\"a-1\""),
            5,
            1,
            at(":2}") + 1,
            1,
            3,
            at("\"l\\n2\""),
            6,
            2,
            at("null"),
            4,
            5,
            at("{\"k\""),
            9,
            6,
            at("[1]"),
            3,
            7,
            0,
            0,
            0,
        ]);
        let batch = Batch::new(text.as_bytes(), &ends, &slots, &reads).unwrap();
        assert_eq!(batch.len(), 2);
        let event = batch.get(1).unwrap();
        assert_eq!(event.text(), r#"{"agent":{"id":"a-1","n":2},"msg":"l\n2","x":null,"o":{"k":[1]}}"#);
        assert_eq!(event.str(0).as_deref(), Some("a-1"));
        assert!(matches!(event.str(0), Some(Cow::Borrowed(_))), "no copy for a plain string");
        assert_eq!(event.str(2).as_deref(), Some("l\n2"));
        assert_eq!(event.str(1), None, "a number is not a string");
        assert_eq!(event.raw(6), None);
        assert_eq!(
            event.projection(),
            json!({"agent": {"id": "a-1", "n": 2}, "msg": "l\n2", "x": null, "o": {"k": [1]}})
        );
        assert_eq!(batch.get(0).unwrap().projection(), json!({}));

        // As `Fields`, it finds what the whole event finds.
        let whole: Value = serde_json::from_str(event.text()).unwrap();
        for path in ["agent.id", "agent.n", "msg", "x", "o", "o.k", "o.k.0", "gone", "undeclared"] {
            assert_eq!(
                Fields::get(&event, path).map(Cow::into_owned),
                Fields::get(&whole, path).map(Cow::into_owned),
                "{path}"
            );
            assert_eq!(Fields::text(&event, path), Fields::text(&whole, path), "{path}");
        }
    }

    #[test]
    fn a_path_is_declarable_up_to_its_first_item_number() {
        assert_eq!(declarable("agent.id"), "agent.id");
        assert_eq!(declarable("labels.0.name"), "labels");
        assert_eq!(declarable("a.b.12"), "a.b");
        assert_eq!(declarable("0"), "");
    }

    #[test]
    fn lists_that_do_not_fit_together_are_refused() {
        let reads = Reads::new(vec!["a".to_owned()]);
        assert!(Batch::new(b"{}", &[2], &[], &reads).unwrap_err().contains("slot numbers"));
        assert!(Batch::new(b"{}", &[3], &[0, 0, 0], &reads).unwrap_err().contains("not in order"));
        assert!(Batch::new(b"{}{}", &[4, 2], &[0; 6], &reads).unwrap_err().contains("not in order"));
    }
}
