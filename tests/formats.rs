//! Formatter output read back by parsers that are not ours: what a SIEM's
//! collector would make of it.

mod support;

use serde_json::{Value, json};
use std::process::Command;
use std::time::Duration;
use support::{Router, Scratch, sluice, wait_for_lines};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// PyPI's `pycef`, installed on first use so `cargo test` alone sets it up.
fn ensure_pycef() {
    let has = || Command::new("python3").args(["-c", "import pycef"]).status().is_ok_and(|s| s.success());
    if !has() {
        let pip = Command::new("python3").args(["-m", "pip", "install", "-q", "pycef"]).status();
        assert!(pip.is_ok_and(|s| s.success()) && has(), "the CEF check needs PyPI's pycef: pip install pycef");
    }
}

#[test]
fn cef_lines_parse_with_pycef_and_match_their_events() {
    ensure_pycef();
    let scratch = Scratch::new();
    let config = format!(
        r#"
data_dir = "{data}"
[sources.demo]
type = "demo"
count = 240
[transforms.normalise]
type = "wasm"
plugin = "agent-event"
inputs = ["demo"]
[transforms.redact]
type = "wasm"
plugin = "redact"
inputs = ["normalise"]
[transforms.cef]
type = "wasm"
plugin = "cef"
inputs = ["redact"]
[sinks.cef_file]
type = "file"
inputs = ["cef"]
path = "{cef}"
[sinks.events]
type = "file"
inputs = ["redact"]
path = "{events}"
"#,
        data = scratch.path("data").display(),
        cef = scratch.path("out.cef").display(),
        events = scratch.path("events.jsonl").display(),
    );
    let config = scratch.write("formats.toml", &config);
    let run = sluice(&["run", "--config", config.to_str().unwrap()]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/cef_check.py");
    let check = Command::new("python3")
        .arg(script)
        .arg(scratch.path("out.cef"))
        .arg(scratch.path("events.jsonl"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success(), "{stdout}{}", String::from_utf8_lossy(&check.stderr));
    assert!(stdout.contains("pycef: 240 CEF lines parsed and matched their events"), "{stdout}");
}

/// An agent's line that forges where it came from, in every spelling a
/// formatter might read: the canonical `source`, `received_at` and `syslog`
/// (a file source sends no syslog header, so nothing of the router's stands
/// in the way), a flat `source.address`, and the ECS names.
const FORGED: &str = r#"{"time": "2026-11-26T12:00:00Z", "agent": {"id": "agent-07"},
 "event": {"id": "forged-1", "kind": "tool_call", "action": "http.get", "created": "1999-01-01T00:00:00Z"},
 "source": {"id": "forged", "path": "/forged/path", "address": "203.0.113.66:514", "ip": "203.0.113.66"},
 "received_at": "1999-01-01T00:00:00Z", "syslog": {"hostname": "trusted-gw", "app_name": "forged-app"},
 "source.address": "203.0.113.66:1", "event.created": "1999-01-01T00:00:01Z",
 "sluice": {"source": {"id": "forged", "address": "203.0.113.66:2"}},
 "log": {"syslog": {"hostname": "trusted-gw"}, "file": {"path": "/forged/path"}}}"#;

/// Every spelling of the forgery, none of which may leave sluice outside `agent_claimed`.
const FORGERIES: &[&str] = &["203.0.113.66", "/forged/path", "trusted-gw", "forged-app", "1999-01-01", "915148800"];

/// The text of `value` with its `agent_claimed` member (at `at`) removed.
fn outside_claims(mut value: Value, at: &str) -> String {
    let holder = if at.is_empty() { &mut value } else { value.pointer_mut(at).unwrap() };
    holder.as_object_mut().unwrap().remove("agent_claimed");
    value.to_string()
}

/// A forged agent event through agent-event into every formatter: each
/// provenance field holds the router's value (the file's real path, the
/// router's arrival time), and the agent's claims appear only under
/// `agent_claimed`.
#[test]
fn an_agent_cannot_forge_provenance_in_any_format() {
    ensure_pycef();
    let scratch = Scratch::new();
    let logs = scratch.path("logs");
    let config = format!(
        r#"
data_dir = "{data}"
[sources.agents]
type = "file"
include = ["{logs}/*.jsonl"]
[transforms.normalise]
type = "wasm"
plugin = "agent-event"
inputs = ["agents"]
[transforms.ecs]
type = "wasm"
plugin = "json"
inputs = ["normalise"]
config = {{ ecs = true }}
[transforms.cef]
type = "wasm"
plugin = "cef"
inputs = ["normalise"]
config = {{ mapping = {{ dvchost = "syslog.hostname", filePath = "source.path", shost = "source.address", deviceCustomDate1Label = {{ value = "received" }}, deviceCustomDate1 = "received_at" }} }}
[transforms.leef]
type = "wasm"
plugin = "leef"
inputs = ["normalise"]
config = {{ mapping = {{ identHostName = "syslog.hostname", sourcePath = "source.path", receivedAt = "received_at" }} }}
[transforms.ocsf]
type = "wasm"
plugin = "ocsf"
inputs = ["normalise"]
{sinks}
"#,
        data = scratch.path("data").display(),
        logs = logs.display(),
        sinks = ["normalise", "ecs", "cef", "leef", "ocsf"]
            .map(|stage| format!(
                "[sinks.{stage}_out]\ntype = \"file\"\ninputs = [\"{stage}\"]\npath = \"{}\"\n",
                scratch.path(&format!("out/{stage}")).display()
            ))
            .concat(),
    );
    let log = scratch.write("logs/agents.jsonl", &format!("{}\n", FORGED.replace('\n', "")));
    let config = scratch.write("forged.toml", &config);
    let before = OffsetDateTime::now_utc();
    let router = Router::start(&config);
    let out = |stage: &str| {
        let lines = wait_for_lines(&scratch.path(&format!("out/{stage}")), 1, Duration::from_secs(120));
        assert_eq!(lines.len(), 1, "{stage}: {lines:?}");
        lines[0].clone()
    };
    let [canonical, ecs, cef, leef, ocsf] = ["normalise", "ecs", "cef", "leef", "ocsf"].map(out);
    router.stop();
    let after = OffsetDateTime::now_utc();

    // The canonical event: the router's source and arrival time, no syslog
    // (a file has no header), the agent's claims set aside as they came.
    let canonical: Value = serde_json::from_str(&canonical).unwrap();
    let path = log.to_str().unwrap();
    assert_eq!(canonical["source"], json!({"id": "agents", "path": path}), "{canonical}");
    let received = canonical["received_at"].as_str().unwrap().to_owned();
    let received_at = OffsetDateTime::parse(&received, &Rfc3339).unwrap();
    assert!(before - Duration::from_secs(1) <= received_at && received_at <= after, "{received} is not the router's");
    assert!(canonical.get("syslog").is_none() && canonical.get("source.address").is_none(), "{canonical}");
    let claimed = &canonical["agent_claimed"];
    assert_eq!(claimed["source"]["address"], "203.0.113.66:514");
    assert_eq!(claimed["received_at"], "1999-01-01T00:00:00Z");
    assert_eq!(claimed["syslog"]["hostname"], "trusted-gw");
    assert_eq!(claimed["source.address"], "203.0.113.66:1");
    let received_ms = (received_at.unix_timestamp_nanos() / 1_000_000).to_string();

    // JSON with ECS names: the provenance names hold the router's values.
    let ecs: Value = serde_json::from_str(&ecs).unwrap();
    assert_eq!(ecs["sluice"], json!({"source": {"id": "agents"}}), "{ecs}");
    assert_eq!(ecs["log"], json!({"file": {"path": path}}), "{ecs}");
    assert_eq!(ecs["event"]["created"], received.as_str(), "{ecs}");
    assert!(ecs.get("event.created").is_none(), "{ecs}");
    assert_eq!(ecs["agent_claimed"]["log"]["syslog"]["hostname"], "trusted-gw");
    assert_eq!(ecs["agent_claimed"]["event.created"], "1999-01-01T00:00:01Z");
    assert_eq!(ecs["agent_claimed"]["sluice"]["source"]["address"], "203.0.113.66:2");

    // CEF, read by pycef: provenance keys from the router, or left out.
    let parsed = Command::new("python3")
        .args(["-c", "import json, sys, pycef; print(json.dumps(pycef.parse(sys.argv[1])))", &cef])
        .output()
        .unwrap();
    assert!(parsed.status.success(), "{}", String::from_utf8_lossy(&parsed.stderr));
    let fields: Value = serde_json::from_slice(&parsed.stdout).unwrap_or_else(|err| panic!("pycef: {err}: {cef}"));
    assert_eq!(fields["filePath"], path, "{cef}");
    assert_eq!(fields["received"], received_ms.as_str(), "pycef names a labelled custom key by its label: {cef}");
    assert!(fields.get("dvchost").is_none() && fields.get("shost").is_none(), "{cef}");

    // LEEF 1.0: tab-separated attributes after the header's five pipes.
    let attributes: Vec<(&str, &str)> =
        leef.splitn(6, '|').nth(5).unwrap().split('\t').filter_map(|pair| pair.split_once('=')).collect();
    let leef_value = |key: &str| attributes.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
    assert_eq!(leef_value("sourcePath"), Some(path), "{leef}");
    assert_eq!(leef_value("receivedAt"), Some(received.as_str()), "{leef}");
    assert_eq!((leef_value("src"), leef_value("identHostName")), (None, None), "{leef}");

    // OCSF: the router's arrival time, no sender host; the claims unmapped.
    let ocsf: Value = serde_json::from_str(&ocsf).unwrap();
    assert_eq!(ocsf["metadata"]["logged_time"].to_string(), received_ms, "{ocsf}");
    assert!(ocsf["src_endpoint"].get("hostname").is_none() && ocsf["src_endpoint"].get("ip").is_none(), "{ocsf}");
    assert_eq!(ocsf["unmapped"]["source"], json!({"id": "agents", "path": path}), "{ocsf}");
    assert_eq!(ocsf["unmapped"]["agent_claimed"]["syslog"]["hostname"], "trusted-gw", "{ocsf}");

    // Nothing forged anywhere else. (The canonical event and OCSF keep the
    // agent's own ECS-named members, which mean nothing there: `log`,
    // `sluice` and a flat `event.created` are not canonical provenance.)
    let leftover = |text: String, what: &str| {
        for forged in FORGERIES {
            assert!(!text.contains(forged), "{what} holds {forged} outside agent_claimed: {text}");
        }
    };
    let mut canonical_rest: Value = serde_json::from_str(&outside_claims(canonical, "")).unwrap();
    for key in ["log", "sluice", "event.created"] {
        canonical_rest.as_object_mut().unwrap().remove(key);
    }
    canonical_rest["event"].as_object_mut().unwrap().remove("created");
    leftover(canonical_rest.to_string(), "the canonical event");
    leftover(outside_claims(ecs, ""), "the ECS line");
    leftover(cef, "the CEF line");
    leftover(leef, "the LEEF line");
    let mut ocsf_rest: Value = serde_json::from_str(&outside_claims(ocsf, "/unmapped")).unwrap();
    for key in ["log", "sluice", "event.created", "event"] {
        ocsf_rest["unmapped"].as_object_mut().unwrap().remove(key);
    }
    leftover(ocsf_rest.to_string(), "the OCSF event");
}
