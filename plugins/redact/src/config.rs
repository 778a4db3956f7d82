//! The plugin's `config` table, checked in `configure` so that a mistake stops the
//! router at load time with the key that is wrong.
//!
//! ```toml
//! [transforms.redact.config]
//! defaults = true                      # start from every built-in rule (false: none)
//! mode = "mask"                        # the mode of rules that do not name one: mask, hash or drop
//! replacement = "[REDACTED:{rule}]"    # what `mask` writes; `{rule}` is the rule's name
//! hash_key = "…"                       # the HMAC key of `hash` (at least 32 bytes); required by `hash`
//! keys = false                         # also look for secrets in member names
//! paths = ["prompt.text", "tool.*"]    # look only under these paths (default: the whole event)
//! skip = ["event.id", "trace.id"]      # only high-confidence rules look here (replaces the default list)
//!
//! [transforms.redact.config.rules]
//! phone = false                                        # switch a built-in rule off
//! iban = true                                          # or on, when defaults = false
//! email = "hash"                                       # on, in this mode
//! card_number = { mode = "mask", replacement = "[CARD]" }
//! employee_id = { pattern = 'EMP-[0-9]{6}', mode = "drop" }        # a rule of your own
//! session = { pattern = '(?i)session=(?P<secret>\w+)' }             # mask only the `secret` group
//! ticket = { pattern = 'T-[0-9]{8}', confidence = "ambiguous" }    # leave the skipped ids alone
//! jwt = { confidence = "ambiguous" }                               # a built-in's confidence, changed
//! ```
//!
//! Paths are dotted keys, `*` standing for any one key or list index
//! (`messages.*.content`); a path selects everything under it. A table with
//! a `pattern` for a built-in name replaces that rule's pattern (and drops its
//! checks). Rules of your own run after the built-ins.
//!
//! `skip` does not hide a field from every rule: the high-confidence rules
//! (module `rules`, [`Confidence`]) look there too, since a key or a token is
//! never a legitimate id; the ambiguous ones leave it alone. A rule of your
//! own is high-confidence unless it says `confidence = "ambiguous"`: a
//! pattern written for a secret is taken to mean it wherever it appears, and
//! an operator who knows it matches ids says so.
//!
//! The key of `hash` comes from this table only: a plugin runs in a sandbox
//! without environment variables, so a site that keeps the key out of its
//! config file needs the router to fill it in.

use crate::checks::Confirm;
use crate::hash::MIN_KEY_BYTES;
use crate::rules::{BUILTIN, Builtin, Confidence};
use serde_json::{Map, Value};

/// Identifiers that correlate events; masking a digit run inside one would
/// break the SIEM's joins, so only the high-confidence rules look there.
const DEFAULT_SKIP: &[&str] =
    &["event.id", "session.id", "trace.id", "trace.span_id", "trace.parent_span_id", "time", "received_at"];

const DEFAULT_REPLACEMENT: &str = "[REDACTED:{rule}]";

/// What a rule does with a secret it finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Replace it with the rule's marker.
    Mask,
    /// Replace it with a keyed tag (module `hash`).
    Hash,
    /// Remove the field that holds it.
    Drop,
}

impl Mode {
    fn parse(text: &str) -> Option<Mode> {
        match text {
            "mask" => Some(Mode::Mask),
            "hash" => Some(Mode::Hash),
            "drop" => Some(Mode::Drop),
            _ => None,
        }
    }
}

/// One rule to run: a built-in or a custom regular expression.
#[derive(Debug, Clone)]
pub struct RuleSpec {
    pub name: String,
    pub pattern: String,
    pub confirm: Option<Confirm>,
    pub confidence: Confidence,
    pub mode: Mode,
    /// What `mask` writes, `{rule}` filled in.
    pub marker: String,
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// The rules, in the order they claim text.
    pub rules: Vec<RuleSpec>,
    pub hash_key: Option<String>,
    pub keys: bool,
    /// Dotted paths to look under, each split into its keys; `None` for all.
    pub paths: Option<Vec<Vec<String>>>,
    /// Dotted paths left to the high-confidence rules, each split into its keys.
    pub skip: Vec<Vec<String>>,
}

/// A rule while the config is read: modes and markers are settled once the
/// defaults are known.
struct Draft {
    name: String,
    pattern: String,
    confirm: Option<Confirm>,
    confidence: Confidence,
    mode: Option<Mode>,
    replacement: Option<String>,
}

impl Draft {
    fn builtin(rule: &Builtin) -> Draft {
        Draft {
            name: rule.name.to_owned(),
            pattern: rule.pattern.to_owned(),
            confirm: rule.confirm,
            confidence: rule.confidence,
            mode: None,
            replacement: None,
        }
    }
}

const TOP_KEYS: &[&str] = &["defaults", "mode", "replacement", "hash_key", "keys", "paths", "skip", "rules"];

impl Settings {
    pub fn parse(config: &Value) -> Result<Settings, String> {
        let table = config.as_object().ok_or("config must be a table")?;
        if let Some(unknown) = table.keys().find(|k| !TOP_KEYS.contains(&k.as_str())) {
            return Err(format!("unknown config key `{unknown}` (expected one of: {})", TOP_KEYS.join(", ")));
        }
        let defaults = boolean(table, "defaults", true)?;
        let keys = boolean(table, "keys", false)?;
        let mode = match table.get("mode") {
            None => Mode::Mask,
            Some(value) => value
                .as_str()
                .and_then(Mode::parse)
                .ok_or_else(|| format!("config key `mode` must be \"mask\", \"hash\" or \"drop\", got {value}"))?,
        };
        let replacement = match table.get("replacement") {
            None => DEFAULT_REPLACEMENT.to_owned(),
            Some(Value::String(text)) => text.clone(),
            Some(other) => return Err(format!("config key `replacement` must be a string, got {other}")),
        };
        let hash_key = match table.get("hash_key") {
            None => None,
            Some(Value::String(key)) if key.len() >= MIN_KEY_BYTES => Some(key.clone()),
            Some(Value::String(_)) => {
                return Err(format!(
                    "config key `hash_key` must be at least {MIN_KEY_BYTES} bytes \
                     (for example the output of `openssl rand -hex 16`)"
                ));
            }
            Some(other) => return Err(format!("config key `hash_key` must be a string, got {other}")),
        };
        let paths = match table.get("paths") {
            None => None,
            Some(Value::Array(items)) if items.is_empty() => {
                return Err("config key `paths` is empty, which would redact nothing; \
                            leave it out to look at the whole event"
                    .to_owned());
            }
            Some(value) => Some(path_list("paths", value)?),
        };
        let skip = match table.get("skip") {
            None => DEFAULT_SKIP.iter().map(|p| split_path(p)).collect(),
            Some(value) => path_list("skip", value)?,
        };

        let mut drafts: Vec<Draft> = if defaults { BUILTIN.iter().map(Draft::builtin).collect() } else { Vec::new() };
        match table.get("rules") {
            None => {}
            Some(Value::Object(choices)) => {
                for (name, choice) in choices {
                    apply_choice(&mut drafts, name, choice)?;
                }
            }
            Some(other) => return Err(format!("config key `rules` must be a table of rule = choice, got {other}")),
        }

        let rules: Vec<RuleSpec> = drafts
            .into_iter()
            .map(|draft| {
                let template = draft.replacement.as_deref().unwrap_or(&replacement);
                RuleSpec {
                    marker: template.replace("{rule}", &draft.name),
                    mode: draft.mode.unwrap_or(mode),
                    name: draft.name,
                    pattern: draft.pattern,
                    confirm: draft.confirm,
                    confidence: draft.confidence,
                }
            })
            .collect();
        if hash_key.is_none()
            && let Some(rule) = rules.iter().find(|rule| rule.mode == Mode::Hash)
        {
            let at = if mode == Mode::Hash { "`mode`".to_owned() } else { format!("`rules.{}`", rule.name) };
            return Err(format!(
                "config key {at}: mode \"hash\" needs the config key `hash_key` \
                 (plugins have no environment to read a key from)"
            ));
        }
        Ok(Settings { rules, hash_key, keys, paths, skip })
    }
}

fn boolean(table: &Map<String, Value>, key: &str, default: bool) -> Result<bool, String> {
    match table.get(key) {
        None => Ok(default),
        Some(value) => value.as_bool().ok_or_else(|| format!("config key `{key}` must be true or false, got {value}")),
    }
}

fn path_list(key: &str, value: &Value) -> Result<Vec<Vec<String>>, String> {
    let bad = |item: &Value| format!("config key `{key}` must be a list of dotted paths, got {item}");
    let Value::Array(items) = value else { return Err(bad(value)) };
    items
        .iter()
        .map(|item| match item.as_str() {
            Some(path) if !path.split('.').any(str::is_empty) => Ok(split_path(path)),
            _ => Err(bad(item)),
        })
        .collect()
}

fn split_path(path: &str) -> Vec<String> {
    path.split('.').map(str::to_owned).collect()
}

/// Apply one `rules.<name> = choice` entry.
fn apply_choice(drafts: &mut Vec<Draft>, name: &str, choice: &Value) -> Result<(), String> {
    let at = format!("config key `rules.{name}`");
    let builtin = BUILTIN.iter().find(|rule| rule.name == name);
    let no_builtin = || {
        format!(
            "{at}: there is no built-in rule `{name}` (built-in: {}); \
             to add a rule of your own give {{ pattern = \"…\" }}",
            BUILTIN.iter().map(|r| r.name).collect::<Vec<_>>().join(", ")
        )
    };
    match choice {
        Value::Bool(false) => {
            builtin.ok_or_else(no_builtin)?;
            drafts.retain(|draft| draft.name != name);
        }
        Value::Bool(true) => {
            switch_on(drafts, builtin.ok_or_else(no_builtin)?);
        }
        Value::String(text) => {
            let mode = Mode::parse(text).ok_or_else(|| {
                format!(
                    "{at} must be true, false, \"mask\", \"hash\", \"drop\" or a table \
                     {{ pattern, mode, replacement, confidence }}, got \"{text}\""
                )
            })?;
            switch_on(drafts, builtin.ok_or_else(no_builtin)?).mode = Some(mode);
        }
        Value::Object(table) => {
            if let Some(unknown) =
                table.keys().find(|k| !matches!(k.as_str(), "pattern" | "mode" | "replacement" | "confidence"))
            {
                return Err(format!(
                    "unknown config key `rules.{name}.{unknown}` (expected pattern, mode, replacement or confidence)"
                ));
            }
            let mode = match table.get("mode") {
                None => None,
                Some(value) => Some(value.as_str().and_then(Mode::parse).ok_or_else(|| {
                    format!("config key `rules.{name}.mode` must be \"mask\", \"hash\" or \"drop\", got {value}")
                })?),
            };
            let text = |key: &str| match table.get(key) {
                None => Ok(None),
                Some(Value::String(text)) => Ok(Some(text.clone())),
                Some(other) => Err(format!("config key `rules.{name}.{key}` must be a string, got {other}")),
            };
            let confidence = match table.get("confidence") {
                None => None,
                Some(value) => Some(value.as_str().and_then(Confidence::parse).ok_or_else(|| {
                    format!(
                        "config key `rules.{name}.confidence` must be \"high\" or \"ambiguous\", got {value} \
                         (ambiguous rules leave the `skip` fields alone)"
                    )
                })?),
            };
            let (pattern, replacement) = (text("pattern")?, text("replacement")?);
            let draft = match builtin {
                Some(rule) => switch_on(drafts, rule),
                None => {
                    if !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')) {
                        return Err(format!("{at}: a rule name may hold only letters, digits, `_`, `-` and `.`"));
                    }
                    let pattern = pattern
                        .clone()
                        .ok_or_else(|| format!("{at}: `{name}` is not a built-in rule, so it needs a `pattern`"))?;
                    // A pattern written for a secret is taken to mean it wherever
                    // it appears, correlation ids included, unless marked ambiguous.
                    drafts.push(Draft {
                        name: name.to_owned(),
                        pattern,
                        confirm: None,
                        confidence: Confidence::High,
                        mode: None,
                        replacement: None,
                    });
                    drafts.last_mut().expect("just pushed")
                }
            };
            if let Some(pattern) = pattern {
                draft.pattern = pattern;
                // The checks belong to the built-in pattern.
                draft.confirm = None;
            }
            draft.confidence = confidence.unwrap_or(draft.confidence);
            draft.mode = mode.or(draft.mode);
            draft.replacement = replacement.or(draft.replacement.take());
        }
        other => {
            return Err(format!(
                "{at} must be true, false, \"mask\", \"hash\", \"drop\" or a table \
                 {{ pattern, mode, replacement, confidence }}, got {other}"
            ));
        }
    }
    Ok(())
}

/// The draft of built-in `rule`, added in its built-in place if it was off:
/// the built-in order decides which rule claims a match.
fn switch_on<'d>(drafts: &'d mut Vec<Draft>, rule: &Builtin) -> &'d mut Draft {
    let index = match drafts.iter().position(|draft| draft.name == rule.name) {
        Some(index) => index,
        None => {
            let rank = |name: &str| BUILTIN.iter().position(|b| b.name == name).unwrap_or(usize::MAX);
            let at = drafts.iter().position(|d| rank(&d.name) > rank(rule.name)).unwrap_or(drafts.len());
            drafts.insert(at, Draft::builtin(rule));
            at
        }
    };
    &mut drafts[index]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const KEY: &str = "0123456789abcdef0123456789abcdef";

    fn names(settings: &Settings) -> Vec<&str> {
        settings.rules.iter().map(|r| r.name.as_str()).collect()
    }

    fn rule<'s>(settings: &'s Settings, name: &str) -> &'s RuleSpec {
        settings.rules.iter().find(|r| r.name == name).unwrap()
    }

    #[test]
    fn defaults_to_every_built_in_rule_masking_with_its_name() {
        let settings = Settings::parse(&json!({})).unwrap();
        assert_eq!(names(&settings), BUILTIN.iter().map(|r| r.name).collect::<Vec<_>>());
        assert!(settings.rules.iter().all(|r| r.mode == Mode::Mask));
        assert_eq!(rule(&settings, "email").marker, "[REDACTED:email]");
        assert!(settings.skip.contains(&vec!["trace".to_owned(), "id".to_owned()]));
        assert_eq!(settings.paths, None);
        assert!(!settings.keys);
    }

    #[test]
    fn rules_take_switches_modes_and_tables() {
        let settings = Settings::parse(&json!({
            "hash_key": KEY,
            "rules": {"phone": false, "email": "hash", "card_number": {"mode": "drop", "replacement": "[CARD]"},
                      "employee_id": {"pattern": "EMP-[0-9]{6}", "mode": "drop"}},
        }))
        .unwrap();
        assert!(!names(&settings).contains(&"phone"));
        assert_eq!(rule(&settings, "email").mode, Mode::Hash);
        assert_eq!(rule(&settings, "card_number").mode, Mode::Drop);
        assert_eq!(rule(&settings, "card_number").marker, "[CARD]");
        assert_eq!(rule(&settings, "employee_id").mode, Mode::Drop);
        assert_eq!(names(&settings).last(), Some(&"employee_id"));
    }

    #[test]
    fn confidence_comes_from_the_built_in_is_high_for_rules_of_your_own_and_can_be_set() {
        let settings = Settings::parse(&json!({"rules": {
            "employee_id": {"pattern": "EMP-[0-9]{6}"},
            "ticket": {"pattern": "T-[0-9]{8}", "confidence": "ambiguous"},
            "card_number": {"pattern": "[0-9]{16}"},
            "phone": {"confidence": "high"},
            "jwt": {"confidence": "ambiguous"},
        }}))
        .unwrap();
        assert_eq!(rule(&settings, "employee_id").confidence, Confidence::High);
        assert_eq!(rule(&settings, "ticket").confidence, Confidence::Ambiguous);
        assert_eq!(rule(&settings, "card_number").confidence, Confidence::Ambiguous, "a new pattern keeps it");
        assert_eq!(rule(&settings, "phone").confidence, Confidence::High);
        assert_eq!(rule(&settings, "jwt").confidence, Confidence::Ambiguous);
        assert_eq!(rule(&settings, "aws_access_key").confidence, Confidence::High);
        assert_eq!(rule(&settings, "iban").confidence, Confidence::Ambiguous);
    }

    #[test]
    fn global_mode_and_replacement_apply_to_rules_that_do_not_say() {
        let settings = Settings::parse(
            &json!({"mode": "hash", "hash_key": KEY, "replacement": "<{rule}>", "rules": {"jwt": "mask"}}),
        )
        .unwrap();
        assert_eq!(rule(&settings, "email").mode, Mode::Hash);
        assert_eq!(rule(&settings, "jwt").mode, Mode::Mask);
        assert_eq!(rule(&settings, "jwt").marker, "<jwt>");
    }

    #[test]
    fn defaults_off_picks_rules_in_built_in_order() {
        let settings =
            Settings::parse(&json!({"defaults": false, "rules": {"email": true, "aws_access_key": "mask"}})).unwrap();
        assert_eq!(names(&settings), ["aws_access_key", "email"]);
    }

    #[test]
    fn a_pattern_for_a_built_in_replaces_it_without_its_checks() {
        let settings = Settings::parse(&json!({"rules": {"card_number": {"pattern": "[0-9]{16}"}}})).unwrap();
        let card = rule(&settings, "card_number");
        assert_eq!(card.pattern, "[0-9]{16}");
        assert!(card.confirm.is_none());
    }

    #[test]
    fn paths_and_skip_are_dotted_lists() {
        let settings = Settings::parse(&json!({"paths": ["prompt.text", "tool.*"], "skip": []})).unwrap();
        assert_eq!(settings.paths.unwrap()[1], ["tool", "*"]);
        assert!(settings.skip.is_empty());
    }

    #[test]
    fn errors_name_the_bad_key() {
        let error = |config: Value| Settings::parse(&config).unwrap_err();
        assert!(error(json!({"rule": {}})).contains("unknown config key `rule`"));
        assert!(error(json!({"defaults": 1})).contains("`defaults`"));
        assert!(error(json!({"keys": "yes"})).contains("`keys`"));
        assert!(error(json!({"mode": "scramble"})).contains("`mode`"));
        assert!(error(json!({"replacement": 1})).contains("`replacement`"));
        assert!(error(json!({"skip": "trace.id"})).contains("`skip`"));
        assert!(error(json!({"paths": []})).contains("`paths` is empty"));
        assert!(error(json!({"paths": ["a..b"]})).contains("`paths`"));
        assert!(error(json!({"hash_key": "short"})).contains("`hash_key` must be at least 32 bytes"));
        assert!(error(json!({"rules": {"mail": false}})).contains("`rules.mail`: there is no built-in rule"));
        assert!(error(json!({"rules": {"mail": "hash"}})).contains("`rules.mail`: there is no built-in rule"));
        assert!(error(json!({"rules": {"email": 3}})).contains("`rules.email` must be"));
        assert!(error(json!({"rules": {"email": "EMP-[0-9]+"}})).contains("`rules.email` must be"));
        assert!(error(json!({"rules": {"email": {"mode": "x"}}})).contains("`rules.email.mode`"));
        assert!(error(json!({"rules": {"email": {"modes": "hash"}}})).contains("`rules.email.modes`"));
        assert!(error(json!({"rules": {"email": {"confidence": "low"}}})).contains("`rules.email.confidence`"));
        assert!(error(json!({"rules": {"email": {"confidence": true}}})).contains("`rules.email.confidence`"));
        assert!(error(json!({"rules": {"mine": {"mode": "drop"}}})).contains("`rules.mine`: `mine` is not a built-in"));
        assert!(error(json!({"rules": {"a b": {"pattern": "x"}}})).contains("`rules.a b`"));
    }

    #[test]
    fn hash_without_a_key_is_refused_naming_the_rule() {
        let error = Settings::parse(&json!({"rules": {"email": "hash"}})).unwrap_err();
        assert!(
            error.starts_with("config key `rules.email`: mode \"hash\" needs the config key `hash_key`"),
            "{error}"
        );
        let error = Settings::parse(&json!({"mode": "hash"})).unwrap_err();
        assert!(error.starts_with("config key `mode`: mode \"hash\" needs"), "{error}");
        assert!(Settings::parse(&json!({"mode": "hash", "hash_key": KEY})).is_ok());
    }
}
