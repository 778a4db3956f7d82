//! Building one CEF line from an event.

use crate::config::{Settings, TimeFormat};
use crate::escape::{self, max_len};
use sluice_plugin::fields::{Fields, Source};
use std::borrow::Cow;

/// Extension keys that hold a time, written as epoch milliseconds. (`art`,
/// the connector's receipt time, is not here: a config may not map it.)
const TIME_KEYS: &[&str] = &[
    "rt",
    "start",
    "end",
    "deviceCustomDate1",
    "deviceCustomDate2",
    "flexDate1",
    "fileCreateTime",
    "fileModificationTime",
    "oldFileCreateTime",
    "oldFileModificationTime",
];

/// The formatter: the settings, the constant start of every line, and what
/// each extension key needs, worked out once.
pub struct Formatter {
    settings: Settings,
    /// `CEF:0|vendor|product|version|`, escaped once.
    prefix: String,
    extension: Vec<Entry>,
}

/// One extension key, as `format` writes it.
struct Entry {
    /// Its maximum length (module `escape`).
    max: usize,
    /// Written as epoch milliseconds.
    time: bool,
    /// For a `…Label` key: the index of the key it labels, if mapped.
    labels: Option<Option<usize>>,
}

impl Formatter {
    pub fn new(settings: Settings) -> Formatter {
        let mut prefix = String::from("CEF:0|");
        for (text, max) in [
            (&settings.vendor, escape::VENDOR_MAX),
            (&settings.product, escape::PRODUCT_MAX),
            (&settings.version, escape::VERSION_MAX),
        ] {
            escape::header(text, max, &mut prefix);
            prefix.push('|');
        }
        let entries = settings.extension.entries();
        let extension = entries
            .iter()
            .map(|(key, _)| Entry {
                max: max_len(key),
                time: settings.time_format == TimeFormat::EpochMillis && TIME_KEYS.contains(&key.as_str()),
                labels: key.strip_suffix("Label").map(|base| entries.iter().position(|(k, _)| k == base)),
            })
            .collect();
        Formatter { settings, prefix, extension }
    }

    /// The CEF line for `event` (no trailing newline: sinks frame lines).
    pub fn format<F: Fields + ?Sized>(&self, event: &F) -> String {
        let mut line = String::with_capacity(self.prefix.len() + 512);
        line.push_str(&self.prefix);
        let header = &self.settings.header;
        escape::header(&header.signature_id.text(event).unwrap_or_default(), escape::SIGNATURE_MAX, &mut line);
        line.push('|');
        escape::header(&header.name.text(event).unwrap_or_default(), escape::NAME_MAX, &mut line);
        line.push('|');
        line.push_str(&severity(&header.severity, event));
        line.push('|');

        let sources = self.settings.extension.entries();
        let values: Vec<Option<Cow<str>>> = sources
            .iter()
            .zip(&self.extension)
            .map(|((key, source), entry)| extension_value(key, source, entry, event))
            .collect();
        let mut first = true;
        for (((key, _), entry), value) in sources.iter().zip(&self.extension).zip(&values) {
            let Some(value) = value else { continue };
            // A label without its value would name nothing.
            if let Some(base) = entry.labels
                && base.is_none_or(|index| values[index].is_none())
            {
                continue;
            }
            if !first {
                line.push(' ');
            }
            first = false;
            line.push_str(key);
            line.push('=');
            escape::extension(value, entry.max, &mut line);
        }
        line
    }
}

fn extension_value<'e, F: Fields + ?Sized>(
    key: &str,
    source: &'e Source,
    entry: &Entry,
    event: &'e F,
) -> Option<Cow<'e, str>> {
    if entry.time {
        return source.epoch_millis(event).map(|millis| Cow::Owned(millis.to_string()));
    }
    let text = source.text(event)?;
    if key == "app" {
        return Some(Cow::Owned(
            application_protocol(&text).map(str::to_ascii_uppercase).unwrap_or_else(|| text.clone().into_owned()),
        ));
    }
    Some(text)
}

/// `app` is the application protocol (`HTTPS`, `SSHv2` in the standard's
/// examples): from a URL, its scheme in upper case; `None` when `text` is not
/// a URL, so a configured constant such as `MCP` is written as it is.
fn application_protocol(text: &str) -> Option<&str> {
    let (scheme, _) = text.split_once("://")?;
    let valid = scheme.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then_some(scheme)
}

/// CEF severity: an integer 0–10, or one of the standard's words; anything
/// else is `Unknown`.
fn severity<F: Fields + ?Sized>(source: &Source, event: &F) -> String {
    let Some(text) = source.text(event) else { return "Unknown".to_owned() };
    if let Ok(number) = text.trim().parse::<f64>()
        && number.is_finite()
    {
        return (number.round().clamp(0.0, 10.0) as u8).to_string();
    }
    match text.trim().to_ascii_lowercase().as_str() {
        "low" => "Low",
        "medium" => "Medium",
        "high" => "High",
        "very-high" => "Very-High",
        _ => "Unknown",
    }
    .to_owned()
}

#[cfg(test)]
mod tests {
    use super::application_protocol;

    #[test]
    fn the_application_protocol_is_a_url_s_scheme() {
        assert_eq!(application_protocol("https://pastebin.com/api"), Some("https"));
        assert_eq!(application_protocol("svn+ssh://host/repo"), Some("svn+ssh"));
        assert_eq!(application_protocol("MCP"), None);
        assert_eq!(application_protocol("://x"), None);
        assert_eq!(application_protocol("a b://x"), None);
    }
}
