use super::checkpoint::{CheckpointFile, Fingerprint, Position};
use super::config::base_dir;
use super::*;
use crate::sources::testing::{Harness, Running, WAIT, messages};
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// A temporary directory with `logs/` to read and `data/` for checkpoints.
struct Dirs {
    _tmp: tempfile::TempDir,
    logs: PathBuf,
    data: PathBuf,
}

fn dirs() -> Dirs {
    let tmp = tempfile::tempdir().unwrap();
    // Canonical, to compare with the paths behind open descriptors.
    let root = tmp.path().canonicalize().unwrap();
    let logs = root.join("logs");
    std::fs::create_dir(&logs).unwrap();
    Dirs { _tmp: tmp, logs, data: root.join("data") }
}

fn config(logs: &Path, pattern: &str) -> FileConfig {
    FileConfig {
        include: vec![logs.join(pattern).to_string_lossy().into_owned()],
        exclude: Vec::new(),
        read_from: ReadFrom::Beginning,
        max_line_bytes: 1024,
        glob_interval_ms: 10,
        poll_interval_ms: 5,
        decoding: Decoding::Text,
    }
}

fn append(path: &Path, text: &str) {
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path).unwrap();
    file.write_all(text.as_bytes()).unwrap();
}

fn saved(data: &Path) -> Vec<Position> {
    CheckpointFile::new(data, "agents").load().unwrap()
}

/// Whether this process has `path` open (Linux).
fn is_open(path: &Path) -> bool {
    let deleted = format!("{} (deleted)", path.display());
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .flatten()
        .filter_map(|fd| std::fs::read_link(fd.path()).ok())
        .any(|target| target == path || target.to_string_lossy() == deleted)
}

async fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// A source reading `config`, with its checkpoint (and dead letter) in `data`.
fn start(config: FileConfig, data: &Path, max_events: usize) -> Running {
    let harness = Harness::new("agents").batch(max_events, Duration::from_millis(10)).capacity(4).data_dir(data);
    harness.start(move |ctx| run(config, ctx))
}

/// The harness's events as lines.
trait Lines {
    /// Take batches until `n` events came; each batch is delivered when
    /// dropped, or failed first when `fail`.
    async fn lines(&mut self, n: usize, fail: bool) -> Vec<String>;

    async fn take(&mut self, n: usize) -> Vec<String> {
        self.lines(n, false).await
    }
}

impl Lines for Running {
    async fn lines(&mut self, n: usize, fail: bool) -> Vec<String> {
        messages(&self.receive(n, fail).await)
    }
}

#[tokio::test]
async fn reads_lines_and_follows_appends_but_waits_for_a_line_to_end() {
    let dirs = dirs();
    let log = dirs.logs.join("a.jsonl");
    append(&log, "one\ntwo\r\npart");
    let mut source = start(config(&dirs.logs, "*.jsonl"), &dirs.data, 128);
    assert_eq!(source.take(2).await, ["one", "two"]);
    append(&log, "ial\nthree\n");
    assert_eq!(source.take(2).await, ["partial", "three"]);
    append(&log, "four\n");
    let batch = tokio::time::timeout(WAIT, source.batches.recv()).await.unwrap().unwrap();
    let event: serde_json::Value = serde_json::from_str(batch.events[0].json()).unwrap();
    assert_eq!(event["message"], "four");
    assert_eq!(event["source"]["id"], "agents");
    assert_eq!(event["source"]["path"], log.to_str().unwrap());
    drop(batch);
    let counts = source.metrics.counts();
    assert_eq!((counts.received, counts.sent), (5, 5));
    assert!(source.stop().await.rest.is_empty());
    let saved = saved(&dirs.data);
    assert_eq!(saved.len(), 1);
    assert_eq!((saved[0].offset, &saved[0].path), (std::fs::metadata(&log).unwrap().len(), &log));
}

#[tokio::test]
async fn the_checkpoint_is_saved_while_running() {
    let dirs = dirs();
    let log = dirs.logs.join("a.log");
    append(&log, "1\n2\n");
    let mut source = start(config(&dirs.logs, "*.log"), &dirs.data, 128);
    assert_eq!(source.take(2).await, ["1", "2"]);
    // Within about a second, without waiting for a stop: a crash now would not read them again.
    wait_until("the checkpoint is saved", || saved(&dirs.data).first().is_some_and(|p| p.offset == 4)).await;
    assert!(source.stop().await.rest.is_empty());
}

#[tokio::test]
async fn batches_hold_at_most_max_events_and_a_restart_reads_nothing_twice() {
    let dirs = dirs();
    let log = dirs.logs.join("a.log");
    let lines: Vec<String> = (0..10).map(|i| format!("line {i}")).collect();
    append(&log, &lines.iter().map(|l| format!("{l}\n")).collect::<String>());

    let mut source = start(config(&dirs.logs, "*.log"), &dirs.data, 3);
    assert_eq!(source.take(10).await, lines);
    assert!(source.sizes.iter().all(|&n| (1..=3).contains(&n)), "batch sizes {:?}", source.sizes);
    assert!(source.stop().await.rest.is_empty());

    append(&log, "line 10\nline 11\n");
    let mut source = start(config(&dirs.logs, "*.log"), &dirs.data, 3);
    assert_eq!(source.take(2).await, ["line 10", "line 11"]);
    assert!(source.stop().await.rest.is_empty());

    // Nothing new: nothing at all.
    let mut source = start(config(&dirs.logs, "*.log"), &dirs.data, 3);
    append(&log, "line 12\n");
    assert_eq!(source.take(1).await, ["line 12"]);
    assert!(source.stop().await.rest.is_empty());
}

#[tokio::test]
async fn follows_rotation_by_rename() {
    let dirs = dirs();
    let log = dirs.logs.join("app.log");
    let rotated = dirs.logs.join("app.log.1");
    append(&log, "1\n2\n");
    let mut source = start(config(&dirs.logs, "app.log"), &dirs.data, 128);
    assert_eq!(source.take(2).await, ["1", "2"]);

    append(&log, "3\n");
    std::fs::rename(&log, &rotated).unwrap();
    // The writer has not reopened its log yet.
    append(&rotated, "4\n");
    append(&log, "5\n6\n");
    let mut got = source.take(4).await;
    let position = |line: &str| got.iter().position(|l| l == line).unwrap();
    assert!(position("3") < position("4") && position("5") < position("6"), "per-file order: {got:?}");
    got.sort();
    assert_eq!(got, ["3", "4", "5", "6"]);

    // The renamed file is closed once read and out of the globs.
    wait_until("the rotated file is closed", || !is_open(&rotated)).await;
    assert!(is_open(&log));
    assert!(source.stop().await.rest.is_empty());
    let saved = saved(&dirs.data);
    assert_eq!(saved.len(), 1, "{saved:?}");
    assert_eq!((saved[0].offset, &saved[0].path), (4, &log));
}

#[tokio::test]
async fn finishes_a_file_rotated_while_stopped() {
    let dirs = dirs();
    let log = dirs.logs.join("app.log");
    append(&log, "1\n2\n");
    let mut source = start(config(&dirs.logs, "app.log"), &dirs.data, 128);
    assert_eq!(source.take(2).await, ["1", "2"]);
    assert!(source.stop().await.rest.is_empty());

    append(&log, "3\n");
    std::fs::rename(&log, dirs.logs.join("app.log.1")).unwrap();
    append(&log, "4\n");
    let mut source = start(config(&dirs.logs, "app.log"), &dirs.data, 128);
    let mut got = source.take(2).await;
    got.sort();
    assert_eq!(got, ["3", "4"]);
    assert!(source.stop().await.rest.is_empty());
}

#[tokio::test]
async fn starts_again_at_zero_after_truncation() {
    let dirs = dirs();
    let log = dirs.logs.join("a.log");
    append(&log, "first\nsecond\n");
    let mut source = start(config(&dirs.logs, "*.log"), &dirs.data, 128);
    assert_eq!(source.take(2).await, ["first", "second"]);
    std::fs::write(&log, "new\n").unwrap();
    assert_eq!(source.take(1).await, ["new"]);
    append(&log, "more\n");
    assert_eq!(source.take(1).await, ["more"]);
    assert!(source.stop().await.rest.is_empty());
    assert_eq!(saved(&dirs.data)[0].offset, 9);
}

#[tokio::test]
async fn oversized_lines_reach_the_dead_letter_and_still_count_for_the_checkpoint() {
    let dirs = dirs();
    let log = dirs.logs.join("a.log");
    append(&log, &format!("ok\n{}\nfine\n", "x".repeat(20)));
    let mut config = config(&dirs.logs, "*.log");
    config.max_line_bytes = 8;
    let mut source = start(config.clone(), &dirs.data, 128);
    assert_eq!(source.take(2).await, ["ok", "fine"]);
    assert_eq!(source.metrics.counts().dead_lettered, 1);
    assert!(source.stop().await.rest.is_empty());

    let dead = std::fs::read_to_string(dirs.data.join("dead-letter.jsonl")).unwrap();
    let records: Vec<serde_json::Value> = dead.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(records.len(), 1, "{dead}");
    assert_eq!(records[0]["component"], "agents");
    assert_eq!(records[0]["event"]["message"], "xxxxxxxx");
    let reason = records[0]["reason"].as_str().unwrap();
    for part in ["20 bytes", log.to_str().unwrap(), "max_line_bytes (8)"] {
        assert!(reason.contains(part), "{reason:?} names {part:?}");
    }
    assert_eq!(saved(&dirs.data)[0].offset, std::fs::metadata(&log).unwrap().len());

    // After a restart the oversized line is not read again.
    append(&log, "after\n");
    let mut source = start(config, &dirs.data, 128);
    assert_eq!(source.take(1).await, ["after"]);
    assert!(source.stop().await.rest.is_empty());
    let dead = std::fs::read_to_string(dirs.data.join("dead-letter.jsonl")).unwrap();
    assert_eq!(dead.lines().count(), 1);
}

#[tokio::test]
async fn read_from_end_skips_old_lines_but_not_new_files() {
    let dirs = dirs();
    let log = dirs.logs.join("a.log");
    append(&log, "old\n");
    let mut config = config(&dirs.logs, "*.log");
    config.read_from = ReadFrom::End;
    let mut source = start(config.clone(), &dirs.data, 128);
    wait_until("the file is open", || is_open(&log)).await;
    append(&log, "new\n");
    assert_eq!(source.take(1).await, ["new"]);
    // A file that appears later is read whole.
    append(&dirs.logs.join("b.log"), "b1\nb2\n");
    assert_eq!(source.take(2).await, ["b1", "b2"]);
    assert!(source.stop().await.rest.is_empty());

    // With a checkpoint, `read_from` no longer applies.
    append(&log, "while stopped\n");
    let mut source = start(config, &dirs.data, 128);
    assert_eq!(source.take(1).await, ["while stopped"]);
    assert!(source.stop().await.rest.is_empty());
}

#[tokio::test]
async fn a_failed_batch_holds_the_checkpoint_back_until_a_restart() {
    let dirs = dirs();
    let log = dirs.logs.join("a.log");
    append(&log, "1\n2\n");
    let mut source = start(config(&dirs.logs, "*.log"), &dirs.data, 128);
    assert_eq!(source.lines(2, true).await, ["1", "2"]);
    append(&log, "3\n");
    assert_eq!(source.take(1).await, ["3"]);
    assert!(source.stop().await.rest.is_empty());
    assert_eq!(saved(&dirs.data)[0].offset, 0, "held before the failed batch");

    let mut source = start(config(&dirs.logs, "*.log"), &dirs.data, 128);
    assert_eq!(source.take(3).await, ["1", "2", "3"], "read again: at least once");
    assert!(source.stop().await.rest.is_empty());
    assert_eq!(saved(&dirs.data)[0].offset, 6);
}

#[tokio::test]
async fn a_deleted_file_is_read_to_its_end_then_closed() {
    let dirs = dirs();
    let log = dirs.logs.join("a.log");
    append(&log, "1\n");
    let mut source = start(config(&dirs.logs, "*.log"), &dirs.data, 128);
    assert_eq!(source.take(1).await, ["1"]);
    append(&log, "2\nlast without newline");
    std::fs::remove_file(&log).unwrap();
    assert_eq!(source.take(2).await, ["2", "last without newline"]);
    wait_until("the deleted file is closed", || !is_open(&log)).await;
    assert!(source.stop().await.rest.is_empty());
    assert_eq!(saved(&dirs.data), Vec::new());
}

#[tokio::test]
async fn a_checkpoint_applies_only_to_the_file_it_was_taken_from() {
    let dirs = dirs();
    let kept = dirs.logs.join("kept.log");
    let reused = dirs.logs.join("reused.log");
    append(&kept, "aaaa\nbbbb\n");
    append(&reused, "new file\n");
    let position = |path: &Path, head: &[u8]| {
        let meta = std::fs::metadata(path).unwrap();
        let fingerprint = Fingerprint::of(head);
        Position { dev: meta.dev(), ino: meta.ino(), fingerprint, offset: 5, path: path.to_path_buf() }
    };
    // `reused.log` got the inode of a deleted file that had other content.
    let positions = [position(&kept, b"aaaa\n"), position(&reused, b"old!\n")];
    CheckpointFile::new(&dirs.data, "agents").save(&positions).unwrap();
    let mut source = start(config(&dirs.logs, "*.log"), &dirs.data, 128);
    let mut got = source.take(2).await;
    got.sort();
    assert_eq!(got, ["bbbb", "new file"]);
    assert!(source.stop().await.rest.is_empty());
}

#[tokio::test]
async fn exclude_leaves_matching_files_out() {
    let dirs = dirs();
    append(&dirs.logs.join("a.log"), "a\n");
    append(&dirs.logs.join("skip.log"), "skipped\n");
    let mut config = config(&dirs.logs, "*.log");
    config.exclude = vec![dirs.logs.join("skip*").to_string_lossy().into_owned()];
    let mut source = start(config, &dirs.data, 128);
    assert_eq!(source.take(1).await, ["a"]);
    append(&dirs.logs.join("a.log"), "b\n");
    assert_eq!(source.take(1).await, ["b"]);
    assert!(source.stop().await.rest.is_empty());
}

fn parse(toml: &str) -> Result<FileConfig, toml::de::Error> {
    toml::from_str(toml)
}

fn problems(config: &FileConfig) -> Vec<String> {
    let mut errors = Vec::new();
    config.validate("sources.agents", &mut errors);
    errors.iter().map(ToString::to_string).collect()
}

#[test]
fn config_defaults_and_unknown_keys() {
    let config = parse(r#"include = ["/var/log/*.jsonl"]"#).unwrap();
    assert_eq!(config.read_from, ReadFrom::Beginning);
    assert_eq!(
        (config.max_line_bytes, config.glob_interval_ms, config.poll_interval_ms, config.exclude.len()),
        (1048576, 1000, 50, 0)
    );
    assert_eq!(parse("include = []\nread_from = \"end\"").unwrap().read_from, ReadFrom::End);
    assert!(parse("include = []\nread_from = \"middle\"").unwrap_err().to_string().contains("middle"));
    assert!(parse("include = []\nincludes = []").unwrap_err().to_string().contains("includes"));
}

#[test]
fn validate_reports_every_problem_with_its_key() {
    let dirs = dirs();
    let not_a_dir = dirs.logs.join("file");
    std::fs::write(&not_a_dir, "").unwrap();
    let broken = FileConfig {
        include: vec!["/var/log/[".to_owned(), format!("{}/*.log", not_a_dir.display())],
        exclude: vec!["a[".to_owned()],
        max_line_bytes: 0,
        glob_interval_ms: 0,
        poll_interval_ms: 0,
        ..config(&dirs.logs, "*.log")
    };
    let found = problems(&broken);
    assert_eq!(found.len(), 6, "{found:#?}");
    assert!(found[0].starts_with("sources.agents.include: invalid glob `/var/log/[`"), "{}", found[0]);
    assert!(found[1].starts_with(&format!("sources.agents.include: cannot read directory {}", not_a_dir.display())));
    assert!(found[2].starts_with("sources.agents.exclude: invalid glob `a[`"));
    assert_eq!(found[3], "sources.agents.max_line_bytes: must be at least 1");
    assert_eq!(found[4], "sources.agents.glob_interval_ms: must be at least 1");
    assert_eq!(found[5], "sources.agents.poll_interval_ms: must be at least 1");

    let empty = FileConfig { include: Vec::new(), ..config(&dirs.logs, "*.log") };
    assert_eq!(problems(&empty), ["sources.agents.include: no patterns: list the files to read, as globs"]);
    // Files may appear later in a directory that does not exist yet.
    assert_eq!(problems(&config(&dirs.logs.join("later/on"), "*.log")), Vec::<String>::new());
}

#[test]
fn the_base_directory_is_the_fixed_part_of_a_pattern() {
    assert_eq!(base_dir("/var/log/agents/*.jsonl"), Path::new("/var/log/agents"));
    assert_eq!(base_dir("/var/log/a.log"), Path::new("/var/log"));
    assert_eq!(base_dir("/var/*/x/*.log"), Path::new("/var"));
    assert_eq!(base_dir("logs/**/*.log"), Path::new("logs"));
    assert_eq!(base_dir("*.log"), Path::new("."));
}
