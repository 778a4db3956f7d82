//! JavaScript, with componentize-js (StarlingMonkey) from npm's
//! `@bytecodealliance/componentize-js`.

use super::{build_example, check_example};
use crate::support::Scratch;
use std::process::Command;

/// The Debian packages that give `build.sh` its `npm`; it installs
/// componentize-js itself.
const PACKAGES: [&str; 2] = ["nodejs", "npm"];

fn ensure_npm() {
    let has = || Command::new("npm").arg("--version").output().is_ok_and(|o| o.status.success());
    if !has() {
        crate::support::apt_install("the JavaScript example", &PACKAGES);
    }
}

#[test]
fn the_js_example_labels_drops_and_fails_events_in_the_router() {
    ensure_npm();
    let scratch = Scratch::new();
    let wasm = build_example(&scratch, "js", &[]);
    check_example(&scratch, &wasm);
}
