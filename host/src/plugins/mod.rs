//! WebAssembly plugins: the sandboxed runtime, the compiled-code cache, the
//! registry that finds a plugin by the name a config gives it, and the tools
//! that help authors build one (check, wrap, bindings, new).

pub mod bindings;
pub mod cache;
pub mod check;
pub mod contract;
pub mod deadline;
pub mod edits;
pub mod file;
pub mod guest_text;
pub mod registry;
pub mod reload;
pub mod runtime;
pub mod sandbox;
pub mod scaffold;
pub mod slots;
pub mod state;
pub mod worlds;
pub mod wrap;

pub use registry::Registry;
pub use runtime::{CallFailure, Instance, Limits, Plugin, Runtime};
pub use sandbox::{Grants, PluginClock};
pub use worlds::{Contract, Metadata, Outcome};

include!(concat!(env!("OUT_DIR"), "/builtin_plugins.rs"));
