//! Golden files: the LEEF lines for the shared corpus of canonical events, in
//! LEEF 1.0 and 2.0 with several delimiters and a site's mapping;
//! `SLUICE_BLESS=1` rewrites them (see `plugins/testdata/golden.rs`). Each
//! line is also read back by the independent reader (`parser`) and compared
//! field by field with the event, through expectations written here apart
//! from the formatter.

#[path = "../../testdata/golden.rs"]
mod support;

mod parser;

use serde_json::{Value, json};
use sluice_plugin::{Outcome, Plugin};
use sluice_plugin_leef::Leef;
use std::collections::BTreeMap;
use std::net::IpAddr;

fn lines(config: Value) -> Vec<String> {
    let mut leef = Leef::configure(config).unwrap();
    support::corpus()
        .iter()
        .map(|event| match leef.process(&event.to_string()) {
            Outcome::Emit(line) => line,
            other => panic!("expected a line for {event}, got {other:?}"),
        })
        .collect()
}

#[test]
fn leef_1_tab() {
    let lines = lines(json!({}));
    check_fields(&lines, "1.0", '\t');
    support::check("v1-tab.leef", &lines);
}

#[test]
fn leef_2_caret() {
    let lines = lines(json!({"version": "2.0", "delimiter": "^"}));
    check_fields(&lines, "2.0", '^');
    support::check("v2-caret.leef", &lines);
}

#[test]
fn leef_2_hex_pipe() {
    let lines = lines(json!({"version": "2.0", "delimiter": "x7C"}));
    check_fields(&lines, "2.0", '|');
    support::check("v2-hex-pipe.leef", &lines);
}

#[test]
fn leef_2_configured() {
    let config = json!({
        "version": "2.0", "delimiter": "0xA6",
        "vendor": "Agent|Sec", "product": "Router\tProd", "product_version": "1.0",
        "event_id": ["event.action", "event.kind"],
        "mapping": {"usrName": "agent.id", "identHostName": "syslog.hostname", "model": false,
                    "dstPort": "destination.port", "vendorTag": {"value": "gw-1"}},
    });
    let lines = lines(config);
    for line in &lines {
        let parsed = parser::parse(line);
        assert_eq!(
            (parsed.vendor.as_str(), parsed.product.as_str(), parsed.delimiter),
            ("Agent Sec", "Router Prod", '¦')
        );
        assert_eq!(parsed.get("vendorTag"), Some("gw-1"));
    }
    support::check("v2-configured.leef", &lines);
}

/// The default table as this test reads it: LEEF key ← paths (first present wins).
const TABLE: &[(&str, &[&str])] = &[
    ("devTime", &["time", "received_at"]),
    ("cat", &["authz.decision", "event.outcome"]),
    ("sev", &["event.severity"]),
    ("usrName", &["agent.name", "agent.id"]),
    ("realm", &["tenant.id"]),
    ("role", &["authz.scope"]),
    ("policy", &["authz.policy"]),
    ("url", &["destination.url"]),
    ("resource", &["destination.service", "retrieval.source"]),
    ("src", &["source.ip"]),
    ("dst", &["destination.ip"]),
    ("agentId", &["agent.id"]),
    ("onBehalfOf", &["delegation.on_behalf_of"]),
    ("sessionId", &["session.id"]),
    ("toolName", &["tool.name"]),
    ("toolArgs", &["tool.arguments"]),
    ("dstHost", &["destination.host"]),
    ("eventId", &["event.id"]),
    ("action", &["event.action"]),
    ("outcome", &["event.outcome"]),
    ("reason", &["authz.reason"]),
    ("traceId", &["trace.id"]),
    ("model", &["agent.model"]),
    ("redactions", &["redaction.count"]),
    ("msg", &["prompt.text", "output.text", "reasoning.summary", "error.message"]),
];

/// Every line against its corpus event: the header, then every attribute.
fn check_fields(lines: &[String], version: &str, delimiter: char) {
    for (event, line) in support::corpus().iter().zip(lines) {
        let parsed = parser::parse(line);
        assert_eq!((parsed.version.as_str(), parsed.delimiter), (version, delimiter));
        assert_eq!(
            [&parsed.vendor, &parsed.product, &parsed.product_version],
            ["sluice", "agent-events", env!("CARGO_PKG_VERSION")]
        );
        let kind = text(&event["event"]["kind"]).unwrap_or_default();
        assert_eq!(parsed.event_id, safe(&kind, &['|']), "{line}");

        let mut expected = BTreeMap::new();
        for (key, paths) in TABLE {
            let Some(value) = paths.iter().map(|path| at(event, path)).find(|v| !v.is_null() && text(v).is_some())
            else {
                continue;
            };
            let written = match *key {
                "devTime" => Some(epoch_millis(value)),
                "sev" => severity(value),
                "src" | "dst" => text(value).and_then(|t| t.parse::<IpAddr>().ok()).map(|ip| ip.to_string()),
                "usrName" => Some(safe(&text(value).unwrap().chars().take(255).collect::<String>(), &[delimiter])),
                _ => Some(safe(&text(value).unwrap(), &[delimiter])),
            };
            if let Some(written) = written {
                expected.insert(key.to_string(), written);
            }
        }
        let actual: BTreeMap<String, String> = parsed.attributes.iter().cloned().collect();
        assert_eq!(actual, expected, "{line}");
    }
}

fn at<'e>(event: &'e Value, path: &str) -> &'e Value {
    path.split('.').fold(event, |node, key| &node[key])
}

/// A value as the table promises to write it.
fn text(value: &Value) -> Option<String> {
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(|i| text(i).unwrap_or_default()).collect::<Vec<_>>().join(","),
        Value::Null => return None,
        other => serde_json::to_string(other).unwrap(),
    };
    (!text.is_empty()).then_some(text)
}

/// `text` with CR, LF, TAB and `extra` replaced by spaces.
fn safe(text: &str, extra: &[char]) -> String {
    text.chars().map(|c| if matches!(c, '\r' | '\n' | '\t') || extra.contains(&c) { ' ' } else { c }).collect()
}

/// Epoch milliseconds of an epoch number or of UTC RFC 3339 text
/// (`YYYY-MM-DDThh:mm:ss[.fff…]Z`, the corpus's form), by the civil-calendar
/// day count (H. Hinnant's `days_from_civil`), apart from the `time` crate.
fn epoch_millis(value: &Value) -> String {
    let text = match value {
        Value::Number(n) => return n.to_string(),
        Value::String(text) => text,
        other => panic!("not a time: {other}"),
    };
    assert!(text.ends_with('Z') && text.as_bytes()[10] == b'T', "the corpus writes UTC times: {text}");
    let number = |range: std::ops::Range<usize>| text[range].parse::<i64>().unwrap();
    let (year, month, day) = (number(0..4), number(5..7), number(8..10));
    let (hour, minute, second) = (number(11..13), number(14..16), number(17..19));
    let fraction = text[19..text.len() - 1].strip_prefix('.').unwrap_or("");
    let millis = format!("{fraction:0<3}")[..3].parse::<i64>().unwrap();
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    (((days * 24 + hour) * 60 + minute) * 60 * 1000 + second * 1000 + millis).to_string()
}

#[test]
fn the_independent_day_count_is_right() {
    assert_eq!(epoch_millis(&json!("1970-01-01T00:00:00Z")), "0");
    assert_eq!(epoch_millis(&json!("2000-03-01T00:00:00.5Z")), "951868800500");
    // `date -ud 2026-11-26T12:30:05.123Z +%s%3N`
    assert_eq!(epoch_millis(&json!("2026-11-26T12:30:05.123Z")), "1795696205123");
}

/// 0–10 onto 1–10, and the normaliser's words.
fn severity(value: &Value) -> Option<String> {
    let n = match value {
        Value::Number(n) => n.as_f64().unwrap(),
        Value::String(s) => match s.as_str() {
            "info" => 1.0,
            "low" => 3.0,
            "medium" => 5.0,
            "high" => 8.0,
            "critical" => 10.0,
            other => other.parse().ok()?,
        },
        _ => return None,
    };
    Some((n.round() as i64).clamp(1, 10).to_string())
}
