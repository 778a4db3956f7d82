//! Test plugin: tags each event with version 2 (see `../version.rs`).

const VERSION: u64 = 2;

include!("../../version.rs");
