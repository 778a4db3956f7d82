//! How a source turns the message it received into the event's `message`.

use serde::Deserialize;

/// `decoding = "text" | "json"` of a source.
///
/// `text` (the default) keeps the message as a string: a JSON message then
/// crosses every stage escaped inside the envelope, and the first plugin
/// that reads it decodes it again. `json` parses a message that is a JSON
/// object once, natively, as it arrives, and puts the object itself under
/// `message`, so no stage decodes it from a string (`agent-event` takes it
/// as the agent's event). A message that is not a JSON object stays a
/// string, as with `text`, for the plugins to judge; what a sink forwards as
/// "the message" is always the text as received.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decoding {
    #[default]
    Text,
    Json,
}

impl Decoding {
    /// The message as a JSON object, if this decoding wants one and the
    /// message is one (a byte order mark before it is skipped).
    pub fn object(self, message: &str) -> Option<&serde_json::value::RawValue> {
        if self == Decoding::Text {
            return None;
        }
        let message = message.trim_start_matches('\u{feff}');
        if !message.trim_start().starts_with('{') {
            return None;
        }
        serde_json::from_str(message).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_json_object_is_decoded_and_only_when_asked() {
        let object = r#" {"agent": {"id": "a"}, "n": [1, 2]} "#;
        assert_eq!(Decoding::Json.object(object).map(|raw| raw.get()), Some(object.trim()));
        assert_eq!(Decoding::Json.object("\u{feff}{}").map(|raw| raw.get()), Some("{}"));
        assert!(Decoding::Text.object(object).is_none());
        for not_an_object in ["[1]", "\"s\"", "plain text", r#"{"cut": "#, r#"{"a":1} {"b":2}"#] {
            assert!(Decoding::Json.object(not_an_object).is_none(), "{not_an_object}");
        }
    }
}
