//! The contract versions this router runs, side by side: 0.3 (`wit/plugin.wit`)
//! and 0.2 (`wit/v0.2/plugin.wit`), and what a plugin's answer means in the
//! host's own terms ([`Outcome`]) whichever version it was built against.

use super::edits::Edit;

pub(crate) mod v03 {
    wasmtime::component::bindgen!({ path: "../wit/plugin.wit", world: "plugin" });
}

pub(crate) mod v02 {
    wasmtime::component::bindgen!({ path: "../wit/v0.2/plugin.wit", world: "plugin" });
}

/// A contract version a plugin is built against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Contract {
    V02,
    V03,
}

impl Contract {
    /// The version as the WIT package spells it (`0.3.0`).
    pub fn version(self) -> &'static str {
        match self {
            Contract::V02 => "0.2.0",
            Contract::V03 => "0.3.0",
        }
    }
}

impl std::fmt::Display for Contract {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "sluice:plugin@{}", self.version())
    }
}

/// Who a plugin says it is (0.3's `metadata`; a 0.2 plugin says nothing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    pub name: String,
    pub version: String,
    /// The contract version the plugin says it was built against.
    pub contract: String,
}

/// What happens to one event after a plugin, in either contract version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Pass the event on as it came in.
    Keep,
    /// Pass on this JSON text instead (checked to be an object).
    Replace(String),
    /// Pass the event on with these changes.
    Edit(Vec<Edit>),
    /// Pass the event on with this formatted line.
    Emit(String),
    /// Pass on these events (JSON objects) in its place.
    Split(Vec<String>),
    /// Filter the event out on purpose.
    Drop,
    /// Dead-letter the event with this reason.
    Fail(String),
}

impl Outcome {
    /// The reason text a plugin handed back, if any, for bounding.
    pub(super) fn reason_mut(&mut self) -> Option<&mut String> {
        match self {
            Outcome::Fail(reason) => Some(reason),
            _ => None,
        }
    }
}

impl From<v02::Outcome> for Outcome {
    fn from(outcome: v02::Outcome) -> Self {
        match outcome {
            v02::Outcome::Keep(None) => Outcome::Keep,
            v02::Outcome::Keep(Some(json)) => Outcome::Replace(json),
            v02::Outcome::Drop => Outcome::Drop,
            v02::Outcome::Emit(line) => Outcome::Emit(line),
            v02::Outcome::Fail(reason) => Outcome::Fail(reason),
        }
    }
}

impl From<v03::Outcome> for Outcome {
    fn from(outcome: v03::Outcome) -> Self {
        match outcome {
            v03::Outcome::Keep => Outcome::Keep,
            v03::Outcome::Replace(json) => Outcome::Replace(json),
            v03::Outcome::Edit(edits) => Outcome::Edit(edits.into_iter().map(Edit::from).collect()),
            v03::Outcome::Emit(line) => Outcome::Emit(line),
            v03::Outcome::Split(children) => Outcome::Split(children),
            v03::Outcome::Drop => Outcome::Drop,
            v03::Outcome::Fail(reason) => Outcome::Fail(reason),
        }
    }
}

impl From<v03::Edit> for Edit {
    fn from(edit: v03::Edit) -> Self {
        match edit {
            v03::Edit::Set(field) => Edit::Set { path: field.path, value: field.value },
            v03::Edit::Remove(path) => Edit::Remove(path),
            v03::Edit::Rename(moved) => Edit::Rename { from: moved.from, to: moved.to },
        }
    }
}

impl From<v03::Metadata> for Metadata {
    fn from(m: v03::Metadata) -> Self {
        Metadata { name: m.name, version: m.version, contract: m.contract }
    }
}
