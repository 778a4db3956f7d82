//! The benchmark harness's P1 job, stage by stage: the three built-in plugins
//! configured exactly as `bench/peer/P1.toml` configures them for the
//! side-by-side runs (normalise the corpus's JSON, mask the four P1 secret
//! patterns, format the reference CEF), each fed what the stage before it
//! passes on, in batches of 128 events (the syslog source's default).
//!
//! Run with `cargo bench -p sluice --bench p1`. The events are
//! `bench/peer/corpus-sample.jsonl` (256 events from the harness's corpus
//! generator, seed 42, a third with secrets), each wrapped in the envelope
//! the syslog source builds for an RFC 5424 message.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sluice::plugins::{Instance, Outcome, Runtime};

mod p1_input;
use p1_input::{BATCH, envelopes, instance, stages};

/// What a stage passes on: its replacements, or the events it kept as they were.
fn pass(instance: &mut Instance, events: &[String]) -> Vec<String> {
    let mut out = Vec::with_capacity(events.len());
    for batch in events.chunks(BATCH) {
        let outcomes = instance.process(batch).expect("plugin call succeeds");
        for (event, outcome) in batch.iter().zip(outcomes) {
            match outcome {
                Outcome::Keep | Outcome::Emit(_) => out.push(event.clone()),
                Outcome::Replace(json) => out.push(json),
                Outcome::Edit(edits) => {
                    out.push(sluice::plugins::edits::apply(event, &edits).expect("the edits apply"))
                }
                other => panic!("P1 keeps every corpus event, got {other:?}"),
            }
        }
    }
    out
}

fn p1(c: &mut Criterion) {
    let runtime = Runtime::new(None).expect("runtime");
    let mut input = envelopes();
    let mut group = c.benchmark_group("p1");
    for (id, plugin, config) in stages() {
        let mut instance = instance(&runtime, &plugin, &config);
        let batches: Vec<Vec<String>> = input.chunks(BATCH).map(<[String]>::to_vec).collect();
        let mut next = batches.iter().cycle();
        group.throughput(Throughput::Elements(BATCH as u64));
        group.bench_function(BenchmarkId::new(&id, BATCH), |b| {
            b.iter(|| instance.process(next.next().expect("cycle")).expect("plugin call succeeds"))
        });
        input = pass(&mut instance, &input);
    }
    group.finish();
}

criterion_group!(benches, p1);
criterion_main!(benches);
