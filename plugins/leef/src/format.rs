//! Building one LEEF line from an event.

use crate::config::{Settings, Version};
use crate::mapping::{self, EVENT_ID_MAX, Kind};
use crate::safe::{self, Place, Replaced};
use serde_json::Value;
use sluice_plugin::fields::{Fields, Source};
use std::borrow::Cow;
use std::net::{IpAddr, SocketAddr};

/// The formatter: the settings plus the constant start of every line.
pub struct Formatter {
    settings: Settings,
    /// `LEEF:1.0|vendor|product|version|`, made safe once.
    prefix: String,
    /// What follows the EventID: `|`, or `|delimiter|` in LEEF 2.0.
    after_event_id: String,
}

impl Formatter {
    /// The formatter, and how many characters of the configured header fields
    /// had to be replaced.
    pub fn new(settings: Settings) -> (Formatter, usize) {
        let mut prefix = String::from(match settings.version {
            Version::V1 => "LEEF:1.0|",
            Version::V2 => "LEEF:2.0|",
        });
        let mut replaced = 0;
        for text in [&settings.vendor, &settings.product, &settings.product_version] {
            replaced += safe::push(text, None, Place::Header, &mut prefix);
            prefix.push('|');
        }
        let after_event_id = match settings.version {
            Version::V1 => "|".to_owned(),
            Version::V2 => format!("|{}|", settings.delimiter_field),
        };
        (Formatter { settings, prefix, after_event_id }, replaced)
    }

    /// The LEEF line for `event` (no trailing newline: sinks frame lines),
    /// and what had to be replaced in it.
    pub fn format<F: Fields + ?Sized>(&self, event: &F) -> (String, Replaced) {
        let mut replaced = Replaced::default();
        let mut line = String::with_capacity(self.prefix.len() + 512);
        line.push_str(&self.prefix);
        let event_id = self.settings.event_id.text(event).unwrap_or_default();
        let n = safe::push(&event_id, Some(EVENT_ID_MAX), Place::Header, &mut line);
        replaced.record("EventID", n);
        line.push_str(&self.after_event_id);

        let place = Place::Value(self.settings.delimiter);
        let mut first = true;
        for (key, source) in self.settings.attributes.entries() {
            let Some(value) = value(key, source, event) else { continue };
            if !first {
                line.push(self.settings.delimiter);
            }
            first = false;
            line.push_str(key);
            line.push('=');
            let n = safe::push(&value, mapping::max_len(key), place, &mut line);
            replaced.record(key, n);
        }
        (line, replaced)
    }
}

/// The text of attribute `key`, converted to the kind of value it takes.
fn value<'e, F: Fields + ?Sized>(key: &str, source: &'e Source, event: &'e F) -> Option<Cow<'e, str>> {
    match mapping::kind(key) {
        Kind::Text => source.text(event),
        Kind::Time => source.epoch_millis(event).map(|millis| Cow::Owned(millis.to_string())),
        Kind::Severity => severity(source.value(event)?.as_ref()).map(|sev| Cow::Owned(sev.to_string())),
        Kind::Address => address(&source.text(event)?).map(|ip| Cow::Owned(ip.to_string())),
        Kind::Port => source.text(event)?.trim().parse::<u16>().ok().map(|port| Cow::Owned(port.to_string())),
    }
}

/// The schema's severity (0–10, or a word) on LEEF's scale 1–10.
fn severity(value: &Value) -> Option<u8> {
    sluice_plugin::fields::severity(value).map(|number| number.round().clamp(1.0, 10.0) as u8)
}

/// An IP address, also from `ip:port` or `[v6]:port`, in its canonical form.
fn address(text: &str) -> Option<IpAddr> {
    let text = text.trim();
    text.parse::<IpAddr>().ok().or_else(|| text.parse::<SocketAddr>().ok().map(|socket| socket.ip()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn severities_on_leef_s_scale() {
        let sev = |value: Value| severity(&value);
        assert_eq!(sev(json!(0)), Some(1));
        assert_eq!(sev(json!(1)), Some(1));
        assert_eq!(sev(json!(7)), Some(7));
        assert_eq!(sev(json!(10)), Some(10));
        assert_eq!(sev(json!(12)), Some(10));
        assert_eq!(sev(json!(-3)), Some(1));
        assert_eq!(sev(json!(6.5)), Some(7));
        assert_eq!(sev(json!("high")), Some(8));
        assert_eq!(sev(json!(" Critical ")), Some(10));
        assert_eq!(sev(json!("4")), Some(4));
        assert_eq!(sev(json!("whatever")), None);
        assert_eq!(sev(json!(true)), None);
    }

    #[test]
    fn addresses_must_be_ip_addresses() {
        assert_eq!(address("10.0.4.17").unwrap().to_string(), "10.0.4.17");
        assert_eq!(address(" 10.0.4.17:514 ").unwrap().to_string(), "10.0.4.17");
        assert_eq!(address("[2001:db8::7]:6514").unwrap().to_string(), "2001:db8::7");
        assert_eq!(address("2001:0db8:0:0:0:0:0:7").unwrap().to_string(), "2001:db8::7");
        for bad in ["999.1.1.1", "pastebin.com", "", "10.0.0.1/24"] {
            assert_eq!(address(bad), None, "{bad}");
        }
    }
}
