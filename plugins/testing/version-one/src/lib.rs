//! Test plugin: tags each event with version 1 (see `../version.rs`).

const VERSION: u64 = 1;

include!("../../version.rs");
