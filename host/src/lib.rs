//! sluice: a log router for AI-agent security events.
//!
//! Events come in from sources (files, standard input, syslog), pass through
//! WebAssembly plugins that parse, normalise, redact and format them, and go
//! out to sinks. The crate is the router; the `sluice` binary is its command
//! line. Modules follow one concept each: [`config`] reads and checks the
//! TOML, [`topology`] wires and runs the graph, [`event`] and [`ack`] are what
//! flows through it, [`plugins`] is the WebAssembly runtime.

pub mod ack;
pub mod api;
pub mod buffer;
pub mod config;
pub mod dead_letter;
pub mod demo;
pub mod event;
pub mod fanout;
pub mod file_identity;
pub mod internal_events;
pub mod log_limit;
pub mod metrics;
pub mod pipeline_tests;
pub mod plugins;
pub mod secrets;
pub mod sinks;
pub mod sources;
pub mod syslog;
pub mod timestamp;
pub mod tls;
pub mod topology;
pub mod transforms;
pub mod validation;
