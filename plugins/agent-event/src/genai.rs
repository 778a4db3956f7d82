//! OpenTelemetry GenAI semantic conventions to the canonical event.
//!
//! A log record or span read by module `otlp` becomes an agent event: its
//! `gen_ai.*` attributes (and `user.id`, `server.address`, `url.full`,
//! `error.type`) fill the canonical fields, `gen_ai.operation.name` picks
//! `event.kind`, the span status `event.outcome`, the ids `trace.*` and the
//! start (or log) time `time`. An attribute that is itself named like a
//! canonical field (`tenant.id`, `authz.decision`) lands there, so an agent
//! instrumented for sluice can say what OpenTelemetry has no name for; it wins
//! over a GenAI attribute for the same field, and the record's attributes win
//! over the resource's.
//!
//! Nothing is lost: what is not mapped stays under `otel` (`attributes`,
//! `resource`, `scope`, span name, kind, end time, status, events, log
//! severity and body), where the `mapping` config can still reach it.
//! Message content (`gen_ai.input.messages`, `gen_ai.output.messages`) stays
//! there whole, as the canonical text fields take only part of it.

use crate::fields;
use crate::otlp::{Record, Signal, Status};
use crate::path;
use serde_json::{Map, Value, json};
use sluice_plugin::time::Timestamp;

/// GenAI and general attributes with a canonical field, in the order they
/// are tried: the first present attribute fills a field that is still empty.
const ATTRIBUTES: &[(&str, &str)] = &[
    ("gen_ai.agent.id", "agent.id"),
    ("gen_ai.agent.name", "agent.name"),
    ("gen_ai.agent.version", "agent.version"),
    ("gen_ai.agent.description", "agent.description"),
    ("gen_ai.request.model", "agent.model"),
    ("gen_ai.response.model", "agent.model"),
    ("gen_ai.conversation.id", "session.id"),
    ("gen_ai.tool.name", "tool.name"),
    ("gen_ai.tool.call.id", "tool.call_id"),
    ("gen_ai.tool.type", "tool.type"),
    ("gen_ai.tool.description", "tool.description"),
    ("gen_ai.tool.call.arguments", "tool.arguments"),
    ("gen_ai.tool.call.result", "tool.result"),
    ("gen_ai.data_source.id", "retrieval.source"),
    ("user.id", "delegation.on_behalf_of"),
    // Deprecated in favour of `user.id`, still sent by older instrumentations.
    ("enduser.id", "delegation.on_behalf_of"),
    ("server.address", "destination.host"),
    ("url.full", "destination.url"),
    ("error.type", "error.type"),
];

/// `gen_ai.operation.name` to `event.kind`. `invoke_agent` is special-cased:
/// see [`kind_of`].
const OPERATIONS: &[(&str, &str)] = &[
    ("chat", "prompt"),
    ("text_completion", "prompt"),
    ("generate_content", "prompt"),
    ("embeddings", "api_call"),
    ("execute_tool", "tool_call"),
    ("create_agent", "lifecycle"),
    ("invoke_workflow", "lifecycle"),
    ("plan", "reasoning"),
    ("retrieval", "retrieval"),
    ("search_memory", "retrieval"),
    ("create_memory", "api_call"),
    ("update_memory", "api_call"),
    ("upsert_memory", "api_call"),
    ("delete_memory", "api_call"),
];

/// Operations that call a model provider: the provider is their destination.
const MODEL_CALLS: &[&str] = &["chat", "text_completion", "generate_content", "embeddings"];

/// The agent event for `record`, before canonicalisation.
pub fn to_event(mut record: Record) -> Map<String, Value> {
    let mut attributes = std::mem::take(&mut record.attributes);
    let mut resource_attributes = std::mem::take(&mut record.resource);
    let mut event = Map::new();

    for source in [&mut attributes, &mut resource_attributes] {
        let named: Vec<String> = source.keys().filter(|key| fields::is_settable(key)).cloned().collect();
        for key in named {
            if path::get_in(&event, &key).is_none()
                && let Some(value) = source.remove(&key)
            {
                path::set(&mut event, &key, value);
            }
        }
    }
    for (attribute, target) in ATTRIBUTES {
        if path::get_in(&event, target).is_some() {
            continue;
        }
        if let Some(value) = attributes.remove(*attribute).or_else(|| resource_attributes.remove(*attribute)) {
            path::set(&mut event, target, value);
            // `user.id` is the person the agent acts for.
            if *target == "delegation.on_behalf_of" && path::get_in(&event, "delegation.type").is_none() {
                path::set(&mut event, "delegation.type", json!("user"));
            }
        }
    }
    for target in ["tool.arguments", "tool.result"] {
        decode_json_string(&mut event, target);
    }

    let operation = attributes.remove("gen_ai.operation.name").and_then(|op| op.as_str().map(str::to_owned));
    if let Some(operation) = &operation {
        if path::get_in(&event, "event.kind").is_none() {
            path::set(&mut event, "event.kind", json!(kind_of(operation, record.span_kind)));
        }
        if MODEL_CALLS.contains(&operation.as_str()) && path::get_in(&event, "destination.service").is_none() {
            // `gen_ai.system` is the name before `gen_ai.provider.name`.
            let provider = attributes.remove("gen_ai.provider.name").or_else(|| attributes.remove("gen_ai.system"));
            if let Some(provider) = provider {
                path::set(&mut event, "destination.service", provider);
            }
        }
    }
    if path::get_in(&event, "event.action").is_none()
        && let Some(action) = operation.clone().or_else(|| record.name.clone())
    {
        path::set(&mut event, "event.action", json!(action));
    }

    fill_content(&mut event, &attributes);
    fill_outcome(&mut event, &record);
    for (target, id) in [
        ("trace.id", &record.trace_id),
        ("trace.span_id", &record.span_id),
        ("trace.parent_span_id", &record.parent_span_id),
    ] {
        if let Some(id) = id
            && path::get_in(&event, target).is_none()
        {
            path::set(&mut event, target, json!(id));
        }
    }
    if !event.contains_key("time")
        && let Some(time) = record.time_unix_nano.and_then(rfc3339)
    {
        event.insert("time".into(), json!(time));
    }
    event.insert("otel".into(), Value::Object(otel(&record, attributes, resource_attributes)));
    event
}

/// `event.kind` for an operation. `invoke_agent` calls a remote agent when
/// its span is a CLIENT span (the spec's rule), which is an API call; a local
/// invocation is the agent's run starting, a lifecycle event. An operation
/// not in the table is kept as the kind, for the `unknown_kind` config to
/// judge.
pub fn kind_of(operation: &str, span_kind: Option<&str>) -> String {
    if operation == "invoke_agent" {
        return if span_kind == Some("client") { "api_call" } else { "lifecycle" }.to_owned();
    }
    OPERATIONS.iter().find(|(name, _)| *name == operation).map_or(operation, |(_, kind)| kind).to_owned()
}

/// A JSON string holding an object or list (how spans carry tool arguments
/// and results) becomes that value; other text stays text.
fn decode_json_string(event: &mut Map<String, Value>, target: &str) {
    let Some(Value::String(text)) = path::get_in(event, target) else { return };
    if let Ok(value @ (Value::Object(_) | Value::Array(_))) = serde_json::from_str::<Value>(text) {
        path::set(event, target, value);
    }
}

/// `prompt.text` from the last user message of `gen_ai.input.messages`;
/// `output.text` and `reasoning.summary` from the text and reasoning parts of
/// `gen_ai.output.messages`.
fn fill_content(event: &mut Map<String, Value>, attributes: &Map<String, Value>) {
    let messages = |key: &str| -> Vec<Value> {
        match attributes.get(key) {
            Some(Value::Array(items)) => items.clone(),
            // On spans the messages are a JSON string.
            Some(Value::String(text)) => match serde_json::from_str(text) {
                Ok(Value::Array(items)) => items,
                _ => Vec::new(),
            },
            _ => Vec::new(),
        }
    };
    let input = messages("gen_ai.input.messages");
    let last_user = input.iter().rev().find(|m| m.get("role").and_then(Value::as_str) == Some("user"));
    let fills = [
        ("prompt.text", last_user.and_then(|m| text_of(std::slice::from_ref(m), "text"))),
        ("output.text", text_of(&messages("gen_ai.output.messages"), "text")),
        ("reasoning.summary", text_of(&messages("gen_ai.output.messages"), "reasoning")),
    ];
    for (target, text) in fills {
        if let Some(text) = text
            && path::get_in(event, target).is_none()
        {
            path::set(event, target, json!(text));
        }
    }
}

/// The `content` of the parts of type `part_type` in `messages`, one per
/// line; a message whose `content` is plain text counts as one text part.
fn text_of(messages: &[Value], part_type: &str) -> Option<String> {
    let mut texts = Vec::new();
    for message in messages {
        match (message.get("parts"), message.get("content")) {
            (Some(Value::Array(parts)), _) => texts.extend(
                parts
                    .iter()
                    .filter(|part| part.get("type").and_then(Value::as_str) == Some(part_type))
                    .filter_map(|part| part.get("content").and_then(Value::as_str)),
            ),
            (_, Some(Value::String(content))) if part_type == "text" => texts.push(content),
            _ => {}
        }
    }
    (!texts.is_empty()).then(|| texts.join("\n"))
}

/// `event.outcome` from the span status (ERROR is a failure, OK a success);
/// an `error.type` also marks a failure, as the conventions set it on failed
/// operations. An unset status on a span without `error.type` is left
/// unknown: instrumentations leave it unset on success, but so does one that
/// never reports failures. The status message becomes `error.message`.
fn fill_outcome(event: &mut Map<String, Value>, record: &Record) {
    if path::get_in(event, "event.outcome").is_none() {
        let failed = record.status == Status::Error || path::get_in(event, "error.type").is_some();
        let outcome = match record.status {
            _ if failed => Some("failure"),
            Status::Ok => Some("success"),
            _ => None,
        };
        if let Some(outcome) = outcome {
            path::set(event, "event.outcome", json!(outcome));
        }
    }
    if let Some(message) = &record.status_message
        && path::get_in(event, "error.message").is_none()
    {
        path::set(event, "error.message", json!(message));
    }
}

fn rfc3339(nanos: i64) -> Option<String> {
    Timestamp::from_epoch(&serde_json::Number::from(nanos))?.to_rfc3339_utc()
}

/// The `otel` object: the record's OpenTelemetry context that no canonical
/// field holds. Empty parts are left out.
fn otel(record: &Record, attributes: Map<String, Value>, resource: Map<String, Value>) -> Map<String, Value> {
    let mut otel = Map::new();
    let signal = match record.signal {
        Signal::Log => "log",
        Signal::Span => "span",
    };
    otel.insert("signal".into(), json!(signal));
    let mut put = |key: &str, value: Option<Value>| {
        if let Some(value) = value {
            otel.insert(key.to_owned(), value);
        }
    };
    put("name", record.name.clone().map(Value::String));
    put("span_kind", record.span_kind.map(|kind| json!(kind)));
    put("end_time", record.end_unix_nano.and_then(rfc3339).map(Value::String));
    let status = match record.status {
        Status::Unset => None,
        Status::Ok => Some(json!("ok")),
        Status::Error => Some(json!("error")),
    };
    put("status", status);
    put("severity_number", record.severity_number.map(|n| json!(n)));
    put("severity_text", record.severity_text.clone().map(Value::String));
    put("body", record.body.clone());
    put("events", (!record.events.is_empty()).then(|| Value::Array(record.events.clone())));
    put("attributes", (!attributes.is_empty()).then_some(Value::Object(attributes)));
    put("resource", (!resource.is_empty()).then_some(Value::Object(resource)));
    put("scope", (!record.scope.is_empty()).then(|| Value::Object(record.scope.clone())));
    otel
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A log record with these attributes and nothing else.
    fn record(attributes: Value) -> Record {
        Record {
            signal: Signal::Log,
            attributes: attributes.as_object().unwrap().clone(),
            resource: Map::new(),
            scope: Map::new(),
            trace_id: None,
            span_id: None,
            parent_span_id: None,
            time_unix_nano: None,
            end_unix_nano: None,
            name: None,
            span_kind: None,
            status: Status::Unset,
            status_message: None,
            severity_number: None,
            severity_text: None,
            body: None,
            events: Vec::new(),
        }
    }

    #[test]
    fn operations_to_kinds() {
        for (operation, span_kind, kind) in [
            ("chat", None, "prompt"),
            ("generate_content", None, "prompt"),
            ("embeddings", Some("client"), "api_call"),
            ("execute_tool", Some("internal"), "tool_call"),
            ("invoke_agent", Some("client"), "api_call"),
            ("invoke_agent", Some("internal"), "lifecycle"),
            ("invoke_agent", None, "lifecycle"),
            ("create_agent", Some("client"), "lifecycle"),
            ("plan", None, "reasoning"),
            ("search_memory", None, "retrieval"),
            ("upsert_memory", None, "api_call"),
            ("translate", None, "translate"),
        ] {
            assert_eq!(kind_of(operation, span_kind), kind, "{operation} {span_kind:?}");
        }
    }

    #[test]
    fn message_text_from_parts_or_plain_content() {
        let messages = [
            json!({"role": "assistant", "parts": [{"type": "text", "content": "a"}, {"type": "reasoning",
                   "content": "why"}, {"type": "tool_call", "name": "t"}, {"type": "text", "content": "b"}]}),
            json!({"role": "assistant", "content": "c"}),
        ];
        assert_eq!(text_of(&messages, "text").as_deref(), Some("a\nb\nc"));
        assert_eq!(text_of(&messages, "reasoning").as_deref(), Some("why"));
        assert_eq!(text_of(&messages[..1], "blob"), None);
    }

    #[test]
    fn canonical_names_win_over_gen_ai_ones_and_records_over_resources() {
        let mut record =
            record(json!({"agent.id": "explicit", "gen_ai.agent.id": "semconv", "gen_ai.agent.name": "rec"}));
        record.resource =
            json!({"gen_ai.agent.name": "res", "tenant.id": "t", "redaction.count": 0}).as_object().unwrap().clone();
        let event = to_event(record);
        assert_eq!(event["agent"], json!({"id": "explicit", "name": "rec"}));
        assert_eq!(event["tenant"]["id"], "t");
        assert!(!event.contains_key("redaction"), "only the redact plugin writes `redaction`");
        assert_eq!(event["otel"]["attributes"], json!({"gen_ai.agent.id": "semconv"}));
        assert_eq!(event["otel"]["resource"], json!({"gen_ai.agent.name": "res", "redaction.count": 0}));
    }

    #[test]
    fn only_user_id_implies_a_user_principal() {
        let mut record = record(json!({"user.id": "alice"}));
        assert_eq!(to_event(record.clone())["delegation"], json!({"on_behalf_of": "alice", "type": "user"}));
        record.attributes = json!({"delegation.on_behalf_of": "agent:boss"}).as_object().unwrap().clone();
        assert_eq!(to_event(record)["delegation"], json!({"on_behalf_of": "agent:boss"}));
    }
}
