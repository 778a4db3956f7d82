//! The leak test: after redaction no secret of a built-in kind survives
//! anywhere in the event.
//!
//! `corpus/secrets.jsonl` plants secrets of every built-in kind (`{{…}}`
//! marks the secret, the rest is the context a rule may need, such as
//! `password=`). Each planted text is put at string edges (alone, and after
//! and before every edge in [`EDGES`]: whitespace, punctuation, decoded JSON
//! escapes, literal escapes of twice-encoded JSON, non-ASCII text) and the
//! results go into every kind of place: top-level `message`, nested objects
//! and lists, prose in German and Japanese, a URL, a member named like a
//! secret, a tool result holding JSON (encoded as serde writes it and as
//! Python's `json.dumps` does, with `\u00e9` escapes), member names (with
//! `keys = true`) and, for digit-only secrets, JSON integers.
//! `corpus/leak-events.jsonl` adds hand-written agent events.
//!
//! After redaction every text of the event (values, member names, strings
//! inside JSON strings, and the event's JSON text itself) is searched for
//! each planted secret verbatim, and with independent detectors written
//! here without looking at the rules' patterns. This runs for mode mask (the
//! default), hash, drop and with member names redacted; a second pass over
//! each redacted event must then change nothing.

mod common;

use common::{ascii_json, plugin, run, texts};
use regex::Regex;
use serde_json::{Value, json};

const KEY: &str = "leak-test-key-0123456789abcdef0123456789";

/// What a secret may sit next to.
const EDGES: &[&str] = &[
    " ",
    "\n",
    "\t",
    "\r\n",
    "\"",
    "\\",
    "'",
    "`",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "<",
    ">",
    ",",
    ";",
    ":",
    "=",
    "/",
    "|",
    "-",
    ".",
    "!",
    "?",
    "#",
    "*",
    "\u{0}",
    "\u{7}",
    "\u{a0}",
    "\u{200b}",
    "\u{2028}",
    "\\n",
    "\\t",
    "\\r",
    "\\\"",
    "\\\\",
    "\\u00e9",
    "é",
    "ß",
    "日本語",
    "テキスト",
    "Привет",
    "مرحبا",
    "👍",
    "«",
    "»",
    "€",
    "№",
];

struct Planted {
    kind: String,
    /// The text with the `{{ }}` marks removed.
    text: String,
    secrets: Vec<String>,
}

fn planted() -> Vec<Planted> {
    include_str!("corpus/secrets.jsonl")
        .lines()
        .map(|line| {
            let row: Value = serde_json::from_str(line).unwrap();
            let marked = row["planted"].as_str().unwrap();
            let secrets = marked.split("{{").skip(1).map(|s| s.split("}}").next().unwrap().to_owned()).collect();
            Planted { kind: row["kind"].as_str().unwrap().to_owned(), text: marked.replace(['{', '}'], ""), secrets }
        })
        .collect()
}

/// `text` alone, after every edge, before every edge, and between two of each.
fn at_edges(text: &str) -> Vec<String> {
    let mut out = vec![text.to_owned()];
    for edge in EDGES {
        out.push(format!("{edge}{text}"));
        out.push(format!("{text}{edge}"));
        out.push(format!("{edge}{text}{edge}"));
    }
    out
}

fn event_for(planted: &Planted) -> Value {
    let strings = at_edges(&planted.text);
    let mut event = json!({
        "agent": {"id": "agt-leak-1"},
        "message": strings.join("\n"),
        "prompt": {"text": strings.join(" ")},
        "output": {"text": format!("Résumé für Jürgen: {} — 日本語のテキスト{}です ✓", planted.text, planted.text)},
        "labels": [planted.text, "prod"],
        "tool": {
            "name": "http.post",
            "arguments": {"combos": strings, "deep": {"a": [{"b": {"c": [planted.text, {"d": planted.text}]}}]}},
            "result": json!({"stdout": strings}).to_string(),
            "result_ascii": ascii_json(&json!({"stdout": strings})),
        },
        "destination": {"url": format!("https://api.example.com/v1/notes?text={}", planted.text)},
        "credentials": {"password": planted.text},
    });
    if planted.kind == "card_number"
        && let Ok(number) = planted.secrets[0].parse::<u64>()
    {
        event["payment"] = json!({"number": number});
    }
    event
}

/// Member names holding the planted text, for `keys = true`.
fn keys_event_for(planted: &Planted) -> Value {
    let mut names = serde_json::Map::new();
    for (index, name) in at_edges(&planted.text).into_iter().enumerate() {
        names.insert(name, json!({"n": index}));
    }
    json!({"tool": {"arguments": names}, "labels": {planted.text.clone(): {planted.text.clone(): "x"}}})
}

/// Independent detectors: each finds text of one kind that must not
/// survive. They are written from the formats' descriptions, not from the
/// rules' patterns, and are deliberately broad.
struct Detectors {
    patterns: Vec<(&'static str, Regex)>,
    card_run: Regex,
    iban_run: Regex,
    url_userinfo: Regex,
    generic_pair: Regex,
}

impl Detectors {
    fn new() -> Detectors {
        let patterns = [
            ("aws_access_key", r"(?:AKIA|ASIA)[A-Z0-9]{16}"),
            ("base64_40", r"[A-Za-z0-9/+]{40,}"),
            ("sk_key", r"sk-[A-Za-z0-9_-]{16,}"),
            ("github", r"gh[pousr]_[A-Za-z0-9]{16,}|github_pat_[A-Za-z0-9_]{10,}"),
            ("gitlab", r"gl[a-z]{2,6}-[A-Za-z0-9_-]{16,}|GR1348941"),
            ("slack", r"xox[a-z]-[A-Za-z0-9-]{8,}|xapp-|hooks\.slack\.com/services/T"),
            ("google", r"AIza[0-9A-Za-z_-]{20,}|ya29\.[0-9A-Za-z_-]{10,}|GOCSPX-|1//0[0-9A-Za-z_-]{20,}"),
            ("stripe", r"[sr]k_(?:live|test)_[0-9A-Za-z]{8,}|whsec_[0-9A-Za-z]{8,}"),
            ("jwt", r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}"),
            ("bearer", r"(?i)bearer\s+[A-Za-z0-9._~+/-]{6,}"),
            ("authorization", r"(?i)authorization\W{0,4}(?:basic|bearer)\s+[A-Za-z0-9._~+/=-]{6,}"),
            ("private_key", r"PRIVATE KEY"),
            ("email", r"[^\s@<>()\[\]{}:;,'`\x22\\]+@[^\s@<>()\[\]{}:;,'`\x22\\]+\.[A-Za-z]{2,}"),
            ("e164", r"\+\d[\d\s().-]{6,}\d"),
            ("nanp", r"\(?\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}"),
            ("trunk", r"0\d{1,4}[\s-]\d{3,4}[\s-]?\d{3,4}|0\d(?:[\s.-]\d\d){4}"),
            ("labelled_phone", r"(?i)tel\W{0,3}\d{7,}"),
            ("ssn", r"\d{3}-\d{2}-\d{4}|(?i)ssn\W{0,4}\d{9}"),
        ];
        Detectors {
            patterns: patterns.iter().map(|(name, p)| (*name, Regex::new(p).unwrap())).collect(),
            card_run: Regex::new(r"\d(?:[ -]?\d){12,}").unwrap(),
            iban_run: Regex::new(r"[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,32}").unwrap(),
            url_userinfo: Regex::new(r"://[^/\s:@]*:([^/\s@]+)@").unwrap(),
            generic_pair: Regex::new(
                r#"(?i)(?:password|secret|api[_-]?key|token)(?:[\\"']*\s*[:=]\s*[\\"']*|\s+)([^\s"'\\\[\]{}&,;]{3,})"#,
            )
            .unwrap(),
        }
    }

    /// Where a detector fires in `text` and what it found, if anywhere.
    fn find(&self, text: &str) -> Option<(usize, String)> {
        for (name, pattern) in &self.patterns {
            if let Some(m) = pattern.find(text) {
                return Some((m.start(), format!("{name}: {:?}", m.as_str())));
            }
        }
        for m in self.card_run.find_iter(text) {
            let digits: Vec<u32> = m.as_str().chars().filter_map(|c| c.to_digit(10)).collect();
            for start in 0..digits.len() {
                for len in 13..=19.min(digits.len() - start) {
                    let window = &digits[start..start + len];
                    if (2..=6).contains(&window[0]) && luhn(window) {
                        return Some((m.start(), format!("card: {:?}", m.as_str())));
                    }
                }
            }
        }
        for m in self.iban_run.find_iter(text) {
            let compact: Vec<char> = m.as_str().chars().filter(|c| *c != ' ').collect();
            for len in 15..=compact.len().min(34) {
                if mod97(&compact[..len]) == 1 {
                    return Some((m.start(), format!("iban: {:?}", m.as_str())));
                }
            }
        }
        for caps in self.url_userinfo.captures_iter(text) {
            if !is_marker(&caps[1]) {
                return Some((caps.get(0).unwrap().start(), format!("url password: {:?}", &caps[0])));
            }
        }
        for caps in self.generic_pair.captures_iter(text) {
            let (start, value) = (caps.get(0).unwrap().start(), &caps[1]);
            // A count in the `redaction` record, or a rule name inside a tag.
            let in_tag = text[..start].rfind("[HASH:").is_some_and(|at| !text[at..start].contains(']'));
            let record = value.bytes().all(|b| b.is_ascii_digit()) || in_tag;
            if !record
                && !is_marker(value)
                && !["null", "none", "true", "false"].contains(&value.to_ascii_lowercase().as_str())
            {
                return Some((caps.get(0).unwrap().start(), format!("name=value: {:?}", &caps[0])));
            }
        }
        None
    }
}

fn is_marker(text: &str) -> bool {
    text.starts_with("[REDACTED:") || text.starts_with("[HASH:")
}

fn luhn(digits: &[u32]) -> bool {
    let sum: u32 =
        digits.iter().rev().enumerate().map(|(i, &d)| if i % 2 == 1 { (d * 2) / 10 + (d * 2) % 10 } else { d }).sum();
    sum.is_multiple_of(10)
}

fn mod97(chars: &[char]) -> u64 {
    let rearranged = chars[4..].iter().chain(&chars[..4]);
    rearranged.fold(0u64, |acc, c| {
        let value = c.to_digit(36).unwrap_or(99) as u64;
        if value < 10 { (acc * 10 + value) % 97 } else { (acc * 100 + value) % 97 }
    })
}

/// Every secret of `corpus` is gone from `redacted`, and no detector fires.
#[track_caller]
fn assert_nothing_survives(what: &str, corpus: &[Planted], detectors: &Detectors, redacted: &Value) {
    let mut all = Vec::new();
    texts(redacted, &mut all);
    all.push(redacted.to_string());
    for text in &all {
        for planted in corpus {
            for secret in &planted.secrets {
                if let Some(at) = text.find(secret.as_str()) {
                    panic!("{what}: {} secret {secret:?} survives in …{}…", planted.kind, around(text, at));
                }
            }
        }
        if let Some((at, found)) = detectors.find(text) {
            panic!("{what}: detector {found} fires in …{}…", around(text, at));
        }
    }
}

/// Up to 100 bytes of `text` either side of `at`, for a readable failure.
fn around(text: &str, at: usize) -> String {
    let mut start = at.saturating_sub(100);
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (at + 100).min(text.len());
    while !text.is_char_boundary(end) {
        end += 1;
    }
    format!("{:?}", &text[start..end])
}

fn configs() -> [(&'static str, Value); 3] {
    [("mask", json!({})), ("hash", json!({"mode": "hash", "hash_key": KEY})), ("drop", json!({"mode": "drop"}))]
}

/// The detectors are honest: they fire on every planted text before
/// redaction, so their silence afterwards means something.
#[test]
fn the_detectors_find_every_planted_secret() {
    let detectors = Detectors::new();
    for planted in planted() {
        assert!(detectors.find(&planted.text).is_some(), "no detector finds {} {:?}", planted.kind, planted.text);
    }
}

#[test]
fn no_planted_secret_survives_in_any_place_or_mode() {
    let corpus = planted();
    let detectors = Detectors::new();
    let kinds: std::collections::BTreeSet<&str> = corpus.iter().map(|p| p.kind.as_str()).collect();
    let mut strings = 0;
    for (mode, config) in configs() {
        let mut redact = plugin(&config);
        for planted in &corpus {
            let event = event_for(planted);
            if mode == "mask" {
                let mut before = Vec::new();
                texts(&event, &mut before);
                strings += before.len();
            }
            let redacted = run(&mut redact, &event);
            assert_nothing_survives(&format!("mode {mode}, {}", planted.kind), &corpus, &detectors, &redacted);
            assert_eq!(
                run(&mut redact, &redacted),
                redacted,
                "mode {mode}, {}: a second pass changes nothing",
                planted.kind
            );
            if mode == "mask" {
                // The rule meant for the secret is the one that found it.
                let found = &redacted["redaction"]["rules"][&planted.kind];
                assert!(found.as_u64().is_some_and(|n| n > 0), "{}: {}", planted.kind, redacted["redaction"]);
            }
        }
    }
    println!(
        "leak test: {} planted texts of {} kinds in {strings} strings (values and names) of each mode \
         (mask, hash, drop): nothing survives",
        corpus.len(),
        kinds.len()
    );
}

#[test]
fn no_planted_secret_survives_in_member_names() {
    let corpus = planted();
    let detectors = Detectors::new();
    for (mode, mut config) in configs() {
        config["keys"] = json!(true);
        let mut redact = plugin(&config);
        for planted in &corpus {
            let redacted = run(&mut redact, &keys_event_for(planted));
            assert_nothing_survives(&format!("keys, mode {mode}, {}", planted.kind), &corpus, &detectors, &redacted);
            assert_eq!(run(&mut redact, &redacted), redacted, "keys, mode {mode}, {}: a second pass", planted.kind);
        }
    }
}

#[test]
fn no_planted_secret_survives_in_the_hand_written_events() {
    let corpus = planted();
    let detectors = Detectors::new();
    let events: Vec<Value> =
        include_str!("corpus/leak-events.jsonl").lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    for (mode, config) in configs() {
        let mut redact = plugin(&config);
        for (index, event) in events.iter().enumerate() {
            let mut before = String::new();
            let mut all = Vec::new();
            texts(event, &mut all);
            all.iter().for_each(|t| before.push_str(t));
            assert!(detectors.find(&before).is_some(), "event {index} has something to find");
            let redacted = run(&mut redact, event);
            assert_nothing_survives(&format!("mode {mode}, event {index}"), &corpus, &detectors, &redacted);
            assert_eq!(
                run(&mut redact, &redacted),
                redacted,
                "mode {mode}, event {index}: a second pass changes nothing"
            );
        }
    }
}

/// The kinds no correlation id ever holds: their rules look in the skipped
/// ids too. (Digit runs, phone numbers, IBANs and e-mail addresses are
/// plausible in an id, so those rules leave the skipped ids alone.)
const HIGH_CONFIDENCE: &[&str] = &[
    "private_key",
    "jwt",
    "aws_access_key",
    "anthropic_key",
    "openai_key",
    "github_token",
    "gitlab_token",
    "slack_token",
    "google_api_key",
    "google_oauth_token",
    "stripe_key",
    "url_password",
    "aws_secret_key",
    "bearer_token",
    "password",
];

/// The ids skipped by default, where only the high-confidence rules look.
const CORRELATION_IDS: &[&str] =
    &["event.id", "session.id", "trace.id", "trace.span_id", "trace.parent_span_id", "time", "received_at"];

#[test]
fn no_high_confidence_secret_survives_in_a_correlation_id() {
    let corpus = planted();
    let detectors = Detectors::new();
    let mut checked = 0;
    for (mode, config) in configs() {
        let mut redact = plugin(&config);
        for planted in corpus.iter().filter(|p| HIGH_CONFIDENCE.contains(&p.kind.as_str())) {
            // Alone in every id, and at every edge in one of them (the same
            // code reads them all) in mode mask (the modes differ only in
            // what replaces a find).
            let places = CORRELATION_IDS.iter().map(|path| (*path, planted.text.clone()));
            let edges = if mode == "mask" { at_edges(&planted.text) } else { Vec::new() };
            let edges = edges.into_iter().skip(1).map(|text| ("trace.id", text));
            for (path, text) in places.chain(edges) {
                let mut event = json!({"agent": {"id": "agt-leak-1"}});
                let (parent, leaf) = path.split_once('.').map_or((None, path), |(p, l)| (Some(p), l));
                match parent {
                    Some(parent) => event[parent] = json!({ leaf: text }),
                    None => event[leaf] = json!(text),
                }
                let redacted = run(&mut redact, &event);
                let at = format!("mode {mode}, {} in {path}", planted.kind);
                assert_nothing_survives(&at, &corpus, &detectors, &redacted);
                assert_eq!(run(&mut redact, &redacted), redacted, "{at}: a second pass changes nothing");
                checked += 1;
            }
        }
    }
    assert!(checked > 2000, "only {checked} ids checked");
}

/// Hash tags hide the secret but correlate: the same secret gives the same
/// tag wherever it sits.
#[test]
fn hash_mode_correlates_the_same_secret_across_events() {
    let mut redact = plugin(&json!({"mode": "hash", "hash_key": KEY}));
    let a = run(&mut redact, &json!({"prompt": {"text": "mail jane.doe@example.com"}}));
    let b = run(&mut redact, &json!({"output": {"text": "«jane.doe@example.com»"}, "labels": ["x"]}));
    let tag = |text: &str| text.split("[HASH:email:").nth(1).unwrap()[..16].to_owned();
    assert_eq!(tag(a["prompt"]["text"].as_str().unwrap()), tag(b["output"]["text"].as_str().unwrap()));
}
