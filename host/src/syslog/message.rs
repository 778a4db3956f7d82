//! A parsed syslog message and the event it becomes.
//!
//! [`parse`] classifies every input as exactly one of RFC 5424, RFC 3164 or
//! unparsed, in that order, and never drops anything: what is neither keeps
//! its whole text as `msg`. Fields borrow from the input (`Cow::Borrowed`)
//! unless bytes had to change (SD-PARAM escapes, invalid UTF-8), because this
//! runs once per received message.
//!
//! We use our own parser rather than the `syslog_loose` crate (Vector's): it
//! parses timestamps into `chrono` values, so the text as sent is lost and a
//! second time library comes in; it takes `&str`, so invalid UTF-8 must be
//! replaced before the header is even looked at; it is deliberately loose,
//! and when nothing matches it returns a message marked RFC 3164, so
//! "unparsed" cannot be told apart from a real RFC 3164 message.

use super::{rfc3164, rfc5424};
use crate::event::Event;
use crate::sources::Origin;
use crate::sources::decoding::Decoding;
use serde::Serialize;
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde_json::value::RawValue;
use std::borrow::Cow;

/// Which grammar a message was read with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Rfc5424,
    Rfc3164,
    /// Neither grammar matched: `msg` is the whole raw text.
    Unparsed,
}

impl Format {
    /// The name used in `syslog.format`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Rfc5424 => "rfc5424",
            Format::Rfc3164 => "rfc3164",
            Format::Unparsed => "unparsed",
        }
    }
}

/// One syslog message, split into its parts. Absent parts (and RFC 5424
/// NILVALUEs) are `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message<'a> {
    /// From PRI (0–23).
    pub facility: Option<u8>,
    /// From PRI (0–7).
    pub severity: Option<u8>,
    /// `Some(1)` for RFC 5424, `None` for RFC 3164.
    pub version: Option<u16>,
    /// The timestamp text exactly as sent: RFC 3339 for RFC 5424 (and for
    /// RFC 3164 senders that use it, such as rsyslog's forward format), else
    /// the BSD form `Mmm dd hh:mm:ss`, which has no year or zone and is
    /// completed by [`Message::timestamp_rfc3339`].
    pub timestamp: Option<Cow<'a, str>>,
    pub hostname: Option<Cow<'a, str>>,
    /// RFC 3164: the TAG.
    pub app_name: Option<Cow<'a, str>>,
    /// RFC 3164: the `[pid]` after the TAG.
    pub procid: Option<Cow<'a, str>>,
    pub msgid: Option<Cow<'a, str>>,
    pub structured_data: Vec<SdElement<'a>>,
    pub msg: Cow<'a, str>,
    pub format: Format,
}

/// One RFC 5424 SD-ELEMENT: `[id name="value" …]`, values unescaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdElement<'a> {
    pub id: Cow<'a, str>,
    pub params: Vec<(Cow<'a, str>, Cow<'a, str>)>,
}

/// Parse one message: RFC 5424 first, then RFC 3164, else
/// [`Format::Unparsed`] with the whole raw text (lossy UTF-8) as `msg` — never
/// dropped. Trailing CR, LF and NUL bytes (a datagram's or a line's end) are
/// not part of the message.
pub fn parse(raw: &[u8]) -> Message<'_> {
    let raw = trim_trailer(raw);
    rfc5424::parse(raw).or_else(|| rfc3164::parse(raw)).unwrap_or_else(|| Message::unparsed(raw))
}

impl<'a> Message<'a> {
    /// A message that no grammar matched: all of `raw` is the text.
    pub(crate) fn unparsed(raw: &'a [u8]) -> Self {
        Message {
            facility: None,
            severity: None,
            version: None,
            timestamp: None,
            hostname: None,
            app_name: None,
            procid: None,
            msgid: None,
            structured_data: Vec::new(),
            msg: text(raw),
            format: Format::Unparsed,
        }
    }

    /// The same message, owning its text (to keep it past the input buffer).
    pub fn into_owned(self) -> Message<'static> {
        fn own(field: Option<Cow<'_, str>>) -> Option<Cow<'static, str>> {
            field.map(|f| Cow::Owned(f.into_owned()))
        }
        let own_pair = |(n, v): (Cow<'_, str>, Cow<'_, str>)| (Cow::Owned(n.into_owned()), Cow::Owned(v.into_owned()));
        Message {
            facility: self.facility,
            severity: self.severity,
            version: self.version,
            timestamp: own(self.timestamp),
            hostname: own(self.hostname),
            app_name: own(self.app_name),
            procid: own(self.procid),
            msgid: own(self.msgid),
            structured_data: self
                .structured_data
                .into_iter()
                .map(|sd| SdElement {
                    id: Cow::Owned(sd.id.into_owned()),
                    params: sd.params.into_iter().map(own_pair).collect(),
                })
                .collect(),
            msg: Cow::Owned(self.msg.into_owned()),
            format: self.format,
        }
    }
}

impl Message<'_> {
    /// The timestamp as full RFC 3339 text (`syslog.timestamp`): as sent when
    /// it already is (RFC 5424, rsyslog's RFC 3164 forward format). A BSD
    /// timestamp (`Mmm dd hh:mm:ss`) has no zone and usually no year: it is
    /// taken as UTC, in the latest year that does not put it more than 7 days
    /// after `received_at` — `Dec 31` received on 1 January is last year's,
    /// `Jan 1` received on 31 December (a clock slightly ahead) next year's.
    /// `None` when absent or not a real date.
    pub fn timestamp_rfc3339(&self, received_at: &str) -> Option<Cow<'_, str>> {
        let timestamp = self.timestamp.as_deref()?;
        if rfc5424::is_timestamp(timestamp.as_bytes()) {
            return Some(Cow::Borrowed(timestamp));
        }
        rfc3164::timestamp_rfc3339(timestamp, received_at).map(Cow::Owned)
    }

    /// The event JSON the syslog source sends on:
    ///
    /// ```json
    /// {"message": "…", "syslog": {"facility": 4, "severity": 2, "version": 1,
    ///   "timestamp": "…", "hostname": "…", "app_name": "…", "procid": "…",
    ///   "msgid": "…", "structured_data": {"id": {"name": "value"}}, "format": "rfc5424"},
    ///  "source": {"id": "…", "address": "ip:port"}, "received_at": "…"}
    /// ```
    ///
    /// Absent fields (NILVALUEs included) are omitted, as is an empty
    /// `structured_data`. In `structured_data` a parameter that occurs once
    /// is a string and one repeated inside an element (RFC 5424 allows it,
    /// e.g. several `ip` in `origin`) is an array of its values in order:
    /// nothing a sender said is dropped. An SD-ID that is (wrongly) repeated
    /// has its elements' parameters merged under one key.
    ///
    /// With [`Decoding::Json`] a message that is a JSON object is written as
    /// that object (`"message": {…}`), not as a string.
    pub fn to_event(&self, origin: Origin<'_>, received_at: &str, decoding: Decoding) -> Event {
        #[derive(Serialize)]
        #[serde(untagged)]
        enum MessageJson<'e> {
            Text(&'e str),
            Object(&'e RawValue),
        }
        #[derive(Serialize)]
        struct EventJson<'e> {
            message: MessageJson<'e>,
            syslog: SyslogJson<'e>,
            source: Origin<'e>,
            received_at: &'e str,
        }
        #[derive(Serialize)]
        struct SyslogJson<'e> {
            #[serde(skip_serializing_if = "Option::is_none")]
            facility: Option<u8>,
            #[serde(skip_serializing_if = "Option::is_none")]
            severity: Option<u8>,
            #[serde(skip_serializing_if = "Option::is_none")]
            version: Option<u16>,
            #[serde(skip_serializing_if = "Option::is_none")]
            timestamp: Option<Cow<'e, str>>,
            #[serde(skip_serializing_if = "Option::is_none")]
            hostname: Option<&'e str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            app_name: Option<&'e str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            procid: Option<&'e str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            msgid: Option<&'e str>,
            #[serde(skip_serializing_if = "StructuredDataJson::is_empty")]
            structured_data: StructuredDataJson<'e>,
            format: &'static str,
        }
        let message = match decoding.object(&self.msg) {
            Some(object) => MessageJson::Object(object),
            None => MessageJson::Text(&self.msg),
        };
        let event = EventJson {
            message,
            syslog: SyslogJson {
                facility: self.facility,
                severity: self.severity,
                version: self.version,
                timestamp: self.timestamp_rfc3339(received_at),
                hostname: self.hostname.as_deref(),
                app_name: self.app_name.as_deref(),
                procid: self.procid.as_deref(),
                msgid: self.msgid.as_deref(),
                structured_data: StructuredDataJson(&self.structured_data),
                format: self.format.as_str(),
            },
            source: origin,
            received_at,
        };
        // Room for the message with some escaping and the syslog fields, so
        // the text is not copied again and again as it grows.
        let mut json = Vec::with_capacity(self.msg.len() + self.msg.len() / 4 + 384);
        serde_json::to_writer(&mut json, &event).expect("an event of strings and numbers serialises");
        Event::with_message(String::from_utf8(json).expect("serde_json writes UTF-8"), self.msg.to_string())
    }
}

/// `structured_data` as a JSON object: SD-ID → {param → value or [values]}.
struct StructuredDataJson<'e>(&'e [SdElement<'e>]);

impl StructuredDataJson<'_> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for StructuredDataJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Elements are few (usually one or two): quadratic grouping is cheaper
        // than building maps, and keeps the sender's order.
        let elements = self.0;
        let mut map = serializer.serialize_map(None)?;
        for (i, element) in elements.iter().enumerate() {
            if elements[..i].iter().any(|earlier| earlier.id == element.id) {
                continue;
            }
            let params: Vec<&(Cow<'_, str>, Cow<'_, str>)> =
                elements[i..].iter().filter(|e| e.id == element.id).flat_map(|e| &e.params).collect();
            map.serialize_entry(&*element.id, &ParamsJson(&params))?;
        }
        map.end()
    }
}

/// One element's parameters: a name that occurs once maps to its value, a
/// repeated one to the array of its values.
struct ParamsJson<'p, 'e>(&'p [&'e (Cow<'e, str>, Cow<'e, str>)]);

impl Serialize for ParamsJson<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Values<'p, 'e>(&'p [&'e (Cow<'e, str>, Cow<'e, str>)], &'p str);
        impl Serialize for Values<'_, '_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut seq = serializer.serialize_seq(None)?;
                for (_, value) in self.0.iter().filter(|(name, _)| name == self.1) {
                    seq.serialize_element(&**value)?;
                }
                seq.end()
            }
        }
        let params = self.0;
        let mut map = serializer.serialize_map(None)?;
        for (i, (name, value)) in params.iter().map(|p| (&p.0, &p.1)).enumerate() {
            if params[..i].iter().any(|(earlier, _)| earlier == name) {
                continue;
            }
            if params[i + 1..].iter().any(|(later, _)| later == name) {
                map.serialize_entry(&**name, &Values(&params[i..], name))?;
            } else {
                map.serialize_entry(&**name, &**value)?;
            }
        }
        map.end()
    }
}

/// Bytes as text, replacing invalid UTF-8; borrowed when already valid.
pub(crate) fn text(bytes: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(bytes)
}

/// `raw` without trailing CR, LF and NUL bytes, which senders add as line
/// or datagram ends and which are never part of a message.
pub(crate) fn trim_trailer(raw: &[u8]) -> &[u8] {
    let end = raw.iter().rposition(|b| !matches!(b, b'\r' | b'\n' | 0)).map_or(0, |i| i + 1);
    &raw[..end]
}

/// `<PRI>` at the start of `raw`: `(facility, severity, bytes taken)`.
/// PRIVAL is 1–3 digits with a value of 0–191 (RFC 5424 §6.2.1); leading
/// zeros, which RFC 3164 forbids, are accepted since they are unambiguous.
pub(crate) fn parse_pri(raw: &[u8]) -> Option<(u8, u8, usize)> {
    if raw.first() != Some(&b'<') {
        return None;
    }
    let digits = raw[1..].iter().take(4).take_while(|b| b.is_ascii_digit()).count();
    if !(1..=3).contains(&digits) || raw.get(1 + digits) != Some(&b'>') {
        return None;
    }
    let value = raw[1..1 + digits].iter().fold(0u16, |v, d| v * 10 + u16::from(d - b'0'));
    let value = u8::try_from(value).ok().filter(|v| *v <= 191)?;
    Some((value / 8, value % 8, digits + 2))
}

/// The PRIVAL to write. An absent or out-of-range facility or severity
/// takes the RFC 3164 default, user.notice (facility 1, severity 5).
pub(crate) fn prival(facility: Option<u8>, severity: Option<u8>) -> u8 {
    let facility = facility.filter(|f| *f <= 23).unwrap_or(1);
    let severity = severity.filter(|s| *s <= 7).unwrap_or(5);
    facility * 8 + severity
}

/// Append `value` in decimal.
pub(crate) fn push_decimal(out: &mut Vec<u8>, value: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut value = value;
    loop {
        at -= 1;
        digits[at] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    const RECEIVED: &str = "2026-03-04T05:06:07.000008Z";

    fn origin() -> Origin<'static> {
        Origin { id: "agents_syslog", path: None, address: Some("192.0.2.7:51514") }
    }

    fn event(raw: &str) -> Value {
        let event = parse(raw.as_bytes()).to_event(origin(), RECEIVED, Decoding::Text);
        serde_json::from_str(event.json()).unwrap()
    }

    #[test]
    fn with_json_decoding_an_object_message_is_the_object_and_the_text_is_kept() {
        let raw = r#"<14>1 2026-01-01T00:00:00Z h app - - - {"agent":{"id":"a\"b"},"text":"x\ny"}"#;
        let event = parse(raw.as_bytes()).to_event(origin(), RECEIVED, Decoding::Json);
        let v: Value = serde_json::from_str(event.json()).unwrap();
        assert_eq!(v["message"], json!({"agent": {"id": "a\"b"}, "text": "x\ny"}));
        assert_eq!(v["syslog"]["app_name"], "app");
        assert_eq!(event.message(), Some(r#"{"agent":{"id":"a\"b"},"text":"x\ny"}"#), "what a sink forwards");
        // Not an object: a string, as without decoding.
        let event =
            parse(b"<14>1 2026-01-01T00:00:00Z h app - - - [1, 2]").to_event(origin(), RECEIVED, Decoding::Json);
        let v: Value = serde_json::from_str(event.json()).unwrap();
        assert_eq!(v["message"], "[1, 2]");
    }

    #[test]
    fn rfc5424_event_has_every_field_under_its_name() {
        let v = event(
            "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 42 ID47 \
             [exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"] An application event",
        );
        assert_eq!(
            v,
            json!({
                "message": "An application event",
                "syslog": {
                    "facility": 20, "severity": 5, "version": 1,
                    "timestamp": "2003-10-11T22:14:15.003Z",
                    "hostname": "mymachine.example.com", "app_name": "evntslog", "procid": "42", "msgid": "ID47",
                    "structured_data": {
                        "exampleSDID@32473": {"iut": "3", "eventSource": "Application", "eventID": "1011"}
                    },
                    "format": "rfc5424"
                },
                "source": {"id": "agents_syslog", "address": "192.0.2.7:51514"},
                "received_at": RECEIVED
            })
        );
    }

    #[test]
    fn nilvalues_are_absent_not_dashes() {
        let v = event("<0>1 - - - - - -");
        assert_eq!(v["syslog"], json!({"facility": 0, "severity": 0, "version": 1, "format": "rfc5424"}));
        assert_eq!(v["message"], "");
    }

    #[test]
    fn repeated_params_become_arrays_and_repeated_ids_merge() {
        let v =
            event(r#"<13>1 - - - - - [origin ip="192.0.2.1" ip="192.0.2.2" software="x"][a b="1"][origin c="2"] m"#);
        assert_eq!(
            v["syslog"]["structured_data"],
            json!({"origin": {"ip": ["192.0.2.1", "192.0.2.2"], "software": "x", "c": "2"}, "a": {"b": "1"}})
        );
    }

    #[test]
    fn rfc3164_event_completes_the_timestamp_and_has_no_version() {
        let v = event("<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8");
        assert_eq!(
            v["syslog"],
            json!({
                "facility": 4, "severity": 2, "timestamp": "2025-10-11T22:14:15Z",
                "hostname": "mymachine", "app_name": "su", "format": "rfc3164"
            })
        );
        assert_eq!(v["message"], "'su root' failed for lonvick on /dev/pts/8");
    }

    #[test]
    fn unparsed_keeps_the_raw_text() {
        let v = event("just some text\r\n");
        assert_eq!(v["message"], "just some text");
        assert_eq!(v["syslog"], json!({"format": "unparsed"}));
        assert_eq!(v["source"]["id"], "agents_syslog");
        assert_eq!(v["received_at"], RECEIVED);
    }

    #[test]
    fn invalid_utf8_is_replaced_not_rejected() {
        let m = parse(b"<13>1 - host - - - - caf\xe9 \xff");
        assert_eq!(m.format, Format::Rfc5424);
        assert_eq!(m.msg, "caf\u{fffd} \u{fffd}");
        let m = parse(b"\xff\xfe garbage");
        assert_eq!((m.format, &*m.msg), (Format::Unparsed, "\u{fffd}\u{fffd} garbage"));
    }

    #[test]
    fn trailing_cr_lf_nul_are_trimmed_everywhere() {
        assert_eq!(trim_trailer(b"a b\r\n\0\n"), b"a b");
        assert_eq!(trim_trailer(b"\n\r\0"), b"");
        assert_eq!(parse(b"<13>1 - - - - - - hi\n\0").msg, "hi");
        assert_eq!(parse(b"<13>Oct  1 00:00:00 h t: hi\r\n").msg, "hi");
    }

    #[test]
    fn pri_bounds() {
        assert_eq!(parse_pri(b"<0>"), Some((0, 0, 3)));
        assert_eq!(parse_pri(b"<191>x"), Some((23, 7, 5)));
        assert_eq!(parse_pri(b"<013>"), Some((1, 5, 5)));
        for bad in [&b"<192>"[..], b"<>", b"<1000>", b"<1a>", b"<13", b"13>", b"", b"<999>"] {
            assert_eq!(parse_pri(bad), None, "{bad:?}");
        }
        assert_eq!(prival(Some(23), Some(7)), 191);
        assert_eq!(prival(None, None), 13);
        assert_eq!(prival(Some(24), Some(8)), 13);
    }

    #[test]
    fn borrows_when_nothing_needed_changing() {
        let raw = b"<13>1 2003-10-11T22:14:15Z h a p m [x y=\"plain\"] text";
        let m = parse(raw);
        for field in [&m.timestamp, &m.hostname, &m.app_name, &m.procid, &m.msgid] {
            assert!(matches!(field, Some(Cow::Borrowed(_))));
        }
        assert!(matches!(m.msg, Cow::Borrowed(_)));
        assert!(matches!(m.structured_data[0].params[0].1, Cow::Borrowed(_)));
        let owned = m.clone().into_owned();
        assert_eq!(owned, m);
    }

    #[test]
    fn decimal() {
        let mut out = Vec::new();
        for v in [0, 7, 10, 65536, u64::MAX] {
            out.clear();
            push_decimal(&mut out, v);
            assert_eq!(out, v.to_string().as_bytes());
        }
    }
}
