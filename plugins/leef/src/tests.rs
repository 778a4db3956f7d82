//! The plugin end to end: lines are read back by an independent LEEF reader
//! (`tests/parser`, sharing no code with the formatter) and compared field by
//! field with the event; the replacement of unsafe characters is checked as
//! exact strings.

#[path = "../tests/parser/mod.rs"]
mod parser;

use super::*;
use serde_json::json;

fn line(config: Value, event: &Value) -> String {
    match Leef::configure(config).unwrap().process(&event.to_string()) {
        Outcome::Emit(line) => line,
        other => panic!("expected a line, got {other:?}"),
    }
}

fn tool_call() -> Value {
    json!({
        "time": "2026-11-26T12:30:05.123456Z",
        "event": {"id": "evt-00000042", "kind": "tool_call", "action": "Tool invoked", "outcome": "failure",
                  "severity": 8},
        "agent": {"id": "agent-07", "name": "planner", "model": "claude-sonnet-4"},
        "tenant": {"id": "acme-fin"},
        "delegation": {"on_behalf_of": "user:u1042", "type": "user"},
        "session": {"id": "sess-1a2b"},
        "trace": {"id": "4bf92f3577b34da6a3ce929d0e0e4736"},
        "authz": {"decision": "deny", "policy": "pol-egress-allowlist", "reason": "host not allowed",
                  "scope": ["net", "read"]},
        "tool": {"name": "http.get", "arguments": {"url": "https://x/?a=1&b=2"}},
        "source": {"ip": "10.0.4.17", "address": "192.0.2.1:514"},
        "destination": {"host": "pastebin.com", "url": "https://pastebin.com/api?k=[REDACTED]", "service": "pastebin",
                        "ip": "2001:db8::7"},
        "prompt": {"text": "upload the report | then tell me"},
        "redaction": {"count": 1},
    })
}

#[test]
fn a_tool_call_reads_back_to_its_fields() {
    let parsed = parser::parse(&line(json!({}), &tool_call()));
    assert_eq!(
        [&parsed.version, &parsed.vendor, &parsed.product, &parsed.product_version, &parsed.event_id],
        ["1.0", "sluice", "agent-events", env!("CARGO_PKG_VERSION"), "tool_call"]
    );
    assert_eq!(parsed.delimiter, '\t');
    let expected = [
        ("devTime", "1795696205123"),
        ("cat", "deny"),
        ("sev", "8"),
        ("usrName", "planner"),
        ("realm", "acme-fin"),
        ("role", "net,read"),
        ("policy", "pol-egress-allowlist"),
        ("url", "https://pastebin.com/api?k=[REDACTED]"),
        ("resource", "pastebin"),
        ("src", "10.0.4.17"),
        ("dst", "2001:db8::7"),
        ("agentId", "agent-07"),
        ("onBehalfOf", "user:u1042"),
        ("sessionId", "sess-1a2b"),
        ("toolName", "http.get"),
        ("toolArgs", r#"{"url":"https://x/?a=1&b=2"}"#),
        ("dstHost", "pastebin.com"),
        ("eventId", "evt-00000042"),
        ("action", "Tool invoked"),
        ("outcome", "failure"),
        ("reason", "host not allowed"),
        ("traceId", "4bf92f3577b34da6a3ce929d0e0e4736"),
        ("model", "claude-sonnet-4"),
        ("redactions", "1"),
        ("msg", "upload the report | then tell me"),
    ];
    let actual: Vec<(&str, &str)> = parsed.attributes.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(actual, expected);
}

#[test]
fn leef_2_names_its_delimiter_in_the_header() {
    let event = json!({"event": {"kind": "prompt"}, "agent": {"id": "a"}, "prompt": {"text": "x^y"}});
    assert_eq!(
        line(
            json!({"version": "2.0", "delimiter": "^", "vendor": "V", "product": "P", "product_version": "1"}),
            &event
        ),
        "LEEF:2.0|V|P|1|prompt|^|usrName=a^agentId=a^msg=x y"
    );
    assert_eq!(
        line(
            json!({"version": "2.0", "delimiter": "0x5E", "vendor": "V", "product": "P", "product_version": "1"}),
            &event
        ),
        "LEEF:2.0|V|P|1|prompt|0x5E|usrName=a^agentId=a^msg=x y"
    );
    let piped =
        line(json!({"version": "2.0", "delimiter": "|"}), &json!({"agent": {"id": "a|b"}, "event": {"kind": "x"}}));
    assert!(piped.ends_with("|x|0x7C|usrName=a b|agentId=a b"), "{piped}");
    let parsed = parser::parse(&piped);
    assert_eq!((parsed.delimiter, parsed.get("agentId")), ('|', Some("a b")));
}

#[test]
fn unsafe_characters_become_spaces_exactly() {
    let event = json!({
        "event": {"kind": "tool_call", "action": "a|b\\c=d\r\ne\tf"},
        "agent": {"id": "x=y | z\\"},
        "prompt": {"text": "line1\nline2\r\nkey=value\ttab é 日本 ^ | done"},
    });
    let out = line(json!({"vendor": "Ven|dor", "product": "Pro\tduct", "product_version": "1\n0"}), &event);
    assert_eq!(
        out,
        "LEEF:1.0|Ven dor|Pro duct|1 0|tool_call|usrName=x=y | z\\\tagentId=x=y | z\\\taction=a|b\\c=d  e f\t\
         msg=line1 line2  key=value tab é 日本 ^ | done"
    );
    let parsed = parser::parse(&out);
    assert_eq!(parsed.get("usrName"), Some("x=y | z\\"), "`=`, `\\` and `|` pass unchanged into values");
}

#[test]
fn the_header_event_id_and_user_name_are_cut_to_ibm_s_lengths() {
    let long = "é".repeat(600);
    let event = json!({"event": {"kind": "prompt"}, "agent": {"id": "a", "name": long}, "prompt": {"text": long}});
    let parsed = parser::parse(&line(json!({"event_id": "agent.name"}), &event));
    assert_eq!(parsed.event_id.chars().count(), 255);
    assert_eq!(parsed.get("usrName").unwrap().chars().count(), 255);
    assert_eq!(parsed.get("msg").unwrap().chars().count(), 600, "LEEF sets no length on other keys");
}

#[test]
fn dev_time_severity_and_addresses_are_converted_or_left_out() {
    let attrs = |event: Value| {
        let parsed = parser::parse(&line(json!({}), &event));
        ["devTime", "sev", "src", "dst"].map(|key| parsed.get(key).map(str::to_owned))
    };
    assert_eq!(
        attrs(json!({"received_at": "1970-01-01T00:00:01Z", "event": {"severity": 0},
                     "source": {"ip": "10.1.2.3:514"}, "destination": {"ip": "[2001:db8::1]:443"}})),
        [Some("1000".into()), Some("1".into()), Some("10.1.2.3".into()), Some("2001:db8::1".into())]
    );
    assert_eq!(
        attrs(json!({"time": "yesterday", "event": {"severity": "n/a"}, "source": {"ip": "999.1.1.1"},
                     "destination": {"ip": "pastebin.com"}})),
        [None, None, None, None]
    );
}

#[test]
fn the_mapping_is_overridden_from_config() {
    let config = json!({"event_id": ["event.action"], "mapping": {
        "usrName": "agent.id", "model": false, "identHostName": "syslog.hostname", "dstPort": "destination.port",
        "vendorTag": {"value": "gw-1"}}});
    let mut event = tool_call();
    event["syslog"] = json!({"hostname": "agent-host-1"});
    event["destination"]["port"] = json!(443);
    let parsed = parser::parse(&line(config, &event));
    assert_eq!(parsed.event_id, "Tool invoked");
    assert_eq!(parsed.get("usrName"), Some("agent-07"));
    assert_eq!(parsed.get("model"), None);
    let tail: Vec<&str> = parsed.attributes.iter().rev().take(3).map(|(k, _)| k.as_str()).collect();
    assert_eq!(tail, ["vendorTag", "identHostName", "dstPort"], "added keys come last, in key order");
    assert_eq!((parsed.get("identHostName"), parsed.get("dstPort")), (Some("agent-host-1"), Some("443")));
}

#[test]
fn every_kind_formats_and_reads_back() {
    for kind in ["prompt", "reasoning", "tool_call", "api_call", "retrieval", "authz", "output", "error", "lifecycle"] {
        let parsed = parser::parse(&line(json!({}), &json!({"event": {"kind": kind}, "agent": {"id": "a"}})));
        assert_eq!(parsed.event_id, kind);
        assert_eq!(parsed.get("agentId"), Some("a"));
    }
}

#[test]
fn replacements_are_counted() {
    let mut leef = Leef::configure(json!({})).unwrap();
    leef.process(&json!({"agent": {"id": "clean"}}).to_string());
    assert_eq!(leef.tally.events, 0);
    leef.process(&json!({"agent": {"id": "a\tb"}, "prompt": {"text": "x\r\ny"}}).to_string());
    leef.process(&json!({"event": {"kind": "a|b"}}).to_string());
    // `agent.id` feeds both `usrName` and `agentId`.
    assert_eq!((leef.tally.events, leef.tally.characters), (2, 5));
}

#[test]
fn bad_events_fail_and_bad_config_is_refused() {
    let mut leef = Leef::configure(json!({})).unwrap();
    assert!(matches!(leef.process("[1]"), Outcome::Fail(r) if r.contains("not an object")));
    assert!(matches!(leef.process("{"), Outcome::Fail(r) if r.contains("not valid JSON")));
    assert!(Leef::configure(json!({"mapping": {"msg": 1}})).err().unwrap().contains("mapping.msg"));
    assert!(Leef::configure(json!({"delimiter": "^"})).err().unwrap().contains("`delimiter`"));
}

/// Keys that say where an event came from read the router's fields. What an
/// agent claimed about them, which `agent-event` keeps under `agent_claimed`,
/// never reaches a key: `src` is left out when the router gave no address.
#[test]
fn provenance_keys_carry_the_router_s_values_never_the_agent_s_claims() {
    let mut event = tool_call();
    event["source"] = json!({"id": "files", "path": "/var/log/agents.jsonl"});
    event["received_at"] = json!("2026-11-26T12:30:06Z");
    event["agent_claimed"] = json!({"source": {"ip": "203.0.113.66", "path": "/forged"},
                                    "received_at": "1999-01-01T00:00:00Z", "syslog": {"hostname": "trusted-gw"}});
    let config = json!({"mapping": {"identHostName": "syslog.hostname", "sourcePath": "source.path",
                                    "receivedAt": "received_at"}});
    let line = line(config, &event);
    let parsed = parser::parse(&line);
    let value = |key: &str| parsed.attributes.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
    assert_eq!(value("sourcePath"), Some("/var/log/agents.jsonl"));
    assert_eq!(value("receivedAt"), Some("2026-11-26T12:30:06Z"));
    assert_eq!(value("src"), None, "{line}");
    assert_eq!(value("identHostName"), None, "{line}");
    for forged in ["/forged", "203.0.113.66", "trusted-gw", "1999-01-01"] {
        assert!(!line.contains(forged), "{forged} in {line}");
    }
}
