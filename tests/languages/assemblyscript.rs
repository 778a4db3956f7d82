//! AssemblyScript, with npm's assemblyscript (asc), made a component by
//! `sluice plugin wrap --encoding utf16`.

use super::{build_example, check_example, check_sdk_imports};
use crate::support::Scratch;
use std::process::Command;

/// Node.js and npm, which build.sh needs to install and run asc; it installs
/// assemblyscript itself. Checked by running npm, not by package name, because
/// a machine may have Node.js from elsewhere than Debian.
fn ensure_npm() {
    let has = || Command::new("npm").arg("--version").output().is_ok_and(|o| o.status.success());
    if !has() {
        crate::support::apt_install("the AssemblyScript example", &["nodejs", "npm"]);
        assert!(has(), "the AssemblyScript example needs Node.js and npm");
    }
}

#[test]
fn the_assemblyscript_example_labels_drops_and_fails_events_in_the_router() {
    ensure_npm();
    let scratch = Scratch::new();
    let wasm = build_example(&scratch, "assemblyscript", &[]);
    check_example(&scratch, &wasm);
}

#[test]
fn the_assemblyscript_sdk_reaches_the_clock_and_the_state_and_answers_every_outcome() {
    ensure_npm();
    let scratch = Scratch::new();
    check_sdk_imports(&scratch, "assemblyscript", "plugin.ts");
}
