//! Event timestamps: RFC 3339 text or an epoch number in, RFC 3339 in UTC or
//! epoch milliseconds out.
//!
//! Plugins that normalise or re-encode an event's time share this one reading
//! of it, so they agree on what is a timestamp and which instant it names. The
//! calendar work is the `time` crate's; what is added here is the policy
//! around it: the fraction digits a timestamp was written with are kept, since
//! normalising must neither invent nor drop precision, and an epoch number's
//! unit is told by its size. Nothing here reads the clock: a plugin has none
//! (the sandbox's clock reads zero).

use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcDateTime};

/// An instant, with the number of fraction-of-second digits it was written with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timestamp {
    at: UtcDateTime,
    /// 0 to 9.
    digits: usize,
}

impl Timestamp {
    /// Read RFC 3339 text with any offset (`Z`, `+hh:mm`, `-hh:mm`), date and
    /// time separated by `T` or a space; surrounding whitespace is ignored.
    pub fn parse_rfc3339(text: &str) -> Option<Self> {
        let text = text.trim();
        // The crate takes any byte between date and time; RFC 3339 names `T`
        // and, in a note, a space. Anything else is more likely not a
        // timestamp than one.
        if !matches!(text.as_bytes().get(10), Some(b'T' | b't' | b' ')) {
            return None;
        }
        // Checked: an offset can move 9999-12-31 into a year the crate cannot
        // hold, and the unchecked conversion panics.
        let at = OffsetDateTime::parse(text, &Rfc3339).ok()?.checked_to_utc()?;
        // Parsed, the text starts with the fixed-width `YYYY-MM-DDThh:mm:ss`.
        // Digits past nanoseconds carry nothing, as the crate ignores them.
        let digits = text
            .get(19..)
            .and_then(|rest| rest.strip_prefix('.'))
            .map_or(0, |fraction| fraction.bytes().take_while(u8::is_ascii_digit).count().min(9));
        Some(Self { at, digits })
    }

    /// Read an epoch number. Its size tells the unit (seconds, milliseconds,
    /// microseconds or nanoseconds), as agent platforms use all four and rarely
    /// say which; a number with a fraction is seconds, kept to the millisecond.
    pub fn from_epoch(number: &serde_json::Number) -> Option<Self> {
        let (nanos, digits) = if let Some(n) = number.as_i64() {
            // Seconds below 10^11 reach the year 5138; anything longer is a
            // finer unit, a factor of 1000 per step.
            let (nanos_per_unit, digits) = match n.unsigned_abs() {
                0..100_000_000_000 => (1_000_000_000, 0),
                100_000_000_000..100_000_000_000_000 => (1_000_000, 3),
                100_000_000_000_000..100_000_000_000_000_000 => (1_000, 6),
                _ => (1, 9),
            };
            (i128::from(n) * nanos_per_unit, digits)
        } else {
            let seconds = number.as_f64().filter(|f| f.is_finite() && f.abs() < 1e11)?;
            (i128::from((seconds * 1000.0).round() as i64) * 1_000_000, 3)
        };
        let at = UtcDateTime::from_unix_timestamp_nanos(nanos).ok()?;
        Some(Self { at, digits })
    }

    /// The instant as RFC 3339 in UTC with as many fraction digits as it was
    /// written with, or `None` for a year RFC 3339 cannot write (outside
    /// 0000 to 9999).
    pub fn to_rfc3339_utc(&self) -> Option<String> {
        // The crate's writer trims the fraction's trailing zeros (`.250` would
        // come out `.25`), so it writes the whole second and the fraction goes
        // in before its `Z` here.
        let mut text = self.at.replace_nanosecond(0).ok()?.format(&Rfc3339).ok()?;
        if self.digits > 0 {
            let nanos = format!("{:09}", self.at.nanosecond());
            text.insert_str(text.len() - 1, &format!(".{}", &nanos[..self.digits]));
        }
        Some(text)
    }

    /// Milliseconds since the Unix epoch, rounded down (towards the past) so a
    /// time before 1970 counts in the millisecond it falls in.
    pub fn epoch_millis(&self) -> i64 {
        // The crate holds years -9999 to 9999, within ±3.2 × 10^14 ms: the cast
        // cannot truncate.
        self.at.unix_timestamp_nanos().div_euclid(1_000_000) as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The plugins' uses, so the cases below read as they did in the plugins.
    fn normalise_text(text: &str) -> Option<String> {
        Timestamp::parse_rfc3339(text)?.to_rfc3339_utc()
    }
    fn normalise_epoch(number: &serde_json::Number) -> Option<String> {
        Timestamp::from_epoch(number)?.to_rfc3339_utc()
    }
    fn epoch_millis(text: &str) -> Option<i64> {
        Timestamp::parse_rfc3339(text).map(|t| t.epoch_millis())
    }
    fn number_millis(number: &serde_json::Number) -> Option<i64> {
        Timestamp::from_epoch(number).map(|t| t.epoch_millis())
    }

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
    fn epoch_numbers_to_millis() {
        let n = |v: serde_json::Value| number_millis(v.as_number().unwrap());
        assert_eq!(n(serde_json::json!(1_795_696_205)), Some(1_795_696_205_000));
        assert_eq!(n(serde_json::json!(1_795_696_205_123_i64)), Some(1_795_696_205_123));
        assert_eq!(n(serde_json::json!(1_795_696_205_123_456_789_i64)), Some(1_795_696_205_123));
        assert_eq!(n(serde_json::json!(1.5)), Some(1500));
    }

    #[test]
    fn a_time_before_1970_counts_in_the_millisecond_it_falls_in() {
        assert_eq!(epoch_millis("1969-12-31T23:59:59.9999Z"), Some(-1));
        assert_eq!(normalise_text("1969-12-31T23:59:59.9999Z").unwrap(), "1969-12-31T23:59:59.9999Z");
    }

    #[test]
    fn only_real_dates_times_and_separators_are_read() {
        for bad in ["2026-02-30T00:00:00Z", "2026-11-26_12:00:00Z", "2026-11-26T12:00:00+24:00", "2026-11-26T12:30:60Z"]
        {
            assert_eq!(epoch_millis(bad), None, "{bad}");
        }
    }

    // The crate reads a leap second only at the end of a UTC month, as the
    // last nanosecond before the next second.
    #[test]
    fn a_leap_second_is_the_moment_before_the_next_second() {
        assert_eq!(epoch_millis("2016-12-31T23:59:60Z"), Some(1_483_228_799_999));
        assert_eq!(normalise_text("2017-01-01T00:59:60+01:00").unwrap(), "2016-12-31T23:59:59Z");
    }

    #[test]
    fn years_rfc_3339_cannot_write_are_refused() {
        assert_eq!(normalise_text("0000-01-01T00:30:00+01:00"), None);
        assert_eq!(epoch_millis("0000-01-01T00:30:00+01:00"), Some(-62_167_221_000_000));
        assert_eq!(normalise_text("9999-12-31T23:30:00-01:00"), None);
    }
}
