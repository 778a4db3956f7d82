//! Python, with PyPI's componentize-py.

use super::{build_example, check_example};
use crate::support::Scratch;
use std::process::Command;

/// PyPI's componentize-py at the version the example is known to build with.
const COMPONENTIZE_PY: &str = "componentize-py==0.25.1";

fn ensure_componentize_py() {
    let has = || Command::new("componentize-py").arg("--version").output().is_ok_and(|o| o.status.success());
    if !has() {
        let pip = Command::new("python3").args(["-m", "pip", "install", "-q", COMPONENTIZE_PY]).status();
        assert!(pip.is_ok_and(|s| s.success()) && has(), "the Python example needs `pip install {COMPONENTIZE_PY}`");
    }
}

#[test]
fn the_python_example_labels_drops_and_fails_events_in_the_router() {
    ensure_componentize_py();
    let scratch = Scratch::new();
    let wasm = build_example(&scratch, "python", &[]);
    check_example(&scratch, &wasm);
}
