//! Golden-file checks shared by the formatters' tests (`cef`, `leef`, `json`).
//!
//! Each formatter's `tests/golden.rs` includes this file with `#[path]`, formats
//! every event of the shared corpus (`plugins/testdata/canonical-events.jsonl`,
//! one canonical event per line, covering every `event.kind` and every escaping
//! trap) and compares the lines with its expected output in
//! `tests/golden/<name>`, one output line per corpus line. Run the tests with
//! `SLUICE_BLESS=1` to rewrite the expected files from the current output
//! instead; the diff then shows a reviewer exactly what a change did.

use serde_json::Value;
use std::path::PathBuf;

/// The shared corpus, in file order.
pub fn corpus() -> Vec<Value> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/canonical-events.jsonl");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("read {}: {err}", path.display()));
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .enumerate()
        .map(|(n, line)| serde_json::from_str(line).unwrap_or_else(|err| panic!("{}:{}: {err}", path.display(), n + 1)))
        .collect()
}

/// Compare `lines` with `tests/golden/<name>`, or write them there when
/// `SLUICE_BLESS=1` is set.
pub fn check(name: &str, lines: &[String]) {
    for (n, line) in lines.iter().enumerate() {
        // One event, one line: a raw line break would also forge a new event
        // at the receiver.
        assert!(!line.contains(['\n', '\r']), "{name}: output {} holds a raw line break: {line:?}", n + 1);
    }
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(name);
    let actual: String = lines.iter().map(|line| format!("{line}\n")).collect();
    if std::env::var_os("SLUICE_BLESS").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &actual).unwrap_or_else(|err| panic!("write {}: {err}", path.display()));
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|err| {
        panic!("read {}: {err} (run the tests with SLUICE_BLESS=1 to create it)", path.display())
    });
    if expected == actual {
        return;
    }
    let expected: Vec<&str> = expected.lines().collect();
    let differs =
        (0..expected.len().max(lines.len())).find(|&i| expected.get(i).copied() != lines.get(i).map(String::as_str));
    let n = differs.expect("the files differ, so some line does");
    panic!(
        "{name}: line {} differs from {}\n expected: {:?}\n   actual: {:?}\n\
         (if the change is intended, run the tests with SLUICE_BLESS=1 and review the diff)",
        n + 1,
        path.display(),
        expected.get(n),
        lines.get(n),
    );
}
