//! Zig, with PyPI's ziglang, over the C bindings from `sluice plugin bindings`
//! (turned into Zig by `zig translate-c`), made a component by `sluice plugin wrap`.

use super::{build_example, check_example};
use crate::support::Scratch;
use std::process::Command;

/// PyPI's ziglang at the version the example is known to build with: Zig's
/// std changes between minor versions.
const ZIGLANG: &str = "ziglang==0.17.0";

fn ensure_zig() {
    let has = || {
        Command::new("python3")
            .args(["-m", "ziglang", "version"])
            .output()
            .is_ok_and(|o| o.status.success() && o.stdout.starts_with(b"0.17."))
    };
    if !has() {
        let pip = Command::new("python3").args(["-m", "pip", "install", "-q", ZIGLANG]).status();
        assert!(pip.is_ok_and(|s| s.success()) && has(), "the Zig example needs `pip install {ZIGLANG}`");
    }
}

#[test]
fn the_zig_example_labels_drops_and_fails_events_in_the_router() {
    ensure_zig();
    let scratch = Scratch::new();
    let wasm = build_example(&scratch, "zig", &[]);
    check_example(&scratch, &wasm);
}
