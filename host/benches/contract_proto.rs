//! Contract 0.3, rounds 1 and 2 of the design comparison (issue 13): P1's
//! `cef` stage through today's contract (0.2, a `list<string>` of event
//! texts) and through three prototype worlds (`bench/contract-proto/wit/proto.wit`),
//! counting the host's side of each (building the buffer, the index or the
//! projection) as well as the call.
//!
//! - design A, `indexed`: the batch's texts in one `list<u8>`, their ends,
//!   and an index of every member up to depth 2 (path hash, value offset,
//!   length, kind) built natively by the host, so the guest reads a field
//!   without a scan;
//! - design B, `projected`: the guest declares its paths at configure; the
//!   host extracts just those values (strings decoded) into one `list<u8>`
//!   at fixed slots;
//! - round 2, A + slots (`slotted`): A's one buffer, with the paths the
//!   guest declares at configure placed at fixed slots of the host's index
//!   (offset, length, kind into the text), so the guest does no lookup and
//!   the host copies no values.
//!
//! `v0.2/call-noop` calls a 0.2 plugin that keeps every event unread: 0.2's
//! boundary alone.
//!
//! The guests (`bench/contract-proto/`) are built for wasm32-wasip2 when the
//! bench starts; their lines are asserted equal, byte for byte, to the real
//! `cef` plugin's on all 256 corpus events before anything is timed.
//!
//! Run with `cargo bench -p sluice --bench contract_proto`. The events are
//! P1's (`bench/peer/corpus-sample.jsonl` in syslog-source envelopes, through
//! `normalise` and `redact` as `bench/peer/P1.toml` configures them), in
//! batches of 128, as in `host/benches/p1.rs`.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use serde::de::{self, DeserializeSeed, MapAccess, Visitor};
use serde_json::value::RawValue;
use sluice::plugins::deadline::CallClock;
use sluice::plugins::sandbox::{GuestOutput, HostState, MemoryLimiter};
use sluice::plugins::{Grants, Instance, Limits, Outcome, Runtime};
use std::borrow::Cow;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store};

mod p1_input;
use p1_input::{BATCH, envelopes, instance, stages};

mod indexed {
    wasmtime::component::bindgen!({ path: "../bench/contract-proto/wit", world: "indexed" });
}
mod projected {
    wasmtime::component::bindgen!({ path: "../bench/contract-proto/wit", world: "projected" });
}
mod slotted {
    wasmtime::component::bindgen!({ path: "../bench/contract-proto/wit", world: "slotted" });
}

/// How deep design A's index lists members (`agent.id` is depth 2).
const DEPTH: usize = 2;

// ---------------------------------------------------------------- P1's input

/// What a stage passes on, and the lines it emitted.
fn pass(instance: &mut Instance, events: &[String]) -> (Vec<String>, Vec<String>) {
    let (mut out, mut lines) = (Vec::with_capacity(events.len()), Vec::new());
    for batch in events.chunks(BATCH) {
        for (event, outcome) in batch.iter().zip(instance.process(batch).expect("plugin call succeeds")) {
            match outcome {
                Outcome::Keep => out.push(event.clone()),
                Outcome::Emit(line) => {
                    out.push(event.clone());
                    lines.push(line);
                }
                Outcome::Replace(json) => out.push(json),
                Outcome::Edit(edits) => {
                    out.push(sluice::plugins::edits::apply(event, &edits).expect("the edits apply"))
                }
                other => panic!("P1 keeps every corpus event, got {other:?}"),
            }
        }
    }
    (out, lines)
}

// ------------------------------------------------------- the prototype guests

/// Build the prototype guests (their own workspace) and return their directory.
fn build_guests() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/contract-proto");
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()));
    cmd.current_dir(&root).args(["build", "--release", "--target", "wasm32-wasip2"]);
    // Not the outer build's target dir or flags (as host/build.rs does).
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if (key.starts_with("CARGO_") || key.starts_with("RUSTC_") || key == "RUSTFLAGS") && key != "CARGO_HOME" {
            cmd.env_remove(key.as_ref());
        }
    }
    let status = cmd.status().expect("run cargo for bench/contract-proto");
    assert!(status.success(), "building bench/contract-proto failed");
    root.join("target/wasm32-wasip2/release")
}

/// The engine as the router configures it (epoch interruption, pooling).
fn engine() -> Engine {
    let mut config = Config::new();
    config.epoch_interruption(true);
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(16).total_memories(16).total_tables(32).max_memory_size(1 << 30);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    Engine::new(&config).expect("engine")
}

fn store(engine: &Engine) -> Store<HostState> {
    let clock = CallClock::new(std::time::Duration::from_secs(10));
    let state = HostState::new("cef", MemoryLimiter::new(64 << 20), clock, GuestOutput::default(), Grants::default());
    let mut store = Store::new(engine, state);
    // No ticker runs here; the epoch checks in the code still cost what they cost.
    store.set_epoch_deadline(1 << 40);
    store
}

fn linker(engine: &Engine) -> Linker<HostState> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).expect("link WASI");
    linker
}

struct Indexed {
    store: Store<HostState>,
    guest: indexed::Indexed,
}

impl Indexed {
    fn new(engine: &Engine, wasm: &Path, config: &str) -> Indexed {
        let component = Component::from_file(engine, wasm).expect("compile the indexed guest");
        let mut store = store(engine);
        let guest = indexed::Indexed::instantiate(&mut store, &component, &linker(engine)).expect("instantiate");
        guest.call_configure(&mut store, config).expect("call").expect("configure");
        Indexed { store, guest }
    }

    fn process(&mut self, batch: &IndexedBatch) -> Vec<indexed::Outcome> {
        self.guest
            .call_process(&mut self.store, &batch.text, &batch.ends, &batch.index, &batch.index_ends)
            .expect("call")
    }
}

struct Projected {
    store: Store<HostState>,
    guest: projected::Projected,
    paths: Projection,
}

impl Projected {
    fn new(engine: &Engine, wasm: &Path, config: &str) -> Projected {
        let component = Component::from_file(engine, wasm).expect("compile the projected guest");
        let mut store = store(engine);
        let guest = projected::Projected::instantiate(&mut store, &component, &linker(engine)).expect("instantiate");
        let paths = guest.call_configure(&mut store, config).expect("call").expect("configure");
        Projected { store, guest, paths: Projection::new(&paths) }
    }

    fn process(&mut self, batch: &ProjectedBatch) -> Vec<projected::Outcome> {
        self.guest.call_process(&mut self.store, &batch.values, &batch.ends, &batch.kinds).expect("call")
    }
}

struct Slotted {
    store: Store<HostState>,
    guest: slotted::Slotted,
    slots: Slots,
}

impl Slotted {
    fn new(engine: &Engine, wasm: &Path, config: &str) -> Slotted {
        let component = Component::from_file(engine, wasm).expect("compile the slotted guest");
        let mut store = store(engine);
        let guest = slotted::Slotted::instantiate(&mut store, &component, &linker(engine)).expect("instantiate");
        let paths = guest.call_configure(&mut store, config).expect("call").expect("configure");
        Slotted { store, guest, slots: Slots::new(&paths) }
    }

    fn process(&mut self, batch: &SlottedBatch) -> Vec<slotted::Outcome> {
        self.guest.call_process(&mut self.store, &batch.text, &batch.ends, &batch.slots).expect("call")
    }
}

// ------------------------------------------------- design A: the host's index

const FNV_BASIS: u32 = 0x811c_9dc5;

fn fnv(mut hash: u32, bytes: &[u8]) -> u32 {
    for &byte in bytes {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash
}

/// The hash of `parent.name` (of `name` at the top level).
fn child_hash(parent: Option<u32>, name: &[u8]) -> u32 {
    match parent {
        None => fnv(FNV_BASIS, name),
        Some(parent) => fnv(fnv(parent, b"."), name),
    }
}

const STRING: u32 = 0;
const ESCAPED: u32 = 1;
const NUMBER: u32 = 2;
const BOOL: u32 = 3;
const NULL: u32 = 4;
const OBJECT: u32 = 5;
const ARRAY: u32 = 6;

#[derive(Default)]
struct IndexedBatch {
    text: Vec<u8>,
    ends: Vec<u32>,
    index: Vec<u32>,
    index_ends: Vec<u32>,
}

/// Which native parser builds the index.
#[derive(Clone, Copy)]
enum Parser {
    /// serde_json with borrowed `RawValue`s for the offsets (checks the text).
    Serde,
    /// A scanner for text the host already checked (memchr over strings).
    Scan,
}

impl IndexedBatch {
    fn build(events: &[String], parser: Parser) -> IndexedBatch {
        let mut batch = IndexedBatch::default();
        batch.fill(events, parser);
        batch
    }

    fn fill(&mut self, events: &[String], parser: Parser) {
        self.text.clear();
        self.ends.clear();
        self.index.clear();
        self.index_ends.clear();
        for event in events {
            let base = self.text.len();
            self.text.extend_from_slice(event.as_bytes());
            self.ends.push(self.text.len() as u32);
            match parser {
                Parser::Serde => serde_index(event, event, base, None, DEPTH, &mut self.index),
                Parser::Scan => {
                    scan_object(event.as_bytes(), 0, base, None, DEPTH, &mut self.index);
                }
            }
            self.index_ends.push((self.index.len() / 4) as u32);
        }
    }
}

/// An object's members with borrowed names (decoded when escaped) and raw values.
struct RawMembers<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de> de::Deserialize<'de> for RawMembers<'de> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(MembersVisitor)
    }
}

struct MembersVisitor;

impl<'de> Visitor<'de> for MembersVisitor {
    type Value = RawMembers<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut members = Vec::with_capacity(24);
        while let Some(name) = map.next_key_seed(NameSeed)? {
            members.push((name, map.next_value::<&RawValue>()?));
        }
        Ok(RawMembers(members))
    }
}

struct NameSeed;

impl<'de> DeserializeSeed<'de> for NameSeed {
    type Value = Cow<'de, str>;
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for NameSeed {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a name")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
}

/// Index `object` (a slice of `event`, whose text starts at `base` in the batch).
fn serde_index(event: &str, object: &str, base: usize, parent: Option<u32>, depth: usize, out: &mut Vec<u32>) {
    let members: RawMembers = serde_json::from_str(object).expect("events are JSON objects");
    for (name, value) in members.0 {
        let raw = value.get();
        let start = raw.as_ptr() as usize - event.as_ptr() as usize;
        let hash = child_hash(parent, name.as_bytes());
        let kind = kind_of(raw.as_bytes());
        out.extend([hash, (base + start) as u32, raw.len() as u32, kind]);
        if kind == OBJECT && depth > 1 {
            serde_index(event, raw, base, Some(hash), depth - 1, out);
        }
    }
}

fn kind_of(raw: &[u8]) -> u32 {
    match raw[0] {
        b'"' if memchr::memchr(b'\\', raw).is_some() => ESCAPED,
        b'"' => STRING,
        b'{' => OBJECT,
        b'[' => ARRAY,
        b't' | b'f' => BOOL,
        b'n' => NULL,
        _ => NUMBER,
    }
}

fn skip_space(bytes: &[u8], mut at: usize) -> usize {
    while matches!(bytes.get(at), Some(b' ' | b'\t' | b'\r' | b'\n')) {
        at += 1;
    }
    at
}

/// The end (one past the closing quote) of the string opening at `at`, and
/// whether it holds escapes.
fn string_end(bytes: &[u8], mut at: usize) -> (usize, bool) {
    at += 1;
    let mut escaped = false;
    loop {
        match memchr::memchr2(b'"', b'\\', &bytes[at..]) {
            Some(i) if bytes[at + i] == b'"' => return (at + i + 1, escaped),
            Some(i) => {
                escaped = true;
                at += i + 2;
            }
            None => return (bytes.len(), escaped),
        }
    }
}

/// The end of the value starting at `at` (text known to be valid JSON).
fn value_end(bytes: &[u8], at: usize) -> usize {
    match bytes[at] {
        b'"' => string_end(bytes, at).0,
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = at;
            while i < bytes.len() {
                match bytes[i] {
                    b'"' => {
                        i = string_end(bytes, i).0;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return i + 1;
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            bytes.len()
        }
        _ => {
            let mut i = at;
            while i < bytes.len() && !matches!(bytes[i], b',' | b'}' | b']' | b' ' | b'\t' | b'\r' | b'\n') {
                i += 1;
            }
            i
        }
    }
}

/// Index the object opening at `at`; returns its end.
fn scan_object(bytes: &[u8], at: usize, base: usize, parent: Option<u32>, depth: usize, out: &mut Vec<u32>) -> usize {
    let mut at = skip_space(bytes, at + 1);
    if bytes.get(at) == Some(&b'}') {
        return at + 1;
    }
    loop {
        let (name_end, escaped) = string_end(bytes, at);
        let hash = if escaped {
            let name: String = serde_json::from_slice(&bytes[at..name_end]).expect("a checked name");
            child_hash(parent, name.as_bytes())
        } else {
            child_hash(parent, &bytes[at + 1..name_end - 1])
        };
        at = skip_space(bytes, name_end);
        at = skip_space(bytes, at + 1); // ':'
        let start = at;
        let (end, kind) = match bytes[at] {
            b'{' if depth > 1 => {
                let slot = out.len();
                out.extend([hash, (base + start) as u32, 0, OBJECT]);
                let end = scan_object(bytes, at, base, Some(hash), depth - 1, out);
                out[slot + 2] = (end - start) as u32;
                (end, None)
            }
            b'"' => {
                let (end, escaped) = string_end(bytes, at);
                (end, Some(if escaped { ESCAPED } else { STRING }))
            }
            first => {
                let kind = match first {
                    b'{' => OBJECT,
                    b'[' => ARRAY,
                    b't' | b'f' => BOOL,
                    b'n' => NULL,
                    _ => NUMBER,
                };
                (value_end(bytes, at), Some(kind))
            }
        };
        if let Some(kind) = kind {
            out.extend([hash, (base + start) as u32, (end - start) as u32, kind]);
        }
        at = skip_space(bytes, end);
        match bytes.get(at) {
            Some(b',') => at = skip_space(bytes, at + 1),
            _ => return at + 1,
        }
    }
}

// -------------------------------------------- design B: the host's projection

/// The declared paths, as hashes in slot order.
struct Projection {
    hashes: Vec<u32>,
}

impl Projection {
    fn new(paths: &[String]) -> Projection {
        Projection { hashes: paths.iter().map(|p| fnv(FNV_BASIS, p.as_bytes())).collect() }
    }
}

#[derive(Default)]
struct ProjectedBatch {
    values: Vec<u8>,
    ends: Vec<u32>,
    kinds: Vec<u8>,
    /// Scratch: one event's index.
    entries: Vec<u32>,
}

impl ProjectedBatch {
    fn build(events: &[String], projection: &Projection) -> ProjectedBatch {
        let mut batch = ProjectedBatch::default();
        batch.fill(events, projection);
        batch
    }

    /// Index each event (the scanner), then copy out the declared values.
    fn fill(&mut self, events: &[String], projection: &Projection) {
        self.values.clear();
        self.ends.clear();
        self.kinds.clear();
        for event in events {
            let bytes = event.as_bytes();
            self.entries.clear();
            scan_object(bytes, 0, 0, None, DEPTH, &mut self.entries);
            for &hash in &projection.hashes {
                let entry = self.entries.chunks_exact(4).rev().find(|entry| entry[0] == hash);
                let kind = match entry {
                    None => 0,
                    Some(&[_, start, len, kind]) => {
                        let raw = &bytes[start as usize..(start + len) as usize];
                        match kind {
                            STRING => self.values.extend_from_slice(&raw[1..raw.len() - 1]),
                            ESCAPED => {
                                let text: String = serde_json::from_slice(raw).expect("a checked string");
                                self.values.extend_from_slice(text.as_bytes());
                            }
                            _ => self.values.extend_from_slice(raw),
                        }
                        match kind {
                            STRING | ESCAPED => 1,
                            NUMBER => 2,
                            BOOL => 3,
                            NULL => 4,
                            OBJECT => 5,
                            _ => 6,
                        }
                    }
                    Some(_) => unreachable!("entries are four u32"),
                };
                self.kinds.push(kind);
                self.ends.push(self.values.len() as u32);
            }
        }
    }
}

// ------------------------------------ round 2, A + B: declared paths as slots

/// The declared paths: a small open-addressed table from path hash to slot,
/// so placing an index entry at its slot is one probe, not a search.
struct Slots {
    count: usize,
    /// (hash, slot + 1); 0 marks an empty bucket.
    table: Vec<(u32, u32)>,
}

impl Slots {
    fn new(paths: &[String]) -> Slots {
        let size = (paths.len() * 4).next_power_of_two();
        let mut table = vec![(0, 0); size];
        for (slot, path) in paths.iter().enumerate() {
            let hash = fnv(FNV_BASIS, path.as_bytes());
            let mut at = hash as usize & (size - 1);
            while table[at].1 != 0 {
                at = (at + 1) & (size - 1);
            }
            table[at] = (hash, slot as u32 + 1);
        }
        Slots { count: paths.len(), table }
    }

    fn slot(&self, hash: u32) -> Option<usize> {
        let mask = self.table.len() - 1;
        let mut at = hash as usize & mask;
        loop {
            match self.table[at] {
                (_, 0) => return None,
                (h, slot) if h == hash => return Some(slot as usize - 1),
                _ => at = (at + 1) & mask,
            }
        }
    }
}

#[derive(Default)]
struct SlottedBatch {
    text: Vec<u8>,
    ends: Vec<u32>,
    slots: Vec<u32>,
    /// Scratch: one event's index.
    entries: Vec<u32>,
}

impl SlottedBatch {
    fn build(events: &[String], slots: &Slots) -> SlottedBatch {
        let mut batch = SlottedBatch::default();
        batch.fill(events, slots);
        batch
    }

    /// Copy each text, index it (the scanner) and place each declared
    /// path's entry at its slot; the values stay in the text.
    fn fill(&mut self, events: &[String], slots: &Slots) {
        self.text.clear();
        self.ends.clear();
        self.slots.clear();
        for event in events {
            let base = self.text.len();
            self.text.extend_from_slice(event.as_bytes());
            self.ends.push(self.text.len() as u32);
            self.entries.clear();
            scan_object(event.as_bytes(), 0, base, None, DEPTH, &mut self.entries);
            let first = self.slots.len();
            self.slots.resize(first + slots.count * 3, 0);
            // Entries in text order, so a repeated name's last value wins, as in serde_json.
            for entry in self.entries.chunks_exact(4) {
                if let Some(slot) = slots.slot(entry[0]) {
                    let at = first + slot * 3;
                    self.slots[at..at + 3].copy_from_slice(&[entry[1], entry[2], entry[3] + 1]);
                }
            }
        }
    }
}

// ------------------------------------------------------------------ the bench

fn lines_of<O>(outcomes: Vec<O>, emitted: impl Fn(O) -> Option<String>) -> Vec<String> {
    outcomes.into_iter().map(|o| emitted(o).expect("every event emits a line")).collect()
}

fn contract_proto(c: &mut Criterion) {
    let runtime = Runtime::new(None).expect("runtime");
    let mut input = envelopes();
    let mut reference = Vec::new();
    let mut cef_config = String::new();
    for (_, plugin, config) in stages() {
        let (out, lines) = pass(&mut instance(&runtime, &plugin, &config), &input);
        if plugin == "cef" {
            reference = lines;
            cef_config = config;
        } else {
            input = out;
        }
    }
    assert_eq!(reference.len(), input.len(), "cef emits a line for every event");
    let batches: Vec<Vec<String>> = input.chunks(BATCH).map(<[String]>::to_vec).collect();

    let guests = build_guests();
    let engine = engine();
    let noop = cef_config.replacen('{', "{\"noop\":true,", 1);
    let mut a = Indexed::new(&engine, &guests.join("proto_cef_indexed.wasm"), &cef_config);
    let mut a_noop = Indexed::new(&engine, &guests.join("proto_cef_indexed.wasm"), &noop);
    let mut b = Projected::new(&engine, &guests.join("proto_cef_projected.wasm"), &cef_config);
    let mut b_noop = Projected::new(&engine, &guests.join("proto_cef_projected.wasm"), &noop);
    let mut h = Slotted::new(&engine, &guests.join("proto_cef_slotted.wasm"), &cef_config);
    let mut h_noop = Slotted::new(&engine, &guests.join("proto_cef_slotted.wasm"), &noop);

    // Byte for byte what the real plugin writes, with either parser.
    for parser in [Parser::Serde, Parser::Scan] {
        let lines: Vec<String> = batches
            .iter()
            .flat_map(|batch| {
                lines_of(a.process(&IndexedBatch::build(batch, parser)), |o| match o {
                    indexed::Outcome::Emit(line) => Some(line),
                    _ => None,
                })
            })
            .collect();
        assert_eq!(lines, reference, "design A's lines differ from the cef plugin's");
    }
    let lines: Vec<String> = batches
        .iter()
        .flat_map(|batch| {
            lines_of(b.process(&ProjectedBatch::build(batch, &b.paths)), |o| match o {
                projected::Outcome::Emit(line) => Some(line),
                _ => None,
            })
        })
        .collect();
    assert_eq!(lines, reference, "design B's lines differ from the cef plugin's");
    let lines: Vec<String> = batches
        .iter()
        .flat_map(|batch| {
            lines_of(h.process(&SlottedBatch::build(batch, &h.slots)), |o| match o {
                slotted::Outcome::Emit(line) => Some(line),
                _ => None,
            })
        })
        .collect();
    assert_eq!(lines, reference, "the hybrid's (A + slots) lines differ from the cef plugin's");
    let bytes: usize = input.iter().map(String::len).sum();
    eprintln!(
        "contract_proto: {} events, {} bytes of event JSON on average; the lines of A, B and A + slots equal cef's",
        input.len(),
        bytes / input.len()
    );

    let mut v02 = instance(&runtime, "cef", &cef_config);
    // 0.2's boundary alone: a plugin that keeps every event unread, loaded
    // and called through the router's own runtime like `cef`.
    let noop_wasm = std::fs::read(guests.join("proto_noop_v02.wasm")).expect("read the no-op 0.2 guest");
    let mut v02_noop = runtime
        .load("noop", &noop_wasm)
        .expect("the no-op 0.2 guest loads")
        .instantiate("noop", "{}", Limits::default())
        .expect("starts");
    assert!(
        batches.iter().all(|batch| v02_noop
            .process(batch)
            .expect("plugin call succeeds")
            .iter()
            .all(|o| matches!(o, Outcome::Keep))),
        "the no-op 0.2 guest keeps every event"
    );
    let mut group = c.benchmark_group("contract_proto");
    group.throughput(Throughput::Elements(BATCH as u64));
    let id = |name: &str| BenchmarkId::new(name, BATCH);

    let mut next = batches.iter().cycle();
    group.bench_function(id("v0.2/total"), |bench| {
        bench.iter(|| v02.process(next.next().expect("cycle")).expect("plugin call succeeds"))
    });
    group.bench_function(id("v0.2/call-noop"), |bench| {
        bench.iter(|| v02_noop.process(next.next().expect("cycle")).expect("plugin call succeeds"))
    });

    // Design A: the host's index alone (each parser), the call alone, the boundary alone, all of it.
    let mut scratch = IndexedBatch::default();
    for (name, parser) in [("A/host-index-serde", Parser::Serde), ("A/host-index-scan", Parser::Scan)] {
        group.bench_function(id(name), |bench| bench.iter(|| scratch.fill(next.next().expect("cycle"), parser)));
    }
    let built: Vec<IndexedBatch> = batches.iter().map(|batch| IndexedBatch::build(batch, Parser::Scan)).collect();
    let mut next_built = built.iter().cycle();
    group.bench_function(id("A/call"), |bench| bench.iter(|| a.process(next_built.next().expect("cycle"))));
    group.bench_function(id("A/call-noop"), |bench| bench.iter(|| a_noop.process(next_built.next().expect("cycle"))));
    group.bench_function(id("A/total"), |bench| {
        bench.iter(|| {
            scratch.fill(next.next().expect("cycle"), Parser::Scan);
            a.process(&scratch)
        })
    });

    // Design B: the same four.
    let mut scratch = ProjectedBatch::default();
    let paths = Projection { hashes: b.paths.hashes.clone() };
    group
        .bench_function(id("B/host-extract"), |bench| bench.iter(|| scratch.fill(next.next().expect("cycle"), &paths)));
    let built: Vec<ProjectedBatch> = batches.iter().map(|batch| ProjectedBatch::build(batch, &paths)).collect();
    let mut next_built = built.iter().cycle();
    group.bench_function(id("B/call"), |bench| bench.iter(|| b.process(next_built.next().expect("cycle"))));
    group.bench_function(id("B/call-noop"), |bench| bench.iter(|| b_noop.process(next_built.next().expect("cycle"))));
    group.bench_function(id("B/total"), |bench| {
        bench.iter(|| {
            scratch.fill(next.next().expect("cycle"), &paths);
            b.process(&scratch)
        })
    });

    // Round 2, A + slots: the same four.
    let mut scratch = SlottedBatch::default();
    let slots = Slots { count: h.slots.count, table: h.slots.table.clone() };
    group.bench_function(id("AS/host-slots"), |bench| bench.iter(|| scratch.fill(next.next().expect("cycle"), &slots)));
    let built: Vec<SlottedBatch> = batches.iter().map(|batch| SlottedBatch::build(batch, &slots)).collect();
    let mut next_built = built.iter().cycle();
    group.bench_function(id("AS/call"), |bench| bench.iter(|| h.process(next_built.next().expect("cycle"))));
    group.bench_function(id("AS/call-noop"), |bench| bench.iter(|| h_noop.process(next_built.next().expect("cycle"))));
    group.bench_function(id("AS/total"), |bench| {
        bench.iter(|| {
            scratch.fill(next.next().expect("cycle"), &slots);
            h.process(&scratch)
        })
    });
    group.finish();
}

criterion_group!(benches, contract_proto);
criterion_main!(benches);
