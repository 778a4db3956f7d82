//! A user checks configs with `sluice validate` before deploying them.

mod support;

use support::{Scratch, sluice, test_plugin};

#[test]
fn a_broken_config_lists_every_error_and_exits_1() {
    let scratch = Scratch::new();
    let config = scratch.write(
        "broken.toml",
        &format!(
            r#"
data_dir = "{data}"

[sources.agents]
type = "stdin"

[transforms.normalise]
type = "wasm"
plugin = "no-such-plugin"
inputs = ["agents"]

[transforms.picky]
type = "wasm"
plugin = "{misbehave}"
inputs = ["agnets"]
config = {{ refuse = true }}

[sinks.siem]
type = "carrier-pigeon"
inputs = ["normalise"]

[sinks.orphan]
type = "stdout"
"#,
            data = scratch.path("data").display(),
            misbehave = test_plugin("misbehave"),
        ),
    );
    let output = sluice(&["validate", "--config", config.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    for expected in [
        "transforms.picky.inputs: unknown input `agnets` (known sources and transforms: agents, normalise, picky)",
        "sinks.siem.type: unknown type `carrier-pigeon`; one of: file, http, stdout, syslog, tcp",
        "sinks.orphan.inputs: no inputs",
    ] {
        assert!(stderr.contains(expected), "missing {expected:?} in:\n{stderr}");
    }
    assert!(stderr.contains("the configuration has 3 errors"), "{stderr}");

    // Once the structure is right, plugin problems are reported the same way.
    let fixed = std::fs::read_to_string(&config)
        .unwrap()
        .replace("agnets", "agents")
        .replace("carrier-pigeon", "stdout")
        .replace("[sinks.orphan]\ntype = \"stdout\"\n", "");
    let config = scratch.write("plugins.toml", &fixed);
    let output = sluice(&["validate", "--config", config.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("transforms.normalise.plugin: no plugin `no-such-plugin`: not a built-in"), "{stderr}");
    assert!(
        stderr.contains("transforms.picky.config: plugin `")
            && stderr.contains("rejected its config: config key `refuse` is set"),
        "{stderr}"
    );
}

/// A plugin's message is for an operator's terminal: a 10 MB one is cut to a
/// readable length, saying how much was cut. (A generous deadline: writing
/// 10 MB must not overrun on a loaded machine.)
#[test]
fn a_huge_config_error_from_a_plugin_is_cut() {
    let scratch = Scratch::new();
    let config = scratch.write(
        "huge.toml",
        &format!(
            "data_dir = \"{}\"\n[sources.in]\ntype = \"stdin\"\n[transforms.t]\ntype = \"wasm\"\nplugin = \"{}\"\n\
             inputs = [\"in\"]\nconfig = {{ refuse_huge = true }}\n\
             limits = {{ deadline_ms = 10000 }}\n[sinks.out]\ntype = \"stdout\"\ninputs = [\"t\"]\n",
            scratch.path("data").display(),
            test_plugin("misbehave"),
        ),
    );
    let output = sluice(&["validate", "--config", config.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr:.2000}");
    assert!(stderr.len() < 5_000, "{} bytes of errors: {stderr:.2000}", stderr.len());
    assert!(stderr.contains("rejected its config: config key `refuse_huge` is set: éé"), "{stderr:.2000}");
    assert!(stderr.contains("é… (10,483,826 more bytes cut)"), "{stderr:.2000}");
}

#[test]
fn a_file_that_is_not_a_component_is_reported_with_its_transform() {
    let scratch = Scratch::new();
    let bogus = scratch.write("plugins/bogus.wasm", "this is not WebAssembly");
    let config = scratch.write(
        "bogus.toml",
        &format!(
            "data_dir = \"{}\"\n[sources.in]\ntype = \"stdin\"\n[transforms.t]\ntype = \"wasm\"\nplugin = \"{}\"\n\
             inputs = [\"in\"]\n[sinks.out]\ntype = \"stdout\"\ninputs = [\"t\"]\n",
            scratch.path("data").display(),
            bogus.display(),
        ),
    );
    let output = sluice(&["validate", "--config", config.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("transforms.t.plugin: compiling plugin `bogus`"), "{stderr}");
}

#[test]
fn a_good_config_prints_the_topology() {
    // Plugins in plugins.dir are named by their file stem.
    let scratch = Scratch::new();
    std::fs::create_dir_all(scratch.path("plugins")).unwrap();
    std::fs::copy(test_plugin("tag"), scratch.path("plugins/stamp.wasm")).unwrap();
    let config = scratch.write(
        "good.toml",
        &format!(
            "data_dir = \"{}\"\n[plugins]\ndir = \"{}\"\n[sources.in]\ntype = \"stdin\"\n\
             [transforms.t]\ntype = \"wasm\"\nplugin = \"stamp\"\n\
             inputs = [\"in\"]\n[sinks.out]\ntype = \"stdout\"\ninputs = [\"t\"]\n",
            scratch.path("data").display(),
            scratch.path("plugins").display(),
        ),
    );
    let output = sluice(&["validate", "--config", config.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("configuration is valid"), "{stdout}");
    assert!(stdout.contains("transform t <- [in]: plugin stamp (compiled in"), "{stdout}");

    // The compiled code is cached in data_dir: the second load skips compiling.
    let again = sluice(&["validate", "--config", config.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&again.stdout);
    assert!(stdout.contains("transform t <- [in]: plugin stamp (loaded from cache in"), "{stdout}");
    assert!(stdout.contains("sink      out <- [t]: stdout"), "{stdout}");
    // Checking never opens the plugins' state, which a running router may be writing.
    assert!(!scratch.path("data/state").exists(), "validate created data/state");
}

#[test]
fn a_missing_config_file_is_named() {
    let output = sluice(&["validate", "--config", "/nonexistent/sluice.toml"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr.contains("/nonexistent/sluice.toml: cannot read the config file"), "{stderr}");
}

#[test]
fn plugin_check_shows_the_contract_init_and_each_outcome() {
    let scratch = Scratch::new();
    let events =
        scratch.write("events.jsonl", "{\"message\":\"one\"}\n{\"message\":\"skip me\"}\n{\"message\":\"bad\"}\n");
    let plugin = test_plugin("tag");
    let config = r#"{"stage":"s","drop_containing":"skip","fail_containing":"bad"}"#;
    let output = sluice(&["plugin", "check", &plugin, "--config", config, "--events", events.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("contract: sluice:plugin@0.3.0"), "{stdout}");
    assert!(stdout.contains("metadata: sluice-plugin-tag 0.1.0 (built against contract 0.3.0)"), "{stdout}");
    assert!(stdout.contains(&format!("configure: ok with config {config}")), "{stdout}");
    assert!(stdout.contains("event 0: keep (rewritten): {"), "{stdout}");
    assert!(stdout.contains("event 1: drop"), "{stdout}");
    assert!(stdout.contains("event 2: fail: stage s refused the event"), "{stdout}");
    assert!(
        stdout.contains("3 events: 0 kept unchanged, 1 rewritten, 0 emitted, 0 split, 1 dropped, 1 failed"),
        "{stdout}"
    );

    // A plugin built against 0.2 still checks, and says so.
    let old = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/contract-0.2/tag.wasm");
    let output = sluice(&["plugin", "check", old, "--config", config, "--events", events.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("contract: sluice:plugin@0.2.0"), "{stdout}");
    assert!(!stdout.contains("metadata:"), "0.2 has no metadata: {stdout}");
    assert!(stdout.contains("1 rewritten, 0 emitted, 0 split, 1 dropped, 1 failed"), "{stdout}");

    // The demo events, normalised, are the default; a formatter emits a line for each.
    let output = sluice(&["plugin", "check", &test_plugin("cef"), "--count", "5"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert_eq!(stdout.lines().filter(|l| l.contains(": emit: CEF:0|")).count(), 5, "{stdout}");
}

#[test]
fn plugin_check_fails_on_a_refused_config_or_a_file_that_is_no_component() {
    let output = sluice(&["plugin", "check", &test_plugin("misbehave"), "--config", r#"{"refuse":true}"#]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("configure: FAILED:") && stdout.contains("config key `refuse` is set"), "{stdout}");

    let scratch = Scratch::new();
    let bogus = scratch.write("bogus.wasm", "not a component");
    let output = sluice(&["plugin", "check", bogus.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.starts_with("load: FAILED:"), "{stdout}");
}

#[test]
fn plugin_check_fails_on_replacements_the_router_would_dead_letter() {
    let scratch = Scratch::new();
    let events = scratch
        .write("events.jsonl", "{\"message\":\"fine\"}\n{\"message\":\"BADJSON\"}\n{\"message\":\"NOTOBJECT\"}\n");
    let output = sluice(&["plugin", "check", &test_plugin("misbehave"), "--events", events.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("event 1: INVALID: plugin `misbehave` returned text that is not valid JSON"), "{stdout}");
    assert!(stdout.contains("event 2: INVALID: plugin `misbehave` returned JSON that is not an object"), "{stdout}");
    assert!(stdout.contains("2 invalid"), "{stdout}");
}

/// `validate` cannot know what will hold a port at deploy time, but it can
/// say what holds it now: an address another process listens on is a
/// warning (the config is still valid, exit 0), since `sluice run` would
/// fail to start there.
#[test]
fn an_address_in_use_now_is_a_warning() {
    let scratch = Scratch::new();
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = held.local_addr().unwrap();
    let config = scratch.write(
        "busy.toml",
        &format!(
            "data_dir = \"{}\"\n[sources.net]\ntype = \"syslog\"\nmode = \"tcp\"\naddress = \"{address}\"\n\
             [sinks.out]\ntype = \"stdout\"\ninputs = [\"net\"]\n",
            scratch.path("data").display()
        ),
    );
    let output = sluice(&["validate", "--config", config.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "warning: sources.net.address: {address} (tcp) is in use by another process now; `sluice run` would fail to start"
        )),
        "{stderr}"
    );

    drop(held);
    let output = sluice(&["validate", "--config", config.to_str().unwrap()]);
    assert!(!String::from_utf8_lossy(&output.stderr).contains("warning"), "a free address is no warning");
}

/// Secrets stay outside the config: `${NAME}` and `${file:/path}` are
/// resolved at load, a missing one is named with its key, and what
/// `validate` prints shows the reference, never the value.
#[test]
fn secrets_come_from_the_environment_and_files_and_are_never_printed() {
    let scratch = Scratch::new();
    let data = scratch.path("private-data-dir");
    let stage = scratch.write("stage-secret", "stage-from-a-file\n");
    let config = scratch.write(
        "secrets.toml",
        &format!(
            "data_dir = \"${{SLUICE_E2E_SECRET_DIR}}\"\n[sources.in]\ntype = \"stdin\"\n\
             [transforms.t]\ntype = \"wasm\"\nplugin = \"{}\"\ninputs = [\"in\"]\n\
             config = {{ stage = \"${{file:{}}}\" }}\n[sinks.out]\ntype = \"stdout\"\ninputs = [\"t\"]\n",
            test_plugin("tag"),
            stage.display()
        ),
    );
    let validate = |dir: Option<&std::path::Path>| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_sluice"));
        command.args(["validate", "--config", config.to_str().unwrap()]).env_remove("SLUICE_E2E_SECRET_DIR");
        if let Some(dir) = dir {
            command.env("SLUICE_E2E_SECRET_DIR", dir);
        }
        let output = command.output().unwrap();
        let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        (output.status.code(), text)
    };

    let (code, text) = validate(None);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("data_dir: the environment variable `SLUICE_E2E_SECRET_DIR` is not set"), "{text}");

    let (code, text) = validate(Some(&data));
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("data_dir: ${SLUICE_E2E_SECRET_DIR}"), "{text}");
    assert!(!text.contains("private-data-dir") && !text.contains("stage-from-a-file"), "a value was printed: {text}");
    assert!(data.is_dir(), "the resolved data_dir was used");
}

#[test]
fn http_sinks_with_a_bad_uri_a_missing_secret_or_an_unknown_key_are_refused_with_the_key_named() {
    let scratch = Scratch::new();
    let config = scratch.write(
        "http.toml",
        &format!(
            r#"
data_dir = "{data}"
[sources.agents]
type = "stdin"
[sinks.collector]
type = "http"
inputs = ["agents"]
uri = "collector.example/ingest"
[sinks.soar]
type = "webhook"
inputs = ["agents"]
uri = "https://soar.example/hook"
secret = "${{SLUICE_TEST_UNSET_WEBHOOK_SECRET}}"
[sinks.typo]
type = "http"
inputs = ["agents"]
uri = "https://collector.example/"
compresion = "gzip"
"#,
            data = scratch.path("data").display(),
        ),
    );
    let output = sluice(&["validate", "--config", config.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    for expected in [
        "sinks.collector.uri: `collector.example/ingest` is not a URI",
        "sinks.soar.secret",
        "SLUICE_TEST_UNSET_WEBHOOK_SECRET",
        "sinks.typo: unknown field `compresion`",
    ] {
        assert!(stderr.contains(expected), "missing {expected:?} in:\n{stderr}");
    }
}
