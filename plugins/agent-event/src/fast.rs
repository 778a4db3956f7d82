//! The common case, normalised in place.
//!
//! Most events are already close to the schema: the agent's JSON in the
//! envelope's `message`, a mapping that moves a dozen fields, values of the
//! right types. For those, building the whole event as a tree (module
//! `normalise`) costs several times the work: here the agent's object is read
//! one level deep ([`Members`]), only the schema's objects are opened, every
//! value that stays as it came is copied as text, and only the fields the
//! schema rewrites (`event.kind`, `time`, the decision …) are written anew.
//!
//! Anything off that path — OpenTelemetry input, a missing `event.id`, a
//! value of the wrong type, a null, a bare string for an object, a path
//! deeper than `object.field` — returns `None`, and the event takes the tree
//! path, which gives it the same treatment or the same error. The test at
//! the end holds the two to the same output on thousands of varied events.

use crate::config::{Config, Rule};
use crate::fields::{self, Type};
use crate::provenance::{self, CLAIMS, PROVENANCE};
use crate::schema::{self, OBJECTS};
use sluice_plugin::raw::{self, Kind, Members};
use sluice_plugin::time::Timestamp;
use std::borrow::Cow;

/// The canonical event's JSON text, or `None` for the tree path.
pub fn normalise<'a>(event: &'a str, config: &'a Config) -> Option<String> {
    // The envelope is the router's, so valid JSON; the message is not.
    let outer = Members::of_valid(event)?;
    let message = outer.get("message")?;
    let text;
    let agent = if matches!(raw::kind(message), Kind::Object) {
        // Decoded by the source (`decoding = "json"`): part of the router's
        // valid text already.
        Members::of_valid(message)?
    } else {
        text = raw::text(message)?;
        // The message is text from outside: `Members::parse` checks all of
        // it as the tree path's parse would, so the fast path refuses what
        // that refuses.
        Members::parse(text.trim_start_matches('\u{feff}')).ok()?
    };
    let mut agent = Event::new(agent);
    if ["resourceLogs", "resourceSpans", "resource_logs", "resource_spans"].iter().any(|k| agent.has(k)) {
        return None;
    }
    agent.apply_mapping(&config.mapping)?;
    agent.canonicalise()?;
    // In the tree path's order: the sender's time, the agent's claims set
    // aside, then the envelope's members, then the arrival time for an event
    // still without one.
    if !agent.has("time")
        && let Some(sent) =
            outer.get("syslog").and_then(Members::of_valid).and_then(|s| s.get("timestamp").and_then(utc))
    {
        agent.set_top(Cow::Borrowed("time"), Out::string(&sent));
    }
    agent.set_aside_claims();
    for (key, value) in outer {
        if key == "message" {
            continue;
        }
        if PROVENANCE.contains(&key.as_ref()) || !agent.has(&key) {
            agent.set_top(key, Out::Raw(value));
        }
    }
    if !agent.has("time") {
        let received = match agent.top("received_at")? {
            Top::Leaf(out) => utc(out.json())?,
            Top::Object(_) => return None,
        };
        agent.set_top(Cow::Borrowed("time"), Out::string(&received));
    }
    // Something in the message could not be read on the way.
    if agent.unreadable {
        return None;
    }
    Some(agent.write())
}

/// An RFC 3339 timestamp as UTC text.
fn utc(value: &str) -> Option<String> {
    Timestamp::parse_rfc3339(&raw::text(value)?)?.to_rfc3339_utc()
}

/// A value on its way out: the text it came as, or new JSON text.
#[derive(Clone)]
enum Out<'a> {
    Raw(&'a str),
    Json(String),
}

impl<'a> Out<'a> {
    fn string(text: &str) -> Out<'a> {
        let mut json = String::with_capacity(text.len() + 2);
        raw::write_string(&mut json, text);
        Out::Json(json)
    }

    fn json(&self) -> &str {
        match self {
            Out::Raw(value) => value,
            Out::Json(json) => json,
        }
    }

    fn kind(&self) -> Kind {
        raw::kind(self.json())
    }

    fn text(&self) -> Option<Cow<'_, str>> {
        raw::text(self.json())
    }

    /// The value as a tree, for the few small values the schema reads.
    fn value(&self) -> Option<serde_json::Value> {
        serde_json::from_str(self.json()).ok()
    }
}

/// A top-level member: left as it came, or opened into its members.
enum Top<'a> {
    Leaf(Out<'a>),
    Object(Vec<(Cow<'a, str>, Out<'a>)>),
}

/// The agent's event, one level deep.
struct Event<'a> {
    members: Vec<(Cow<'a, str>, Top<'a>)>,
    /// An object of the message could not be read (it cannot happen to
    /// checked text, but if it did, the tree path would decide).
    unreadable: bool,
}

impl<'a> Event<'a> {
    fn new(members: Members<'a>) -> Event<'a> {
        // Room for the schema's objects a mapping adds.
        let mut list = Vec::with_capacity(members.len() + 8);
        list.extend(members.into_iter().map(|(key, value)| (key, Top::Leaf(Out::Raw(value)))));
        Event { members: list, unreadable: false }
    }

    fn has(&self, key: &str) -> bool {
        self.members.iter().any(|(k, _)| k == key)
    }

    fn top(&self, key: &str) -> Option<&Top<'a>> {
        self.members.iter().find(|(k, _)| k == key).map(|(_, top)| top)
    }

    fn set_top(&mut self, key: Cow<'a, str>, value: Out<'a>) {
        match self.members.iter_mut().find(|(k, _)| *k == key) {
            Some((_, top)) => *top = Top::Leaf(value),
            None => self.members.push((key, Top::Leaf(value))),
        }
    }

    /// `provenance::set_aside`: members that claim a router-owned name move
    /// under `agent_claimed`, as they stand.
    fn set_aside_claims(&mut self) {
        if !self.members.iter().any(|(key, _)| provenance::is_claim(key)) {
            return;
        }
        let (claims, kept): (Vec<_>, Vec<_>) =
            std::mem::take(&mut self.members).into_iter().partition(|(key, _)| provenance::is_claim(key));
        self.members = kept;
        let claims = claims
            .into_iter()
            .map(|(key, top)| match top {
                Top::Leaf(out) => (key, out),
                Top::Object(members) => {
                    let mut json = String::new();
                    write_object(&mut json, &members);
                    (key, Out::Json(json))
                }
            })
            .collect();
        self.members.push((Cow::Borrowed(CLAIMS), Top::Object(claims)));
    }

    /// Open member `key` if it is an object; `None` if it is anything else.
    fn open(&mut self, key: &str) -> Option<&mut Vec<(Cow<'a, str>, Out<'a>)>> {
        let (_, top) = self.members.iter_mut().find(|(k, _)| k == key)?;
        if let Top::Leaf(out) = top {
            let Out::Raw(value) = out else { return None };
            if raw::kind(value) != Kind::Object {
                return None;
            }
            // Part of the message, which `Members::parse` has checked whole.
            let Some(members) = Members::of_valid(value) else {
                self.unreadable = true;
                return None;
            };
            *top = Top::Object(members.into_iter().map(|(k, v)| (k, Out::Raw(v))).collect());
        }
        match top {
            Top::Object(members) => Some(members),
            Top::Leaf(_) => None,
        }
    }

    /// The value at canonical `object.field` (a missing object or field is `None`).
    fn field(&mut self, object: &str, field: &str) -> Option<Out<'a>> {
        self.open(object)?.iter().find(|(k, _)| k == field).map(|(_, v)| v.clone())
    }

    /// Set canonical `object.field`, creating the object (or replacing a
    /// non-object in its place, as `path::set` does).
    fn set_field(&mut self, object: &'a str, field: &'a str, value: Out<'a>) {
        if self.open(object).is_none() {
            match self.members.iter_mut().find(|(k, _)| k == object) {
                Some((_, top)) => *top = Top::Object(Vec::with_capacity(4)),
                None => self.members.push((Cow::Borrowed(object), Top::Object(Vec::with_capacity(4)))),
            }
        }
        let members = self.open(object).expect("made an object above");
        match members.iter_mut().find(|(k, _)| k == field) {
            Some((_, slot)) => *slot = value,
            None => members.push((Cow::Borrowed(field), value)),
        }
    }

    /// A source path's value and where it sits, as `path::get` resolves it:
    /// the flat key first, then `object.field`. `None` when the fast path
    /// cannot tell (a deeper path, a list on the way).
    fn find(&mut self, path: &str) -> Option<Option<(Out<'a>, Location)>> {
        if let Some(Top::Leaf(out)) = self.top(path) {
            return Some(Some((out.clone(), Location::Top(path.to_owned()))));
        }
        if self.has(path) {
            return None; // an opened object under a dotted name: rare, leave it
        }
        let Some((object, field)) = path.split_once('.') else { return Some(None) };
        if field.contains('.') {
            return None;
        }
        let kind = match self.top(object) {
            None => return Some(None),
            Some(Top::Object(_)) => Kind::Object,
            Some(Top::Leaf(out)) => out.kind(),
        };
        match kind {
            Kind::Object => {
                let value = self.field(object, field);
                Some(value.map(|value| (value, Location::Field(object.to_owned(), field.to_owned()))))
            }
            Kind::Array => None,
            _ => Some(None),
        }
    }

    fn remove(&mut self, location: &Location) {
        match location {
            Location::Top(key) => self.members.retain(|(k, _)| k != key),
            Location::Field(object, field) => {
                if let Some(members) = self.open(object) {
                    members.retain(|(k, _)| k != field);
                }
            }
        }
    }

    /// Every rule reads the event as it came, then the sources go, then the
    /// targets are written (the order of `normalise::apply_mapping`).
    fn apply_mapping(&mut self, mapping: &'a [(String, Rule)]) -> Option<()> {
        let mut moved = Vec::new();
        let mut writes = Vec::new();
        for (target, rule) in mapping {
            let value = match rule {
                Rule::Constant(value) => Some(Out::Json(value.to_string())),
                Rule::From { paths, default } => {
                    let mut found = None;
                    for path in paths {
                        if let Some((value, location)) = self.find(path)?
                            && value.kind() != Kind::Null
                        {
                            found = Some((value, location));
                            break;
                        }
                    }
                    match found {
                        Some((value, location)) => {
                            moved.push(location);
                            Some(value)
                        }
                        None => default.as_ref().map(|value| Out::Json(value.to_string())),
                    }
                }
            };
            if let Some(value) = value {
                writes.push((target, value));
            }
        }
        // A source read by two rules: the tree path looks it up again when
        // it removes it the second time, which may find another value.
        if moved.iter().enumerate().any(|(i, a)| moved[..i].contains(a)) {
            return None;
        }
        for location in &moved {
            self.remove(location);
        }
        for (target, value) in writes {
            if matches!(value, Out::Json(_)) && value.kind() == Kind::Object {
                return None; // a constant object: fields may be set inside it later
            }
            match target.split_once('.') {
                None => self.set_top(Cow::Borrowed(target), value),
                Some((object, field)) if !field.contains('.') => self.set_field(object, field, value),
                Some(_) => return None,
            }
        }
        Some(())
    }

    /// `schema::canonicalise` for events that need no repair: the fields it
    /// rewrites are rewritten, anything it would repair or refuse is `None`.
    fn canonicalise(&mut self) -> Option<()> {
        for (name, _) in OBJECTS {
            match self.top(name) {
                None | Some(Top::Object(_)) => {}
                Some(Top::Leaf(out)) if out.kind() == Kind::Object => {}
                Some(Top::Leaf(_)) => return None,
            }
        }
        if let Some(top) = self.top("time") {
            let Top::Leaf(out) = top else { return None };
            let time = match out.kind() {
                Kind::String => Timestamp::parse_rfc3339(&out.text()?),
                Kind::Number => Timestamp::from_epoch(out.value()?.as_number()?),
                _ => None,
            }?;
            self.set_top(Cow::Borrowed("time"), Out::string(&time.to_rfc3339_utc()?));
        }
        let kind = schema::kind_word(&self.field("event", "kind")?.text()?)?;
        self.set_field("event", "kind", Out::string(&kind));
        if self.field("agent", "id")?.text()?.trim().is_empty() {
            return None;
        }
        if self.field("event", "id")?.text()?.trim().is_empty() {
            return None;
        }
        let decision = match self.field("authz", "decision") {
            None => None,
            Some(out) => Some(match out.kind() {
                Kind::Bool => {
                    if out.json() == "true" {
                        "allow"
                    } else {
                        "deny"
                    }
                }
                Kind::String => schema::decision_word(&out.text()?)?,
                _ => return None,
            }),
        };
        if let Some(decision) = decision {
            self.set_field("authz", "decision", Out::string(decision));
        }
        if let Some(out) = self.field("delegation", "type") {
            let kind = schema::delegation_word(&out.text()?)?;
            self.set_field("delegation", "type", Out::string(kind));
        }
        let outcome = match self.field("event", "outcome") {
            Some(out) if out.kind() == Kind::Bool => {
                if out.json() == "true" {
                    "success"
                } else {
                    "failure"
                }
            }
            Some(out) if out.kind() == Kind::String => schema::outcome_word(&out.text()?),
            _ if decision == Some("deny") => "failure",
            _ => "unknown",
        };
        self.set_field("event", "outcome", Out::string(outcome));
        let given = self.field("event", "severity").and_then(|out| out.value());
        let severity = match given.as_ref().and_then(sluice_plugin::fields::severity) {
            Some(value) => value.round().clamp(0.0, 10.0) as u8,
            None => schema::default_severity(decision, Some(&kind), Some(outcome)),
        };
        self.set_field("event", "severity", Out::Json(severity.to_string()));
        for (object, _) in OBJECTS {
            let Some(members) = self.open(object) else { continue };
            for (field, value) in members.iter() {
                let Some(kind) = fields::type_of(object, field) else { continue };
                let fits = match (kind, value.kind()) {
                    (Type::Any, Kind::Null) => false,
                    (Type::Any, _) | (Type::Text, Kind::String) => true,
                    (Type::Count, Kind::Number) => value.value().is_some_and(|n| n.is_u64()),
                    (Type::TextList, Kind::Array) => is_text_list(value.json()),
                    _ => false,
                };
                if !fits {
                    return None;
                }
            }
        }
        match self.top("labels") {
            None => {}
            Some(Top::Leaf(out)) if out.kind() == Kind::Array && is_text_list(out.json()) => {}
            Some(_) => return None,
        }
        Some(())
    }

    /// The event as JSON text: members in the order they came, new ones after.
    fn write(self) -> String {
        let mut out = String::with_capacity(1024);
        out.push('{');
        for (index, (key, top)) in self.members.iter().enumerate() {
            if index > 0 {
                out.push(',');
            }
            raw::write_string(&mut out, key);
            out.push(':');
            match top {
                Top::Leaf(value) => out.push_str(value.json()),
                Top::Object(members) => write_object(&mut out, members),
            }
        }
        out.push('}');
        out
    }
}

/// An opened object as JSON text.
fn write_object(out: &mut String, members: &[(Cow<'_, str>, Out<'_>)]) {
    out.push('{');
    for (index, (key, value)) in members.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        raw::write_string(out, key);
        out.push(':');
        out.push_str(value.json());
    }
    out.push('}');
}

/// Where a mapping source was found.
#[derive(PartialEq, Eq)]
enum Location {
    Top(String),
    Field(String, String),
}

/// A list of strings, as the schema's text lists are.
fn is_text_list(json: &str) -> bool {
    serde_json::from_str::<Vec<&serde_json::value::RawValue>>(json)
        .is_ok_and(|items| items.iter().all(|item| raw::kind(item.get()) == Kind::String))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    /// A small deterministic generator, so that a failure replays.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn pick<'v>(&mut self, values: &'v [Value]) -> &'v Value {
            &values[(self.next() % values.len() as u64) as usize]
        }
        fn chance(&mut self, percent: u64) -> bool {
            self.next() % 100 < percent
        }
    }

    /// The harness corpus's shape (`ts`, `kind`, `dest.host` …), each field
    /// sometimes left out or given in one of the forms agents write.
    fn agent_event(rng: &mut Rng, i: usize) -> Value {
        let mut event = corpus_event(i);
        perturb(rng, &mut event);
        event
    }

    /// One event as the harness corpus writes it.
    fn corpus_event(i: usize) -> Value {
        json!({
            "ts": "2026-11-26T12:00:00.000Z", "event_id": format!("evt-{i}"), "tenant": "globex",
            "agent": {"id": "agent-01", "model": "m", "version": "2.1"}, "on_behalf_of": "user:u1",
            "session_id": "s-1", "trace_id": "tr-1", "kind": "retrieval", "name": "Document retrieved",
            "severity": 4, "tool": {"name": "fs.read", "args": "--target=x \"quoted\" é"},
            "dest": {"host": "h.example", "url": "https://h.example/a?b=c"},
            "authz": {"decision": "allow", "policy": "p", "reason": "r"}, "text": "hello\nworld ☃",
            "labels": ["a", "b"],
        })
    }

    fn perturb(rng: &mut Rng, event: &mut Value) {
        let variants: [(&str, Vec<Value>); 20] = [
            (
                "ts",
                vec![
                    json!("2026-11-26T14:00:00.5+02:00"),
                    json!(1764160205123_u64),
                    json!(1764160205),
                    json!("yesterday"),
                    Value::Null,
                    json!({"t": 1}),
                ],
            ),
            ("event_id", vec![json!(""), json!(17), Value::Null, json!("  ")]),
            ("tenant", vec![json!(3), json!({"id": "t"}), Value::Null]),
            (
                "agent",
                vec![
                    json!("planner"),
                    json!({"id": 7}),
                    json!({"id": " "}),
                    json!({"model": "m"}),
                    Value::Null,
                    json!({"id": "a", "extra": null}),
                ],
            ),
            ("kind", vec![json!("Tool-Call"), json!("TOOL_CALL"), json!("unknown-kind"), json!(5), Value::Null]),
            ("severity", vec![json!(7.6), json!("high"), json!("3"), json!(-4), json!(true), Value::Null, json!(12)]),
            (
                "tool",
                vec![
                    json!({"name": "x", "args": {"url": "u", "n": [1, 2]}}),
                    json!("bare"),
                    json!({"name": 5}),
                    json!({"name": "x", "args": null}),
                    json!([1]),
                ],
            ),
            (
                "dest",
                vec![json!({"host": "h"}), json!("flat"), json!({"host": null, "url": "u"}), json!({"host": ["a"]})],
            ),
            (
                "authz",
                vec![
                    json!({"decision": "DENIED"}),
                    json!({"decision": false}),
                    json!({"decision": "maybe"}),
                    json!({"decision": null}),
                    json!({"scope": "a b,c"}),
                    json!({"scope": ["a", "b"]}),
                    json!({"scope": [1]}),
                    json!("allow"),
                ],
            ),
            ("text", vec![json!(12), json!({"t": "x"}), json!("with \\ backslash and \u{0} nul"), Value::Null]),
            ("labels", vec![json!(["x", 1]), json!({"k": "v"}), json!("one"), Value::Null, json!([])]),
            (
                "event",
                vec![
                    json!({"outcome": "ok"}),
                    json!({"outcome": true}),
                    json!({"outcome": 3}),
                    json!({"severity": "low"}),
                    json!("prompt"),
                    json!({"custom": null}),
                ],
            ),
            (
                "delegation",
                vec![
                    json!({"type": "human"}),
                    json!({"type": "robot"}),
                    json!({"type": 1}),
                    json!({"chain": ["a", "b"]}),
                    json!({"chain": "a"}),
                ],
            ),
            (
                "extra",
                vec![json!({"nested": {"deep": [1, {"x": null}]}}), json!("e\"scaped"), json!(1.5e3), json!(null)],
            ),
            // Look-alikes of the router's fields, which go under `agent_claimed`.
            (
                "source",
                vec![
                    json!({"id": "forged", "address": "203.0.113.66:514", "host": "h"}),
                    json!("spoofed"),
                    Value::Null,
                ],
            ),
            ("received_at", vec![json!("1999-01-01T00:00:00Z"), json!({"t": 1})]),
            ("syslog", vec![json!({"hostname": "trusted-gw", "timestamp": "1999-01-01T00:00:00Z"}), json!([1])]),
            ("source.address", vec![json!("203.0.113.66:1")]),
            ("agent_claimed", vec![json!({"source": "x"}), json!("mine")]),
            ("sluice", vec![json!({"source": {"address": "203.0.113.66:2"}})]),
        ];
        for (key, values) in &variants {
            if rng.chance(8) {
                event.as_object_mut().unwrap().remove(*key);
            } else if rng.chance(12) {
                event[*key] = rng.pick(values).clone();
            }
        }
        if rng.chance(5) {
            event["dest.host"] = json!("flat-key.example"); // a flat dotted key wins over the nested one
        }
        if rng.chance(5) {
            event["resourceLogs"] = json!([]);
        }
    }

    /// The envelope a source wraps it in; sometimes with extras.
    fn envelope(rng: &mut Rng, agent: &Value) -> String {
        let mut message = agent.to_string();
        // Text serde_json refuses when it builds values, though it skips
        // over it: a lone surrogate in a name or a string, a number out of
        // range, nesting too deep.
        let huge = "1".repeat(400);
        let unreadable = [
            r#""extra": {"\udc00": 1}"#.to_owned(),
            r#""authz": {"decision": "maybe", "\udc00": 1}"#.to_owned(),
            r#""text": "lone \ud800 surrogate""#.to_owned(),
            r#""extra": 1e400"#.to_owned(),
            format!(r#""extra": {huge}"#),
            format!(r#""deep": {}1{}"#, "[".repeat(130), "]".repeat(130)),
        ];
        if rng.chance(4) && message.len() > 2 {
            let bad = &unreadable[(rng.next() % unreadable.len() as u64) as usize];
            message = format!("{{{bad}, {}", &message[1..]);
        }
        if rng.chance(3) && message.len() > 2 {
            message = format!("{{\"dup\": 1, {}, \"dup\": 2}}", &message[1..message.len() - 1]);
        }
        if rng.chance(3) {
            message.insert(0, '\u{feff}');
        }
        let mut envelope = json!({"message": message, "received_at": "2026-11-26T12:00:00.123456Z",
                                  "source": {"id": "in", "address": "127.0.0.1:1"}});
        if rng.chance(60) {
            envelope["syslog"] = json!({"hostname": "h", "timestamp": "2026-11-26T11:59:59.5-01:00"});
        }
        if rng.chance(10) {
            envelope["tenant"] = json!("from-envelope");
            envelope["host"] = json!("envelope-only");
        }
        if rng.chance(3) {
            envelope["received_at"] = json!("not a time");
        }
        if rng.chance(5) {
            envelope["time"] = json!("2025-01-01T00:00:00Z"); // not provenance: the agent's own time wins
        }
        if rng.chance(2) {
            envelope["message"] = json!({"not": "a string"});
        }
        envelope.to_string()
    }

    fn config(mapping: Value) -> Config {
        Config::parse(&json!({ "mapping": mapping })).unwrap()
    }

    /// The mapping of `bench/peer` for the harness corpus, and others that
    /// exercise fallbacks, defaults, constants and flat keys.
    fn configs() -> Vec<Config> {
        vec![
            config(json!({
                "time": "ts", "event.id": "event_id", "event.kind": "kind", "event.action": "name",
                "event.severity": "severity", "tenant.id": "tenant", "delegation.on_behalf_of": "on_behalf_of",
                "session.id": "session_id", "trace.id": "trace_id", "destination.host": "dest.host",
                "destination.url": "dest.url", "tool.arguments": "tool.args", "prompt.text": "text",
            })),
            config(json!({
                "time": {"from": ["missing", "ts"]}, "event.id": {"from": ["event_id"], "default": "fallback-id"},
                "event.kind": "kind", "tenant.id": {"from": ["tenant.id", "tenant"], "default": "default"},
                "agent.framework": {"value": "native"}, "labels": {"value": ["const"]},
                "destination.host": "dest.host", "output.text": "dest.url",
            })),
            config(
                json!({"event.kind": {"value": "prompt"}, "event.id": "event_id", "time": "ts", "agent": {"value": {"id": "c"}}}),
            ),
            // A rule that reads the agent's own `source`, one that writes into a router-owned name.
            config(json!({
                "event.kind": "kind", "event.id": "event_id", "time": "ts", "tenant.id": "tenant",
                "destination.host": "source.host", "syslog.hostname": "dest.host",
            })),
            // One source read by two rules, with a flat and a nested form.
            config(json!({
                "event.kind": "kind", "event.id": "event_id", "time": "ts",
                "destination.host": "dest.host", "destination.service": "dest.host",
            })),
        ]
    }

    /// Wherever the fast path answers, its event is the tree path's.
    #[test]
    fn answers_exactly_as_the_tree_path_does() {
        let mut rng = Rng(0x5eed_1234_abcd_ef01);
        let configs = configs();
        let mut answered = 0;
        let mut claimed = 0;
        for i in 0..6000 {
            let agent = agent_event(&mut rng, i);
            let event = envelope(&mut rng, &agent);
            let config = &configs[i % configs.len()];
            let Some(fast) = normalise(&event, config) else { continue };
            answered += 1;
            let tree = crate::normalise::normalise(&event, config)
                .unwrap_or_else(|err| panic!("the tree path refuses what the fast path took: {err}\n{event}"));
            let fast: Value = serde_json::from_str(&fast).unwrap_or_else(|err| panic!("{err}: {fast}"));
            claimed += usize::from(fast.get(CLAIMS).is_some());
            assert_eq!(fast, Value::Object(tree), "{event}");
        }
        // Most of the varied events are still common enough for the fast path.
        assert!(answered > 1000, "the fast path answered only {answered} of 6000");
        assert!(claimed > 200, "only {claimed} answered events had claims set aside");
    }

    /// The benchmark harness's own events, with the mapping the P1 runs use,
    /// all take the fast path and come out as the tree path writes them.
    #[test]
    fn the_benchmark_corpus_takes_the_fast_path() {
        let stages: toml::Table = include_str!("../../../bench/peer/P1.toml").parse().unwrap();
        let mapping = &stages["transforms"]["normalise"]["config"];
        let config = Config::parse(&serde_json::to_value(mapping).unwrap()).unwrap();
        for line in include_str!("../../../bench/peer/corpus-sample.jsonl").lines() {
            let event = json!({"message": line, "received_at": "2026-11-26T12:00:00Z",
                               "syslog": {"timestamp": "2026-11-26T12:00:00.000Z", "hostname": "h"}})
            .to_string();
            let fast = normalise(&event, &config).unwrap_or_else(|| panic!("took the tree path: {line}"));
            let tree = crate::normalise::normalise(&event, &config).unwrap();
            assert_eq!(serde_json::from_str::<Value>(&fast).unwrap(), Value::Object(tree), "{line}");
        }
    }

    #[test]
    fn the_corpus_shape_takes_the_fast_path() {
        let event = json!({"message": corpus_event(1).to_string(), "received_at": "2026-11-26T12:00:00Z"}).to_string();
        let fast = normalise(&event, &configs()[0]).expect("the corpus shape takes the fast path");
        let tree = crate::normalise::normalise(&event, &configs()[0]).unwrap();
        assert_eq!(serde_json::from_str::<Value>(&fast).unwrap(), Value::Object(tree));
    }

    /// An agent's look-alikes of the router's fields take the fast path too,
    /// and land under `agent_claimed` as the tree path puts them.
    #[test]
    fn forged_provenance_takes_the_fast_path_into_agent_claimed() {
        let claims = json!({
            "source": {"id": "forged", "address": "203.0.113.66:514"},
            "received_at": "1999-01-01T00:00:00Z",
            "syslog": {"hostname": "trusted-gw", "timestamp": "1999-01-01T00:00:00Z"},
            "source.address": "203.0.113.66:1",
            "agent_claimed": "the agent's own",
        });
        let mut agent = corpus_event(1);
        agent.as_object_mut().unwrap().extend(claims.as_object().unwrap().clone());
        let router_source = json!({"id": "in", "path": "/var/log/agents.jsonl"});
        let event =
            json!({"message": agent.to_string(), "received_at": "2026-11-26T12:00:00Z", "source": router_source})
                .to_string();
        let fast = normalise(&event, &configs()[0]).expect("forged provenance takes the fast path");
        let fast: Value = serde_json::from_str(&fast).unwrap();
        assert_eq!(fast["source"], router_source);
        assert_eq!(fast["received_at"], "2026-11-26T12:00:00Z");
        assert!(fast.get("syslog").is_none() && fast.get("source.address").is_none(), "{fast}");
        assert_eq!(fast["agent_claimed"], claims);
        let tree = crate::normalise::normalise(&event, &configs()[0]).unwrap();
        assert_eq!(fast, Value::Object(tree));
    }
}
