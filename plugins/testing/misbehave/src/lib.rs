//! Test plugin that misbehaves on request, to prove the router contains it.
//!
//! An event whose text contains `LOOP` spins forever, `OOM` allocates without
//! end, `TRAP` panics (a trap in WebAssembly); `BADJSON` is replaced by text
//! that looks like an object but is not JSON, `NOTOBJECT` by a JSON array;
//! `OPEN:`, `CONNECT:`, `ENV:` and `CLOCK` try to reach outside the sandbox;
//! an event with a string field `replace_with` is replaced by that text, as
//! is (for fuzzing the host's check of plugin output); any other event is kept. With config `{"refuse": true}` its `configure`
//! rejects the config, and with `{"refuse_huge": true}` it rejects it with a
//! 10 MB message. `HUGE_FAIL` fails its event with a 10 MB reason.
//! `SLOW_IF_USED` spins forever in an instance that was given events before,
//! and is kept by a fresh one: a call that overruns its deadline once and
//! succeeds when the host retries it on a fresh instance, as a call slowed by
//! a loaded machine does. `WARMED` fails its event with how many empty
//! batches this instance was given before it. `SLEEP:<ms>` sleeps that long
//! (a WASI clock wait: wall time that uses no CPU) and keeps the event.

use serde_json::Value;
use sluice_plugin::{Batch, Outcome, Plugin, export_plugin};

/// A 10 MB message of two-byte characters, so that a cut must find a char boundary.
fn huge(start: &str) -> String {
    let mut text = start.to_owned();
    text.push_str(&"é".repeat(5 << 20));
    text
}

#[derive(Default)]
struct Misbehave {
    /// Batches with events given to this instance, the current one included.
    batches: u64,
    /// Empty batches given to this instance.
    empty_batches: u64,
}

impl Plugin for Misbehave {
    fn configure(config: Value) -> Result<Self, String> {
        if config.get("refuse").and_then(Value::as_bool).unwrap_or(false) {
            return Err("config key `refuse` is set: this plugin refuses to start".to_owned());
        }
        if config.get("refuse_huge").and_then(Value::as_bool).unwrap_or(false) {
            return Err(huge("config key `refuse_huge` is set: "));
        }
        Ok(Misbehave::default())
    }

    fn process_batch(&mut self, batch: &Batch<'_>) -> Vec<Outcome> {
        if batch.is_empty() {
            self.empty_batches += 1;
        } else {
            self.batches += 1;
        }
        batch.iter().map(|event| self.process(event.text())).collect()
    }

    fn process(&mut self, event: &str) -> Outcome {
        // First, so that fuzzed text that happens to contain a marker is not acted on.
        if event.contains("\"replace_with\"")
            && let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(event)
            && let Some(Value::String(text)) = fields.get("replace_with")
        {
            return Outcome::Replace(text.clone());
        }
        if event.contains("LOOP") {
            let mut n: u64 = 0;
            loop {
                n = std::hint::black_box(n.wrapping_add(1));
            }
        }
        if event.contains("SLOW_IF_USED") && self.batches > 1 {
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
        if event.contains("HUGE_FAIL") {
            return Outcome::Fail(huge("asked for a huge reason: "));
        }
        if event.contains("WARMED") {
            return Outcome::Fail(format!("empty batches before this one: {}", self.empty_batches));
        }
        if event.contains("BADJSON") {
            // Braces at both ends, so only a real JSON check catches it.
            return Outcome::Replace("{\"message\": BADJSON, unquoted}".to_owned());
        }
        if event.contains("NOTOBJECT") {
            return Outcome::Replace(r#"["NOTOBJECT", {"a": 1}]"#.to_owned());
        }
        if let Some(ms) = argument(event, "SLEEP:").and_then(|ms| ms.parse().ok()) {
            std::thread::sleep(std::time::Duration::from_millis(ms));
            return Outcome::Keep;
        }
        if let Some(escape) = attempt_escape(event) {
            return Outcome::Fail(escape);
        }
        Outcome::Keep
    }
}

/// The argument of `WORD:` in the event text, up to the next quote or space.
fn argument<'a>(event: &'a str, word: &str) -> Option<&'a str> {
    let start = event.find(word)? + word.len();
    let rest = &event[start..];
    Some(&rest[..rest.find(['"', ' ']).unwrap_or(rest.len())])
}

fn attempt_escape(event: &str) -> Option<String> {
    if let Some(path) = argument(event, "OPEN:") {
        return Some(match std::fs::read(path) {
            Ok(bytes) => format!("opened {path}: read {} bytes", bytes.len()),
            Err(err) => format!("open {path}: {err}"),
        });
    }
    if let Some(address) = argument(event, "CONNECT:") {
        return Some(match std::net::TcpStream::connect(address) {
            Ok(_) => format!("connected to {address}"),
            Err(err) => format!("connect {address}: {err}"),
        });
    }
    if let Some(name) = argument(event, "ENV:") {
        return Some(match std::env::var(name) {
            Ok(value) => format!("env {name} = {value}"),
            Err(err) => format!("env {name}: {err}"),
        });
    }
    if event.contains("CLOCK") {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        return Some(format!("clock: {} s since the epoch", now.as_secs()));
    }
    None
}

export_plugin!(Misbehave);
