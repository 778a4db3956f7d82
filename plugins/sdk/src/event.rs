//! The canonical agent event (`docs/agent-event.md`), typed.
//!
//! [`AgentEvent`] reads an event into one struct per group of the schema
//! (`agent`, `event`, `delegation`, `tool` …), every field an `Option` since
//! an event may be partial. A plugin reads and changes those fields, then
//! writes the event back with [`AgentEvent::to_json`] or
//! [`Outcome::replace_with`](crate::Outcome::replace_with).
//!
//! Nothing is lost on the way through. Each struct has an `extra` map, and it
//! holds what the struct does not name (the envelope's `source`, a platform's
//! own fields) and also any named field whose value is not of its type (a
//! numeric `time`, a severity written `"high"`). Such a field reads `None`
//! and is written back as it came, unless the plugin sets it. So reading an
//! event never fails on its content, only when it is not a JSON object. An
//! empty group (`"tenant": {}`) stays in `extra` too, so it round-trips.
//!
//! ```no_run
//! use sluice_plugin::{AgentEvent, Outcome, Plugin, export_plugin};
//! use sluice_plugin::event::Decision;
//!
//! /// Raises the severity of denied events.
//! struct Escalate;
//! impl Plugin for Escalate {
//!     fn configure(_config: serde_json::Value) -> Result<Self, String> { Ok(Escalate) }
//!     fn process_event(&mut self, mut event: AgentEvent) -> Outcome {
//!         if event.authz.decision != Some(Decision::Deny) {
//!             return Outcome::Keep;
//!         }
//!         event.event.severity = Some(event.event.severity.unwrap_or(0).max(8));
//!         Outcome::replace_with(&event)
//!     }
//! }
//! export_plugin!(Escalate);
//! ```

use serde::de::{Deserialize, DeserializeOwned, Deserializer};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// One named field of a record: how it is read and whether it is written.
trait Member: Default {
    /// The field read from `value`, or the value back when it is not of the
    /// field's type (it then stays in `extra`, untouched).
    fn read(value: Value) -> Result<Self, Value>;

    /// Whether it has a value to write. If not, whatever `extra` holds under
    /// its name is written instead, which is how a misfit round-trips.
    fn is_set(&self) -> bool;

    /// Dotted paths of what was left in `extra`, at any depth: the tests'
    /// proof that the structs read what the schema defines.
    #[cfg(test)]
    fn leftovers(&self, _at: &str) -> Vec<String> {
        Vec::new()
    }
}

impl<T: DeserializeOwned> Member for Option<T> {
    fn read(value: Value) -> Result<Self, Value> {
        match T::deserialize(&value) {
            Ok(field) => Ok(Some(field)),
            Err(_) => Err(value),
        }
    }

    fn is_set(&self) -> bool {
        self.is_some()
    }
}

/// The JSON name of a field: a Rust keyword (`type`) is spelt `r#type`.
fn key(field: &str) -> &str {
    field.strip_prefix("r#").unwrap_or(field)
}

fn take<M: Member>(map: &mut Map<String, Value>, name: &str) -> M {
    let Some(value) = map.remove(name) else { return M::default() };
    M::read(value).unwrap_or_else(|value| {
        map.insert(name.to_owned(), value);
        M::default()
    })
}

/// A struct of named fields plus `extra`, with the serde impls that keep
/// misfits and unknown fields. Written by hand rather than derived: serde's
/// `flatten` cannot send a field that fails to parse into the flattened map.
macro_rules! record {
    ($(#[$doc:meta])* $name:ident { $($(#[$field_doc:meta])* $field:ident: $ty:ty,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct $name {
            $($(#[$field_doc])* pub $field: $ty,)*
            /// Fields not named above, and named ones whose value is not of
            /// their type, as they came; written back after the named ones.
            pub extra: Map<String, Value>,
        }

        impl $name {
            fn from_map(mut map: Map<String, Value>) -> Self {
                $(let $field = take(&mut map, key(stringify!($field)));)*
                Self { $($field,)* extra: map }
            }

            /// Whether a named field with a value shadows `extra`'s `name`.
            fn sets(&self, name: &str) -> bool {
                $((name == key(stringify!($field)) && self.$field.is_set()) ||)* false
            }

            #[cfg(test)]
            fn leftovers(&self, at: &str) -> Vec<String> {
                let mut found: Vec<String> = self.extra.keys().map(|k| format!("{at}{k}")).collect();
                $(found.extend(Member::leftovers(&self.$field, &format!("{at}{}.", key(stringify!($field)))));)*
                found.sort_unstable();
                found
            }
        }

        impl Member for $name {
            fn read(value: Value) -> Result<Self, Value> {
                match value {
                    // An empty object stays in `extra`: as a struct it would
                    // be empty, and empty structs are not written.
                    Value::Object(map) if !map.is_empty() => Ok(Self::from_map(map)),
                    other => Err(other),
                }
            }

            fn is_set(&self) -> bool {
                $(self.$field.is_set() ||)* !self.extra.is_empty()
            }

            #[cfg(test)]
            fn leftovers(&self, at: &str) -> Vec<String> {
                $name::leftovers(self, at)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut map = serializer.serialize_map(None)?;
                $(if self.$field.is_set() {
                    map.serialize_entry(key(stringify!($field)), &self.$field)?;
                })*
                for (name, value) in &self.extra {
                    if !self.sets(name) {
                        map.serialize_entry(name, value)?;
                    }
                }
                map.end()
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                Map::deserialize(deserializer).map(Self::from_map)
            }
        }
    };
}

/// A field whose values the schema lists. A value outside the list (another
/// spelling, a newer value) reads as `Other` rather than failing the event,
/// and is written back as it came.
macro_rules! closed_set {
    ($(#[$doc:meta])* $name:ident { $($(#[$variant_doc:meta])* $variant:ident = $text:literal,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$variant_doc])* $variant,)*
            /// A value outside the schema's list, as written.
            Other(String),
        }

        impl $name {
            /// The value as the event writes it.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $text,)*
                    Self::Other(text) => text,
                }
            }
        }

        impl From<&str> for $name {
            fn from(text: &str) -> Self {
                match text {
                    $($text => Self::$variant,)*
                    other => Self::Other(other.to_owned()),
                }
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                String::deserialize(deserializer).map(|text| Self::from(text.as_str()))
            }
        }
    };
}

record! {
    /// One canonical agent event. Groups the event lacks are empty (their
    /// fields `None`) and are not written back.
    AgentEvent {
        /// When it happened: RFC 3339 in UTC.
        time: Option<String>,
        /// What happened.
        event: Event,
        /// The acting agent.
        agent: Agent,
        /// The tenant the agent acts in.
        tenant: Tenant,
        /// The authority used and the decision on it.
        authz: Authz,
        /// On whose behalf the agent acts.
        delegation: Delegation,
        /// The conversation or session.
        session: Session,
        /// Distributed-tracing correlation.
        trace: Trace,
        /// Input to the model.
        prompt: Prompt,
        /// The model's reasoning.
        reasoning: Reasoning,
        /// What the agent produced.
        output: Output,
        /// The tool called.
        tool: Tool,
        /// What the call went to.
        destination: Destination,
        /// Data retrieved.
        retrieval: Retrieval,
        /// The data touched.
        data: Data,
        /// What went wrong.
        error: ErrorInfo,
        /// Free-form tags.
        labels: Option<Labels>,
        /// What the redact plugin did; only that plugin writes it.
        redaction: Redaction,
        /// What the agent wrote under a name the router owns (`source`,
        /// `syslog`, `received_at` …), moved aside as it came; only the
        /// agent-event plugin writes it.
        agent_claimed: Option<Map<String, Value>>,
    }
}

record! {
    /// `event`: what happened.
    Event {
        /// Unique id; the SIEM's de-duplication key.
        id: Option<String>,
        /// The kind of agent event.
        kind: Option<EventKind>,
        /// What the agent did, in the source's words.
        action: Option<String>,
        /// Whether it worked.
        outcome: Option<EventOutcome>,
        /// 0 (least) to 10 (most severe) in the schema; other integers are
        /// read as written.
        severity: Option<i64>,
    }
}

record! {
    /// `agent`: the acting agent, a non-human identity.
    Agent {
        /// Stable identity (a SPIFFE id, app id, deployment id).
        id: Option<String>,
        /// Human-readable name.
        name: Option<String>,
        /// Version of the agent.
        version: Option<String>,
        /// The model it runs on.
        model: Option<String>,
        /// Agent framework (`langgraph`, `autogen`, `native` …).
        framework: Option<String>,
    }
}

record! {
    /// `tenant`: the tenant the agent acts in.
    Tenant {
        /// Tenant id.
        id: Option<String>,
    }
}

record! {
    /// `authz`: the authority the agent used, and the decision on it.
    Authz {
        /// Scopes or permissions held or requested.
        scope: Option<Vec<String>>,
        /// The authorisation decision.
        decision: Option<Decision>,
        /// The policy that decided.
        policy: Option<String>,
        /// Why.
        reason: Option<String>,
    }
}

record! {
    /// `delegation`: on whose behalf the agent acts.
    Delegation {
        /// The principal the agent acts for.
        on_behalf_of: Option<String>,
        /// What kind of principal that is.
        r#type: Option<DelegationType>,
        /// Outermost principal first, ending with the acting agent.
        chain: Option<Vec<String>>,
    }
}

record! {
    /// `session`: the conversation or session.
    Session {
        /// Session or conversation id.
        id: Option<String>,
    }
}

record! {
    /// `trace`: distributed-tracing correlation.
    Trace {
        /// Trace id.
        id: Option<String>,
        /// Span id.
        span_id: Option<String>,
        /// Parent span id.
        parent_span_id: Option<String>,
    }
}

record! {
    /// `prompt`: input to the model.
    Prompt {
        /// The prompt text.
        text: Option<String>,
    }
}

record! {
    /// `reasoning`: the model's reasoning.
    Reasoning {
        /// A summary of the reasoning.
        summary: Option<String>,
    }
}

record! {
    /// `output`: what the agent produced.
    Output {
        /// Output text.
        text: Option<String>,
        /// An action the output takes.
        action: Option<String>,
    }
}

record! {
    /// `tool`: the tool called.
    Tool {
        /// Tool name.
        name: Option<String>,
        /// Id of this call; pairs a call with its result.
        call_id: Option<String>,
        /// Arguments: any JSON, an object when the source gave structure.
        arguments: Option<Value>,
        /// Result: any JSON.
        result: Option<Value>,
    }
}

record! {
    /// `destination`: what the call went to.
    Destination {
        /// Service name.
        service: Option<String>,
        /// Host name or address.
        host: Option<String>,
        /// URL.
        url: Option<String>,
    }
}

record! {
    /// `retrieval`: data retrieved.
    Retrieval {
        /// Where from (index, database, URL).
        source: Option<String>,
        /// How many records came back.
        records: Option<u64>,
    }
}

record! {
    /// `data`: the data touched.
    Data {
        /// Its classification (`public`, `internal`, `confidential` …).
        classification: Option<String>,
    }
}

record! {
    /// `error`: what went wrong.
    ErrorInfo {
        /// Error class or code.
        r#type: Option<String>,
        /// Error message.
        message: Option<String>,
    }
}

record! {
    /// `redaction`: what the redact plugin did.
    Redaction {
        /// Matches masked in all.
        count: Option<u64>,
        /// Matches per rule.
        rules: Option<BTreeMap<String, u64>>,
        /// Paths of the fields that were changed.
        fields: Option<Vec<String>>,
        /// Paths of the fields removed.
        dropped: Option<Vec<String>>,
    }
}

closed_set! {
    /// `event.kind`.
    EventKind {
        /// Input to a model.
        Prompt = "prompt",
        /// The model's plan or reflection.
        Reasoning = "reasoning",
        /// A tool invoked.
        ToolCall = "tool_call",
        /// A call to an external API.
        ApiCall = "api_call",
        /// Data read into the agent's context.
        Retrieval = "retrieval",
        /// An authorisation decision on its own.
        Authz = "authz",
        /// What the agent produced or did.
        Output = "output",
        /// Something failed.
        Error = "error",
        /// An agent created, started, stopped.
        Lifecycle = "lifecycle",
    }
}

closed_set! {
    /// `event.outcome`.
    EventOutcome {
        /// It worked.
        Success = "success",
        /// It did not; a denied action is a failure.
        Failure = "failure",
        /// Not known.
        Unknown = "unknown",
    }
}

closed_set! {
    /// `authz.decision`.
    Decision {
        /// Allowed.
        Allow = "allow",
        /// Denied.
        Deny = "deny",
    }
}

closed_set! {
    /// `delegation.type`: what kind of principal the agent acts for.
    DelegationType {
        /// A person.
        User = "user",
        /// A service or scheduled job.
        System = "system",
        /// Another agent.
        Agent = "agent",
    }
}

/// `labels`: free-form tags, a list or a map.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum Labels {
    /// `["env:prod", "team:finance"]`.
    List(Vec<String>),
    /// `{"env": "prod"}`.
    Map(BTreeMap<String, String>),
}

impl AgentEvent {
    /// Read an event's JSON text. Fails only when it is not a JSON object,
    /// with a reason fit for [`Outcome::Fail`](crate::Outcome::Fail).
    pub fn parse(event: &str) -> Result<AgentEvent, String> {
        crate::parse_object(event).map(AgentEvent::from_map)
    }

    /// The event as compact JSON text: the named fields that have a value,
    /// then `extra`. Key order is not kept.
    pub fn to_json(&self) -> String {
        // Cannot fail: every key is a string, and no impl here reports an
        // error (a `Value` cannot hold a non-finite number).
        serde_json::to_string(self).expect("an AgentEvent always serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::Path;

    fn repo_file(path: &str) -> String {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(path);
        std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
    }

    /// The canonical events shown in `docs/agent-event.md`: its ```json
    /// blocks that start with `time` (the shape and one per kind).
    fn documented_events() -> Vec<String> {
        let doc = repo_file("docs/agent-event.md");
        let blocks: Vec<String> = doc
            .split("```json\n")
            .skip(1)
            .filter_map(|rest| rest.split("```").next())
            .filter(|block| block.trim_start().trim_start_matches('{').trim_start().starts_with("\"time\""))
            .map(str::to_owned)
            .collect();
        assert!(blocks.len() >= 10, "found {} example events in the doc", blocks.len());
        blocks
    }

    fn round_trip(text: &str) {
        let event = AgentEvent::parse(text).unwrap();
        let written: Value = serde_json::from_str(&event.to_json()).unwrap();
        assert_eq!(written, serde_json::from_str::<Value>(text).unwrap(), "{text}");
    }

    #[test]
    fn the_documented_shape_reads_into_typed_fields() {
        let shape = &documented_events()[0];
        let event = AgentEvent::parse(shape).unwrap();
        assert_eq!(event.time.as_deref(), Some("2026-11-26T12:00:03.111Z"));
        assert_eq!(event.event.kind, Some(EventKind::ToolCall));
        assert_eq!(event.event.outcome, Some(EventOutcome::Success));
        assert_eq!(event.event.severity, Some(1));
        assert_eq!(event.agent.id.as_deref(), Some("spiffe://acme.example/agent/planner-01"));
        assert_eq!(event.agent.framework.as_deref(), Some("langgraph"));
        assert_eq!(event.authz.decision, Some(Decision::Allow));
        assert_eq!(
            event.authz.scope.as_deref(),
            Some(&["ledger:read".to_owned(), "net:egress:internal".to_owned()][..])
        );
        assert_eq!(event.delegation.r#type, Some(DelegationType::User));
        assert_eq!(event.delegation.chain.as_ref().map(Vec::len), Some(2));
        assert_eq!(event.trace.parent_span_id.as_deref(), Some("00f067aa0ba902b7"));
        assert_eq!(event.tool.result, Some(json!({"status": 200, "rows": 1284})));
        assert_eq!(event.destination.service.as_deref(), Some("ledger-api"));
        assert_eq!(event.data.classification.as_deref(), Some("confidential"));
        assert_eq!(event.tenant.id.as_deref(), Some("acme-fin"));
        assert_eq!(event.session.id.as_deref(), Some("sess-7f3a"));
        // The envelope is not in the schema, so it is kept aside.
        let mut unknown: Vec<&str> = event.extra.keys().map(String::as_str).collect();
        unknown.sort_unstable();
        assert_eq!(unknown, ["received_at", "source"]);
    }

    /// A value of the type `schema` describes.
    fn sample(schema: &Value) -> Value {
        if let Some(first) = schema.get("enum").and_then(|values| values.get(0)) {
            return first.clone();
        }
        if let Some(first) = schema.get("oneOf").and_then(|choices| choices.get(0)) {
            return sample(first);
        }
        match schema.get("type").and_then(Value::as_str) {
            Some("string") => json!("x"),
            Some("integer") => json!(1),
            Some("array") => json!([sample(&schema["items"])]),
            Some("object") => match schema.get("properties").and_then(Value::as_object) {
                Some(properties) => properties.iter().map(|(name, field)| (name.clone(), sample(field))).collect(),
                None => json!({"k": sample(&schema["additionalProperties"])}),
            },
            _ => json!({"any": [1, "json"]}),
        }
    }

    #[test]
    fn every_field_of_the_schema_has_a_typed_home() {
        let schema: Value = serde_json::from_str(&repo_file("docs/agent-event.schema.json")).unwrap();
        let text = sample(&schema).to_string();
        let event = AgentEvent::parse(&text).unwrap();
        assert_eq!(event.leftovers(""), Vec::<String>::new(), "{text}");
        round_trip(&text);
    }

    #[test]
    fn every_documented_event_fits_the_structs_and_round_trips() {
        for text in documented_events() {
            let event = AgentEvent::parse(&text).unwrap();
            // The fields the schema names as kept beside it.
            let envelope = ["received_at", "source", "syslog", "otel"];
            let leftovers = event.leftovers("");
            assert!(leftovers.iter().all(|path| envelope.contains(&path.as_str())), "{leftovers:?} in {text}");
            assert!(event.agent.id.is_some() && event.event.kind.is_some(), "{text}");
            assert!(!matches!(event.event.kind, Some(EventKind::Other(_))), "{text}");
            round_trip(&text);
        }
    }

    #[test]
    fn the_shared_corpus_round_trips_misfits_included() {
        let corpus = repo_file("plugins/testdata/canonical-events.jsonl");
        for line in corpus.lines().filter(|line| !line.trim().is_empty()) {
            round_trip(line);
        }
    }

    #[test]
    fn unknown_fields_round_trip_at_every_level() {
        let text = json!({
            "time": "2026-11-26T12:00:00Z",
            "agent": {"id": "a", "team": "blue", "meta": {"deep": [1, 2, {"x": null}]}},
            "event": {"kind": "tool_call", "category": "net"},
            "labels": {"env": "prod"},
            "redaction": {"count": 2, "rules": {"email": 2}, "fields": ["prompt.text"], "note": "x"},
            "otel": {"signal": "span"},
            "tenant": {},
            "syslog": {"facility": 10}
        })
        .to_string();
        let event = AgentEvent::parse(&text).unwrap();
        assert_eq!(event.agent.extra.get("team"), Some(&json!("blue")));
        assert_eq!(event.labels, Some(Labels::Map(BTreeMap::from([("env".into(), "prod".into())]))));
        assert_eq!(event.redaction.rules.as_ref().and_then(|r| r.get("email")), Some(&2));
        round_trip(&text);
    }

    #[test]
    fn a_partial_event_reads_and_writes_only_what_it_has() {
        let event = AgentEvent::parse(r#"{"agent":{"id":"a"}}"#).unwrap();
        assert_eq!(event.agent.id.as_deref(), Some("a"));
        assert_eq!(event.time, None);
        assert_eq!(event.event, Event::default());
        assert_eq!(event.to_json(), r#"{"agent":{"id":"a"}}"#);
        assert_eq!(AgentEvent::parse("{}").unwrap().to_json(), "{}");
    }

    #[test]
    fn misfits_read_none_and_are_written_back_as_they_came() {
        let text = json!({
            "time": 1_764_160_205,
            "event": {"kind": "TOOL-CALL", "severity": "high", "outcome": null},
            "agent": "planner",
            "authz": {"decision": "maybe", "scope": "read write"},
            "retrieval": {"records": -1},
            "labels": ["a", 1],
            "tool": {"arguments": null}
        })
        .to_string();
        let event = AgentEvent::parse(&text).unwrap();
        assert_eq!(event.time, None);
        assert_eq!(event.event.kind, Some(EventKind::Other("TOOL-CALL".to_owned())));
        assert_eq!(event.event.severity, None);
        assert_eq!(event.authz.decision, Some(Decision::Other("maybe".to_owned())));
        assert_eq!(event.agent, Agent::default());
        assert_eq!(event.labels, None);
        assert_eq!(event.tool.arguments, Some(Value::Null));
        let expected =
            ["agent", "authz.scope", "event.outcome", "event.severity", "labels", "retrieval.records", "time"];
        assert_eq!(event.leftovers(""), expected);
        round_trip(&text);
    }

    #[test]
    fn a_set_field_replaces_its_misfit_and_clearing_removes() {
        let mut event = AgentEvent::parse(r#"{"event":{"severity":"high","id":"e"},"tenant":{"id":"t"}}"#).unwrap();
        event.event.severity = Some(8);
        event.tenant.id = None;
        event.agent.id = Some("a".to_owned());
        event.delegation.r#type = Some(DelegationType::from("agent"));
        let written: Value = serde_json::from_str(&event.to_json()).unwrap();
        let expected =
            json!({"event": {"severity": 8, "id": "e"}, "agent": {"id": "a"}, "delegation": {"type": "agent"}});
        assert_eq!(written, expected);
    }

    #[test]
    fn closed_sets_read_their_values_and_keep_others() {
        for kind in
            ["prompt", "reasoning", "tool_call", "api_call", "retrieval", "authz", "output", "error", "lifecycle"]
        {
            let read = EventKind::from(kind);
            assert!(!matches!(read, EventKind::Other(_)), "{kind}");
            assert_eq!(read.as_str(), kind);
        }
        assert_eq!(EventKind::from("Prompt"), EventKind::Other("Prompt".to_owned()));
        assert_eq!(serde_json::to_string(&DelegationType::System).unwrap(), r#""system""#);
        assert_eq!(serde_json::from_str::<EventOutcome>(r#""unknown""#).unwrap(), EventOutcome::Unknown);
    }

    #[test]
    fn what_is_not_an_object_fails_with_a_reason() {
        assert_eq!(AgentEvent::parse("[1, 2]").unwrap_err(), "event is JSON but not an object");
        assert_eq!(AgentEvent::parse(r#""text""#).unwrap_err(), "event is JSON but not an object");
        let error = AgentEvent::parse(r#"{"agent": "#).unwrap_err();
        assert!(error.starts_with("event is not valid JSON: "), "{error}");
    }

    #[test]
    fn serde_reads_it_inside_other_types_too() {
        let event: AgentEvent = serde_json::from_value(json!({"agent": {"id": "a", "x": 1}})).unwrap();
        assert_eq!(event.agent.id.as_deref(), Some("a"));
        assert_eq!(serde_json::to_value(&event).unwrap(), json!({"agent": {"id": "a", "x": 1}}));
    }
}
