//! Throughput of the disk buffer: appending 600-byte records in batches of
//! 512 under each sync policy, and reading them back (from the page cache:
//! they were just written) with one acknowledgement per batch, which under
//! `Fsync::Always` costs two fsyncs (the ack file and its directory).
//!
//! Run with `cargo bench -p sluice --bench buffer`. The buffer lives in the
//! system's temporary directory; set `TMPDIR` to measure another disk.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sluice::buffer::{DiskBuffer, Fsync, Options};
use std::time::{Duration, Instant};

const BATCH: usize = 512;
const RECORD: usize = 600;

fn options(sync: Fsync) -> Options {
    Options { max_bytes: 1 << 30, max_segment_bytes: 64 << 20, sync }
}

/// Read and acknowledge everything, so the disk use stays bounded.
fn drain(buffer: &mut DiskBuffer) {
    let mut last = None;
    while let Some((id, _)) = buffer.next().expect("read") {
        last = Some(id);
    }
    if let Some(id) = last {
        buffer.ack(id).expect("ack");
    }
}

fn buffer(c: &mut Criterion) {
    let records: Vec<Vec<u8>> = (0..BATCH).map(|i| vec![b'a' + (i % 26) as u8; RECORD]).collect();
    let batch: Vec<&[u8]> = records.iter().map(Vec::as_slice).collect();

    let mut group = c.benchmark_group("disk_buffer");
    group.throughput(Throughput::Elements(BATCH as u64));
    for (name, sync) in [("always", Fsync::Always), ("never", Fsync::Never)] {
        group.bench_function(BenchmarkId::new("append", name), |b| {
            let dir = tempfile::tempdir().expect("temporary directory");
            let (mut buffer, _) = DiskBuffer::open(dir.path(), options(sync)).expect("open");
            // Only the appends are timed; draining every 256 batches (~80 MB)
            // keeps the buffer under max_bytes and the disk use small.
            b.iter_custom(|iters| {
                let mut timed = Duration::ZERO;
                for i in 0..iters {
                    let start = Instant::now();
                    buffer.append(&batch).expect("append");
                    timed += start.elapsed();
                    if i % 256 == 255 {
                        drain(&mut buffer);
                    }
                }
                drain(&mut buffer);
                timed
            });
        });
    }

    for (name, sync) in [("always", Fsync::Always), ("never", Fsync::Never)] {
        group.bench_function(BenchmarkId::new("read_and_ack", name), |b| {
            let dir = tempfile::tempdir().expect("temporary directory");
            let (mut buffer, _) = DiskBuffer::open(dir.path(), options(sync)).expect("open");
            // Each iteration reads one batch and acknowledges it; the records are
            // appended beforehand, untimed, 256 batches at a time.
            b.iter_custom(|iters| {
                let mut timed = Duration::ZERO;
                let mut left = iters;
                while left > 0 {
                    let n = left.min(256);
                    for _ in 0..n {
                        buffer.append(&batch).expect("append");
                    }
                    let start = Instant::now();
                    for _ in 0..n {
                        let mut last = None;
                        for _ in 0..BATCH {
                            last = buffer.next().expect("read").map(|(id, _)| id);
                        }
                        buffer.ack(last.expect("a record")).expect("ack");
                    }
                    timed += start.elapsed();
                    left -= n;
                }
                timed
            });
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(Duration::from_secs(5));
    targets = buffer
}
criterion_main!(benches);
