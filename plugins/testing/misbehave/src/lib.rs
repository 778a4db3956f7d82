//! Test plugin that misbehaves on request, to prove the router contains it.
//!
//! An event whose text contains `LOOP` spins forever, `OOM` allocates without
//! end, `TRAP` panics (a trap in WebAssembly); any other event is kept. With
//! config `{"refuse": true}` its `configure` rejects the config.

use serde_json::Value;
use sluice_plugin::{Outcome, Plugin, export_plugin};

struct Misbehave;

impl Plugin for Misbehave {
    fn configure(config: Value) -> Result<Self, String> {
        if config.get("refuse").and_then(Value::as_bool).unwrap_or(false) {
            return Err("config key `refuse` is set: this plugin refuses to start".to_owned());
        }
        Ok(Misbehave)
    }

    fn process(&mut self, event: &str) -> Outcome {
        if event.contains("LOOP") {
            let mut n: u64 = 0;
            loop {
                n = std::hint::black_box(n.wrapping_add(1));
            }
        }
        if event.contains("OOM") {
            let mut hoard: Vec<Vec<u8>> = Vec::new();
            loop {
                hoard.push(vec![1u8; 1 << 20]);
                std::hint::black_box(&hoard);
            }
        }
        if event.contains("TRAP") {
            panic!("asked to trap");
        }
        Outcome::Keep
    }
}

export_plugin!(Misbehave);
