//! Rough throughput of the plugin alone, natively: events per second through
//! `process` (parse, walk, redact, write back), for agent events without
//! secrets, with secrets, and a mix where three in ten carry one (the share
//! of the P1 benchmark's corpus).
//!
//! ```sh
//! cargo run --release -p sluice-plugin-redact --example throughput
//! ```
//!
//! Inside the router the plugin runs as WebAssembly, which costs more; this
//! measures the plugin's own work.

use serde_json::{Value, json};
use sluice_plugin::{Outcome, Plugin};
use sluice_plugin_redact::Redact;
use std::time::{Duration, Instant};

fn main() {
    let benign: Vec<&str> = include_str!("../tests/corpus/benign-handwritten.txt")
        .lines()
        .chain(include_str!("../tests/corpus/benign-generated.txt").lines())
        .skip_while(|line| !line.is_empty())
        .filter(|line| !line.is_empty())
        .collect();
    let secret_events: Vec<Value> = include_str!("../tests/corpus/leak-events.jsonl")
        .lines()
        .map(|line| serde_json::from_str(line).expect("the corpus is JSON"))
        .collect();

    // Clean events shaped like the canonical agent event, about 600 bytes.
    let clean: Vec<String> = (0..benign.len())
        .map(|i| {
            json!({
                "time": "2026-11-26T09:14:03.512Z",
                "event": {"id": format!("evt-{i:08}"), "kind": "tool_call", "action": "http.get", "outcome": "success"},
                "agent": {"id": "agt-support-7", "name": "support-bot", "model": "gpt-4.1"},
                "tenant": {"id": "acme"},
                "session": {"id": "sess_7Hq2LmX9"},
                "trace": {"id": "4bf92f3577b34da6a3ce929d0e0e4736", "span_id": "00f067aa0ba902b7"},
                "prompt": {"text": benign[i]},
                "tool": {"name": "http.get", "arguments": {"url": "https://api.example.com/v1/orders?page=2",
                                                           "note": benign[(i + 7) % benign.len()]}},
                "output": {"text": benign[(i + 13) % benign.len()]},
            })
            .to_string()
        })
        .collect();
    let secret: Vec<String> = secret_events.iter().map(Value::to_string).collect();
    let mix: Vec<String> = (0..1000)
        .map(|i| if i % 10 < 3 { &secret[i % secret.len()] } else { &clean[i % clean.len()] }.clone())
        .collect();

    // What parsing and walking cost without the built-in rules: one rule
    // that never matches.
    let mut baseline = Redact::configure(json!({"defaults": false, "rules": {"none": {"pattern": "^\\x00never$"}}}))
        .expect("the baseline config is valid");
    let (count, elapsed) = time(&mut baseline, &clean, Duration::from_secs(2));
    println!("{:>17}: {:>9.0} events/s", "walk, no rules", count as f64 / elapsed.as_secs_f64());

    let mut plugin = Redact::configure(json!({})).expect("the default config is valid");
    for (name, events) in [("no secrets", &clean), ("with secrets", &secret), ("30% with secrets", &mix)] {
        let bytes: usize = events.iter().map(String::len).sum::<usize>() / events.len();
        let (count, elapsed) = time(&mut plugin, events, Duration::from_secs(2));
        let rate = count as f64 / elapsed.as_secs_f64();
        println!(
            "{name:>17}: {rate:>9.0} events/s, {:>6.2} µs/event, {:>6.1} MB/s ({bytes} bytes/event)",
            1e6 / rate,
            rate * bytes as f64 / 1e6
        );
    }
}

/// Run `events` round and round for about `budget`; how many and how long.
fn time(plugin: &mut Redact, events: &[String], budget: Duration) -> (usize, Duration) {
    let start = Instant::now();
    let mut count = 0;
    let mut changed = 0;
    while start.elapsed() < budget {
        for event in events {
            if !matches!(std::hint::black_box(plugin.process(event)), Outcome::Keep) {
                changed += 1;
            }
        }
        count += events.len();
    }
    std::hint::black_box(changed);
    (count, start.elapsed())
}
