//! The fields a sink reads from each event (its `event.id`, its `time`, an
//! index or a host named by a dotted path), located with the scanner the
//! plugins' declared reads use, so an event is not parsed whole to find them.

use crate::event::Event;
use crate::plugins::slots::{Slots, kind};
use std::borrow::Cow;

/// The dotted paths one sink reads, in a fixed order.
#[derive(Debug, Clone)]
pub struct Fields {
    slots: Slots,
}

/// One event's values of those paths.
#[derive(Debug)]
pub struct Found<'e> {
    json: &'e str,
    slots: Vec<u32>,
}

impl Fields {
    /// The reader of `paths`; an empty segment (`a..b`) is refused with the
    /// path named.
    pub fn new(paths: &[&str]) -> Result<Fields, String> {
        let paths: Vec<String> = paths.iter().map(|path| (*path).to_owned()).collect();
        Ok(Fields { slots: Slots::new(&paths)? })
    }

    /// Locate every path in `event`.
    pub fn read<'e>(&self, event: &'e Event) -> Found<'e> {
        self.read_json(event.json())
    }

    /// Locate every path in an event's JSON text.
    pub fn read_json<'e>(&self, json: &'e str) -> Found<'e> {
        let mut slots = Vec::with_capacity(self.slots.len() * 3);
        self.slots.locate(json.as_bytes(), 0, &mut slots);
        Found { json, slots }
    }
}

impl<'e> Found<'e> {
    /// The `i`th path's value as text: a string unescaped, a number or a
    /// boolean as written; `None` when absent, null, an object or a list.
    pub fn text(&self, i: usize) -> Option<Cow<'e, str>> {
        let (start, len, what) = (self.slots[i * 3] as usize, self.slots[i * 3 + 1] as usize, self.slots[i * 3 + 2]);
        let raw = &self.json[start..start + len];
        match what {
            kind::STRING => Some(Cow::Borrowed(raw.strip_prefix('"')?.strip_suffix('"')?)),
            kind::ESCAPED => serde_json::from_str::<String>(raw).ok().map(Cow::Owned),
            kind::NUMBER | kind::BOOL => Some(Cow::Borrowed(raw)),
            _ => None,
        }
    }

    /// The `i`th path's value as JSON text, whatever it is.
    pub fn raw(&self, i: usize) -> Option<&'e str> {
        let (start, len, what) = (self.slots[i * 3] as usize, self.slots[i * 3 + 1] as usize, self.slots[i * 3 + 2]);
        (what != kind::ABSENT).then(|| &self.json[start..start + len])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_numbers_and_absent_fields_are_read_as_text() {
        let fields = Fields::new(&["event.id", "time", "event.severity", "host", "agent"]).unwrap();
        let event = Event::from_json(
            r#"{"event":{"severity":7,"id":"a\"b"},"time":"2026-12-08T00:00:00Z","agent":{"id":"x"}}"#.into(),
        );
        let found = fields.read(&event);
        assert_eq!(found.text(0).as_deref(), Some("a\"b"));
        assert_eq!(found.text(1).as_deref(), Some("2026-12-08T00:00:00Z"));
        assert_eq!(found.text(2).as_deref(), Some("7"));
        assert_eq!(found.text(3), None);
        assert_eq!(found.text(4), None, "an object is not text");
        assert_eq!(found.raw(4), Some(r#"{"id":"x"}"#));
        assert!(Fields::new(&["a..b"]).is_err());
    }
}
