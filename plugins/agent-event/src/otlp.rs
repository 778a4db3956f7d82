//! Reading OpenTelemetry data in its OTLP/JSON encoding: an export request
//! of logs (`resourceLogs[].scopeLogs[].logRecords[]`) or traces
//! (`resourceSpans[].scopeSpans[].spans[]`), as the OTLP/HTTP JSON protocol
//! and the collector's file exporter write them.
//!
//! A plugin turns one event into one event and the router cannot split an
//! event into several yet, so a document must hold exactly one log record or
//! span; one with more fails with a reason that says so. What is read here is
//! OTLP's structure only (ids, times, status, attributes as plain JSON); what
//! the GenAI attributes mean is module `genai`'s.
//!
//! The encoding's details that matter: field names are lowerCamelCase (the
//! proto's snake_case names are accepted too, as protobuf JSON parsers do),
//! trace and span ids are hex strings, 64-bit integers (`intValue`, the
//! `…UnixNano` times) are usually decimal strings, and enums are integers
//! (their names are accepted too).

use serde_json::{Map, Value, json};

/// Which signal a record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Log,
    Span,
}

/// A span's status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Unset,
    Ok,
    Error,
}

/// The one log record or span of a document, with its resource and scope.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub signal: Signal,
    /// The record's attributes, dotted keys as they are (`gen_ai.agent.id`).
    pub attributes: Map<String, Value>,
    /// The resource's attributes (`service.name` …).
    pub resource: Map<String, Value>,
    /// The instrumentation scope: `name`, `version`, `attributes`.
    pub scope: Map<String, Value>,
    pub trace_id: Option<String>,
    pub span_id: Option<String>,
    pub parent_span_id: Option<String>,
    /// Unix nanoseconds: a span's start, a log record's time (else its observed time).
    pub time_unix_nano: Option<i64>,
    /// Unix nanoseconds of a span's end.
    pub end_unix_nano: Option<i64>,
    /// A span's name, or a log record's `eventName`.
    pub name: Option<String>,
    /// A span's kind: `internal`, `server`, `client`, `producer` or `consumer`.
    pub span_kind: Option<&'static str>,
    pub status: Status,
    /// A span status's message.
    pub status_message: Option<String>,
    pub severity_number: Option<i64>,
    pub severity_text: Option<String>,
    /// A log record's body, as plain JSON.
    pub body: Option<Value>,
    /// A span's events: `name`, `time_unix_nano`, `attributes`.
    pub events: Vec<Value>,
}

/// Whether `document` is an OTLP/JSON export request.
pub fn is_otlp(document: &Map<String, Value>) -> bool {
    // Every event passes here: plain lookups, no allocation.
    ["resourceLogs", "resourceSpans", "resource_logs", "resource_spans"].iter().any(|key| document.contains_key(*key))
}

/// The single log record or span in `document`.
pub fn read(document: &Map<String, Value>) -> Result<Record, String> {
    let mut found = Vec::new();
    for (signal, outer, middle, inner) in [
        (Signal::Log, "resourceLogs", "scopeLogs", "logRecords"),
        (Signal::Span, "resourceSpans", "scopeSpans", "spans"),
    ] {
        for resource in list(document, outer)? {
            let resource = object(resource, outer)?;
            for scope in list(resource, middle)? {
                let scope = object(scope, middle)?;
                for record in list(scope, inner)? {
                    found.push((signal, resource, scope, object(record, inner)?));
                }
            }
        }
    }
    match found.as_slice() {
        [(signal, resource, scope, record)] => Ok(build(*signal, resource, scope, record)),
        [] => Err("OTLP/JSON document holds no log record and no span".to_owned()),
        many => Err(format!(
            "OTLP/JSON document holds {} log records and spans; agent-event turns one event into one event and \
             the router cannot split an event into several yet, so export one record or span per event \
             (for example a batch size of 1)",
            many.len()
        )),
    }
}

type Object = Map<String, Value>;

fn build(signal: Signal, resource: &Object, scope: &Object, record: &Object) -> Record {
    let text = |key: &str| field(record, key).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned);
    let id = |key: &str| text(key).map(|id| id.to_ascii_lowercase());
    let status = field(record, "status").and_then(Value::as_object);
    let mut scope_out = Map::new();
    for key in ["name", "version"] {
        if let Some(value) = field(scope, "scope").and_then(|s| field_of(s, key)).filter(|v| !is_empty(v)) {
            scope_out.insert(key.to_owned(), value.clone());
        }
    }
    let scope_attributes = field(scope, "scope").and_then(Value::as_object).map(attributes).unwrap_or_default();
    if !scope_attributes.is_empty() {
        scope_out.insert("attributes".to_owned(), Value::Object(scope_attributes));
    }
    let (time_key, end_key, name_key) = match signal {
        Signal::Span => ("startTimeUnixNano", Some("endTimeUnixNano"), "name"),
        Signal::Log => ("timeUnixNano", None, "eventName"),
    };
    let time = nanos(field(record, time_key))
        .or_else(|| if signal == Signal::Log { nanos(field(record, "observedTimeUnixNano")) } else { None });
    Record {
        signal,
        attributes: attributes(record),
        resource: field(resource, "resource").and_then(Value::as_object).map(attributes).unwrap_or_default(),
        scope: scope_out,
        trace_id: id("traceId"),
        span_id: id("spanId"),
        parent_span_id: id("parentSpanId"),
        time_unix_nano: time,
        end_unix_nano: end_key.and_then(|key| nanos(field(record, key))),
        name: text(name_key),
        span_kind: field(record, "kind").and_then(span_kind),
        status: status.and_then(|s| field(s, "code")).map_or(Status::Unset, status_code),
        status_message: status
            .and_then(|s| field(s, "message"))
            .and_then(Value::as_str)
            .filter(|m| !m.is_empty())
            .map(str::to_owned),
        severity_number: field(record, "severityNumber").and_then(integer).filter(|n| *n > 0),
        severity_text: text("severityText"),
        body: field(record, "body").map(any_value).filter(|v| !v.is_null()),
        events: match field(record, "events") {
            Some(Value::Array(events)) => events.iter().filter_map(Value::as_object).map(span_event).collect(),
            _ => Vec::new(),
        },
    }
}

fn span_event(event: &Object) -> Value {
    let mut out = Map::new();
    if let Some(name) = field(event, "name").and_then(Value::as_str) {
        out.insert("name".into(), json!(name));
    }
    if let Some(time) = nanos(field(event, "timeUnixNano")) {
        out.insert("time_unix_nano".into(), json!(time));
    }
    let attributes = attributes(event);
    if !attributes.is_empty() {
        out.insert("attributes".into(), Value::Object(attributes));
    }
    Value::Object(out)
}

/// `key`, or its snake_case spelling (`timeUnixNano` → `time_unix_nano`).
fn field<'a>(object: &'a Object, key: &str) -> Option<&'a Value> {
    object.get(key).or_else(|| object.get(&snake_case(key)))
}

fn field_of<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    value.as_object().and_then(|object| field(object, key))
}

fn snake_case(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 4);
    for c in key.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The list at `key` (absent is empty), or why it is not a list.
fn list<'a>(object: &'a Object, key: &str) -> Result<&'a [Value], String> {
    match field(object, key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(other) => Err(format!("OTLP/JSON `{key}` must be a list, got {}", short(other))),
    }
}

fn object<'a>(value: &'a Value, key: &str) -> Result<&'a Object, String> {
    value.as_object().ok_or_else(|| format!("OTLP/JSON `{key}` must hold objects, got {}", short(value)))
}

fn short(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(60) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text,
    }
}

fn is_empty(value: &Value) -> bool {
    matches!(value, Value::Null) || value.as_str().is_some_and(str::is_empty)
}

/// The `attributes` list of an OTLP object as a map of plain JSON values.
fn attributes(holder: &Object) -> Map<String, Value> {
    match field(holder, "attributes") {
        Some(Value::Array(pairs)) => key_values(pairs),
        _ => Map::new(),
    }
}

fn key_values(pairs: &[Value]) -> Map<String, Value> {
    pairs
        .iter()
        .filter_map(|pair| {
            let key = field_of(pair, "key")?.as_str()?;
            Some((key.to_owned(), field_of(pair, "value").map_or(Value::Null, any_value)))
        })
        .collect()
}

/// An OTLP `AnyValue` as plain JSON: `{"stringValue": "x"}` is `"x"`,
/// `{"intValue": "7"}` is `7`, arrays and key-value lists nest.
fn any_value(value: &Value) -> Value {
    let Some(object) = value.as_object() else { return value.clone() };
    let get = |key: &str| field(object, key);
    if let Some(text) = get("stringValue") {
        text.clone()
    } else if let Some(flag) = get("boolValue") {
        flag.clone()
    } else if let Some(number) = get("intValue") {
        integer(number).map_or_else(|| number.clone(), |n| json!(n))
    } else if let Some(number) = get("doubleValue") {
        // `NaN` and the infinities arrive as strings and stay so.
        match number {
            Value::String(text) => {
                text.parse::<f64>().ok().filter(|f| f.is_finite()).map_or(number.clone(), |f| json!(f))
            }
            _ => number.clone(),
        }
    } else if let Some(bytes) = get("bytesValue") {
        bytes.clone()
    } else if let Some(array) = get("arrayValue") {
        match field_of(array, "values") {
            Some(Value::Array(items)) => Value::Array(items.iter().map(any_value).collect()),
            _ => json!([]),
        }
    } else if let Some(list) = get("kvlistValue") {
        match field_of(list, "values") {
            Some(Value::Array(pairs)) => Value::Object(key_values(pairs)),
            _ => json!({}),
        }
    } else {
        Value::Null
    }
}

/// A 64-bit integer written as a JSON number or a decimal string.
fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(number) => number.as_i64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

/// A `…UnixNano` time; 0 means unset in OTLP.
fn nanos(value: Option<&Value>) -> Option<i64> {
    value.and_then(integer).filter(|n| *n > 0)
}

fn span_kind(value: &Value) -> Option<&'static str> {
    let code = match value {
        Value::String(name) => match name.trim_start_matches("SPAN_KIND_") {
            "INTERNAL" => 1,
            "SERVER" => 2,
            "CLIENT" => 3,
            "PRODUCER" => 4,
            "CONSUMER" => 5,
            _ => 0,
        },
        other => integer(other).unwrap_or(0),
    };
    match code {
        1 => Some("internal"),
        2 => Some("server"),
        3 => Some("client"),
        4 => Some("producer"),
        5 => Some("consumer"),
        _ => None,
    }
}

fn status_code(value: &Value) -> Status {
    let code = match value {
        Value::String(name) => match name.trim_start_matches("STATUS_CODE_") {
            "OK" => 1,
            "ERROR" => 2,
            _ => 0,
        },
        other => integer(other).unwrap_or(0),
    };
    match code {
        1 => Status::Ok,
        2 => Status::Error,
        _ => Status::Unset,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(value: Value) -> Object {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn any_values_become_plain_json() {
        let value = json!({"kvlistValue": {"values": [
            {"key": "s", "value": {"stringValue": "x"}},
            {"key": "i", "value": {"intValue": "9007199254740993"}},
            {"key": "n", "value": {"intValue": 7}},
            {"key": "d", "value": {"doubleValue": 0.5}},
            {"key": "nan", "value": {"doubleValue": "NaN"}},
            {"key": "b", "value": {"boolValue": false}},
            {"key": "a", "value": {"arrayValue": {"values": [{"stringValue": "p"}, {"intValue": "1"}]}}},
            {"key": "bytes", "value": {"bytesValue": "AQID"}},
            {"key": "empty", "value": {}},
        ]}});
        assert_eq!(
            any_value(&value),
            json!({"s": "x", "i": 9_007_199_254_740_993_i64, "n": 7, "d": 0.5, "nan": "NaN", "b": false,
                   "a": ["p", 1], "bytes": "AQID", "empty": null})
        );
    }

    #[test]
    fn reads_a_span_with_its_resource_scope_and_status() {
        let document = doc(json!({"resourceSpans": [{
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "agents"}}]},
            "scopeSpans": [{
                "scope": {"name": "opentelemetry.instrumentation.openai_agents", "version": "0.1.0"},
                "spans": [{
                    "traceId": "5B8EFFF798038103D269B633813FC60C", "spanId": "EEE19B7EC3C1B174",
                    "parentSpanId": "", "name": "execute_tool get_weather", "kind": 1,
                    "startTimeUnixNano": "1795696205123456789", "endTimeUnixNano": "1795696205623456789",
                    "attributes": [{"key": "gen_ai.tool.name", "value": {"stringValue": "get_weather"}}],
                    "status": {"code": 2, "message": "timeout"},
                    "events": [{"timeUnixNano": "1795696205523456789", "name": "exception",
                                "attributes": [{"key": "exception.type", "value": {"stringValue": "Timeout"}}]}],
                }],
            }],
        }]}));
        let record = read(&document).unwrap();
        assert_eq!(record.signal, Signal::Span);
        assert_eq!(record.trace_id.as_deref(), Some("5b8efff798038103d269b633813fc60c"));
        assert_eq!(record.span_id.as_deref(), Some("eee19b7ec3c1b174"));
        assert_eq!(record.parent_span_id, None);
        assert_eq!(record.time_unix_nano, Some(1_795_696_205_123_456_789));
        assert_eq!(record.end_unix_nano, Some(1_795_696_205_623_456_789));
        assert_eq!(record.name.as_deref(), Some("execute_tool get_weather"));
        assert_eq!(record.span_kind, Some("internal"));
        assert_eq!((record.status, record.status_message.as_deref()), (Status::Error, Some("timeout")));
        assert_eq!(record.attributes["gen_ai.tool.name"], "get_weather");
        assert_eq!(record.resource["service.name"], "agents");
        assert_eq!(
            Value::Object(record.scope),
            json!({"name": "opentelemetry.instrumentation.openai_agents",
                                                       "version": "0.1.0"})
        );
        assert_eq!(
            record.events,
            vec![json!({"name": "exception", "time_unix_nano": 1_795_696_205_523_456_789_i64,
                        "attributes": {"exception.type": "Timeout"}})]
        );
    }

    #[test]
    fn reads_a_log_record_in_snake_case_with_enum_names() {
        let document = doc(json!({"resource_logs": [{"scope_logs": [{"log_records": [{
            "observed_time_unix_nano": "1795696205000000000", "time_unix_nano": "0",
            "severity_number": 9, "severity_text": "INFO", "event_name": "gen_ai.client.inference.operation.details",
            "body": {"stringValue": "hello"}, "trace_id": "", "span_id": "",
        }]}]}]}));
        let record = read(&document).unwrap();
        assert_eq!(record.signal, Signal::Log);
        assert_eq!(record.time_unix_nano, Some(1_795_696_205_000_000_000), "observed time when time is 0");
        assert_eq!(record.name.as_deref(), Some("gen_ai.client.inference.operation.details"));
        assert_eq!(record.severity_number, Some(9));
        assert_eq!(record.body, Some(json!("hello")));
        assert_eq!((record.trace_id, record.span_id), (None, None));
        assert_eq!(span_kind(&json!("SPAN_KIND_CLIENT")), Some("client"));
        assert_eq!(status_code(&json!("STATUS_CODE_OK")), Status::Ok);
    }

    #[test]
    fn exactly_one_record_or_span() {
        let two = doc(json!({
            "resourceLogs": [{"scopeLogs": [{"logRecords": [{}]}]}],
            "resourceSpans": [{"scopeSpans": [{"spans": [{}]}]}],
        }));
        let reason = read(&two).unwrap_err();
        assert!(reason.starts_with("OTLP/JSON document holds 2 log records and spans"), "{reason}");
        assert!(reason.contains("cannot split an event into several yet"), "{reason}");
        let none = doc(json!({"resourceSpans": [{"scopeSpans": [{"spans": []}]}]}));
        assert_eq!(read(&none).unwrap_err(), "OTLP/JSON document holds no log record and no span");
        let bad = doc(json!({"resourceSpans": {"scopeSpans": []}}));
        assert!(read(&bad).unwrap_err().starts_with("OTLP/JSON `resourceSpans` must be a list"));
    }

    #[test]
    fn recognises_otlp_documents() {
        assert!(is_otlp(&doc(json!({"resourceLogs": []}))));
        assert!(is_otlp(&doc(json!({"resource_spans": []}))));
        assert!(!is_otlp(&doc(json!({"event": "prompt", "agent": "a"}))));
    }
}
