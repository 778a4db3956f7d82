//! Text a plugin hands the host — a `configure` error, a `fail` reason, the
//! output quoted in a failure, a log line — cut to a length a terminal, a log
//! or a dead-letter record can take.
//!
//! The guest decides how long its messages are; a 10 MB error would otherwise
//! fill an operator's terminal, and a 10 MB reason on every event would
//! multiply the dead letter by as much.

/// How many characters of a guest's message are kept.
pub const MAX_CHARS: usize = 1_000;

/// `text` whole if it has at most [`MAX_CHARS`] characters; otherwise its
/// first [`MAX_CHARS`] and a note of how many bytes were cut.
pub fn bounded(mut text: String) -> String {
    // A char is at most 4 bytes: shorter text needs no counting.
    if text.len() <= MAX_CHARS {
        return text;
    }
    let Some((end, _)) = text.char_indices().nth(MAX_CHARS) else { return text };
    let cut = text.len() - end;
    text.truncate(end);
    text.push_str(&format!("… ({} more bytes cut)", thousands(cut)));
    text
}

/// `n` with a comma between groups of three digits: 10,483,826.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_kept_whole() {
        for text in ["", "refused", &"x".repeat(MAX_CHARS), &"é".repeat(MAX_CHARS), &"🦀".repeat(MAX_CHARS)] {
            assert_eq!(bounded(text.to_owned()), text);
        }
    }

    #[test]
    fn long_text_is_cut_on_a_char_boundary_saying_how_much() {
        assert_eq!(bounded("x".repeat(MAX_CHARS + 1)), format!("{}… (1 more bytes cut)", "x".repeat(MAX_CHARS)));
        let text = format!("a{}", "é".repeat(5 << 20));
        let cut = bounded(text);
        assert_eq!(cut, format!("a{}… (10,483,762 more bytes cut)", "é".repeat(MAX_CHARS - 1)));
        let crabs = bounded("🦀".repeat(MAX_CHARS + 1_000));
        assert_eq!(crabs, format!("{}… (4,000 more bytes cut)", "🦀".repeat(MAX_CHARS)));
    }

    #[test]
    fn thousands_are_grouped() {
        for (n, text) in [(0, "0"), (999, "999"), (1_000, "1,000"), (123_456, "123,456"), (1_234_567, "1,234,567")] {
            assert_eq!(thousands(n), text);
        }
    }
}
