//! The router's life as a supervisor sees it: a source that cannot start
//! fails the start, and signals other than SIGTERM/SIGINT do not end it.

mod support;

use std::time::{Duration, Instant};
use support::{Router, Scratch, wait_for_lines};

/// A config with `sources` (TOML tables) and a file sink `out.log` reading
/// from `inputs`.
fn config(scratch: &Scratch, sources: &str, inputs: &str) -> std::path::PathBuf {
    let text = format!(
        "data_dir = \"{data}\"\n{sources}\n[sinks.out]\ntype = \"file\"\ninputs = [{inputs}]\npath = \"{out}\"\n",
        data = scratch.path("data").display(),
        out = scratch.path("out.log").display(),
    );
    scratch.write("sluice.toml", &text)
}

/// Start the router, wait for it to exit by itself, and return its exit
/// code and log.
fn run_to_exit(scratch: &Scratch, config: &std::path::Path) -> (Option<i32>, String, Duration) {
    let log = scratch.path("sluice.log");
    let started = Instant::now();
    let status = Router::start_logging_to(config, &log).wait(Duration::from_secs(20));
    (status.code(), std::fs::read_to_string(&log).unwrap(), started.elapsed())
}

#[test]
fn a_listener_that_cannot_bind_fails_the_start_with_exit_1_naming_the_source_and_address() {
    let scratch = Scratch::new();
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = held.local_addr().unwrap();
    let sources = format!("[sources.syslog_tcp]\ntype = \"syslog\"\nmode = \"tcp\"\naddress = \"{address}\"");
    let (code, log, took) = run_to_exit(&scratch, &config(&scratch, &sources, "\"syslog_tcp\""));
    assert_eq!(code, Some(1), "{log}");
    let expected =
        format!("error: source `syslog_tcp` could not start: listening on tcp {address}: Address already in use");
    assert!(log.contains(&expected), "expected `{expected}` in:\n{log}");
    assert!(took < Duration::from_secs(10), "exited after {took:?}");
}

/// Nothing is left half-running: the healthy source does not read (its
/// events would be checkpointed and never read again by the router that
/// the supervisor restarts) and no sink writes.
#[test]
fn with_a_healthy_second_source_nothing_runs_when_one_cannot_start() {
    let scratch = Scratch::new();
    scratch.write("logs/agent.log", "{\"n\":1}\n{\"n\":2}\n");
    let held = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let address = held.local_addr().unwrap();
    let sources = format!(
        "[sources.agents]\ntype = \"file\"\ninclude = [\"{logs}/*.log\"]\n\
         [sources.syslog_udp]\ntype = \"syslog\"\nmode = \"udp\"\naddress = \"{address}\"",
        logs = scratch.path("logs").display()
    );
    let config = config(&scratch, &sources, "\"agents\", \"syslog_udp\"");
    let (code, log, took) = run_to_exit(&scratch, &config);
    assert_eq!(code, Some(1), "{log}");
    let expected = format!("error: source `syslog_udp` could not start: listening on udp {address}: ");
    let line = log.lines().find(|line| line.starts_with(&expected));
    assert!(line.is_some_and(|line| line.contains("Address already in use")), "expected `{expected}…` in:\n{log}");
    assert!(took < Duration::from_secs(10), "exited after {took:?}");
    assert_eq!(scratch.lines("out.log"), Vec::<String>::new(), "no event went through");

    // Once the address is free, the same config runs and reads everything.
    drop(held);
    let router = Router::start(&config);
    wait_for_lines(&scratch.path("out.log"), 2, Duration::from_secs(60));
    router.stop();
}

/// SIGHUP's default action kills a process; logrotate's postrotate and many
/// supervisors send it. The router logs it, reopens its files, and runs on.
#[test]
fn sighup_does_not_stop_the_router_and_sigterm_still_ends_it_cleanly() {
    let scratch = Scratch::new();
    scratch.write("logs/agent.log", "{\"n\":1}\n");
    let sources =
        format!("[sources.agents]\ntype = \"file\"\ninclude = [\"{}/*.log\"]", scratch.path("logs").display());
    let log = scratch.path("sluice.log");
    let router = Router::start_logging_to(&config(&scratch, &sources, "\"agents\""), &log);
    let out = scratch.path("out.log");
    wait_for_lines(&out, 1, Duration::from_secs(60));

    router.signal("HUP");
    router.signal("HUP");
    scratch.append("logs/agent.log", "{\"n\":2}\n");
    wait_for_lines(&out, 2, Duration::from_secs(30));
    router.stop();

    let log = std::fs::read_to_string(&log).unwrap();
    assert_eq!(log.matches("SIGHUP: reopening").count(), 2, "each SIGHUP is logged:\n{log}");
    assert!(log.contains("final counts component=out received=2 sent=2"), "{log}");
}
