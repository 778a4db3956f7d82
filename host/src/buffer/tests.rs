use super::*;
use std::time::Duration;

/// A buffer that three records of 10 bytes fill.
async fn both() -> Vec<(Writer, Reader, tempfile::TempDir)> {
    let dir = tempfile::tempdir().unwrap();
    let options = Options { max_bytes: 3 * 18, max_segment_bytes: 40, sync: Fsync::Never };
    let (writer, reader, recovery) = disk(dir.path(), options).await.unwrap();
    assert!(recovery.is_clean());
    vec![(writer, reader, dir)]
}

fn record(i: u8) -> Vec<u8> {
    vec![i; 10]
}

async fn soon<F: std::future::Future>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(5), f).await.expect("finishes")
}

#[tokio::test]
async fn append_waits_while_full_and_try_append_hands_back() {
    for (mut writer, mut reader, _dir) in both().await {
        writer.append(vec![record(0), record(1)]).await.unwrap();
        writer.append(vec![record(2)]).await.unwrap();
        match writer.try_append(vec![record(3)]).await {
            Err(TryAppendError::Full(back)) => assert_eq!(back, vec![record(3)]),
            other => panic!("{other:?}"),
        }
        let blocked = tokio::spawn(async move {
            writer.append(vec![record(3)]).await.unwrap();
            writer
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!blocked.is_finished(), "waits for space");

        let (first, _) = soon(reader.next()).await.unwrap().unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!blocked.is_finished(), "read is not acknowledged");
        reader.ack(first).await.unwrap();
        let writer = soon(blocked).await.unwrap();
        drop(writer);

        let rest = soon(reader.next_batch(10)).await.unwrap();
        assert_eq!(rest.into_iter().map(|(_, r)| r).collect::<Vec<_>>(), vec![record(1), record(2), record(3)]);
        assert!(soon(reader.next()).await.unwrap().is_none(), "the writer is gone and all is read");
    }
}

#[tokio::test]
async fn next_waits_for_data() {
    for (mut writer, mut reader, _dir) in both().await {
        let waiting = tokio::spawn(async move {
            let got = reader.next().await.unwrap().map(|(_, r)| r);
            (reader, got)
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiting.is_finished());
        writer.append(vec![record(7)]).await.unwrap();
        let (_reader, got) = soon(waiting).await.unwrap();
        assert_eq!(got, Some(record(7)));
    }
}

#[tokio::test]
async fn a_full_buffer_without_a_reader_is_an_error() {
    for (mut writer, reader, _dir) in both().await {
        writer.append(vec![record(0), record(1), record(2)]).await.unwrap();
        let blocked = tokio::spawn(async move { writer.append(vec![record(3)]).await });
        tokio::time::sleep(Duration::from_millis(50)).await;
        drop(reader);
        assert!(soon(blocked).await.unwrap().is_err());
    }
}

#[tokio::test]
async fn too_large_is_an_error_not_a_wait() {
    for (mut writer, _reader, _dir) in both().await {
        let err = soon(writer.append(vec![record(0); 4])).await.unwrap_err();
        assert!(err.to_string().contains("exceeds"), "{err}");
    }
}

#[tokio::test]
async fn disk_records_not_acknowledged_come_back() {
    let dir = tempfile::tempdir().unwrap();
    let options = Options { max_bytes: 1 << 20, max_segment_bytes: 100, sync: Fsync::Always };
    let (mut writer, mut reader, _) = disk(dir.path(), options).await.unwrap();
    writer.append((0..10).map(record).collect()).await.unwrap();
    let batch = reader.next_batch(4).await.unwrap();
    reader.ack(batch[3].0).await.unwrap();
    reader.next_batch(4).await.unwrap(); // read, never acknowledged
    drop((writer, reader));

    let (_writer, mut reader, recovery) = disk(dir.path(), options).await.unwrap();
    assert_eq!(recovery.pending_records, 6);
    let again = reader.next_batch(100).await.unwrap();
    assert_eq!(again.into_iter().map(|(_, r)| r).collect::<Vec<_>>(), (4..10).map(record).collect::<Vec<_>>());
}
