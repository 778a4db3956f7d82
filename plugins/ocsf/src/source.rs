//! Reading the canonical event while keeping count of what was mapped.
//!
//! Every field the mapping writes into an OCSF attribute is read through
//! [`Source::take`] (or a helper built on it), which records its path; what
//! was never taken is the event's remainder, written to `unmapped`. So nothing
//! an agent platform sent is lost on the way to the SIEM, and no field appears
//! both mapped and unmapped. Fields read only to decide something (the class,
//! an activity) go through [`Source::peek`], which records nothing.

use serde_json::{Map, Value};
use std::cell::RefCell;
use std::collections::BTreeSet;

/// The canonical event being formatted.
pub struct Source<'a> {
    event: &'a Map<String, Value>,
    taken: RefCell<BTreeSet<&'static str>>,
}

impl<'a> Source<'a> {
    pub fn new(event: &'a Map<String, Value>) -> Self {
        Source { event, taken: RefCell::new(BTreeSet::new()) }
    }

    /// The value at a dotted path (`agent.id`), without recording it; `null`
    /// counts as absent.
    pub fn peek(&self, path: &str) -> Option<&'a Value> {
        let mut parts = path.split('.');
        let mut value = self.event.get(parts.next()?)?;
        for part in parts {
            value = value.as_object()?.get(part)?;
        }
        (!value.is_null()).then_some(value)
    }

    /// The value at `path`, recorded as mapped.
    pub fn take(&self, path: &'static str) -> Option<&'a Value> {
        let value = self.peek(path)?;
        self.taken.borrow_mut().insert(path);
        Some(value)
    }

    /// A scalar at `path` as text, recorded as mapped. Blank text carries
    /// nothing and is recorded (so dropped); a list or object is not text and
    /// is left for `unmapped`.
    pub fn text(&self, path: &'static str) -> Option<String> {
        let text = scalar_text(self.peek(path)?)?;
        self.taken.borrow_mut().insert(path);
        (!text.trim().is_empty()).then_some(text)
    }

    /// [`Source::text`] without recording it.
    pub fn peek_text(&self, path: &str) -> Option<String> {
        scalar_text(self.peek(path)?).filter(|text| !text.trim().is_empty())
    }

    /// The event's id, or for an event that lacks one (it skipped the
    /// `agent-event` normaliser) a digest of its content, so that attributes
    /// OCSF requires (`api.request.uid`, `finding_info.uid`) stay stable when
    /// the same event is replayed. As in the normaliser, how the event reached
    /// the router (`source`, `syslog`, `received_at`) is not its content.
    pub fn event_uid(&self) -> String {
        self.text("event.id").unwrap_or_else(|| {
            let mut content = self.event.clone();
            for key in ["source", "syslog", "received_at"] {
                content.remove(key);
            }
            digest(&Value::Object(content).to_string())
        })
    }

    /// Everything that was not taken, in the event's own nesting, with objects
    /// emptied by the taking left out.
    pub fn remainder(&self) -> Map<String, Value> {
        let mut rest = self.event.clone();
        for path in self.taken.borrow().iter() {
            remove(&mut rest, path);
        }
        rest
    }
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

/// Remove `path` from `map`, and each object on the way that it leaves empty.
fn remove(map: &mut Map<String, Value>, path: &str) {
    match path.split_once('.') {
        None => {
            map.remove(path);
        }
        Some((head, rest)) => {
            if let Some(Value::Object(inner)) = map.get_mut(head) {
                remove(inner, rest);
                if inner.is_empty() {
                    map.remove(head);
                }
            }
        }
    }
}

/// 128-bit FNV-1a of `text` as 32 hex digits: stable across platforms and
/// builds, which is all a fallback id needs (it is not a security boundary).
fn digest(text: &str) -> String {
    const OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;
    let hash = text.bytes().fold(OFFSET, |hash, byte| (hash ^ u128::from(byte)).wrapping_mul(PRIME));
    format!("{hash:032x}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn the_remainder_is_what_was_not_taken() {
        let event = map(json!({
            "agent": {"id": "a1", "name": "planner", "framework": "crewai"},
            "event": {"kind": "prompt", "id": "e1"},
            "extra": [1, 2],
        }));
        let source = Source::new(&event);
        assert_eq!(source.text("agent.id").as_deref(), Some("a1"));
        assert_eq!(source.text("agent.name").as_deref(), Some("planner"));
        assert_eq!(source.peek_text("agent.framework").as_deref(), Some("crewai"));
        assert_eq!(source.text("event.kind").as_deref(), Some("prompt"));
        assert_eq!(source.event_uid(), "e1");
        assert_eq!(Value::Object(source.remainder()), json!({"agent": {"framework": "crewai"}, "extra": [1, 2]}));
    }

    #[test]
    fn blanks_are_dropped_and_structures_are_not_text() {
        let event = map(json!({"agent": {"id": " ", "name": {"first": "x"}}, "n": 7, "b": false, "z": null}));
        let source = Source::new(&event);
        assert_eq!(source.text("agent.id"), None);
        assert_eq!(source.text("agent.name"), None);
        assert_eq!(source.text("n").as_deref(), Some("7"));
        assert_eq!(source.text("b").as_deref(), Some("false"));
        assert_eq!(source.text("z"), None);
        assert_eq!(source.peek("agent.id.deeper"), None);
        assert_eq!(Value::Object(source.remainder()), json!({"agent": {"name": {"first": "x"}}, "z": null}));
    }

    #[test]
    fn a_missing_event_id_becomes_a_stable_digest() {
        let event = map(json!({"agent": {"id": "a1"}, "event": {"kind": "output"}}));
        let first = Source::new(&event).event_uid();
        assert_eq!(first.len(), 32);
        assert!(first.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(first, Source::new(&event).event_uid());
        let other = map(json!({"agent": {"id": "a2"}, "event": {"kind": "output"}}));
        assert_ne!(first, Source::new(&other).event_uid());
        let relayed =
            map(json!({"agent": {"id": "a1"}, "event": {"kind": "output"}, "received_at": "2026-11-26T12:00:00Z",
                                 "source": {"id": "syslog"}}));
        assert_eq!(first, Source::new(&relayed).event_uid());
        assert_eq!(digest(""), "6c62272e07bb014262b821756295c58d");
    }
}
