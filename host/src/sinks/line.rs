//! The one rule by which every line-oriented sink (`file`, `stdout`, `tcp`,
//! and `syslog` with newline framing) writes an event: exactly one line.
//!
//! A line break inside an event's body — a plugin's emitted line, a peer's
//! octet-counted message forwarded as it came — would hand the reader a
//! second record that no source received: a forged log entry. So CR/LF at
//! the end are dropped (the sink's LF ends the line anyway), and any other LF
//! is written as the four characters `#012` and CR as `#015`, the octal
//! escapes rsyslog itself shows for control characters. This is RFC 6587
//! newline framing as [`crate::syslog::frame::encode`] writes it, shared
//! rather than repeated so the sinks cannot drift apart.

use crate::syslog::frame::{self, Framing};

/// Append `text` to `out` as one LF-terminated line (see the module docs).
pub fn push(text: &[u8], out: &mut Vec<u8>) {
    frame::encode(Framing::Newline, text, out);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str) -> String {
        let mut out = Vec::new();
        push(text.as_bytes(), &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn line_breaks_inside_are_escaped_and_at_the_end_dropped() {
        assert_eq!(line("plain"), "plain\n");
        assert_eq!(line("a\nb\r\nc\rd"), "a#012b#015#012c#015d\n");
        assert_eq!(line("trailing\r\n\n"), "trailing\n");
        assert_eq!(line("\nleading"), "#012leading\n");
        assert_eq!(line(""), "\n");
        assert_eq!(line("\r\n"), "\n");
        assert_eq!(line("tab\tand #012 stay"), "tab\tand #012 stay\n");
    }
}
