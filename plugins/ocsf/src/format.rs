//! Assembling one OCSF event from a canonical agent event: the
//! classification and base attributes every class shares, then the
//! attributes of the event's class, then `unmapped`.

use crate::classify::{Classification, classify};
use crate::config::Settings;
use crate::objects::{self, Object, put, put_enum};
use crate::source::Source;
use crate::vocabulary::{Class, FINDING_STATUS, OTHER, SEVERITY, STATUS};
use serde_json::{Map, Value, json};

/// The OCSF event for `event`, as one compact JSON line, or why there is
/// none.
pub fn format(settings: &Settings, event: &Map<String, Value>) -> Result<String, String> {
    let source = Source::new(event);
    let Classification { class, activity_id } = classify(&source);
    let mut out = Object::new();
    base(&source, settings, class, activity_id, &mut out)?;
    match class {
        Class::ApiActivity => api_activity(&source, &mut out),
        Class::DatastoreActivity => datastore_activity(&source, &mut out),
        Class::Authentication => authentication(&source, &mut out),
        Class::ApplicationLifecycle => application_lifecycle(&source, &mut out),
        Class::DetectionFinding => detection_finding(&source, &mut out),
    }
    if class != Class::DetectionFinding {
        activity_status(&source, &mut out);
    }
    objects::security_control(&source, &mut out);
    // Last: `unmapped` is whatever the steps above did not take.
    let rest = source.remainder();
    if settings.include_unmapped && !rest.is_empty() {
        out.insert("unmapped".into(), Value::Object(rest));
    }
    serde_json::to_string(&out).map_err(|err| format!("OCSF event cannot be serialised: {err}"))
}

/// Classification, time, severity, message and metadata: the attributes of
/// every class.
fn base(source: &Source, settings: &Settings, class: Class, activity_id: u32, out: &mut Object) -> Result<(), String> {
    let (category_uid, category_name) = class.category();
    out.insert("class_uid".into(), json!(class.uid()));
    out.insert("class_name".into(), json!(class.caption()));
    out.insert("category_uid".into(), json!(category_uid));
    out.insert("category_name".into(), json!(category_name));
    out.insert("activity_id".into(), json!(activity_id));
    // Other (99) is named by the source: its action, or failing that its kind.
    let activity_name = match activity_id {
        OTHER => source.text("event.action").or_else(|| source.peek_text("event.kind")),
        _ => None,
    };
    out.insert("activity_name".into(), json!(activity_name.as_deref().unwrap_or(class.activity_caption(activity_id))));
    out.insert("type_uid".into(), json!(u64::from(class.uid()) * 100 + u64::from(activity_id)));
    out.insert("type_name".into(), json!(format!("{}: {}", class.caption(), class.activity_caption(activity_id))));

    // OCSF requires a time; an event from the normaliser always has one, and
    // the router's receive time stands in for it otherwise.
    let time = match source.peek("time").and_then(objects::epoch_millis) {
        Some(millis) => {
            source.take("time");
            millis
        }
        None => source.peek("received_at").and_then(objects::epoch_millis).ok_or_else(|| {
            "event has no `time` (RFC 3339 or epoch) nor `received_at`: OCSF requires one (run agent-event first)"
                .to_owned()
        })?,
    };
    out.insert("time".into(), json!(time));
    put_enum(out, "severity", SEVERITY, severity_id(source));
    put(out, "message", source.text("event.action"));
    out.insert("metadata".into(), objects::metadata(source, settings, class));
    Ok(())
}

/// OCSF `severity_id` for the canonical 0–10 scale, banded as CEF bands its
/// words (0–3 Low, 4–6 Medium, 7–8 High, 9–10 Very-High) with 0–1 split off
/// as Informational, the normaliser's default for routine events. Words are
/// read as the normaliser reads them, for events that skipped it.
fn severity_id(source: &Source) -> u32 {
    let Some(severity) = source.peek("event.severity").and_then(sluice_plugin::fields::severity) else { return 0 };
    source.take("event.severity");
    match severity.round().clamp(0.0, 10.0) as u8 {
        0..=1 => 1,
        2..=3 => 2,
        4..=6 => 3,
        7..=8 => 4,
        _ => 5,
    }
}

/// `status_id` from `event.outcome`, and `status_detail` from the decision's
/// reason or the error's message.
fn activity_status(source: &Source, out: &mut Object) {
    match source.text("event.outcome").as_deref() {
        Some("success") => put_enum(out, "status", STATUS, 1),
        Some("failure") => put_enum(out, "status", STATUS, 2),
        None | Some("unknown") => put_enum(out, "status", STATUS, 0),
        // Not a canonical outcome: OCSF's Other, named as the source named it.
        Some(other) => {
            out.insert("status_id".into(), json!(OTHER));
            out.insert("status".into(), json!(other));
        }
    }
    put(out, "status_detail", source.text("authz.reason").or_else(|| source.text("error.message")));
}

/// API Activity (6003).
fn api_activity(source: &Source, out: &mut Object) {
    out.insert("actor".into(), objects::actor(source));
    out.insert("src_endpoint".into(), objects::src_endpoint(source));
    put(out, "dst_endpoint", objects::dst_endpoint(source));
    put(out, "http_request", objects::http_request(source));
    out.insert("api".into(), objects::api(source));
    put(out, "ai_model", objects::ai_model(source));
    put(out, "message_context", objects::message_context(source));
    put(out, "trace", source.text("trace.id").map(|id| json!({"uid": id})));
}

/// Datastore Activity (6005).
fn datastore_activity(source: &Source, out: &mut Object) {
    out.insert("actor".into(), objects::actor(source));
    out.insert("src_endpoint".into(), objects::src_endpoint(source));
    put(out, "dst_endpoint", objects::dst_endpoint(source));
    put(out, "http_request", objects::http_request(source));
    out.insert("database".into(), objects::database(source));
    put(out, "ai_model", objects::ai_model(source));
    put(out, "message_context", objects::message_context(source));
}

/// Authentication (3002): the agent is the `user` that authenticates, to the
/// destination's service or endpoint.
fn authentication(source: &Source, out: &mut Object) {
    out.insert("user".into(), objects::agent_as_user(source));
    out.insert("actor".into(), objects::actor(source));
    out.insert("src_endpoint".into(), objects::src_endpoint(source));
    put(out, "session", objects::session(source));
    put(out, "http_request", objects::http_request(source));
    let service = source.text("destination.service");
    let dst_endpoint = objects::dst_endpoint(source);
    // OCSF needs the service or the endpoint authenticated to; an event that
    // names neither says so rather than leaving the class invalid.
    if dst_endpoint.is_none() || service.is_some() {
        out.insert("service".into(), json!({"name": service.unwrap_or_else(|| "unknown".to_owned())}));
    }
    put(out, "dst_endpoint", dst_endpoint);
}

/// Application Lifecycle (6002): the agent is the `app`. The class has no
/// actor, so the decision goes in the class's own `authorizations`.
fn application_lifecycle(source: &Source, out: &mut Object) {
    out.insert("app".into(), objects::agent_as_app(source));
    put(out, "authorizations", objects::authorizations(source));
}

/// Detection Finding (2004): an error a policy raised. The finding is New;
/// what the agent did is its evidence.
fn detection_finding(source: &Source, out: &mut Object) {
    let mut info = Object::new();
    info.insert("uid".into(), json!(source.event_uid()));
    let title = source.text("event.action").or_else(|| source.text("error.type"));
    info.insert("title".into(), json!(title.unwrap_or_else(|| "AI agent policy violation".to_owned())));
    put(&mut info, "desc", source.text("authz.reason").or_else(|| source.text("error.message")));
    put(&mut info, "types", source.peek_text("authz.policy").map(|_| json!(["AI Agent Policy Violation"])));
    out.insert("finding_info".into(), Value::Object(info));
    put_enum(out, "status", FINDING_STATUS, 1);
    out.insert("is_alert".into(), json!(true));

    let mut evidence = Object::new();
    evidence.insert("actor".into(), objects::actor(source));
    evidence.insert("src_endpoint".into(), objects::src_endpoint(source));
    put(&mut evidence, "dst_endpoint", objects::dst_endpoint(source));
    put(&mut evidence, "url", objects::url(source));
    evidence.insert("api".into(), objects::api(source));
    out.insert("evidences".into(), json!([evidence]));
}
