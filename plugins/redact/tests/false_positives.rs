//! The false-positive budget: how much ordinary agent text the default
//! rules destroy.
//!
//! `corpus/benign-handwritten.txt` and `corpus/benign-generated.txt` hold
//! realistic text from agent events with no secret and no personal data in
//! it: ids, UUIDs, trace and span ids, commit and image digests, timestamps
//! and epoch values, versions, prices and scores, order and tracking numbers,
//! file paths, URLs without passwords, log lines, SQL, command lines, prose
//! in six languages, and sentences that talk about passwords, tokens, keys,
//! cards and phones without holding one. They were written knowing the
//! rules, so `corpus/benign-changelogs.txt` adds text nobody wrote for this
//! test: a sample of 82 crates' change logs (versions, dates, issue numbers,
//! URLs, hashes, API names, prose).
//!
//! Each line goes through the plugin as a string value; a
//! whitespace-separated token of the line counts as changed when a
//! word-level diff (longest common subsequence) of the line before and after
//! does not keep it. The test prints every changed line and the figure.

mod common;

use common::{plugin, run};
use serde_json::json;
use sluice_plugin_redact::Redact;

/// At most this share of the corpus's tokens may be changed. One token in
/// two hundred: a SIEM analyst reading redacted events should almost never
/// meet a marker where nothing secret was.
const BUDGET_PERCENT: f64 = 0.5;

fn lines() -> Vec<&'static str> {
    [
        include_str!("corpus/benign-handwritten.txt"),
        include_str!("corpus/benign-generated.txt"),
        include_str!("corpus/benign-changelogs.txt"),
    ]
    .iter()
    // Each file opens with comment lines and a blank line.
    .flat_map(|file| file.lines().skip_while(|line| !line.is_empty()))
    .filter(|line| !line.is_empty())
    .collect()
}

/// Tokens changed by `redact` in `lines`, and the tokens in all.
fn measure(redact: &mut Redact, lines: &[&'static str]) -> (Vec<&'static str>, usize) {
    let (mut lost, mut tokens) = (Vec::new(), 0);
    for line in lines {
        let event = run(redact, &json!({"prompt": {"text": line}}));
        let after = event["prompt"]["text"].as_str().unwrap();
        let before: Vec<&str> = line.split_whitespace().collect();
        tokens += before.len();
        if after != *line {
            println!("changed: {line:?}\n     to: {after:?}");
            lost.extend(changed(&before, &after.split_whitespace().collect::<Vec<_>>()));
        }
    }
    (lost, tokens)
}

/// The tokens of `before` that a longest common subsequence with `after`
/// does not keep.
fn changed<'a>(before: &[&'a str], after: &[&str]) -> Vec<&'a str> {
    let (n, m) = (before.len(), after.len());
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if before[i] == after[j] { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
        }
    }
    let (mut i, mut j, mut lost) = (0, 0, Vec::new());
    while i < n {
        if j < m && before[i] == after[j] {
            i += 1;
            j += 1;
        } else if j < m && lcs[i][j + 1] >= lcs[i + 1][j] {
            j += 1;
        } else {
            lost.push(before[i]);
            i += 1;
        }
    }
    lost
}

#[test]
fn the_diff_counts_changed_tokens() {
    assert_eq!(changed(&["a", "b", "c"], &["a", "[X]", "c"]), ["b"]);
    assert_eq!(changed(&["a", "b", "c"], &["a", "b", "c"]), Vec::<&str>::new());
    assert_eq!(changed(&["x", "1", "2", "y"], &["x", "[X]", "y"]), ["1", "2"]);
}

/// The measurement sees a change where there is one.
#[test]
fn the_measurement_counts_real_finds() {
    let (lost, tokens) = measure(&mut plugin(&json!({})), &["mail jane@example.com or call +1 415 555 0132 today"]);
    assert_eq!((lost, tokens), (vec!["jane@example.com", "+1", "415", "555", "0132"], 9));
}

#[test]
fn default_rules_stay_within_the_false_positive_budget() {
    let corpus = lines();
    let (lost, tokens) = measure(&mut plugin(&json!({})), &corpus);
    let percent = 100.0 * lost.len() as f64 / tokens as f64;
    println!(
        "false positives: {} of {tokens} tokens changed ({percent:.3}%) in {} lines; budget {BUDGET_PERCENT}%",
        lost.len(),
        corpus.len()
    );
    assert!(tokens > 10_000, "the corpus is big enough to measure: {tokens} tokens");
    assert!(percent <= BUDGET_PERCENT, "{percent:.3}% of tokens changed, over the budget; changed tokens: {lost:?}");
}
