//! Write sluice plugins in Rust.
//!
//! A plugin is a type that implements [`Plugin`], exported with
//! [`export_plugin!`]; the crate is built for `wasm32-wasip2` and the result is
//! a WebAssembly component that the router loads. This crate hides the
//! generated bindings of the `sluice:plugin@0.3.0` WIT contract: the instance
//! state, the batch loop and the outcome encoding live here, so a plugin is
//! only its own logic.
//!
//! A plugin reads the event as text ([`Plugin::process`]), typed as the
//! canonical agent event ([`Plugin::process_event`], module [`event`]), or —
//! fastest — through the fields it declared ([`Plugin::reads`] and
//! [`Plugin::process_declared`], module [`declared`]), which the router
//! located natively so that nothing scans the event. It answers with an
//! [`Outcome`]: keep, replace, a few [`Edit`]s, a formatted line, several
//! events in its place, drop or fail. Formatters share [`fields`] (mapping
//! tables of paths, fallbacks and constants) and [`time`] (reading an
//! event's timestamps); [`clock`] and [`state`] are the router's clock and
//! the transform's key-value store.
//!
//! ```no_run
//! use sluice_plugin::{Outcome, Plugin, export_plugin};
//!
//! struct Upper;
//! impl Plugin for Upper {
//!     fn configure(_config: serde_json::Value) -> Result<Self, String> { Ok(Upper) }
//!     fn process(&mut self, event: &str) -> Outcome {
//!         Outcome::Replace(event.to_uppercase())
//!     }
//! }
//! export_plugin!(Upper);
//! ```

/// The bindings generated from `wit/plugin.wit`; plugins rarely need them.
#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit/plugin.wit",
        world: "plugin",
        pub_export_macro: true,
        export_macro_name: "__export_sluice_bindings",
        default_bindings_module: "sluice_plugin::bindings",
    });
}

pub mod clock;
pub mod config;
pub mod declared;
pub mod event;
pub mod fields;
pub mod log;
pub mod projection;
pub mod raw;
pub mod state;
pub mod time;

pub use declared::{Batch, Declared, Reads};
pub use event::AgentEvent;

use bindings::Outcome as WitOutcome;
use std::cell::RefCell;
use std::thread::LocalKey;

/// The contract version this SDK builds plugins against.
pub const CONTRACT: &str = "0.3.0";

/// What happens to one event after this plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Pass the event on unchanged.
    Keep,
    /// Pass on this JSON text (an object) instead of the event.
    Replace(String),
    /// Pass the event on with these changes, applied by the router in order.
    Edit(Vec<Edit>),
    /// Pass the event on with this formatted line for the sinks.
    Emit(String),
    /// Pass on these events (JSON objects) in its place, in this order; the
    /// source counts the event delivered once all of them are.
    Split(Vec<String>),
    /// Filter the event out on purpose.
    Drop,
    /// Send the event to the dead-letter output with this reason.
    Fail(String),
}

impl Outcome {
    /// Pass on `event`, as changed, instead of the event that came in.
    pub fn replace_with(event: &AgentEvent) -> Outcome {
        Outcome::Replace(event.to_json())
    }
}

/// One change to an event; paths are dotted (`agent.id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    /// Set the value at `path` (JSON text), creating the objects along it.
    Set { path: String, value: String },
    /// Remove the member at this path, if it is there.
    Remove(String),
    /// Move the value at `from` to `to`, if there is one.
    Rename { from: String, to: String },
}

impl Edit {
    /// Set `path` to `value`.
    pub fn set(path: impl Into<String>, value: &serde_json::Value) -> Edit {
        Edit::Set { path: path.into(), value: value.to_string() }
    }

    /// Set `path` to the string `text`.
    pub fn set_string(path: impl Into<String>, text: &str) -> Edit {
        Edit::Set { path: path.into(), value: serde_json::to_string(text).expect("a string always serialises") }
    }
}

impl From<Edit> for bindings::Edit {
    fn from(edit: Edit) -> Self {
        match edit {
            Edit::Set { path, value } => bindings::Edit::Set(bindings::Field { path, value }),
            Edit::Remove(path) => bindings::Edit::Remove(path),
            Edit::Rename { from, to } => bindings::Edit::Rename(bindings::Move { from, to }),
        }
    }
}

impl From<Outcome> for WitOutcome {
    fn from(outcome: Outcome) -> Self {
        match outcome {
            Outcome::Keep => WitOutcome::Keep,
            Outcome::Replace(json) => WitOutcome::Replace(json),
            Outcome::Edit(edits) => WitOutcome::Edit(edits.into_iter().map(Into::into).collect()),
            Outcome::Emit(line) => WitOutcome::Emit(line),
            Outcome::Split(children) => WitOutcome::Split(children),
            Outcome::Drop => WitOutcome::Drop,
            Outcome::Fail(reason) => WitOutcome::Fail(reason),
        }
    }
}

/// A sluice plugin.
///
/// One value lives in each plugin instance, from `configure` to the instance's
/// end, so it may keep state between events and batches (and in [`state`]
/// beyond the instance).
///
/// Implement one of [`process`](Plugin::process) (the event as JSON text),
/// [`process_event`](Plugin::process_event) (the event typed as an
/// [`AgentEvent`]) or, with [`reads`](Plugin::reads),
/// [`process_declared`](Plugin::process_declared).
pub trait Plugin: Sized + 'static {
    /// Build the plugin from its `config` table (an empty object when the
    /// router's config has none). An error rejects the plugin at load time;
    /// name the offending key in it.
    fn configure(config: serde_json::Value) -> Result<Self, String>;

    /// The dotted paths this plugin reads (`agent.id`), asked once after
    /// [`configure`](Plugin::configure): the router locates them in every
    /// event, and [`Declared`] reads them in this order. None by default.
    fn reads(&self) -> Vec<String> {
        Vec::new()
    }

    /// Handle one event with the fields it declared located; the default
    /// hands its text to [`Plugin::process`].
    fn process_declared(&mut self, event: &Declared<'_>) -> Outcome {
        self.process(event.text())
    }

    /// Handle one event, given as JSON text. The default reads it as an
    /// [`AgentEvent`] for [`Plugin::process_event`], and fails an event that
    /// is not a JSON object.
    fn process(&mut self, event: &str) -> Outcome {
        match AgentEvent::parse(event) {
            Ok(event) => self.process_event(event),
            Err(reason) => Outcome::Fail(reason),
        }
    }

    /// Handle one event, typed; called by the default [`Plugin::process`]
    /// only. Write it back with [`Outcome::replace_with`].
    fn process_event(&mut self, _event: AgentEvent) -> Outcome {
        // The methods have defaults so any may be the one implemented; a
        // plugin that implements none says so on every event.
        Outcome::Fail("the plugin implements none of `process_declared`, `process` or `process_event`".to_owned())
    }

    /// Handle a batch; the default calls [`Plugin::process_declared`] for
    /// each event. Override it to share work across a batch.
    fn process_batch(&mut self, batch: &Batch<'_>) -> Vec<Outcome> {
        batch.iter().map(|event| self.process_declared(&event)).collect()
    }
}

/// Parse an event's JSON text into an object, or explain why it is not one.
pub fn parse_object(event: &str) -> Result<serde_json::Map<String, serde_json::Value>, String> {
    match serde_json::from_str(event) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        Ok(_) => Err("event is JSON but not an object".to_owned()),
        Err(err) => Err(format!("event is not valid JSON: {err}")),
    }
}

/// An event object as compact JSON text. Faster than `Value::to_string`,
/// which goes through `fmt::Display` and writes piece by piece.
pub fn object_to_json(event: &serde_json::Map<String, serde_json::Value>) -> String {
    // Cannot fail: keys are strings and a `Value` holds only finite numbers.
    serde_json::to_string(event).expect("a JSON object always serialises")
}

/// The instance's plugin and the paths it declared.
#[doc(hidden)]
pub struct Slot<P> {
    plugin: P,
    reads: Reads,
}

#[doc(hidden)]
pub fn __metadata(name: &str, version: &str) -> bindings::Metadata {
    bindings::Metadata { name: name.to_owned(), version: version.to_owned(), contract: CONTRACT.to_owned() }
}

#[doc(hidden)]
pub fn __configure<P: Plugin>(
    slot: &'static LocalKey<RefCell<Option<Slot<P>>>>,
    config: String,
) -> Result<Vec<String>, String> {
    let config = if config.trim().is_empty() {
        serde_json::Value::Object(Default::default())
    } else {
        serde_json::from_str(&config).map_err(|err| format!("config is not valid JSON: {err}"))?
    };
    let plugin = P::configure(config)?;
    let reads = plugin.reads();
    slot.with(|cell| *cell.borrow_mut() = Some(Slot { plugin, reads: Reads::new(reads.clone()) }));
    Ok(reads)
}

#[doc(hidden)]
pub fn __process<P: Plugin>(
    slot: &'static LocalKey<RefCell<Option<Slot<P>>>>,
    batch: bindings::Batch,
) -> Vec<WitOutcome> {
    slot.with(|cell| match cell.borrow_mut().as_mut() {
        Some(Slot { plugin, reads }) => match Batch::from_router(&batch.text, &batch.ends, &batch.slots, reads) {
            Ok(view) => {
                let outcomes = plugin.process_batch(&view);
                // The host checks the count too; failing here names the culprit.
                assert_eq!(outcomes.len(), view.len(), "process_batch must return one outcome per event");
                outcomes.into_iter().map(WitOutcome::from).collect()
            }
            Err(reason) => batch.ends.iter().map(|_| WitOutcome::Fail(reason.clone())).collect(),
        },
        None => batch.ends.iter().map(|_| WitOutcome::Fail("plugin was not initialised".to_owned())).collect(),
    })
}

/// Export a [`Plugin`] implementation as the component's `sluice:plugin`
/// world. Its metadata is the crate's name and version from Cargo.
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ty) => {
        thread_local! {
            static __SLUICE_PLUGIN: ::core::cell::RefCell<::core::option::Option<$crate::Slot<$plugin>>> =
                const { ::core::cell::RefCell::new(::core::option::Option::None) };
        }
        struct __SluiceExport;
        impl $crate::bindings::Guest for __SluiceExport {
            fn metadata() -> $crate::bindings::Metadata {
                $crate::__metadata(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"))
            }
            fn configure(
                config: ::std::string::String,
            ) -> ::core::result::Result<::std::vec::Vec<::std::string::String>, ::std::string::String> {
                $crate::__configure::<$plugin>(&__SLUICE_PLUGIN, config)
            }
            fn process(batch: $crate::bindings::Batch) -> ::std::vec::Vec<$crate::bindings::Outcome> {
                $crate::__process::<$plugin>(&__SLUICE_PLUGIN, batch)
            }
        }
        $crate::bindings::__export_sluice_bindings!(__SluiceExport with_types_in $crate::bindings);
    };
}
