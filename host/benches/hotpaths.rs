//! The host's per-message hot paths on the syslog source's way in, each over
//! the same 512 messages: cutting a TCP byte stream into frames (octet
//! counting and LF framing), parsing RFC 5424, rendering the event JSON, and
//! checking that a plugin's returned JSON is an object.
//!
//! Run with `cargo bench -p sluice --bench hotpaths`. The messages are the
//! demo source's agent events (seed 42) sent as RFC 5424 syslog,
//! `<134>1 2026-11-26T12:00:00.000Z host app 123 ID47 - {json}`.

use bytes::BytesMut;
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sluice::sources::Origin;
use sluice::sources::decoding::Decoding;
use sluice::sources::demo::generate;
use sluice::syslog::frame::{self, Frame, Framing};
use sluice::syslog::{Format, parse};
use sluice::transforms::wasm::check_object;
use std::hint::black_box;
use tokio_util::codec::Decoder as _;

const MESSAGES: usize = 512;
/// The syslog source's default `max_message_bytes`.
const MAX_MESSAGE_BYTES: usize = 64 * 1024;
const RECEIVED_AT: &str = "2026-11-26T12:00:00.123456Z";
const ORIGIN: Origin<'static> = Origin { id: "agents_syslog", path: None, address: Some("192.0.2.7:51514") };

/// The demo's agent events, each in an RFC 5424 syslog message.
fn messages() -> Vec<Vec<u8>> {
    (0..MESSAGES as u64)
        .map(|i| format!("<134>1 2026-11-26T12:00:00.000Z host app 123 ID47 - {}", generate(42, i)).into_bytes())
        .collect()
}

/// Every frame `framing` cuts from `buf`, as the syslog source's stream
/// reader does once a read has filled its buffer.
fn decode_all(framing: Framing, mut buf: BytesMut) -> Vec<Frame> {
    let mut decoder = frame::Decoder::new(framing, MAX_MESSAGE_BYTES);
    let mut frames = Vec::with_capacity(MESSAGES);
    while let Some(frame) = decoder.decode(&mut buf).expect("decoding never fails") {
        frames.push(frame);
    }
    frames
}

fn framer(c: &mut Criterion, messages: &[Vec<u8>]) {
    let mut group = c.benchmark_group("frame");
    group.throughput(Throughput::Elements(MESSAGES as u64));
    for (name, framing) in [("octet-counting", Framing::OctetCounting), ("newline", Framing::Newline)] {
        let mut stream = Vec::new();
        for message in messages {
            frame::encode(framing, message, &mut stream);
        }
        let frames = decode_all(framing, BytesMut::from(&stream[..]));
        let expected: Vec<Frame> = messages.iter().map(|m| Frame::Message(m.clone().into())).collect();
        assert_eq!(frames, expected, "{name}: every message comes back whole");
        // The copy into a fresh buffer is setup, outside the timing.
        group.bench_function(BenchmarkId::new("decode", name), |b| {
            b.iter_batched(|| BytesMut::from(&stream[..]), |buf| decode_all(framing, buf), BatchSize::LargeInput)
        });
    }
    group.finish();
}

fn parser(c: &mut Criterion, messages: &[Vec<u8>]) {
    assert!(messages.iter().all(|m| parse(m).format == Format::Rfc5424), "every message is RFC 5424");
    let mut group = c.benchmark_group("rfc5424");
    group.throughput(Throughput::Elements(MESSAGES as u64));
    group.bench_function("parse", |b| {
        b.iter(|| {
            for message in messages {
                black_box(parse(black_box(message)));
            }
        })
    });
    group.finish();
}

fn json(c: &mut Criterion, messages: &[Vec<u8>]) {
    let parsed: Vec<_> = messages.iter().map(|m| parse(m)).collect();
    let events: Vec<String> =
        parsed.iter().map(|m| m.to_event(ORIGIN, RECEIVED_AT, Decoding::Text).json().to_owned()).collect();
    assert!(events.iter().all(|e| check_object(e).is_ok()), "every event is a JSON object");

    let mut group = c.benchmark_group("json");
    group.throughput(Throughput::Elements(MESSAGES as u64));
    group.bench_function("to_event", |b| {
        b.iter(|| {
            for message in &parsed {
                black_box(message.to_event(ORIGIN, RECEIVED_AT, Decoding::Text));
            }
        })
    });
    group.bench_function("check_object", |b| {
        b.iter(|| {
            for event in &events {
                let _ = black_box(check_object(black_box(event)));
            }
        })
    });
    group.finish();
}

fn hotpaths(c: &mut Criterion) {
    let messages = messages();
    framer(c, &messages);
    parser(c, &messages);
    json(c, &messages);
}

criterion_group!(benches, hotpaths);
criterion_main!(benches);
