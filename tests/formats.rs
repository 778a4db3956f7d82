//! Formatter output read back by parsers that are not ours: what a SIEM's
//! collector would make of it.

mod support;

use std::process::Command;
use support::{Scratch, sluice};

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
