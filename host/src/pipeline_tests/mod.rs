//! Pipeline unit tests, `sluice test`: `[[tests]]` tables insert events at a
//! transform and say what must come of them at another (fields that equal,
//! contain or lack a value, a line that matches, an event dropped or
//! dead-lettered). The transforms between run in-process on fresh plugin
//! instances; no source or sink starts. The shape follows Vector's unit
//! tests, which the people who run routers already write.
//!
//! [`spec`] reads and checks the tables, [`graph`] finds the transforms
//! between the ends, [`harness`] runs them, [`conditions`] and [`report`]
//! judge what came out.

pub mod conditions;
pub mod graph;
pub mod harness;
pub mod report;
pub mod spec;

pub use spec::PipelineTest;

use crate::config::Config;
use crate::validation::{ConfigError, ConfigErrors};
use graph::Graph;
use std::io::Write;
use std::path::Path;

/// `sluice test`'s exit status when every test passed.
pub const EXIT_PASSED: u8 = 0;
/// Some test failed.
pub const EXIT_FAILED: u8 = 1;
/// The tests could not run: the config or the tests are wrong (as clap's
/// usage errors, 2), so that CI tells a broken pipeline from a broken test
/// file. (`validate` exits 1 for the same errors: it has no other failure.)
pub const EXIT_CONFIG: u8 = 2;

/// The `tests` value of a config file, checked against its components;
/// `raw` is the config's TOML, to know the components whose tables did not
/// parse (their own errors are reported).
pub fn parse_in_config(
    value: Option<&toml::Value>,
    config: &Config,
    raw: &toml::Table,
    errors: &mut Vec<ConfigError>,
) -> Vec<PipelineTest> {
    spec::parse(value, &Graph::new(config, Some(raw)), errors)
}

/// The tests of a file of `[[tests]]` tables (and nothing else), checked
/// against `config`.
pub fn load_file(path: &Path, config: &Config) -> Result<Vec<PipelineTest>, ConfigErrors> {
    let fail = |at: String, message: String| ConfigErrors(vec![ConfigError::new(at, message)]);
    let text = std::fs::read_to_string(path)
        .map_err(|err| fail(path.display().to_string(), format!("cannot read the tests file: {err}")))?;
    let table: toml::Table = text.parse().map_err(|err: toml::de::Error| {
        // The line the error starts on, as config errors name it.
        let line = err.span().map_or(1, |span| text[..span.start.min(text.len())].matches('\n').count() + 1);
        fail(format!("line {line}"), format!("invalid TOML: {}", err.message()))
    })?;
    let mut errors = Vec::new();
    for key in table.keys().filter(|key| *key != "tests") {
        errors.push(ConfigError::new(key, "unknown key (a tests file holds only [[tests]] tables)"));
    }
    if !table.contains_key("tests") {
        errors.push(ConfigError::new("tests", "missing: a tests file holds [[tests]] tables"));
    }
    let tests = spec::parse(table.get("tests"), &Graph::new(config, None), &mut errors);
    if errors.is_empty() { Ok(tests) } else { Err(ConfigErrors(errors)) }
}

/// `sluice test`: load the tests of `config` and of `tests_file`, run them,
/// print the report on `out` and problems on `err`; the exit status.
/// `label` names the config for the report.
pub fn command(
    config: Result<Config, ConfigErrors>,
    label: &str,
    tests_file: Option<&Path>,
    out: &mut impl Write,
    err: &mut impl Write,
) -> std::io::Result<u8> {
    let config = match config {
        Ok(config) => config,
        Err(errors) => {
            write!(err, "{errors}")?;
            return Ok(EXIT_CONFIG);
        }
    };
    let mut tests = config.tests.clone();
    if let Some(path) = tests_file {
        match load_file(path, &config) {
            Ok(more) => tests.extend(more),
            Err(errors) => {
                write!(err, "{}: {errors}", path.display())?;
                return Ok(EXIT_CONFIG);
            }
        }
    }
    if tests.is_empty() {
        writeln!(err, "no tests in {label}: add [[tests]] tables to it, or give a file of them with --tests FILE")?;
        return Ok(EXIT_CONFIG);
    }
    let harness = match harness::Harness::load(&config) {
        Ok(harness) => harness,
        Err(errors) => {
            write!(err, "{errors}")?;
            return Ok(EXIT_CONFIG);
        }
    };
    let from = tests_file.map(|path| format!(" (with {})", path.display())).unwrap_or_default();
    let plural = if tests.len() == 1 { "" } else { "s" };
    writeln!(out, "running {} test{plural} on {label}{from}", tests.len())?;
    let mut failed = 0;
    for test in &tests {
        let failures = match harness.run(test) {
            Ok(trace) => report::judge(test, &trace),
            Err(problem) => vec![format!("the test could not run: {problem:#}")],
        };
        if failures.is_empty() {
            writeln!(out, "test {} ... ok", test.name)?;
            continue;
        }
        failed += 1;
        writeln!(out, "test {} ... FAILED", test.name)?;
        for failure in failures {
            // What came out of a plugin may hold what the config resolved
            // from a secret.
            for line in config.secrets.scrub(&failure).lines() {
                writeln!(out, "    {line}")?;
            }
        }
    }
    let passed = tests.len() - failed;
    let verdict = if failed == 0 { "ok" } else { "FAILED" };
    writeln!(out, "\ntest result: {verdict}. {passed} passed; {failed} failed")?;
    Ok(if failed == 0 { EXIT_PASSED } else { EXIT_FAILED })
}
