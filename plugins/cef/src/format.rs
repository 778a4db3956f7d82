//! Building one CEF line from an event.

use crate::config::{Settings, TimeFormat};
use crate::escape::{self, max_len};
use crate::mapping::Source;
use serde_json::Value;
use sluice_plugin::time::Timestamp;

/// Extension keys that hold a time, written as epoch milliseconds.
const TIME_KEYS: &[&str] = &["rt", "start", "end", "art", "deviceCustomDate1", "deviceCustomDate2"];

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

        let values: Vec<Option<String>> =
            self.settings.extension.iter().map(|(key, source)| self.extension_value(key, source, event)).collect();
        let mut first = true;
        for ((key, _), value) in self.settings.extension.iter().zip(&values) {
            let Some(value) = value else { continue };
            // A label without its value would name nothing.
            if let Some(base) = key.strip_suffix("Label") {
                let index = self.settings.extension.iter().position(|(k, _)| k == base);
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
            return match source.value(event)?.as_ref() {
                Value::String(text) => Timestamp::parse_rfc3339(text),
                Value::Number(number) => Timestamp::from_epoch(number),
                _ => None,
            }
            .map(|time| time.epoch_millis().to_string());
        }
        source.text(event).map(|text| text.into_owned())
    }
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
