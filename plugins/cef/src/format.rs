//! Building one CEF line from an event.

use crate::config::{Settings, TimeFormat};
use crate::escape::{self, max_len};
use serde_json::Value;
use sluice_plugin::fields::Source;

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

/// The formatter: the settings plus the constant start of every line.
pub struct Formatter {
    settings: Settings,
    /// `CEF:0|vendor|product|version|`, escaped once.
    prefix: String,
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
        Formatter { settings, prefix }
    }

    /// The CEF line for `event` (no trailing newline: sinks frame lines).
    pub fn format(&self, event: &Value) -> String {
        let mut line = String::with_capacity(self.prefix.len() + 512);
        line.push_str(&self.prefix);
        let header = &self.settings.header;
        escape::header(&header.signature_id.text(event).unwrap_or_default(), escape::SIGNATURE_MAX, &mut line);
        line.push('|');
        escape::header(&header.name.text(event).unwrap_or_default(), escape::NAME_MAX, &mut line);
        line.push('|');
        line.push_str(&severity(&header.severity, event));
        line.push('|');

        let extension = self.settings.extension.entries();
        let values: Vec<Option<String>> =
            extension.iter().map(|(key, source)| self.extension_value(key, source, event)).collect();
        let mut first = true;
        for ((key, _), value) in extension.iter().zip(&values) {
            let Some(value) = value else { continue };
            // A label without its value would name nothing.
            if let Some(base) = key.strip_suffix("Label") {
                let index = extension.iter().position(|(k, _)| k == base);
                if index.is_none_or(|index| values[index].is_none()) {
                    continue;
                }
            }
            if !first {
                line.push(' ');
            }
            first = false;
            line.push_str(key);
            line.push('=');
            escape::extension(value, max_len(key), &mut line);
        }
        line
    }
}

impl Formatter {
    fn extension_value(&self, key: &str, source: &Source, event: &Value) -> Option<String> {
        if self.settings.time_format == TimeFormat::EpochMillis && TIME_KEYS.contains(&key) {
            return source.epoch_millis(event).map(|millis| millis.to_string());
        }
        let text = source.text(event)?;
        if key == "app" {
            return Some(application_protocol(&text).map(str::to_ascii_uppercase).unwrap_or_else(|| text.into_owned()));
        }
        Some(text.into_owned())
    }
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
fn severity(source: &Source, event: &Value) -> String {
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
