//! What a test asserts about one event that left a transform, and how each
//! assertion is judged: pure functions of the event, so they are tested
//! without a plugin.

use crate::event::Event;
use regex::Regex;
use serde_json::Value;
use std::fmt;

/// A dotted path into an event (`agent.id`, `tool.arguments.0`): members of
/// objects by name, elements of arrays by index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPath(Vec<String>);

impl FieldPath {
    /// A path, refused when a segment is empty (`a..b`, `.a`, ``).
    pub fn parse(path: &str) -> Result<FieldPath, String> {
        if path.split('.').any(str::is_empty) {
            return Err(format!("path {path:?} has an empty segment (paths look like `agent.id`)"));
        }
        Ok(FieldPath(path.split('.').map(str::to_owned).collect()))
    }

    /// The value at this path, if every step exists.
    pub fn lookup<'a>(&self, mut value: &'a Value) -> Option<&'a Value> {
        for segment in &self.0 {
            value = match value {
                Value::Object(members) => members.get(segment)?,
                Value::Array(items) => items.get(segment.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(value)
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join("."))
    }
}

/// One entry of `conditions = [ … ]`.
#[derive(Debug, Clone)]
pub enum Condition {
    /// The field holds this value (numbers compare by value: 1 equals 1.0).
    Equals { field: FieldPath, value: Value },
    /// The field is a string holding this text, or an array holding this value.
    Contains { field: FieldPath, value: Value },
    /// The field is missing (`absent = true`) or present, even as null (`false`).
    Absent { field: FieldPath, absent: bool },
    /// The field is a string this regular expression matches.
    Matches { field: FieldPath, regex: Regex },
    /// What a sink would write for the event (the line a plugin emitted, or
    /// else the event's JSON) matches this regular expression.
    LineMatches(Regex),
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Condition::Equals { field, value } => write!(f, "{field} equals {value}"),
            Condition::Contains { field, value } => write!(f, "{field} contains {value}"),
            Condition::Absent { field, absent: true } => write!(f, "{field} is absent"),
            Condition::Absent { field, absent: false } => write!(f, "{field} is present"),
            Condition::Matches { field, regex } => write!(f, "{field} matches /{}/", regex.as_str()),
            Condition::LineMatches(regex) => write!(f, "line matches /{}/", regex.as_str()),
        }
    }
}

/// An event as conditions see it: its JSON parsed once for every condition.
pub struct Subject<'a> {
    json: Result<Value, String>,
    /// What a sink would write.
    body: &'a str,
    /// Whether `body` is a line a plugin emitted (else it is the JSON).
    line: bool,
}

impl<'a> Subject<'a> {
    pub fn new(event: &'a Event) -> Subject<'a> {
        // Plugins' output is checked to be a JSON object before it is passed
        // on, so a parse failure here is a router bug worth showing, not hiding.
        let json = serde_json::from_str(event.json()).map_err(|err| format!("the event is not JSON: {err}"));
        Subject { json, body: event.body(), line: event.line().is_some() }
    }
}

impl Condition {
    /// `Ok` when the event meets the condition, else what the event holds
    /// instead, for the report (`actual "a2"`, `absent`, `line "CEF:0|…"`).
    pub fn check(&self, subject: &Subject<'_>) -> Result<(), String> {
        if let Condition::LineMatches(regex) = self {
            return match (regex.is_match(subject.body), subject.line) {
                (true, _) => Ok(()),
                (false, true) => Err(format!("line {}", quote(subject.body))),
                (false, false) => Err(format!("no plugin emitted a line, so the JSON {}", shorten(subject.body))),
            };
        }
        let json = subject.json.as_ref().map_err(Clone::clone)?;
        let found = match self {
            Condition::Equals { field, .. }
            | Condition::Contains { field, .. }
            | Condition::Absent { field, .. }
            | Condition::Matches { field, .. } => field.lookup(json),
            Condition::LineMatches(_) => unreachable!("judged above"),
        };
        let actual = || match found {
            Some(value) => format!("actual {}", shorten(&value.to_string())),
            None => "the field is absent".to_owned(),
        };
        let met = match (self, found) {
            (Condition::Absent { absent, .. }, found) => found.is_none() == *absent,
            (_, None) => false,
            (Condition::Equals { value, .. }, Some(found)) => same(found, value),
            (Condition::Contains { value, .. }, Some(Value::String(text))) => match value {
                Value::String(part) => text.contains(part.as_str()),
                _ => false,
            },
            (Condition::Contains { value, .. }, Some(Value::Array(items))) => {
                items.iter().any(|item| same(item, value))
            }
            (Condition::Contains { .. }, Some(_)) => {
                return Err(format!("{}, neither a string nor an array", actual()));
            }
            (Condition::Matches { regex, .. }, Some(Value::String(text))) => regex.is_match(text),
            (Condition::Matches { .. }, Some(_)) => return Err(format!("{}, not a string", actual())),
            (Condition::LineMatches(_), _) => unreachable!("judged above"),
        };
        if met { Ok(()) } else { Err(actual()) }
    }
}

/// JSON equality, except that numbers compare by value: TOML writes `1`
/// where a plugin may have written `1.0`.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64().is_some_and(|x| y.as_f64() == Some(x)),
        _ => a == b,
    }
}

/// The most of a value a report line shows.
const SHOWN: usize = 300;

/// `text` quoted (escapes and all) for a report line, shortened past
/// [`SHOWN`] characters.
pub fn quote(text: &str) -> String {
    match text.char_indices().nth(SHOWN) {
        None => format!("{text:?}"),
        Some((cut, _)) => format!("{:?}… ({} bytes in all)", &text[..cut], text.len()),
    }
}

/// JSON text for a report line (already quoted and escaped), shortened past
/// [`SHOWN`] characters.
pub fn shorten(json: &str) -> String {
    match json.char_indices().nth(SHOWN) {
        None => json.to_owned(),
        Some((cut, _)) => format!("{}… ({} bytes in all)", &json[..cut], json.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn path(p: &str) -> FieldPath {
        FieldPath::parse(p).unwrap()
    }

    fn event(json: Value) -> Event {
        Event::from_json(json.to_string())
    }

    fn check(condition: &Condition, event: &Event) -> Result<(), String> {
        condition.check(&Subject::new(event))
    }

    fn tool_call() -> Event {
        event(json!({
            "agent": {"id": "spiffe://acme/agent/a1", "scope": ["read", "write"]},
            "event": {"kind": "tool_call", "severity": 3},
            "user": null,
        }))
    }

    #[test]
    fn paths_reach_into_objects_and_arrays_and_refuse_empty_segments() {
        let value = json!({"a": {"b": [10, {"c": "x"}]}});
        assert_eq!(path("a.b.1.c").lookup(&value), Some(&json!("x")));
        assert_eq!(path("a.b.0").lookup(&value), Some(&json!(10)));
        assert_eq!(path("a.b.2").lookup(&value), None);
        assert_eq!(path("a.b.x").lookup(&value), None);
        assert_eq!(path("a.b.0.c").lookup(&value), None, "a number has no members");
        for bad in ["", "a..b", ".a", "a."] {
            assert!(FieldPath::parse(bad).unwrap_err().contains("has an empty segment"), "{bad:?}");
        }
    }

    #[test]
    fn equals_compares_json_values_and_numbers_by_value() {
        let event = tool_call();
        let equals = |field: &str, value: Value| Condition::Equals { field: path(field), value };
        assert_eq!(check(&equals("event.kind", json!("tool_call")), &event), Ok(()));
        assert_eq!(check(&equals("event.severity", json!(3.0)), &event), Ok(()));
        assert_eq!(check(&equals("agent.scope", json!(["read", "write"])), &event), Ok(()));
        assert_eq!(check(&equals("user", Value::Null), &event), Ok(()));
        assert_eq!(check(&equals("event.kind", json!("prompt")), &event), Err(r#"actual "tool_call""#.into()));
        assert_eq!(check(&equals("event.severity", json!("3")), &event), Err("actual 3".into()), "no coercion");
        assert_eq!(check(&equals("tenant.id", json!("t")), &event), Err("the field is absent".into()));
    }

    #[test]
    fn contains_finds_text_in_strings_and_values_in_arrays() {
        let event = tool_call();
        let contains = |field: &str, value: Value| Condition::Contains { field: path(field), value };
        assert_eq!(check(&contains("agent.id", json!("agent/a1")), &event), Ok(()));
        assert_eq!(check(&contains("agent.scope", json!("write")), &event), Ok(()));
        assert!(check(&contains("agent.id", json!("a2")), &event).unwrap_err().contains("spiffe://acme/agent/a1"));
        assert!(check(&contains("agent.scope", json!("admin")), &event).is_err());
        assert_eq!(check(&contains("agent.scope", json!("rea")), &event), Err(r#"actual ["read","write"]"#.into()));
        let error = check(&contains("event.severity", json!("3")), &event).unwrap_err();
        assert!(error.ends_with("neither a string nor an array"), "{error}");
        assert_eq!(check(&contains("missing", json!("x")), &event), Err("the field is absent".into()));
    }

    #[test]
    fn absent_tells_missing_from_present_even_when_null() {
        let event = tool_call();
        let absent = |field: &str, absent: bool| Condition::Absent { field: path(field), absent };
        assert_eq!(check(&absent("user.email", true), &event), Ok(()));
        assert_eq!(check(&absent("agent.id", false), &event), Ok(()));
        assert_eq!(check(&absent("user", false), &event), Ok(()), "null is present");
        assert_eq!(check(&absent("user", true), &event), Err("actual null".into()));
        assert_eq!(check(&absent("event.kind", true), &event), Err(r#"actual "tool_call""#.into()));
        assert_eq!(check(&absent("user.email", false), &event), Err("the field is absent".into()));
    }

    #[test]
    fn matches_applies_a_regex_to_a_string_field() {
        let event = tool_call();
        let matches =
            |field: &str, regex: &str| Condition::Matches { field: path(field), regex: Regex::new(regex).unwrap() };
        assert_eq!(check(&matches("agent.id", "^spiffe://[a-z]+/"), &event), Ok(()));
        assert!(check(&matches("agent.id", "^https://"), &event).is_err());
        assert!(check(&matches("event.severity", "3"), &event).unwrap_err().ends_with("not a string"));
    }

    #[test]
    fn line_matches_reads_the_emitted_line_or_else_the_json() {
        let mut event = tool_call();
        let line = |regex: &str| Condition::LineMatches(Regex::new(regex).unwrap());
        assert_eq!(check(&line(r#"^\{"agent""#), &event), Ok(()), "no line yet: the JSON a sink would write");
        let error = check(&line("^CEF"), &event).unwrap_err();
        assert!(error.starts_with(r#"no plugin emitted a line, so the JSON {"agent":"#), "{error}");
        event.set_line("CEF:0|sluice|agent|1|tool_call|x|3|".into());
        assert_eq!(check(&line(r"^CEF:0\|"), &event), Ok(()));
        assert_eq!(check(&line(r"^LEEF:"), &event), Err(r#"line "CEF:0|sluice|agent|1|tool_call|x|3|""#.into()));
    }

    #[test]
    fn long_actual_values_are_shortened() {
        let long = "x".repeat(1000);
        let shown = quote(&long);
        assert!(shown.ends_with("… (1000 bytes in all)"), "{shown}");
        assert!(shown.len() < 400, "{shown}");
        assert_eq!(quote("é\n"), "\"é\\n\"");
        assert!(shorten(&format!("\"{long}\"")).ends_with("… (1002 bytes in all)"));
    }
}
