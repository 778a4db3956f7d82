//! Events and the batches they travel in.
//!
//! An event is kept as the JSON text that plugins exchange: the host does not
//! parse it between stages unless it needs a field. Batches, not events, move
//! between components, and each batch carries the acknowledgement that tells
//! its source when every destination has dealt with it.

use crate::ack::Finaliser;

/// One event: the JSON text of an object, plus the formatted line a plugin
/// emitted for the sinks, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    json: String,
    line: Option<String>,
    /// The message as the source received it, while the event is as the
    /// source made it: a sink that forwards the message unchanged takes it
    /// from here instead of reading it back out of the JSON.
    message: Option<String>,
}

impl Event {
    /// An event from the JSON text of an object. The caller vouches that it is
    /// one: sources build it with serde, plugins' output is checked by them.
    pub fn from_json(json: String) -> Self {
        Event { json, line: None, message: None }
    }

    /// An event whose JSON holds `message` as its top-level `message` string.
    pub fn with_message(json: String, message: String) -> Self {
        Event { json, line: None, message: Some(message) }
    }

    /// The source's message, if the source kept it and no plugin has
    /// replaced the event since; else read the JSON's `message` field.
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    /// The event's JSON text.
    pub fn json(&self) -> &str {
        &self.json
    }

    /// The formatted line a plugin emitted, if any.
    pub fn line(&self) -> Option<&str> {
        self.line.as_deref()
    }

    /// What a sink writes as the message body: the formatted line if a
    /// plugin emitted one, else the event's JSON.
    pub fn body(&self) -> &str {
        self.line.as_deref().unwrap_or(&self.json)
    }

    /// Replace the event's JSON text (a plugin rewrote it); the source's
    /// message may no longer be the event's.
    pub fn set_json(&mut self, json: String) {
        self.json = json;
        self.message = None;
    }

    /// Move the JSON text out (to hand it to a plugin without copying); put
    /// it back unchanged with [`Event::restore_json`], or replace it with
    /// [`Event::set_json`].
    pub fn take_json(&mut self) -> String {
        std::mem::take(&mut self.json)
    }

    /// Put back the text [`Event::take_json`] took, unchanged.
    pub fn restore_json(&mut self, json: String) {
        self.json = json;
    }

    /// Attach a formatted line, replacing an earlier one.
    pub fn set_line(&mut self, line: String) {
        self.line = Some(line);
    }
}

/// Events that travel together, with the acknowledgement they owe their source.
#[derive(Debug)]
pub struct Batch {
    /// The events, in their source's order.
    pub events: Vec<Event>,
    finaliser: Option<Finaliser>,
}

impl Batch {
    /// A batch whose delivery nobody waits for.
    pub fn new(events: Vec<Event>) -> Self {
        Batch { events, finaliser: None }
    }

    /// A batch whose fate is reported through `finaliser`.
    pub fn with_finaliser(events: Vec<Event>, finaliser: Finaliser) -> Self {
        Batch { events, finaliser: Some(finaliser) }
    }

    /// Events split off this batch (for the dead-letter output or another
    /// branch) share its acknowledgement: the source hears back only when
    /// every part is done.
    pub fn split_off(&self, events: Vec<Event>) -> Batch {
        Batch { events, finaliser: self.finaliser.clone() }
    }

    /// The acknowledgement handle, for sinks to report a failure.
    pub fn finaliser(&self) -> Option<&Finaliser> {
        self.finaliser.as_ref()
    }

    /// Record that this batch will not reach its destination, so that
    /// letting it go does not count as delivery.
    pub fn fail(&self) {
        if let Some(finaliser) = &self.finaliser {
            finaliser.fail();
        }
    }

    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }
}

impl Clone for Batch {
    fn clone(&self) -> Self {
        self.split_off(self.events.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_source_s_message_lasts_until_the_event_is_rewritten() {
        let mut event = Event::with_message(r#"{"message":"m"}"#.into(), "m".into());
        let text = event.take_json();
        event.restore_json(text);
        assert_eq!(event.message(), Some("m"), "handed to a plugin and back unchanged");
        event.set_line("CEF:0|…".into());
        assert_eq!(event.message(), Some("m"), "a formatted line leaves the event as it was");
        event.set_json(r#"{"message":"other"}"#.into());
        assert_eq!(event.message(), None, "a plugin replaced the event");
    }
}
