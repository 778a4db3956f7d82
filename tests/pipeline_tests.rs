//! A user tests a pipeline change with `sluice test` before shipping it:
//! events in at one transform, checks on what comes out of another, a
//! pass/fail report, and an exit status CI can act on.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use support::{Scratch, test_plugin};

/// `sluice` run in `dir`, where a config's relative `data_dir` lands.
fn sluice_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sluice")).args(args).current_dir(dir).output().expect("run sluice")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A file source and a file sink around two `tag` stages: `a` drops what
/// holds "skip" and fails what holds "bad"; `b` emits `b|<message>` lines.
fn config(scratch: &Scratch, tests: &str) -> PathBuf {
    scratch.write("logs/agent.log", "{\"from\":\"the file\"}\n");
    scratch.write(
        "sluice.toml",
        &format!(
            r#"
data_dir = "{data}"

[sources.agents]
type = "file"
include = ["{logs}/*.log"]
read_from = "beginning"

[transforms.a]
type = "wasm"
plugin = "{tag}"
inputs = ["agents"]
config = {{ stage = "a", drop_containing = "skip", fail_containing = "bad" }}

[transforms.b]
type = "wasm"
plugin = "{tag}"
inputs = ["a"]
config = {{ stage = "b", emit = true }}

[sinks.siem]
type = "file"
inputs = ["b"]
path = "{out}/siem.log"

[dead_letter]
path = "{out}/dead-letter.jsonl"
{tests}"#,
            data = scratch.path("data").display(),
            logs = scratch.path("logs").display(),
            out = scratch.path("out").display(),
            tag = test_plugin("tag"),
        ),
    )
}

const PASSING: &str = r#"
[[tests]]
name = "an event goes through both stages"
[[tests.inputs]]
insert_at = "a"
value = "hello"
[[tests.outputs]]
extract_from = "a"
conditions = [{ field = "stages", equals = ["a"] }, { field = "a_seen", equals = 1 }]
[[tests.outputs]]
extract_from = "b"
conditions = [
  { field = "message", equals = "hello" },
  { field = "source.id", contains = "agents" },
  { field = "b_seen", absent = true },
  { line_matches = '^b\|hello$' },
]

[[tests]]
name = "a filtered event is dropped"
[[tests.inputs]]
insert_at = "a"
log_fields = { message = "skip me" }
[[tests.outputs]]
extract_from = "a"
dropped = true

[[tests]]
name = "a refused event is dead-lettered with the reason"
[[tests.inputs]]
insert_at = "b"
event = '{"message": "ok"}'
[[tests.inputs]]
insert_at = "a"
value = "bad news"
[[tests.outputs]]
extract_from = "a"
dead_lettered = true
reason_contains = "stage a refused the event"
[[tests.outputs]]
extract_from = "b"
conditions = [{ line_matches = '^b\|ok$' }]
"#;

#[test]
fn passing_tests_are_each_reported_ok_and_nothing_is_read_or_written() {
    let scratch = Scratch::new();
    let config = config(&scratch, PASSING);
    let output = sluice_in(scratch.path("").as_path(), &["test", "--config", config.to_str().unwrap()]);
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    for expected in [
        &format!("running 3 tests on {}\n", config.display()),
        "test an event goes through both stages ... ok\n",
        "test a filtered event is dropped ... ok\n",
        "test a refused event is dead-lettered with the reason ... ok\n",
        "test result: ok. 3 passed; 0 failed\n",
    ] {
        assert!(stdout.contains(expected), "missing {expected:?} in:\n{stdout}");
    }
    // No source read the log file and no sink or dead letter wrote: the
    // only thing in data_dir is the plugins' compile cache.
    assert!(!scratch.path("out").exists(), "a sink or the dead letter wrote");
    let data: Vec<String> = std::fs::read_dir(scratch.path("data"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(data, ["cache"], "no checkpoint, state or buffer");
}

#[test]
fn a_failing_test_names_the_condition_and_the_actual_value_and_exits_1() {
    let scratch = Scratch::new();
    let config = config(&scratch, PASSING);
    let tests = scratch.write(
        "more.tests.toml",
        r#"
[[tests]]
name = "b is expected to have tagged the event"
[[tests.inputs]]
insert_at = "a"
value = "hello"
[[tests.outputs]]
extract_from = "b"
conditions = [{ field = "stages", equals = ["a", "b"] }, { line_matches = '^b\|' }, { line_matches = 'bye$' }]
[[tests.outputs]]
extract_from = "a"
dropped = true
"#,
    );
    let args = ["test", "--config", config.to_str().unwrap(), "--tests", tests.to_str().unwrap()];
    let output = sluice_in(scratch.path("").as_path(), &args);
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    for expected in [
        &format!("running 4 tests on {} (with {})\n", config.display(), tests.display()),
        "test a filtered event is dropped ... ok\n",
        "test b is expected to have tagged the event ... FAILED\n",
        "    outputs[0] (extract_from = \"b\"): the event that came out of `b` did not meet every condition\n",
        "      conditions[0] stages equals [\"a\",\"b\"]: actual [\"a\"]\n",
        "      conditions[2] line matches /bye$/: line \"b|hello\"\n",
        "    outputs[1] (extract_from = \"a\"): `a` dropped no event\n      `a`: received 1, passed on 1\n",
        "test result: FAILED. 3 passed; 1 failed\n",
    ] {
        assert!(stdout.contains(expected), "missing {expected:?} in:\n{stdout}");
    }
    assert!(!stdout.contains("conditions[1]"), "a condition that held is not reported:\n{stdout}");
}

#[test]
fn a_bad_tests_table_is_a_config_error_naming_its_key_and_exits_2() {
    let scratch = Scratch::new();
    let bad = r#"
[[tests]]
name = "broken"
[[tests.inputs]]
insert_at = "agents"
value = "x"
[[tests.outputs]]
extract_from = "a"
dropped = true
[[tests.outputs]]
extract_from = "siem"
conditions = [{ field = "a", equals = 1 }, { field = "b", absent = true }, { line_matches = "^CEF:0\\|(" }]
colour = "red"
"#;
    let expected = [
        "tests[0].inputs[0].insert_at: `agents` is a source, and tests run no source: insert at a transform that reads it (a)",
        "tests[0].outputs[1].extract_from: `siem` is a sink, and tests run no sink: extract from the transform it reads (b)",
        "tests[0].outputs[1].conditions[2].line_matches: \"^CEF:0\\\\|(\" is not a valid regular expression: unclosed group",
        "tests[0].outputs[1].colour: unknown key (expected one of: extract_from, conditions, dropped, dead_lettered, \
         reason_contains)",
    ];

    // In a separate tests file: the file is named, then each key.
    let config = config(&scratch, "");
    let tests = scratch.write("bad.tests.toml", bad);
    let args = ["test", "--config", config.to_str().unwrap(), "--tests", tests.to_str().unwrap()];
    let output = sluice_in(scratch.path("").as_path(), &args);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.starts_with(&format!("{}: the configuration has 4 errors:\n", tests.display())), "{stderr}");
    for expected in expected {
        assert!(stderr.contains(&format!("  - {expected}\n")), "missing {expected:?} in:\n{stderr}");
    }
    assert!(output.stdout.is_empty(), "no test ran: {}", text(&output.stdout));

    // In the config itself: `test` and `validate` both refuse it.
    let config = self::config(&scratch, bad);
    for (command, code) in [("test", 2), ("validate", 1)] {
        let output = sluice_in(scratch.path("").as_path(), &[command, "--config", config.to_str().unwrap()]);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(code), "{command}: {stderr}");
        for expected in expected {
            assert!(stderr.contains(expected), "{command}: missing {expected:?} in:\n{stderr}");
        }
    }

    // A tests file holds tests only; a config without tests has nothing to run.
    let stray = scratch.write("stray.tests.toml", "[sources.x]\ntype = \"stdin\"\n");
    let output = sluice_in(scratch.path("").as_path(), &["test", "--tests", stray.to_str().unwrap()]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("  - sources: unknown key (a tests file holds only [[tests]] tables)\n"), "{stderr}");
    assert!(stderr.contains("  - tests: missing: a tests file holds [[tests]] tables\n"), "{stderr}");
    let plain = self::config(&scratch, "");
    let output = sluice_in(scratch.path("").as_path(), &["test", "--config", plain.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("no tests in "), "{}", text(&output.stderr));
}

/// CI keeps the examples honest: the default pipeline's tests and every
/// example config's pass.
#[test]
fn every_example_config_s_tests_pass() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples").canonicalize().unwrap();
    // One directory for all runs: the examples' relative data_dir (and the
    // plugins' compile cache in it) land there.
    let scratch = Scratch::new();
    let mut configs = Vec::new();
    let mut test_files = Vec::new();
    for entry in std::fs::read_dir(&examples).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if let Some(stem) = name.strip_suffix(".tests.toml") {
            test_files.push((stem.to_owned(), path));
        } else if name.ends_with(".toml") {
            configs.push(path);
        }
    }
    configs.sort();
    test_files.sort();
    assert!(configs.len() >= 2, "the example configs: {configs:?}");
    assert!(test_files.iter().any(|(stem, _)| stem == "default"), "tests of the default pipeline: {test_files:?}");

    let mut runs: Vec<Vec<String>> = Vec::new();
    for (stem, tests) in &test_files {
        let mut args = vec!["test".to_owned()];
        if stem != "default" {
            let config = examples.join(format!("{stem}.toml"));
            assert!(config.exists(), "{} tests no example config", tests.display());
            args.extend(["--config".to_owned(), config.display().to_string()]);
        }
        args.extend(["--tests".to_owned(), tests.display().to_string()]);
        runs.push(args);
    }
    for config in &configs {
        let stem = config.file_stem().unwrap().to_string_lossy();
        if !test_files.iter().any(|(s, _)| *s == stem) {
            // Without a tests file, the config must hold its own [[tests]].
            runs.push(vec!["test".to_owned(), "--config".to_owned(), config.display().to_string()]);
        }
    }
    for args in runs {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = sluice_in(scratch.path("").as_path(), &args);
        let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
        assert_eq!(output.status.code(), Some(0), "sluice {}:\n{stdout}\n{stderr}", args.join(" "));
        let passed = stdout.lines().filter(|line| line.starts_with("test ") && line.ends_with(" ... ok")).count();
        assert!(passed >= 2, "sluice {}: {passed} tests passed:\n{stdout}", args.join(" "));
        assert!(stdout.contains(&format!("test result: ok. {passed} passed; 0 failed")), "{stdout}");
    }
}

#[test]
fn test_help_teaches_with_an_example() {
    let output = sluice_in(Path::new("."), &["test", "--help"]);
    let help = text(&output.stdout);
    assert!(output.status.success(), "{help}");
    for expected in [
        "[[tests.inputs]]",
        "insert_at = \"normalise\"",
        "extract_from = \"format\"",
        "line_matches",
        "dead_lettered",
        "docs/pipeline-tests.md",
    ] {
        assert!(help.contains(expected), "missing {expected:?} in:\n{help}");
    }
    // The example is a test of the default pipeline that passes.
    let start = help.find("  [[tests]]").expect("the example");
    let end = start + help[start..].find("\n  ]\n").expect("the end of its conditions") + "\n  ]\n".len();
    let example: String = help[start..end].lines().map(|line| format!("{}\n", line.trim_start_matches("  "))).collect();
    let scratch = Scratch::new();
    let tests = scratch.write("help.tests.toml", &example);
    let output = sluice_in(scratch.path("").as_path(), &["test", "--tests", tests.to_str().unwrap()]);
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{example}\n{stdout}\n{}", text(&output.stderr));
    assert!(stdout.contains("test a tool call is normalised and formatted as CEF ... ok"), "{stdout}");
}
