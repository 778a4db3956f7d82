//! Telling a clean event apart without building it.
//!
//! Most events carry no secret. Parsing one into a tree, walking it and
//! freeing it costs several times what it takes to look at its strings, so
//! every event is first streamed through the cheap checks the walk would
//! start with: a string can only change when the rules' combined pattern
//! matches it, a member's value only when its name is a secret's, and a
//! number only when it is long enough to be a card number. An event none of
//! whose parts passes those checks is passed on untouched; any other goes
//! through the full walk (module `walk`), which decides.
//!
//! The checks ignore `paths`, `skip` and the `redaction` record: looking at
//! more than the walk would only sends more events to it, never fewer.

use crate::redactor::Redactor;
use crate::walk::is_card_length;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// Whether the walk might change `event`: `Ok(false)` means it surely will
/// not. Invalid JSON is an `Err` with the reason (the walk's parse would
/// refuse it too).
pub fn may_change(redactor: &Redactor, keys: bool, event: &str) -> Result<bool, String> {
    if let Some(found) = redactor.may_redact_event(event) {
        return Ok(found);
    }
    let mut de = serde_json::Deserializer::from_str(event);
    let mut found = false;
    let checks = Checks { redactor, keys, found: &mut found };
    checks.deserialize(&mut de).and_then(|()| de.end()).map_err(|err| format!("event is not valid JSON: {err}"))?;
    if !event.trim_start().starts_with('{') {
        return Err("event is JSON but not an object".to_owned());
    }
    Ok(found)
}

/// One value's checks; `found` is set as soon as one passes. (The rest of
/// the text is still read, so that invalid JSON is still refused.)
struct Checks<'r, 'f> {
    redactor: &'r Redactor,
    /// Member names are redacted too (config `keys`).
    keys: bool,
    found: &'f mut bool,
}

impl Checks<'_, '_> {
    fn again(&mut self) -> Checks<'_, '_> {
        Checks { redactor: self.redactor, keys: self.keys, found: self.found }
    }

    fn text(&mut self, text: &str) {
        if !*self.found && self.redactor.may_redact(text) {
            *self.found = true;
        }
    }
}

impl<'de> DeserializeSeed<'de> for Checks<'_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Checks<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        while map.next_key_seed(Name(self.again()))?.is_some() {
            map.next_value_seed(self.again())?;
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(self.again())?.is_some() {}
        Ok(())
    }

    fn visit_str<E>(mut self, text: &str) -> Result<(), E> {
        self.text(text);
        Ok(())
    }

    fn visit_u64<E>(mut self, number: u64) -> Result<(), E> {
        if is_card_length(number) {
            self.text(&number.to_string());
        }
        Ok(())
    }

    fn visit_i64<E>(mut self, number: i64) -> Result<(), E> {
        if is_card_length(number.unsigned_abs()) {
            self.text(&number.to_string());
        }
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

/// A member name: redacted itself when `keys` is on, and the name that
/// marks its value as a secret (`"password": …`) either way.
struct Name<'r, 'f>(Checks<'r, 'f>);

impl<'de> DeserializeSeed<'de> for Name<'_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Name<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_str<E>(mut self, name: &str) -> Result<(), E> {
        if self.0.keys {
            self.0.text(name);
        }
        if !*self.0.found && self.0.redactor.is_secret_member(name) {
            *self.0.found = true;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;
    use serde_json::json;

    fn check(config: serde_json::Value, keys: bool, event: serde_json::Value) -> bool {
        let redactor = Redactor::new(&Settings::parse(&config).unwrap()).unwrap();
        may_change(&redactor, keys, &event.to_string()).unwrap()
    }

    #[test]
    fn each_way_a_walk_can_change_an_event_is_noticed() {
        let defaults = json!({});
        assert!(!check(defaults.clone(), false, json!({"a": {"b": ["plain", 12, 1.5, true, null]}})));
        assert!(check(defaults.clone(), false, json!({"a": ["x", {"b": "mail bob@example.com"}]})));
        assert!(check(defaults.clone(), false, json!({"escaped": "mail bob\u{40}example.com \"quoted\""})));
        assert!(check(defaults.clone(), false, json!({"card": 4111111111111111_u64})));
        assert!(check(defaults.clone(), false, json!({"card": -4111111111111111_i64})));
        assert!(check(defaults.clone(), false, json!({"client_secret": "s3cr3t-value"})));
        assert!(!check(defaults.clone(), false, json!({"bob@example.com": 1})));
        assert!(check(defaults, true, json!({"bob@example.com": 1})));
    }

    #[test]
    fn refuses_what_the_walk_would_refuse() {
        let redactor = Redactor::new(&Settings::parse(&json!({})).unwrap()).unwrap();
        assert!(may_change(&redactor, false, r#"{"a": [1,}"#).unwrap_err().starts_with("event is not valid JSON"));
        assert_eq!(may_change(&redactor, false, r#"["a"]"#).unwrap_err(), "event is JSON but not an object");
    }
}
