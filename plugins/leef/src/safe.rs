//! Making text safe for LEEF, which has no escaping at all.
//!
//! A header field ends at `|` and an attribute value at the delimiter, and a
//! line break ends the event: such a character inside a value would cut it
//! short and let the rest pass for other fields, or for a forged event. They
//! are therefore replaced by a space, and counted, so the loss shows in the
//! plugin's log instead of passing silently. A tab is replaced everywhere, not
//! only where it is the delimiter: it is LEEF 1.0's delimiter and the one
//! QRadar's own property expressions (`key=([^\t]+)`) stop at. `|` inside an
//! attribute value is kept unless it is the delimiter: the header ends at its
//! fixed count of pipes, so readers never split the attributes on it.

/// What replaces an unsafe character.
pub const REPLACEMENT: char = ' ';

/// Where a text goes, which tells which characters it may not hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// A header field (vendor, product, version, EventID).
    Header,
    /// An attribute value, with the attribute delimiter.
    Value(char),
}

impl Place {
    fn allows(self, c: char) -> bool {
        match c {
            '\r' | '\n' | '\t' => false,
            '|' if self == Place::Header => false,
            c => !matches!(self, Place::Value(delimiter) if c == delimiter),
        }
    }
}

/// Append `text` to `out`, cut to `max` characters first when given, with
/// every character that `place` does not allow replaced; returns how many
/// were replaced.
pub fn push(text: &str, max: Option<usize>, place: Place, out: &mut String) -> usize {
    let mut replaced = 0;
    let chars = text.chars().take(max.unwrap_or(usize::MAX));
    for c in chars {
        if place.allows(c) {
            out.push(c);
        } else {
            out.push(REPLACEMENT);
            replaced += 1;
        }
    }
    replaced
}

/// Replacements in one line: how many characters, and in which fields.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Replaced {
    pub characters: usize,
    /// The attribute keys, or `EventID` for the header.
    pub fields: Vec<String>,
}

impl Replaced {
    pub fn record(&mut self, field: &str, characters: usize) {
        if characters > 0 {
            self.characters += characters;
            self.fields.push(field.to_owned());
        }
    }
}

/// The running count over an instance's life, reported to the log each time
/// the number of affected events doubles: the log keeps the count current to
/// within a factor of two without a line per event.
#[derive(Debug, Default)]
pub struct Tally {
    pub events: u64,
    pub characters: u64,
    next_report: u64,
}

impl Tally {
    /// Count one line's replacements; `true` when the count is due in the log.
    pub fn add(&mut self, replaced: &Replaced) -> bool {
        if replaced.characters == 0 {
            return false;
        }
        self.events += 1;
        self.characters += replaced.characters as u64;
        if self.events >= self.next_report {
            self.next_report = self.events * 2;
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(text: &str, max: Option<usize>, place: Place) -> (String, usize) {
        let mut out = String::new();
        let replaced = push(text, max, place, &mut out);
        (out, replaced)
    }

    #[test]
    fn header_fields_lose_pipes_tabs_and_line_breaks() {
        assert_eq!(clean("a|b\tc\r\nd^e=f\\", None, Place::Header), ("a b c  d^e=f\\".to_owned(), 4));
    }

    #[test]
    fn values_lose_the_delimiter_tabs_and_line_breaks_only() {
        assert_eq!(clean("a|b^c\td\ne", None, Place::Value('^')), ("a|b c d e".to_owned(), 3));
        assert_eq!(clean("a|b^c", None, Place::Value('|')), ("a b^c".to_owned(), 1));
        assert_eq!(clean("x=y \\ é 日本", None, Place::Value('\t')), ("x=y \\ é 日本".to_owned(), 0));
    }

    #[test]
    fn cuts_by_characters_before_replacing() {
        assert_eq!(clean("日本\n語", Some(3), Place::Header), ("日本 ".to_owned(), 1));
        assert_eq!(clean("abc", Some(0), Place::Header), (String::new(), 0));
    }

    #[test]
    fn the_tally_reports_when_the_count_doubles() {
        let mut tally = Tally::default();
        let mut some = Replaced::default();
        some.record("msg", 2);
        some.record("cat", 0);
        assert_eq!(some.fields, ["msg"]);
        assert!(!tally.add(&Replaced::default()));
        let mut reported = Vec::new();
        for _ in 1..=9 {
            if tally.add(&some) {
                reported.push(tally.events);
            }
        }
        assert_eq!(reported, [1, 2, 4, 8]);
        assert_eq!(tally.characters, 18);
    }
}
