//! Splitting a byte stream into lines, with a length limit.
//!
//! Sources feed the bytes they read, in chunks of any size, and get back whole
//! lines with the stream offset just past each one (a file's checkpoint is
//! such an offset, so a restart resumes at a line boundary). A line longer
//! than the limit is never dropped silently and never split into several
//! lines: it comes out once, marked oversized, with its first bytes and its
//! whole length, and the splitter stays in step with the line endings. Memory
//! stays bounded by the limit whatever the input.

/// The longest line a line-reading source accepts by default, in bytes.
pub fn default_max_line_bytes() -> usize {
    1024 * 1024
}

/// One line cut from the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The line without its ending (`\n` or `\r\n`), or the first
    /// `max_line_bytes` bytes of an oversized line. Invalid UTF-8 is replaced.
    pub text: String,
    /// The whole length in bytes (without the ending) of a line that exceeded
    /// the limit; `None` for a line within it.
    pub oversized: Option<u64>,
    /// The stream offset just past the line's ending.
    pub end: u64,
}

/// Cuts lines from chunks of a byte stream.
#[derive(Debug)]
pub struct LineSplitter {
    max_line_bytes: usize,
    /// The start of a line whose ending has not arrived yet. It holds at most
    /// `max_line_bytes + 1` bytes: the extra one may be the `\r` of a `\r\n`.
    partial: Vec<u8>,
    /// Set while skipping the rest of an oversized line.
    skipping: Option<Skipping>,
    /// Stream offset of the next byte fed.
    offset: u64,
}

#[derive(Debug)]
struct Skipping {
    /// The first `max_line_bytes` bytes, kept for the oversized item.
    head: Vec<u8>,
    /// Bytes of the line seen so far, including a last `\r`.
    seen: u64,
    /// Whether the last byte seen was `\r`, which is part of the ending if a
    /// `\n` comes next.
    last_was_cr: bool,
}

impl LineSplitter {
    /// A splitter for a stream whose next byte is at `offset`.
    pub fn new(max_line_bytes: usize, offset: u64) -> Self {
        LineSplitter { max_line_bytes, partial: Vec::new(), skipping: None, offset }
    }

    /// The stream offset of the next byte to be fed.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    pub fn max_line_bytes(&self) -> usize {
        self.max_line_bytes
    }

    /// Feed the next chunk of the stream; every line it completes is added to `out`.
    pub fn feed(&mut self, mut chunk: &[u8], out: &mut impl Extend<Line>) {
        while let Some(newline) = chunk.iter().position(|&b| b == b'\n') {
            let before = &chunk[..newline];
            self.offset += newline as u64 + 1;
            let line = match self.skipping.take() {
                Some(skipping) => {
                    let ends_with_cr = before.last().map_or(skipping.last_was_cr, |&b| b == b'\r');
                    let len = skipping.seen + before.len() as u64 - u64::from(ends_with_cr);
                    self.oversized(skipping.head, len)
                }
                None => {
                    let ends_with_cr = before.last().or(self.partial.last()) == Some(&b'\r');
                    let len = self.partial.len() + before.len() - usize::from(ends_with_cr);
                    let keep = len.min(self.max_line_bytes);
                    let from_before = keep.saturating_sub(self.partial.len()).min(before.len());
                    self.partial.extend_from_slice(&before[..from_before]);
                    self.partial.truncate(keep);
                    let text = lossy(std::mem::take(&mut self.partial));
                    let oversized = (len > self.max_line_bytes).then_some(len as u64);
                    Line { text, oversized, end: self.offset }
                }
            };
            out.extend([line]);
            chunk = &chunk[newline + 1..];
        }
        self.absorb(chunk);
    }

    /// The stream has ended: the last line, if it had no ending. Sources whose
    /// input may still grow (files) do not call this, so that a line being
    /// written is not cut in two.
    pub fn finish(&mut self) -> Option<Line> {
        if let Some(skipping) = self.skipping.take() {
            // No ending came, so a trailing `\r` is part of the line.
            return Some(self.oversized(skipping.head, skipping.seen));
        }
        if self.partial.is_empty() {
            return None;
        }
        let len = self.partial.len();
        let oversized = (len > self.max_line_bytes).then_some(len as u64);
        self.partial.truncate(self.max_line_bytes);
        Some(Line { text: lossy(std::mem::take(&mut self.partial)), oversized, end: self.offset })
    }

    /// Take in bytes that contain no line ending.
    fn absorb(&mut self, chunk: &[u8]) {
        let Some(&last) = chunk.last() else { return };
        self.offset += chunk.len() as u64;
        if let Some(skipping) = &mut self.skipping {
            skipping.seen += chunk.len() as u64;
            skipping.last_was_cr = last == b'\r';
            return;
        }
        let total = self.partial.len() + chunk.len();
        // One byte past the limit may still be the `\r` of a `\r\n`.
        if total <= self.max_line_bytes || (total == self.max_line_bytes + 1 && last == b'\r') {
            self.partial.extend_from_slice(chunk);
            return;
        }
        let from_chunk = self.max_line_bytes.saturating_sub(self.partial.len()).min(chunk.len());
        self.partial.extend_from_slice(&chunk[..from_chunk]);
        self.partial.truncate(self.max_line_bytes);
        let head = std::mem::take(&mut self.partial);
        self.skipping = Some(Skipping { head, seen: total as u64, last_was_cr: last == b'\r' });
    }

    fn oversized(&self, head: Vec<u8>, len: u64) -> Line {
        Line { text: lossy(head), oversized: Some(len), end: self.offset }
    }
}

fn lossy(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|err| String::from_utf8_lossy(err.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(max: usize, chunks: &[&[u8]]) -> (Vec<Line>, Option<Line>) {
        let mut splitter = LineSplitter::new(max, 0);
        let mut out = Vec::new();
        for chunk in chunks {
            splitter.feed(chunk, &mut out);
        }
        let last = splitter.finish();
        (out, last)
    }

    fn line(text: &str, end: u64) -> Line {
        Line { text: text.to_owned(), oversized: None, end }
    }

    fn oversized(head: &str, len: u64, end: u64) -> Line {
        Line { text: head.to_owned(), oversized: Some(len), end }
    }

    #[test]
    fn splits_lf_and_crlf_with_offsets_past_each_ending() {
        let (lines, last) = split(100, &[b"one\ntwo\r\n\nthree"]);
        assert_eq!(lines, vec![line("one", 4), line("two", 9), line("", 10)]);
        assert_eq!(last, Some(line("three", 15)));
    }

    #[test]
    fn a_line_may_arrive_in_many_chunks() {
        let (lines, last) = split(100, &[b"ab", b"c", b"\r", b"\nde", b"f\n"]);
        assert_eq!(lines, vec![line("abc", 5), line("def", 9)]);
        assert_eq!(last, None);
    }

    #[test]
    fn a_line_exactly_at_the_limit_is_kept_whatever_its_ending() {
        let (lines, _) = split(3, &[b"abc\nabc\r\n"]);
        assert_eq!(lines, vec![line("abc", 4), line("abc", 9)]);
        // The `\r` is held back until the next chunk says whether it ends the line.
        let (lines, _) = split(3, &[b"abc\r", b"\nxyz", b"\r", b"\n"]);
        assert_eq!(lines, vec![line("abc", 5), line("xyz", 10)]);
    }

    #[test]
    fn an_oversized_line_comes_out_once_with_its_head_and_length() {
        let (lines, last) = split(4, &[b"short\nabcdefghij\nok\n"]);
        assert_eq!(lines, vec![oversized("shor", 5, 6), oversized("abcd", 10, 17), line("ok", 20)]);
        assert_eq!(last, None);
    }

    #[test]
    fn an_oversized_line_across_chunks_stays_in_step() {
        let (lines, last) = split(4, &[b"ok\nabc", b"defg", b"hij\r", b"\nnext\r\n", b"tail"]);
        assert_eq!(lines, vec![line("ok", 3), oversized("abcd", 10, 15), line("next", 21)]);
        assert_eq!(last, Some(line("tail", 25)));

        // A `\r` in the middle of a skipped line counts as content.
        let (lines, _) = split(2, &[b"abc\r", b"d\r", b"\n"]);
        assert_eq!(lines, vec![oversized("ab", 5, 7)]);
    }

    #[test]
    fn an_unterminated_oversized_line_is_reported_at_the_end_of_input() {
        let (lines, last) = split(3, &[b"a\nlonger than three"]);
        assert_eq!(lines, vec![line("a", 2)]);
        assert_eq!(last, Some(oversized("lon", 17, 19)));
    }

    #[test]
    fn invalid_utf8_is_replaced_not_rejected() {
        let (lines, _) = split(100, &[b"caf\xc3\xa9 \xff!\n"]);
        assert_eq!(lines, vec![line("caf\u{e9} \u{fffd}!", 9)]);
    }

    #[test]
    fn offsets_continue_from_the_starting_offset() {
        let mut splitter = LineSplitter::new(10, 1000);
        let mut out = Vec::new();
        splitter.feed(b"x\npartial", &mut out);
        assert_eq!(out, vec![line("x", 1002)]);
        assert_eq!(splitter.offset(), 1009);
    }
}
