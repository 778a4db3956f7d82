//! WebAssembly plugins: the sandboxed runtime, the compiled-code cache, the
//! registry that finds a plugin by the name a config gives it, and the tools
//! that help authors build one (check, wrap, bindings, new).

pub mod bindings;
pub mod cache;
pub mod check;
pub mod contract;
pub mod deadline;
pub mod file;
pub mod guest_text;
pub mod registry;
pub mod reload;
pub mod runtime;
pub mod sandbox;
pub mod scaffold;
pub mod state;
pub mod wrap;

pub use registry::Registry;
pub use runtime::{CallFailure, Instance, Limits, Outcome, Plugin, Runtime};

include!(concat!(env!("OUT_DIR"), "/builtin_plugins.rs"));
