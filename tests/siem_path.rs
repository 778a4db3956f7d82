//! The whole path a security team cares about: an agent platform sends its
//! events over syslog, sluice normalises, redacts and formats them as CEF, and
//! the SIEM's collector (a real rsyslogd) receives them over TCP.

mod support;

use std::time::Duration;
use support::peers::{FIELDS_TEMPLATE, Rsyslog, free_tcp_port, logger, wait_for_listener};
use support::{Router, Scratch, wait_for_lines};

#[test]
fn agent_events_over_syslog_reach_rsyslog_as_redacted_cef() {
    let scratch = Scratch::new();
    let (siem, inbound) = (free_tcp_port(), free_tcp_port());
    let _rsyslog = Rsyslog::tcp_collector(&scratch.path("siem"), siem, FIELDS_TEMPLATE, "fields");
    let config = format!(
        r#"
data_dir = "{data}"

[sources.agents]
type = "syslog"
mode = "tcp"
address = "127.0.0.1:{inbound}"

[transforms.normalise]
type = "wasm"
plugin = "agent-event"
inputs = ["agents"]

[transforms.redact]
type = "wasm"
plugin = "redact"
inputs = ["normalise"]

[transforms.cef]
type = "wasm"
plugin = "cef"
inputs = ["redact"]

[sinks.siem]
type = "syslog"
inputs = ["cef"]
mode = "tcp"
address = "127.0.0.1:{siem}"
app_name = "sluice"
"#,
        data = scratch.path("data").display(),
    );
    let router = Router::start(&scratch.write("sluice.toml", &config));
    wait_for_listener(inbound, Duration::from_secs(60));

    let event = r#"{"time":"2026-11-26T10:00:00Z","event":{"kind":"tool_call","action":"tool.invoke","id":"evt-1"},
        "agent":{"id":"agt-finance-3","name":"ledger-bot"},"tenant":{"id":"acme"},
        "delegation":{"on_behalf_of":"user:j.doe","type":"user"},"session":{"id":"sess-9"},
        "authz":{"decision":"allow","policy":"pol-7"},"tool":{"name":"shell.exec",
        "arguments":"aws s3 cp --key AKIAIOSFODNN7EXAMPLE s3://books/q3.csv"}}"#
        .replace('\n', "");
    let port = inbound.to_string();
    logger(&["-n", "127.0.0.1", "-P", &port, "--tcp", "--octet-count", "--rfc5424", "-t", "agentd", &event]);

    let lines = wait_for_lines(&scratch.path("siem/received.log"), 1, Duration::from_secs(60));
    router.stop();
    let fields: Vec<&str> = lines[0].splitn(10, '|').collect();
    assert_eq!(fields[5], "sluice", "{lines:?}");
    let cef = fields[9];
    assert!(cef.starts_with("CEF:0|"), "{cef}");
    assert!(cef.contains("|tool_call|"), "{cef}");
    for expected in ["suid=agt-finance-3", "suser=ledger-bot", "duser=user:j.doe", "externalId=evt-1", "act=tool_call"]
    {
        assert!(cef.contains(expected), "{expected} missing from {cef}");
    }
    assert!(cef.contains("=acme"), "tenant in a custom string: {cef}");
    assert!(!cef.contains("AKIAIOSFODNN7EXAMPLE"), "the AWS key must not reach the SIEM: {cef}");
    assert!(cef.contains("[REDACTED"), "{cef}");
}
