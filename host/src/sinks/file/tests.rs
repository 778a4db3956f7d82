use super::*;
use crate::ack::BatchStatus;
use crate::sinks::testing::{self, WAIT, event, finished};
use serde_json::json;

#[tokio::test]
async fn a_line_with_lf_or_cr_is_written_as_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.log");
    let config = FileSinkConfig { path: path.clone() };
    let sink = testing::start(WAIT, move |ctx| run(config, ctx));
    let mut forged = event(json!({"message": "m"}));
    forged.set_line("e|first\nFORGED\r\nthird\r\n".into());
    let status = sink.send(vec![forged, event(json!({"n": 1}))]).await;
    assert_eq!(finished(status).await, BatchStatus::Delivered);
    sink.finish().await;
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "e|first#012FORGED#015#012third\n{\"n\":1}\n");
}

/// A file sink writing `out.log` in a directory of its own, checking the
/// path every `check_every`.
fn start(check_every: Duration) -> (testing::Running, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.log");
    (testing::start(WAIT, move |ctx| write_to(path, ctx, check_every)), dir)
}

fn line(text: &str) -> crate::event::Event {
    let mut event = event(json!({}));
    event.set_line(text.to_owned());
    event
}

async fn write(sink: &testing::Running, text: &str) {
    assert_eq!(finished(sink.send(vec![line(text)]).await).await, BatchStatus::Delivered);
}

fn read(dir: &tempfile::TempDir, name: &str) -> String {
    std::fs::read_to_string(dir.path().join(name)).unwrap()
}

#[tokio::test]
async fn a_file_moved_away_or_deleted_is_followed_by_a_new_one_at_its_path() {
    let (sink, dir) = start(Duration::ZERO);
    write(&sink, "one").await;
    std::fs::rename(dir.path().join("out.log"), dir.path().join("out.log.1")).unwrap();
    write(&sink, "two").await;
    assert_eq!((read(&dir, "out.log.1"), read(&dir, "out.log")), ("one\n".into(), "two\n".into()));

    std::fs::remove_file(dir.path().join("out.log")).unwrap();
    write(&sink, "three").await;
    assert_eq!(read(&dir, "out.log"), "three\n", "created again");
    assert_eq!(sink.metrics.counts().errors, 0);
    sink.finish().await;
}

#[tokio::test]
async fn asked_to_reopen_it_opens_the_path_again_at_once() {
    let (sink, dir) = start(Duration::from_secs(3600));
    write(&sink, "one").await;
    std::fs::rename(dir.path().join("out.log"), dir.path().join("out.log.1")).unwrap();
    write(&sink, "before the request").await;
    assert_eq!(read(&dir, "out.log.1"), "one\nbefore the request\n", "the path is checked at most hourly here");

    sink.reopen.request();
    write(&sink, "after").await;
    assert_eq!(read(&dir, "out.log"), "after\n");
    assert_eq!(read(&dir, "out.log.1"), "one\nbefore the request\n");
    sink.finish().await;
}
