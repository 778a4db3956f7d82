//! Behaviour of the whole plugin: one test per rule, then the walk, the
//! record and the config.

use super::*;
use serde_json::json;

fn plugin(config: Value) -> Redact {
    Redact::init(config).unwrap_or_else(|err| panic!("init: {err}"))
}

/// Redact `event` with the default config; `None` when it passed unchanged.
fn redact(event: Value) -> Option<Value> {
    redact_with(json!({}), event)
}

fn redact_with(config: Value, event: Value) -> Option<Value> {
    match plugin(config).process(&event.to_string()) {
        Outcome::Keep => None,
        Outcome::Replace(json) => Some(serde_json::from_str(&json).unwrap()),
        other => panic!("unexpected outcome {other:?}"),
    }
}

/// The masked text and the rules that fired, for one string.
fn mask(text: &str) -> (String, Value) {
    match redact(json!({"prompt": {"text": text}})) {
        Some(event) => (event["prompt"]["text"].as_str().unwrap().to_owned(), event["redaction"]["rules"].clone()),
        None => (text.to_owned(), json!({})),
    }
}

#[track_caller]
fn assert_masks(rule: &str, text: &str, expected: &str) {
    let (masked, rules) = mask(text);
    assert_eq!(masked, expected, "rule {rule} on {text:?}");
    assert!(rules.get(rule).is_some(), "rule {rule} should have fired on {text:?}, fired: {rules}");
}

#[track_caller]
fn assert_untouched(text: &str) {
    let (masked, rules) = mask(text);
    assert_eq!(masked, text, "fired: {rules}");
}

#[test]
fn aws_access_key_including_glued_to_other_text() {
    assert_masks("aws_access_key", "key AKIAIOSFODNN7EXAMPLE ok", "key [REDACTED] ok");
    assert_masks("aws_access_key", "xAKIAIOSFODNN7EXAMPLEx", "x[REDACTED]x");
    assert_masks("aws_access_key", "ASIAY34FZKBOKMUTVV7A", "[REDACTED]");
    assert_untouched("AKIA is a prefix, AKIAshort");
}

#[test]
fn aws_secret_key_keeps_its_name() {
    assert_masks(
        "aws_secret_key",
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "aws_secret_access_key = [REDACTED]",
    );
}

#[test]
fn openai_and_anthropic_keys() {
    let key = "sk-abcdefghijklmnopqrstuvwxyz0123456789AB";
    assert_masks("openai_key", &format!("use {key} now"), "use [REDACTED] now");
    assert_masks("openai_key", "sk-proj-Ab3_dEf-GhIjKlMnOpQrStUv", "[REDACTED]");
    assert_masks("anthropic_key", "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUv_wx-yz", "[REDACTED]");
    assert_untouched("the task-management-system-for-users-and-teams");
    assert_untouched("sk-short");
}

#[test]
fn other_provider_tokens() {
    assert_masks("github_token", "token ghp_0123456789abcdefghijABCDEFGHIJ012345 end", "token [REDACTED] end");
    assert_masks("github_token", "github_pat_11ABCDEFG0123456789_abcdefghijkl", "[REDACTED]");
    assert_masks("gitlab_token", "glpat-abcdefghij0123456789", "[REDACTED]");
    assert_masks("slack_token", "xoxb-123456789012-abcdefghij", "[REDACTED]");
    assert_masks("google_api_key", "AIzaSyA1234567890abcdefghijklmnopqrstuv", "[REDACTED]");
    assert_masks("stripe_key", "sk_live_0123456789abcdefABCD", "[REDACTED]");
}

#[test]
fn jwt() {
    let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
    assert_masks("jwt", &format!("id_token {jwt}"), "id_token [REDACTED]");
}

#[test]
fn bearer_tokens_and_authorization_headers_keep_the_scheme() {
    assert_masks("bearer_token", "-H 'Authorization: Bearer abc.def-123_XYZ'", "-H 'Authorization: Bearer [REDACTED]'");
    assert_masks("bearer_token", "authorization: Basic dXNlcjpwYXNzd29yZA==", "authorization: Basic [REDACTED]");
    assert_masks("bearer_token", "bearer 0123456789abcdef", "bearer [REDACTED]");
    assert_masks("email", "Authorization: Bearer jane.doe@example.com", "Authorization: Bearer [REDACTED]");
    assert_untouched("the bearer of bad news");
}

#[test]
fn password_pairs_keep_the_key() {
    assert_masks("password", "login password=hunter2 user=bob", "login password=[REDACTED] user=bob");
    assert_masks("password", "--client_secret: 's3cr3t!'", "--client_secret: '[REDACTED]'");
    assert_masks("password", r#"{"api_key":"abc123"}"#, r#"{"api_key":"[REDACTED]"}"#);
    assert_masks("password", "GET /x?api-key=abc123&page=2", "GET /x?api-key=[REDACTED]&page=2");
    assert_untouched("tokens=812 retries=2 result=ok");
}

#[test]
fn passwords_in_urls() {
    assert_masks(
        "url_password",
        "postgres://admin:pa55@db.corp.local/app",
        "postgres://admin:[REDACTED]@db.corp.local/app",
    );
}

#[test]
fn private_key_blocks_whole() {
    let pem = "before\n-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nIBAAK\n-----END RSA PRIVATE KEY-----\nafter";
    assert_masks("private_key", pem, "before\n[REDACTED]\nafter");
    assert_masks("private_key", "-----BEGIN PRIVATE KEY-----\ncut off", "[REDACTED]");
}

#[test]
fn email_addresses() {
    assert_masks("email", "contact j.smith+alerts@mail.acme-fin.io today", "contact [REDACTED] today");
    assert_masks("email", "Grüße an jane.doe@example.com!", "Grüße an [REDACTED]!");
    assert_untouched("user@localhost and @handle");
}

#[test]
fn card_numbers_bare_always_grouped_with_luhn() {
    assert_masks("card_number", "card 4539578763621486 exp 12/29", "card [REDACTED] exp 12/29");
    assert_masks("card_number", "card 1234567890123456", "card [REDACTED]");
    assert_masks("card_number", "4111 1111 1111 1111", "[REDACTED]");
    assert_masks("card_number", "4111-1111-1111-1111", "[REDACTED]");
    assert_untouched("4111 1111 1111 1112");
    assert_untouched("order 123456789012345");
}

#[test]
fn us_social_security_numbers() {
    assert_masks("us_ssn", "ssn 078-05-1120.", "ssn [REDACTED].");
    assert_untouched("on 2026-11-26");
}

#[test]
fn ibans_with_valid_check_digits() {
    assert_masks("iban", "pay to GB82 WEST 1234 5698 7654 32 today", "pay to [REDACTED] today");
    assert_masks("iban", "DE89370400440532013000", "[REDACTED]");
}

#[test]
fn every_string_is_walked_including_nested_lists_and_message() {
    let event = json!({
        "message": "raw line with AKIAIOSFODNN7EXAMPLE",
        "tool": {"arguments": {"headers": ["Accept: */*", "X-Key: sk-abcdefghijklmnopqrstuvwxyz0123456789"],
                               "to": "bob@example.com", "retries": 3}},
        "labels": ["prod", "owner:ops@example.com"],
    });
    let event = redact(event).unwrap();
    assert_eq!(event["message"], "raw line with [REDACTED]");
    assert_eq!(event["tool"]["arguments"]["headers"], json!(["Accept: */*", "X-Key: [REDACTED]"]));
    assert_eq!(event["tool"]["arguments"]["to"], "[REDACTED]");
    assert_eq!(event["tool"]["arguments"]["retries"], 3);
    assert_eq!(event["labels"], json!(["prod", "owner:[REDACTED]"]));
    assert_eq!(
        event["redaction"],
        json!({
            "count": 4,
            "rules": {"aws_access_key": 1, "openai_key": 1, "email": 2},
            "fields": ["labels.1", "message", "tool.arguments.headers.1", "tool.arguments.to"],
        })
    );
}

#[test]
fn members_named_like_secrets_are_masked_whole() {
    let event =
        redact(json!({"tool": {"arguments": {"password": "correct horse", "Token": "x", "user": "bob"}}})).unwrap();
    assert_eq!(event["tool"]["arguments"], json!({"password": "[REDACTED]", "Token": "[REDACTED]", "user": "bob"}));
    assert_eq!(event["redaction"]["rules"], json!({"password": 2}));
    let event = redact_with(json!({"rules": {"password": false}}), json!({"args": {"password": "correct horse"}}));
    assert_eq!(event, None);
}

#[test]
fn correlation_ids_are_skipped_unless_configured() {
    let event = json!({"event": {"id": "1234567890123456"}, "trace": {"id": "4bf92f3577b34da6a3ce929d0e0e4736"},
                       "session": {"id": "1111222233334444"}});
    assert_eq!(redact(event.clone()), None);
    let masked = redact_with(json!({"skip": []}), event).unwrap();
    assert_eq!(masked["event"]["id"], "[REDACTED]");
    assert_eq!(masked["session"]["id"], "[REDACTED]");
}

#[test]
fn clean_events_pass_unchanged() {
    assert_eq!(redact(json!({"prompt": {"text": "summarise the quarterly report"}, "n": 1234567890123456_u64})), None);
}

#[test]
fn a_second_pass_adds_nothing_and_counts_accumulate_across_new_finds() {
    let once = redact(json!({"prompt": {"text": "password=hunter2 AKIAIOSFODNN7EXAMPLE"}})).unwrap();
    assert_eq!(once["redaction"]["count"], 2);
    assert_eq!(redact(once.clone()), None, "already masked text is not masked again");
    let mut more = once;
    more["output"] = json!({"text": "mail bob@example.com"});
    let twice = redact(more).unwrap();
    assert_eq!(twice["redaction"]["count"], 3);
    assert_eq!(twice["redaction"]["rules"], json!({"password": 1, "aws_access_key": 1, "email": 1}));
    assert_eq!(twice["redaction"]["fields"], json!(["prompt.text", "output.text"]));
}

#[test]
fn replacement_can_name_the_rule() {
    let event = redact_with(json!({"replacement": "[REDACTED:{rule}]"}), json!({"t": "AKIAIOSFODNN7EXAMPLE x@y.org"}));
    assert_eq!(event.unwrap()["t"], "[REDACTED:aws_access_key] [REDACTED:email]");
}

#[test]
fn custom_rules_with_and_without_a_secret_group() {
    let config = json!({"rules": {"employee_id": "EMP-[0-9]{6}", "session_cookie": "sid=(?P<secret>[a-f0-9]+)"}});
    let event = redact_with(config, json!({"t": "EMP-004211 sent sid=deadbeef"})).unwrap();
    assert_eq!(event["t"], "[REDACTED] sent sid=[REDACTED]");
    assert_eq!(event["redaction"]["rules"], json!({"employee_id": 1, "session_cookie": 1}));
}

#[test]
fn a_bad_regex_is_refused_naming_the_rule() {
    let error = Redact::init(json!({"rules": {"employee_id": "EMP-[0-9"}})).err().unwrap();
    assert!(error.starts_with("config key `rules.employee_id`: invalid regular expression"), "{error}");
}

#[test]
fn invalid_events_fail() {
    assert!(matches!(plugin(json!({})).process("not json"), Outcome::Fail(r) if r.contains("not valid JSON")));
}

/// The P1 reference patterns never match after redaction, whatever the
/// secrets sit next to: JSON escapes, non-ASCII text, string edges.
#[test]
fn no_reference_pattern_survives() {
    let reference = [
        regex::Regex::new(r"AKIA[0-9A-Z]{16}").unwrap(),
        regex::Regex::new(r"sk-[A-Za-z0-9]{32,}").unwrap(),
        regex::Regex::new(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}").unwrap(),
        regex::Regex::new(r"[0-9]{16}").unwrap(),
    ];
    let secrets = [
        "AKIAIOSFODNN7EXAMPLE",
        "AKIAIOSFODNN7EXAMPLEXYZ",
        "sk-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH",
        "jane.doe@corp.example.org",
        "4539578763621486",
        "45395787636214861234",
    ];
    let edges = ["", " ", "\n", "\"", "\\", "=", "/", "é", "日本", "\t", "x"];
    let mut events = Vec::new();
    for secret in secrets {
        for before in edges {
            for after in edges {
                events.push(format!("{before}{secret}{after}"));
            }
        }
    }
    let event = json!({"a": events, "b": {"c": {"d": events.join(" | ")}}, "message": events.join("")});
    let masked = redact(event).unwrap();
    let text = masked.to_string();
    let decoded: Vec<String> = collect_strings(&masked);
    for pattern in &reference {
        assert!(!pattern.is_match(&text), "{pattern} survives in the JSON text");
        for s in &decoded {
            assert!(!pattern.is_match(s), "{pattern} survives in {s:?}");
        }
    }
}

fn collect_strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items.iter().flat_map(collect_strings).collect(),
        Value::Object(map) => map.values().flat_map(collect_strings).collect(),
        _ => Vec::new(),
    }
}
