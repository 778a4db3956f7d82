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
//!
//! An event's JSON (the body when no plugin emitted a line) is the one
//! exception: raw CR and LF can only be whitespace between its tokens (inside
//! a JSON string they are escaped), so they become spaces and the line stays
//! valid JSON even when a plugin returned it pretty-printed.

use crate::event::Event;
use crate::syslog::frame::{self, Framing};

/// Append `text` to `out` as one LF-terminated line (see the module docs).
pub fn push(text: &[u8], out: &mut Vec<u8>) {
    frame::encode(Framing::Newline, text, out);
}

/// Append `event`'s body to `out` as one LF-terminated line: its emitted line
/// by [`push`], or its JSON with line breaks turned into spaces.
pub fn push_body(event: &Event, out: &mut Vec<u8>) {
    match event.line() {
        Some(line) => push(line.as_bytes(), out),
        None => {
            let json = event.json().as_bytes();
            let start = out.len();
            out.extend_from_slice(json.trim_ascii_end());
            let body = &mut out[start..];
            let mut from = 0;
            while let Some(i) = memchr::memchr2(b'\n', b'\r', &body[from..]) {
                body[from + i] = b' ';
                from += i + 1;
            }
            out.push(b'\n');
        }
    }
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

    /// A pretty-printed event stays one line of valid JSON, and the same
    /// value; an emitted line still follows the escaping rule.
    #[test]
    fn an_event_s_json_is_one_line_of_the_same_json() {
        let pretty = "{\n  \"a\": \"x\\ny\",\r\n  \"b\": [1,\n2]\n}\n";
        let mut out = Vec::new();
        push_body(&Event::from_json(pretty.to_owned()), &mut out);
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.matches('\n').count(), 1, "{text:?}");
        assert!(text.ends_with("}\n"), "{text:?}");
        let (ours, theirs): (serde_json::Value, serde_json::Value) =
            (serde_json::from_str(&text).unwrap(), serde_json::from_str(pretty).unwrap());
        assert_eq!(ours, theirs);

        let mut emitted = Event::from_json(pretty.to_owned());
        emitted.set_line("a\nb".to_owned());
        let mut out = Vec::new();
        push_body(&emitted, &mut out);
        assert_eq!(out, b"a#012b\n");
    }
}
