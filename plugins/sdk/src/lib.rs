//! Write sluice plugins in Rust.
//!
//! A plugin is a type that implements [`Plugin`], exported with
//! [`export_plugin!`]; the crate is built for `wasm32-wasip2` and the result is
//! a WebAssembly component that the router loads. This crate hides the
//! generated bindings of the `sluice:plugin` WIT contract: the instance state,
//! the batch loop and the outcome encoding live here, so a plugin is only its
//! own logic. A plugin reads the event as text ([`Plugin::process`]) or typed
//! as the canonical agent event ([`Plugin::process_event`], module [`event`]).
//! Formatters share [`fields`] (mapping tables of paths, fallbacks and
//! constants) and [`time`] (reading an event's timestamps).
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
        path: "../../wit",
        world: "plugin",
        pub_export_macro: true,
        export_macro_name: "__export_sluice_bindings",
        default_bindings_module: "sluice_plugin::bindings",
    });
}

pub mod event;
pub mod fields;
pub mod log;
pub mod projection;
pub mod raw;
pub mod time;

pub use event::AgentEvent;

use bindings::Outcome as WitOutcome;
use std::cell::RefCell;
use std::thread::LocalKey;

/// What happens to one event after this plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Pass the event on unchanged.
    Keep,
    /// Pass on this JSON text (an object) instead of the event.
    Replace(String),
    /// Filter the event out on purpose.
    Drop,
    /// Pass the event on with this formatted line for the sinks.
    Emit(String),
    /// Send the event to the dead-letter output with this reason.
    Fail(String),
}

impl Outcome {
    /// Pass on `event`, as changed, instead of the event that came in.
    pub fn replace_with(event: &AgentEvent) -> Outcome {
        Outcome::Replace(event.to_json())
    }
}

impl From<Outcome> for WitOutcome {
    fn from(outcome: Outcome) -> Self {
        match outcome {
            Outcome::Keep => WitOutcome::Keep(None),
            Outcome::Replace(json) => WitOutcome::Keep(Some(json)),
            Outcome::Drop => WitOutcome::Drop,
            Outcome::Emit(line) => WitOutcome::Emit(line),
            Outcome::Fail(reason) => WitOutcome::Fail(reason),
        }
    }
}

/// A sluice plugin.
///
/// One value lives in each plugin instance, from `configure` to the instance's
/// end, so it may keep state between events and batches.
///
/// Implement one of [`process`](Plugin::process) (the event as JSON text) or
/// [`process_event`](Plugin::process_event) (the event typed as an
/// [`AgentEvent`]).
pub trait Plugin: Sized + 'static {
    /// Build the plugin from its `config` table (an empty object when the
    /// router's config has none). An error rejects the plugin at load time;
    /// name the offending key in it.
    fn configure(config: serde_json::Value) -> Result<Self, String>;

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
        // Both methods have defaults so either may be the one implemented; a
        // plugin that implements neither says so on every event.
        Outcome::Fail("the plugin implements neither `process` nor `process_event`".to_owned())
    }

    /// Handle a batch; the default calls [`Plugin::process`] for each event.
    /// Override it to share work across a batch.
    fn process_batch(&mut self, batch: &[String]) -> Vec<Outcome> {
        batch.iter().map(|event| self.process(event)).collect()
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

#[doc(hidden)]
pub fn __configure<P: Plugin>(slot: &'static LocalKey<RefCell<Option<P>>>, config: String) -> Result<(), String> {
    let config = if config.trim().is_empty() {
        serde_json::Value::Object(Default::default())
    } else {
        serde_json::from_str(&config).map_err(|err| format!("config is not valid JSON: {err}"))?
    };
    let plugin = P::configure(config)?;
    slot.with(|cell| *cell.borrow_mut() = Some(plugin));
    Ok(())
}

#[doc(hidden)]
pub fn __process<P: Plugin>(slot: &'static LocalKey<RefCell<Option<P>>>, batch: Vec<String>) -> Vec<WitOutcome> {
    slot.with(|cell| match cell.borrow_mut().as_mut() {
        Some(plugin) => {
            let outcomes = plugin.process_batch(&batch);
            // The host checks the count too; failing here names the culprit.
            assert_eq!(outcomes.len(), batch.len(), "process_batch must return one outcome per event");
            outcomes.into_iter().map(WitOutcome::from).collect()
        }
        None => batch.iter().map(|_| WitOutcome::Fail("plugin was not initialised".to_owned())).collect(),
    })
}

/// Export a [`Plugin`] implementation as the component's `sluice:plugin` world.
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ty) => {
        thread_local! {
            static __SLUICE_PLUGIN: ::core::cell::RefCell<::core::option::Option<$plugin>> =
                const { ::core::cell::RefCell::new(::core::option::Option::None) };
        }
        struct __SluiceExport;
        impl $crate::bindings::Guest for __SluiceExport {
            fn configure(config: ::std::string::String) -> ::core::result::Result<(), ::std::string::String> {
                $crate::__configure::<$plugin>(&__SLUICE_PLUGIN, config)
            }
            fn process(batch: ::std::vec::Vec<::std::string::String>) -> ::std::vec::Vec<$crate::bindings::Outcome> {
                $crate::__process::<$plugin>(&__SLUICE_PLUGIN, batch)
            }
        }
        $crate::bindings::__export_sluice_bindings!(__SluiceExport with_types_in $crate::bindings);
    };
}
