//! The `sluice` command line: run a pipeline, check a config, or see a demo.

use anyhow::Context;
use clap::{Parser, Subcommand};
use sluice::api::Api;
use sluice::config::{Config, DEFAULT_CONFIG};
use sluice::sinks::ReopenFiles;
use sluice::topology::Topology;
use sluice::validation::ConfigErrors;
use std::path::PathBuf;
use std::process::ExitCode;
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio_util::sync::CancellationToken;

/// sluice routes AI-agent security events: it reads them from files, standard
/// input or syslog, runs WebAssembly plugins that normalise, redact and format
/// them (CEF, LEEF, OCSF, JSON), and forwards them to your SIEM (syslog over
/// UDP, TCP or TLS, Splunk HEC, Elasticsearch, Microsoft Sentinel, any HTTP
/// endpoint, plain TCP lines), to SOAR webhooks and to files without losing any.
#[derive(Debug, Parser)]
#[command(name = "sluice", version, after_help = EXAMPLES)]
struct Cli {
    /// What sluice logs about itself on stderr: a level (`error`, `warn`,
    /// `info`, `debug`, `trace`) or per-module directives, as in
    /// `info,sluice::sinks=debug`. Without it, SLUICE_LOG, then RUST_LOG,
    /// then `info`.
    #[arg(long, global = true, alias = "log", value_name = "LEVEL", value_parser = parse_log_filter)]
    log_level: Option<String>,

    /// How sluice's own log lines are written on stderr: `text` for people,
    /// `json` (one object per line, fields at the top level) for a log
    /// collector such as journald, Loki or sluice itself.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,

    #[command(subcommand)]
    command: Command,
}

/// `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

/// A log filter clap can refuse before anything runs.
fn parse_log_filter(text: &str) -> Result<String, String> {
    tracing_subscriber::EnvFilter::try_new(text)
        .map(|_| text.to_owned())
        .map_err(|err| format!("{err} (try a level such as `info`, or `info,sluice::sinks=debug`)"))
}

const EXAMPLES: &str = "\
Examples:
  sluice demo                         see sample agent events go through the default pipeline
  sluice run                          tail ./agent-logs/*.jsonl and take syslog on 127.0.0.1:5514,
                                      normalise, redact, print CEF
  sluice run --config sluice.toml     run your own pipeline
  sluice validate --config sluice.toml
  sluice test --config sluice.toml    run the config's [[tests]]: events in at one transform, checks on what comes out
  sluice plugin check my-plugin.wasm --config '{\"stage\":\"x\"}'   try a plugin before deploying it
  sluice run --print-default-config > sluice.toml   start a config from the default
  sluice run --log-format json --log-level warn    log for a collector, warnings and errors only
  curl -s 127.0.0.1:8686/metrics      the default pipeline's counters, for Prometheus
  curl -s 127.0.0.1:8686/health       {\"status\":\"ok\"} once every source listens

Environment:
  SLUICE_LOG    the log filter when --log-level is not given (RUST_LOG after it)";

const TEST_EXAMPLE: &str = r#"Example: a test of the default pipeline, in default.tests.toml

  [[tests]]
  name = "a tool call is normalised and formatted as CEF"
  [[tests.inputs]]
  insert_at = "normalise"      # the transform the event enters
  value = '{"agent":{"id":"a1"},"event":{"kind":"tool_call"}}'   # a line as a source reads it
  [[tests.outputs]]
  extract_from = "format"      # the transform whose output is checked
  conditions = [
    { field = "event.kind", equals = "tool_call" },
    { field = "agent.id", contains = "a1" },
    { field = "user.email", absent = true },
    { line_matches = '^CEF:0\|' },
  ]

  $ sluice test --tests default.tests.toml
  running 1 test on the default pipeline (with default.tests.toml)
  test a tool call is normalised and formatted as CEF ... ok

Inputs: `value` (a line, as a source reads it), `log_fields = { … }` or `event = '{…}'` (a whole
event). Outputs: `conditions` (field `equals`, `contains`, `absent`, `matches` a regex;
`line_matches` a regex), `dropped = true`, or `dead_lettered = true` with `reason_contains`.
An output passes when one event that came out meets all its conditions.
Full syntax: docs/pipeline-tests.md"#;

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a pipeline until interrupted (Ctrl-C or SIGTERM stop it cleanly),
    /// or until all its sources end. SIGHUP reopens the files sinks write
    /// to (after logrotate moved them). With an `[api]` table it serves
    /// GET /metrics (Prometheus) and GET /health (200 once every source
    /// listens, 503 before and while stopping).
    Run {
        /// The TOML config; without it the embedded default pipeline runs:
        /// tail ./agent-logs/*.jsonl and listen for syslog on 127.0.0.1:5514
        /// (TCP and UDP) → agent-event → redact → cef → stdout, with the API
        /// on 127.0.0.1:8686.
        #[arg(long, short, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Print the embedded default config and exit.
        #[arg(long)]
        print_default_config: bool,
    },
    /// Check a config: every error is listed with its table and key, and
    /// every plugin is loaded and initialised. Exits 1 if anything is wrong.
    /// A listen address another process holds now is a warning (exit 0).
    Validate {
        /// The TOML config to check (the embedded default when omitted).
        #[arg(long, short, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Run the pipeline's unit tests: events inserted at a transform, checks
    /// on what comes out of another. Only the transforms between run, in
    /// this process; no source or sink starts, nothing is sent or written.
    /// Exits 0 when every test passes, 1 when one fails, 2 when the config
    /// or the tests are wrong.
    #[command(after_help = TEST_EXAMPLE)]
    Test {
        /// The TOML config whose transforms are tested, and whose `[[tests]]`
        /// run (the embedded default pipeline when omitted).
        #[arg(long, short, value_name = "FILE")]
        config: Option<PathBuf>,
        /// A file of more `[[tests]]` tables, run against the config.
        #[arg(long, value_name = "FILE")]
        tests: Option<PathBuf>,
    },
    /// Work with plugins.
    #[command(subcommand)]
    Plugin(PluginCommand),
    /// Generate realistic agent events (every kind, several agents and
    /// tenants, delegation, secrets in prompts), normalise and redact them as
    /// the default pipeline does, and print them as CEF, LEEF and OCSF.
    Demo {
        /// How many events to generate.
        #[arg(long, default_value_t = 12)]
        count: u64,
    },
    /// Compile the component on standard input into a cache file (what
    /// `run` starts to keep the compiler's memory out of the router).
    #[command(name = sluice::plugins::cache::COMPILE_COMMAND, hide = true)]
    CompilePlugin { path: PathBuf },
}

#[derive(Debug, Subcommand)]
enum PluginCommand {
    /// Try a plugin before deploying it: load it, show the contract version it
    /// targets, run its configure with a config and a batch of events, and print
    /// each event's outcome. Exits 1 if it fails to load, configure or process.
    Check {
        /// The component file (`*.wasm`).
        file: PathBuf,
        /// The plugin's config as JSON, as `config = {…}` in a transform gives it.
        #[arg(long, default_value = "{}")]
        config: String,
        /// A file of events, one JSON object per line (default: demo agent
        /// events, normalised by the built-in agent-event plugin).
        #[arg(long, value_name = "FILE")]
        events: Option<PathBuf>,
        /// How many demo events to use when --events is not given.
        #[arg(long, default_value_t = 12)]
        count: u64,
    },
    /// Make a plugin component out of a core WebAssembly module (what C, Zig,
    /// Go and AssemblyScript compilers produce): embeds the plugin contract
    /// unless the module carries it, and adapts WASI preview1 imports with
    /// the adapter matched to this router's wasmtime.
    Wrap {
        /// The core module (`*.wasm`).
        core: PathBuf,
        /// Where to write the component.
        #[arg(long, short, value_name = "FILE")]
        output: PathBuf,
        /// How the module encodes strings (when the contract is embedded).
        #[arg(long, value_enum, default_value_t)]
        encoding: sluice::plugins::wrap::Encoding,
        /// Let the WASI adapter allocate with memory.grow instead of the
        /// module's cabi_realloc, for runtimes that cannot serve cabi_realloc
        /// while they start and leave grown memory alone (not Go: a Go module
        /// reserves memory for the adapter, which wrap finds).
        #[arg(long)]
        realloc_via_memory_grow: bool,
    },
    /// Start a plugin project: the example plugin of that language (labels
    /// events from a lookup table, drops a kind, fails events without
    /// agent.id), with a build.sh and a README, ready to build and change.
    New {
        /// The language to write it in.
        #[arg(long, value_enum)]
        lang: sluice::plugins::scaffold::Lang,
        /// The plugin's name: the project directory and `NAME.wasm`.
        name: String,
        /// Where to create the project directory.
        #[arg(long, value_name = "DIR", default_value = ".")]
        dir: PathBuf,
    },
    /// Write the plugin contract as source for a language: `c` writes
    /// wit-bindgen's C bindings (plugin.h, plugin.c, plugin_component_type.o),
    /// `wit` the contract itself for toolchains that generate their own.
    Bindings {
        #[arg(long, value_enum)]
        lang: sluice::plugins::bindings::Lang,
        /// The directory to write into (created if missing).
        #[arg(long, value_name = "DIR", default_value = ".")]
        out_dir: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(err) = init_logging(cli.log_level.as_deref(), cli.log_format) {
        eprintln!("error: {err:#}");
        return ExitCode::from(2);
    }
    match run(cli.command) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(1)
        }
    }
}

/// sluice's own log on stderr: the filter from `--log-level`, SLUICE_LOG,
/// RUST_LOG or `info`, in that order, written as text or JSON lines.
fn init_logging(level: Option<&str>, format: LogFormat) -> anyhow::Result<()> {
    use tracing_subscriber::EnvFilter;
    let (directives, from) = match level {
        Some(level) => (level.to_owned(), "--log-level"),
        None => match (std::env::var("SLUICE_LOG"), std::env::var("RUST_LOG")) {
            (Ok(filter), _) => (filter, "SLUICE_LOG"),
            (_, Ok(filter)) => (filter, "RUST_LOG"),
            _ => ("info".to_owned(), "the default"),
        },
    };
    let filter =
        EnvFilter::try_new(&directives).with_context(|| format!("{from}: `{directives}` is not a log filter"))?;
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).init(),
        // Fields beside the message, not nested: what collectors index.
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(false).init(),
    }
    Ok(())
}

fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Run { print_default_config: true, .. } => {
            print!("{DEFAULT_CONFIG}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Run { config, .. } => {
            let config = match load(config.as_ref()) {
                Ok(config) => config,
                Err(errors) => return Ok(report_errors(&errors)),
            };
            if let Ok(exe) = std::env::current_exe() {
                sluice::plugins::cache::compile_in_child(exe);
            }
            run_pipeline(config)
        }
        Command::CompilePlugin { path } => {
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut std::io::stdin(), &mut bytes).context("reading the component")?;
            sluice::plugins::runtime::compile_into(&bytes, &path)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Validate { config } => {
            let topology = match load(config.as_ref()).and_then(Topology::check) {
                Ok(topology) => topology,
                Err(errors) => return Ok(report_errors(&errors)),
            };
            for warning in topology.warnings() {
                eprintln!("warning: {warning}");
            }
            println!("configuration is valid\n{}", topology.describe());
            Ok(ExitCode::SUCCESS)
        }
        Command::Test { config, tests } => {
            let label = config.as_ref().map_or_else(|| "the default pipeline".to_owned(), |p| p.display().to_string());
            let loaded = load(config.as_ref());
            let mut out = std::io::stdout().lock();
            let code =
                sluice::pipeline_tests::command(loaded, &label, tests.as_deref(), &mut out, &mut std::io::stderr())
                    .context("writing the test report")?;
            Ok(ExitCode::from(code))
        }
        Command::Plugin(PluginCommand::Check { file, config, events, count }) => {
            let runtime = sluice::plugins::Runtime::new(None)?;
            let events = match events {
                Some(path) => std::fs::read_to_string(&path)
                    .with_context(|| format!("reading events from {}", path.display()))?
                    .lines()
                    .filter(|line| !line.trim().is_empty())
                    .map(str::to_owned)
                    .collect(),
                None => sluice::plugins::check::demo_events(&runtime, count)?,
            };
            let passed = sluice::plugins::check::check(&runtime, &file, &config, &events, &mut std::io::stdout())?;
            Ok(if passed { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        Command::Plugin(PluginCommand::Wrap { core, output, encoding, realloc_via_memory_grow }) => {
            let bytes = std::fs::read(&core).with_context(|| format!("reading {}", core.display()))?;
            let options = sluice::plugins::wrap::Options { encoding, realloc_via_memory_grow };
            let wrapped = sluice::plugins::wrap::wrap(&bytes, options)
                .with_context(|| format!("wrapping {} into a plugin component", core.display()))?;
            std::fs::write(&output, &wrapped.component).with_context(|| format!("writing {}", output.display()))?;
            let region = wrapped.adapter_region.map(|r| format!(", in its reserved {} bytes", r.size));
            println!(
                "wrote {} ({} bytes; contract {}{}{})\ntry it: sluice plugin check {}",
                output.display(),
                wrapped.component.len(),
                if wrapped.embedded_contract { "embedded" } else { "from the module" },
                if wrapped.adapted_wasi { "; WASI preview1 adapted" } else { "" },
                region.unwrap_or_default(),
                output.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Plugin(PluginCommand::New { lang, name, dir }) => {
            let project = sluice::plugins::scaffold::new(lang, &name, &dir)?;
            println!("created {}\nbuild it: {}/build.sh   (see its README.md)", project.display(), project.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Plugin(PluginCommand::Bindings { lang, out_dir }) => {
            for path in sluice::plugins::bindings::write(lang, &out_dir)? {
                println!("wrote {}", path.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo { count } => {
            let out_dir = std::env::temp_dir().join(format!("sluice-demo-{}", std::process::id()));
            let code = run_pipeline(sluice::demo::config(count, &out_dir)?)?;
            let printed = sluice::demo::print(&out_dir, &mut std::io::stdout().lock());
            let _ = std::fs::remove_dir_all(&out_dir);
            printed?;
            Ok(code)
        }
    }
}

fn load(path: Option<&PathBuf>) -> Result<Config, ConfigErrors> {
    match path {
        Some(path) => Config::load(path),
        None => Config::parse(DEFAULT_CONFIG),
    }
}

fn report_errors(errors: &ConfigErrors) -> ExitCode {
    eprint!("{errors}");
    ExitCode::from(1)
}

fn run_pipeline(config: Config) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("sluice-io")
        .build()
        .context("starting the async runtime")?;
    // Before the plugins load, which can take seconds: from here on SIGHUP
    // (logrotate's postrotate, a supervisor) never takes its default action,
    // which would kill the router without a graceful stop.
    let hangup = {
        let _entered = runtime.enter();
        signal(SignalKind::hangup()).context("listening for SIGHUP")?
    };
    // Before the plugins load too: `/health` answers "starting" meanwhile,
    // and a port in use fails the start at once.
    let api = match &config.api {
        Some(api) => Some(runtime.block_on(Api::bind(api))?.spawn_on(runtime.handle())),
        None => None,
    };
    let topology = match Topology::build(config) {
        Ok(topology) => topology,
        Err(errors) => return Ok(report_errors(&errors)),
    };
    if let Some(api) = &api {
        api.attach(topology.metrics(), topology.readiness());
    }
    let reopen = topology.reopen_files();
    let result = runtime.block_on(async {
        let shutdown = CancellationToken::new();
        tokio::spawn(stop_on_signal(shutdown.clone(), hangup, reopen));
        let report = topology.run(shutdown).await?;
        for (id, counts) in &report.counts {
            tracing::info!(component = %id, received = counts.received, sent = counts.sent,
                dropped = counts.dropped, dead_lettered = counts.dead_lettered, errors = counts.errors,
                reloads = counts.reloads, reload_failures = counts.reload_failures, retries = counts.retries,
                lost = counts.lost, unclean_closes = counts.unclean_closes, "final counts");
        }
        Ok(ExitCode::SUCCESS)
    });
    // Reading stdin blocks a thread that cannot be cancelled; don't wait for
    // it once every event is through.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    result
}

/// Stop at SIGTERM or SIGINT, and exit at once at a second one; at each
/// SIGHUP meanwhile, ask the sinks to reopen their files.
async fn stop_on_signal(shutdown: CancellationToken, mut hangup: Signal, reopen: ReopenFiles) {
    let mut term = match signal(SignalKind::terminate()) {
        Ok(term) => term,
        Err(err) => {
            tracing::error!(error = %err, "cannot listen for SIGTERM");
            return;
        }
    };
    next_stop_signal(&mut term, &mut hangup, &reopen).await;
    tracing::info!("stopping: finishing in-flight events and saving positions (signal again to exit at once)");
    shutdown.cancel();
    next_stop_signal(&mut term, &mut hangup, &reopen).await;
    // What was not delivered stays where it was: in a disk buffer, or unread
    // past the last checkpoint of its file.
    tracing::warn!("second signal: exiting now, without finishing in-flight events");
    std::process::exit(130);
}

/// Wait for SIGTERM or SIGINT, handling each SIGHUP that comes first.
async fn next_stop_signal(term: &mut Signal, hangup: &mut Signal, reopen: &ReopenFiles) {
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => return,
            _ = term.recv() => return,
            Some(()) = hangup.recv() => {
                tracing::info!("SIGHUP: reopening the files sinks write to");
                reopen.request();
            }
        }
    }
}
