//! C, with Debian's clang-16 and wasi-libc, made a component by `sluice plugin wrap`.

use super::{build_example, check_example};
use crate::support::Scratch;
use std::path::Path;
use std::process::Command;
use std::sync::Once;

/// The Debian packages the C example builds with (see its build.sh).
const PACKAGES: [&str; 4] = ["clang-16", "lld-16", "libclang-rt-16-dev-wasm32", "wasi-libc"];

/// Install the toolchain from Debian when it is missing, as the interop
/// tests install their syslog peers.
fn ensure_toolchain() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| crate::support::apt_install("the C example", &PACKAGES));
}

#[test]
fn the_c_example_labels_drops_and_fails_events_in_the_router() {
    ensure_toolchain();
    let scratch = Scratch::new();
    let wasm = build_example(&scratch, "c", &[]);
    check_example(&scratch, &wasm);
}

/// The example's hand-written JSON helper, checked natively (well under a
/// second): what the router test cannot reach, such as malformed escapes,
/// numbers and nesting.
#[test]
fn the_c_examples_json_helper_passes_its_native_checks() {
    ensure_toolchain();
    let scratch = Scratch::new();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/plugins/c");
    let exe = scratch.path("json_test");
    let build = Command::new("clang-16")
        .args(["-O1", "-Wall", "-Wextra", "-Werror"])
        .arg(dir.join("json_test.c"))
        .arg(dir.join("json.c"))
        .arg("-o")
        .arg(&exe)
        .output()
        .expect("run clang-16");
    assert!(build.status.success(), "compiling json_test.c:\n{}", String::from_utf8_lossy(&build.stderr));
    let run = Command::new(&exe).output().expect("run json_test");
    assert!(run.status.success(), "json_test:\n{}", String::from_utf8_lossy(&run.stderr));
}
