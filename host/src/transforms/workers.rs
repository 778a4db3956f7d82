//! A wasm transform on several workers, each with its own plugin instance,
//! without reordering what the transform passes on.
//!
//! WebAssembly instances share no memory, so parallelism means one instance
//! per worker thread. Batches are never copied to get there:
//!
//! - **By batch** (no `shard_by`): batch `j` goes to worker `j mod n`, and a
//!   collector takes the results back from worker `j mod n` in the same
//!   turn. Output order is input order, so the order of every source (a
//!   connection, a file) is kept.
//! - **By key** (`shard_by = "agent.id"`): each batch is split by the hash of
//!   the key's JSON text, located natively as a plugin's declared fields are
//!   ([`Slots`]); part `k` goes to worker `k`, which sees every event of its
//!   keys in order. The collector joins the parts of one batch again (they
//!   share its acknowledgement), so order is kept per key, and a stateful
//!   plugin (a per-agent baseline) sees each agent on one worker only.
//!
//! A new plugin version (hot reload) is taken by the dispatcher, which tells
//! every worker to swap before the next batch it hands out: every batch
//! dispatched before is processed by the old version, every batch after by
//! the new one, so versions only move forward in the output, as with one
//! worker.
//!
//! Threads: the caller's thread dispatches, one thread per worker, one
//! collector. When every consumer has gone the collector stops; workers then
//! fail what they hold, and the dispatcher what is still queued.

use super::wasm::WasmTransform;
use crate::event::Batch;
use crate::fanout::Fanout;
use crate::internal_events::{ComponentError, EventsSent, InternalEvent};
use crate::metrics::ComponentMetrics;
use crate::plugins::Plugin;
use crate::plugins::slots::Slots;
use anyhow::Context;
use std::hash::Hasher;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use tokio::sync::{mpsc, watch};

/// What a worker is handed.
enum Work {
    Batch(Batch),
    /// Run this version from the next batch on.
    Swap(Plugin),
}

/// Batches queued per worker: enough to keep it busy while the collector
/// waits on a slower sibling, few enough to bound memory.
const QUEUE: usize = 2;

/// How batches are spread over the workers.
#[derive(Debug, Clone)]
pub enum Spread {
    ByBatch,
    /// By the hash of the value at this path (its JSON text).
    ByKey(Slots),
}

/// Run `workers` (at least two) on `input` until it closes, passing results
/// on to `out` in order.
pub fn run(
    mut workers: Vec<WasmTransform>,
    spread: Spread,
    input: mpsc::Receiver<Batch>,
    out: Fanout,
    metrics: Arc<ComponentMetrics>,
) -> anyhow::Result<()> {
    let n = workers.len();
    let updates = workers.iter_mut().map(WasmTransform::take_updates).fold(None, Option::or);
    let mut queues = Vec::with_capacity(n);
    let mut results = Vec::with_capacity(n);
    let mut threads = Vec::with_capacity(n + 1);
    for (k, worker) in workers.into_iter().enumerate() {
        let (to_worker, from_dispatch) = sync_channel::<Work>(QUEUE);
        let (to_collector, from_worker) = sync_channel::<Batch>(QUEUE);
        queues.push(to_worker);
        results.push(from_worker);
        let name = format!("transform-{}-{k}", metrics.id());
        threads.push(
            std::thread::Builder::new()
                .name(name)
                .spawn(move || work(worker, from_dispatch, to_collector))
                .with_context(|| format!("starting worker {k} of transform {}", metrics.id()))?,
        );
    }
    let parts = match spread {
        Spread::ByBatch => 1,
        Spread::ByKey(_) => n,
    };
    let collector_metrics = metrics.clone();
    threads.push(
        std::thread::Builder::new()
            .name(format!("transform-{}-out", metrics.id()))
            .spawn(move || collect(results, parts, out, collector_metrics))
            .with_context(|| format!("starting the collector of transform {}", metrics.id()))?,
    );
    dispatch(input, &queues, &spread, updates);
    drop(queues);
    for thread in threads {
        if thread.join().is_err() {
            tracing::error!(component = metrics.id(), "a transform worker panicked");
        }
    }
    Ok(())
}

/// Hand batches to the workers until the input closes or the workers stop.
fn dispatch(
    mut input: mpsc::Receiver<Batch>,
    queues: &[SyncSender<Work>],
    spread: &Spread,
    mut updates: Option<watch::Receiver<Plugin>>,
) {
    let mut turn = 0;
    let mut slots = Vec::new();
    let send = |queue: &SyncSender<Work>, batch: Batch| {
        queue.send(Work::Batch(batch)).map_err(|unsent| {
            if let Work::Batch(batch) = unsent.0 {
                fail(batch);
            }
        })
    };
    while let Some(batch) = input.blocking_recv() {
        if let Some(updates) = updates.as_mut()
            && updates.has_changed().unwrap_or(false)
        {
            let plugin = updates.borrow_and_update().clone();
            // A worker that has stopped is seen when its next batch is sent.
            for queue in queues {
                let _ = queue.send(Work::Swap(plugin.clone()));
            }
        }
        let sent = match spread {
            Spread::ByBatch => {
                let sent = send(&queues[turn], batch);
                turn = (turn + 1) % queues.len();
                sent
            }
            Spread::ByKey(key) => {
                // Every part is sent or failed, so none is dropped as if done.
                let mut sent = Ok(());
                for (part, queue) in split(batch, key, queues.len(), &mut slots).into_iter().zip(queues) {
                    if sent.is_err() {
                        fail(part);
                    } else {
                        sent = send(queue, part);
                    }
                }
                sent
            }
        };
        if sent.is_err() {
            // The collector stopped, so nothing downstream will take more.
            input.close();
            while let Ok(batch) = input.try_recv() {
                fail(batch);
            }
            return;
        }
    }
}

/// `batch`'s events in `n` parts by the hash of each event's key; every
/// part shares the batch's acknowledgement.
fn split(mut batch: Batch, key: &Slots, n: usize, slots: &mut Vec<u32>) -> Vec<Batch> {
    let mut parts: Vec<Vec<_>> = (0..n).map(|_| Vec::new()).collect();
    for event in std::mem::take(&mut batch.events) {
        slots.clear();
        key.locate(event.json().as_bytes(), 0, slots);
        let (start, len) = (slots[0] as usize, slots[1] as usize);
        let mut hash = std::hash::DefaultHasher::new();
        hash.write(&event.json().as_bytes()[start..start + len]);
        parts[(hash.finish() % n as u64) as usize].push(event);
    }
    parts.into_iter().map(|events| batch.split_off(events)).collect()
}

/// One worker: process what it is given, in order, until the dispatcher is done.
fn work(mut worker: WasmTransform, input: Receiver<Work>, output: SyncSender<Batch>) {
    while let Ok(work) = input.recv() {
        let batch = match work {
            Work::Swap(plugin) => {
                worker.swap_to(plugin);
                continue;
            }
            Work::Batch(batch) if batch.is_empty() => batch,
            Work::Batch(batch) => worker.process(batch),
        };
        if let Err(unsent) = output.send(batch) {
            fail(unsent.0);
            while let Ok(work) = input.recv() {
                if let Work::Batch(batch) = work {
                    fail(batch);
                }
            }
            return;
        }
    }
}

/// Take results back in dispatch order and pass them on.
fn collect(results: Vec<Receiver<Batch>>, parts: usize, out: Fanout, metrics: Arc<ComponentMetrics>) {
    let mut turn = 0;
    loop {
        let batch = if parts == 1 {
            let Ok(batch) = results[turn].recv() else { return };
            turn = (turn + 1) % results.len();
            batch
        } else {
            let mut joined: Option<Batch> = None;
            for from in &results {
                let Ok(mut part) = from.recv() else { return };
                match &mut joined {
                    None => joined = Some(part),
                    Some(batch) => batch.events.append(&mut part.events),
                }
            }
            joined.expect("at least one worker")
        };
        let n = batch.len();
        if out.blocking_send(batch).is_err() {
            ComponentError {
                what: "every consumer has stopped; failing what is still queued",
                error: &"consumers gone",
            }
            .emit(&metrics);
            // Dropping the receivers makes the workers fail what they hold.
            return;
        }
        EventsSent { count: n }.emit(&metrics);
    }
}

fn fail(batch: Batch) {
    batch.fail();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ack::{BatchStatus, Finaliser};
    use crate::dead_letter::DeadLetter;
    use crate::event::Event;
    use crate::metrics::Metrics;
    use crate::plugins::{Grants, Runtime};
    use crate::transforms::wasm::WasmConfig;
    use std::sync::OnceLock;

    fn load(name: &str) -> Plugin {
        static RUNTIME: OnceLock<Runtime> = OnceLock::new();
        let runtime = RUNTIME.get_or_init(|| Runtime::new(None).expect("runtime"));
        let bytes = std::fs::read(format!("{}/{name}.wasm", env!("SLUICE_TEST_PLUGINS"))).unwrap();
        runtime.load(name, &bytes).unwrap()
    }

    fn tag(n: usize) -> (Vec<WasmTransform>, Arc<ComponentMetrics>) {
        workers_of(load("tag"), n)
    }

    fn workers_of(plugin: Plugin, n: usize) -> (Vec<WasmTransform>, Arc<ComponentMetrics>) {
        let config: WasmConfig = toml::from_str("plugin = \"p\"\nconfig = { stage = \"s\" }").unwrap();
        let metrics = Metrics::default();
        let component = metrics.component("t");
        let (dead_letter, _) = DeadLetter::channel(metrics.component("dead_letter"));
        let grants = Grants::default();
        let workers = (0..n)
            .map(|_| {
                WasmTransform::new(plugin.clone(), &config, component.clone(), dead_letter.clone(), grants.clone())
                    .unwrap()
            })
            .collect();
        (workers, component)
    }

    /// Run 200 batches of 16 events (`agent.id` = n mod 5) through `spread`
    /// on three workers; returns what came out, batch by batch, and the
    /// status every source batch was acknowledged with.
    fn run_through(spread: Spread) -> (Vec<Vec<serde_json::Value>>, Vec<BatchStatus>) {
        let (workers, metrics) = tag(3);
        let (tx, rx) = mpsc::channel(4);
        let (out_tx, mut out_rx) = mpsc::channel(1000);
        let runner = std::thread::spawn(move || run(workers, spread, rx, Fanout::new(vec![out_tx]), metrics).unwrap());
        let mut acks = Vec::new();
        for b in 0..200 {
            let (finaliser, ack) = Finaliser::new();
            let events = (0..16)
                .map(|i| {
                    let n = b * 16 + i;
                    Event::from_json(serde_json::json!({"n": n, "agent": {"id": format!("a{}", n % 5)}}).to_string())
                })
                .collect();
            tx.blocking_send(Batch::with_finaliser(events, finaliser)).unwrap();
            acks.push(ack);
        }
        drop(tx);
        let mut out = Vec::new();
        while let Some(batch) = out_rx.blocking_recv() {
            out.push(batch.events.iter().map(|e| serde_json::from_str(e.json()).unwrap()).collect());
        }
        runner.join().unwrap();
        (out, acks.into_iter().map(|ack| ack.blocking_recv().unwrap()).collect())
    }

    fn numbers(events: &[serde_json::Value]) -> Vec<u64> {
        events.iter().map(|e| e["n"].as_u64().unwrap()).collect()
    }

    /// A new version published mid-stream is taken by every worker at the
    /// same batch: in the output the version changes once and never goes back.
    #[test]
    fn a_new_version_reaches_every_worker_at_the_same_batch() {
        let (mut workers, metrics) = workers_of(load("version-one"), 3);
        let (publish, updates) = watch::channel(load("version-one"));
        for worker in &mut workers {
            worker.follow_updates(updates.clone());
        }
        let (tx, rx) = mpsc::channel(4);
        let (out_tx, mut out_rx) = mpsc::channel(1000);
        let runner =
            std::thread::spawn(move || run(workers, Spread::ByBatch, rx, Fanout::new(vec![out_tx]), metrics).unwrap());
        for b in 0..60 {
            if b == 25 {
                publish.send(load("version-two")).unwrap();
            }
            let events = (0..4).map(|i| Event::from_json(format!("{{\"n\":{}}}", b * 4 + i))).collect();
            tx.blocking_send(Batch::new(events)).unwrap();
        }
        drop(tx);
        let mut versions = Vec::new();
        while let Some(batch) = out_rx.blocking_recv() {
            for event in &batch.events {
                let event: serde_json::Value = serde_json::from_str(event.json()).unwrap();
                versions.push(event["versions"][0].as_u64().unwrap());
            }
        }
        runner.join().unwrap();
        assert_eq!(versions.len(), 240);
        assert_eq!(versions.windows(2).filter(|w| w[0] != w[1]).count(), 1, "{versions:?}");
        assert_eq!((versions[0], versions[239]), (1, 2));
    }

    #[test]
    fn by_batch_every_event_comes_out_once_in_input_order() {
        let (out, acks) = run_through(Spread::ByBatch);
        let all: Vec<serde_json::Value> = out.into_iter().flatten().collect();
        assert_eq!(numbers(&all), (0..3200).collect::<Vec<_>>());
        assert!(all.iter().all(|e| e["stages"] == serde_json::json!(["s"])));
        assert!(acks.iter().all(|s| *s == BatchStatus::Delivered));
    }

    /// Each agent's events go to one worker (its instance counts them 1, 2,
    /// 3 …) and come out in order; each source batch comes out as one batch.
    #[test]
    fn by_key_each_key_stays_on_one_worker_in_order() {
        let key = Slots::new(&["agent.id".to_owned()]).unwrap();
        let (out, acks) = run_through(Spread::ByKey(key));
        assert_eq!(out.len(), 200, "the parts of a batch are joined again");
        let all: Vec<serde_json::Value> = out.into_iter().flatten().collect();
        let mut sorted = numbers(&all);
        sorted.sort_unstable();
        assert_eq!(sorted, (0..3200).collect::<Vec<_>>(), "every event once");
        for agent in 0..5 {
            let id = format!("a{agent}");
            let of_agent: Vec<&serde_json::Value> = all.iter().filter(|e| e["agent"]["id"] == id.as_str()).collect();
            let ns: Vec<u64> = of_agent.iter().map(|e| e["n"].as_u64().unwrap()).collect();
            assert!(ns.windows(2).all(|w| w[0] < w[1]), "{id} in order");
            // `s_seen` numbers the events an instance has seen: on one worker
            // an agent's count rises by at least one each time.
            let seen: Vec<u64> = of_agent.iter().map(|e| e["s_seen"].as_u64().unwrap()).collect();
            assert!(seen.windows(2).all(|w| w[0] < w[1]), "{id} on one instance: {seen:?}");
        }
        assert!(acks.iter().all(|s| *s == BatchStatus::Delivered));
    }
}
