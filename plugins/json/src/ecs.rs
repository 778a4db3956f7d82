//! ECS-style field names (`ecs = true`), for Elastic.
//!
//! A canonical field moves to an Elastic Common Schema field only where that
//! field means the same thing; AI-specific fields go to ECS's `gen_ai.*` field
//! set (beta in ECS, mirroring OpenTelemetry's GenAI conventions) where it has
//! them. Two canonical names must move because ECS gives them another meaning:
//! ECS `agent.*` describes the shipper that collected the event (as CEF's
//! `agent*` keys describe the connector), and ECS `event.kind` takes only
//! `event`, `alert`, `metric` … So the AI agent lives in `gen_ai.agent`, and the
//! schema's kind becomes `event.action`, the source's own name for what
//! happened.
//!
//! | canonical | ECS-style | note |
//! | --- | --- | --- |
//! | `time` | `@timestamp` | |
//! | `received_at` | `event.created` | when the pipeline first read the event |
//! | `event.kind` | `event.action` | ECS `event.kind` is a fixed vocabulary the schema's kinds are not in |
//! | `event.action` | `message` | the human-readable description |
//! | `event.id`, `event.outcome`, `event.severity` | unchanged | same meaning and values in ECS |
//! | `agent.id`, `agent.name` | `gen_ai.agent.id`, `gen_ai.agent.name` | |
//! | `agent.model` | `gen_ai.request.model` | |
//! | `agent.*` (version, framework …) | `gen_ai.agent.*` | not ECS fields; kept beside the agent |
//! | `tenant.id` | `organization.id` | |
//! | `delegation.on_behalf_of` | `user.id` | the principal the agent acts for, as OpenTelemetry reads `user.id` |
//! | `authz.policy` | `rule.name` | the rule that decided |
//! | `authz.reason` | `event.reason` | |
//! | `trace.id` | unchanged | ECS |
//! | `trace.span_id` | `span.id` | ECS |
//! | `trace.parent_span_id` | `parent.id` | Elastic APM's name; not in ECS |
//! | `tool.name`, `tool.type` | `gen_ai.tool.name`, `gen_ai.tool.type` | |
//! | `tool.call_id` | `gen_ai.tool.call.id` | |
//! | `tool.arguments`, `tool.result` | `gen_ai.tool.call.arguments`, `gen_ai.tool.call.result` | |
//! | `destination.host` | `destination.domain` | |
//! | `destination.url` | `url.full` | |
//! | `destination.service` | `service.target.name` | |
//! | `destination.ip`, `destination.port`, `error.*` | unchanged | ECS |
//! | `labels` as a list | `tags` | ECS `labels` is a map; a map stays `labels` |
//! | `syslog.facility`, `syslog.severity` | `log.syslog.facility.code`, `log.syslog.severity.code` | |
//! | `syslog.app_name` | `log.syslog.appname` | |
//! | `syslog.*` (hostname, procid, msgid …) | `log.syslog.*` | `timestamp` and `format` are not ECS fields |
//! | `source.path` | `log.file.path` | |
//! | `source.*` (id, address) | `sluice.source.*` | ECS `source` is the activity's network peer, not the input |
//! | anything else | unchanged | see below |
//!
//! The fields left unchanged (`authz.decision`, `authz.scope`, `delegation.type`
//! and `.chain`, `session`, `prompt`, `reasoning`, `output`, `retrieval`, `data`,
//! `redaction` …) have no ECS field of the same meaning, and no ECS field set
//! uses their names.
//!
//! This is ECS-style naming, not a full ECS document: `event.kind`,
//! `event.category` and `event.type` are not derived and no `ecs.version` is
//! claimed. When an event already holds a field under the ECS name, the
//! canonical field keeps its own name instead, so nothing is overwritten.
//!
//! The exception is the ECS names that say how the event reached the router
//! ([`PROVENANCE`]): `event.created`, `log.syslog.*`, `log.file.path` and
//! `sluice.*` take only the router's own fields (`received_at`, `syslog`,
//! `source`), which the `agent-event` plugin keeps free of agent data.
//! Whatever else an event holds there — an agent's `event.created`, a nested
//! `log.syslog`, a flat `"sluice.source.address"`, or a `log` that is not an
//! object and so stands in the way — moves under `agent_claimed`, in the
//! nesting and with the names it came with, before any renaming. An agent
//! therefore cannot forge provenance by writing the ECS names directly.

use crate::tree;
use serde_json::{Map, Value};

/// ECS names that only the router's fields may take: at or under one of
/// these, nothing else stays.
const PROVENANCE: &[&str] = &["event.created", "log.syslog", "log.file.path", "sluice"];

/// Where what held a provenance name goes.
const CLAIMS: &str = "agent_claimed";

/// (canonical path, ECS-style path), applied in this order. A more specific
/// path comes before its object (`agent.model` before `agent`), which then
/// moves what is left; `event.action` moves before `event.kind` takes its name.
const RENAMES: &[(&str, &str)] = &[
    ("event.action", "message"),
    ("event.kind", "event.action"),
    ("time", "@timestamp"),
    ("received_at", "event.created"),
    ("authz.policy", "rule.name"),
    ("authz.reason", "event.reason"),
    ("agent.model", "gen_ai.request.model"),
    ("agent", "gen_ai.agent"),
    ("tenant.id", "organization.id"),
    ("delegation.on_behalf_of", "user.id"),
    ("trace.span_id", "span.id"),
    ("trace.parent_span_id", "parent.id"),
    ("tool.call_id", "gen_ai.tool.call.id"),
    ("tool.arguments", "gen_ai.tool.call.arguments"),
    ("tool.result", "gen_ai.tool.call.result"),
    ("tool", "gen_ai.tool"),
    ("destination.host", "destination.domain"),
    ("destination.url", "url.full"),
    ("destination.service", "service.target.name"),
    ("syslog.facility", "log.syslog.facility.code"),
    ("syslog.severity", "log.syslog.severity.code"),
    ("syslog.app_name", "log.syslog.appname"),
    ("syslog", "log.syslog"),
    ("source.path", "log.file.path"),
    ("source", "sluice.source"),
];

/// Rename the canonical fields of `event` to their ECS-style names, or say
/// why an ECS provenance name cannot be cleared (`agent_claimed` holds
/// something else where its occupant would go).
pub fn rename(event: &mut Map<String, Value>) -> Result<(), String> {
    set_aside_claims(event)?;
    if matches!(event.get("labels"), Some(Value::Array(_))) {
        let labels = event.remove("labels").expect("just seen");
        if let Err(labels) = tree::put(event, "tags", labels) {
            event.insert("labels".to_owned(), labels);
        }
    }
    // Everything is taken out before anything is put in, so a name freed by
    // one rename (`event.action`) can take another field (`event.kind`).
    let taken: Vec<(usize, Value)> =
        RENAMES.iter().enumerate().filter_map(|(i, (from, _))| Some((i, tree::take(event, from)?))).collect();
    for (i, value) in taken {
        let (from, to) = RENAMES[i];
        if let Err(kept) = tree::put(event, to, value) {
            // The ECS name is already used by a field the event brought along:
            // this field stays under its canonical name. That name is free,
            // since no earlier rename puts anything there (a test checks it).
            tree::put(event, from, kept).expect("a canonical path no earlier rename writes to");
        }
    }
    Ok(())
}

/// Move whatever holds a provenance name, or stands in the way of one, under
/// `agent_claimed`.
fn set_aside_claims(event: &mut Map<String, Value>) -> Result<(), String> {
    let mut claims = Vec::new();
    take_claims(event, "", &mut Vec::new(), &mut claims);
    for (keys, value) in claims {
        let at: Vec<&str> = std::iter::once(CLAIMS).chain(keys.iter().map(String::as_str)).collect();
        tree::put_at(event, &at, value).map_err(|_| {
            format!(
                "event holds `{}`, an ECS name that only the router's fields may take, and `{CLAIMS}` \
                 has no room to keep it",
                keys.join(".")
            )
        })?;
    }
    Ok(())
}

/// How a member stands to the provenance names.
#[derive(PartialEq)]
enum Relation {
    /// At or under one: it moves.
    Claim,
    /// On the way to one (`log` for `log.syslog`): an object is looked into,
    /// anything else moves.
    OnTheWay,
    Unrelated,
}

/// How member `key` of the object at dotted `prefix` ("" at the top) stands.
/// Names are compared in place, as most members are far from any provenance
/// name and this runs on every event.
fn relation(prefix: &str, key: &str) -> Relation {
    let relative = |name: &'static str| match prefix {
        "" => Some(name),
        _ => name.strip_prefix(prefix).and_then(|rest| rest.strip_prefix('.')),
    };
    let within = |outer: &str, inner: &str| {
        inner.strip_prefix(outer).is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
    };
    let names = || PROVENANCE.iter().filter_map(|name| relative(name));
    if names().any(|name| within(name, key)) {
        Relation::Claim
    } else if names().any(|name| within(key, name)) {
        Relation::OnTheWay
    } else {
        Relation::Unrelated
    }
}

/// Take the claims out of `map`, the object at dotted `prefix`, reached from
/// the top through `keys`; each claim with the keys that lead to it.
fn take_claims(
    map: &mut Map<String, Value>,
    prefix: &str,
    keys: &mut Vec<String>,
    claims: &mut Vec<(Vec<String>, Value)>,
) {
    let found: Vec<(String, Relation)> = map
        .keys()
        .filter_map(|key| match relation(prefix, key) {
            Relation::Unrelated => None,
            relation => Some((key.clone(), relation)),
        })
        .collect();
    for (key, relation) in found {
        keys.push(key.clone());
        match (relation, map.get_mut(&key)) {
            (Relation::OnTheWay, Some(Value::Object(child))) => {
                let inner = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
                let before = child.len();
                take_claims(child, &inner, keys, claims);
                // Left empty by the taking (not sent empty): it goes too.
                if child.is_empty() && before > 0 {
                    map.remove(&key);
                }
            }
            _ => claims.push((keys.clone(), map.remove(&key).expect("a key listed above"))),
        }
        keys.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn renamed(event: Value) -> Value {
        let mut map = event.as_object().unwrap().clone();
        let _ = rename(&mut map);
        Value::Object(map)
    }

    fn overlaps(a: &str, b: &str) -> bool {
        a == b || a.starts_with(&format!("{b}.")) || b.starts_with(&format!("{a}."))
    }

    #[test]
    fn no_rename_writes_where_a_later_one_must_put_back() {
        for (j, (from, _)) in RENAMES.iter().enumerate() {
            for (_, to) in &RENAMES[..j] {
                assert!(!overlaps(to, from), "`{to}` is written before `{from}` may have to go back there");
            }
        }
    }

    #[test]
    fn the_table_applies_to_a_full_event() {
        let event = json!({
            "time": "2026-11-26T12:30:05Z", "received_at": "2026-11-26T12:30:06Z",
            "event": {"id": "e1", "kind": "tool_call", "action": "Tool invoked", "outcome": "failure", "severity": 8},
            "agent": {"id": "a1", "name": "planner", "model": "m", "version": "2", "framework": "lg"},
            "tenant": {"id": "acme"},
            "delegation": {"on_behalf_of": "user:u1", "type": "user"},
            "trace": {"id": "t", "span_id": "s", "parent_span_id": "p"},
            "authz": {"decision": "deny", "policy": "pol", "reason": "no", "scope": ["net"]},
            "tool": {"name": "http.get", "call_id": "c", "arguments": {"u": 1}, "result": "ok"},
            "destination": {"host": "h", "url": "https://h/", "service": "svc", "ip": "10.0.0.1"},
            "labels": ["prod"],
            "syslog": {"facility": 4, "severity": 2, "app_name": "app", "hostname": "host", "format": "rfc5424"},
            "source": {"id": "in", "path": "/var/log/a.jsonl", "address": "10.0.0.2:514"},
            "session": {"id": "s1"},
        });
        assert_eq!(
            renamed(event),
            json!({
                "@timestamp": "2026-11-26T12:30:05Z",
                "event": {"id": "e1", "action": "tool_call", "outcome": "failure", "severity": 8,
                          "created": "2026-11-26T12:30:06Z", "reason": "no"},
                "message": "Tool invoked",
                "gen_ai": {"agent": {"id": "a1", "name": "planner", "version": "2", "framework": "lg"},
                           "request": {"model": "m"},
                           "tool": {"name": "http.get", "call": {"id": "c", "arguments": {"u": 1}, "result": "ok"}}},
                "organization": {"id": "acme"},
                "user": {"id": "user:u1"},
                "delegation": {"type": "user"},
                "trace": {"id": "t"}, "span": {"id": "s"}, "parent": {"id": "p"},
                "authz": {"decision": "deny", "scope": ["net"]},
                "rule": {"name": "pol"},
                "destination": {"domain": "h", "ip": "10.0.0.1"},
                "url": {"full": "https://h/"},
                "service": {"target": {"name": "svc"}},
                "tags": ["prod"],
                "log": {"syslog": {"facility": {"code": 4}, "severity": {"code": 2}, "appname": "app",
                                   "hostname": "host", "format": "rfc5424"},
                        "file": {"path": "/var/log/a.jsonl"}},
                "sluice": {"source": {"id": "in", "address": "10.0.0.2:514"}},
                "session": {"id": "s1"},
            })
        );
    }

    #[test]
    fn a_field_already_under_the_ecs_name_is_kept_and_so_is_the_canonical_one() {
        let event = json!({"message": "raw line", "event": {"kind": "prompt", "action": "asked"},
                           "user": "jo", "delegation": {"on_behalf_of": "user:u1"}, "labels": {"env": "prod"},
                           "tags": "x"});
        assert_eq!(
            renamed(event),
            json!({"message": "raw line", "event": {"kind": "prompt", "action": "asked"},
                   "user": "jo", "delegation": {"on_behalf_of": "user:u1"}, "labels": {"env": "prod"}, "tags": "x"})
        );
        let event = json!({"tags": ["t"], "labels": ["l"]});
        assert_eq!(renamed(event), json!({"tags": ["t"], "labels": ["l"]}));
    }

    /// ECS names that say how the event reached the router take only the
    /// router's fields; whatever else held them, nested or under a dotted
    /// name, moves under `agent_claimed` in its own nesting.
    #[test]
    fn ecs_provenance_names_hold_only_the_router_s_fields() {
        let event = json!({
            "received_at": "2026-11-26T12:30:06Z",
            "source": {"id": "in", "path": "/var/log/a.jsonl"},
            "syslog": {"hostname": "gw-1"},
            "event": {"kind": "prompt", "created": "1999-01-01T00:00:00Z"},
            "event.created": "1999-01-01T00:00:01Z",
            "log": {"syslog": {"hostname": "trusted-gw"}, "file": {"path": "/forged"}, "level": "info"},
            "log.syslog.appname": "forged",
            "sluice": {"source": {"address": "203.0.113.66:514"}},
            "sluice.source.id": "forged",
            "agent_claimed": {"source": {"address": "203.0.113.66:1"}},
        });
        assert_eq!(
            renamed(event),
            json!({
                "event": {"action": "prompt", "created": "2026-11-26T12:30:06Z"},
                "log": {"syslog": {"hostname": "gw-1"}, "file": {"path": "/var/log/a.jsonl"}, "level": "info"},
                "sluice": {"source": {"id": "in"}},
                "agent_claimed": {
                    "source": {"address": "203.0.113.66:1"},
                    "event": {"created": "1999-01-01T00:00:00Z"},
                    "event.created": "1999-01-01T00:00:01Z",
                    "log": {"syslog": {"hostname": "trusted-gw"}, "file": {"path": "/forged"}},
                    "log.syslog.appname": "forged",
                    "sluice": {"source": {"address": "203.0.113.66:514"}},
                    "sluice.source.id": "forged",
                },
            })
        );
    }

    /// A field in the way of an ECS provenance name (a `log` that is text)
    /// moves too, so the router's field still gets its ECS name.
    #[test]
    fn a_field_in_the_way_of_a_provenance_name_moves_aside() {
        let event = json!({"syslog": {"hostname": "gw-1"}, "log": "text", "event": "prompt",
                           "received_at": "2026-11-26T12:30:06Z", "logs": 1, "eventual": 2});
        assert_eq!(
            renamed(event),
            json!({"log": {"syslog": {"hostname": "gw-1"}}, "event": {"created": "2026-11-26T12:30:06Z"},
                   "agent_claimed": {"log": "text", "event": "prompt"}, "logs": 1, "eventual": 2})
        );
    }
}
