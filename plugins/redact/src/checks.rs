//! The checks a built-in rule's matches must pass: checksums (Luhn, ISO 13616),
//! issuer and numbering ranges, and "is this number standing on its own".
//!
//! A pattern finds candidates; a check decides which of them are secrets, and
//! may narrow a candidate to the secrets inside it (a run of grouped digits
//! holding a card number and an expiry date). Checks are where the
//! false-positive budget is won: most numbers in agent logs are ids,
//! timestamps, versions and amounts.

use std::ops::Range;

/// One match of a rule's pattern: the whole match and the part that is the
/// secret (the `secret…` group, or the whole match).
#[derive(Debug, Clone)]
pub struct Hit {
    pub whole: Range<usize>,
    pub secret: Range<usize>,
}

/// Confirms a hit in `text`, pushing the byte ranges that are secrets.
pub type Confirm = fn(text: &str, hit: &Hit, found: &mut Vec<Range<usize>>);

/// Values that stand in for a secret rather than being one: `password=null`,
/// `api_key: ${OPENAI_API_KEY}`, `secret=********`.
pub fn not_placeholder(text: &str, hit: &Hit, found: &mut Vec<Range<usize>>) {
    if !is_placeholder(&text[hit.secret.clone()]) {
        found.push(hit.secret.clone());
    }
}

fn is_placeholder(value: &str) -> bool {
    const WORDS: &[&str] = &[
        "null",
        "none",
        "nil",
        "true",
        "false",
        "undefined",
        "required",
        "optional",
        "string",
        "redacted",
        "hidden",
        "empty",
        "n/a",
        "unset",
        "masked",
    ];
    let lower = value.to_ascii_lowercase();
    WORDS.contains(&lower.as_str())
        || value.starts_with('$')
        || value.starts_with("{{")
        || value.starts_with("%(")
        || (value.starts_with('<') && value.ends_with('>'))
        || (value.len() >= 3 && value.bytes().all(|b| matches!(b, b'*' | b'x' | b'X' | b'.' | b'#')))
}

/// E-mail addresses, except two shapes that only look like one: the `git@`
/// user of SSH remotes (`git@github.com:org/repo.git`) and image names with a
/// pixel-density suffix (`icon@2x.png`).
pub fn email(text: &str, hit: &Hit, found: &mut Vec<Range<usize>>) {
    let before = &text[..hit.secret.start];
    if before.ends_with(|c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '%' | '+' | '-')) {
        // A search resumed inside an address (module `redactor`): the whole
        // address was already judged.
        return;
    }
    if in_url_userinfo(before) {
        // `scheme://user:pa55@host`: a password and a host, for `url_password`.
        return;
    }
    let address = &text[hit.secret.clone()];
    let Some((local, domain)) = address.split_once('@') else { return };
    let first_label = domain.split('.').next().unwrap_or("");
    let density = first_label.len() > 1
        && first_label.ends_with(['x', 'X'])
        && first_label[..first_label.len() - 1].bytes().all(|b| b.is_ascii_digit());
    if !local.eq_ignore_ascii_case("git") && !density {
        found.push(hit.secret.clone());
    }
}

/// Whether `before` ends inside the user part of a URL, after its colon
/// (`postgres://admin:`).
fn in_url_userinfo(before: &str) -> bool {
    match before.rfind("://") {
        Some(at) => {
            let userinfo = &before[at + 3..];
            userinfo.contains(':') && !userinfo.contains(|c: char| c == '/' || c == '@' || c.is_whitespace())
        }
        None => false,
    }
}

/// A bearer token or `Authorization` credential: something token-like, not
/// the next word of a sentence (`the bearer of bad news`, `authorization:
/// required`). Real tokens are random: they hold a digit, or are long and of
/// mixed case.
pub fn bearer(text: &str, hit: &Hit, found: &mut Vec<Range<usize>>) {
    let token = &text[hit.secret.clone()];
    let digit = token.bytes().any(|b| b.is_ascii_digit());
    let mixed = token.bytes().any(|b| b.is_ascii_uppercase()) && token.bytes().any(|b| b.is_ascii_lowercase());
    if !is_placeholder(token) && (digit || (token.len() >= 16 && mixed)) {
        found.push(hit.secret.clone());
    }
}

/// Payment card numbers in a run of digits: 13 to 19 digits that pass the
/// Luhn check and start with a card network's issuer number, written whole
/// (`4111111111111111`) or in the groups cards print (`4111 1111 1111 1111`,
/// `3782 822463 10005`). A run may hold more than one number, or a card and
/// something else (`4111 1111 1111 1111 12 29`).
pub fn card_number(text: &str, hit: &Hit, found: &mut Vec<Range<usize>>) {
    let mut run = hit.secret.clone();
    // In twice-encoded JSON a `\u00e9` escape may run into the number; its
    // hex digits are not the card's.
    if let Some(k) = (1..=4).find(|&k| run.start + k < run.end && escape_before(text, run.start + k)) {
        run.start += k;
    }
    if !stands_alone(text, run.clone()) {
        return;
    }
    // The digit groups of the run, as byte ranges of `text`.
    let mut groups: Vec<Range<usize>> = Vec::new();
    for (offset, byte) in text[run.clone()].bytes().enumerate() {
        let at = run.start + offset;
        match groups.last_mut() {
            Some(group) if byte.is_ascii_digit() && group.end == at => group.end = at + 1,
            _ if byte.is_ascii_digit() => groups.push(at..at + 1),
            _ => {}
        }
    }
    let mut first = 0;
    while first < groups.len() {
        // The longest card starting at this group, if any.
        let mut best = None;
        let mut digits = String::new();
        for last in first..groups.len() {
            digits.push_str(&text[groups[last].clone()]);
            if digits.len() > 19 {
                break;
            }
            if grouped_like_a_card(&groups[first..=last]) && is_card_number(digits.as_bytes()) {
                best = Some(last);
            }
        }
        match best {
            Some(last) => {
                found.push(groups[first].start..groups[last].end);
                first = last + 1;
            }
            None => first += 1,
        }
    }
}

/// One unbroken group, or groups as cards print them: four digits first,
/// then groups of four to six, the last of three to six.
fn grouped_like_a_card(groups: &[Range<usize>]) -> bool {
    match groups {
        [only] => only.len() >= 13,
        [first, middle @ .., last] => {
            first.len() == 4 && middle.iter().all(|g| (4..=6).contains(&g.len())) && (3..=6).contains(&last.len())
        }
        [] => false,
    }
}

/// Luhn and an issuer number with a length that network issues.
fn is_card_number(digits: &[u8]) -> bool {
    let n = digits.len();
    let prefix = |len: usize| -> u32 { digits[..len].iter().fold(0, |acc, d| acc * 10 + u32::from(d - b'0')) };
    let issued = match digits[0] {
        // Visa.
        b'4' => matches!(n, 13 | 16 | 19),
        // Mastercard 51–55 and 2221–2720; Mir 2200–2204.
        b'5' => (51..=55).contains(&prefix(2)) && n == 16 || maestro(prefix(4)) && n >= 13,
        b'2' => (2221..=2720).contains(&prefix(4)) && n == 16 || (2200..=2204).contains(&prefix(4)) && n >= 16,
        // American Express 34, 37; JCB 3528–3589; Diners 300–305, 36, 38, 39.
        b'3' => match prefix(2) {
            34 | 37 => n == 15,
            35 => (3528..=3589).contains(&prefix(4)) && n >= 16,
            30 => (300..=305).contains(&prefix(3)) && n >= 14,
            36 | 38 | 39 => n >= 14,
            _ => false,
        },
        // Discover 6011, 644–649, 65; UnionPay 62; Maestro.
        b'6' => {
            (prefix(4) == 6011 || (644..=649).contains(&prefix(3)) || prefix(2) == 65 || prefix(2) == 62) && n >= 16
                || maestro(prefix(4)) && n >= 13
        }
        _ => false,
    };
    issued && luhn(digits)
}

fn maestro(prefix4: u32) -> bool {
    matches!(prefix4, 5018 | 5020 | 5038 | 5893 | 6304 | 6759 | 6761..=6763)
}

/// The Luhn checksum (ISO/IEC 7812-1) of ASCII digits.
pub fn luhn(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            let d = u32::from(d - b'0');
            if i % 2 == 1 { if d > 4 { d * 2 - 9 } else { d * 2 } } else { d }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// US social security numbers: 123-45-6789 standing alone, or nine digits
/// after an `SSN` label, in the ranges the SSA issues (area not 000, 666 or
/// 900–999, group not 00, serial not 0000).
pub fn us_ssn(text: &str, hit: &Hit, found: &mut Vec<Range<usize>>) {
    let digits: Vec<u8> = text[hit.secret.clone()].bytes().filter(u8::is_ascii_digit).collect();
    if digits.len() != 9 || !stands_alone(text, hit.secret.clone()) {
        return;
    }
    let number = |range: Range<usize>| digits[range].iter().fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'));
    let (area, group, serial) = (number(0..3), number(3..5), number(5..9));
    if area != 0 && area != 666 && area < 900 && group != 0 && serial != 0 {
        found.push(hit.secret.clone());
    }
}

/// Phone numbers: international (`+` and 8–15 digits, E.164's limit), North
/// American (10 or 11 digits with separators), national with a trunk 0 (9–12
/// digits) or any 7–15 digits after a label (`phone:`, `tel:`). They must
/// stand alone (not inside a longer number, id or version) and not read as a
/// decimal amount (`+1234567.89`).
pub fn phone(text: &str, hit: &Hit, found: &mut Vec<Range<usize>>) {
    let number = &text[hit.secret.clone()];
    let digits = number.bytes().filter(u8::is_ascii_digit).count();
    let labelled = hit.whole != hit.secret;
    let allowed = if labelled {
        7..=15
    } else if number.starts_with('+') {
        8..=15
    } else if number.starts_with('0') {
        9..=12
    } else {
        10..=11
    };
    let opens = number.bytes().filter(|&b| b == b'(').count();
    let closes = number.bytes().filter(|&b| b == b')').count();
    let decimal = number.bytes().filter(|&b| b == b'.').count() == 1
        && number.rsplit_once('.').is_some_and(|(_, tail)| tail.len() <= 2 && !tail.is_empty());
    if allowed.contains(&digits) && opens == closes && !decimal && stands_alone(text, hit.secret.clone()) {
        found.push(hit.secret.clone());
    }
}

/// International bank account numbers: a country that issues IBANs, exactly
/// that country's length, and ISO 13616 check digits (the rearranged number
/// modulo 97 is 1). The pattern's match may start early (`AB12 DE89 3704 …`)
/// or run on into the next word, so every place in it where an IBAN could
/// start is tried, and the IBAN is cut at its country's length.
pub fn iban(text: &str, hit: &Hit, found: &mut Vec<Range<usize>>) {
    let span = &text[hit.secret.clone()];
    let bytes = span.as_bytes();
    let mut at = 0;
    while at + 4 <= bytes.len() {
        let opens = bytes[at].is_ascii_uppercase()
            && bytes[at + 1].is_ascii_uppercase()
            && bytes[at + 2].is_ascii_digit()
            && bytes[at + 3].is_ascii_digit();
        if opens && let Some(end) = iban_at(span, at) {
            found.push(hit.secret.start + at..hit.secret.start + end);
            at = end;
        } else {
            at += 1;
        }
    }
}

/// The end of a valid IBAN that starts at `start` of `span`, if there is one.
fn iban_at(span: &str, start: usize) -> Option<usize> {
    let length = iban_length(&span[start..start + 2])?;
    let mut compact = Vec::with_capacity(length);
    let mut end = start;
    for (offset, byte) in span[start..].bytes().enumerate() {
        if compact.len() == length {
            break;
        }
        match byte {
            b' ' => {}
            b'A'..=b'Z' | b'0'..=b'9' => compact.push(byte),
            _ => return None,
        }
        end = start + offset + 1;
    }
    if compact.len() != length {
        return None;
    }
    let rearranged = compact[4..].iter().chain(&compact[..4]);
    let mut remainder: u32 = 0;
    for &byte in rearranged {
        let value = u32::from(if byte.is_ascii_digit() { byte - b'0' } else { byte - b'A' + 10 });
        remainder = if value < 10 { (remainder * 10 + value) % 97 } else { (remainder * 100 + value) % 97 };
    }
    (remainder == 1).then_some(end)
}

/// The IBAN length of each country in the SWIFT IBAN registry.
fn iban_length(country: &str) -> Option<usize> {
    // Country code and length, e.g. `DE22`.
    const LENGTHS: &str = concat!(
        "AD24 AE23 AL28 AT20 AZ28 BA20 BE16 BG22 BH22 BI27 BR29 BY28 CH21 CR22 CY28 CZ24 DE22 DJ27 DK18 DO28 ",
        "EE20 EG29 ES24 FI18 FK18 FO18 FR27 GB22 GE22 GI23 GL18 GR27 GT28 HR21 HU28 IE22 IL23 IQ23 IS26 IT27 ",
        "JO30 KW30 KZ20 LB28 LC32 LI21 LT20 LU20 LV21 LY25 MC27 MD24 ME22 MK19 MN20 MR27 MT31 MU30 NI28 NL18 ",
        "NO15 OM23 PK24 PL28 PS29 PT25 QA29 RO24 RS22 RU33 SA24 SC31 SD18 SE24 SI19 SK24 SM27 SO23 ST25 SV28 ",
        "TL23 TN24 TR26 UA29 VA22 VG24 XK20 YE30"
    );
    LENGTHS.split(' ').find(|entry| entry.starts_with(country)).and_then(|entry| entry[2..].parse().ok())
}

/// Whether the number at `range` of `text` stands on its own rather than
/// being part of something longer: no digit or hexadecimal letter touches it
/// (`4bf92f3577…` trace ids hold long digit runs), and it does not continue a
/// chain of digits and `.`/`,`/`-`/`/` (`v1.415.555.0132`, `0.4111…`,
/// `ORD-415-555-0132`). Other letters may touch it, so a number right after a
/// literal `\n` of twice-encoded JSON still counts.
fn stands_alone(text: &str, range: Range<usize>) -> bool {
    let touching = |c: char| c.is_ascii_digit() || matches!(c, 'a'..='f' | 'A'..='F');
    let chained = |c: char| matches!(c, '.' | ',' | '-' | '/');
    let mut before = text[..range.start].chars().rev();
    let alone_before = escape_before(text, range.start)
        || match (before.next(), before.next()) {
            (Some(c), _) if touching(c) => false,
            (Some(c), Some(d)) if chained(c) && d.is_ascii_alphanumeric() => false,
            _ => true,
        };
    let mut after = text[range.end..].chars();
    let alone_after = match (after.next(), after.next()) {
        (Some(c), _) if touching(c) => false,
        (Some(c), Some(d)) if chained(c) && d.is_ascii_digit() => false,
        _ => true,
    };
    alone_before && alone_after
}

/// Whether `text` has a `\uXXXX` escape (twice-encoded JSON) ending at `at`.
fn escape_before(text: &str, at: usize) -> bool {
    let bytes = &text.as_bytes()[..at];
    bytes.len() >= 6
        && bytes[bytes.len() - 6..bytes.len() - 4] == *b"\\u"
        && bytes[bytes.len() - 4..].iter().all(u8::is_ascii_hexdigit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(confirm: Confirm, text: &str) -> Vec<&str> {
        let hit = Hit { whole: 0..text.len(), secret: 0..text.len() };
        let mut found = Vec::new();
        confirm(text, &hit, &mut found);
        found.into_iter().map(|r| &text[r]).collect()
    }

    #[test]
    fn luhn_checksum() {
        assert!(luhn(b"4111111111111111"));
        assert!(luhn(b"378282246310005"));
        assert!(!luhn(b"4111111111111112"));
    }

    #[test]
    fn card_numbers_need_luhn_an_issuer_and_a_card_grouping() {
        assert_eq!(check(card_number, "4111111111111111"), ["4111111111111111"]);
        assert_eq!(check(card_number, "4111 1111 1111 1111"), ["4111 1111 1111 1111"]);
        assert_eq!(check(card_number, "3782 822463 10005"), ["3782 822463 10005"]);
        assert_eq!(check(card_number, "4111-1111-1111-1111 12 29"), ["4111-1111-1111-1111"]);
        assert_eq!(check(card_number, "12 26 4111 1111 1111 1111"), ["4111 1111 1111 1111"]);
        assert!(check(card_number, "4111111111111112").is_empty(), "Luhn");
        assert!(check(card_number, "1234567890123452").is_empty(), "no issuer starts with 1");
        assert!(check(card_number, "1732612345678").is_empty(), "epoch milliseconds");
        assert!(check(card_number, "4 5 6 7 8 9 10 11 12 13 14").is_empty(), "a list of small numbers");
        let escaped = "\\u00e94111 1111 1111 1111";
        let mut found = Vec::new();
        card_number(escaped, &Hit { whole: 5..escaped.len(), secret: 5..escaped.len() }, &mut found);
        assert_eq!(
            found.iter().map(|r| &escaped[r.clone()]).collect::<Vec<_>>(),
            ["4111 1111 1111 1111"],
            "not the escape's 9"
        );
    }

    #[test]
    fn ssn_ranges() {
        assert_eq!(check(us_ssn, "078-05-1120"), ["078-05-1120"]);
        assert!(check(us_ssn, "000-12-3456").is_empty());
        assert!(check(us_ssn, "666-12-3456").is_empty());
        assert!(check(us_ssn, "912-12-3456").is_empty());
        assert!(check(us_ssn, "123-00-3456").is_empty());
    }

    #[test]
    fn iban_check_digits_and_lengths() {
        assert_eq!(check(iban, "GB82 WEST 1234 5698 7654 32"), ["GB82 WEST 1234 5698 7654 32"]);
        assert_eq!(check(iban, "DE89370400440532013000"), ["DE89370400440532013000"]);
        assert_eq!(check(iban, "DE89370400440532013000EUR"), ["DE89370400440532013000"]);
        assert_eq!(check(iban, "AB12 DE89 3704 0044 0532 0130 00"), ["DE89 3704 0044 0532 0130 00"]);
        assert!(check(iban, "DE89370400440532013001").is_empty());
        assert!(check(iban, "US12345678901234567890").is_empty());
    }

    #[test]
    fn numbers_that_continue_something_longer_are_not_alone() {
        let text = "v1.415.555.0132 4bf9415 ORD-415 x415 \\n415";
        let alone = |needle: &str, nth: usize| {
            let start = text.match_indices(needle).nth(nth).unwrap().0;
            stands_alone(text, start..start + needle.len())
        };
        assert!(!alone("415", 0), "inside a version");
        assert!(!alone("415", 1), "after a hexadecimal digit");
        assert!(!alone("415", 2), "after ORD-");
        assert!(alone("415", 3), "after an ordinary letter");
        assert!(alone("415", 4), "after a literal \\n");
        assert!(stands_alone("\\u00e9415", 6..9), "after a literal \\u00e9");
    }

    #[test]
    fn placeholders() {
        for value in ["null", "${DB_PASSWORD}", "********", "<your-key>", "{{ secret }}", "xxxx"] {
            assert!(is_placeholder(value), "{value}");
        }
        for value in ["hunter2", "s3cr3t!", "correct horse"] {
            assert!(!is_placeholder(value), "{value}");
        }
    }
}
