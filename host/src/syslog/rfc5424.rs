//! RFC 5424 messages: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD [SP MSG]`.
//!
//! Parsing follows the ABNF of RFC 5424 §6 strictly for the header's shape
//! (every field present, single spaces, printable US-ASCII, VERSION 1) so
//! that "RFC 5424" means something, with three liberal exceptions that lose
//! nothing and match what real senders emit: header fields longer than the
//! RFC's maxima are kept as sent, TIME-SECFRAC may have up to 9 digits
//! (nanosecond clocks) and an unescaped `]` inside a quoted PARAM-VALUE is
//! taken literally. A message that starts like RFC 5424 (`<PRI>1 `) but breaks
//! this grammar is not guessed at as RFC 3164: it ends up unparsed, raw text
//! intact.
//!
//! Writing is strict: NILVALUE for absent fields, maxima applied, characters
//! outside printable US-ASCII in header fields replaced by `_`, SD-PARAM
//! values escaped, no BOM (MSG-ANY: the body is whatever the formatter made).

use super::message::{Format, Message, SdElement, parse_pri, prival, push_decimal, text, trim_trailer};
use super::rfc3164;
use crate::timestamp::{format_rfc3339, now_rfc3339};
use std::borrow::Cow;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// RFC 5424 §6 field maxima, applied when writing.
const HOSTNAME_MAX: usize = 255;
const APP_NAME_MAX: usize = 48;
const PROCID_MAX: usize = 128;
const MSGID_MAX: usize = 32;
const SD_NAME_MAX: usize = 32;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Parse an RFC 5424 message, or `None` if `raw` is not one. Trailing CR, LF
/// and NUL are ignored; a UTF-8 BOM that starts MSG is removed.
pub fn parse(raw: &[u8]) -> Option<Message<'_>> {
    let raw = trim_trailer(raw);
    let (facility, severity, at) = parse_pri(raw)?;
    let mut cursor = Cursor { raw, at };
    if cursor.token()? != b"1" {
        // Only VERSION 1 exists; a later one may change the grammar.
        return None;
    }
    cursor.space()?;
    let timestamp = cursor.token()?;
    if timestamp != b"-" && !is_timestamp(timestamp) {
        return None;
    }
    cursor.space()?;
    let hostname = cursor.header_field()?;
    cursor.space()?;
    let app_name = cursor.header_field()?;
    cursor.space()?;
    let procid = cursor.header_field()?;
    cursor.space()?;
    let msgid = cursor.header_field()?;
    cursor.space()?;
    let structured_data = cursor.structured_data()?;
    let msg = match cursor.rest() {
        [] => &[][..],
        [b' ', msg @ ..] => msg.strip_prefix(BOM).unwrap_or(msg),
        _ => return None,
    };
    Some(Message {
        facility: Some(facility),
        severity: Some(severity),
        version: Some(1),
        timestamp: nil_or_text(timestamp),
        hostname,
        app_name,
        procid,
        msgid,
        structured_data,
        msg: text(msg),
        format: Format::Rfc5424,
    })
}

/// Write `msg` as RFC 5424 (no framing). VERSION is always 1; an absent or
/// out-of-range PRI part becomes user.notice. The timestamp is written as
/// sent when it is a valid RFC 5424 TIMESTAMP (TIME-SECFRAC cut to 6 digits),
/// converted to UTC when it is other RFC 3339, completed when it is a BSD
/// one (as [`Message::timestamp_rfc3339`] does, with now as `received_at`),
/// else NILVALUE. SD-IDs and PARAM-NAMEs are
/// sanitised like header fields (and `=`, `]`, `"` replaced) and cut to 32;
/// an element or parameter whose name ends up empty is left out.
pub fn encode(msg: &Message<'_>, out: &mut Vec<u8>) {
    out.push(b'<');
    push_decimal(out, prival(msg.facility, msg.severity).into());
    out.extend_from_slice(b">1 ");
    push_timestamp(msg.timestamp.as_deref(), out);
    for (field, max) in [
        (&msg.hostname, HOSTNAME_MAX),
        (&msg.app_name, APP_NAME_MAX),
        (&msg.procid, PROCID_MAX),
        (&msg.msgid, MSGID_MAX),
    ] {
        out.push(b' ');
        push_header_field(field.as_deref(), max, out);
    }
    out.push(b' ');
    push_structured_data(&msg.structured_data, out);
    if !msg.msg.is_empty() {
        out.push(b' ');
        out.extend_from_slice(msg.msg.as_bytes());
    }
}

/// Whether `t` is an RFC 5424 TIMESTAMP (not NILVALUE):
/// `YYYY-MM-DDThh:mm:ss[.frac]` then `Z` or `±hh:mm`, with real dates and
/// times (no leap second, as RFC 5424 §6.2.3 says), upper-case `T` and `Z`,
/// and 1–9 fraction digits (the RFC says 6; nanosecond senders exist).
pub(crate) fn is_timestamp(t: &[u8]) -> bool {
    fn number(t: &[u8], from: usize, len: usize) -> Option<u32> {
        let digits = t.get(from..from + len)?;
        digits.iter().all(u8::is_ascii_digit).then(|| digits.iter().fold(0, |v, d| v * 10 + u32::from(d - b'0')))
    }
    let shape = |at: usize, c: u8| t.get(at) == Some(&c);
    let (Some(year), Some(month), Some(day), Some(hour), Some(minute), Some(second)) =
        (number(t, 0, 4), number(t, 5, 2), number(t, 8, 2), number(t, 11, 2), number(t, 14, 2), number(t, 17, 2))
    else {
        return false;
    };
    if !(shape(4, b'-') && shape(7, b'-') && shape(10, b'T') && shape(13, b':') && shape(16, b':')) {
        return false;
    }
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return false;
    }
    if hour > 23 || minute > 59 || second > 59 {
        return false;
    }
    let mut at = 19;
    if shape(at, b'.') {
        let digits = t[at + 1..].iter().take_while(|b| b.is_ascii_digit()).count();
        if !(1..=9).contains(&digits) {
            return false;
        }
        at += 1 + digits;
    }
    match &t[at..] {
        b"Z" => true,
        [b'+' | b'-', _, _, b':', _, _] => {
            matches!((number(t, at + 1, 2), number(t, at + 4, 2)), (Some(h), Some(m)) if h <= 23 && m <= 59)
        }
        _ => false,
    }
}

pub(crate) fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A byte allowed in a header field: PRINTUSASCII, `%d33-126`.
fn printable(b: u8) -> bool {
    (33..=126).contains(&b)
}

/// A byte allowed in an SD-NAME (SD-ID, PARAM-NAME): printable, not `=`,
/// SP, `]` or `"` (RFC 5424 §6.3.2).
fn sd_name_byte(b: u8) -> bool {
    printable(b) && !matches!(b, b'=' | b']' | b'"')
}

fn nil_or_text(field: &[u8]) -> Option<Cow<'_, str>> {
    (field != b"-").then(|| text(field))
}

/// A position in the message being parsed.
struct Cursor<'a> {
    raw: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn rest(&self) -> &'a [u8] {
        &self.raw[self.at..]
    }

    fn peek(&self) -> Option<u8> {
        self.raw.get(self.at).copied()
    }

    fn eat(&mut self, b: u8) -> Option<()> {
        (self.peek()? == b).then(|| self.at += 1)
    }

    fn space(&mut self) -> Option<()> {
        self.eat(b' ')
    }

    /// One or more printable US-ASCII bytes, up to the next space.
    fn token(&mut self) -> Option<&'a [u8]> {
        let len = self.rest().iter().take_while(|b| printable(**b)).count();
        let token = &self.rest()[..len];
        self.at += len;
        (len > 0).then_some(token)
    }

    /// HOSTNAME, APP-NAME, PROCID or MSGID: NILVALUE or the text.
    fn header_field(&mut self) -> Option<Option<Cow<'a, str>>> {
        self.token().map(nil_or_text)
    }

    fn sd_name(&mut self) -> Option<Cow<'a, str>> {
        let len = self.rest().iter().take_while(|b| sd_name_byte(**b)).count();
        let name = &self.rest()[..len];
        self.at += len;
        (len > 0).then(|| text(name))
    }

    /// STRUCTURED-DATA: NILVALUE or one or more SD-ELEMENTs.
    fn structured_data(&mut self) -> Option<Vec<SdElement<'a>>> {
        if self.eat(b'-').is_some() {
            return Some(Vec::new());
        }
        let mut elements = Vec::new();
        while self.eat(b'[').is_some() {
            let id = self.sd_name()?;
            let mut params = Vec::new();
            while self.space().is_some() {
                let name = self.sd_name()?;
                self.eat(b'=')?;
                self.eat(b'"')?;
                params.push((name, self.param_value()?));
            }
            self.eat(b']')?;
            elements.push(SdElement { id, params });
        }
        (!elements.is_empty()).then_some(elements)
    }

    /// A PARAM-VALUE after its opening quote, up to and past the closing
    /// one. `\"`, `\\` and `\]` stand for the character; a backslash before
    /// anything else is a plain backslash (RFC 5424 §6.3.3). Borrowed unless
    /// an escape was undone.
    fn param_value(&mut self) -> Option<Cow<'a, str>> {
        let rest = self.rest();
        let mut unescaped: Option<Vec<u8>> = None;
        let mut i = 0;
        loop {
            let skip = rest[i..].iter().position(|b| matches!(b, b'"' | b'\\'))?;
            if let Some(buffer) = &mut unescaped {
                buffer.extend_from_slice(&rest[i..i + skip]);
            }
            i += skip;
            if rest[i] == b'"' {
                self.at += i + 1;
                return Some(match unescaped {
                    None => text(&rest[..i]),
                    Some(bytes) => Cow::Owned(String::from_utf8_lossy(&bytes).into_owned()),
                });
            }
            match rest.get(i + 1) {
                Some(&escaped @ (b'"' | b'\\' | b']')) => {
                    unescaped.get_or_insert_with(|| rest[..i].to_vec()).push(escaped);
                    i += 2;
                }
                _ => {
                    if let Some(buffer) = &mut unescaped {
                        buffer.push(b'\\');
                    }
                    i += 1;
                }
            }
        }
    }
}

fn push_timestamp(timestamp: Option<&str>, out: &mut Vec<u8>) {
    let Some(timestamp) = timestamp else {
        out.push(b'-');
        return;
    };
    if is_timestamp(timestamp.as_bytes()) {
        // Keep at most 6 fraction digits, as the RFC allows: `YYYY-MM-DDThh:mm:ss` is 19 bytes.
        let t = timestamp.as_bytes();
        let zone = t.iter().rposition(|b| matches!(b, b'Z' | b'+' | b'-')).unwrap_or(t.len());
        if zone > 19 + 7 {
            out.extend_from_slice(&t[..19 + 7]);
            out.extend_from_slice(&t[zone..]);
        } else {
            out.extend_from_slice(t);
        }
    } else if let Ok(at) = OffsetDateTime::parse(timestamp, &Rfc3339) {
        // Other RFC 3339 (lower-case `t`, a leap second …): normalised.
        out.extend_from_slice(format_rfc3339(at).as_bytes());
    } else if let Some(completed) = rfc3164::timestamp_rfc3339(timestamp, &now_rfc3339()) {
        out.extend_from_slice(completed.as_bytes());
    } else {
        out.push(b'-');
    }
}

/// Append `field` as a header field: NILVALUE when absent or empty, else cut
/// to `max` bytes with every character outside printable US-ASCII replaced
/// by `_` (one per character, so the shape of the text stays visible).
fn push_header_field(field: Option<&str>, max: usize, out: &mut Vec<u8>) {
    push_sanitised(field.unwrap_or(""), max, printable, out);
}

/// Append up to `max` characters of `value`, each byte that `allowed`
/// rejects (and each non-ASCII character) as `_`; `-` if nothing is left.
pub(crate) fn push_sanitised(value: &str, max: usize, allowed: fn(u8) -> bool, out: &mut Vec<u8>) {
    if value.is_empty() || max == 0 {
        out.push(b'-');
        return;
    }
    for c in value.chars().take(max) {
        out.push(u8::try_from(c).ok().filter(|b| allowed(*b)).unwrap_or(b'_'));
    }
}

fn push_structured_data(elements: &[SdElement<'_>], out: &mut Vec<u8>) {
    let start = out.len();
    for element in elements.iter().filter(|e| !e.id.is_empty()) {
        out.push(b'[');
        push_sanitised(&element.id, SD_NAME_MAX, sd_name_byte, out);
        for (name, value) in element.params.iter().filter(|(name, _)| !name.is_empty()) {
            out.push(b' ');
            push_sanitised(name, SD_NAME_MAX, sd_name_byte, out);
            out.extend_from_slice(b"=\"");
            for &b in value.as_bytes() {
                if matches!(b, b'"' | b'\\' | b']') {
                    out.push(b'\\');
                }
                out.push(b);
            }
            out.push(b'"');
        }
        out.push(b']');
    }
    if out.len() == start {
        out.push(b'-');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parsed(raw: &str) -> Message<'_> {
        parse(raw.as_bytes()).unwrap_or_else(|| panic!("not RFC 5424: {raw:?}"))
    }

    fn sd<'a>(id: &'a str, params: &[(&'a str, &'a str)]) -> SdElement<'a> {
        SdElement { id: id.into(), params: params.iter().map(|(n, v)| ((*n).into(), (*v).into())).collect() }
    }

    fn encoded(m: &Message<'_>) -> String {
        let mut out = Vec::new();
        encode(m, &mut out);
        String::from_utf8(out).unwrap()
    }

    // RFC 5424 §6.5, example 1 (the BOM is in the RFC's text).
    #[test]
    fn rfc_example_1_no_structured_data() {
        let raw = b"<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \
                    \xEF\xBB\xBF'su root' failed for lonvick on /dev/pts/8";
        let m = parse(raw).unwrap();
        assert_eq!((m.facility, m.severity, m.version), (Some(4), Some(2), Some(1)));
        assert_eq!(m.timestamp.as_deref(), Some("2003-10-11T22:14:15.003Z"));
        assert_eq!(m.hostname.as_deref(), Some("mymachine.example.com"));
        assert_eq!(m.app_name.as_deref(), Some("su"));
        assert_eq!(m.procid, None);
        assert_eq!(m.msgid.as_deref(), Some("ID47"));
        assert!(m.structured_data.is_empty());
        assert_eq!(m.msg, "'su root' failed for lonvick on /dev/pts/8");
        assert!(matches!(m.msg, Cow::Borrowed(_)), "stripping the BOM needs no copy");
        assert_eq!(m.format, Format::Rfc5424);
    }

    // Example 2: offset timestamp with microseconds, no MSGID.
    #[test]
    fn rfc_example_2_offset_and_microseconds() {
        let m = parsed(
            "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.",
        );
        assert_eq!((m.facility, m.severity), (Some(20), Some(5)));
        assert_eq!(m.timestamp.as_deref(), Some("2003-08-24T05:14:15.000003-07:00"));
        assert_eq!(m.hostname.as_deref(), Some("192.0.2.1"));
        assert_eq!(m.app_name.as_deref(), Some("myproc"));
        assert_eq!(m.procid.as_deref(), Some("8710"));
        assert_eq!(m.msgid, None);
        assert_eq!(m.msg, "%% It's time to make the do-nuts.");
    }

    // Example 3: structured data and a message.
    #[test]
    fn rfc_example_3_structured_data() {
        let m = parsed(
            "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 \
             [exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"] \
             \u{FEFF}An application event log entry...",
        );
        assert_eq!(
            m.structured_data,
            vec![sd("exampleSDID@32473", &[("iut", "3"), ("eventSource", "Application"), ("eventID", "1011")])]
        );
        assert_eq!(m.msg, "An application event log entry...");
    }

    // Example 4: two SD elements and no MSG.
    #[test]
    fn rfc_example_4_two_elements_no_msg() {
        let m = parsed(
            "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 \
             [exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"]\
             [examplePriority@32473 class=\"high\"]",
        );
        assert_eq!(m.structured_data.len(), 2);
        assert_eq!(m.structured_data[1], sd("examplePriority@32473", &[("class", "high")]));
        assert_eq!(m.msg, "");
    }

    #[test]
    fn timestamps_as_sent() {
        for t in [
            "1985-04-12T23:20:50.52Z",
            "1985-04-12T19:20:50.52-04:00",
            "2003-10-11T22:14:15.003Z",
            "2003-08-24T05:14:15.000003-07:00",
            "2024-02-29T00:00:00+14:00",
            "2026-01-01T00:00:00.123456789Z",
        ] {
            assert!(is_timestamp(t.as_bytes()), "{t}");
            assert_eq!(parsed(&format!("<13>1 {t} - - - - -")).timestamp.as_deref(), Some(t));
        }
        for t in [
            "1990-12-31T23:59:60Z",          // leap second: RFC 5424 §6.2.3
            "2003-08-24T05:14:15.000000003", // no zone
            "2003-08-24t05:14:15Z",
            "2003-08-24T05:14:15z",
            "2003-08-24T05:14:15.Z",
            "2003-08-24T05:14:15.1234567890Z",
            "2023-02-29T00:00:00Z",
            "2003-13-24T05:14:15Z",
            "2003-00-24T05:14:15Z",
            "2003-08-24T24:14:15Z",
            "2003-08-24T05:14:15+0700",
            "2003-08-24T05:14:15+24:00",
            "2003-8-24T05:14:15Z",
            "Oct 11 22:14:15",
        ] {
            assert!(!is_timestamp(t.as_bytes()), "{t}");
        }
        assert!(parse(b"<13>1 2003-08-24T05:14:15 - - - - -").is_none());
    }

    #[test]
    fn sd_escapes_are_undone() {
        let m = parsed(r#"<13>1 - - - - - [id@1 q="say \"hi\"" b="a\\b" r="[x\]" other="c:\dir" end="\\"] m"#);
        let values: Vec<&str> = m.structured_data[0].params.iter().map(|(_, v)| &**v).collect();
        assert_eq!(values, [r#"say "hi""#, r"a\b", "[x]", r"c:\dir", "\\"]);
        assert!(matches!(m.structured_data[0].params[0].1, Cow::Owned(_)));
        assert!(matches!(m.structured_data[0].params[3].1, Cow::Borrowed(_)), "a lone backslash needs no copy");
        assert_eq!(m.msg, "m");
    }

    #[test]
    fn sd_edge_cases() {
        let m = parsed(r#"<13>1 - - - - - [a][b x=""][c y="ü ] literal"] body"#);
        assert_eq!(m.structured_data, vec![sd("a", &[]), sd("b", &[("x", "")]), sd("c", &[("y", "ü ] literal")])]);
        for bad in [
            r#"<13>1 - - - - - [] m"#,
            r#"<13>1 - - - - - [a x="unterminated] m"#,
            r#"<13>1 - - - - - [a x=unquoted] m"#,
            r#"<13>1 - - - - - [a  x="two spaces"] m"#,
            r#"<13>1 - - - - - [a x="1"]m"#,
            r#"<13>1 - - - - - [a x="1""#,
            r#"<13>1 - - - - - [a=b x="1"]"#,
            r#"<13>1 - - - - - -m"#,
        ] {
            assert!(parse(bad.as_bytes()).is_none(), "{bad}");
        }
    }

    #[test]
    fn header_shape_is_strict() {
        for bad in [
            "<13>1 - - - - -  two spaces before msg",
            "<13>2 - - - - - - version 2",
            "<13>01 - - - - - -",
            "<13>1 - - - - ",
            "<13>1 - - - -",
            "<13>1  - - - - - -",
            "<13> 1 - - - - - -",
            "<192>1 - - - - - -",
            "13>1 - - - - - -",
            "<13>1 - h\u{e9}st - - - -",
            "",
        ] {
            assert!(parse(bad.as_bytes()).is_none(), "{bad:?}");
        }
        // An empty MSG after the separating space is still a message; spaces inside MSG are kept.
        assert_eq!(parsed("<13>1 - - - - - - ").msg, "");
        assert_eq!(parsed("<13>1 - - - - - -  x ").msg, " x ");
        // Longer than the RFC maxima: kept as sent.
        let long = "a".repeat(300);
        assert_eq!(parsed(&format!("<13>1 - {long} {long} - - -")).app_name.as_deref(), Some(&*long));
    }

    #[test]
    fn encode_uses_nilvalues_and_defaults() {
        let m = Message::unparsed(b"hello");
        assert_eq!(encoded(&m), "<13>1 - - - - - - hello");
        let m = Message { msg: "".into(), ..Message::unparsed(b"") };
        assert_eq!(encoded(&m), "<13>1 - - - - - -");
    }

    #[test]
    fn encode_limits_and_sanitises_header_fields() {
        let m = Message {
            facility: Some(16),
            severity: Some(6),
            timestamp: Some("2026-01-02T03:04:05.123456789+01:00".into()),
            hostname: Some("my host\u{e9}".into()),
            app_name: Some("x".repeat(60).into()),
            procid: Some("".into()),
            msgid: Some("m\nid".into()),
            structured_data: vec![
                sd("ex@1", &[("q", r#"a"b\c]d"#), ("", "dropped"), ("n=me", "v")]),
                sd("", &[("dropped", "x")]),
            ],
            ..Message::unparsed(b"body\nwith LF")
        };
        let out = encoded(&m);
        assert_eq!(
            out,
            format!(
                "<134>1 2026-01-02T03:04:05.123456+01:00 my_host_ {} - m_id {} body\nwith LF",
                "x".repeat(48),
                r#"[ex@1 q="a\"b\\c\]d" n_me="v"]"#
            )
        );
        let back = parsed(&out);
        assert_eq!(back.structured_data[0].params[0].1, r#"a"b\c]d"#);
    }

    #[test]
    fn encode_completes_a_bsd_timestamp() {
        let m = Message { timestamp: Some("Oct  1 22:14:15".into()), ..Message::unparsed(b"x") };
        let out = encoded(&m);
        let t = out.split(' ').nth(1).unwrap();
        assert!(is_timestamp(t.as_bytes()) && t.contains("-10-01T22:14:15"), "{out}");
        let m = Message { timestamp: Some("2026-01-02t03:04:05+01:00".into()), ..Message::unparsed(b"x") };
        assert_eq!(encoded(&m), "<13>1 2026-01-02T02:04:05Z - - - - - x");
        let m = Message { timestamp: Some("yesterday".into()), ..Message::unparsed(b"x") };
        assert_eq!(encoded(&m), "<13>1 - - - - - - x");
    }

    fn header_value(max: usize) -> impl Strategy<Value = Option<String>> {
        proptest::option::of(proptest::string::string_regex(&format!("[!-~]{{1,{max}}}")).unwrap())
            .prop_map(|v| v.filter(|v| v != "-"))
    }

    fn timestamp() -> impl Strategy<Value = Option<String>> {
        let zone = prop_oneof![
            Just("Z".to_string()),
            (any::<bool>(), 0..24u32, 0..60u32)
                .prop_map(|(plus, h, m)| format!("{}{h:02}:{m:02}", if plus { '+' } else { '-' }))
        ];
        let fraction = proptest::string::string_regex("(\\.[0-9]{1,6})?").unwrap();
        proptest::option::of(
            (0..10000u32, 1..=12u32, 1..=28u32, 0..24u32, 0..60u32, 0..60u32, fraction, zone)
                .prop_map(|(y, mo, d, h, mi, s, f, z)| format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{f}{z}")),
        )
    }

    fn sd_name() -> impl Strategy<Value = String> {
        proptest::string::string_regex("[!#-<>-\\\\^-~]{1,32}").unwrap()
    }

    fn structured_data() -> impl Strategy<Value = Vec<(String, Vec<(String, String)>)>> {
        proptest::collection::vec((sd_name(), proptest::collection::vec((sd_name(), "(?s).{0,20}"), 0..4)), 0..4)
    }

    proptest! {
        // Many cases: these are the fuzz targets for what peers send.
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn never_panics(raw in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = parse(&raw);
        }

        #[test]
        fn never_panics_on_near_misses(
            sd in "(\\[[a-z\\\\\"\\] =]{0,12}){0,3}( |-|\\]|\")?",
            tail in proptest::collection::vec(any::<u8>(), 0..20),
        ) {
            let mut raw = b"<13>1 - - - - - ".to_vec();
            raw.extend_from_slice(sd.as_bytes());
            raw.extend_from_slice(&tail);
            let _ = parse(&raw);
        }

        #[test]
        fn encode_then_parse_is_identity(
            facility in 0..24u8,
            severity in 0..8u8,
            timestamp in timestamp(),
            hostname in header_value(HOSTNAME_MAX),
            app_name in header_value(APP_NAME_MAX),
            procid in header_value(PROCID_MAX),
            msgid in header_value(MSGID_MAX),
            structured_data in structured_data(),
            msg in "(?s).{0,40}",
        ) {
            // A MSG that starts with a BOM loses it and trailing CR/LF/NUL are trimmed, by design.
            let msg = msg.trim_start_matches('\u{feff}').trim_end_matches(['\r', '\n', '\0']);
            let original = Message {
                facility: Some(facility),
                severity: Some(severity),
                version: Some(1),
                timestamp: timestamp.map(Cow::Owned),
                hostname: hostname.map(Cow::Owned),
                app_name: app_name.map(Cow::Owned),
                procid: procid.map(Cow::Owned),
                msgid: msgid.map(Cow::Owned),
                structured_data: structured_data
                    .into_iter()
                    .map(|(id, params)| SdElement {
                        id: id.into(),
                        params: params.into_iter().map(|(n, v)| (n.into(), v.into())).collect(),
                    })
                    .collect(),
                msg: msg.into(),
                format: Format::Rfc5424,
            };
            let mut out = Vec::new();
            encode(&original, &mut out);
            prop_assert_eq!(parse(&out), Some(original.clone()));
            prop_assert_eq!(super::super::message::parse(&out), original);
        }
    }
}
