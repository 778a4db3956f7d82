//! The mapping, attribute by attribute, through the plugin's public face:
//! nothing sent is lost, the agent's identity is on every event, decisions,
//! severities and times come out as the crate's table says, and the config
//! and failure paths behave.

mod common;

use serde_json::{Value, json};
use sluice_plugin::{Outcome, Plugin};
use sluice_plugin_ocsf::Ocsf;

/// The canonical (and common non-canonical) paths the plugin maps into OCSF
/// attributes; the crate doc's field table lists the same. Anything else
/// must reach `unmapped`.
const MAPPED: &[&str] = &[
    "time",
    "received_at",
    "event.id",
    "event.kind",
    "event.action",
    "event.outcome",
    "event.severity",
    "agent.id",
    "agent.name",
    "agent.version",
    "agent.model",
    "agent.provider",
    "tenant.id",
    "authz.decision",
    "authz.policy",
    "authz.reason",
    "delegation.on_behalf_of",
    "delegation.type",
    "session.id",
    "trace.id",
    "prompt.text",
    "reasoning.summary",
    "output.text",
    "output.action",
    "tool.name",
    "tool.call_id",
    "tool.arguments",
    "tool.result",
    "error.type",
    "error.message",
    "destination.service",
    "destination.host",
    "destination.ip",
    "destination.port",
    "destination.url",
    "retrieval.source",
    "labels",
    "syslog.hostname",
];

fn leaves(value: &Value, path: String, out: &mut Vec<(String, Value)>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, inner) in map {
                let path = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                leaves(inner, path, out);
            }
        }
        leaf => out.push((path, leaf.clone())),
    }
}

fn at<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(value, |v, key| v.get(key))
}

#[test]
fn every_field_is_mapped_or_kept_in_unmapped() {
    for event in common::all_events() {
        let output = common::emit(&json!({}), &event);
        let unmapped = output.get("unmapped").cloned().unwrap_or(json!({}));
        let mut sent = Vec::new();
        leaves(&event, String::new(), &mut sent);
        for (path, value) in sent {
            if let Some(kept) = at(&unmapped, &path) {
                assert_eq!(kept, &value, "{path} changed on its way to unmapped in {output}");
                continue;
            }
            let mapped = MAPPED.iter().any(|m| path == *m || path.starts_with(&format!("{m}.")));
            assert!(mapped, "{path} = {value} is neither mapped nor in unmapped: {output}");
        }
        // And `unmapped` holds nothing that was not sent.
        let mut kept = Vec::new();
        if unmapped != json!({}) {
            leaves(&unmapped, String::new(), &mut kept);
        }
        for (path, value) in kept {
            assert_eq!(at(&event, &path), Some(&value), "unmapped.{path} was not in the event");
        }
    }
}

/// A scalar as the plugin writes it into a string attribute: numbers and
/// booleans as text, blank text as nothing.
fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()).filter(|t| !t.trim().is_empty()),
        Value::Number(_) | Value::Bool(_) => Some(value.to_string()),
        _ => None,
    }
}

#[test]
fn the_agent_is_bound_to_every_event() {
    for event in common::all_events() {
        let output = common::emit(&json!({}), &event);
        let agent_id = text(&event["agent"]["id"]).unwrap_or_else(|| "unknown".to_owned());
        let actor = match output["class_uid"].as_u64().unwrap() {
            6002 => {
                assert_eq!(output["app"]["uid"], agent_id);
                continue;
            }
            2004 => &output["evidences"][0]["actor"],
            _ => &output["actor"],
        };
        assert_eq!(actor["app_uid"], agent_id, "{output}");
        assert_eq!(text(&output["metadata"]["tenant_uid"]), text(&event["tenant"]["id"]), "{output}");
        assert_eq!(text(&actor["user"]["uid"]), text(&event["delegation"]["on_behalf_of"]), "{output}");
        assert_eq!(text(&actor["app_name"]), text(&event["agent"]["name"]), "{output}");
    }
}

#[test]
fn decisions_become_actions_dispositions_and_authorizations() {
    for event in common::all_events() {
        let output = common::emit(&json!({}), &event);
        let (action, disposition) = match event["authz"]["decision"].as_str() {
            Some("allow") => (1, 1),
            Some("deny") => (2, 2),
            _ => {
                assert!(output.get("action_id").is_none(), "{output}");
                continue;
            }
        };
        assert_eq!(output["action_id"], action, "{output}");
        assert_eq!(output["disposition_id"], disposition, "{output}");
        let authorizations = match output["class_uid"].as_u64().unwrap() {
            6002 => &output["authorizations"],
            2004 => &output["evidences"][0]["actor"]["authorizations"],
            _ => &output["actor"]["authorizations"],
        };
        assert_eq!(authorizations[0]["decision"], event["authz"]["decision"]);
        if let Some(policy) = event["authz"]["policy"].as_str() {
            assert_eq!(authorizations[0]["policy"]["name"], policy);
            assert_eq!(output["policy"]["name"], policy);
        }
    }
}

fn minimal(extra: Value) -> Value {
    let mut event = json!({"time": "2026-11-26T12:00:00Z", "event": {"kind": "tool_call", "id": "e"},
                           "agent": {"id": "a"}});
    for (key, value) in extra.as_object().unwrap() {
        event[key] = value.clone();
    }
    event
}

#[test]
fn severities_fall_in_ocsf_bands() {
    let cases = [
        (json!(0), 1),
        (json!(1), 1),
        (json!(2), 2),
        (json!(3), 2),
        (json!(4), 3),
        (json!(6.4), 3),
        (json!(7), 4),
        (json!(8), 4),
        (json!(9), 5),
        (json!(10), 5),
        (json!(12), 5),
        (json!(-3), 1),
        (json!("7"), 4),
        (json!("High"), 4),
        (json!("informational"), 1),
        (json!("severe"), 0),
        (json!(null), 0),
    ];
    for (severity, expected) in cases {
        let output = common::emit(&json!({}), &minimal(json!({"event": {"kind": "output", "severity": severity}})));
        assert_eq!(output["severity_id"], expected, "severity {severity}");
    }
}

#[test]
fn times_are_epoch_milliseconds_with_the_original_kept() {
    let output = common::emit(&json!({}), &minimal(json!({"time": "2026-11-26T14:30:05.1+02:00"})));
    assert_eq!(output["time"], 1_795_696_205_100_i64);
    assert_eq!(output["metadata"]["original_time"], "2026-11-26T14:30:05.1+02:00");
    let output =
        common::emit(&json!({}), &minimal(json!({"time": 1_795_696_205, "received_at": "1970-01-01T00:00:01Z"})));
    assert_eq!(output["time"], 1_795_696_205_000_i64);
    assert_eq!(output["metadata"]["logged_time"], 1000);
    assert!(output["metadata"].get("original_time").is_none());
}

#[test]
fn outcomes_become_statuses() {
    for (outcome, id, caption) in
        [("success", 1, "Success"), ("failure", 2, "Failure"), ("unknown", 0, "Unknown"), ("partial", 99, "partial")]
    {
        let output = common::emit(&json!({}), &minimal(json!({"event": {"kind": "api_call", "outcome": outcome}})));
        assert_eq!((output["status_id"].clone(), output["status"].clone()), (json!(id), json!(caption)));
    }
}

#[test]
fn unmapped_can_be_left_out_and_nothing_else_changes() {
    for event in common::all_events() {
        let mut with = common::emit(&json!({}), &event);
        let without = common::emit(&json!({"include_unmapped": false}), &event);
        assert!(without.get("unmapped").is_none());
        with.as_object_mut().unwrap().remove("unmapped");
        assert_eq!(with, without);
    }
}

#[test]
fn the_product_is_sluice_unless_configured() {
    let event = minimal(json!({}));
    let product = &common::emit(&json!({}), &event)["metadata"]["product"];
    assert_eq!(product, &json!({"name": "sluice", "vendor_name": "sluice", "version": env!("CARGO_PKG_VERSION")}));
    let config = json!({"product": {"name": "gw", "vendor_name": "Acme", "version": "2"}});
    let product = &common::emit(&config, &event)["metadata"]["product"];
    assert_eq!(product, &json!({"name": "gw", "vendor_name": "Acme", "version": "2"}));
}

#[test]
fn what_cannot_become_ocsf_fails_with_a_reason() {
    let mut plugin = Ocsf::configure(json!({})).unwrap();
    let reason = |outcome: Outcome| match outcome {
        Outcome::Fail(reason) => reason,
        other => panic!("expected a failure, got {other:?}"),
    };
    assert!(reason(plugin.process("{not json")).contains("not valid JSON"));
    assert!(reason(plugin.process("[1]")).contains("not an object"));
    let untimed = json!({"event": {"kind": "prompt"}, "agent": {"id": "a"}}).to_string();
    assert!(reason(plugin.process(&untimed)).contains("no `time`"));
    let bad_time = json!({"time": "yesterday", "event": {"kind": "prompt"}, "agent": {"id": "a"}}).to_string();
    assert!(reason(plugin.process(&bad_time)).contains("no `time`"));
    assert!(Ocsf::configure(json!({"product": {"vendor": "x"}})).err().unwrap().contains("`product.vendor`"));
}

#[test]
fn genai_operations_and_content() {
    let cases = [
        ("prompt", json!({"prompt": {"text": "hi"}}), "invoke_agent", "request", "prompt", 1),
        ("reasoning", json!({"reasoning": {"summary": "think"}}), "chat", "response", "reasoning", 2),
        ("output", json!({"output": {"text": "done"}}), "invoke_agent", "response", "output", 2),
    ];
    for (kind, content, operation, side, key, role) in cases {
        let mut event = minimal(content.clone());
        event["event"]["kind"] = json!(kind);
        let output = common::emit(&json!({}), &event);
        assert_eq!(output["class_uid"], 6003);
        assert_eq!(output["api"]["operation"], operation, "{kind}");
        let text = content.as_object().unwrap().values().next().unwrap().as_object().unwrap().values().next();
        assert_eq!(output["api"][side]["data"][key], *text.unwrap(), "{kind}");
        assert_eq!(output["message_context"]["ai_role_id"], role, "{kind}");
        assert_eq!(output["activity_id"], 99);
        assert_eq!(output["activity_name"], kind);
    }
}

/// Attributes that say where an event came from (`metadata.logged_time`,
/// `src_endpoint.hostname`) read the router's fields. What an agent claimed
/// about them, which `agent-event` keeps under `agent_claimed`, stays there:
/// in `unmapped.agent_claimed`, never in an attribute, not even where the
/// router sent nothing (a file source sends no syslog header).
#[test]
fn provenance_attributes_carry_the_router_s_values_never_the_agent_s_claims() {
    let claims = json!({"source": {"path": "/forged", "address": "203.0.113.66:514"},
                        "received_at": "1999-01-01T00:00:00Z", "syslog": {"hostname": "trusted-gw"}});
    let event = minimal(json!({"received_at": "2026-11-26T12:00:01Z",
                               "source": {"id": "files", "path": "/var/log/agents.jsonl"}, "agent_claimed": claims}));
    let output = common::emit(&json!({}), &event);
    assert_eq!(output["metadata"]["logged_time"], 1_795_694_401_000_i64);
    assert!(output["src_endpoint"].get("hostname").is_none() && output["src_endpoint"].get("ip").is_none());
    assert_eq!(output["unmapped"]["source"], json!({"id": "files", "path": "/var/log/agents.jsonl"}));
    assert_eq!(output["unmapped"]["agent_claimed"], claims);
    let mut rest = output.clone();
    rest["unmapped"].as_object_mut().unwrap().remove("agent_claimed");
    for forged in ["/forged", "203.0.113.66", "trusted-gw", "1999-01-01", "915148800000"] {
        assert!(!rest.to_string().contains(forged), "{forged} outside unmapped.agent_claimed: {output}");
    }
    // With a syslog header, the sender's host is the router's.
    let event = minimal(json!({"syslog": {"hostname": "gw-1"}, "agent_claimed": claims}));
    assert_eq!(common::emit(&json!({}), &event)["src_endpoint"]["hostname"], "gw-1");
}
