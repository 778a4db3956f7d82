//! The built-in detectors: what each one finds, in the order they run.
//!
//! Order matters because a match is replaced before the next rule looks.
//! Token shapes run first, so that a secret is masked exactly as its own
//! pattern says wherever it sits (`Bearer jane@example.com`, `api_key=sk-…`);
//! the rules that keep a key and mask its value (`Bearer …`, `password=…`)
//! run last and mask whatever the shapes left, skipping values that are
//! already the marker. A rule may name a capture group `secret`: then only
//! that group is masked and the rest of the match (the key) is kept.
//!
//! The four shapes of the P1 benchmark (`AKIA…`, `sk-…`, e-mail, 16 digits)
//! are matched without word boundaries, exactly as its reference masks them,
//! so nothing the reference would catch gets through.

/// Names that say the value beside them is a secret, for `name=value` text
/// and for object members alike.
macro_rules! secret_names {
    () => {
        concat!(
            r"password|passwd|passphrase|secret|client_secret|api[_-]?key|",
            r"access[_-]?token|auth[_-]?token|refresh[_-]?token|private[_-]?key"
        )
    };
}

/// A built-in rule.
pub struct Builtin {
    pub name: &'static str,
    pub pattern: &'static str,
    /// A check a match must pass to count (checksums), if any.
    pub validate: Option<fn(&str) -> bool>,
}

pub const BUILTIN: &[Builtin] = &[
    Builtin {
        name: "private_key",
        pattern: r"-----BEGIN [A-Z ]*PRIVATE KEY-----(?s:.*?)(?:-----END [A-Z ]*PRIVATE KEY-----|$)",
        validate: None,
    },
    Builtin { name: "aws_access_key", pattern: r"(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}", validate: None },
    Builtin { name: "anthropic_key", pattern: r"sk-ant-[A-Za-z0-9_-]{20,}", validate: None },
    Builtin {
        name: "openai_key",
        pattern: r"sk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,}|[A-Za-z0-9]{32,})",
        validate: None,
    },
    Builtin {
        name: "github_token",
        pattern: r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})",
        validate: None,
    },
    Builtin { name: "gitlab_token", pattern: r"\bglpat-[A-Za-z0-9_-]{20,}", validate: None },
    Builtin { name: "slack_token", pattern: r"\bxox[abposr]-[A-Za-z0-9-]{10,}", validate: None },
    Builtin { name: "google_api_key", pattern: r"\bAIza[0-9A-Za-z_-]{35}", validate: None },
    Builtin { name: "stripe_key", pattern: r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}", validate: None },
    Builtin { name: "jwt", pattern: r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*", validate: None },
    Builtin {
        name: "url_password",
        pattern: r"\b[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]+:(?P<secret>[^/\s@]+)@",
        validate: None,
    },
    Builtin {
        name: "iban",
        pattern: r"\b[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b",
        validate: Some(iban_ok),
    },
    Builtin { name: "email", pattern: r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}", validate: None },
    Builtin {
        name: "card_number",
        pattern: r"[0-9]{16}|\b[0-9]{4}(?:[ -][0-9]{4}){3}\b",
        validate: Some(card_number_ok),
    },
    Builtin { name: "us_ssn", pattern: r"\b[0-9]{3}-[0-9]{2}-[0-9]{4}\b", validate: None },
    Builtin {
        name: "bearer_token",
        pattern: concat!(
            r"(?i)(?:\bbearer\s+|\bauthorization\s*[:=]\s*(?:(?:basic|token)\s+)?)",
            r"(?P<secret>[A-Za-z0-9._~+/-]{8,}=*)"
        ),
        validate: None,
    },
    Builtin {
        name: "password",
        pattern: concat!(r"(?i)\b(?:", secret_names!(), r#")["']?\s*[:=]\s*["']?(?P<secret>[^\s"'&,;]+)"#),
        validate: None,
    },
    Builtin {
        name: "aws_secret_key",
        pattern: r#"(?i)\baws_?secret_?(?:access_?)?key["']?\s*[:=]\s*["']?(?P<secret>[A-Za-z0-9/+=]{40})"#,
        validate: None,
    },
];

/// Object members whose whole string value is a secret whatever it looks
/// like (`{"password": "hunter2"}`); part of the `password` rule.
pub const SECRET_MEMBER: &str = concat!(r"(?i)^(?:", secret_names!(), r"|authorization|token)$");

/// The rule that owns [`SECRET_MEMBER`].
pub const SECRET_MEMBER_RULE: &str = "password";

/// A bare run of 16 digits is masked as the P1 reference does; a grouped
/// number (`4111 1111 1111 1111`) must also pass the Luhn check, because
/// grouped digits are common in other identifiers.
fn card_number_ok(text: &str) -> bool {
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return true;
    }
    let digits: Vec<u32> = text.chars().filter_map(|c| c.to_digit(10)).collect();
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| if i % 2 == 1 { if d * 2 > 9 { d * 2 - 9 } else { d * 2 } } else { d })
        .sum();
    sum.is_multiple_of(10)
}

/// ISO 13616 check digits: the rearranged number modulo 97 is 1.
fn iban_ok(text: &str) -> bool {
    let compact: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
    if !(15..=34).contains(&compact.len()) {
        return false;
    }
    let rearranged = compact[4..].iter().chain(&compact[..4]);
    let mut remainder: u32 = 0;
    for c in rearranged {
        let value = match c.to_digit(36) {
            Some(v) => v,
            None => return false,
        };
        remainder = if value < 10 { (remainder * 10 + value) % 97 } else { (remainder * 100 + value) % 97 };
    }
    remainder == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_applies_to_grouped_numbers_only() {
        assert!(card_number_ok("4111111111111112"), "bare 16 digits always count");
        assert!(card_number_ok("4111 1111 1111 1111"));
        assert!(card_number_ok("4111-1111-1111-1111"));
        assert!(!card_number_ok("4111 1111 1111 1112"));
    }

    #[test]
    fn iban_check_digits() {
        assert!(iban_ok("GB82 WEST 1234 5698 7654 32"));
        assert!(iban_ok("DE89370400440532013000"));
        assert!(!iban_ok("DE89370400440532013001"));
        assert!(!iban_ok("AB12CDEF"));
    }

    #[test]
    fn names_are_unique() {
        let mut names: Vec<_> = BUILTIN.iter().map(|r| r.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), BUILTIN.len());
    }
}
