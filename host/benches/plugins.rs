//! Throughput of each built-in plugin alone, in batches of 1, 64 and 512
//! events, through the real runtime (component cache off, pooling allocator,
//! epoch deadline on): what one worker core can push through one stage.
//!
//! Run with `cargo bench -p sluice --bench plugins`; the events are the demo
//! source's agent sessions, normalised once by `agent-event` for the stages
//! that expect canonical events. `SLUICE_BENCH_PLUGINS=a.wasm:b.wasm` adds
//! plugin files (e.g. the language examples), fed canonical events, with
//! config from `SLUICE_BENCH_CONFIG` (JSON, default `{}`).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sluice::plugins::{BUILTIN, Instance, Limits, Outcome, Runtime};
use sluice::sources::demo::generate;

const BATCH_SIZES: [usize; 3] = [1, 64, 512];

fn instance(runtime: &Runtime, name: &str) -> Instance {
    let (_, bytes) = BUILTIN.iter().find(|(n, _)| *n == name).expect("a built-in plugin");
    let plugin = runtime.load(name, bytes).expect("plugin loads");
    plugin.instantiate(name, "{}", Limits::default()).expect("plugin starts")
}

/// The demo's raw events, as the file or syslog source would hand them on.
fn raw_events(n: usize) -> Vec<String> {
    (0..n as u64)
        .map(|i| serde_json::json!({ "message": generate(42, i), "received_at": "2026-11-26T12:00:00Z" }).to_string())
        .collect()
}

/// Run `events` through `instance`, keeping what it passes on.
fn pass(instance: &mut Instance, events: Vec<String>) -> Vec<String> {
    let outcomes = instance.process(&events).expect("plugin call succeeds");
    events
        .into_iter()
        .zip(outcomes)
        .filter_map(|(event, outcome)| match outcome {
            Outcome::Keep | Outcome::Emit(_) => Some(event),
            Outcome::Replace(json) => Some(json),
            Outcome::Edit(edits) => Some(sluice::plugins::edits::apply(&event, &edits).expect("the edits apply")),
            Outcome::Drop | Outcome::Fail(_) => None,
            Outcome::Split(_) => panic!("no built-in plugin splits an event"),
        })
        .collect()
}

fn plugins(c: &mut Criterion) {
    let runtime = Runtime::new(None).expect("runtime");
    let raw = raw_events(512);
    let canonical = pass(&mut instance(&runtime, "agent-event"), raw.clone());
    let redacted = pass(&mut instance(&runtime, "redact"), canonical.clone());
    assert_eq!(redacted.len(), raw.len(), "every demo event is kept by agent-event and redact");

    let mut group = c.benchmark_group("plugin");
    for (name, _) in BUILTIN {
        let input = match *name {
            "agent-event" => &raw,
            "redact" => &canonical,
            _ => &redacted,
        };
        let mut instance = instance(&runtime, name);
        for size in BATCH_SIZES {
            // Every size cycles through the same 512 events, so the sizes
            // differ only in how many events share one call.
            let batches: Vec<Vec<String>> = input.chunks(size).map(<[String]>::to_vec).collect();
            let mut next = batches.iter().cycle();
            group.throughput(Throughput::Elements(size as u64));
            group.bench_function(BenchmarkId::new(*name, size), |b| {
                b.iter(|| instance.process(next.next().expect("cycle")).expect("plugin call succeeds"))
            });
        }
    }
    let config = std::env::var("SLUICE_BENCH_CONFIG").unwrap_or_else(|_| "{}".to_owned());
    for path in std::env::var("SLUICE_BENCH_PLUGINS").unwrap_or_default().split(':').filter(|p| !p.is_empty()) {
        let bytes = std::fs::read(path).expect("a plugin file");
        let name = std::path::Path::new(path).file_stem().unwrap().to_string_lossy().into_owned();
        let mut instance =
            runtime.load(&name, &bytes).unwrap().instantiate(&name, &config, Limits::default()).expect("plugin starts");
        for size in BATCH_SIZES {
            let batches: Vec<Vec<String>> = redacted.chunks(size).map(<[String]>::to_vec).collect();
            let mut next = batches.iter().cycle();
            group.throughput(Throughput::Elements(size as u64));
            group.bench_function(BenchmarkId::new(&name, size), |b| {
                b.iter(|| instance.process(next.next().expect("cycle")).expect("plugin call succeeds"))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, plugins);
criterion_main!(benches);
