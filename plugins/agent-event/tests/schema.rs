//! The plugin's output satisfies `docs/agent-event.schema.json`: every line
//! of the shared corpus `plugins/testdata/canonical-events.jsonl` (which
//! covers every `event.kind`) and every OTLP/JSON sample is normalised and
//! validated. A line that already satisfies the schema is a canonical event,
//! so normalising it must leave it exactly as it is: formatter tests read
//! those lines as the plugin's output. (Some lines are deliberately not
//! canonical, such as a numeric `time` or a severity of 12, to test how
//! formatters cope; for those only the output is checked.)

use serde_json::{Value, json};
use sluice_plugin::{Outcome, Plugin};
use sluice_plugin_agent_event::AgentEvent;
use std::path::{Path, PathBuf};

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn validator() -> jsonschema::Validator {
    let path = manifest_dir().join("../../docs/agent-event.schema.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    jsonschema::draft202012::options().should_validate_formats(true).build(&schema).expect("the schema compiles")
}

fn normalise(event: &str) -> Result<Value, String> {
    match AgentEvent::configure(json!({})).unwrap().process(event) {
        Outcome::Replace(json) => Ok(serde_json::from_str(&json).unwrap()),
        Outcome::Fail(reason) => Err(reason),
        other => panic!("unexpected outcome {other:?}"),
    }
}

fn assert_valid(validator: &jsonschema::Validator, what: &str, event: &Value) {
    let errors: Vec<String> = validator.iter_errors(event).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "{what} does not satisfy the schema:\n{}\n{event}", errors.join("\n"));
}

fn corpus() -> Vec<(usize, String)> {
    let path = manifest_dir().join("../testdata/canonical-events.jsonl");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    text.lines().enumerate().filter(|(_, line)| !line.trim().is_empty()).map(|(n, l)| (n + 1, l.to_owned())).collect()
}

#[test]
fn corpus_events_normalise_to_schema_events_and_canonical_ones_to_themselves() {
    let validator = validator();
    let mut kinds = std::collections::BTreeSet::new();
    let mut canonical = 0;
    for (number, line) in corpus() {
        let given: Value = serde_json::from_str(&line).unwrap_or_else(|err| panic!("line {number}: {err}"));
        let output = normalise(&line).unwrap_or_else(|reason| panic!("line {number} failed: {reason}"));
        assert_valid(&validator, &format!("corpus line {number} normalised"), &output);
        if validator.is_valid(&given) {
            assert_eq!(output, given, "line {number} satisfies the schema, yet normalising changed it");
            canonical += 1;
        }
        kinds.insert(output["event"]["kind"].as_str().unwrap().to_owned());
    }
    assert!(canonical >= 25, "only {canonical} corpus lines are canonical as written");
    let all = ["prompt", "reasoning", "tool_call", "api_call", "retrieval", "authz", "output", "error", "lifecycle"];
    assert_eq!(kinds, all.iter().map(|k| (*k).to_owned()).collect(), "the corpus covers every kind");
}

#[test]
fn corpus_events_from_a_syslog_envelope_satisfy_the_schema() {
    let validator = validator();
    for (number, line) in corpus() {
        let envelope = json!({
            "message": line,
            "syslog": {"facility": 10, "severity": 5, "hostname": "agent-gw", "app_name": "agents",
                       "format": "rfc5424"},
            "source": {"id": "syslog", "address": "10.0.0.7:5514"},
            "received_at": "2026-11-26T12:31:00.5Z",
        });
        let output = normalise(&envelope.to_string()).unwrap_or_else(|reason| panic!("line {number}: {reason}"));
        assert_valid(&validator, &format!("corpus line {number} in an envelope"), &output);
        assert_eq!(output["syslog"]["hostname"], "agent-gw");
    }
}

#[test]
fn otlp_samples_normalise_to_schema_events() {
    let validator = validator();
    let dir = manifest_dir().join("tests/otlp");
    let mut samples: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|entry| entry.unwrap().path()).collect();
    samples.sort();
    let mut normalised = 0;
    for path in samples {
        let text = std::fs::read_to_string(&path).unwrap();
        let document: Value = serde_json::from_str(&text).unwrap();
        let envelope = json!({"message": document.to_string(), "received_at": "2026-11-26T12:31:00Z"});
        // Documents with several records fail by design; `tests/otlp.rs` checks the reason.
        if let Ok(output) = normalise(&envelope.to_string()) {
            assert_valid(&validator, &path.display().to_string(), &output);
            normalised += 1;
        }
    }
    assert!(normalised >= 5, "only {normalised} samples normalised");
}

#[test]
fn the_schema_rejects_what_the_plugin_never_writes() {
    let validator = validator();
    let good: Value = serde_json::from_str(&corpus()[0].1).unwrap();
    let broken = |path: &str, value: Value| {
        let mut event = good.clone();
        *event.pointer_mut(path).unwrap_or_else(|| panic!("{path}")) = value;
        validator.is_valid(&event)
    };
    assert!(validator.is_valid(&good));
    assert!(!broken("/event/kind", json!("deploy")));
    assert!(!broken("/event/severity", json!(11)));
    assert!(!broken("/agent/id", json!(" ")));
    assert!(!broken("/time", json!("2026-11-26T14:00:00+02:00")), "time is in UTC");
    assert!(!broken("/delegation/chain", json!("user:alice")));
    assert!(!broken("/labels", json!([1])));
    let mut no_agent = good.clone();
    no_agent.as_object_mut().unwrap().remove("agent");
    assert!(!validator.is_valid(&no_agent));
}
