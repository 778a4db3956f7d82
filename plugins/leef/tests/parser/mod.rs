//! An independent LEEF reader for the tests, written from IBM's description
//! of the format and sharing no code with the formatter: the header is the
//! first five `|`-separated fields (six in LEEF 2.0, the sixth naming the
//! delimiter as a character or `0x`/`x` hex), then `key=value` attributes
//! split by TAB (1.0) or the named delimiter, each at its first `=`.

/// A LEEF line taken apart.
#[derive(Debug)]
pub struct Line {
    pub version: String,
    pub vendor: String,
    pub product: String,
    pub product_version: String,
    pub event_id: String,
    pub delimiter: char,
    /// In the order written.
    pub attributes: Vec<(String, String)>,
}

impl Line {
    /// The value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.attributes.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// Read `line`; panics, naming the line, when it is not well-formed LEEF.
pub fn parse(line: &str) -> Line {
    assert!(!line.contains(['\r', '\n']), "a raw line break in {line:?}");
    let version = line.strip_prefix("LEEF:").and_then(|rest| rest.split('|').next()).expect("a LEEF: prefix");
    let header_fields = match version {
        "1.0" => 5,
        "2.0" => 6,
        other => panic!("unknown LEEF version {other:?} in {line:?}"),
    };
    let fields: Vec<&str> = line.splitn(header_fields + 1, '|').collect();
    assert_eq!(fields.len(), header_fields + 1, "the header is cut short in {line:?}");
    let delimiter = if version == "1.0" { '\t' } else { delimiter(fields[5]) };
    let rest = fields[header_fields];
    let mut attributes: Vec<(String, String)> = Vec::new();
    if !rest.is_empty() {
        for pair in rest.split(delimiter) {
            let (key, value) = pair.split_once('=').unwrap_or_else(|| panic!("no `=` in {pair:?} of {line:?}"));
            assert!(
                !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "bad key {key:?} in {line:?}"
            );
            assert!(attributes.iter().all(|(k, _)| k != key), "key {key} twice in {line:?}");
            attributes.push((key.to_owned(), value.to_owned()));
        }
    }
    Line {
        version: version.to_owned(),
        vendor: fields[1].to_owned(),
        product: fields[2].to_owned(),
        product_version: fields[3].to_owned(),
        event_id: fields[4].to_owned(),
        delimiter,
        attributes,
    }
}

fn delimiter(field: &str) -> char {
    let mut chars = field.chars();
    if let (Some(c), None) = (chars.next(), chars.next()) {
        return c;
    }
    let hex = field.strip_prefix("0x").or_else(|| field.strip_prefix('x')).expect("a character or a hex code");
    char::from_u32(u32::from_str_radix(hex, 16).expect("hex digits")).expect("a character")
}
