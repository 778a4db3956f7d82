//! `sluice plugin check`: try a plugin before deploying it — load it, say
//! which contract it targets and who it says it is, run its `configure` with
//! a config, run a batch of events through it and show what it did with
//! each. A replaced or split event is held to the router's own check
//! ([`check_object`]) and edits are applied as the router applies them, so
//! what passes here is not dead-lettered there.

use super::Outcome;
use super::runtime::{Limits, Runtime};
use crate::sources::demo::generate;
use crate::transforms::wasm::{Applied, apply};
use anyhow::Context;
use std::io::Write;
use std::path::Path;

/// The prefix of the contract's interfaces in a component's imports.
const CONTRACT: &str = "sluice:plugin/";

/// Events a plugin can be tried on: the demo's agent sessions, normalised by
/// the built-in `agent-event` so that formatters get canonical events.
pub fn demo_events(runtime: &Runtime, count: u64) -> anyhow::Result<Vec<String>> {
    let (_, bytes) =
        super::BUILTIN.iter().find(|(name, _)| *name == "agent-event").context("agent-event is built in")?;
    let mut normalise = runtime.load("agent-event", bytes)?.instantiate("check", "{}", Limits::default())?;
    let raw: Vec<String> = (0..count)
        .map(|i| serde_json::json!({"message": generate(42, i), "received_at": crate::timestamp::now_rfc3339()}))
        .map(|event| event.to_string())
        .collect();
    let outcomes = normalise.process(&raw).map_err(|failure| anyhow::anyhow!("{failure}"))?;
    Ok(raw
        .into_iter()
        .zip(outcomes)
        .filter_map(|(event, outcome)| match outcome {
            Outcome::Keep => Some(event),
            Outcome::Replace(json) => Some(json),
            _ => None,
        })
        .collect())
}

/// Check the plugin in `path` and report on `out`. Returns whether it passed:
/// it loaded, its `configure` accepted `config_json`, the batch call returned,
/// and every event it replaced is one the router would accept.
pub fn check(
    runtime: &Runtime,
    path: &Path,
    config_json: &str,
    events: &[String],
    out: &mut impl Write,
) -> anyhow::Result<bool> {
    let bytes = super::file::read(path, super::file::DEFAULT_MAX_BYTES)
        .with_context(|| format!("reading {}", path.display()))?;
    let name = path.file_stem().map_or_else(|| "plugin".into(), |s| s.to_string_lossy().into_owned());
    let plugin = match runtime.load(&name, &bytes) {
        Ok(plugin) => plugin,
        Err(err) => {
            writeln!(out, "load: FAILED: {err:#}")?;
            return Ok(false);
        }
    };
    let imports = plugin.imports();
    writeln!(
        out,
        "load: ok ({} bytes, sha256 {}, compiled in {:.1} ms)",
        bytes.len(),
        plugin.digest(),
        plugin.load_time().as_secs_f64() * 1e3
    )?;
    writeln!(out, "contract: {}", plugin.contract())?;
    let other: Vec<&String> = imports.iter().filter(|i| !i.starts_with(CONTRACT)).collect();
    if !other.is_empty() {
        let names: Vec<&str> = other.iter().map(|s| s.as_str()).collect();
        writeln!(out, "also imports (sandboxed, nothing granted): {}", names.join(", "))?;
    }
    let mut instance = match plugin.instantiate("check", config_json, Limits::default()) {
        Ok(instance) => {
            if let Some(meta) = instance.metadata() {
                writeln!(out, "metadata: {} {} (built against contract {})", meta.name, meta.version, meta.contract)?;
                if meta.contract != plugin.contract().version() {
                    writeln!(
                        out,
                        "warning: the metadata names contract {}, the component implements {}",
                        meta.contract,
                        plugin.contract()
                    )?;
                }
            }
            writeln!(out, "configure: ok with config {config_json}")?;
            instance
        }
        Err(err) => {
            writeln!(out, "configure: FAILED: {err:#}")?;
            return Ok(false);
        }
    };
    let outcomes = match instance.process(events) {
        Ok(outcomes) => outcomes,
        Err(failure) => {
            writeln!(out, "process: FAILED on a batch of {}: {failure}", events.len())?;
            return Ok(false);
        }
    };
    let mut counts = [0usize; 7];
    for (i, (event, outcome)) in events.iter().zip(outcomes).enumerate() {
        let edited = matches!(outcome, Outcome::Edit(_));
        let (slot, text) = match apply(plugin.name(), event, outcome) {
            Applied::Unchanged => (0, "keep (unchanged)".to_owned()),
            Applied::Rewritten(json) if edited => (1, format!("keep (edited): {json}")),
            Applied::Rewritten(json) => (1, format!("keep (rewritten): {json}")),
            Applied::Line(line) => (2, format!("emit: {line}")),
            Applied::Children(children) => (3, format!("split into {}: {}", children.len(), children.join(" "))),
            Applied::Dropped => (4, "drop".to_owned()),
            Applied::Failed(reason) => (5, format!("fail: {reason}")),
            // The same words the router's dead-letter record gives.
            Applied::Invalid(reason) => (6, format!("INVALID: {reason}")),
        };
        counts[slot] += 1;
        writeln!(out, "event {i}: {text}")?;
    }
    let invalid = counts[6];
    writeln!(
        out,
        "process: {}, {} events: {} kept unchanged, {} rewritten, {} emitted, {} split, {} dropped, {} failed, \
         {invalid} invalid",
        if invalid == 0 { "ok" } else { "FAILED" },
        events.len(),
        counts[0],
        counts[1],
        counts[2],
        counts[3],
        counts[4],
        counts[5]
    )?;
    if invalid > 0 {
        writeln!(
            out,
            "the router would dead-letter the {invalid} invalid events: a replaced or split event must be one JSON \
             object, and edits must apply"
        )?;
    }
    Ok(invalid == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test_plugin(name: &str) -> std::path::PathBuf {
        format!("{}/{name}.wasm", env!("SLUICE_TEST_PLUGINS")).into()
    }

    /// An event the router would dead-letter because the plugin replaced it
    /// with something that is not a JSON object fails the check, and the
    /// problem is printed against that event.
    #[test]
    fn replacements_the_router_would_refuse_fail_the_check() {
        let runtime = Runtime::new(None).unwrap();
        let events: Vec<String> = ["fine", "BADJSON", "NOTOBJECT"]
            .iter()
            .map(|message| serde_json::json!({ "message": message }).to_string())
            .collect();
        let mut out = Vec::new();
        let passed = check(&runtime, &test_plugin("misbehave"), "{}", &events, &mut out).unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(!passed, "{out}");
        assert!(out.contains("event 0: keep (unchanged)"), "{out}");
        assert!(out.contains("event 1: INVALID: plugin `misbehave` returned text that is not valid JSON ("), "{out}");
        assert!(
            out.contains("event 2: INVALID: plugin `misbehave` returned JSON that is not an object (an array)"),
            "{out}"
        );
        assert!(
            out.contains(
                "process: FAILED, 3 events: 1 kept unchanged, 0 rewritten, 0 emitted, 0 split, 0 dropped, 0 failed, 2 invalid"
            ),
            "{out}"
        );

        // Valid replacements still pass.
        let mut out = Vec::new();
        let events = [r#"{"message":"one"}"#.to_owned()];
        assert!(check(&runtime, &test_plugin("version-one"), "{}", &events, &mut out).unwrap());
        let out = String::from_utf8(out).unwrap();
        assert!(
            out.contains(
                "process: ok, 1 events: 0 kept unchanged, 1 rewritten, 0 emitted, 0 split, 0 dropped, 0 failed, 0 invalid"
            ),
            "{out}"
        );
    }
}
