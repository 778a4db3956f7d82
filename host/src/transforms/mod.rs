//! Transforms: stages between sources and sinks.
//!
//! The only kind is `wasm`, a WebAssembly plugin; built-in parsing,
//! redaction and formatting are plugins too, so users replace them the same
//! way they add their own.

pub mod wasm;
pub mod workers;

use crate::validation::ConfigError;
use serde::Deserialize;

/// A `[transforms.<id>]` table, less its `inputs`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TransformConfig {
    /// Run a WebAssembly plugin on every batch.
    Wasm(wasm::WasmConfig),
}

/// The type names accepted in `type = "…"`, for error messages.
pub const TYPES: &[&str] = &["wasm"];

impl TransformConfig {
    /// The `type = "…"` of this transform.
    pub fn type_name(&self) -> &'static str {
        match self {
            TransformConfig::Wasm(_) => "wasm",
        }
    }

    /// Report every problem with this transform's settings.
    pub fn validate(&self, at: &str, errors: &mut Vec<ConfigError>) {
        match self {
            TransformConfig::Wasm(config) => config.validate(at, errors),
        }
    }
}
