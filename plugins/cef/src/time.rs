//! `rt` wants epoch milliseconds; events carry RFC 3339 text. The sandbox has
//! no date library, so this is the small calendar arithmetic that needs.

/// Milliseconds since the Unix epoch for an RFC 3339 timestamp (any offset).
pub fn epoch_millis(text: &str) -> Option<i64> {
    let text = text.trim();
    let field = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = text.get(range)?;
        part.bytes().all(|b| b.is_ascii_digit()).then(|| part.parse().ok())?
    };
    let bytes = text.as_bytes();
    let shape = bytes.get(4) == Some(&b'-')
        && bytes.get(7) == Some(&b'-')
        && matches!(bytes.get(10), Some(b'T' | b't' | b' '))
        && bytes.get(13) == Some(&b':')
        && bytes.get(16) == Some(&b':');
    let (year, month, day) = (field(0..4)?, field(5..7)?, field(8..10)?);
    let (hour, minute, second) = (field(11..13)?, field(14..16)?, field(17..19)?);
    if !shape || !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut rest = &text[19..];
    let mut millis = 0;
    if let Some(after) = rest.strip_prefix('.') {
        let len = after.bytes().take_while(u8::is_ascii_digit).count();
        if len == 0 {
            return None;
        }
        let digits = &after[..len.min(3)];
        millis = digits.parse::<i64>().ok()? * 10_i64.pow(3 - digits.len() as u32);
        rest = &after[len..];
    }
    let offset_seconds = match rest {
        "Z" | "z" => 0,
        zone if zone.len() == 6 && zone.as_bytes()[3] == b':' => {
            let sign = match zone.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let hours: i64 = zone.get(1..3)?.parse().ok()?;
            let minutes: i64 = zone.get(4..6)?.parse().ok()?;
            sign * (hours * 3600 + minutes * 60)
        }
        _ => return None,
    };
    let seconds = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset_seconds;
    Some(seconds * 1000 + millis)
}

/// An epoch number in seconds, milliseconds, microseconds or nanoseconds
/// (told apart by magnitude) as milliseconds.
pub fn number_millis(number: &serde_json::Number) -> Option<i64> {
    if let Some(n) = number.as_i64() {
        return Some(match n.unsigned_abs() {
            0..100_000_000_000 => n * 1000,
            100_000_000_000..100_000_000_000_000 => n,
            100_000_000_000_000..100_000_000_000_000_000 => n / 1000,
            _ => n / 1_000_000,
        });
    }
    number.as_f64().filter(|f| f.is_finite() && f.abs() < 1e11).map(|seconds| (seconds * 1000.0).round() as i64)
}

// Howard Hinnant's days_from_civil (proleptic Gregorian).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_3339_to_epoch_millis() {
        assert_eq!(epoch_millis("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(epoch_millis("2026-11-26T12:30:05.123456Z"), Some(1_795_696_205_123));
        assert_eq!(epoch_millis("2026-11-26T14:30:05.1+02:00"), Some(1_795_696_205_100));
        assert_eq!(epoch_millis("2000-02-29t00:00:00-00:30"), Some(951_784_200_000));
    }

    #[test]
    fn not_rfc_3339() {
        for bad in ["", "now", "2026-11-26", "2026-11-26T12:30:05", "2026-13-26T12:30:05Z", "2026-11-26T12:30:05+0200"]
        {
            assert_eq!(epoch_millis(bad), None, "{bad}");
        }
    }

    #[test]
    fn epoch_numbers() {
        let n = |v: serde_json::Value| number_millis(v.as_number().unwrap());
        assert_eq!(n(serde_json::json!(1_795_696_205)), Some(1_795_696_205_000));
        assert_eq!(n(serde_json::json!(1_795_696_205_123_i64)), Some(1_795_696_205_123));
        assert_eq!(n(serde_json::json!(1_795_696_205_123_456_789_i64)), Some(1_795_696_205_123));
        assert_eq!(n(serde_json::json!(1.5)), Some(1500));
    }
}
