//! The CEF formatting of `plugins/cef` for P1's reference mapping only
//! (`bench/peer/P1.toml`), written against a field reader instead of a
//! `serde_json::Value`, so each prototype contract feeds it its own way.
//!
//! What it writes must equal the real plugin's line byte for byte on the P1
//! corpus; `host/benches/contract_proto.rs` asserts it. Escaping, lengths,
//! the rendering of values and the severity rule are copied from
//! `plugins/cef` and `sluice_plugin::fields`; the mapping is fixed (the
//! prototypes read only `vendor`, `product` and `version` from the config).

use serde_json::Value;
use std::borrow::Cow;

/// The paths the reference mapping reads, in slot order.
pub const PATHS: &[&str] = &[
    "time",
    "received_at",
    "event.id",
    "agent.id",
    "delegation.on_behalf_of",
    "tenant.id",
    "session.id",
    "event.kind",
    "destination.host",
    "destination.url",
    "authz.decision",
    "tool.name",
    "tool.arguments",
    "authz.policy",
    "prompt.text",
    "event.action",
    "event.severity",
];

const KIND: usize = 7;
const ACTION: usize = 15;
const SEVERITY: usize = 16;

/// Where an extension key's value comes from.
enum From {
    /// The first present of these slots.
    Slots(&'static [usize]),
    /// A label: this text, written only when the key it labels has a value.
    Label(&'static str),
}

/// P1's extension, in the order written: the plugin's default table with
/// P1's overrides applied in place and its `false` keys removed.
const EXTENSION: &[(&str, usize, From)] = &[
    ("rt", 1023, From::Slots(&[0, 1])),
    ("externalId", 40, From::Slots(&[2])),
    ("suser", 1023, From::Slots(&[3])),
    ("duser", 1023, From::Slots(&[4])),
    ("cs1Label", 1023, From::Label("tenant")),
    ("cs1", 4000, From::Slots(&[5])),
    ("cs2Label", 1023, From::Label("session")),
    ("cs2", 4000, From::Slots(&[6])),
    ("act", 63, From::Slots(&[KIND])),
    ("dhost", 1023, From::Slots(&[8])),
    ("request", 1023, From::Slots(&[9])),
    ("outcome", 63, From::Slots(&[10])),
    ("cs3Label", 1023, From::Label("tool")),
    ("cs3", 4000, From::Slots(&[11])),
    ("cs4Label", 1023, From::Label("args")),
    ("cs4", 4000, From::Slots(&[12])),
    ("cs5Label", 1023, From::Label("policy")),
    ("cs5", 4000, From::Slots(&[13])),
    ("msg", 1023, From::Slots(&[14])),
];

/// One value as a contract hands it over.
#[derive(Debug, Clone)]
pub enum Val<'a> {
    /// A string, decoded.
    Str(Cow<'a, str>),
    /// A number, a boolean, an object or an array, as JSON text.
    Json(&'a str),
    Null,
}

/// Reads slot `i` (a path of [`PATHS`]) of one event; `None` when absent.
pub trait Fields {
    fn get(&self, slot: usize) -> Option<Val<'_>>;
}

/// The formatter: the constant start of every line, built once.
pub struct Cef {
    prefix: String,
}

impl Cef {
    /// From the plugin's config JSON: `vendor`, `product`, `version`.
    pub fn configure(config: &str) -> Result<Cef, String> {
        let config: Value = serde_json::from_str(config).map_err(|err| format!("config is not valid JSON: {err}"))?;
        let text = |key: &str, default: &str| config.get(key).and_then(Value::as_str).unwrap_or(default).to_owned();
        let mut prefix = String::from("CEF:0|");
        for (text, max) in
            [(text("vendor", "sluice"), 63), (text("product", "agent-events"), 63), (text("version", ""), 31)]
        {
            header(&text, max, &mut prefix);
            prefix.push('|');
        }
        Ok(Cef { prefix })
    }

    /// The CEF line of one event.
    pub fn format(&self, event: &impl Fields) -> String {
        let mut line = String::with_capacity(self.prefix.len() + 512);
        line.push_str(&self.prefix);
        header(&text(event, &[KIND]).unwrap_or_default(), 1023, &mut line);
        line.push('|');
        header(&text(event, &[ACTION]).unwrap_or_default(), 512, &mut line);
        line.push('|');
        line.push_str(&severity(text(event, &[SEVERITY])));
        line.push('|');
        let values: Vec<Option<Cow<str>>> = EXTENSION
            .iter()
            .map(|(_, _, from)| match from {
                From::Slots(slots) => text(event, slots),
                From::Label(label) => Some(Cow::Borrowed(*label)),
            })
            .collect();
        let mut first = true;
        for (at, ((key, max, from), value)) in EXTENSION.iter().zip(&values).enumerate() {
            let Some(value) = value else { continue };
            // A label is written only when the key after it (the one it labels) has a value.
            if matches!(from, From::Label(_)) && values[at + 1].is_none() {
                continue;
            }
            if !first {
                line.push(' ');
            }
            first = false;
            line.push_str(key);
            line.push('=');
            extension(value, *max, &mut line);
        }
        line
    }
}

/// The first present, non-empty slot of `slots`, as text.
fn text<'e>(event: &'e impl Fields, slots: &[usize]) -> Option<Cow<'e, str>> {
    slots.iter().find_map(|&slot| match event.get(slot)? {
        Val::Null => None,
        Val::Str(text) => Some(text).filter(|t| !t.is_empty()),
        Val::Json(json) if is_plain_integer(json) => Some(Cow::Borrowed(json)).filter(|t| !t.is_empty()),
        // Rare: numbers in other spellings, booleans, lists and objects,
        // rendered exactly as `sluice_plugin::fields::render` does.
        Val::Json(json) => {
            let value: Value = serde_json::from_str(json).ok()?;
            render(&value).map(|text| Cow::Owned(text.into_owned()))
        }
    })
}

/// Whether serde_json writes this number back as it is.
fn is_plain_integer(json: &str) -> bool {
    let digits = json.strip_prefix('-').unwrap_or(json);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) && (digits == "0" || !digits.starts_with('0'))
}

/// `sluice_plugin::fields::render`.
fn render(value: &Value) -> Option<Cow<'_, str>> {
    let text = match value {
        Value::Null => return None,
        Value::String(text) => Cow::Borrowed(text.as_str()),
        Value::Bool(_) | Value::Number(_) => Cow::Owned(value.to_string()),
        Value::Array(items) if items.iter().all(|item| !item.is_array() && !item.is_object()) => {
            Cow::Owned(items.iter().filter_map(|item| render(item).map(Cow::into_owned)).collect::<Vec<_>>().join(","))
        }
        Value::Array(_) | Value::Object(_) => Cow::Owned(value.to_string()),
    };
    Some(text).filter(|t| !t.is_empty())
}

/// `plugins/cef`'s severity: 0–10 rounded and clamped, a standard word, else `Unknown`.
fn severity(text: Option<Cow<str>>) -> String {
    let Some(text) = text else { return "Unknown".to_owned() };
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

fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    match text.char_indices().nth(max) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

fn header(text: &str, max: usize, out: &mut String) {
    escape(truncate(text, max), out, |byte| match byte {
        b'\\' => Some("\\\\"),
        b'|' => Some("\\|"),
        b'\r' | b'\n' => Some(" "),
        _ => None,
    });
}

fn extension(text: &str, max: usize, out: &mut String) {
    escape(truncate(text, max), out, |byte| match byte {
        b'\\' => Some("\\\\"),
        b'=' => Some("\\="),
        b'\r' => Some("\\r"),
        b'\n' => Some("\\n"),
        _ => None,
    });
}

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

/// FNV-1a (32 bits) of a dotted path, as the indexed contract's host hashes it.
pub fn path_hash(path: &str) -> u32 {
    fnv(FNV_BASIS, path.as_bytes())
}

pub const FNV_BASIS: u32 = 0x811c_9dc5;

/// Continue an FNV-1a hash over `bytes`.
pub fn fnv(mut hash: u32, bytes: &[u8]) -> u32 {
    for &byte in bytes {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash
}
