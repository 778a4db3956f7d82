//! Behaviour of the whole plugin: one test per rule, then modes, the walk,
//! the record and the config. The corpus tests (every secret kind in every
//! place; the false-positive budget) are in `tests/`.

use super::*;
use serde_json::json;

const KEY: &str = "k3y-for-tests-0123456789abcdef-0123";

fn plugin(config: Value) -> Redact {
    Redact::configure(config).unwrap_or_else(|err| panic!("configure: {err}"))
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

/// The redacted text and the rules that fired, for one string.
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
    assert_masks("aws_access_key", "key AKIAIOSFODNN7EXAMPLE ok", "key [REDACTED:aws_access_key] ok");
    assert_masks("aws_access_key", "xAKIAIOSFODNN7EXAMPLEx", "x[REDACTED:aws_access_key]x");
    assert_masks("aws_access_key", "ASIAY34FZKBOKMUTVV7A", "[REDACTED:aws_access_key]");
    assert_untouched("AKIA is a prefix, AKIAshort");
}

#[test]
fn aws_secret_key_keeps_its_name() {
    assert_masks(
        "aws_secret_key",
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "aws_secret_access_key = [REDACTED:aws_secret_key]",
    );
    assert_masks(
        "aws_secret_key",
        r#"{"SecretAccessKey": "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"}"#,
        r#"{"SecretAccessKey": "[REDACTED:aws_secret_key]"}"#,
    );
    assert_untouched("commit 9fceb02d0ae598e95dc970b74767f19372d61af8 merged");
}

#[test]
fn openai_and_anthropic_keys() {
    let key = "sk-abcdefghijklmnopqrstuvwxyz0123456789AB";
    assert_masks("openai_key", &format!("use {key} now"), "use [REDACTED:openai_key] now");
    assert_masks("openai_key", "sk-proj-Ab3_dEf-GhIjKlMnOpQrStUv", "[REDACTED:openai_key]");
    assert_masks("openai_key", &format!("\\n{key}"), "\\n[REDACTED:openai_key]");
    assert_masks("anthropic_key", "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUv_wx-yz", "[REDACTED:anthropic_key]");
    assert_untouched("the task-management-system-for-users-and-teams");
    assert_untouched("task-0123456789abcdef0123456789abcdef finished");
    assert_untouched("sk-short");
}

#[test]
fn provider_tokens() {
    let cases = [
        ("github_token", "ghp_0123456789abcdefghijABCDEFGHIJ012345"),
        ("github_token", "github_pat_11ABCDEFG0123456789_abcdefghijkl"),
        ("gitlab_token", "glpat-abcdefghij0123456789"),
        ("gitlab_token", "glrt-abcdefghij0123456789"),
        ("slack_token", "xoxb-123456789012-abcdefghij"),
        ("slack_token", "https://hooks.slack.com/services/T0ABC1234/B0DEF5678/Xy9Zq3Lm8Np2Rs5Tv7Wx"),
        ("google_api_key", "AIzaSyA1234567890abcdefghijklmnopqrstuv"),
        ("google_oauth_token", "ya29.a0AfH6SMBx3Kq9Lm2Np5Rs8Tv1Wx4Yz7"),
        ("google_oauth_token", "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"),
        ("stripe_key", "sk_live_0123456789abcdefABCD"),
        ("stripe_key", "whsec_5Y7nK2pQ9rT4vW8xZ1bC3dF6gH0jL2mN"),
    ];
    for (rule, token) in cases {
        assert_masks(rule, &format!("token {token} end"), &format!("token [REDACTED:{rule}] end"));
    }
}

#[test]
fn jwt() {
    let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
    assert_masks("jwt", &format!("id_token {jwt}"), "id_token [REDACTED:jwt]");
    assert_masks("jwt", &format!("Authorization: Bearer {jwt}"), "Authorization: Bearer [REDACTED:jwt]");
}

#[test]
fn bearer_tokens_and_authorization_headers_keep_the_scheme() {
    assert_masks(
        "bearer_token",
        "-H 'Authorization: Bearer abc.def-123_XYZ'",
        "-H 'Authorization: Bearer [REDACTED:bearer_token]'",
    );
    assert_masks(
        "bearer_token",
        "authorization: Basic dXNlcjpwYXNzd29yZA==",
        "authorization: Basic [REDACTED:bearer_token]",
    );
    assert_masks(
        "bearer_token",
        r#"{"Authorization": "Bearer 0123456789abcdef"}"#,
        r#"{"Authorization": "Bearer [REDACTED:bearer_token]"}"#,
    );
    assert_masks("email", "Authorization: Bearer jane.doe@example.com", "Authorization: Bearer [REDACTED:email]");
    assert_untouched("the bearer of bad news");
    assert_untouched("bearer tokenization is explained in the authorization: required section");
}

#[test]
fn password_pairs_keep_the_name() {
    assert_masks("password", "login password=hunter2 user=bob", "login password=[REDACTED:password] user=bob");
    assert_masks("password", "--client_secret: 's3cr3t!'", "--client_secret: '[REDACTED:password]'");
    assert_masks("password", r#"{"api_key":"abc123"}"#, r#"{"api_key":"[REDACTED:password]"}"#);
    assert_masks("password", r#"{\"api_key\":\"abc123\"}"#, r#"{\"api_key\":\"[REDACTED:password]\"}"#);
    assert_masks("password", "GET /x?api-key=abc123&page=2", "GET /x?api-key=[REDACTED:password]&page=2");
    assert_masks("password", "DB_PASSWORD: Tr0ub4dor&3 next", "DB_PASSWORD: [REDACTED:password] next");
    assert_masks("password", "GITHUB_TOKEN=abc123def", "GITHUB_TOKEN=[REDACTED:password]");
    assert_masks("password", "mysql --password hunter2 -u root", "mysql --password [REDACTED:password] -u root");
    assert_masks("password", "password: \"correct horse\"", "password: \"[REDACTED:password]\"");
    assert_untouched("tokens=812 retries=2 result=ok max_tokens: 4096");
    assert_untouched("password=${DB_PASSWORD} secret: null api_key=<your key> passwd=********");
}

#[test]
fn passwords_in_urls() {
    assert_masks(
        "url_password",
        "postgres://admin:pa55@db.corp.local/app",
        "postgres://admin:[REDACTED:url_password]@db.corp.local/app",
    );
    assert_masks("url_password", "redis://:r3d1s@cache:6379/0", "redis://:[REDACTED:url_password]@cache:6379/0");
    assert_untouched("https://api.example.com:8443/v1/items?page=2");
}

#[test]
fn private_key_blocks_whole() {
    let pem = "before\n-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nIBAAK\n-----END RSA PRIVATE KEY-----\nafter";
    assert_masks("private_key", pem, "before\n[REDACTED:private_key]\nafter");
    assert_masks("private_key", "-----BEGIN PRIVATE KEY-----\ncut off", "[REDACTED:private_key]");
    assert_masks(
        "private_key",
        "-----BEGIN PGP PRIVATE KEY BLOCK-----\nlQOYBF\n-----END PGP PRIVATE KEY BLOCK-----",
        "[REDACTED:private_key]",
    );
    assert_untouched("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----");
}

#[test]
fn email_addresses() {
    assert_masks("email", "contact j.smith+alerts@mail.acme-fin.io today", "contact [REDACTED:email] today");
    assert_masks("email", "Grüße an jane.doe@example.com!", "Grüße an [REDACTED:email]!");
    assert_masks("email", "an jürgen.müller@beispiel.de", "an [REDACTED:email]");
    assert_masks("email", "メールjane@example.comまで", "メール[REDACTED:email]まで");
    assert_untouched("user@localhost and @handle, git clone git@github.com:org/repo.git, icon@2x.png");
}

#[test]
fn card_numbers_luhn_checked_whole_or_grouped() {
    assert_masks("card_number", "card 4539578763621486 exp 12/29", "card [REDACTED:card_number] exp 12/29");
    assert_masks("card_number", "4111 1111 1111 1111", "[REDACTED:card_number]");
    assert_masks("card_number", "4111-1111-1111-1111 12 29", "[REDACTED:card_number] 12 29");
    assert_masks("card_number", "amex 3782 822463 10005.", "amex [REDACTED:card_number].");
    assert_masks("card_number", "カード番号4111111111111111です", "カード番号[REDACTED:card_number]です");
    assert_untouched("4111 1111 1111 1112");
    assert_untouched("order 1234567890123456, ts 1732612345678, trace 4bf92f3577b34da6a3ce929d0e0e4736");
    assert_untouched("score 0.4111111111111111");
}

#[test]
fn card_numbers_as_json_integers() {
    let event = redact(json!({"payment": {"card": 4111111111111111_u64, "amount": 1999, "id": 1234567890123456_u64}}));
    let event = event.unwrap();
    assert_eq!(event["payment"], json!({"card": "[REDACTED:card_number]", "amount": 1999, "id": 1234567890123456_u64}));
}

#[test]
fn us_social_security_numbers() {
    assert_masks("us_ssn", "ssn 078-05-1120.", "ssn [REDACTED:us_ssn].");
    assert_masks("us_ssn", "SSN: 219099999", "SSN: [REDACTED:us_ssn]");
    assert_untouched("on 2026-11-26, build 123-45-67890, area 000-12-3456");
}

#[test]
fn ibans_with_valid_check_digits() {
    assert_masks("iban", "pay to GB82 WEST 1234 5698 7654 32 today", "pay to [REDACTED:iban] today");
    assert_masks("iban", "DE89370400440532013000", "[REDACTED:iban]");
    assert_masks("iban", "口座DE89370400440532013000へ", "口座[REDACTED:iban]へ");
    assert_untouched("DE89370400440532013001 and US12345678901234567890");
}

#[test]
fn phone_numbers_in_common_formats() {
    for phone in [
        "+1 415 555 0132",
        "+1 (415) 555-0132",
        "+14155550132",
        "+44 20 7946 0958",
        "+81 3-1234-5678",
        "(212) 555-0187",
        "415-555-0199",
        "1-800-555-0199",
        "020 7946 0958",
        "07700 900123",
        "06 12 34 56 78",
    ] {
        assert_masks("phone", &format!("call {phone} now"), "call [REDACTED:phone] now");
    }
    assert_masks("phone", "phone: 4155550132", "phone: [REDACTED:phone]");
    assert_masks("phone", "tel:+4930123456", "tel:[REDACTED:phone]");
}

#[test]
fn phone_lookalikes_are_left_alone() {
    for text in [
        "version 1.415.555.0132",
        "ORD-415-555-0132",
        "2026-11-26T10:00:00+01:00",
        "delta +1234567.89",
        "1.0.0+20240101120000",
        "ts 1732612345678 pid 41555",
        "192.168.100.200",
        "hotel 12345678",
        "port 5432 retries 3 latency 120 ms",
    ] {
        assert_untouched(text);
    }
}

#[test]
fn modes_mask_hash_and_drop_per_rule() {
    let config = json!({"hash_key": KEY, "rules": {"email": "hash", "card_number": {"mode": "drop"}}});
    let event = redact_with(
        config.clone(),
        json!({"a": "mail jane@example.com and AKIAIOSFODNN7EXAMPLE", "b": {"card": "4111 1111 1111 1111", "n": 1},
               "c": ["ok", "card 4111111111111111", "jane@example.com"]}),
    )
    .unwrap();
    let tag = event["c"][1].as_str().unwrap().to_owned();
    assert!(tag.starts_with("[HASH:email:") && tag.len() == "[HASH:email:]".len() + 16, "{tag}");
    assert_eq!(event["a"], format!("mail {tag} and [REDACTED:aws_access_key]"));
    assert_eq!(event["b"], json!({"n": 1}), "the card's member is gone");
    assert_eq!(event["c"], json!(["ok", tag]), "the card's list item is gone");
    assert_eq!(event["redaction"]["rules"], json!({"email": 2, "aws_access_key": 1, "card_number": 2}));
    assert_eq!(event["redaction"]["dropped"], json!(["b.card", "c.1"]));

    // The same secret gets the same tag in another event and instance.
    let again = redact_with(config, json!({"x": "from jane@example.com"})).unwrap();
    assert_eq!(again["x"], format!("from {tag}"));
}

#[test]
fn hash_tags_depend_on_the_key() {
    let tag = |key: &str| {
        redact_with(json!({"mode": "hash", "hash_key": key}), json!({"x": "jane@example.com"})).unwrap()["x"].clone()
    };
    assert_ne!(tag(KEY), tag("another-key-of-thirty-two-bytes-or-more"));
}

#[test]
fn hash_without_a_key_is_refused_at_configure() {
    let error = Redact::configure(json!({"rules": {"email": "hash"}})).err().unwrap();
    assert!(error.contains("`rules.email`") && error.contains("`hash_key`"), "{error}");
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
    assert_eq!(event["message"], "raw line with [REDACTED:aws_access_key]");
    assert_eq!(event["tool"]["arguments"]["headers"], json!(["Accept: */*", "X-Key: [REDACTED:openai_key]"]));
    assert_eq!(event["tool"]["arguments"]["to"], "[REDACTED:email]");
    assert_eq!(event["tool"]["arguments"]["retries"], 3);
    assert_eq!(event["labels"], json!(["prod", "owner:[REDACTED:email]"]));
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
    let event = redact(json!({"tool": {"arguments": {"password": "correct horse", "Token": "x", "user": "bob",
                                                     "Authorization": "Basic Ym9iOmh1bnRlcjI="}}}))
    .unwrap();
    assert_eq!(
        event["tool"]["arguments"],
        json!({"password": "[REDACTED:password]", "Token": "[REDACTED:password]", "user": "bob",
               "Authorization": "[REDACTED:password]"})
    );
    assert_eq!(event["redaction"]["rules"], json!({"password": 3}));
    assert_eq!(
        redact_with(json!({"rules": {"password": false}}), json!({"args": {"password": "correct horse"}})),
        None
    );
    assert_eq!(redact(json!({"args": {"password": "", "secret": null, "api_key": "${KEY}"}})), None);
}

#[test]
fn keys_are_redacted_when_configured() {
    let event = json!({"contacts": {"jane@example.com": "met 2026", "bob@example.com": "lead", "plain": "x"}});
    assert_eq!(redact(event.clone()), None, "keys are left alone by default");
    let masked = redact_with(json!({"keys": true}), event.clone()).unwrap();
    assert_eq!(
        masked["contacts"],
        json!({"[REDACTED:email]": "lead", "[REDACTED:email]~2": "met 2026", "plain": "x"}),
        "two names masked alike both survive"
    );
    assert_eq!(masked["redaction"]["fields"], json!(["contacts.[REDACTED:email]", "contacts.[REDACTED:email]~2"]));
    let dropped = redact_with(json!({"keys": true, "rules": {"email": "drop"}}), event).unwrap();
    assert_eq!(dropped["contacts"], json!({"plain": "x"}));
    assert_eq!(dropped["redaction"]["dropped"], json!(["contacts.*"]), "the record does not repeat the secret");
}

#[test]
fn paths_limit_where_rules_look_and_skip_wins() {
    let event = json!({"prompt": {"text": "a@example.com"}, "output": {"text": "b@example.com"},
                       "tool": {"arguments": {"to": "c@example.com", "cc": ["d@example.com"]}}});
    let config = json!({"paths": ["prompt.text", "tool.arguments"], "skip": ["tool.arguments.to"]});
    let masked = redact_with(config, event).unwrap();
    assert_eq!(masked["prompt"]["text"], "[REDACTED:email]");
    assert_eq!(masked["output"]["text"], "b@example.com");
    assert_eq!(masked["tool"]["arguments"]["to"], "c@example.com");
    assert_eq!(masked["tool"]["arguments"]["cc"], json!(["[REDACTED:email]"]));
}

#[test]
fn correlation_ids_are_skipped_unless_configured() {
    let event = json!({"event": {"id": "4111111111111111"}, "trace": {"id": "4bf92f3577b34da6a3ce929d0e0e4736"},
                       "session": {"id": "5555 5555 5555 4444"}});
    assert_eq!(redact(event.clone()), None);
    let masked = redact_with(json!({"skip": []}), event).unwrap();
    assert_eq!(masked["event"]["id"], "[REDACTED:card_number]");
    assert_eq!(masked["session"]["id"], "[REDACTED:card_number]");
}

const JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";

/// A JWT or an API key is never a legitimate correlation id: the
/// high-confidence rules look in the skipped ids too.
#[test]
fn high_confidence_rules_reach_into_correlation_ids() {
    let event = json!({"event": {"id": JWT}, "session": {"id": format!("sess-{JWT}")},
                       "trace": {"id": JWT, "span_id": "ghp_0123456789abcdefghijABCDEFGHIJ012345",
                                 "parent_span_id": "AKIAIOSFODNN7EXAMPLE", "parent_id": "AKIAIOSFODNN7EXAMPLE"},
                       "time": "Bearer 0123456789abcdef"});
    let masked = redact(event).unwrap();
    assert_eq!(masked["event"]["id"], "[REDACTED:jwt]");
    assert_eq!(masked["session"]["id"], "sess-[REDACTED:jwt]");
    assert_eq!(masked["trace"]["id"], "[REDACTED:jwt]");
    assert_eq!(masked["trace"]["span_id"], "[REDACTED:github_token]");
    assert_eq!(masked["trace"]["parent_span_id"], "[REDACTED:aws_access_key]");
    assert_eq!(masked["trace"]["parent_id"], "[REDACTED:aws_access_key]");
    assert_eq!(masked["time"], "Bearer [REDACTED:bearer_token]");
    assert_eq!(
        masked["redaction"]["rules"],
        json!({"jwt": 3, "github_token": 1, "aws_access_key": 2, "bearer_token": 1})
    );
}

/// Digit runs, phone-like numbers, IBANs and e-mail addresses are plausible
/// in an id: the ambiguous rules still leave the skipped ids alone, even when
/// a high-confidence rule changes the same field.
#[test]
fn ambiguous_rules_still_skip_correlation_ids() {
    let event = json!({"event": {"id": "4111111111111111"}, "session": {"id": "+1 415 555 0132"},
                       "trace": {"id": "DE89370400440532013000", "span_id": "jane@example.com",
                                 "parent_span_id": "(415) 555-0132"},
                       "received_at": "078-05-1120"});
    assert_eq!(redact(event), None);
    let mixed = redact(json!({"trace": {"id": format!("4111111111111111 {JWT}")}})).unwrap();
    assert_eq!(mixed["trace"]["id"], "4111111111111111 [REDACTED:jwt]");
}

/// A subtree on the skip list keeps the high-confidence rules, the one that
/// goes by member names included, and with `keys` its member names too.
#[test]
fn a_skipped_subtree_keeps_the_high_confidence_rules() {
    let event = json!({"source": {"password": "hunter2hunter2", "phone": "+1 415 555 0132",
                                  "nested": ["AKIAIOSFODNN7EXAMPLE", 4111111111111111_u64]}});
    let masked = redact_with(json!({"skip": ["source"]}), event.clone()).unwrap();
    assert_eq!(
        masked["source"],
        json!({"password": "[REDACTED:password]", "phone": "+1 415 555 0132",
               "nested": ["[REDACTED:aws_access_key]", 4111111111111111_u64]})
    );
    let names = json!({"source": {"AKIAIOSFODNN7EXAMPLE": 1, "jane@example.com": 2}});
    let masked = redact_with(json!({"skip": ["source"], "keys": true}), names).unwrap();
    assert_eq!(masked["source"], json!({"[REDACTED:aws_access_key]": 1, "jane@example.com": 2}));
}

/// Rules of your own apply everywhere unless marked ambiguous; a built-in's
/// confidence can be changed the same way.
#[test]
fn confidence_is_configurable_per_rule() {
    let event = json!({"trace": {"id": "EMP-004211", "span_id": JWT}, "prompt": {"text": "EMP-004211"}});
    let custom = json!({"rules": {"employee_id": {"pattern": "EMP-[0-9]{6}"}}});
    let masked = redact_with(custom, event.clone()).unwrap();
    assert_eq!(masked["trace"]["id"], "[REDACTED:employee_id]", "a rule of your own is high-confidence by default");
    let ambiguous = json!({"rules": {"employee_id": {"pattern": "EMP-[0-9]{6}", "confidence": "ambiguous"},
                                     "jwt": {"confidence": "ambiguous"}}});
    let masked = redact_with(ambiguous, event.clone()).unwrap();
    assert_eq!(masked["trace"], event["trace"], "both marked ambiguous: the skipped ids are left alone");
    assert_eq!(masked["prompt"]["text"], "[REDACTED:employee_id]");
    let high = json!({"rules": {"phone": {"confidence": "high"}}});
    let masked = redact_with(high, json!({"session": {"id": "+1 415 555 0132"}})).unwrap();
    assert_eq!(masked["session"]["id"], "[REDACTED:phone]");
    let error = Redact::configure(json!({"rules": {"jwt": {"confidence": "sure"}}})).err().unwrap();
    assert!(error.starts_with("config key `rules.jwt.confidence` must be \"high\" or \"ambiguous\""), "{error}");
}

#[test]
fn clean_events_pass_unchanged() {
    assert_eq!(redact(json!({"prompt": {"text": "summarise the quarterly report"}, "n": 1234567890123456_u64})), None);
}

#[test]
fn a_second_pass_adds_nothing_and_counts_accumulate_across_new_finds() {
    for config in [json!({}), json!({"mode": "hash", "hash_key": KEY})] {
        let once =
            redact_with(config.clone(), json!({"prompt": {"text": "password=hunter2 AKIAIOSFODNN7EXAMPLE"}})).unwrap();
        assert_eq!(once["redaction"]["count"], 2);
        assert_eq!(redact_with(config.clone(), once.clone()), None, "already redacted text is not redacted again");
        let mut more = once;
        more["output"] = json!({"text": "mail bob@example.com"});
        let twice = redact_with(config, more).unwrap();
        assert_eq!(twice["redaction"]["count"], 3);
        assert_eq!(twice["redaction"]["rules"], json!({"password": 1, "aws_access_key": 1, "email": 1}));
        assert_eq!(twice["redaction"]["fields"], json!(["prompt.text", "output.text"]));
    }
}

#[test]
fn overlapping_finds_leave_nothing_of_either() {
    assert_masks("password", "api_key=AKIAIOSFODNN7EXAMPLEextra", "api_key=[REDACTED:password]");
    let (masked, rules) = mask("api_key=AKIAIOSFODNN7EXAMPLEextra");
    assert_eq!(rules, json!({"aws_access_key": 1, "password": 1}), "{masked}");
    assert_masks("openai_key", "api_key=sk-abcdefghijklmnopqrstuvwxyz0123456789", "api_key=[REDACTED:openai_key]");
}

#[test]
fn replacement_text_is_configurable_globally_and_per_rule() {
    let config = json!({"replacement": "[REDACTED]", "rules": {"email": {"replacement": "<email>"}}});
    let event = redact_with(config, json!({"t": "AKIAIOSFODNN7EXAMPLE x@y.org"}));
    assert_eq!(event.unwrap()["t"], "[REDACTED] <email>");
}

#[test]
fn custom_rules_with_and_without_a_secret_group() {
    let config = json!({"rules": {"employee_id": {"pattern": "EMP-[0-9]{6}"},
                                  "session_cookie": {"pattern": "sid=(?P<secret>[a-f0-9]+)", "mode": "mask"}}});
    let event = redact_with(config, json!({"t": "EMP-004211 sent sid=deadbeef"})).unwrap();
    assert_eq!(event["t"], "[REDACTED:employee_id] sent sid=[REDACTED:session_cookie]");
    assert_eq!(event["redaction"]["rules"], json!({"employee_id": 1, "session_cookie": 1}));
}

#[test]
fn bad_patterns_are_refused_naming_the_rule() {
    let error = Redact::configure(json!({"rules": {"employee_id": {"pattern": "EMP-[0-9"}}})).err().unwrap();
    assert!(error.starts_with("config key `rules.employee_id`: invalid regular expression"), "{error}");
    let error = Redact::configure(json!({"rules": {"anything": {"pattern": "x*"}}})).err().unwrap();
    assert_eq!(error, "config key `rules.anything`: the pattern matches empty text");
}

#[test]
fn invalid_events_fail() {
    assert!(matches!(plugin(json!({})).process("not json"), Outcome::Fail(r) if r.contains("not valid JSON")));
}

/// The rule tables of the crate documentation and of docs/agent-event.md
/// list every built-in rule, in order, with its confidence.
#[test]
fn the_rule_tables_in_the_docs_are_complete() {
    let expected: Vec<(String, String)> =
        rules::BUILTIN.iter().map(|r| (r.name.to_owned(), r.confidence.as_str().to_owned())).collect();
    for (doc, prefix) in [(include_str!("lib.rs"), "//! | `"), (include_str!("../../../docs/agent-event.md"), "| `")] {
        let listed: Vec<(String, String)> = doc
            .lines()
            .filter_map(|line| line.strip_prefix(prefix))
            .filter(|rest| rest.ends_with(" | mask | high |") || rest.ends_with(" | mask | ambiguous |"))
            .map(|rest| {
                let name = rest.split('`').next().unwrap().to_owned();
                let confidence = rest.trim_end_matches(" |").rsplit("| ").next().unwrap().to_owned();
                (name, confidence)
            })
            .collect();
        assert_eq!(listed, expected, "the table after {prefix:?}");
    }
}
