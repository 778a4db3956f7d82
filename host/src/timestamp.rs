//! RFC 3339 timestamps as the router writes them (UTC, microseconds).

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Now, as RFC 3339 text in UTC.
pub fn now_rfc3339() -> String {
    format_rfc3339(OffsetDateTime::now_utc())
}

/// `at` as RFC 3339 text in UTC, truncated to microseconds.
pub fn format_rfc3339(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    let at = at.replace_nanosecond(at.nanosecond() / 1000 * 1000).unwrap_or(at);
    at.format(&Rfc3339).unwrap_or_else(|_| at.unix_timestamp().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_with_microseconds() {
        let at = time::macros::datetime!(2026-11-26 21:30:05.123456789 +02:00);
        assert_eq!(format_rfc3339(at), "2026-11-26T19:30:05.123456Z");
    }
}
