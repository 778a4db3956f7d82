//! Contract 0.2 (`wit/v0.2/plugin.wit`) with nothing behind it: answers
//! `keep` for every event without reading it, so a call measures 0.2's
//! boundary alone (lowering the `list<string>`, lifting the outcomes).

wit_bindgen::generate!({ path: "../../../wit/v0.2/plugin.wit", world: "plugin" });

struct Export;

impl Guest for Export {
    fn configure(_config: String) -> Result<(), String> {
        Ok(())
    }

    fn process(batch: Vec<String>) -> Vec<Outcome> {
        batch.iter().map(|_| Outcome::Keep(None)).collect()
    }
}

export!(Export);
