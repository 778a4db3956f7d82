//! Round 2's hybrid guest: P1's reference CEF from the event texts, reading
//! each declared path at its fixed slot of the host's index (no lookup, no
//! copy of the values).

use cef_core::{Cef, Fields, PATHS, Val};
use std::borrow::Cow;
use std::cell::RefCell;

wit_bindgen::generate!({ path: "../wit", world: "slotted" });

struct State {
    cef: Cef,
    /// Answer `keep` without reading anything: the boundary's cost alone.
    noop: bool,
}

thread_local! {
    static STATE: RefCell<Option<State>> = const { RefCell::new(None) };
}

/// One event's view: the batch text and its slots (three u32 per path).
struct Event<'a> {
    text: &'a str,
    slots: &'a [u32],
}

impl Fields for Event<'_> {
    fn get(&self, slot: usize) -> Option<Val<'_>> {
        let entry = &self.slots[slot * 3..slot * 3 + 3];
        let (start, len) = (entry[0] as usize, entry[1] as usize);
        Some(match entry[2] {
            0 => return None,
            1 => {
                let raw = self.text.get(start..start + len)?;
                Val::Str(Cow::Borrowed(&raw[1..raw.len() - 1]))
            }
            2 => Val::Str(Cow::Owned(serde_json::from_str::<String>(self.text.get(start..start + len)?).ok()?)),
            5 => Val::Null,
            _ => Val::Json(self.text.get(start..start + len)?),
        })
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

    fn process(text: Vec<u8>, ends: Vec<u32>, slots: Vec<u32>) -> Vec<Outcome> {
        STATE.with(|cell| {
            let state = cell.borrow();
            let Some(state) = state.as_ref() else {
                return ends.iter().map(|_| Outcome::Fail("not configured".into())).collect();
            };
            if state.noop {
                return ends.iter().map(|_| Outcome::Keep).collect();
            }
            // The host hands over the texts it checked; as with a WIT
            // string, they are not checked again here.
            let text = unsafe { std::str::from_utf8_unchecked(&text) };
            let per = PATHS.len() * 3;
            (0..ends.len())
                .map(|j| Outcome::Emit(state.cef.format(&Event { text, slots: &slots[j * per..(j + 1) * per] })))
                .collect()
        })
    }
}

export!(Export);
