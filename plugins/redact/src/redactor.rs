//! Redacting one string with the compiled rules.
//!
//! A `RegexSet` of every rule answers "does any rule match?" in one pass of
//! its lazy DFA, so the usual string — no secret in it — costs one scan
//! however many rules are on. When something matches, a second pass of the
//! set says which rules did; only those run their own pattern and checks,
//! each over the original text, and offer what they found to the string's
//! claims (module `claims`); the new string is written once from the claims.
//!
//! A field on the `skip` list (a correlation id) is looked at by the
//! high-confidence rules only ([`Reach`]), through a set of their own.

use crate::checks::{Confirm, Hit};
use crate::claims::{Claims, PROTECTED};
use crate::config::{Mode, RuleSpec, Settings};
use crate::hash::{TAG_HEX_CHARS, Tagger};
use crate::rules::{Confidence, SECRET_MEMBER, SECRET_MEMBER_RULE};
use regex::{Regex, RegexSet, RegexSetBuilder};
use std::ops::Range;

struct Rule {
    regex: Regex,
    confidence: Confidence,
    mode: Mode,
    marker: String,
    confirm: Option<Confirm>,
    /// The capture groups named `secret…`; the first that took part in a
    /// match is the secret. Empty: the whole match is.
    secret_groups: Vec<usize>,
}

/// What became of one string.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing to redact.
    Clean,
    /// The string with its secrets masked or hashed.
    Replace(String),
    /// A rule in mode `drop` found a secret: remove the field.
    Drop,
}

/// Which rules look at a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Every rule: a field off the `skip` list.
    Every,
    /// The high-confidence rules only: a field on the `skip` list.
    HighConfidence,
}

/// Some of the rules, with one set that tells which of them match.
struct Selection {
    /// Their patterns, then (at index `rules.len()`) the markers.
    set: RegexSet,
    /// Their indices in [`Redactor::rules`], in order.
    rules: Vec<usize>,
}

/// The compiled rules.
pub struct Redactor {
    names: Vec<String>,
    rules: Vec<Rule>,
    every: Selection,
    /// The high-confidence rules, when some rule is not; `None` when every
    /// rule is (then `every` serves both) or none is (`high_confidence`).
    high: Option<Selection>,
    /// Whether any rule is high-confidence, so that a skipped field is worth a look.
    high_confidence: bool,
    /// What this redactor writes (markers, tags), so it is never redacted again.
    protect: Option<Regex>,
    tagger: Option<Tagger>,
    /// Object members masked whole by name, with the index of the rule that
    /// owns them, when that rule is on.
    secret_member: Option<(Regex, usize)>,
    /// No rule has an anchor and none goes by member names: then whatever a
    /// rule finds in a string it also finds in the event's text around it.
    whole_text: bool,
}

/// Buffers reused from one string to the next.
pub struct Scratch {
    matched: Vec<bool>,
    claims: Claims,
    found: Vec<Range<usize>>,
    taken: Vec<usize>,
    dropped: Vec<usize>,
}

impl Redactor {
    pub fn new(settings: &Settings) -> Result<Redactor, String> {
        let rules = settings.rules.iter().map(compile).collect::<Result<Vec<_>, _>>()?;
        let protect = protect_pattern(&rules).map(|p| Regex::new(&p).expect("escaped markers compile"));
        let every = select(&rules, protect.as_ref(), |_| true)?;
        let is_high = |rule: &Rule| rule.confidence == Confidence::High;
        let high_count = rules.iter().filter(|rule| is_high(rule)).count();
        let high_confidence = high_count > 0;
        let high = match high_count {
            0 => None,
            n if n == rules.len() => None,
            _ => Some(select(&rules, protect.as_ref(), is_high)?),
        };
        let names: Vec<String> = settings.rules.iter().map(|spec| spec.name.clone()).collect();
        let secret_member = names
            .iter()
            .position(|name| name == SECRET_MEMBER_RULE)
            .map(|index| (Regex::new(SECRET_MEMBER).expect("the built-in member pattern compiles"), index));
        let tagger = settings.hash_key.as_ref().map(|key| Tagger::new(key.as_bytes()));
        let whole_text = secret_member.is_none() && every.set.patterns().iter().all(|pattern| unanchored(pattern));
        Ok(Redactor { names, rules, every, high, high_confidence, protect, tagger, secret_member, whole_text })
    }

    /// Whether any rule looks at the fields on the `skip` list.
    pub fn looks_in_skipped_fields(&self) -> bool {
        self.high_confidence
    }

    /// The rules that look at a field of this reach; `None` when none does.
    fn selection(&self, reach: Reach) -> Option<&Selection> {
        match reach {
            Reach::Every => Some(&self.every),
            Reach::HighConfidence if !self.high_confidence => None,
            Reach::HighConfidence => Some(self.high.as_ref().unwrap_or(&self.every)),
        }
    }

    /// The rule names, indexed as the counts that [`Redactor::redact`] fills.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    pub fn scratch(&self) -> Scratch {
        Scratch {
            matched: vec![false; self.every.set.len()],
            claims: Claims::default(),
            found: Vec::new(),
            taken: Vec::new(),
            dropped: Vec::new(),
        }
    }

    /// Whether any rule may find something in `event`, decided over its
    /// whole text in one pass; `None` when that cannot be told this way.
    ///
    /// With its escapes decoded, a string's text is a piece of the event's
    /// text, between quotes, which no rule can see as word characters: so a
    /// match in a string is a match in the event's text (which may find
    /// more, in names, numbers and between strings, but never less; the
    /// skipped fields are in the text too, looked at by some of the rules).
    /// That holds only without anchors (`^` would see the event's start, not
    /// the string's) and without rules that go by member names. The router
    /// hands plugins valid JSON only, so the text is not checked here.
    pub fn may_redact_event(&self, event: &str) -> Option<bool> {
        if !self.whole_text {
            return None;
        }
        Some(self.every.set.is_match(&sluice_plugin::raw::unescaped(event)?))
    }

    /// Redact `text` with the rules of `reach`, adding the secrets found per
    /// rule to `counts`.
    pub fn redact(&self, text: &str, reach: Reach, scratch: &mut Scratch, counts: &mut [u64]) -> Verdict {
        let Some(selection) = self.selection(reach) else { return Verdict::Clean };
        if text.is_empty() {
            return Verdict::Clean;
        }
        // Stopping at the first match makes this cheaper than asking which.
        if !selection.set.is_match(text) {
            return Verdict::Clean;
        }
        let matched = &mut scratch.matched[..selection.set.len()];
        matched.fill(false);
        if !selection.set.matches_read_at(matched, text, 0) {
            return Verdict::Clean;
        }
        scratch.claims.clear();
        scratch.taken.clear();
        scratch.dropped.clear();
        if let Some(protect) = &self.protect
            && scratch.matched[selection.rules.len()]
        {
            for marker in protect.find_iter(text) {
                scratch.claims.offer(marker.start(), marker.end(), PROTECTED);
            }
        }
        for (position, &index) in selection.rules.iter().enumerate() {
            if !scratch.matched[position] {
                continue;
            }
            let rule = &self.rules[index];
            scratch.found.clear();
            find(rule, text, &mut scratch.found);
            for range in &scratch.found {
                if rule.mode == Mode::Drop {
                    scratch.dropped.push(index);
                } else if scratch.claims.offer(range.start, range.end, index) {
                    scratch.taken.push(index);
                }
            }
        }
        if !scratch.dropped.is_empty() {
            // The field goes, so what other rules found in it is moot.
            scratch.dropped.iter().for_each(|&index| counts[index] += 1);
            return Verdict::Drop;
        }
        if scratch.taken.is_empty() {
            return Verdict::Clean;
        }
        scratch.taken.iter().for_each(|&index| counts[index] += 1);
        let mut out = String::with_capacity(text.len() + 16);
        let mut at = 0;
        for claim in scratch.claims.as_slice() {
            out.push_str(&text[at..claim.start]);
            let found = &text[claim.start..claim.end];
            if claim.rule == PROTECTED {
                out.push_str(found);
            } else {
                self.write_replacement(&mut out, claim.rule, found);
            }
            at = claim.end;
        }
        out.push_str(&text[at..]);
        Verdict::Replace(out)
    }

    /// The verdict on a member whose name alone says its value is a secret
    /// (`"password": "hunter2"`), or `None` when `name` is not such a name
    /// or the rule that goes by names does not reach the member.
    pub fn redact_member(&self, name: &str, value: &str, reach: Reach, counts: &mut [u64]) -> Option<Verdict> {
        let (regex, index) = self.secret_member.as_ref()?;
        if reach == Reach::HighConfidence && self.rules[*index].confidence != Confidence::High {
            return None;
        }
        if !regex.is_match(name) {
            return None;
        }
        if value.is_empty() || self.is_own_output(value) {
            return Some(Verdict::Clean);
        }
        let mut found = Vec::new();
        crate::checks::not_placeholder(value, &Hit { whole: 0..value.len(), secret: 0..value.len() }, &mut found);
        if found.is_empty() {
            return Some(Verdict::Clean);
        }
        counts[*index] += 1;
        Some(match self.rules[*index].mode {
            Mode::Drop => Verdict::Drop,
            _ => {
                let mut out = String::new();
                self.write_replacement(&mut out, *index, value);
                Verdict::Replace(out)
            }
        })
    }

    /// Whether `text` is exactly a marker or tag this redactor writes.
    fn is_own_output(&self, text: &str) -> bool {
        self.protect.as_ref().and_then(|p| p.find(text)).is_some_and(|m| m.start() == 0 && m.end() == text.len())
    }

    fn write_replacement(&self, out: &mut String, index: usize, secret: &str) {
        let rule = &self.rules[index];
        match (rule.mode, &self.tagger) {
            (Mode::Hash, Some(tagger)) => {
                out.push_str("[HASH:");
                out.push_str(&self.names[index]);
                out.push(':');
                out.push_str(&tagger.tag(secret));
                out.push(']');
            }
            // `configure` refuses `hash` without a key, and `drop` never gets here;
            // masking is the safe answer should either ever happen.
            _ => out.push_str(&rule.marker),
        }
    }
}

/// How many rejected matches of one rule in one string are searched again
/// from their next character; beyond this the search moves past them.
const RETRIES: usize = 16;

/// Run `rule` over `text`, pushing the ranges of the secrets it finds.
///
/// A match its check rejects may hide a secret that starts inside it: the
/// trunk-0 phone pattern takes `0415-555-0199` out of `\u0000415-555-0199`,
/// which is not a phone number, and the North American number after the
/// escape would be skipped. So after a rejected match the search resumes at
/// the match's next character, a bounded number of times.
fn find(rule: &Rule, text: &str, found: &mut Vec<Range<usize>>) {
    let mut locations = rule.regex.capture_locations();
    let mut at = 0;
    let mut retries = 0;
    while at <= text.len() {
        let hit = if rule.secret_groups.is_empty() {
            match rule.regex.find_at(text, at) {
                Some(m) => Hit { whole: m.range(), secret: m.range() },
                None => break,
            }
        } else {
            let Some(m) = rule.regex.captures_read_at(&mut locations, text, at) else { break };
            let secret = rule.secret_groups.iter().find_map(|&g| locations.get(g)).map_or(m.range(), |(s, e)| s..e);
            Hit { whole: m.range(), secret }
        };
        let before = found.len();
        let whole = hit.whole.clone();
        confirm(rule, text, hit, found);
        let next_char = whole.start + text[whole.start..].chars().next().map_or(1, char::len_utf8);
        at = if found.len() == before && retries < RETRIES {
            retries += 1;
            next_char
        } else {
            whole.end.max(next_char)
        };
    }
}

fn confirm(rule: &Rule, text: &str, hit: Hit, found: &mut Vec<Range<usize>>) {
    if hit.secret.is_empty() {
        return;
    }
    match rule.confirm {
        Some(check) => check(text, &hit, found),
        None => found.push(hit.secret),
    }
}

fn compile(spec: &RuleSpec) -> Result<Rule, String> {
    let at = format!("config key `rules.{}`", spec.name);
    let regex = Regex::new(&spec.pattern).map_err(|err| format!("{at}: invalid regular expression: {err}"))?;
    if regex.is_match("") {
        // It would match every string, and find nothing to redact in it.
        return Err(format!("{at}: the pattern matches empty text"));
    }
    let secret_groups = regex
        .capture_names()
        .enumerate()
        .filter(|(_, name)| name.is_some_and(|n| n.starts_with("secret")))
        .map(|(index, _)| index)
        .collect();
    Ok(Rule {
        regex,
        confidence: spec.confidence,
        mode: spec.mode,
        marker: spec.marker.clone(),
        confirm: spec.confirm,
        secret_groups,
    })
}

/// The rules that `wanted` picks, in order, and a set of their patterns
/// followed by `protect`.
fn select(rules: &[Rule], protect: Option<&Regex>, wanted: impl Fn(&Rule) -> bool) -> Result<Selection, String> {
    let picked: Vec<usize> = (0..rules.len()).filter(|&index| wanted(&rules[index])).collect();
    let patterns = picked.iter().map(|&index| rules[index].regex.as_str()).chain(protect.map(Regex::as_str));
    // The default rules together need more lazy-DFA states than the
    // regex crate's 2 MiB default holds on varied text: with it, the
    // cache is cleared and rebuilt over and over (24 µs per harness
    // event natively, against 4.5 µs with room for 8 MiB). It grows only
    // as far as the rules need, inside the plugin's memory limit.
    let set = RegexSetBuilder::new(patterns)
        .dfa_size_limit(8 << 20)
        .build()
        .map_err(|err| format!("config key `rules`: the rules together are too large: {err}"))?;
    Ok(Selection { set, rules: picked })
}

/// A pattern for everything this redactor writes: the markers of the rules
/// that mask, and the tags of those that hash.
fn protect_pattern(rules: &[Rule]) -> Option<String> {
    let mut parts: Vec<String> = rules
        .iter()
        .filter(|rule| rule.mode == Mode::Mask && !rule.marker.is_empty())
        .map(|rule| regex::escape(&rule.marker))
        .collect();
    // Longest first, so a marker that begins another does not cut it short.
    parts.sort_unstable_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    parts.dedup();
    if rules.iter().any(|rule| rule.mode == Mode::Hash) {
        parts.push(format!(r"\[HASH:[A-Za-z0-9_.-]+:[0-9a-f]{{{TAG_HEX_CHARS}}}\]"));
    }
    (!parts.is_empty()).then(|| parts.join("|"))
}

/// Whether `pattern` has no anchor (`^`, `$`, `\\A`, `\\z`, line anchors).
/// A pattern that cannot be read here is taken to have one.
fn unanchored(pattern: &str) -> bool {
    regex_syntax::parse(pattern).is_ok_and(|hir| !hir.properties().look_set().contains_anchor())
}
