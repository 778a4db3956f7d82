//! WebAssembly plugins: the sandboxed runtime, the compiled-code cache, and the
//! registry that finds a plugin by the name a config gives it.

pub mod cache;
pub mod check;
pub mod registry;
pub mod reload;
pub mod runtime;
pub mod sandbox;

pub use registry::Registry;
pub use runtime::{CallFailure, Instance, Limits, Outcome, Plugin, Runtime};

include!(concat!(env!("OUT_DIR"), "/builtin_plugins.rs"));
