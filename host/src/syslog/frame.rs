//! Cutting a TCP/TLS byte stream into syslog messages, and framing messages
//! to send (RFC 6587).
//!
//! Octet counting is `MSG-LEN SP MSG` (MSG-LEN counts MSG only); newline
//! ("non-transparent") framing ends each message with LF. In `auto`, the
//! first frame of a connection decides: a non-zero digit, more digits and a
//! space mean octet counting, anything else newline framing; the choice holds
//! for the connection (a sender does not switch mid-stream, and re-deciding
//! per frame would let a line that starts with `12 ` swallow what follows).
//!
//! The decoder never fails and never buffers more than about
//! `max_message_bytes`:
//! - A line over the limit yields [`Frame::Oversized`] with its first
//!   `max_message_bytes` bytes once its LF arrives (so that `len` is known);
//!   the rest is dropped, not held.
//! - A bad MSG-LEN (`12a `, a leading `0`, a sign as in `-5`, more than 10
//!   digits, or a count over `max_message_bytes`) yields [`Frame::Invalid`]
//!   with the bytes skipped, cut to `max_message_bytes`. A count over the
//!   limit is refused as soon as its digits pass it, like any bad count:
//!   trusting it would mean skipping what it announces, and one bad count
//!   (`4294967296 `) would then swallow the rest of the connection. The
//!   stream is picked up again at the first place a frame can start: right
//!   after an LF (a line-oriented sender, or a sender that ends frames with
//!   LF) or at `DIGITS SP <` not preceded by a digit or a sign (the next
//!   octet-counted syslog frame; every syslog message starts with `<PRI>`;
//!   the `5 <` of `-5 <` is the tail of a bad count, not a frame). Falling
//!   back to LF alone would lose the rest of the connection when a sender
//!   that never writes LF miscounts once. A frame over the limit from an
//!   honest sender is therefore reported as a bad count with its first
//!   bytes, and its body is skipped by the same rule.
//!
//! Between octet-counted frames, CR, LF and NUL are skipped: some senders end
//! each frame with LF as well. Blank lines in newline framing are skipped.

use bytes::{Buf, Bytes, BytesMut};
use std::io;

/// `framing = …` in the source's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Framing {
    /// Decided per connection from its first frame.
    #[default]
    Auto,
    OctetCounting,
    Newline,
}

/// One unit out of the decoder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A message (without its MSG-LEN or LF).
    Message(Bytes),
    /// A line over `max_message_bytes` (newline framing): its first
    /// `max_message_bytes` bytes and its whole length (the bytes before the
    /// LF). An octet-counted frame over the limit is [`Frame::Invalid`].
    Oversized { head: Bytes, len: usize },
    /// Bytes that are not a frame (a bad MSG-LEN, one over the limit
    /// included, or a stream that ended inside an octet-counted frame), cut
    /// to `max_message_bytes`.
    Invalid { reason: String, bytes: Bytes },
}

/// The longest MSG-LEN accepted: 10 digits (up to 9 999 999 999). Longer is
/// garbage, not a length (and would not fit the arithmetic).
const MAX_LEN_DIGITS: usize = 10;

/// The most buffer reserved ahead for a frame's body: the buffer grows as
/// bytes arrive, never by what a peer merely announces.
const MAX_RESERVE: usize = 64 * 1024;

/// A [`tokio_util::codec::Decoder`] for one connection.
#[derive(Debug)]
pub struct Decoder {
    /// `Auto` until the first frame decides.
    framing: Framing,
    max: usize,
    state: State,
}

#[derive(Debug)]
enum State {
    /// Between frames. `scanned`: bytes at the buffer's start known to hold
    /// no LF (newline framing), so a line arriving in many reads is searched
    /// once.
    Boundary { scanned: usize },
    /// Newline framing: dropping the rest of an oversized line up to its LF.
    Discard { head: Bytes, len: usize },
    /// Octet counting: after a bad MSG-LEN, looking for a frame start (see
    /// the module doc). `reason` is `Some` until the skipped bytes have been
    /// reported; `scanned` as above; `after_number`: the byte before the
    /// buffer's start (already dropped) was a digit or a sign.
    Resync { reason: Option<String>, scanned: usize, after_number: bool },
}

/// What [`read_count`] found at the start of a frame.
enum Count {
    /// A valid MSG-LEN: the header (digits and space) and the length.
    Len { header: usize, len: usize },
    /// A bad one, for this reason.
    Bad(String),
    /// More bytes are needed to tell.
    Partial,
}

/// What [`find_resync`] found.
enum Resync {
    /// A frame can start at this index.
    At(usize),
    /// None starts before this index; more bytes are needed to tell whether
    /// one starts here.
    NotBefore(usize),
}

impl Decoder {
    /// A decoder that reports frames over `max_message_bytes` as oversized.
    pub fn new(framing: Framing, max_message_bytes: usize) -> Self {
        Decoder { framing, max: max_message_bytes, state: State::Boundary { scanned: 0 } }
    }

    /// The framing in use: `Auto` until the first frame has decided it.
    pub fn framing(&self) -> Framing {
        self.framing
    }

    fn octet_counted(&mut self, buf: &mut BytesMut) -> Option<Frame> {
        let skip = buf.iter().take_while(|b| matches!(b, b'\r' | b'\n' | 0)).count();
        buf.advance(skip);
        if buf.is_empty() {
            return None;
        }
        let reason = match read_count(buf, self.max) {
            Count::Len { header, len } => return self.counted_body(buf, header, len),
            Count::Partial => return None,
            Count::Bad(reason) => reason,
        };
        self.state = State::Resync { reason: Some(reason), scanned: 1, after_number: false };
        self.resync(buf)
    }

    /// The MSG of a frame whose `header` bytes announced `len` (at most
    /// `max_message_bytes`).
    fn counted_body(&mut self, buf: &mut BytesMut, header: usize, len: usize) -> Option<Frame> {
        let wanted = header + len;
        if buf.len() < wanted {
            buf.reserve((wanted - buf.len()).min(MAX_RESERVE));
            return None;
        }
        buf.advance(header);
        Some(Frame::Message(buf.split_to(len).freeze()))
    }

    fn newline(&mut self, buf: &mut BytesMut, scanned: usize) -> Option<Frame> {
        let mut from = scanned;
        loop {
            let window = &buf[..buf.len().min(self.max.saturating_add(1))];
            match memchr::memchr(b'\n', &window[from.min(window.len())..]) {
                Some(i) => {
                    let mut line = buf.split_to(from + i + 1);
                    line.truncate(from + i);
                    from = 0;
                    if !line.iter().all(|b| matches!(b, b'\r' | b' ' | b'\t' | 0)) {
                        self.state = State::Boundary { scanned: 0 };
                        return Some(Frame::Message(line.freeze()));
                    }
                }
                None if buf.len() > self.max => {
                    let head = buf.split_to(self.max).freeze();
                    self.state = State::Discard { head, len: self.max };
                    return self.discard(buf);
                }
                None => {
                    self.state = State::Boundary { scanned: buf.len() };
                    return None;
                }
            }
        }
    }

    fn discard(&mut self, buf: &mut BytesMut) -> Option<Frame> {
        let State::Discard { len, .. } = &mut self.state else { unreachable!("only called while discarding") };
        match memchr::memchr(b'\n', buf) {
            Some(i) => {
                *len += i;
                buf.advance(i + 1);
                let State::Discard { head, len } = std::mem::replace(&mut self.state, State::Boundary { scanned: 0 })
                else {
                    unreachable!()
                };
                Some(Frame::Oversized { head, len })
            }
            None => {
                *len += buf.len();
                buf.clear();
                None
            }
        }
    }

    fn resync(&mut self, buf: &mut BytesMut) -> Option<Frame> {
        let State::Resync { reason, scanned, after_number } = &mut self.state else {
            unreachable!("only called while resynchronising")
        };
        match find_resync(buf, *scanned, *after_number) {
            Resync::At(at) => {
                let skipped = buf.split_to(at);
                let frame = reason.take().map(|reason| Frame::Invalid { reason, bytes: head(skipped, self.max) });
                self.state = State::Boundary { scanned: 0 };
                frame
            }
            Resync::NotBefore(at) => {
                if reason.is_none() || buf.len() >= self.max {
                    // Reported (or as much as will be reported): drop what is known to be garbage.
                    *after_number = if at > 0 { number_byte(buf[at - 1]) } else { *after_number };
                    let skipped = buf.split_to(at);
                    *scanned = 0;
                    reason.take().map(|reason| Frame::Invalid { reason, bytes: head(skipped, self.max) })
                } else {
                    *scanned = at;
                    None
                }
            }
        }
    }
}

impl tokio_util::codec::Decoder for Decoder {
    type Item = Frame;
    type Error = io::Error;

    fn decode(&mut self, buf: &mut BytesMut) -> io::Result<Option<Frame>> {
        loop {
            match &mut self.state {
                State::Boundary { scanned } => {
                    let scanned = *scanned;
                    return Ok(match self.framing {
                        Framing::Auto => match detect(buf) {
                            Some(framing) => {
                                self.framing = framing;
                                continue;
                            }
                            None => None,
                        },
                        Framing::OctetCounting => self.octet_counted(buf),
                        Framing::Newline => self.newline(buf, scanned),
                    });
                }
                State::Discard { .. } => return Ok(self.discard(buf)),
                State::Resync { .. } => match self.resync(buf) {
                    Some(frame) => return Ok(Some(frame)),
                    None if matches!(self.state, State::Resync { .. }) => return Ok(None),
                    // Back in step after skipping bytes already reported.
                    None => {}
                },
            }
        }
    }

    /// At the end of the stream: a final line without LF is a message; an
    /// octet-counted frame cut short is invalid; an oversized line is
    /// reported.
    fn decode_eof(&mut self, buf: &mut BytesMut) -> io::Result<Option<Frame>> {
        if let Some(frame) = self.decode(buf)? {
            return Ok(Some(frame));
        }
        let state = std::mem::replace(&mut self.state, State::Boundary { scanned: 0 });
        let rest = buf.split().freeze();
        Ok(match state {
            State::Discard { head, len } => Some(Frame::Oversized { head, len: len + rest.len() }),
            State::Resync { reason, .. } => reason.map(|reason| Frame::Invalid { reason, bytes: head(rest, self.max) }),
            State::Boundary { .. } if rest.is_empty() => None,
            State::Boundary { .. } if self.framing == Framing::OctetCounting => Some(Frame::Invalid {
                reason: "the stream ended inside a frame".to_owned(),
                bytes: head(rest, self.max),
            }),
            State::Boundary { .. } if rest.iter().all(|b| matches!(b, b'\r' | b'\n' | b' ' | b'\t' | 0)) => None,
            State::Boundary { .. } if rest.len() > self.max => {
                Some(Frame::Oversized { len: rest.len(), head: rest.slice(..self.max) })
            }
            State::Boundary { .. } => Some(Frame::Message(rest)),
        })
    }
}

/// The first `max` bytes of `bytes`.
fn head(bytes: impl Into<Bytes>, max: usize) -> Bytes {
    let mut bytes = bytes.into();
    bytes.truncate(max);
    bytes
}

/// `auto`: the framing the first frame shows, or `None` until it can tell.
/// Leading CR/LF are dropped (they start no frame in either framing).
fn detect(buf: &mut BytesMut) -> Option<Framing> {
    let skip = buf.iter().take_while(|b| matches!(b, b'\r' | b'\n')).count();
    buf.advance(skip);
    let first = *buf.first()?;
    if !(b'1'..=b'9').contains(&first) {
        return Some(Framing::Newline);
    }
    let digits = buf.iter().take(MAX_LEN_DIGITS + 1).take_while(|b| b.is_ascii_digit()).count();
    match buf.get(digits) {
        _ if digits > MAX_LEN_DIGITS => Some(Framing::Newline),
        Some(b' ') => Some(Framing::OctetCounting),
        Some(_) => Some(Framing::Newline),
        None => None,
    }
}

/// The MSG-LEN at the start of `buf` (not empty), checked against `max`
/// digit by digit, so that a count over the limit is refused as soon as it
/// passes it, before its space or its body arrives.
fn read_count(buf: &[u8], max: usize) -> Count {
    match buf {
        [b'0', ..] => return Count::Bad("MSG-LEN starts with 0".to_owned()),
        [b'-', d, ..] if d.is_ascii_digit() => return Count::Bad("MSG-LEN is negative".to_owned()),
        [b'-'] => return Count::Partial,
        _ => {}
    }
    let mut len = 0usize;
    for (i, &b) in buf.iter().enumerate() {
        if !b.is_ascii_digit() {
            return match b {
                b' ' if i > 0 => Count::Len { header: i + 1, len },
                _ if i == 0 => Count::Bad("expected MSG-LEN".to_owned()),
                _ => Count::Bad("MSG-LEN is not followed by a space".to_owned()),
            };
        }
        if i == MAX_LEN_DIGITS {
            return Count::Bad("MSG-LEN has more than 10 digits".to_owned());
        }
        match len.checked_mul(10).and_then(|l| l.checked_add(usize::from(b - b'0'))) {
            Some(l) if l <= max => len = l,
            _ => return Count::Bad(format!("MSG-LEN exceeds max_message_bytes ({max})")),
        }
    }
    Count::Partial
}

/// A byte that belongs to a number: a digit or a sign.
fn number_byte(b: u8) -> bool {
    b.is_ascii_digit() || b == b'-' || b == b'+'
}

/// The first place at or after `from` where a frame can start: right after
/// an LF, or at `DIGITS SP <` (first digit 1–9, at most 10 digits, not
/// preceded by a digit or a sign, so that the tail of a longer or signed
/// number does not pass for a length). `after_number`: the byte before `buf`
/// was a digit or a sign.
fn find_resync(buf: &[u8], from: usize, after_number: bool) -> Resync {
    for i in from..buf.len() {
        let b = buf[i];
        if b == b'\n' {
            return Resync::At(i + 1);
        }
        let after_number = if i > 0 { number_byte(buf[i - 1]) } else { after_number };
        if !(b'1'..=b'9').contains(&b) || after_number {
            continue;
        }
        let digits = buf[i..].iter().take(MAX_LEN_DIGITS + 1).take_while(|b| b.is_ascii_digit()).count();
        if digits > MAX_LEN_DIGITS {
            continue;
        }
        match (buf.get(i + digits), buf.get(i + digits + 1)) {
            (Some(b' '), Some(b'<')) => return Resync::At(i),
            (None, _) | (Some(b' '), None) => return Resync::NotBefore(i),
            _ => {}
        }
    }
    Resync::NotBefore(buf.len())
}

/// Append one framed message. Octet counting (also for `Auto`) writes
/// `LEN SP MSG`. Newline framing drops trailing CR/LF (the LF it appends ends
/// the message anyway) and writes any other LF as `#012` and CR as `#015`:
/// the octal escapes rsyslog itself shows for control characters, so the
/// text reads the same as if it had come octet-counted; the message cannot
/// be split in two, which is what an LF would do to a receiver.
pub fn encode(framing: Framing, msg: &[u8], out: &mut Vec<u8>) {
    match framing {
        Framing::Auto | Framing::OctetCounting => {
            super::message::push_decimal(out, msg.len() as u64);
            out.push(b' ');
            out.extend_from_slice(msg);
        }
        Framing::Newline => {
            let end = msg.iter().rposition(|b| !matches!(b, b'\r' | b'\n')).map_or(0, |i| i + 1);
            let mut msg = &msg[..end];
            out.reserve(msg.len() + 1);
            while let Some(i) = memchr::memchr2(b'\n', b'\r', msg) {
                out.extend_from_slice(&msg[..i]);
                out.extend_from_slice(if msg[i] == b'\n' { b"#012" } else { b"#015" });
                msg = &msg[i + 1..];
            }
            out.extend_from_slice(msg);
            out.push(b'\n');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use tokio_util::codec::Decoder as _;

    /// Feed `chunks` one read at a time, then end the stream; every frame out.
    fn run(decoder: &mut Decoder, chunks: &[&[u8]]) -> Vec<Frame> {
        let mut buf = BytesMut::new();
        let mut frames = Vec::new();
        for chunk in chunks {
            buf.extend_from_slice(chunk);
            while let Some(frame) = decoder.decode(&mut buf).unwrap() {
                frames.push(frame);
            }
        }
        while let Some(frame) = decoder.decode_eof(&mut buf).unwrap() {
            frames.push(frame);
        }
        assert!(buf.is_empty(), "decode_eof must consume everything, as FramedRead requires");
        frames
    }

    fn frames(framing: Framing, max: usize, input: &[u8]) -> Vec<Frame> {
        run(&mut Decoder::new(framing, max), &[input])
    }

    fn msg(text: &str) -> Frame {
        Frame::Message(Bytes::copy_from_slice(text.as_bytes()))
    }

    fn oversized(head: &str, len: usize) -> Frame {
        Frame::Oversized { head: Bytes::copy_from_slice(head.as_bytes()), len }
    }

    fn invalid(reason: &str, bytes: &str) -> Frame {
        Frame::Invalid { reason: reason.into(), bytes: Bytes::copy_from_slice(bytes.as_bytes()) }
    }

    #[test]
    fn octet_counting() {
        let input = b"11 <13>1 - - -10 <13>hello\n\n5 <1>ab";
        assert_eq!(frames(Framing::OctetCounting, 100, input), [msg("<13>1 - - -"), msg("<13>hello\n"), msg("<1>ab")]);
        // MSG-LEN counts bytes, and the message may hold LFs.
        assert_eq!(frames(Framing::OctetCounting, 100, "7 a\nb\u{e9}\nc".as_bytes()), [msg("a\nb\u{e9}\nc")]);
    }

    #[test]
    fn newline() {
        let input = b"<13>one\r\n\n  \n<13>two\n<13>last without LF";
        assert_eq!(
            frames(Framing::Newline, 100, input),
            [msg("<13>one\r"), msg("<13>two"), msg("<13>last without LF")]
        );
        assert_eq!(frames(Framing::Newline, 100, b"12 looks counted\n"), [msg("12 looks counted")]);
    }

    #[test]
    fn auto_decides_from_the_first_frame_and_keeps_it() {
        let mut d = Decoder::new(Framing::Auto, 100);
        assert_eq!(
            run(&mut d, &[b"\r\n", b"1", b"2 <13>1 - - - 5 hi"]),
            [msg("<13>1 - - - "), invalid("the stream ended inside a frame", "5 hi")]
        );
        assert_eq!(d.framing(), Framing::OctetCounting);
        let mut d = Decoder::new(Framing::Auto, 100);
        assert_eq!(run(&mut d, &[b"<13>a\n", b"5 <13>b\n"]), [msg("<13>a"), msg("5 <13>b")]);
        assert_eq!(d.framing(), Framing::Newline);
        for (input, framing) in
            [(&b"0 x\n"[..], Framing::Newline), (b"12a x\n", Framing::Newline), (b"12345678901 x\n", Framing::Newline)]
        {
            let mut d = Decoder::new(Framing::Auto, 100);
            assert_eq!(run(&mut d, &[input]).len(), 1);
            assert_eq!(d.framing(), framing);
        }
        // Undecided at the end: a line.
        assert_eq!(frames(Framing::Auto, 100, b"123"), [msg("123")]);
        assert_eq!(frames(Framing::Auto, 100, b""), []);
        assert_eq!(frames(Framing::Auto, 100, b"\n\n"), []);
    }

    #[test]
    fn a_frame_over_the_limit_is_reported_with_its_first_bytes_across_reads() {
        let over = "MSG-LEN exceeds max_message_bytes (4)";
        let mut d = Decoder::new(Framing::OctetCounting, 4);
        let frames = run(&mut d, &[b"10 abc", b"de", b"fgh", b"ij3 <1>", b"5 <2>ab"]);
        assert_eq!(frames, [invalid(over, "10 a"), msg("<1>"), invalid(over, "5 <2")]);
        // Exactly the limit is fine.
        assert_eq!(self::frames(Framing::OctetCounting, 4, b"4 abcd"), [msg("abcd")]);
        // A huge announced length is reported at once and never buffered.
        let mut d = Decoder::new(Framing::OctetCounting, 4);
        let mut buf = BytesMut::from(&b"9999999999 abcdef"[..]);
        assert_eq!(d.decode(&mut buf).unwrap(), Some(invalid(over, "9999")));
        assert_eq!(d.decode(&mut buf).unwrap(), None);
        buf.extend_from_slice(&[b'x'; 4096]);
        assert_eq!(d.decode(&mut buf).unwrap(), None);
        assert!(buf.len() <= 4, "{}", buf.len());
        buf.extend_from_slice(b"\n3 <1>");
        assert_eq!(d.decode(&mut buf).unwrap(), Some(msg("<1>")));
    }

    #[test]
    fn oversized_line_is_cut_and_the_rest_dropped_to_its_lf() {
        let mut d = Decoder::new(Framing::Newline, 4);
        let frames = run(&mut d, &[b"abcdef", b"ghi", b"j\nok\nabcd\nabcde"]);
        assert_eq!(frames, [oversized("abcd", 10), msg("ok"), msg("abcd"), oversized("abcd", 5)]);
        // The limit counts the line without its LF.
        assert_eq!(self::frames(Framing::Newline, 4, b"abcde\nx\n"), [oversized("abcd", 5), msg("x")]);
    }

    #[test]
    fn bad_counts_resync() {
        // At the next LF ...
        assert_eq!(
            frames(Framing::OctetCounting, 100, b"12a <13>x\n5 <13>y"),
            [invalid("MSG-LEN is not followed by a space", "12a <13>x\n"), msg("<13>y")]
        );
        // ... or at the next `LEN SP <`, for senders that never write LF.
        assert_eq!(
            frames(Framing::OctetCounting, 100, b"0 junk 5 <13>x5 <13>y"),
            [invalid("MSG-LEN starts with 0", "0 junk "), msg("<13>x"), msg("<13>y")]
        );
        assert_eq!(
            frames(Framing::OctetCounting, usize::MAX, b"123456789012 <1>5 <13>y"),
            [invalid("MSG-LEN has more than 10 digits", "123456789012 <1>"), msg("<13>y")]
        );
        assert_eq!(
            frames(Framing::OctetCounting, 100, b"<13>x\n3 <1>"),
            [invalid("expected MSG-LEN", "<13>x\n"), msg("<1>")]
        );
        // Split in every way across reads.
        let input: &[u8] = b"x 7 nope 12345678901 <a 5 <13>y";
        for cut in 0..input.len() {
            let mut d = Decoder::new(Framing::OctetCounting, 100);
            let frames = run(&mut d, &[&input[..cut], &input[cut..]]);
            assert_eq!(frames, [invalid("expected MSG-LEN", "x 7 nope 12345678901 <a "), msg("<13>y")], "cut at {cut}");
        }
    }

    #[test]
    fn a_negative_count_is_invalid_and_invents_no_event() {
        // `-5 <13>x` is one bad frame: the `5 <` inside it is the tail of a signed number, not a frame start.
        assert_eq!(frames(Framing::OctetCounting, 100, b"-5 <13>x"), [invalid("MSG-LEN is negative", "-5 <13>x")]);
        assert_eq!(
            frames(Framing::OctetCounting, 100, b"-5 <13>x\n5 <13>y"),
            [invalid("MSG-LEN is negative", "-5 <13>x\n"), msg("<13>y")]
        );
        assert_eq!(
            frames(Framing::OctetCounting, 100, b"x -5 <13>ab +5 <13>cd 5 <13>y"),
            [invalid("expected MSG-LEN", "x -5 <13>ab +5 <13>cd "), msg("<13>y")]
        );
    }

    #[test]
    fn a_count_over_the_limit_is_refused_without_waiting_for_its_body() {
        // Refused, then picked up again as after any bad MSG-LEN: the announced 4 GiB swallow nothing.
        assert_eq!(
            frames(Framing::OctetCounting, 100, b"4294967296 <13>x\n5 <13>y"),
            [invalid("MSG-LEN exceeds max_message_bytes (100)", "4294967296 <13>x\n"), msg("<13>y")]
        );
        assert_eq!(
            frames(Framing::OctetCounting, 8, b"20 <13>abcdefghijklmno4 <1>y"),
            [invalid("MSG-LEN exceeds max_message_bytes (8)", "20 <13>a"), msg("<1>y")]
        );
        // Known as soon as the digits pass the limit, before the space (or the body) arrives.
        let mut d = Decoder::new(Framing::OctetCounting, 100);
        let mut buf = BytesMut::from(&b"1000"[..]);
        assert_eq!(d.decode(&mut buf).unwrap(), None);
        assert!(matches!(d.state, State::Resync { .. }), "{:?}", d.state);
        // However many digits, and whatever the limit: no overflow, no huge allocation.
        assert_eq!(
            frames(Framing::OctetCounting, 100, b"99999999999999999999999 <1>\n3 <1>"),
            [invalid("MSG-LEN exceeds max_message_bytes (100)", "99999999999999999999999 <1>\n"), msg("<1>")]
        );
        assert_eq!(
            frames(Framing::OctetCounting, usize::MAX, b"99999999999999999999999 <1>\n3 <1>"),
            [invalid("MSG-LEN has more than 10 digits", "99999999999999999999999 <1>\n"), msg("<1>")]
        );
        let mut d = Decoder::new(Framing::OctetCounting, usize::MAX);
        let mut buf = BytesMut::from(&b"9999999999 <1>"[..]);
        assert_eq!(d.decode(&mut buf).unwrap(), None);
        assert!(buf.capacity() < 1 << 20, "reserved {}", buf.capacity());
    }

    #[test]
    fn long_garbage_is_reported_once_and_cut() {
        let mut d = Decoder::new(Framing::OctetCounting, 8);
        let frames = run(&mut d, &[b"xxxxxxxxxxxxxxxxxxx", b"xxxxxxx1", b"23", b"xx\n3 <1>"]);
        assert_eq!(frames, [invalid("expected MSG-LEN", "xxxxxxxx"), msg("<1>")]);
    }

    #[test]
    fn eof_cases() {
        assert_eq!(
            frames(Framing::OctetCounting, 100, b"10 <13>"),
            [invalid("the stream ended inside a frame", "10 <13>")]
        );
        assert_eq!(frames(Framing::OctetCounting, 100, b"10 abcdefghij\n\r\n"), [msg("abcdefghij")]);
        assert_eq!(
            frames(Framing::OctetCounting, 2, b"10 abc"),
            [invalid("MSG-LEN exceeds max_message_bytes (2)", "10")]
        );
        assert_eq!(frames(Framing::OctetCounting, 100, b"7x"), [invalid("MSG-LEN is not followed by a space", "7x")]);
        assert_eq!(frames(Framing::Newline, 3, b"abcdef"), [oversized("abc", 6)]);
    }

    #[test]
    fn zero_limit_does_not_panic() {
        assert_eq!(
            frames(Framing::OctetCounting, 0, b"2 ab1 c"),
            [invalid("MSG-LEN exceeds max_message_bytes (0)", "")]
        );
        assert_eq!(frames(Framing::Newline, 0, b"ab\n\nc"), [oversized("", 2), oversized("", 1)]);
    }

    #[test]
    fn encode_both_framings() {
        let mut out = Vec::new();
        encode(Framing::OctetCounting, "<13>1 - - - - - - é\n".as_bytes(), &mut out);
        encode(Framing::Auto, b"", &mut out);
        assert_eq!(out, "21 <13>1 - - - - - - é\n0 ".as_bytes());
        out.clear();
        encode(Framing::Newline, b"a\nb\r\nc\r\n\n", &mut out);
        encode(Framing::Newline, b"plain", &mut out);
        assert_eq!(out, b"a#012b#015#012c\nplain\n");
    }

    #[test]
    fn framing_setting_names() {
        #[derive(serde::Deserialize)]
        struct S {
            framing: Framing,
        }
        let f = |s: &str| toml::from_str::<S>(&format!("framing = \"{s}\"")).map(|s| s.framing).ok();
        assert_eq!(f("auto"), Some(Framing::Auto));
        assert_eq!(f("octet-counting"), Some(Framing::OctetCounting));
        assert_eq!(f("newline"), Some(Framing::Newline));
        assert_eq!(f("lf"), None);
        assert_eq!(Framing::default(), Framing::Auto);
    }

    /// The bytes a frame carries.
    fn held(frame: &Frame) -> usize {
        match frame {
            Frame::Message(bytes) | Frame::Oversized { head: bytes, .. } | Frame::Invalid { bytes, .. } => bytes.len(),
        }
    }

    fn framing() -> impl Strategy<Value = Framing> {
        prop_oneof![Just(Framing::Auto), Just(Framing::OctetCounting), Just(Framing::Newline)]
    }

    /// `input` cut at `cuts` (positions, any order, out-of-range ones wrapped).
    fn chunked<'a>(input: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
        cuts.sort_unstable();
        let mut chunks = Vec::new();
        let mut start = 0;
        for cut in cuts.into_iter().chain([input.len()]) {
            chunks.push(&input[start..cut]);
            start = cut;
        }
        chunks
    }

    /// A valid RFC 5424 or RFC 3164 message.
    fn a_message() -> impl Strategy<Value = Vec<u8>> {
        (0..192u8, any::<bool>(), "[ -~]{0,40}").prop_map(|(pri, rfc5424, text)| {
            if rfc5424 {
                format!("<{pri}>1 2026-03-04T05:06:07Z host app - - - {text}").into_bytes()
            } else {
                format!("<{pri}>Mar  4 05:06:07 host app[1]: {text}").into_bytes()
            }
        })
    }

    proptest! {
        // Many cases: these are the fuzz targets for what peers send.
        #![proptest_config(ProptestConfig::with_cases(1000))]

        #[test]
        fn never_panics_and_stays_bounded(
            framing in framing(),
            max in 0..64usize,
            input in proptest::collection::vec(
                prop_oneof![any::<u8>(), Just(b'\n'), Just(b' '), Just(b'<'), b'0'..=b'9'], 0..400),
            cuts in proptest::collection::vec(any::<usize>(), 0..8),
        ) {
            let mut d = Decoder::new(framing, max);
            let mut buf = BytesMut::new();
            for chunk in chunked(&input, &cuts) {
                buf.extend_from_slice(chunk);
                while let Some(frame) = d.decode(&mut buf).unwrap() {
                    prop_assert!(held(&frame) <= max);
                }
                // Never holds much more than the limit (plus a partial MSG-LEN).
                prop_assert!(buf.len() <= max + MAX_LEN_DIGITS + 2);
            }
            while d.decode_eof(&mut buf).unwrap().is_some() {}
            prop_assert!(buf.is_empty());
        }

        #[test]
        fn messages_survive_any_chunking(
            framing in prop_oneof![Just(Framing::OctetCounting), Just(Framing::Newline)],
            messages in proptest::collection::vec(a_message(), 1..6),
            cuts in proptest::collection::vec(any::<usize>(), 0..8),
        ) {
            let mut input = Vec::new();
            for m in &messages {
                encode(framing, m, &mut input);
            }
            let mut d = Decoder::new(Framing::Auto, 1024);
            let got = run(&mut d, &chunked(&input, &cuts));
            let want: Vec<Frame> = messages.iter().map(|m| Frame::Message(Bytes::copy_from_slice(m))).collect();
            prop_assert_eq!(got, want);
            prop_assert_eq!(d.framing(), framing);
        }

        #[test]
        fn a_valid_message_after_garbage_is_still_parsed(
            framing in prop_oneof![Just(Framing::OctetCounting), Just(Framing::Newline)],
            garbage in proptest::collection::vec(any::<u8>(), 0..100),
            lf_after_garbage in any::<bool>(),
            message in a_message(),
            cuts in proptest::collection::vec(any::<usize>(), 0..8),
        ) {
            // No framer can tell garbage that is itself a frame (a valid MSG-LEN, `LEN SP <` inside it, digits
            // glued to the next MSG-LEN) from a frame: such garbage is kept out; everything else goes. Octet
            // counting must recover with or without an LF before the message.
            let mut input = vec![b'x'];
            input.extend(garbage.iter().map(|&b| if b == b'<' || b == b'\n' { b'x' } else { b }));
            input.push(if lf_after_garbage || framing == Framing::Newline { b'\n' } else { b'x' });
            encode(framing, &message, &mut input);
            let frames = run(&mut Decoder::new(framing, 1024), &chunked(&input, &cuts));
            let last = Frame::Message(Bytes::copy_from_slice(&message));
            prop_assert_eq!(frames.last(), Some(&last));
            prop_assert_ne!(crate::syslog::parse(&message).format, crate::syslog::Format::Unparsed);
        }
    }
}
