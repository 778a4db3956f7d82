use super::*;
use proptest::collection::vec;
use proptest::prelude::*;
use std::collections::VecDeque;
use std::os::unix::fs::PermissionsExt;

fn never(max_bytes: u64, max_segment_bytes: u64) -> Options {
    Options { max_bytes, max_segment_bytes, sync: Fsync::Never }
}

fn size(record: &[u8]) -> u64 {
    HEADER + record.len() as u64
}

fn segments(dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "seg"))
        .collect();
    paths.sort();
    paths
}

fn drain(buffer: &mut DiskBuffer) -> Vec<Vec<u8>> {
    std::iter::from_fn(|| buffer.next().unwrap().map(|(_, record)| record)).collect()
}

/// Records "record-000" … of 30 bytes (38 on disk), one append each.
fn fill(dir: &Path, options: Options, n: usize) -> Vec<Vec<u8>> {
    let (mut buffer, _) = DiskBuffer::open(dir, options).unwrap();
    let records: Vec<Vec<u8>> = (0..n).map(|i| format!("record-{i:03}-{}", "x".repeat(19)).into_bytes()).collect();
    for record in &records {
        assert_eq!(record.len(), 30);
        buffer.append(&[record]).unwrap();
    }
    records
}

fn patch(path: &Path, offset: u64, f: impl FnOnce(u8) -> u8) {
    let mut bytes = std::fs::read(path).unwrap();
    bytes[offset as usize] = f(bytes[offset as usize]);
    std::fs::write(path, bytes).unwrap();
}

// ---- model-based property test ----

#[derive(Debug, Clone)]
enum Op {
    Append(Vec<Vec<u8>>),
    /// Read up to this many records.
    Next(usize),
    /// Acknowledge up to the n-th (modulo) record read and not acknowledged.
    Ack(usize),
    /// Drop without any clean close, as kill -9 would, and reopen.
    Crash,
    /// Make what was read and not acknowledged due again (a failed batch).
    Rewind,
    /// Append, crash, and cut the end of the batch off the file (selector
    /// modulo its size, at least one byte): a write cut short.
    TornAppend(Vec<Vec<u8>>, u64),
}

fn op() -> impl Strategy<Value = Op> {
    let batch = vec(vec(any::<u8>(), 0..48), 1..6);
    prop_oneof![
        4 => batch.clone().prop_map(Op::Append),
        3 => (1usize..8).prop_map(Op::Next),
        2 => any::<usize>().prop_map(Op::Ack),
        1 => Just(Op::Crash),
        1 => Just(Op::Rewind),
        1 => (batch, any::<u64>()).prop_map(|(batch, cut)| Op::TornAppend(batch, cut)),
    ]
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    Ok,
    Full,
    TooLarge,
}

fn expect(model: &VecDeque<Vec<u8>>, batch: &[Vec<u8>], max: u64) -> Expect {
    let total: u64 = batch.iter().map(|r| size(r)).sum();
    if total > max {
        Expect::TooLarge
    } else if model.iter().map(|r| size(r)).sum::<u64>() + total > max {
        Expect::Full
    } else {
        Expect::Ok
    }
}

fn outcome(result: Result<Appended, AppendError>) -> Expect {
    match result {
        Ok(_) => Expect::Ok,
        Err(AppendError::Full) => Expect::Full,
        Err(AppendError::TooLarge { .. }) => Expect::TooLarge,
        Err(AppendError::Io(err)) => panic!("{err}"),
    }
}

/// Reopen after a crash: exactly the model's records come back, in order;
/// then reopen again so the caller starts with a fresh read cursor.
fn reopen(dir: &Path, options: Options, model: &VecDeque<Vec<u8>>, torn: bool) -> DiskBuffer {
    let (mut buffer, recovery) = DiskBuffer::open(dir, options).unwrap();
    assert!(recovery.skipped.is_empty(), "{recovery:?}");
    assert_eq!(recovery.torn_tail.is_some(), torn, "{recovery:?}");
    assert!(!matches!(recovery.ack, AckState::Invalid(_)));
    assert_eq!(recovery.pending_records, model.len() as u64);
    assert_eq!(recovery.pending_bytes, model.iter().map(|r| size(r)).sum::<u64>());
    assert_eq!(drain(&mut buffer), Vec::from(model.clone()));
    drop(buffer);
    let (buffer, recovery) = DiskBuffer::open(dir, options).unwrap();
    assert!(recovery.is_clean(), "{recovery:?}");
    buffer
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn behaves_like_a_queue_across_crashes(
        max_segment_bytes in 16u64..400,
        max_bytes in 100u64..1500,
        ops in vec(op(), 1..80),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let options = never(max_bytes, max_segment_bytes);
        let (mut buffer, recovery) = DiskBuffer::open(dir.path(), options).unwrap();
        prop_assert!(recovery.is_clean());
        prop_assert_eq!(recovery.ack, AckState::Missing);
        // Unacknowledged records, oldest first; the first `ids.len()` were read.
        let mut model: VecDeque<Vec<u8>> = VecDeque::new();
        let mut ids: Vec<RecordId> = Vec::new();
        for op in ops {
            match op {
                Op::Append(batch) => {
                    let slices: Vec<&[u8]> = batch.iter().map(Vec::as_slice).collect();
                    let expected = expect(&model, &batch, max_bytes);
                    prop_assert_eq!(outcome(buffer.append(&slices)), expected);
                    if expected == Expect::Ok {
                        model.extend(batch);
                    }
                }
                Op::Next(n) => {
                    for _ in 0..n {
                        let got = buffer.next().unwrap();
                        prop_assert_eq!(got.as_ref().map(|(_, r)| r), model.get(ids.len()));
                        if let Some((id, _)) = got {
                            prop_assert!(ids.last().is_none_or(|last| *last < id));
                            ids.push(id);
                        }
                    }
                }
                Op::Ack(n) => {
                    if !ids.is_empty() {
                        let i = n % ids.len();
                        buffer.ack(ids[i]).unwrap();
                        // Acknowledging again, or something older, changes nothing.
                        buffer.ack(ids[i]).unwrap();
                        buffer.ack(ids[0]).unwrap();
                        model.drain(..=i);
                        ids.drain(..=i);
                    }
                }
                Op::Rewind => {
                    buffer.rewind();
                    ids.clear();
                }
                Op::Crash => {
                    drop(buffer);
                    ids.clear();
                    buffer = reopen(dir.path(), options, &model, false);
                }
                Op::TornAppend(batch, cut) => {
                    let slices: Vec<&[u8]> = batch.iter().map(Vec::as_slice).collect();
                    let expected = expect(&model, &batch, max_bytes);
                    prop_assert_eq!(outcome(buffer.append(&slices)), expected);
                    if expected != Expect::Ok {
                        continue;
                    }
                    drop(buffer);
                    ids.clear();
                    // The batch is the end of the newest segment.
                    let total: u64 = batch.iter().map(|r| size(r)).sum();
                    let cut = 1 + cut % total;
                    let newest = segments(dir.path()).pop().unwrap();
                    let file = OpenOptions::new().write(true).open(&newest).unwrap();
                    file.set_len(file.metadata().unwrap().len() - cut).unwrap();
                    let kept = total - cut;
                    let mut end = 0;
                    let mut at_boundary = kept == 0;
                    for record in batch {
                        end += size(&record);
                        if end <= kept {
                            model.push_back(record);
                        }
                        at_boundary |= end == kept;
                    }
                    buffer = reopen(dir.path(), options, &model, !at_boundary);
                }
            }
            let model_bytes: u64 = model.iter().map(|r| size(r)).sum();
            prop_assert_eq!(buffer.unacked_bytes(), model_bytes);
            prop_assert_eq!(buffer.len(), model.len() as u64);
            // Fully acknowledged segments are deleted: what is on disk is the
            // unacknowledged records plus at most the acknowledged parts of
            // the oldest and the newest segment (a batch is at most 6 × 55).
            let on_disk: u64 = segments(dir.path()).iter().map(|p| p.metadata().unwrap().len()).sum();
            prop_assert!(on_disk <= model_bytes + 2 * max_segment_bytes.max(330), "{on_disk} on disk for {model_bytes}");
        }
        drop(buffer);
        drop(reopen(dir.path(), options, &model, false));
    }
}

// ---- corruption ----

/// 38 bytes a record, five to a segment.
const FIVE_A_SEGMENT: Options = Options { max_bytes: 1 << 20, max_segment_bytes: 5 * 38, sync: Fsync::Never };

#[test]
fn a_flipped_payload_byte_skips_that_record_only() {
    let dir = tempfile::tempdir().unwrap();
    let records = fill(dir.path(), FIVE_A_SEGMENT, 20);
    let files = segments(dir.path());
    assert_eq!(files.len(), 4);
    patch(&files[0], 2 * 38 + 8 + 5, |b| b ^ 0x01);

    let (mut buffer, recovery) = DiskBuffer::open(dir.path(), FIVE_A_SEGMENT).unwrap();
    assert_eq!(
        recovery.skipped,
        vec![Skipped { segment: files[0].clone(), offset: 76, bytes: 38, rest_of_segment: false }]
    );
    assert_eq!(recovery.pending_records, 19);
    let mut expected = records.clone();
    expected.remove(2);
    assert_eq!(drain(&mut buffer), expected);
}

#[test]
fn a_damaged_length_skips_the_rest_of_its_segment() {
    let dir = tempfile::tempdir().unwrap();
    let records = fill(dir.path(), FIVE_A_SEGMENT, 20);
    let files = segments(dir.path());
    // Record 6 (the second of segment 2) claims one byte more: its CRC fails
    // and no intact record follows where it says it ends.
    patch(&files[1], 38, |b| b + 1);

    let (mut buffer, recovery) = DiskBuffer::open(dir.path(), FIVE_A_SEGMENT).unwrap();
    assert_eq!(
        recovery.skipped,
        vec![Skipped { segment: files[1].clone(), offset: 38, bytes: 4 * 38, rest_of_segment: true }]
    );
    let expected: Vec<Vec<u8>> =
        records.iter().enumerate().filter(|(i, _)| !(6..10).contains(i)).map(|(_, r)| r.clone()).collect();
    assert_eq!(drain(&mut buffer), expected);

    // A length pointing past the end of a sealed segment: the same.
    patch(&files[2], 3, |_| 0x7f);
    drop(buffer);
    let (mut buffer, recovery) = DiskBuffer::open(dir.path(), FIVE_A_SEGMENT).unwrap();
    assert_eq!(recovery.skipped.len(), 2);
    assert_eq!(
        recovery.skipped[1],
        Skipped { segment: files[2].clone(), offset: 0, bytes: 5 * 38, rest_of_segment: true }
    );
    assert_eq!(drain(&mut buffer).len(), 20 - 4 - 5);
}

#[test]
fn damage_in_the_newest_segment_seals_it() {
    let dir = tempfile::tempdir().unwrap();
    let records = fill(dir.path(), FIVE_A_SEGMENT, 13);
    let files = segments(dir.path());
    patch(&files[2], 0, |b| b + 1);

    let (mut buffer, recovery) = DiskBuffer::open(dir.path(), FIVE_A_SEGMENT).unwrap();
    assert_eq!(
        recovery.skipped,
        vec![Skipped { segment: files[2].clone(), offset: 0, bytes: 3 * 38, rest_of_segment: true }]
    );
    assert!(recovery.torn_tail.is_none());
    buffer.append(&[b"after"]).unwrap();
    assert_eq!(segments(dir.path()).len(), 4, "appends go to a new segment, the damaged one is kept");
    let mut expected = records[..10].to_vec();
    expected.push(b"after".to_vec());
    assert_eq!(drain(&mut buffer), expected);
}

#[test]
fn a_torn_tail_is_truncated_and_appending_resumes() {
    for cut in [1, 5, 30, 33] {
        let dir = tempfile::tempdir().unwrap();
        let records = fill(dir.path(), FIVE_A_SEGMENT, 8);
        let newest = segments(dir.path()).pop().unwrap();
        let len = newest.metadata().unwrap().len();
        OpenOptions::new().write(true).open(&newest).unwrap().set_len(len - cut).unwrap();

        let (mut buffer, recovery) = DiskBuffer::open(dir.path(), FIVE_A_SEGMENT).unwrap();
        assert_eq!(
            recovery.torn_tail,
            Some(Skipped { segment: newest.clone(), offset: 2 * 38, bytes: 38 - cut, rest_of_segment: false })
        );
        assert!(recovery.skipped.is_empty());
        assert_eq!(newest.metadata().unwrap().len(), 2 * 38);
        buffer.append(&[b"after"]).unwrap();
        drop(buffer);

        let (mut buffer, recovery) = DiskBuffer::open(dir.path(), FIVE_A_SEGMENT).unwrap();
        assert!(recovery.is_clean(), "{recovery:?}");
        let mut expected = records[..7].to_vec();
        expected.push(b"after".to_vec());
        assert_eq!(drain(&mut buffer), expected);
    }
}

#[test]
fn a_garbage_last_record_is_a_torn_tail() {
    // Pages of the last write that never reached the disk read as zeros.
    let dir = tempfile::tempdir().unwrap();
    let records = fill(dir.path(), FIVE_A_SEGMENT, 7);
    let newest = segments(dir.path()).pop().unwrap();
    for offset in 38 + 20..2 * 38 {
        patch(&newest, offset, |_| 0);
    }
    let (mut buffer, recovery) = DiskBuffer::open(dir.path(), FIVE_A_SEGMENT).unwrap();
    assert_eq!(recovery.torn_tail.map(|t| (t.offset, t.bytes)), Some((38, 38)));
    assert!(recovery.skipped.is_empty());
    assert_eq!(drain(&mut buffer), records[..6]);
}

#[test]
fn a_garbage_ack_file_replays_what_is_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let records = fill(dir.path(), FIVE_A_SEGMENT, 20);
    let (mut buffer, _) = DiskBuffer::open(dir.path(), FIVE_A_SEGMENT).unwrap();
    let mut last = None;
    for _ in 0..7 {
        last = buffer.next().unwrap().map(|(id, _)| id);
    }
    buffer.ack(last.unwrap()).unwrap();
    assert_eq!(segments(dir.path()).len(), 3, "the first segment is acknowledged and deleted");
    drop(buffer);

    for garbage in [&b""[..], b"nonsense", &[0u8; 28], &std::fs::read(dir.path().join("ack")).unwrap()[..27]] {
        std::fs::write(dir.path().join("ack"), garbage).unwrap();
        let (mut buffer, recovery) = DiskBuffer::open(dir.path(), FIVE_A_SEGMENT).unwrap();
        assert!(matches!(recovery.ack, AckState::Invalid(_)), "{:?}", recovery.ack);
        // Records 5 and 6 were acknowledged but come back: a duplicate, not a loss.
        assert_eq!(recovery.pending_records, 15);
        assert_eq!(drain(&mut buffer), records[5..]);
    }
}

// ---- bounds ----

#[test]
fn append_refuses_when_full_and_resumes_after_acks() {
    let dir = tempfile::tempdir().unwrap();
    let options = Options { max_bytes: 10 * 38, max_segment_bytes: 3 * 38, sync: Fsync::Never };
    let record: &[u8] = &[b'x'; 30];
    let (mut buffer, _) = DiskBuffer::open(dir.path(), options).unwrap();
    for _ in 0..10 {
        buffer.append(&[record]).unwrap();
    }
    assert!(matches!(buffer.append(&[record]), Err(AppendError::Full)));
    assert!(matches!(buffer.append(&[b""]), Err(AppendError::Full)), "even an empty record takes 8 bytes");
    assert!(matches!(buffer.append(&[&[0; 373][..]]), Err(AppendError::TooLarge { size: 381, max: 380 })));
    assert!(matches!(buffer.append(&[record; 11]), Err(AppendError::TooLarge { size: 418, max: 380 })));
    assert_eq!(segments(dir.path()).len(), 4);

    let ids: Vec<RecordId> = std::iter::from_fn(|| buffer.next().unwrap().map(|(id, _)| id)).collect();
    assert_eq!(ids.len(), 10);
    assert!(matches!(buffer.append(&[record]), Err(AppendError::Full)), "read is not acknowledged");
    buffer.ack(ids[4]).unwrap();
    assert_eq!(segments(dir.path()).len(), 3, "records 0-2 were all in the first segment");
    for _ in 0..5 {
        buffer.append(&[record]).unwrap();
    }
    assert!(matches!(buffer.append(&[record]), Err(AppendError::Full)));

    let last = std::iter::from_fn(|| buffer.next().unwrap().map(|(id, _)| id)).last().unwrap();
    buffer.ack(last).unwrap();
    assert_eq!(buffer.unacked_bytes(), 0);
    assert_eq!(segments(dir.path()).len(), 1, "only the segment taking appends stays");
    buffer.append(&[record; 10]).unwrap();
}

#[test]
fn ack_checks_what_it_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let (mut buffer, _) = DiskBuffer::open(dir.path(), FIVE_A_SEGMENT).unwrap();
    buffer.append(&[b"one", b"two"]).unwrap();
    let (one, _) = buffer.next().unwrap().unwrap();
    let (two, _) = buffer.next().unwrap().unwrap();
    buffer.ack(two).unwrap();
    buffer.ack(one).unwrap(); // older: nothing to do
    buffer.append(&[b"three"]).unwrap();
    let other_dir = tempfile::tempdir().unwrap();
    let mut other = DiskBuffer::open(other_dir.path(), FIVE_A_SEGMENT).unwrap().0;
    other.append(&[b"a", b"b", b"c", b"d"]).unwrap();
    let unread = std::iter::from_fn(|| other.next().unwrap().map(|(id, _)| id)).last().unwrap();
    assert!(buffer.ack(unread).is_err(), "an id past the read cursor");
}

// ---- files ----

#[test]
fn directory_is_private_and_files_too() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("nested/buffer");
    let options = Options { sync: Fsync::Always, ..FIVE_A_SEGMENT };
    let (mut buffer, _) = DiskBuffer::open(&dir, options).unwrap();
    buffer.append(&[b"secret"]).unwrap();
    let (id, _) = buffer.next().unwrap().unwrap();
    buffer.ack(id).unwrap();
    let mode = |p: &Path| p.metadata().unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    let files: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 3, "{files:?}"); // segment, ack, lock
    for file in files {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
    drop(buffer);

    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    DiskBuffer::open(&dir, options).unwrap();
    assert_eq!(mode(&dir), 0o700, "an existing directory is tightened");
}

#[test]
fn one_buffer_per_directory() {
    let dir = tempfile::tempdir().unwrap();
    let first = DiskBuffer::open(dir.path(), FIVE_A_SEGMENT).unwrap();
    let err = DiskBuffer::open(dir.path(), FIVE_A_SEGMENT).unwrap_err();
    assert!(err.to_string().contains("in use"), "{err}");
    drop(first);
    DiskBuffer::open(dir.path(), FIVE_A_SEGMENT).unwrap();
}

#[test]
fn sync_always_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let options = Options { sync: Fsync::Always, ..FIVE_A_SEGMENT };
    let records = fill(dir.path(), options, 12);
    let (mut buffer, recovery) = DiskBuffer::open(dir.path(), options).unwrap();
    assert_eq!(recovery.pending_records, 12);
    let ids: Vec<RecordId> = (0..6).map(|_| buffer.next().unwrap().unwrap().0).collect();
    buffer.ack(ids[5]).unwrap();
    drop(buffer);
    let (mut buffer, recovery) = DiskBuffer::open(dir.path(), options).unwrap();
    assert_eq!(recovery.ack, AckState::Found);
    assert_eq!(drain(&mut buffer), records[6..]);
}
