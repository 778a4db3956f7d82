//! A newcomer's first minutes: `sluice demo`, then `sluice run` with no config
//! on their own agent logs and a syslog message.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;
use support::Scratch;

/// Split a CEF line into its seven header fields and its extension text,
/// honouring `\|` escapes in the header.
fn cef_header(line: &str) -> (Vec<String>, String) {
    let mut fields = Vec::new();
    let mut current = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => current.extend(chars.next()),
            '|' if fields.len() < 7 => fields.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    (fields, current)
}

/// The demo's output, split into its sections: heading → non-empty lines.
fn sections(stdout: &str) -> Vec<(String, Vec<String>)> {
    let mut sections: Vec<(String, Vec<String>)> = Vec::new();
    for line in stdout.lines() {
        if let Some(heading) = line.strip_prefix("── ") {
            sections.push((heading.trim_end_matches(" ──").to_owned(), Vec::new()));
        } else if !line.is_empty() {
            sections.last_mut().expect("output starts with a heading").1.push(line.to_owned());
        }
    }
    sections
}

#[test]
fn the_demo_shows_the_same_redacted_events_as_cef_leef_and_ocsf() {
    let scratch = Scratch::new();
    let output = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(["demo", "--count", "24"])
        .current_dir(scratch.path(""))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8(output.stdout).unwrap();
    let sections = sections(&stdout);
    let headings: Vec<&str> = sections.iter().map(|(h, _)| h.split(' ').next().unwrap()).collect();
    assert_eq!(headings, ["CEF", "LEEF", "OCSF"], "{stdout}");
    for (heading, lines) in &sections {
        assert_eq!(lines.len(), 24, "one line per generated event under {heading}:\n{stdout}");
    }

    let mut kinds = std::collections::BTreeSet::new();
    for line in &sections[0].1 {
        let (header, extension) = cef_header(line);
        assert_eq!(header.len(), 7, "{line}");
        assert_eq!(header[0], "CEF:0");
        let severity: u8 = header[6].parse().unwrap_or_else(|_| panic!("numeric severity in {line}"));
        assert!(severity <= 10);
        assert!(extension.contains("suid="), "every event is bound to its agent: {line}");
        kinds.insert(header[4].clone());
    }
    for kind in ["prompt", "reasoning", "tool_call", "api_call", "retrieval", "authz", "output", "error", "lifecycle"] {
        assert!(kinds.contains(kind), "kind {kind} missing from the demo: {kinds:?}");
    }
    assert!(sections[1].1.iter().all(|l| l.starts_with("LEEF:")), "{stdout}");
    for line in &sections[2].1 {
        let ocsf: serde_json::Value = serde_json::from_str(line).expect("OCSF lines are JSON");
        let agent = ocsf["actor"]["app_uid"].as_str().or(ocsf["app"]["uid"].as_str());
        assert!(ocsf["class_uid"].as_u64().is_some() && agent.is_some_and(|a| a.starts_with("agt-")), "{line}");
    }
    for (heading, lines) in &sections {
        assert!(lines.iter().any(|l| l.contains("[REDACTED")), "{heading} shows redaction at work");
    }
    assert_eq!(token(&stdout, "AKIA", 16, |c| c.is_ascii_uppercase() || c.is_ascii_digit()), None);
    assert_eq!(token(&stdout, "sk-", 32, |c| c.is_ascii_alphanumeric()), None);
}

/// The first `prefix` followed by at least `len` characters that `allowed`
/// accepts (an AWS key id, an API key …), if `text` has one.
fn token<'a>(text: &'a str, prefix: &str, len: usize, allowed: fn(char) -> bool) -> Option<&'a str> {
    text.match_indices(prefix).find_map(|(i, _)| {
        let body: String = text[i + prefix.len()..].chars().take_while(|&c| allowed(c)).collect();
        (body.len() >= len).then(|| &text[i..i + prefix.len() + body.len()])
    })
}

#[test]
fn run_without_a_config_tails_agent_logs_and_prints_cef() {
    let scratch = Scratch::new();
    scratch.write(
        "agent-logs/support-bot.jsonl",
        concat!(
            r#"{"agent":{"id":"agt-support-7"},"tenant":{"id":"acme"},"event":{"kind":"prompt"},"#,
            r#""prompt":{"text":"my key is AKIAABCDEFGHIJKLMNOP, mail me at jo@example.com"}}"#,
            "\n"
        ),
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .arg("run")
        .current_dir(scratch.path(""))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let line = rx.recv_timeout(Duration::from_secs(60)).expect("a CEF line within a minute");

    // The default pipeline also takes syslog on 127.0.0.1:5514.
    support::peers::wait_for_listener(5514, Duration::from_secs(30));
    let payload = r#"{"agent":{"id":"agt-syslog-2"},"event":{"kind":"tool_call"},"tool":{"name":"http.get"}}"#;
    support::peers::logger(&["-n", "127.0.0.1", "-P", "5514", "--tcp", "--octet-count", "--rfc5424", payload]);
    let from_syslog = rx.recv_timeout(Duration::from_secs(30)).expect("a CEF line for the syslog message");
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(child.wait().unwrap().success());
    assert!(from_syslog.contains("suser=agt-syslog-2") && from_syslog.contains("cs3=http.get"), "{from_syslog}");

    assert!(line.starts_with("CEF:0|"), "{line}");
    assert!(line.contains("suser=agt-support-7"), "{line}");
    assert!(line.contains("cs1=acme"), "{line}");
    assert!(line.contains("[REDACTED"), "{line}");
    assert!(!line.contains("AKIAABCDEFGHIJKLMNOP") && !line.contains("jo@example.com"), "{line}");
    assert!(scratch.path(".sluice/checkpoints").is_dir(), "the default data_dir is ./.sluice");
}
