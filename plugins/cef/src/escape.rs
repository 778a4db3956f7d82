//! CEF escaping and field lengths (CEF Implementation Standard, rev. 27).
//!
//! Header fields escape `\` and `|`; newlines are not allowed there at all,
//! so they become spaces. Extension values escape `\` and `=` and write CR
//! and LF as `\r` and `\n`: a raw line break must never leave the router,
//! or the receiver would read the rest as a new, forged event. Values are cut
//! to the standard's lengths before escaping, so an escape is never split.

/// `text` cut to at most `max` characters.
pub fn truncate(text: &str, max: usize) -> &str {
    // No more bytes than `max` means no more characters: the common case,
    // decided without counting.
    if text.len() <= max {
        return text;
    }
    match text.char_indices().nth(max) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

/// A header field: `\` → `\\`, `|` → `\|`, CR/LF → space; at most `max` characters.
pub fn header(text: &str, max: usize, out: &mut String) {
    escape(truncate(text, max), out, |byte| match byte {
        b'\\' => Some("\\\\"),
        b'|' => Some("\\|"),
        b'\r' | b'\n' => Some(" "),
        _ => None,
    });
}

/// An extension value: `\` → `\\`, `=` → `\=`, CR → `\r`, LF → `\n`; at most
/// `max` characters.
pub fn extension(text: &str, max: usize, out: &mut String) {
    escape(truncate(text, max), out, |byte| match byte {
        b'\\' => Some("\\\\"),
        b'=' => Some("\\="),
        b'\r' => Some("\\r"),
        b'\n' => Some("\\n"),
        _ => None,
    });
}

/// Copy `text` to `out`, replacing the ASCII bytes `special` names; runs
/// between them are copied whole. (Every byte it names is ASCII, so the
/// cuts fall on character boundaries.)
fn escape(text: &str, out: &mut String, special: impl Fn(u8) -> Option<&'static str>) {
    let mut start = 0;
    for (at, byte) in text.bytes().enumerate() {
        if let Some(replacement) = special(byte) {
            out.push_str(&text[start..at]);
            out.push_str(replacement);
            start = at + 1;
        }
    }
    out.push_str(&text[start..]);
}

/// The standard's maximum length of an extension key's value, in characters
/// (CEF Implementation Standard rev. 27, the producer keys that state one).
/// Keys it gives no length (numbers, addresses, times) and user-defined keys
/// get 1023, the common string length, so no single value can swamp a line.
pub fn max_len(key: &str) -> usize {
    match key {
        "threatAttackID" => 32,
        "externalId" | "threatActor" => 40,
        "act" | "outcome" => 63,
        "reportedResourceName" | "reportedResourceType" => 64,
        "app" | "proto" => 31,
        "dvchost" => 100,
        "deviceInboundInterface" | "deviceOutboundInterface" | "devicePayloadId" | "reportedResourceGroupName" => 128,
        "flexDate1Label" | "flexString1Label" | "flexString2Label" => 128,
        "destinationDnsDomain"
        | "deviceDnsDomain"
        | "deviceExternalId"
        | "deviceNtDomain"
        | "dntdom"
        | "dtz"
        | "fileHash"
        | "oldFileHash"
        | "sntdom"
        | "sourceDnsDomain" => 255,
        "reportedResourceID" | "frameworkName" => 256,
        "requestContext" => 2048,
        "cs1" | "cs2" | "cs3" | "cs4" | "cs5" | "cs6" => 4000,
        _ => 1023,
    }
}

/// Header field lengths.
pub const VENDOR_MAX: usize = 63;
pub const PRODUCT_MAX: usize = 63;
pub const VERSION_MAX: usize = 31;
pub const SIGNATURE_MAX: usize = 1023;
pub const NAME_MAX: usize = 512;

#[cfg(test)]
mod tests {
    use super::*;

    fn h(text: &str) -> String {
        let mut out = String::new();
        header(text, 512, &mut out);
        out
    }

    fn e(text: &str) -> String {
        let mut out = String::new();
        extension(text, 4000, &mut out);
        out
    }

    #[test]
    fn header_escapes_backslash_and_pipe_only() {
        assert_eq!(h(r"a|b\c=d"), r"a\|b\\c=d");
        assert_eq!(h("line\r\nbreak"), "line  break");
        assert_eq!(h(r"\|"), r"\\\|");
        assert_eq!(h(""), "");
    }

    #[test]
    fn extension_escapes_backslash_equals_and_line_breaks() {
        assert_eq!(e(r"a=b\c|d"), r"a\=b\\c|d");
        assert_eq!(e("one\ntwo\r\nthree\rfour"), r"one\ntwo\r\nthree\rfour");
        assert_eq!(e(r"C:\temp\n"), r"C:\\temp\\n");
        assert_eq!(e("tab\there é 日本"), "tab\there é 日本");
        assert_eq!(e("=="), r"\=\=");
    }

    #[test]
    fn lengths_follow_the_standard() {
        for (key, max) in [
            ("externalId", 40),
            ("act", 63),
            ("outcome", 63),
            ("app", 31),
            ("cs1", 4000),
            ("cs6", 4000),
            ("cs1Label", 1023),
            ("suser", 1023),
            ("msg", 1023),
            ("dvchost", 100),
            ("deviceExternalId", 255),
            ("requestContext", 2048),
            ("flexString1Label", 128),
            ("mySiteKey", 1023),
        ] {
            assert_eq!(max_len(key), max, "{key}");
        }
    }

    #[test]
    fn truncation_counts_characters_and_never_splits_an_escape() {
        assert_eq!(truncate("日本語", 2), "日本");
        assert_eq!(truncate("abc", 5), "abc");
        let mut out = String::new();
        extension("ab\\cd", 3, &mut out);
        assert_eq!(out, r"ab\\");
    }
}
