//! Design A's guest: P1's reference CEF, reading fields through the index
//! the host built (no scan of the event text).

// The generated export glue takes each list as a pointer and a length.
#![allow(clippy::too_many_arguments)]

use cef_core::{Cef, Fields, PATHS, Val, path_hash};
use std::borrow::Cow;
use std::cell::RefCell;

wit_bindgen::generate!({ path: "../wit", world: "indexed" });

struct State {
    cef: Cef,
    /// The hash of each path of `PATHS`.
    hashes: Vec<u32>,
    /// Answer `keep` without reading anything: the boundary's cost alone.
    noop: bool,
}

thread_local! {
    static STATE: RefCell<Option<State>> = const { RefCell::new(None) };
}

/// One event's view: the batch text and its index entries.
struct Event<'a> {
    text: &'a str,
    entries: &'a [u32],
    hashes: &'a [u32],
}

impl Fields for Event<'_> {
    fn get(&self, slot: usize) -> Option<Val<'_>> {
        let hash = self.hashes[slot];
        // The last match wins, as a repeated name does in serde_json.
        let entry = self.entries.chunks_exact(4).rev().find(|entry| entry[0] == hash)?;
        let (start, len) = (entry[1] as usize, entry[2] as usize);
        let raw = self.text.get(start..start + len)?;
        Some(match entry[3] {
            0 => Val::Str(Cow::Borrowed(&raw[1..raw.len() - 1])),
            1 => Val::Str(Cow::Owned(serde_json::from_str::<String>(raw).ok()?)),
            4 => Val::Null,
            _ => Val::Json(raw),
        })
    }
}

struct Export;

impl Guest for Export {
    fn configure(config: String) -> Result<(), String> {
        let noop = config.contains("\"noop\":true");
        let state = State { cef: Cef::configure(&config)?, hashes: PATHS.iter().map(|p| path_hash(p)).collect(), noop };
        STATE.with(|cell| *cell.borrow_mut() = Some(state));
        Ok(())
    }

    fn process(text: Vec<u8>, ends: Vec<u32>, index: Vec<u32>, index_ends: Vec<u32>) -> Vec<Outcome> {
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
            let mut from = 0;
            index_ends
                .iter()
                .map(|&to| {
                    let entries = &index[from * 4..to as usize * 4];
                    from = to as usize;
                    Outcome::Emit(state.cef.format(&Event { text, entries, hashes: &state.hashes }))
                })
                .collect()
        })
    }
}

export!(Export);
