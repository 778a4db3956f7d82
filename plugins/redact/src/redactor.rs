//! Masking one string with the compiled rules.
//!
//! A `RegexSet` of every rule answers "does anything match?" in one pass, so
//! the usual string — no secret in it — costs one scan however many rules are
//! on; only the rules that matched then run one by one to replace.

use crate::config::{RuleSpec, Settings};
use crate::rules::{SECRET_MEMBER, SECRET_MEMBER_RULE};
use regex::{Captures, Regex, RegexSet};
use std::borrow::Cow;

struct Rule {
    regex: Regex,
    /// What a match becomes (the replacement with `{rule}` filled in).
    marker: String,
    validate: Option<fn(&str) -> bool>,
}

/// The compiled rules.
pub struct Redactor {
    names: Vec<String>,
    set: RegexSet,
    rules: Vec<Rule>,
    /// Object members masked whole by name, with the index of the rule that
    /// owns them, when that rule is on.
    secret_member: Option<(Regex, usize)>,
}

impl Redactor {
    pub fn new(settings: &Settings) -> Result<Redactor, String> {
        let rules =
            settings.rules.iter().map(|spec| compile(spec, &settings.replacement)).collect::<Result<Vec<_>, _>>()?;
        let set = RegexSet::new(rules.iter().map(|rule| rule.regex.as_str()))
            .map_err(|err| format!("config key `rules`: the rules together are too large: {err}"))?;
        let names: Vec<String> = settings.rules.iter().map(|spec| spec.name.clone()).collect();
        let secret_member = names
            .iter()
            .position(|name| name == SECRET_MEMBER_RULE)
            .map(|index| (Regex::new(SECRET_MEMBER).expect("the built-in member pattern compiles"), index));
        Ok(Redactor { names, set, rules, secret_member })
    }

    /// The rule names, indexed as the counts that [`Redactor::redact`] fills.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// `text` with every match masked, or `None` when nothing matched.
    /// Adds the number of masked matches per rule to `counts`.
    pub fn redact(&self, text: &str, counts: &mut [u64]) -> Option<String> {
        if !self.set.is_match(text) {
            return None;
        }
        let mut current = Cow::Borrowed(text);
        let mut changed = false;
        for index in self.set.matches(text).iter() {
            let rule = &self.rules[index];
            let mut masked = 0;
            let replaced = rule.regex.replace_all(&current, |caps: &Captures| mask(rule, caps, &mut masked));
            if masked > 0 {
                let replaced = replaced.into_owned();
                current = Cow::Owned(replaced);
                counts[index] += masked;
                changed = true;
            }
        }
        changed.then(|| current.into_owned())
    }

    /// The marker and rule index for a member whose name alone says its value
    /// is a secret (`"password": "hunter2"`), if it is one.
    pub fn secret_member(&self, name: &str) -> Option<(&str, usize)> {
        let (regex, index) = self.secret_member.as_ref()?;
        regex.is_match(name).then(|| (self.rules[*index].marker.as_str(), *index))
    }
}

fn compile(spec: &RuleSpec, replacement: &str) -> Result<Rule, String> {
    let regex = Regex::new(&spec.pattern)
        .map_err(|err| format!("config key `rules.{}`: invalid regular expression: {err}", spec.name))?;
    Ok(Rule { regex, marker: replacement.replace("{rule}", &spec.name), validate: spec.validate })
}

/// The replacement for one match: the marker in place of the `secret` group
/// (or the whole match), or the match itself when it is already masked or
/// fails the rule's check.
fn mask(rule: &Rule, caps: &Captures, masked: &mut u64) -> String {
    let whole = caps.get(0).expect("group 0 is the match");
    if rule.validate.is_some_and(|ok| !ok(whole.as_str())) {
        return whole.as_str().to_owned();
    }
    match caps.name("secret") {
        Some(secret) if secret.as_str() == rule.marker => whole.as_str().to_owned(),
        Some(secret) => {
            *masked += 1;
            let text = whole.as_str();
            let (start, end) = (secret.start() - whole.start(), secret.end() - whole.start());
            format!("{}{}{}", &text[..start], rule.marker, &text[end..])
        }
        None => {
            *masked += 1;
            rule.marker.clone()
        }
    }
}
