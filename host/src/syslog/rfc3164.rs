//! RFC 3164 ("BSD") messages as devices really send them:
//! `<PRI>Mmm dd hh:mm:ss HOSTNAME TAG[PID]: MSG`, every part but the text
//! optional.
//!
//! What counts as RFC 3164 (the rest is unparsed, raw text kept):
//! - `<PRI>` then anything, except `<PRI>1 `: that claims RFC 5424 (VERSION
//!   1), and a broken RFC 5424 message guessed at as RFC 3164 would get a
//!   nonsense TAG;
//! - or no PRI but a timestamp at the very start (lines from files and from
//!   forwarders that strip PRI). rsyslog accepts any text and invents PRI 13;
//!   we accept it only with a timestamp, because otherwise nothing shows that
//!   it is syslog at all, and we do not invent a PRI: facility and severity
//!   stay absent.
//!
//! The timestamp is `Mmm dd hh:mm:ss` (day space-padded, zero-padded or a
//! single digit), optionally with a year before the time (`Mmm dd yyyy
//! hh:mm:ss`, Cisco, rsyslog), a fraction (`.083`, Cisco `msec`) and a colon
//! after it (Cisco); or RFC 3339 text (rsyslog's forward format). The
//! HOSTNAME is looked for only after a timestamp (it is part of the HEADER):
//! the next word, if made of letters, digits, `.`, `_`, `-` and `:` and not
//! ending in `:`. `-` stands for no hostname or TAG, as our writer emits.
//! The TAG is up to 32 characters ended by `[` (PID follows), `:` or, after
//! a timestamp, a space (RFC 3164 §5.3); without a timestamp a TAG needs its
//! `:` or `[pid]`, so plain text is not cut up. One space after the TAG is
//! not part of MSG.

use super::message::{Format, Message, parse_pri, prival, push_decimal, text, trim_trailer};
use super::rfc5424::{days_in_month, is_timestamp, push_sanitised};
use crate::timestamp::format_rfc3339;
use time::format_description::well_known::Rfc3339;
use time::{Date, Duration, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// RFC 3164 §4.1.3: "The TAG is a string of ABNF alphanumeric characters that MUST NOT exceed 32 characters".
const TAG_MAX: usize = 32;
const HOSTNAME_MAX: usize = 255;
const PROCID_MAX: usize = 128;
/// A completed timestamp may lie this far after `received_at` (clocks
/// differ); further means the message is from the year before.
const FUTURE_SLACK: Duration = Duration::days(7);

const MONTHS: [&[u8; 3]; 12] =
    [b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec"];

/// Parse an RFC 3164 message (see the module doc for what qualifies), or
/// `None`. Trailing CR, LF and NUL are ignored.
pub fn parse(raw: &[u8]) -> Option<Message<'_>> {
    let raw = trim_trailer(raw);
    let (facility, severity, rest) = match parse_pri(raw) {
        Some((facility, severity, at)) => (Some(facility), Some(severity), &raw[at..]),
        None => (None, None, raw),
    };
    if facility.is_some() && claims_rfc5424(rest) {
        return None;
    }
    let (timestamp, rest) = match timestamp(rest) {
        Some((timestamp, rest)) => (Some(timestamp), rest),
        None if facility.is_some() => (None, rest),
        None => return None,
    };
    let (hostname, rest) = if timestamp.is_some() { hostname(rest) } else { (None, rest) };
    let (app_name, procid, msg) = tag(rest, timestamp.is_some());
    Some(Message {
        facility,
        severity,
        version: None,
        timestamp: timestamp.map(text),
        hostname: hostname.filter(|h| *h != b"-").map(text),
        app_name: app_name.filter(|t| *t != b"-").map(text),
        procid: procid.map(text),
        msgid: None,
        structured_data: Vec::new(),
        msg: text(msg),
        format: Format::Rfc3164,
    })
}

/// Write `msg` as `<PRI>Mmm dd hh:mm:ss HOSTNAME TAG[PID]: MSG` (no framing).
/// An absent or out-of-range PRI part becomes user.notice. The timestamp is
/// written in UTC, as it is read back: from RFC 3339
/// text converted to UTC, from a BSD timestamp as it was (year and fraction
/// dropped), and now when absent or unreadable — the format has no way to
/// say "unknown", and a missing one would make receivers take HOSTNAME for
/// a timestamp's end. HOSTNAME is cut to 255 bytes of letters, digits, `.`,
/// `_`, `-`, `:` (others become `_`, as does a final `:`); TAG to 32
/// printable characters other than `:`, `[`, `]`; PID to 128 printable
/// characters other than `[`, `]`. An absent HOSTNAME or TAG is written as
/// `-`. MSG is written as is; structured data has no place in RFC 3164.
pub fn encode(msg: &Message<'_>, out: &mut Vec<u8>) {
    out.push(b'<');
    push_decimal(out, prival(msg.facility, msg.severity).into());
    out.push(b'>');
    push_timestamp(msg.timestamp.as_deref(), out);
    out.push(b' ');
    let host_start = out.len();
    push_sanitised(msg.hostname.as_deref().unwrap_or(""), HOSTNAME_MAX, hostname_byte, out);
    if out.len() > host_start + 1 && out.last() == Some(&b':') {
        *out.last_mut().expect("not empty") = b'_';
    }
    out.push(b' ');
    push_sanitised(msg.app_name.as_deref().unwrap_or(""), TAG_MAX, tag_byte, out);
    if let Some(procid) = msg.procid.as_deref().filter(|p| !p.is_empty()) {
        out.push(b'[');
        push_sanitised(procid, PROCID_MAX, procid_byte, out);
        out.push(b']');
    }
    out.push(b':');
    if !msg.msg.is_empty() {
        out.push(b' ');
        out.extend_from_slice(msg.msg.as_bytes());
    }
}

/// A timestamp as full RFC 3339 text: RFC 3339 input is returned as is; a BSD
/// timestamp, which has no zone and usually no year, is taken as UTC (the
/// sender's zone is unknown; UTC is what our writer uses) in the
/// latest year that does not put it more than 7 days after `received_at` —
/// so a message stamped `Dec 31` and received on 1 January belongs to the
/// year before, and one stamped `Jan 1` received on 31 December (a clock
/// slightly ahead) to the year after. A year in the timestamp is used as
/// given. `None` if `timestamp` is neither form or names no real date
/// (`Feb 29` with no leap year near `received_at`). An unreadable
/// `received_at` falls back to now.
pub(crate) fn timestamp_rfc3339(timestamp: &str, received_at: &str) -> Option<String> {
    if is_timestamp(timestamp.as_bytes()) {
        return Some(timestamp.to_owned());
    }
    let (bsd, rest) = bsd_timestamp(timestamp.as_bytes())?;
    if !rest.is_empty() {
        return None;
    }
    let month = Month::try_from(bsd.month).ok()?;
    let time = Time::from_hms_nano(bsd.hour, bsd.minute, bsd.second, bsd.nanosecond).ok()?;
    let at = |year: i32| {
        Some(PrimitiveDateTime::new(Date::from_calendar_date(year, month, bsd.day).ok()?, time).assume_utc())
    };
    let at = match bsd.year {
        Some(year) => at(year)?,
        None => {
            let received = OffsetDateTime::parse(received_at, &Rfc3339)
                .unwrap_or_else(|_| OffsetDateTime::now_utc())
                .to_offset(UtcOffset::UTC);
            let latest = received + FUTURE_SLACK;
            let year = received.year();
            [year + 1, year, year - 1].into_iter().filter_map(at).find(|at| *at <= latest)?
        }
    };
    Some(format_rfc3339(at))
}

/// `<PRI>` followed by `1 `: RFC 5424's VERSION (the only one there is).
fn claims_rfc5424(rest: &[u8]) -> bool {
    rest.starts_with(b"1 ")
}

/// The timestamp at the start of `raw`, as sent (without a Cisco colon), and
/// what follows it after one space.
fn timestamp(raw: &[u8]) -> Option<(&[u8], &[u8])> {
    let (end, after) = match bsd_timestamp(raw) {
        Some((_, rest)) => {
            let end = raw.len() - rest.len();
            (end, rest.strip_prefix(b":").unwrap_or(rest))
        }
        None => {
            let end = raw.iter().position(|b| *b == b' ').unwrap_or(raw.len());
            if !is_timestamp(&raw[..end]) {
                return None;
            }
            (end, &raw[end..])
        }
    };
    match after {
        [] => Some((&raw[..end], after)),
        [b' ', rest @ ..] => Some((&raw[..end], rest)),
        _ => None,
    }
}

/// The parts of a BSD timestamp.
struct Bsd {
    month: u8,
    day: u8,
    year: Option<i32>,
    hour: u8,
    minute: u8,
    second: u8,
    nanosecond: u32,
}

/// `Mmm dd [yyyy ]hh:mm:ss[.fraction]` at the start of `raw` (month names in
/// any case), and the rest.
fn bsd_timestamp(raw: &[u8]) -> Option<(Bsd, &[u8])> {
    fn digits(raw: &[u8], n: usize) -> Option<(u32, &[u8])> {
        let d = raw.get(..n)?;
        d.iter().all(u8::is_ascii_digit).then(|| (d.iter().fold(0, |v, d| v * 10 + u32::from(d - b'0')), &raw[n..]))
    }
    let name = raw.get(..3)?;
    let month = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(name))? as u8 + 1;
    let rest = raw[3..].strip_prefix(b" ")?;
    // Day: " 1", "01" or "1".
    let rest = rest.strip_prefix(b" ").unwrap_or(rest);
    let width = if rest.get(1).is_some_and(u8::is_ascii_digit) { 2 } else { 1 };
    let (day, rest) = digits(rest, width)?;
    let rest = rest.strip_prefix(b" ")?;
    let (year, rest) = match digits(rest, 4) {
        Some((year, [b' ', rest @ ..])) => (Some(year as i32), rest),
        _ => (None, rest),
    };
    let (hour, rest) = digits(rest, 2)?;
    let (minute, rest) = digits(rest.strip_prefix(b":")?, 2)?;
    let (second, mut rest) = digits(rest.strip_prefix(b":")?, 2)?;
    let mut nanosecond = 0;
    if let [b'.', fraction @ ..] = rest {
        let n = fraction.iter().take_while(|b| b.is_ascii_digit()).count();
        if !(1..=9).contains(&n) {
            return None;
        }
        nanosecond = fraction[..n].iter().fold(0, |v, d| v * 10 + u32::from(d - b'0')) * 10u32.pow(9 - n as u32);
        rest = &fraction[n..];
    }
    let max_day = days_in_month(year.map_or(2000, |y| y as u32), u32::from(month));
    if day == 0 || day > max_day || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let bsd =
        Bsd { month, day: day as u8, year, hour: hour as u8, minute: minute as u8, second: second as u8, nanosecond };
    Some((bsd, rest))
}

fn hostname_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b':')
}

fn tag_byte(b: u8) -> bool {
    (33..=126).contains(&b) && !matches!(b, b':' | b'[' | b']')
}

fn procid_byte(b: u8) -> bool {
    (33..=126).contains(&b) && !matches!(b, b'[' | b']')
}

/// The HOSTNAME at the start of `raw`, if the first word looks like one and
/// is followed by a space, and what follows.
fn hostname(raw: &[u8]) -> (Option<&[u8]>, &[u8]) {
    let len = raw.iter().take(HOSTNAME_MAX + 1).take_while(|b| hostname_byte(**b)).count();
    match raw.get(len) {
        Some(b' ') if (1..=HOSTNAME_MAX).contains(&len) && raw[len - 1] != b':' => (Some(&raw[..len]), &raw[len + 1..]),
        _ => (None, raw),
    }
}

/// TAG, PID and MSG from the CONTENT part.
fn tag(raw: &[u8], after_header: bool) -> (Option<&[u8]>, Option<&[u8]>, &[u8]) {
    let no_tag = (None, None, raw);
    let len = raw.iter().take(TAG_MAX + 1).take_while(|b| tag_byte(**b)).count();
    if len == 0 || len > TAG_MAX {
        return no_tag;
    }
    let tag = &raw[..len];
    fn after_space(rest: &[u8]) -> &[u8] {
        rest.strip_prefix(b" ").unwrap_or(rest)
    }
    match &raw[len..] {
        [b':', rest @ ..] => (Some(tag), None, after_space(rest)),
        [b' ', rest @ ..] if after_header => (Some(tag), None, rest),
        [b'[', rest @ ..] => {
            let pid_len = rest.iter().take(PROCID_MAX + 1).take_while(|b| procid_byte(**b)).count();
            match rest.get(pid_len) {
                Some(b']') if (1..=PROCID_MAX).contains(&pid_len) => {
                    let after = &rest[pid_len + 1..];
                    (Some(tag), Some(&rest[..pid_len]), after_space(after.strip_prefix(b":").unwrap_or(after)))
                }
                _ => no_tag,
            }
        }
        _ => no_tag,
    }
}

fn push_timestamp(timestamp: Option<&str>, out: &mut Vec<u8>) {
    let from_bsd = timestamp.and_then(|t| bsd_timestamp(t.as_bytes())).filter(|(_, rest)| rest.is_empty());
    let (month, day, hour, minute, second) = match from_bsd {
        Some((bsd, _)) => (bsd.month, bsd.day, bsd.hour, bsd.minute, bsd.second),
        None => {
            let at = timestamp
                .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok())
                .unwrap_or_else(OffsetDateTime::now_utc)
                .to_offset(UtcOffset::UTC);
            (u8::from(at.month()), at.day(), at.hour(), at.minute(), at.second())
        }
    };
    out.extend_from_slice(MONTHS[usize::from(month - 1)]);
    out.push(b' ');
    out.push(if day < 10 { b' ' } else { b'0' + day / 10 });
    out.push(b'0' + day % 10);
    for (i, part) in [hour, minute, second].into_iter().enumerate() {
        out.push(if i == 0 { b' ' } else { b':' });
        out.extend_from_slice(&[b'0' + part / 10, b'0' + part % 10]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::borrow::Cow;

    fn parsed(raw: &str) -> Message<'_> {
        parse(raw.as_bytes()).unwrap_or_else(|| panic!("not RFC 3164: {raw:?}"))
    }

    fn ts<'m>(m: &'m Message<'_>) -> Option<&'m str> {
        m.timestamp.as_deref()
    }

    /// (timestamp, hostname, app_name, procid, msg)
    fn parts<'m>(m: &'m Message<'_>) -> (Option<&'m str>, Option<&'m str>, Option<&'m str>, Option<&'m str>, &'m str) {
        (ts(m), m.hostname.as_deref(), m.app_name.as_deref(), m.procid.as_deref(), &m.msg)
    }

    #[test]
    fn rfc_3164_examples() {
        let m = parsed("<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8");
        assert_eq!((m.facility, m.severity, m.version, m.format), (Some(4), Some(2), None, Format::Rfc3164));
        assert_eq!(
            parts(&m),
            (
                Some("Oct 11 22:14:15"),
                Some("mymachine"),
                Some("su"),
                None,
                "'su root' failed for lonvick on /dev/pts/8"
            )
        );
        let m = parsed("<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!");
        assert_eq!(parts(&m), (Some("Feb  5 17:32:18"), Some("10.0.0.99"), Some("Use"), None, "the BFG!"));
    }

    #[test]
    fn linux_logger_and_daemons() {
        // util-linux `logger --rfc3164`.
        let m = parsed("<13>Mar  4 05:06:07 myhost alice[4242]: hello world\n");
        assert_eq!(parts(&m), (Some("Mar  4 05:06:07"), Some("myhost"), Some("alice"), Some("4242"), "hello world"));
        // Local /dev/log style (glibc): no hostname.
        let m = parsed("<38>Mar  4 05:06:07 sshd[811]: Accepted publickey for root");
        assert_eq!(
            parts(&m),
            (Some("Mar  4 05:06:07"), None, Some("sshd"), Some("811"), "Accepted publickey for root")
        );
        // A path as TAG, and the TAG without colon after [pid].
        let m = parsed("<78>Mar 14 09:00:01 host /usr/sbin/cron[99] (root) CMD (run-parts)");
        assert_eq!(
            parts(&m),
            (Some("Mar 14 09:00:01"), Some("host"), Some("/usr/sbin/cron"), Some("99"), "(root) CMD (run-parts)")
        );
    }

    #[test]
    fn bsd_and_freebsd() {
        // FreeBSD syslogd forwarding: no hostname only when local; day zero-padded by some.
        let m = parsed("<30>Jan 05 01:02:03 fw01.example.org kernel: em0: link state changed to UP");
        assert_eq!(
            parts(&m),
            (Some("Jan 05 01:02:03"), Some("fw01.example.org"), Some("kernel"), None, "em0: link state changed to UP")
        );
        // Single-digit day without padding.
        let m = parsed("<30>Jan 5 01:02:03 h t: x");
        assert_eq!(ts(&m), Some("Jan 5 01:02:03"));
    }

    #[test]
    fn cisco() {
        // IOS with a sequence number and `*` (clock not set): no header timestamp.
        let m = parsed("<189>34: *Mar  1 00:04:29.083: %SYS-5-CONFIG_I: Configured from console by console");
        assert_eq!(
            parts(&m),
            (None, None, Some("34"), None, "*Mar  1 00:04:29.083: %SYS-5-CONFIG_I: Configured from console by console")
        );
        // ASA: year in the timestamp, a colon after it, no hostname.
        let m = parsed("<166>Jan 05 2024 10:10:10: %ASA-6-302013: Built outbound TCP connection 1");
        assert_eq!(
            parts(&m),
            (Some("Jan 05 2024 10:10:10"), None, Some("%ASA-6-302013"), None, "Built outbound TCP connection 1")
        );
        // IOS `service timestamps log datetime msec` with a hostname.
        let m = parsed("<187>Sep 17 12:01:02.345 router1 %LINK-3-UPDOWN: Interface Gi0/1, changed state to down");
        assert_eq!(ts(&m), Some("Sep 17 12:01:02.345"));
        assert_eq!((m.hostname.as_deref(), m.app_name.as_deref()), (Some("router1"), Some("%LINK-3-UPDOWN")));
    }

    #[test]
    fn rfc3339_timestamp_as_rsyslog_forwards() {
        let m = parsed("<86>2026-03-04T05:06:07.123456+01:00 web1 sudo: pam_unix(sudo:session): opened");
        assert_eq!(
            parts(&m),
            (
                Some("2026-03-04T05:06:07.123456+01:00"),
                Some("web1"),
                Some("sudo"),
                None,
                "pam_unix(sudo:session): opened"
            )
        );
        assert_eq!(m.timestamp_rfc3339("2000-01-01T00:00:00Z").as_deref(), Some("2026-03-04T05:06:07.123456+01:00"));
    }

    #[test]
    fn without_pri() {
        let m = parsed("Mar  4 05:06:07 myhost app[1]: from a file");
        assert_eq!((m.facility, m.severity), (None, None));
        assert_eq!(parts(&m), (Some("Mar  4 05:06:07"), Some("myhost"), Some("app"), Some("1"), "from a file"));
        // No PRI and no timestamp: nothing says it is syslog.
        assert!(parse(b"app: hello").is_none());
        assert!(parse(b"").is_none());
    }

    #[test]
    fn pri_without_header() {
        assert_eq!(parts(&parsed("<13>app: hello")), (None, None, Some("app"), None, "hello"));
        assert_eq!(parts(&parsed("<13>app[7] hello")), (None, None, Some("app"), Some("7"), "hello"));
        // Without a header, a word and a space are text, not a TAG.
        assert_eq!(parts(&parsed("<13>hello world")), (None, None, None, None, "hello world"));
        assert_eq!(parts(&parsed("<13>")), (None, None, None, None, ""));
        assert_eq!(parts(&parsed("<13> spaced")), (None, None, None, None, " spaced"));
        // `<PRI>1 ` claims RFC 5424: not guessed at.
        assert!(parse(b"<13>1 broken 5424").is_none());
        for other in [&b"<13>12 x"[..], b"<13>2 - - - - - -", b"<13>01 x", b"<13>1x"] {
            assert!(parse(other).is_some(), "{other:?}");
        }
    }

    #[test]
    fn tag_edges() {
        let header = "<13>Oct 11 22:14:15 host ";
        let cases: &[(&str, Option<&str>, Option<&str>, &str)] = &[
            ("tag: msg", Some("tag"), None, "msg"),
            ("tag:msg", Some("tag"), None, "msg"),
            ("tag:  two", Some("tag"), None, " two"),
            ("tag[1]:msg", Some("tag"), Some("1"), "msg"),
            ("tag[1]", Some("tag"), Some("1"), ""),
            ("tag:", Some("tag"), None, ""),
            ("tag", None, None, "tag"),
            ("tag[] msg", None, None, "tag[] msg"),
            ("tag[1 msg", None, None, "tag[1 msg"),
            (": msg", None, None, ": msg"),
            ("-: msg", None, None, "msg"),
            ("abcdefghijklmnopqrstuvwxyz0123456: too long", None, None, "abcdefghijklmnopqrstuvwxyz0123456: too long"),
            (
                "abcdefghijklmnopqrstuvwxyz012345: just fits",
                Some("abcdefghijklmnopqrstuvwxyz012345"),
                None,
                "just fits",
            ),
        ];
        for (content, tag, pid, msg) in cases {
            let raw = format!("{header}{content}");
            let m = parsed(&raw);
            assert_eq!((m.app_name.as_deref(), m.procid.as_deref(), &*m.msg), (*tag, *pid, *msg), "{raw}");
            assert_eq!(m.hostname.as_deref(), Some("host"));
        }
    }

    #[test]
    fn hostname_edges() {
        let at = |rest: &str| {
            let raw = format!("<13>Oct 11 22:14:15 {rest}");
            let m = parse(raw.as_bytes()).unwrap().into_owned();
            (m.hostname.map(|h| h.into_owned()), m.app_name.map(|a| a.into_owned()), m.msg.into_owned())
        };
        assert_eq!(at("fe80::1 t: m"), (Some("fe80::1".into()), Some("t".into()), "m".into()));
        assert_eq!(at("- t: m"), (None, Some("t".into()), "m".into()));
        assert_eq!(at("su: m"), (None, Some("su".into()), "m".into()));
        assert_eq!(at("alone"), (None, None, "alone".into()));
        assert_eq!(at(""), (None, None, "".into()));
        assert_eq!(at("host "), (Some("host".into()), None, "".into()));
    }

    #[test]
    fn timestamp_edges() {
        for bad in [
            "<13>Oct 32 22:14:15 h t: m",
            "<13>Foo 11 22:14:15 h t: m",
            "<13>Oct 11 24:14:15 h t: m",
            "<13>Feb 30 00:00:00 h t: m",
        ] {
            let m = parsed(bad);
            assert_eq!((ts(&m), m.hostname.as_deref()), (None, None), "{bad}");
        }
        assert_eq!(ts(&parsed("<13>OCT 11 22:14:15 h t: m")), Some("OCT 11 22:14:15"));
        assert_eq!(ts(&parsed("<13>Feb 29 22:14:15 h t: m")), Some("Feb 29 22:14:15"));
        assert_eq!(ts(&parsed("<13>Oct 11 22:14:15")), Some("Oct 11 22:14:15"));
        // Glued to what follows: not a timestamp.
        assert_eq!(ts(&parsed("<13>Oct 11 22:14:15x h t: m")), None);
        assert_eq!(ts(&parsed("<13>Oct 11 22:14:15.1234567890 h t: m")), None);
    }

    #[test]
    fn completing_timestamps() {
        let complete = |t: &str, received: &str| timestamp_rfc3339(t, received);
        assert_eq!(complete("Oct 11 22:14:15", "2026-11-26T00:00:00Z").as_deref(), Some("2026-10-11T22:14:15Z"));
        // Dec → Jan rollover, both ways.
        assert_eq!(complete("Dec 31 23:59:59", "2027-01-01T00:00:10Z").as_deref(), Some("2026-12-31T23:59:59Z"));
        assert_eq!(complete("Jan  1 00:00:30", "2026-12-31T23:59:00Z").as_deref(), Some("2027-01-01T00:00:30Z"));
        // A few days ahead is clock skew, further is last year.
        assert_eq!(complete("Mar 10 00:00:00", "2026-03-04T00:00:00Z").as_deref(), Some("2026-03-10T00:00:00Z"));
        assert_eq!(complete("Mar 20 00:00:00", "2026-03-04T00:00:00Z").as_deref(), Some("2025-03-20T00:00:00Z"));
        // received_at with an offset counts in UTC.
        assert_eq!(complete("Jan  1 00:30:00", "2026-12-31T23:00:00-02:00").as_deref(), Some("2027-01-01T00:30:00Z"));
        // Fraction, explicit year, leap days.
        assert_eq!(
            complete("Sep 17 12:01:02.345", "2026-09-17T12:01:03Z").as_deref(),
            Some("2026-09-17T12:01:02.345Z")
        );
        assert_eq!(complete("Jan 05 2024 10:10:10", "2026-01-01T00:00:00Z").as_deref(), Some("2024-01-05T10:10:10Z"));
        assert_eq!(complete("Feb 29 12:00:00", "2028-03-01T00:00:00Z").as_deref(), Some("2028-02-29T12:00:00Z"));
        assert_eq!(complete("Feb 29 12:00:00", "2026-03-01T00:00:00Z"), None);
        assert_eq!(complete("Feb 29 2023 12:00:00", "2026-03-01T00:00:00Z"), None);
        assert_eq!(complete("Oct 11 22:14:15 trailing", "2026-03-01T00:00:00Z"), None);
        assert_eq!(complete("2003-10-11T22:14:15.003Z", "x").as_deref(), Some("2003-10-11T22:14:15.003Z"));
        assert!(complete("Oct 11 22:14:15", "not a time").is_some());
    }

    #[test]
    fn encode_writes_a_clean_header() {
        let m = Message {
            facility: Some(4),
            severity: Some(2),
            timestamp: Some("2026-01-02T03:04:05.678+01:00".into()),
            hostname: Some("my host:".into()),
            app_name: Some("a very long tag name: with [stuff] and more".into()),
            procid: Some("12[3]".into()),
            ..crate::syslog::parse(b"<13>1 - - - - - - body: text")
        };
        let mut out = Vec::new();
        encode(&m, &mut out);
        assert_eq!(out, b"<34>Jan  2 02:04:05 my_host_ a_very_long_tag_name__with__stuf[12_3_]: body: text");
        let back = parse(&out).unwrap();
        assert_eq!(
            parts(&back),
            (
                Some("Jan  2 02:04:05"),
                Some("my_host_"),
                Some("a_very_long_tag_name__with__stuf"),
                Some("12_3_"),
                "body: text"
            )
        );

        let bare = Message { msg: "".into(), ..Message::unparsed(b"") };
        out.clear();
        encode(&Message { timestamp: Some("Oct  1 22:14:15.5".into()), ..bare.clone() }, &mut out);
        assert_eq!(out, b"<13>Oct  1 22:14:15 - -:");
        let back = parse(&out).unwrap();
        assert_eq!(parts(&back), (Some("Oct  1 22:14:15"), None, None, None, ""));
        out.clear();
        encode(&bare, &mut out);
        assert!(parse(&out).unwrap().timestamp.is_some(), "now is written when the time is unknown");
    }

    fn bsd_timestamp_text() -> impl Strategy<Value = String> {
        (0..12usize, 1..=28u8, 0..24u8, 0..60u8, 0..60u8).prop_map(|(mo, d, h, mi, s)| {
            format!("{} {d:>2} {h:02}:{mi:02}:{s:02}", std::str::from_utf8(MONTHS[mo]).unwrap())
        })
    }

    proptest! {
        // Many cases: these are the fuzz targets for what peers send.
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn never_panics(raw in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = parse(&raw);
        }

        #[test]
        fn never_panics_after_a_header(
            head in concat!(
                "(<[0-9]{1,3}>)?",
                "((Jan|Feb|OCT) [ 0-9]{1,2} ([0-9]{4} )?[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{0,10})?:? ?)?"
            ),
            tail in proptest::collection::vec(any::<u8>(), 0..60),
        ) {
            let mut raw = head.into_bytes();
            raw.extend_from_slice(&tail);
            if let Some(m) = parse(&raw) {
                let _ = m.timestamp_rfc3339("2026-01-01T00:00:00Z");
            }
        }

        #[test]
        fn encode_then_parse_is_identity(
            facility in 0..24u8,
            severity in 0..8u8,
            timestamp in bsd_timestamp_text(),
            hostname in proptest::option::of("[A-Za-z0-9._-]{1,255}"),
            app_name in proptest::option::of("[!-9;-Z^-~\\\\]{1,32}"),
            procid in proptest::option::of("[!-Z^-~\\\\]{1,128}"),
            msg in "(?s).{0,40}",
        ) {
            let msg = msg.trim_end_matches(['\r', '\n', '\0']);
            let hostname = hostname.filter(|h| h != "-");
            let app_name = app_name.filter(|a| a != "-");
            let original = Message {
                facility: Some(facility),
                severity: Some(severity),
                version: None,
                timestamp: Some(timestamp.into()),
                hostname: hostname.map(Cow::Owned),
                app_name: app_name.map(Cow::Owned),
                procid: procid.map(Cow::Owned),
                msgid: None,
                structured_data: Vec::new(),
                msg: msg.into(),
                format: Format::Rfc3164,
            };
            let mut out = Vec::new();
            encode(&original, &mut out);
            prop_assert_eq!(crate::syslog::parse(&out), original);
        }
    }
}
