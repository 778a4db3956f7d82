//! Rust, with the sluice-plugin SDK and the wasm32-wasip2 target.

use super::{build_example, check_example};
use crate::support::Scratch;

#[test]
fn the_rust_example_labels_drops_and_fails_events_in_the_router() {
    let scratch = Scratch::new();
    let wasm = build_example(&scratch, "rust", &[]);
    check_example(&scratch, &wasm);
}
