//! The built-in detectors: what each one finds, and the order they claim text in.
//!
//! Order decides which rule a piece of text is counted under when two rules
//! find it: the token shapes with a fixed prefix come first, so that
//! `api_key=sk-…` is counted as an OpenAI key; personal data comes next; the
//! rules that find a secret by the name beside it (`Bearer …`, `password=…`)
//! come last and take what the shapes left. A rule may name capture groups
//! `secret…`: then only the first of them that took part is the secret, and
//! the rest of the match (the name, the scheme) stays readable.
//!
//! The patterns are written for the `regex` crate's automata (no look-around),
//! so everything a pattern cannot say — checksums, issuer ranges, "not part of
//! a longer number" — is said by the rule's check in module `checks`.
//!
//! Each rule says how sure it is ([`Confidence`]). The correlation ids on the
//! `skip` list are looked at by the high-confidence rules only: a JWT or an
//! API key is never a legitimate trace id, but a digit run in one is no card
//! number. Token shapes, private keys and the rules that find a secret by
//! the name beside it are high-confidence; the personal-data shapes (e-mail,
//! IBAN, card, social-security and phone numbers) are ambiguous.
//!
//! Word boundaries are ASCII (`(?-u:\b)`): a secret next to Japanese or
//! accented text (`口座DE89…`, `clé:ghp_…`) is still at a boundary, and the
//! lazy DFA keeps working on non-ASCII text, which it cannot do with Unicode
//! boundaries. Where a rule needs a boundary it also accepts a literal JSON
//! escape before the name (`\n`, `\u00e9`: `start!`), the way text looks when
//! JSON was encoded twice (a tool's result holding JSON).

use crate::checks::{self, Confirm};

/// Where a named secret may start: at an ASCII word boundary, or right after
/// a literal JSON escape (`\n`, `\r`, `\t`, `\u00e9`).
macro_rules! start {
    () => {
        r"(?:\\[nrt]|\\u[0-9A-Fa-f]{4}|(?-u:\b))"
    };
}

/// Names that say the value beside them is a secret. An identifier that ends
/// in one counts too (`DB_PASSWORD`, `stripe.webhook_secret`, `x-api-key`),
/// as does one that ends in `_token`/`-token` (`GITHUB_TOKEN`), but not a bare
/// `token` (`token: 812` counts language-model tokens far more often).
macro_rules! secret_names {
    () => {
        concat!(
            r"(?:[A-Za-z0-9]+[_.-])*(?:password|passwd|passphrase|secret|client[_-]?secret|api[_-]?secret|",
            r"api[_-]?key|apikey|access[_-]?key|secret[_-]?key|private[_-]?key|signing[_-]?key|",
            r"access[_-]?token|auth[_-]?token|refresh[_-]?token|session[_-]?token|id[_-]?token|",
            r"(?:[A-Za-z0-9]+[_-])token)"
        )
    };
}

/// An optional quote around a name or value, JSON-escaped or not (`"`, `\"`, `'`).
macro_rules! quote {
    () => {
        r#"(?:\\?["'])?"#
    };
}

/// How sure a rule is that what it finds is a secret wherever it finds it,
/// which decides whether it looks in the fields on the `skip` list (the
/// correlation ids: `event.id`, `session.id`, `trace.id` …).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confidence {
    /// What it finds is never a legitimate id (a key with its issuer's
    /// prefix, a JWT, a private-key block, a secret by the name beside it),
    /// so it looks everywhere, the skipped fields included.
    High,
    /// What it finds is plausible inside an id (a digit run, a phone-like
    /// number, an IBAN-shaped code, an address as a user's key), and masking
    /// it there would break the SIEM's joins: it leaves skipped fields alone.
    Ambiguous,
}

impl Confidence {
    pub fn parse(text: &str) -> Option<Confidence> {
        [Confidence::High, Confidence::Ambiguous].into_iter().find(|confidence| confidence.as_str() == text)
    }

    /// The word the config and the docs use.
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::High => "high",
            Confidence::Ambiguous => "ambiguous",
        }
    }
}

/// A built-in rule.
pub struct Builtin {
    pub name: &'static str,
    pub pattern: &'static str,
    /// The check a match must pass, which may narrow it to the secrets inside.
    pub confirm: Option<Confirm>,
    pub confidence: Confidence,
}

pub const BUILTIN: &[Builtin] = &[
    Builtin {
        name: "private_key",
        pattern: concat!(
            r"-----BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----(?s:.*?)",
            // A block cut off by a length limit is masked to the end.
            r"(?:-----END[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----|\z)"
        ),
        confirm: None,
        confidence: Confidence::High,
    },
    Builtin {
        name: "jwt",
        pattern: r"eyJ[A-Za-z0-9_-]{8,}\.ey[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*",
        confirm: None,
        confidence: Confidence::High,
    },
    Builtin {
        name: "aws_access_key",
        pattern: r"(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}",
        confirm: None,
        confidence: Confidence::High,
    },
    Builtin {
        name: "anthropic_key",
        pattern: r"sk-ant-[A-Za-z0-9_-]{20,}",
        confirm: None,
        confidence: Confidence::High,
    },
    Builtin {
        name: "openai_key",
        // A boundary before `sk-`: `task-0123…` (32 hex digits) is an id.
        pattern: concat!(start!(), r"(?P<secret>sk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,}|[A-Za-z0-9]{32,}))"),
        confirm: None,
        confidence: Confidence::High,
    },
    Builtin {
        name: "github_token",
        pattern: r"gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,}",
        confirm: None,
        confidence: Confidence::High,
    },
    Builtin {
        name: "gitlab_token",
        pattern: r"gl(?:pat|dt|ptt|rt|cbt|soat|ft|imt|agent|oas)-[0-9A-Za-z_-]{20,}|GR1348941[0-9A-Za-z_-]{20,}",
        confirm: None,
        confidence: Confidence::High,
    },
    Builtin {
        name: "slack_token",
        pattern: concat!(
            r"xox[abposre]-[0-9A-Za-z-]{10,}|xapp-[0-9]-[0-9A-Za-z-]{10,}|",
            r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[0-9A-Za-z/_-]{10,}"
        ),
        confirm: None,
        confidence: Confidence::High,
    },
    Builtin { name: "google_api_key", pattern: r"AIza[0-9A-Za-z_-]{35}", confirm: None, confidence: Confidence::High },
    Builtin {
        name: "google_oauth_token",
        pattern: r"ya29\.[0-9A-Za-z_-]{20,}|GOCSPX-[0-9A-Za-z_-]{20,}|1//0[0-9A-Za-z_-]{30,}",
        confirm: None,
        confidence: Confidence::High,
    },
    Builtin {
        name: "stripe_key",
        pattern: r"(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,}|whsec_[0-9A-Za-z]{24,}",
        confirm: None,
        confidence: Confidence::High,
    },
    Builtin {
        name: "url_password",
        pattern: r"[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*:(?P<secret>[^/\s@]+)@",
        confirm: Some(checks::not_placeholder),
        confidence: Confidence::High,
    },
    Builtin {
        name: "email",
        // Local part and domain take Latin letters with diacritics
        // (`jürgen@…`), so that no part of such an address is left behind.
        pattern: concat!(
            r"[A-Za-z0-9._%+\x{C0}-\x{24F}-]+@[A-Za-z0-9\x{C0}-\x{24F}-]+",
            r"(?:\.[A-Za-z0-9\x{C0}-\x{24F}-]+)*\.[A-Za-z]{2,}"
        ),
        confirm: Some(checks::email),
        confidence: Confidence::Ambiguous,
    },
    Builtin {
        name: "iban",
        pattern: r"[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?",
        confirm: Some(checks::iban),
        confidence: Confidence::Ambiguous,
    },
    Builtin {
        name: "card_number",
        // A run of at least 13 digits with single spaces or dashes between;
        // the check finds the card numbers in it.
        pattern: r"[0-9](?:[ -]?[0-9]){12,}",
        confirm: Some(checks::card_number),
        confidence: Confidence::Ambiguous,
    },
    Builtin {
        name: "us_ssn",
        pattern: concat!(
            r"[0-9]{3}-[0-9]{2}-[0-9]{4}|",
            start!(),
            r"(?i:ssn|social security(?: number| no\.?)?)[^0-9A-Za-z\n]{0,4}",
            r"(?P<secret>[0-9]{3}[ -]?[0-9]{2}[ -]?[0-9]{4})"
        ),
        confirm: Some(checks::us_ssn),
        confidence: Confidence::Ambiguous,
    },
    Builtin {
        name: "phone",
        pattern: concat!(
            // International, E.164 with or without separators: +1 (415) 555-0132, +442079460958.
            r"\+[1-9](?:[ .()-]{0,2}[0-9]){7,14}|",
            // North American with separators: (415) 555-0132, 1-800-555-0199, 415.555.0132.
            r"(?:1[ -]?)?(?:\([2-9][0-9]{2}\)[ .-]?|[2-9][0-9]{2}[ .-])[2-9][0-9]{2}[ .-][0-9]{4}|",
            // A trunk 0 and at least one separator: 020 7946 0958, 07700 900123, 030 12345678.
            r"0[1-9][0-9]{1,3}[ -][0-9]{3,4}[ -]?[0-9]{3,4}|",
            // Pairs: 06 12 34 56 78.
            r"0[1-9](?:[ .-][0-9]{2}){4}|",
            // Any digits after a label: phone: 4155550132, tel:+1-415-555-0132.
            start!(),
            r"(?i:phone|tel|telephone|mobile|fax|whatsapp)(?i:[ _-]?(?:no|num|number))?\.?",
            quote!(),
            r"[ \t]*[:=#]?[ \t]*",
            quote!(),
            r"(?P<secret>\+?[0-9](?:[ .()-]{0,2}[0-9]){6,14})"
        ),
        confirm: Some(checks::phone),
        confidence: Confidence::Ambiguous,
    },
    Builtin {
        name: "aws_secret_key",
        // Forty characters of base64 are everywhere (git ids are forty hex
        // digits), so only the name beside it tells an AWS secret key.
        pattern: concat!(
            start!(),
            r"(?i:(?:[A-Za-z0-9]+[_.-])*(?:aws_?secret_?(?:access_?)?key|secret_?access_?key))",
            quote!(),
            r"[ \t]*[:=][ \t]*",
            quote!(),
            r"(?P<secret>[A-Za-z0-9/+=]{40})"
        ),
        confirm: None,
        confidence: Confidence::High,
    },
    Builtin {
        name: "bearer_token",
        pattern: concat!(
            start!(),
            r"(?i:bearer[ \t]+|(?:proxy-)?authorization",
            quote!(),
            r"[ \t]*[:=][ \t]*",
            quote!(),
            r"(?:(?:bearer|basic|token|digest|negotiate|apikey|sso-key)[ \t]+)?)",
            r"(?P<secret>[A-Za-z0-9._~+/-]{8,}=*)"
        ),
        confirm: Some(checks::bearer),
        confidence: Confidence::High,
    },
    Builtin {
        name: "password",
        pattern: concat!(
            start!(),
            r"(?i:",
            secret_names!(),
            r")",
            quote!(),
            r"[ \t]*(?:",
            // After `=` (queries, env files, CLI flags) `&` ends the value;
            // after `:` (YAML, headers, JSON) it is part of it.
            r#"=[ \t]*\\?["'](?P<secret_eq_quoted>[^"'\\\r\n]+)|=[ \t]*(?P<secret_eq>[^\s"'\\&,;<>]+)|"#,
            r#":[ \t]*\\?["'](?P<secret_quoted>[^"'\\\r\n]+)|:[ \t]*(?P<secret>[^\s"'\\,;<>]+))|"#,
            // `--password hunter2` on a command line.
            r"--(?i:",
            secret_names!(),
            r#")[ \t]+(?P<secret_arg>[^\s"'-][^\s"']*)"#
        ),
        confirm: Some(checks::not_placeholder),
        confidence: Confidence::High,
    },
];

/// Object members whose whole string value is a secret whatever it looks
/// like (`{"password": "hunter2"}`, `{"Authorization": "…"}`); part of the
/// `password` rule.
pub const SECRET_MEMBER: &str =
    concat!(r"(?i)^(?:", secret_names!(), r"|token|authorization|proxy-authorization|cookie|set-cookie)$");

/// The rule that owns [`SECRET_MEMBER`].
pub const SECRET_MEMBER_RULE: &str = "password";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_patterns_compile() {
        let mut names: Vec<_> = BUILTIN.iter().map(|r| r.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), BUILTIN.len());
        for rule in BUILTIN {
            regex::Regex::new(rule.pattern).unwrap_or_else(|err| panic!("{}: {err}", rule.name));
        }
        regex::Regex::new(SECRET_MEMBER).unwrap();
    }

    #[test]
    fn secret_member_names() {
        let member = regex::Regex::new(SECRET_MEMBER).unwrap();
        for name in ["password", "DB_PASSWORD", "client_secret", "x-api-key", "token", "GITHUB_TOKEN", "Cookie"] {
            assert!(member.is_match(name), "{name}");
        }
        for name in ["user", "max_tokens", "token_count", "secret_name", "passwords_reset", "keyboard"] {
            assert!(!member.is_match(name), "{name}");
        }
    }
}
