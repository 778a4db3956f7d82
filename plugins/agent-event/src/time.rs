//! The event's `time`: RFC 3339 text or an epoch number in, RFC 3339 UTC out.
//!
//! Plugins have no clock and no date library in the sandbox, so this is the
//! small calendar arithmetic the normaliser needs, nothing more.

/// A point in time: seconds since the Unix epoch plus a fraction kept as the
/// digits it was written with, so normalising does not invent precision.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Instant {
    seconds: i64,
    fraction: String,
}

/// `text` (RFC 3339, any offset) as RFC 3339 in UTC, or `None` if it is not one.
pub fn normalise_text(text: &str) -> Option<String> {
    parse_rfc3339(text.trim()).map(|instant| format_utc(&instant))
}

/// An epoch number as RFC 3339 in UTC. The magnitude tells the unit: seconds,
/// milliseconds, microseconds or nanoseconds, as agent platforms use all four.
pub fn normalise_epoch(number: &serde_json::Number) -> Option<String> {
    let instant = if let Some(n) = number.as_i64() {
        let (divisor, digits) = match n.unsigned_abs() {
            0..100_000_000_000 => (1, 0),
            100_000_000_000..100_000_000_000_000 => (1_000, 3),
            100_000_000_000_000..100_000_000_000_000_000 => (1_000_000, 6),
            _ => (1_000_000_000, 9),
        };
        let fraction = n.rem_euclid(divisor);
        let fraction = if digits == 0 { String::new() } else { format!("{fraction:0digits$}") };
        Instant { seconds: n.div_euclid(divisor), fraction }
    } else {
        let seconds = number.as_f64().filter(|f| f.is_finite() && f.abs() < 1e11)?;
        let millis = (seconds * 1000.0).round() as i64;
        Instant { seconds: millis.div_euclid(1000), fraction: format!("{:03}", millis.rem_euclid(1000)) }
    };
    Some(format_utc(&instant))
}

fn parse_rfc3339(text: &str) -> Option<Instant> {
    let bytes = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = text.get(range)?;
        part.bytes().all(|b| b.is_ascii_digit()).then(|| part.parse().ok())?
    };
    let year = digits(0..4)?;
    let month = digits(5..7)?;
    let day = digits(8..10)?;
    let hour = digits(11..13)?;
    let minute = digits(14..16)?;
    let second = digits(17..19)?;
    let separators_ok = bytes.get(4) == Some(&b'-')
        && bytes.get(7) == Some(&b'-')
        && matches!(bytes.get(10), Some(b'T' | b't' | b' '))
        && bytes.get(13) == Some(&b':')
        && bytes.get(16) == Some(&b':');
    if !separators_ok || !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut rest = &text[19..];
    let mut fraction = String::new();
    if let Some(after_dot) = rest.strip_prefix('.') {
        let len = after_dot.bytes().take_while(u8::is_ascii_digit).count();
        if len == 0 {
            return None;
        }
        fraction = after_dot[..len.min(9)].to_owned();
        rest = &after_dot[len..];
    }
    let offset_minutes = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let zone = &rest[1..];
            let (h, m) = (zone.get(0..2)?, zone.get(3..5)?);
            if zone.len() != 5 || zone.as_bytes()[2] != b':' {
                return None;
            }
            let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
            if h > 23 || m > 59 {
                return None;
            }
            sign * (h * 60 + m)
        }
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    Some(Instant { seconds, fraction })
}

fn format_utc(instant: &Instant) -> String {
    let days = instant.seconds.div_euclid(86_400);
    let of_day = instant.seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let fraction = if instant.fraction.is_empty() { String::new() } else { format!(".{}", instant.fraction) };
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}{fraction}Z",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    )
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_text_is_kept_as_written() {
        assert_eq!(normalise_text("2026-11-26T12:30:05.123456Z").unwrap(), "2026-11-26T12:30:05.123456Z");
        assert_eq!(normalise_text("2026-11-26T12:30:05Z").unwrap(), "2026-11-26T12:30:05Z");
    }

    #[test]
    fn offsets_are_converted_to_utc_across_day_and_year_edges() {
        assert_eq!(normalise_text("2026-11-26T01:00:00.5+02:00").unwrap(), "2026-11-25T23:00:00.5Z");
        assert_eq!(normalise_text("2025-12-31t23:30:00-01:00").unwrap(), "2026-01-01T00:30:00Z");
        assert_eq!(normalise_text("2024-02-29 10:00:00+00:00").unwrap(), "2024-02-29T10:00:00Z");
    }

    #[test]
    fn rejects_what_is_not_rfc_3339() {
        for bad in [
            "",
            "yesterday",
            "2026-11-26",
            "2026-13-01T00:00:00Z",
            "2025-02-29T00:00:00Z",
            "2026-11-26T12:00:00",
            "2026-11-26T12:00:00+0200",
            "2026-11-26T12:00:00.Z",
            "2026-11-26T25:00:00Z",
        ] {
            assert_eq!(normalise_text(bad), None, "{bad}");
        }
    }

    #[test]
    fn epoch_numbers_in_every_unit() {
        let n = |v: serde_json::Value| normalise_epoch(v.as_number().unwrap()).unwrap();
        assert_eq!(n(serde_json::json!(1_764_160_205)), "2025-11-26T12:30:05Z");
        assert_eq!(n(serde_json::json!(1_764_160_205_123_i64)), "2025-11-26T12:30:05.123Z");
        assert_eq!(n(serde_json::json!(1_764_160_205_123_456_i64)), "2025-11-26T12:30:05.123456Z");
        assert_eq!(n(serde_json::json!(1_764_160_205_123_456_789_i64)), "2025-11-26T12:30:05.123456789Z");
        assert_eq!(n(serde_json::json!(1_764_160_205.25)), "2025-11-26T12:30:05.250Z");
        assert_eq!(n(serde_json::json!(0)), "1970-01-01T00:00:00Z");
    }
}
