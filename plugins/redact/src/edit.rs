//! Redacting by editing the event's text.
//!
//! An event with a secret in it differs from what came in by a few strings
//! and the `redaction` record. Rather than build the whole event as a tree,
//! walk it (module `walk`) and write it all out again, the event is read in
//! place ([`Members`], one level at a time), every string goes through the
//! same redactor with the same places (scope, skip, reach) as the walk, and only
//! the strings that change are rewritten in the text; the record is added
//! at the end of the object.
//!
//! What this does not do — member names (`keys`), a rule in mode `drop`, a
//! name repeated within an object (the walk writes such an event anew, so
//! that no earlier value stays in the text unseen), nesting deeper than 64,
//! an event that already has a `redaction` record to add to — returns
//! `None`, and the event takes the walk, which handles everything. The tests
//! hold the two to the same output.

use crate::redactor::{Redactor, Scratch, Verdict};
use crate::walk::{Key, Path, Place, Report, Targets, card_length};
use serde_json::value::RawValue;
use sluice_plugin::raw::{self, Kind, Members, repeats_a_name};
use std::ops::Range;

/// `Some(None)`: nothing to redact; `Some(Some(json))`: the redacted event;
/// `None`: the walk must decide.
pub fn redact(redactor: &Redactor, targets: &Targets, scratch: &mut Scratch, event: &str) -> Option<Option<String>> {
    if targets.keys {
        return None;
    }
    // The router's event: valid JSON, read without checking it again.
    let members = Members::of_valid(event)?;
    if members.get("redaction").is_some() {
        return None;
    }
    let mut editor = Editor {
        redactor,
        scratch,
        depth: 0,
        base: event.as_ptr() as usize,
        edits: Vec::new(),
        report: Report { counts: vec![0; redactor.names().len()], fields: Vec::new(), dropped: Vec::new() },
    };
    editor.object(&members, Place::root(targets), &Path { parent: None, key: Key::Root })?;
    if editor.edits.is_empty() {
        return Some(None);
    }
    Some(Some(editor.write(event)))
}

/// Objects and lists nested deeper than this are left to the walk, whose
/// parse has serde_json's limit: the edit recurses, and must not run out of
/// stack on a hostile event.
const MAX_DEPTH: usize = 64;

struct Editor<'r, 's> {
    redactor: &'r Redactor,
    scratch: &'s mut Scratch,
    /// How deep in objects and lists the edit is.
    depth: usize,
    /// Where the event's text starts in memory: every value read in place
    /// lies within it, so its offset is its address minus this.
    base: usize,
    /// (range of the event's text, JSON text to put there), in any order.
    edits: Vec<(Range<usize>, String)>,
    report: Report,
}

impl Editor<'_, '_> {
    fn object(&mut self, members: &Members<'_>, place: Place<'_>, path: &Path) -> Option<()> {
        if members.has_repeated_names() {
            return None;
        }
        let root = matches!(path.key, Key::Root);
        // In name order, as the walk goes through its tree, so that the
        // record lists the fields in the same order.
        let mut sorted: Vec<(&str, &str)> = members.iter().collect();
        sorted.sort_unstable_by_key(|(key, _)| *key);
        for (key, value) in sorted {
            // What is left alone is still checked for a name given twice,
            // so that an event is written anew whichever part repeats one.
            let Some(member) = place.member(key).filter(|_| !(root && key == "redaction")) else {
                if repeats_a_name(value) {
                    return None;
                }
                continue;
            };
            let path = &Path { parent: Some(path), key: Key::Name(key) };
            let by_name = match raw::text(value) {
                Some(text) if member.looks_here() => {
                    self.redactor.redact_member(key, &text, member.reach, &mut self.report.counts)
                }
                _ => None,
            };
            match by_name {
                Some(verdict) => self.apply(value, verdict, path)?,
                None => self.value(value, member, path)?,
            }
        }
        Some(())
    }

    fn value(&mut self, value: &str, place: Place<'_>, path: &Path) -> Option<()> {
        match raw::kind(value) {
            Kind::String if place.looks_here() => {
                let text = raw::text(value)?;
                let verdict = self.redactor.redact(&text, place.reach, self.scratch, &mut self.report.counts);
                self.apply(value, verdict, path)
            }
            Kind::Number if place.looks_here() => {
                let number: serde_json::Number = serde_json::from_str(value).ok()?;
                if !card_length(&number) {
                    return Some(());
                }
                let verdict =
                    self.redactor.redact(&number.to_string(), place.reach, self.scratch, &mut self.report.counts);
                self.apply(value, verdict, path)
            }
            Kind::Array | Kind::Object if self.depth >= MAX_DEPTH => None,
            Kind::Array => {
                let items: Vec<&RawValue> = serde_json::from_str(value).ok()?;
                self.depth += 1;
                for (index, item) in items.into_iter().map(RawValue::get).enumerate() {
                    let Some(item_place) = place.item(index) else {
                        if repeats_a_name(item) {
                            return None;
                        }
                        continue;
                    };
                    self.value(item, item_place, &Path { parent: Some(path), key: Key::Index(index) })?;
                }
                self.depth -= 1;
                Some(())
            }
            Kind::Object => {
                let members = Members::of_valid(value)?;
                self.depth += 1;
                self.object(&members, place, path)?;
                self.depth -= 1;
                Some(())
            }
            _ => Some(()),
        }
    }

    fn apply(&mut self, value: &str, verdict: Verdict, path: &Path) -> Option<()> {
        match verdict {
            Verdict::Clean => Some(()),
            Verdict::Replace(text) => {
                let start = value.as_ptr() as usize - self.base;
                let mut json = String::with_capacity(text.len() + 2);
                raw::write_string(&mut json, &text);
                self.edits.push((start..start + value.len(), json));
                self.report.fields.push(path.render());
                Some(())
            }
            Verdict::Drop => None,
        }
    }

    /// The event with the edits made and the record added before its
    /// closing brace.
    fn write(mut self, event: &str) -> String {
        self.edits.sort_by_key(|(range, _)| range.start);
        let mut out = String::with_capacity(event.len() + 256);
        let mut at = 0;
        for (range, json) in &self.edits {
            out.push_str(&event[at..range.start]);
            out.push_str(json);
            at = range.end;
        }
        let close = event.rfind('}').expect("an object ends with a brace");
        out.push_str(&event[at..close]);
        let body = event[..close].trim_end();
        if !body.ends_with('{') {
            out.push(',');
        }
        out.push_str("\"redaction\":");
        out.push_str(&record(self.redactor.names(), self.report));
        out.push_str(&event[close..]);
        out
    }
}

/// The `redaction` record of one redaction, as `report::record` writes it
/// into an event that had none.
fn record(names: &[String], report: Report) -> String {
    let mut event = serde_json::Map::new();
    crate::report::record(&mut event, names, report);
    event["redaction"].to_string()
}

#[cfg(test)]
mod tests {
    use crate::Redact;
    use serde_json::{Value, json};
    use sluice_plugin::{Outcome, Plugin};

    /// Events with secrets at every depth and in every kind of place, in the
    /// corpus's shape and others.
    fn events() -> Vec<String> {
        let secrets = [
            "AKIAIOSFODNN7EXAMPLE",
            "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD",
            "bob.smith@example.com",
            "4111111111111111",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl",
            "password=hunter2hunter2",
        ];
        let mut events: Vec<String> =
            include_str!("../../../bench/peer/corpus-sample.jsonl").lines().map(str::to_owned).collect();
        for (i, secret) in secrets.iter().enumerate() {
            let quoted = format!("say \"{secret}\" twice: {secret}\n\tdone é");
            events.push(json!({"prompt": {"text": format!("mail {secret} now")}, "n": i}).to_string());
            events
                .push(json!({"tool": {"arguments": {"list": [1, secret, {"deep": quoted}], "ok": true}}}).to_string());
            events.push(json!({"a": null, "b": [[secret]], "c": 1.5, "d": {"e": {"f": secret}}}).to_string());
            events.push(json!({"client_secret": "s3cr3t-value-1234", "x": secret}).to_string());
            events.push(json!({"card": 4111111111111111_u64, "neg": -4111111111111111_i64, "t": secret}).to_string());
            events.push(
                json!({"source": {"skip": secret}, "labels": [secret, "x"], "redaction": {"count": 1}}).to_string(),
            );
            events.push(format!(r#"{{ "spaced" : "{secret}" , "escaped\u0041" : "a\u0040b.example.com" }}"#));
            events.push(format!(r#"{{"dup": "{secret}", "dup": "clean"}}"#));
            events.push(format!(r#"{{"a": {{"dup": "{secret}", "dup": "clean"}}, "b": 1}}"#));
            events.push(format!(r#"{{"deep": {}"{secret}"{}}}"#, "[".repeat(100), "]".repeat(100)));
            events.push(json!({"nested": {"redaction": secret}, "empty": {}, "list": []}).to_string());
            // Correlation ids: the high-confidence rules look there, the
            // ambiguous ones (card, e-mail) do not.
            events.push(
                json!({"event": {"id": secret, "kind": "x"}, "session": {"id": format!("sess-{secret}")},
                       "trace": {"id": secret, "span_id": "00f067aa0ba902b7", "parent_span_id": secret},
                       "time": secret, "received_at": "2026-11-26T12:00:00Z", "prompt": {"text": "clean"}})
                .to_string(),
            );
            events.push(
                json!({"source": {"password": "hunter2hunter2", "list": [secret, {"token": "abc123"}, 4111111111111111_u64]},
                       "trace": {"id": secret}})
                .to_string(),
            );
            events.push(format!(r#"{{"trace": {{"id": "{secret}", "id": "clean"}}, "x": "{secret}"}}"#));
        }
        // Digit runs in ids: left alone unless a rule that reaches them is sure.
        for id in ["4111111111111111", "+1 415 555 0132", "(415) 555-0132", "DE89370400440532013000", "078-05-1120"] {
            events.push(
                json!({"event": {"id": id}, "session": {"id": id}, "trace": {"id": id, "parent_span_id": id},
                       "prompt": {"text": format!("call {id}")}})
                .to_string(),
            );
        }
        events
            .push(json!({"event": {"id": 4111111111111111_u64}, "session": {"id": -4111111111111111_i64}}).to_string());
        events.push("{}".to_owned());
        events
    }

    fn configs() -> Vec<Value> {
        vec![
            json!({}),
            json!({"defaults": false, "mode": "mask", "replacement": "[REDACTED]", "rules": {
                "p1_aws": {"pattern": "AKIA[0-9A-Z]{16}"}, "p1_openai": {"pattern": "sk-[A-Za-z0-9]{32,}"},
                "p1_email": {"pattern": "[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}"},
                "p1_card": {"pattern": "[0-9]{16}"}}}),
            json!({"mode": "hash", "hash_key": "k3y-for-tests-0123456789abcdef-0123", "skip": ["source", "tool.arguments.ok"]}),
            json!({"paths": ["prompt", "tool.arguments.list.*", "d.e"]}),
            json!({"rules": {"email": {"mode": "drop"}}}),
            // Some rules of your own ambiguous, some not; and all ambiguous,
            // when the skipped ids are not visited at all.
            json!({"defaults": false, "rules": {
                "p1_aws": {"pattern": "AKIA[0-9A-Z]{16}", "confidence": "ambiguous"},
                "p1_card": {"pattern": "[0-9]{16}", "confidence": "ambiguous"},
                "p1_jwt": {"pattern": "eyJ[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]*"},
                "p1_email": {"pattern": "[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}"}}}),
            json!({"defaults": false, "rules": {"iban": true, "card_number": true, "phone": true}}),
            json!({"skip": ["source", "trace"], "rules": {"jwt": {"confidence": "ambiguous"}, "phone": {"confidence": "high"}}}),
        ]
    }

    /// The whole-text check never lets an event through that the walk would change.
    #[test]
    fn the_whole_text_check_passes_every_event_the_walk_changes() {
        let mut checked = 0;
        for config in configs() {
            let mut plugin = Redact::configure(config.clone()).unwrap();
            for event in events() {
                let Some(may_change) = plugin.redactor.may_redact_event(&event) else { continue };
                if sluice_plugin::raw::repeats_a_name(&event) {
                    continue; // written anew for that alone, secret or not
                }
                checked += 1;
                if let Outcome::Replace(_) = plugin.by_walk(&event) {
                    assert!(may_change, "config {config}, event {event}");
                }
            }
        }
        assert!(checked > 100, "the whole-text check ran on only {checked} events");
        let anchored = json!({"defaults": false, "rules": {"anchored": {"pattern": "^AKIA[0-9A-Z]{16}"}}});
        let plugin = Redact::configure(anchored).unwrap();
        assert_eq!(plugin.redactor.may_redact_event(r#"{"a":"AKIAIOSFODNN7EXAMPLE"}"#), None);
        let by_name = Redact::configure(json!({})).unwrap();
        assert_eq!(by_name.redactor.may_redact_event(r#"{"password":"hunter2"}"#), None, "a rule by member names");
    }

    /// No planted secret is in what the plugin passes on, whichever way it
    /// took: the text it returns, or the text it keeps.
    #[test]
    fn no_secret_survives_in_the_text_passed_on() {
        let mut plugin = Redact::configure(json!({})).unwrap();
        for event in events() {
            let text = match plugin.process(&event) {
                Outcome::Keep => event.clone(),
                Outcome::Replace(json) => json,
                other => panic!("{other:?} for {event}"),
            };
            for secret in ["AKIAIOSFODNN7EXAMPLE", "hunter2hunter2", "c2lnbmF0dXJl"] {
                assert!(!text.contains(secret), "{secret} survives in {text}");
            }
            // The ambiguous rules leave the correlation ids alone.
            let mut rest: Value = serde_json::from_str(&text).unwrap();
            for (parent, id) in [("event", "id"), ("session", "id"), ("trace", "id"), ("trace", "parent_span_id")] {
                rest.get_mut(parent).and_then(Value::as_object_mut).map(|ids| ids.remove(id));
            }
            rest.as_object_mut().unwrap().remove("time");
            let rest = rest.to_string();
            for secret in ["bob.smith@example.com", "4111111111111111"] {
                assert!(!rest.contains(secret), "{secret} survives in {text}");
            }
        }
    }

    /// Wherever the text is edited, the result is the walk's.
    #[test]
    fn edits_give_the_walk_s_result() {
        let mut edited = 0;
        for config in configs() {
            let mut plugin = Redact::configure(config.clone()).unwrap();
            for event in events() {
                let Some(fast) = super::redact(&plugin.redactor, &plugin.targets, &mut plugin.scratch, &event) else {
                    continue;
                };
                let walked = plugin.by_walk(&event);
                match (fast, walked) {
                    (None, Outcome::Keep) => {}
                    (Some(json), Outcome::Replace(expected)) => {
                        edited += 1;
                        let fast: Value = serde_json::from_str(&json).unwrap_or_else(|err| panic!("{err}: {json}"));
                        let expected: Value = serde_json::from_str(&expected).unwrap();
                        assert_eq!(fast, expected, "config {config}, event {event}");
                    }
                    (fast, walked) => panic!("config {config}, event {event}: edit {fast:?}, walk {walked:?}"),
                }
            }
        }
        assert!(edited > 300, "only {edited} events were edited in place");
    }
}
