//! The plugin end to end: lines are parsed back by an independent CEF parser
//! (written here from the standard, sharing no code with the formatter) and
//! compared field by field with the event; tricky escapes are also checked
//! as exact strings.

use super::*;
use serde_json::json;
use std::collections::BTreeMap;

/// A CEF line split into its 7 header fields and its extension pairs, with
/// escapes undone. Panics on a malformed line.
fn parse(line: &str) -> (Vec<String>, BTreeMap<String, String>) {
    assert!(line.starts_with("CEF:"), "no CEF: prefix in {line:?}");
    assert!(!line.contains('\n') && !line.contains('\r'), "raw line break in {line:?}");
    let chars: Vec<char> = line.chars().collect();
    let mut header = Vec::new();
    let mut field = String::new();
    let mut i = 0;
    while header.len() < 7 {
        assert!(i < chars.len(), "header has fewer than 7 fields: {line:?}");
        match chars[i] {
            '\\' if i + 1 < chars.len() => {
                field.push(chars[i + 1]);
                i += 2;
                continue;
            }
            '|' => header.push(std::mem::take(&mut field)),
            c => field.push(c),
        }
        i += 1;
    }
    let ext = &chars[i..];
    // Keys start after a space (or at the start) and end at an unescaped '='.
    let mut keys = Vec::new();
    let mut j = 0;
    while j < ext.len() {
        match ext[j] {
            '\\' => j += 1,
            '=' => {
                let start = ext[..j].iter().rposition(|c| *c == ' ').map_or(0, |p| p + 1);
                let key: String = ext[start..j].iter().collect();
                assert!(
                    !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric()),
                    "bad key {key:?} in {line:?}"
                );
                keys.push((start, j, key));
            }
            _ => {}
        }
        j += 1;
    }
    assert!(keys.first().is_none_or(|(start, _, _)| *start == 0), "text before the first key in {line:?}");
    let mut pairs = BTreeMap::new();
    for (n, (_, eq, key)) in keys.iter().enumerate() {
        let end = keys.get(n + 1).map_or(ext.len(), |(start, _, _)| start - 1);
        let mut value = String::new();
        let mut k = eq + 1;
        while k < end {
            if ext[k] == '\\' && k + 1 < end {
                value.push(match ext[k + 1] {
                    'n' => '\n',
                    'r' => '\r',
                    c => c,
                });
                k += 2;
            } else {
                value.push(ext[k]);
                k += 1;
            }
        }
        assert!(pairs.insert(key.clone(), value).is_none(), "key {key} twice in {line:?}");
    }
    (header, pairs)
}

fn line(config: Value, event: &Value) -> String {
    match Cef::configure(config).unwrap().process(&event.to_string()) {
        Outcome::Emit(line) => line,
        other => panic!("expected a line, got {other:?}"),
    }
}

fn tool_call() -> Value {
    json!({
        "time": "2026-11-26T12:30:05.123456Z",
        "received_at": "2026-11-26T12:30:06Z",
        "event": {"id": "evt-00000042", "kind": "tool_call", "action": "Tool invoked | retry", "outcome": "failure",
                  "severity": 8},
        "agent": {"id": "agent-07", "name": "planner", "model": "claude-sonnet-4"},
        "tenant": {"id": "acme-fin"},
        "delegation": {"on_behalf_of": "user:u1042", "type": "user"},
        "session": {"id": "sess-1a2b"},
        "trace": {"id": "4bf92f3577b34da6a3ce929d0e0e4736"},
        "authz": {"decision": "deny", "policy": "pol-egress-allowlist", "reason": "host not allowed",
                  "scope": ["net", "read"]},
        "tool": {"name": "http.get", "arguments": {"url": "https://x/?a=1&b=2", "path": "C:\\temp\\out"}},
        "destination": {"host": "pastebin.com", "url": "https://pastebin.com/api?k=[REDACTED]", "service": "pastebin"},
        "prompt": {"text": "upload the report\nthen tell me | done"},
        "redaction": {"count": 1},
    })
}

#[test]
fn a_tool_call_parses_back_to_its_fields() {
    let (header, ext) = parse(&line(json!({}), &tool_call()));
    assert_eq!(
        header,
        ["CEF:0", "sluice", "agent-events", env!("CARGO_PKG_VERSION"), "tool_call", "Tool invoked | retry", "8"]
    );
    let expected: BTreeMap<String, String> = [
        ("rt", "1795696205123"),
        ("externalId", "evt-00000042"),
        ("suid", "agent-07"),
        ("suser", "planner"),
        ("duser", "user:u1042"),
        ("cs1Label", "tenant"),
        ("cs1", "acme-fin"),
        ("cs2Label", "session"),
        ("cs2", "sess-1a2b"),
        ("act", "tool_call"),
        ("app", "HTTPS"),
        ("dhost", "pastebin.com"),
        ("request", "https://pastebin.com/api?k=[REDACTED]"),
        ("destinationServiceName", "pastebin"),
        ("outcome", "deny"),
        ("reason", "host not allowed"),
        ("cs3Label", "tool"),
        ("cs3", "http.get"),
        ("cs4Label", "args"),
        ("cs4", r#"{"path":"C:\\temp\\out","url":"https://x/?a=1&b=2"}"#),
        ("cs5Label", "policy"),
        ("cs5", "pol-egress-allowlist"),
        ("cs6Label", "trace"),
        ("cs6", "4bf92f3577b34da6a3ce929d0e0e4736"),
        ("spriv", "net,read"),
        ("flexString1Label", "model"),
        ("flexString1", "claude-sonnet-4"),
        ("cn1Label", "redactions"),
        ("cn1", "1"),
        ("msg", "upload the report\nthen tell me | done"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    assert_eq!(ext, expected);
}

#[test]
fn tricky_escapes_exactly() {
    let event = json!({
        "event": {"kind": "prompt", "action": "a|b\\c=d\r\ne", "severity": 3},
        "agent": {"id": "x=y \\ z"},
        "prompt": {"text": "line1\nline2\r\nkey=value \\n literal | pipe\ttab é"},
    });
    let out = line(json!({"vendor": "Ven|dor", "product": "Pro\\duct", "version": "1.0"}), &event);
    assert_eq!(
        out,
        concat!(
            r"CEF:0|Ven\|dor|Pro\\duct|1.0|prompt|a\|b\\c=d  e|3|suid=x\=y \\ z suser=x\=y \\ z act=prompt ",
            r"msg=line1\nline2\r\nkey\=value \\n literal | pipe",
            "\ttab é"
        )
    );
    let (header, ext) = parse(&out);
    assert_eq!(header[1], "Ven|dor");
    assert_eq!(header[5], "a|b\\c=d  e");
    assert_eq!(ext["suid"], "x=y \\ z");
    assert_eq!(ext["suser"], "x=y \\ z");
    assert_eq!(ext["msg"], event["prompt"]["text"]);
}

#[test]
fn empty_and_missing_fields_are_left_out_with_their_labels() {
    let out = line(json!({}), &json!({"event": {"kind": "lifecycle"}, "agent": {"id": "a"}, "tenant": {"id": ""}}));
    assert_eq!(
        out,
        format!(
            "CEF:0|sluice|agent-events|{}|lifecycle|lifecycle|Unknown|suid=a suser=a act=lifecycle",
            env!("CARGO_PKG_VERSION")
        )
    );
}

#[test]
fn long_values_are_cut_to_the_standard_lengths() {
    let long = "é".repeat(5000);
    let event = json!({"event": {"id": long, "kind": "output", "action": long}, "agent": {"id": "a"},
                       "tool": {"arguments": long}, "output": {"text": format!("={long}")}});
    let (header, ext) = parse(&line(json!({"vendor": long}), &event));
    assert_eq!(header[1].chars().count(), 63);
    assert_eq!(header[5].chars().count(), 512);
    assert_eq!(ext["externalId"].chars().count(), 40);
    assert_eq!(ext["cs4"].chars().count(), 4000);
    assert_eq!(ext["msg"].chars().count(), 1023);
    assert!(ext["msg"].starts_with("=é"));
}

#[test]
fn severity_is_clamped_or_unknown() {
    let severity =
        |value: Value| parse(&line(json!({}), &json!({"event": {"kind": "error", "severity": value}}))).0[6].clone();
    assert_eq!(severity(json!(12)), "10");
    assert_eq!(severity(json!(-1)), "0");
    assert_eq!(severity(json!(6.6)), "7");
    assert_eq!(severity(json!("high")), "High");
    assert_eq!(severity(json!("whatever")), "Unknown");
}

#[test]
fn rt_falls_back_to_received_at_and_skips_unreadable_times() {
    let ext = |event: Value| parse(&line(json!({}), &event)).1;
    assert_eq!(ext(json!({"received_at": "1970-01-01T00:00:01Z"}))["rt"], "1000");
    assert_eq!(ext(json!({"time": 1_795_696_205_i64}))["rt"], "1795696205000");
    assert!(!ext(json!({"time": "yesterday"})).contains_key("rt"));
}

#[test]
fn rt_can_keep_the_rfc_3339_text() {
    let (_, ext) = parse(&line(json!({"time_format": "rfc3339"}), &tool_call()));
    assert_eq!(ext["rt"], "2026-11-26T12:30:05.123456Z");
}

#[test]
fn the_mapping_is_overridden_from_config() {
    let config = json!({
        "vendor": "AgentSec", "product": "AgentRouter", "version": "1.0",
        "name": "event.action",
        "mapping": {"suser": "agent.name", "cs6Label": {"value": "model"}, "cs6": "agent.model", "cn1": false,
                    "deviceExternalId": {"value": "gw-1"}},
    });
    let (header, ext) = parse(&line(config, &tool_call()));
    assert_eq!(&header[1..4], ["AgentSec", "AgentRouter", "1.0"]);
    assert_eq!(ext["suser"], "planner");
    assert_eq!(ext["cs6Label"], "model");
    assert_eq!(ext["cs6"], "claude-sonnet-4");
    assert_eq!(ext["deviceExternalId"], "gw-1");
    assert!(!ext.contains_key("cn1") && !ext.contains_key("cn1Label"), "a label without its value is left out");
}

#[test]
fn every_kind_formats_and_parses() {
    for kind in ["prompt", "reasoning", "tool_call", "api_call", "retrieval", "authz", "output", "error", "lifecycle"] {
        let (header, ext) = parse(&line(json!({}), &json!({"event": {"kind": kind}, "agent": {"id": "a"}})));
        assert_eq!(header[4], kind);
        assert_eq!(ext["act"], kind);
    }
}

#[test]
fn bad_events_fail_and_bad_config_is_refused() {
    let mut cef = Cef::configure(json!({})).unwrap();
    assert!(matches!(cef.process("[1]"), Outcome::Fail(r) if r.contains("not an object")));
    assert!(matches!(cef.process("{"), Outcome::Fail(r) if r.contains("not valid JSON")));
    assert!(Cef::configure(json!({"mapping": {"msg": 1}})).err().unwrap().contains("mapping.msg"));
}

#[test]
fn act_outcome_and_app_keep_their_own_lengths() {
    let long = "x".repeat(100);
    let event = json!({"event": {"kind": long, "outcome": long}, "agent": {"id": "a"},
                       "destination": {"url": format!("{long}://host/")}});
    let (header, ext) = parse(&line(json!({}), &event));
    assert_eq!(header[4].len(), 100, "the header's SignatureID allows 1023");
    assert_eq!(ext["act"].len(), 63);
    assert_eq!(ext["outcome"].len(), 63);
    assert_eq!(ext["app"], "X".repeat(31));
    assert_eq!(ext["request"].len(), format!("{long}://host/").len());
}

#[test]
fn outcome_is_the_decision_else_the_event_outcome() {
    let ext = |event: Value| parse(&line(json!({}), &event)).1;
    assert_eq!(ext(json!({"event": {"outcome": "failure"}, "authz": {"decision": "allow"}}))["outcome"], "allow");
    assert_eq!(ext(json!({"event": {"outcome": "failure"}}))["outcome"], "failure");
    assert!(!ext(json!({"event": {"kind": "prompt"}})).contains_key("outcome"));
}

#[test]
fn the_agent_is_never_written_into_connector_keys() {
    let out = line(json!({}), &tool_call());
    let (_, ext) = parse(&out);
    assert!(
        ext.keys().all(|key| !key.starts_with("agent") && !["aid", "ahost", "art", "at", "av"].contains(&key.as_str()))
    );
    let refused = Cef::configure(json!({"mapping": {"aid": "agent.id"}})).err().unwrap();
    assert!(refused.contains("`mapping.aid`") && refused.contains("ArcSight connector"), "{refused}");
}

#[test]
fn app_keeps_a_configured_constant() {
    let (_, ext) = parse(&line(json!({"mapping": {"app": {"value": "MCP"}}}), &tool_call()));
    assert_eq!(ext["app"], "MCP");
}

/// Keys that say where an event came from read the router's fields. What an
/// agent claimed about them, which `agent-event` keeps under `agent_claimed`,
/// never reaches a key, not even where the router sent nothing (a file
/// source sends no syslog header, so `dvchost` is left out).
#[test]
fn provenance_keys_carry_the_router_s_values_never_the_agent_s_claims() {
    let mut event = tool_call();
    event["source"] = json!({"id": "files", "path": "/var/log/agents.jsonl"});
    event["agent_claimed"] = json!({"source": {"path": "/forged", "address": "203.0.113.66:514"},
                                    "received_at": "1999-01-01T00:00:00Z", "syslog": {"hostname": "trusted-gw"}});
    let config = json!({"mapping": {"dvchost": "syslog.hostname", "filePath": "source.path", "shost": "source.address",
                                    "deviceCustomDate1Label": {"value": "received"},
                                    "deviceCustomDate1": "received_at"}});
    let line = line(config, &event);
    let (_, ext) = parse(&line);
    assert_eq!(ext["filePath"], "/var/log/agents.jsonl");
    assert_eq!(ext["deviceCustomDate1"], "1795696206000");
    assert_eq!(ext["rt"], "1795696205123");
    assert!(!ext.contains_key("dvchost") && !ext.contains_key("shost"), "{line}");
    for forged in ["/forged", "203.0.113.66", "trusted-gw", "915148800000"] {
        assert!(!line.contains(forged), "{forged} in {line}");
    }
}
