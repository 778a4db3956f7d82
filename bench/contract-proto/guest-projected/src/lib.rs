//! Design B's guest: P1's reference CEF from the values the host extracted
//! for the paths it declared at configure.

use cef_core::{Cef, Fields, PATHS, Val};
use std::borrow::Cow;
use std::cell::RefCell;

wit_bindgen::generate!({ path: "../wit", world: "projected" });

struct State {
    cef: Cef,
    /// Answer `keep` without reading anything: the boundary's cost alone.
    noop: bool,
}

thread_local! {
    static STATE: RefCell<Option<State>> = const { RefCell::new(None) };
}

/// One event's slots.
struct Event<'a> {
    values: &'a str,
    /// The end of the slot before this event's first (0 for the batch's first).
    start: usize,
    ends: &'a [u32],
    kinds: &'a [u8],
}

impl Fields for Event<'_> {
    fn get(&self, slot: usize) -> Option<Val<'_>> {
        let from = if slot == 0 { self.start } else { self.ends[slot - 1] as usize };
        let raw = self.values.get(from..self.ends[slot] as usize)?;
        match self.kinds[slot] {
            0 => None,
            1 => Some(Val::Str(Cow::Borrowed(raw))),
            4 => Some(Val::Null),
            _ => Some(Val::Json(raw)),
        }
    }
}

struct Export;

impl Guest for Export {
    fn configure(config: String) -> Result<Vec<String>, String> {
        let noop = config.contains("\"noop\":true");
        let state = State { cef: Cef::configure(&config)?, noop };
        STATE.with(|cell| *cell.borrow_mut() = Some(state));
        Ok(PATHS.iter().map(|p| (*p).to_owned()).collect())
    }

    fn process(values: Vec<u8>, ends: Vec<u32>, kinds: Vec<u8>) -> Vec<Outcome> {
        STATE.with(|cell| {
            let state = cell.borrow();
            let per = PATHS.len();
            let events = kinds.len() / per;
            let Some(state) = state.as_ref() else {
                return (0..events).map(|_| Outcome::Fail("not configured".into())).collect();
            };
            if state.noop {
                return (0..events).map(|_| Outcome::Keep).collect();
            }
            // Decoded by the host from checked event text.
            let values = unsafe { std::str::from_utf8_unchecked(&values) };
            (0..events)
                .map(|j| {
                    let slots = j * per..(j + 1) * per;
                    let start = if j == 0 { 0 } else { ends[j * per - 1] as usize };
                    let event = Event { values, start, ends: &ends[slots.clone()], kinds: &kinds[slots] };
                    Outcome::Emit(state.cef.format(&event))
                })
                .collect()
        })
    }
}

export!(Export);
