//! The OCSF objects built from the canonical event: the agent (as actor,
//! user, application, endpoint agent), the principal it acts for, the
//! endpoints and URL, the API call, the AI model and message context, the
//! authorization decision, and `metadata`.
//!
//! Each builder takes what it maps through [`Source`], so whatever no builder
//! took ends up in `unmapped`. OCSF 1.8.0 has no `ai_agent` object (it arrives
//! in 1.9.0), so the agent is spread over the places 1.8.0 does have; the
//! crate's mapping table lists them.

use crate::config::Settings;
use crate::source::Source;
use crate::url;
use crate::vocabulary::{ACTION, AI_AGENT_TYPE, AI_ROLE, Class, DATABASE_TYPE, DISPOSITION, OTHER, SCHEMA_VERSION};
use crate::vocabulary::{USER_TYPE, caption};
use serde_json::{Map, Value, json};
use sluice_plugin::time::Timestamp;

pub type Object = Map<String, Value>;

/// Insert `value` under `key` when there is one.
pub fn put(object: &mut Object, key: &str, value: Option<impl Into<Value>>) {
    if let Some(value) = value {
        object.insert(key.to_owned(), value.into());
    }
}

/// An id and its caption, as OCSF writes enum siblings (`severity_id` and
/// `severity`).
pub fn put_enum(object: &mut Object, key: &str, table: &[(u32, &'static str)], id: u32) {
    object.insert(format!("{key}_id"), json!(id));
    object.insert(key.to_owned(), json!(caption(table, id)));
}

/// The agent's id; the canonical schema requires one, and an event that
/// skipped the normaliser gets the normaliser's own word for a missing one.
fn agent_id(source: &Source) -> String {
    source.text("agent.id").unwrap_or_else(|| "unknown".to_owned())
}

/// `actor`: the agent as the acting application (`app_uid`, `app_name`), the
/// principal it acts for as `user`, its session, and the authorization
/// decision (where OCSF 1.9 will look for an agent's decisions too).
pub fn actor(source: &Source) -> Value {
    let mut actor = Object::new();
    actor.insert("app_uid".into(), json!(agent_id(source)));
    put(&mut actor, "app_name", source.text("agent.name"));
    put(&mut actor, "user", principal(source));
    put(&mut actor, "session", session(source));
    put(&mut actor, "authorizations", authorizations(source));
    Value::Object(actor)
}

/// `session` with the agent session's id.
pub fn session(source: &Source) -> Option<Value> {
    source.text("session.id").map(|id| json!({"uid": id}))
}

/// The principal the agent acts for (`delegation.on_behalf_of`) as a `user`,
/// typed by `delegation.type`.
fn principal(source: &Source) -> Option<Value> {
    let mut user = Object::new();
    user.insert("uid".into(), json!(source.text("delegation.on_behalf_of")?));
    let typed = match source.peek_text("delegation.type").as_deref() {
        Some("user") => Some((1, caption(USER_TYPE, 1))),
        Some("system") => Some((3, caption(USER_TYPE, 3))),
        Some("agent") => Some((OTHER, AI_AGENT_TYPE)),
        _ => None,
    };
    if let Some((type_id, type_name)) = typed {
        source.take("delegation.type");
        user.insert("type_id".into(), json!(type_id));
        user.insert("type".into(), json!(type_name));
    }
    Some(Value::Object(user))
}

/// The agent as the `user` that authenticates (Authentication's subject).
pub fn agent_as_user(source: &Source) -> Value {
    let mut user = Object::new();
    user.insert("uid".into(), json!(agent_id(source)));
    put(&mut user, "name", source.text("agent.name"));
    user.insert("type_id".into(), json!(OTHER));
    user.insert("type".into(), json!(AI_AGENT_TYPE));
    Value::Object(user)
}

/// The agent as a `product` (Application Lifecycle's `app`) or an
/// `application` (`message_context.application`): both take uid, name and
/// version.
pub fn agent_as_app(source: &Source) -> Value {
    let mut app = Object::new();
    app.insert("uid".into(), json!(agent_id(source)));
    put(&mut app, "name", source.text("agent.name"));
    put(&mut app, "version", source.text("agent.version"));
    Value::Object(app)
}

/// `src_endpoint`: where the agent runs. `svc_name` is the agent (the caller
/// in a service-to-service call), `agent_list` holds the agent with its
/// version, and `hostname` (or `ip`) is the syslog sender's when known.
pub fn src_endpoint(source: &Source) -> Value {
    let mut endpoint = Object::new();
    endpoint.insert("svc_name".into(), json!(agent_id(source)));
    if let Some(host) = source.text("syslog.hostname") {
        let (key, value) = url::endpoint_host(&host);
        endpoint.insert(key.into(), json!(value));
    }
    let mut agent = Object::new();
    agent.insert("uid".into(), json!(agent_id(source)));
    put(&mut agent, "name", source.text("agent.name"));
    put(&mut agent, "version", source.text("agent.version"));
    agent.insert("type_id".into(), json!(OTHER));
    agent.insert("type".into(), json!(AI_AGENT_TYPE));
    endpoint.insert("agent_list".into(), json!([agent]));
    Value::Object(endpoint)
}

/// `dst_endpoint`: the destination's host (or the host of its URL), its
/// address and port when the source sent them (`destination.ip`,
/// `destination.port`: not canonical, but common), and its service.
pub fn dst_endpoint(source: &Source) -> Option<Value> {
    let mut endpoint = Object::new();
    let host = source
        .text("destination.host")
        .or_else(|| source.peek_text("destination.url").and_then(|u| url::host_of(&u).map(str::to_owned)));
    if let Some(host) = host {
        let (key, value) = url::endpoint_host(&host);
        endpoint.insert(key.into(), json!(value));
    }
    // An address that is not one stays unmapped rather than break `ip_t`.
    if let Some(("ip", ip)) = source.peek_text("destination.ip").as_deref().map(url::endpoint_host) {
        source.take("destination.ip");
        endpoint.insert("ip".into(), json!(ip));
    }
    let port = match source.peek("destination.port") {
        Some(Value::Number(number)) => number.as_u64(),
        Some(Value::String(text)) => text.trim().parse().ok(),
        _ => None,
    };
    if let Some(port) = port.filter(|p| *p <= u64::from(u16::MAX)) {
        source.take("destination.port");
        endpoint.insert("port".into(), json!(port));
    }
    put(&mut endpoint, "svc_name", source.text("destination.service"));
    (!endpoint.is_empty()).then_some(Value::Object(endpoint))
}

/// `http_request` for `destination.url`, with the method when an HTTP tool's
/// name says it (`http.post`).
pub fn http_request(source: &Source) -> Option<Value> {
    let url = source.text("destination.url")?;
    let mut request = Object::new();
    request.insert("url".into(), url::url_object(&url));
    put(&mut request, "http_method", http_method(source));
    Some(Value::Object(request))
}

fn http_method(source: &Source) -> Option<&'static str> {
    const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
    let name = source.peek_text("tool.name")?.to_ascii_uppercase();
    let words: Vec<&str> = name.split(|c: char| !c.is_ascii_alphanumeric()).collect();
    if !words.iter().any(|w| *w == "HTTP" || *w == "HTTPS") {
        return None;
    }
    words.iter().find_map(|w| METHODS.iter().find(|m| *m == w)).copied()
}

/// `url` for `destination.url` (a finding's evidence has no `http_request`).
pub fn url(source: &Source) -> Option<Value> {
    source.text("destination.url").map(|text| url::url_object(&text))
}

/// `api`: the operation, the service, and the request and response with the
/// content the event carries.
///
/// The operation is the tool's name for tool calls (falling back to the
/// action); for prompts, reasoning and output it is the OpenTelemetry GenAI
/// operation (`gen_ai.operation.name`) that carries them: `invoke_agent` for a
/// prompt and the agent's output, `chat` for the model's reasoning.
pub fn api(source: &Source) -> Value {
    let kind = source.peek_text("event.kind").unwrap_or_default();
    let operation = match kind.as_str() {
        "prompt" | "output" => "invoke_agent".to_owned(),
        "reasoning" => "chat".to_owned(),
        _ => source.text("tool.name").or_else(|| source.text("event.action")).unwrap_or_else(|| {
            match kind.as_str() {
                "tool_call" => "execute_tool",
                "api_call" => "api_call",
                "authz" => "authorize",
                "error" => "error",
                _ => "unknown",
            }
            .to_owned()
        }),
    };
    let mut api = Object::new();
    api.insert("operation".into(), json!(operation));
    put(&mut api, "service", source.text("destination.service").map(|name| json!({"name": name})));

    let mut request = Object::new();
    request.insert("uid".into(), json!(source.text("tool.call_id").unwrap_or_else(|| source.event_uid())));
    let mut data = Object::new();
    put(&mut data, "arguments", source.take("tool.arguments").cloned());
    put(&mut data, "prompt", source.take("prompt.text").cloned());
    put(&mut request, "data", (!data.is_empty()).then_some(Value::Object(data)));
    api.insert("request".into(), Value::Object(request));

    let mut response = Object::new();
    let mut data = Object::new();
    put(&mut data, "result", source.take("tool.result").cloned());
    put(&mut data, "reasoning", source.take("reasoning.summary").cloned());
    put(&mut data, "output", source.take("output.text").cloned());
    put(&mut data, "action", source.take("output.action").cloned());
    put(&mut response, "data", (!data.is_empty()).then_some(Value::Object(data)));
    put(&mut response, "error", source.text("error.type"));
    put(&mut response, "error_message", source.text("error.message"));
    put(&mut api, "response", (!response.is_empty()).then_some(Value::Object(response)));
    Value::Object(api)
}

/// `ai_model` (AI Operation profile) for `agent.model`. OCSF requires the
/// provider, which the canonical schema does not name: `agent.provider` when
/// the source sent one, else `unknown`.
pub fn ai_model(source: &Source) -> Option<Value> {
    let name = source.text("agent.model")?;
    let provider = source.text("agent.provider").unwrap_or_else(|| "unknown".to_owned());
    Some(json!({"name": name, "ai_provider": provider}))
}

/// `message_context` (AI Operation profile): whose turn the event is, with
/// the agent as the application.
pub fn message_context(source: &Source) -> Option<Value> {
    let role = match source.peek_text("event.kind")?.as_str() {
        "prompt" => 1,
        "reasoning" | "output" => 2,
        "retrieval" => 6,
        _ => return None,
    };
    let mut context = Object::new();
    put_enum(&mut context, "ai_role", AI_ROLE, role);
    context.insert("application".into(), agent_as_app(source));
    Some(Value::Object(context))
}

/// `database` for a retrieval's source. Its `type_id` is required, and read
/// from the scheme a source is written with (`pgvector://…`, `vector:…`,
/// `postgres://…`); any other source is of type Unknown.
pub fn database(source: &Source) -> Value {
    let name = source.text("retrieval.source");
    let scheme = name.as_deref().and_then(|n| n.split_once(':')).map(|(scheme, _)| scheme.to_ascii_lowercase());
    let type_id = match scheme.as_deref() {
        Some(s) if s.contains("vector") => 7,
        Some(s) if s.contains("graph") || s == "neo4j" || s == "kg" => 8,
        Some("postgres" | "postgresql" | "mysql" | "mariadb" | "mssql" | "sqlserver" | "oracle" | "sqlite") => 1,
        Some("mongodb" | "mongodb+srv" | "redis" | "rediss" | "dynamodb" | "cassandra" | "elasticsearch") => 6,
        _ => 0,
    };
    let mut database = Object::new();
    // OCSF needs a name or uid; a retrieval from an unnamed source is still one.
    database.insert("name".into(), json!(name.unwrap_or_else(|| "unknown".to_owned())));
    put_enum(&mut database, "type", DATABASE_TYPE, type_id);
    Value::Object(database)
}

/// `authorizations`: the decision and the policy that made it.
pub fn authorizations(source: &Source) -> Option<Value> {
    let mut authorization = Object::new();
    put(&mut authorization, "decision", source.text("authz.decision"));
    put(&mut authorization, "policy", source.text("authz.policy").map(|name| json!({"name": name})));
    (!authorization.is_empty()).then(|| json!([authorization]))
}

/// The Security Control profile's view of the decision: `action_id`,
/// `disposition_id` and `policy`.
pub fn security_control(source: &Source, event: &mut Object) {
    let decision = match source.peek_text("authz.decision").as_deref() {
        Some("allow") => Some((1, 1)),
        Some("deny") => Some((2, 2)),
        _ => None,
    };
    if let Some((action, disposition)) = decision {
        source.take("authz.decision");
        put_enum(event, "action", ACTION, action);
        put_enum(event, "disposition", DISPOSITION, disposition);
    }
    put(event, "policy", source.text("authz.policy").map(|name| json!({"name": name})));
}

/// `metadata`: schema version, product, profiles, and the event's own ids.
pub fn metadata(source: &Source, settings: &Settings, class: Class) -> Value {
    let product = &settings.product;
    let mut metadata = Object::new();
    metadata.insert("version".into(), json!(SCHEMA_VERSION));
    metadata.insert(
        "product".into(),
        json!({"name": product.name, "vendor_name": product.vendor_name, "version": product.version}),
    );
    metadata.insert("profiles".into(), json!(class.profiles()));
    metadata.insert("uid".into(), json!(source.event_uid()));
    put(&mut metadata, "event_code", source.text("event.kind"));
    put(&mut metadata, "tenant_uid", source.text("tenant.id"));
    put(&mut metadata, "correlation_uid", source.text("trace.id"));
    if let Some(Value::String(text)) = source.peek("time") {
        metadata.insert("original_time".into(), json!(text));
    }
    // When the router received the event; text that is no time stays unmapped.
    if let Some(millis) = source.peek("received_at").and_then(epoch_millis) {
        source.take("received_at");
        metadata.insert("logged_time".into(), json!(millis));
    }
    match source.peek("labels") {
        Some(Value::Array(items)) => {
            source.take("labels");
            let labels: Vec<String> = items.iter().map(label_text).collect();
            metadata.insert("labels".into(), json!(labels));
        }
        Some(Value::Object(map)) => {
            source.take("labels");
            let tags: Vec<Value> = map.iter().map(|(name, value)| tag(name, value)).collect();
            metadata.insert("tags".into(), json!(tags));
        }
        Some(Value::String(text)) => {
            source.take("labels");
            metadata.insert("labels".into(), json!([text]));
        }
        _ => {}
    }
    Value::Object(metadata)
}

fn label_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// A label map's entry as a `key_value_object`: a list of strings as
/// `values`, anything else as one `value`.
fn tag(name: &str, value: &Value) -> Value {
    match value {
        Value::Array(items) => json!({"name": name, "values": items.iter().map(label_text).collect::<Vec<_>>()}),
        other => json!({"name": name, "value": label_text(other)}),
    }
}

/// An RFC 3339 text or epoch number as epoch milliseconds.
pub fn epoch_millis(value: &Value) -> Option<i64> {
    match value {
        Value::String(text) => Timestamp::parse_rfc3339(text),
        Value::Number(number) => Timestamp::from_epoch(number),
        _ => None,
    }
    .map(|time| time.epoch_millis())
}
