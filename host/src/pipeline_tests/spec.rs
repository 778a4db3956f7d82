//! The `[[tests]]` tables: events to insert at a transform, and what must
//! come of them at another.
//!
//! Read key by key rather than by serde, so that every problem names its key
//! with indices (`tests[0].outputs[1].conditions[2].line_matches`) and all of
//! them are reported at once, as for the rest of the config.

use super::conditions::{Condition, FieldPath};
use super::graph::Graph;
use crate::transforms::wasm::check_object;
use crate::validation::ConfigError;
use regex::Regex;
use serde_json::Value;
use std::collections::BTreeMap;

/// One `[[tests]]` table.
#[derive(Debug, Clone)]
pub struct PipelineTest {
    pub name: String,
    pub inputs: Vec<Input>,
    pub outputs: Vec<Output>,
}

/// One `[[tests.inputs]]`: an event entering a transform as if from its inputs.
#[derive(Debug, Clone)]
pub struct Input {
    pub insert_at: String,
    pub event: Inserted,
}

/// The event an input inserts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inserted {
    /// `value`: a message as a source receives it (a log line), put in the
    /// envelope a source puts it in.
    Message(String),
    /// `log_fields` or `event`: a whole event, as JSON object text.
    Event(String),
}

/// One `[[tests.outputs]]`: what must come of the events at a transform.
#[derive(Debug, Clone)]
pub struct Output {
    pub extract_from: String,
    pub expect: Expect,
}

#[derive(Debug, Clone)]
pub enum Expect {
    /// Some event that leaves the transform meets every condition.
    Conditions(Vec<Condition>),
    /// The transform dropped an event (on purpose: a filter, a split into nothing).
    Dropped,
    /// The transform sent an event to the dead-letter output, for a reason
    /// holding this text when given.
    DeadLettered { reason_contains: Option<String> },
}

const TEST_KEYS: &[&str] = &["name", "inputs", "outputs"];
const INPUT_KEYS: &[&str] = &["insert_at", "value", "log_fields", "event"];
const INPUT_EVENTS: &[&str] = &["value", "log_fields", "event"];
const OUTPUT_KEYS: &[&str] = &["extract_from", "conditions", "dropped", "dead_lettered", "reason_contains"];
const OUTPUT_EXPECTS: &[&str] = &["conditions", "dropped", "dead_lettered"];
const CONDITION_KEYS: &[&str] = &["field", "equals", "contains", "absent", "matches", "line_matches"];
const CONDITION_CHECKS: &[&str] = &["equals", "contains", "absent", "matches", "line_matches"];

/// The tests of a `tests` value (the array `[[tests]]` makes), checked
/// against the config's components; every problem goes to `errors`.
pub fn parse(value: Option<&toml::Value>, graph: &Graph, errors: &mut Vec<ConfigError>) -> Vec<PipelineTest> {
    let Some(value) = value else { return Vec::new() };
    let Some(items) = value.as_array() else {
        errors.push(ConfigError::new("tests", "must be an array of tables: write each test as [[tests]]"));
        return Vec::new();
    };
    let mut tests = Vec::new();
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    for (i, item) in items.iter().enumerate() {
        let at = format!("tests[{i}]");
        let Some(table) = as_table(item, &at, errors) else { continue };
        if let Some(test) = parse_test(table, &at, graph, errors) {
            if let Some(first) = names.insert(test.name.clone(), at.clone()) {
                errors.push(ConfigError::new(
                    format!("{at}.name"),
                    format!("{:?} is already the name of {first}", test.name),
                ));
            }
            tests.push(test);
        }
    }
    tests
}

fn parse_test(table: &toml::Table, at: &str, graph: &Graph, errors: &mut Vec<ConfigError>) -> Option<PipelineTest> {
    unknown_keys(table, at, TEST_KEYS, errors);
    let name = match string(table, at, "name", errors) {
        Some(name) if !name.trim().is_empty() => Some(name.to_owned()),
        Some(_) => {
            errors.push(ConfigError::new(format!("{at}.name"), "must not be empty"));
            None
        }
        None => {
            missing(table, at, "name", "say what the test checks, as the report will show it", errors);
            None
        }
    };
    let inputs: Vec<Option<Input>> =
        tables(table, at, "inputs", "add a [[tests.inputs]] with insert_at and value", errors)
            .into_iter()
            .map(|(at, input)| parse_input(input, &at, graph, errors))
            .collect();
    // Where the events go in: an output is checked for being downstream of
    // one of them, unless an input is broken (its own error says why).
    let starts: Option<Vec<&str>> = inputs.iter().map(|i| i.as_ref().map(|i| i.insert_at.as_str())).collect();
    let outputs: Vec<Option<Output>> =
        tables(table, at, "outputs", "add a [[tests.outputs]] with extract_from and conditions", errors)
            .into_iter()
            .map(|(at, output)| parse_output(output, &at, graph, starts.as_deref(), errors))
            .collect();
    Some(PipelineTest {
        name: name?,
        inputs: inputs.into_iter().collect::<Option<_>>()?,
        outputs: outputs.into_iter().collect::<Option<_>>()?,
    })
}

fn parse_input(table: &toml::Table, at: &str, graph: &Graph, errors: &mut Vec<ConfigError>) -> Option<Input> {
    unknown_keys(table, at, INPUT_KEYS, errors);
    let insert_at = match string(table, at, "insert_at", errors) {
        Some(id) => transform(id, &format!("{at}.insert_at"), graph, Role::Insert, errors).then(|| id.to_owned()),
        None => {
            missing(table, at, "insert_at", "the transform the event enters, as if from its inputs", errors);
            None
        }
    };
    let event = match one_of(table, at, INPUT_EVENTS, errors)? {
        "value" => Inserted::Message(string(table, at, "value", errors)?.to_owned()),
        "log_fields" => {
            let fields = as_table(&table["log_fields"], &format!("{at}.log_fields"), errors)?;
            match json_of(&toml::Value::Table(fields.clone())) {
                Ok(json) => Inserted::Event(json.to_string()),
                Err(problem) => {
                    errors.push(ConfigError::new(format!("{at}.log_fields"), problem));
                    return None;
                }
            }
        }
        _ => {
            let text = string(table, at, "event", errors)?;
            if let Err(problem) = check_object(text) {
                errors.push(ConfigError::new(format!("{at}.event"), format!("must be a JSON object, got {problem}")));
                return None;
            }
            Inserted::Event(text.to_owned())
        }
    };
    Some(Input { insert_at: insert_at?, event })
}

fn parse_output(
    table: &toml::Table,
    at: &str,
    graph: &Graph,
    starts: Option<&[&str]>,
    errors: &mut Vec<ConfigError>,
) -> Option<Output> {
    unknown_keys(table, at, OUTPUT_KEYS, errors);
    let extract_from = match string(table, at, "extract_from", errors) {
        Some(id) => {
            let key = format!("{at}.extract_from");
            let known = transform(id, &key, graph, Role::Extract, errors);
            if known
                && let Some(starts) = starts
                && !starts.iter().any(|start| graph.downstream(start).contains(id))
            {
                errors.push(ConfigError::new(
                    key,
                    format!("no event of this test can reach `{id}`: it is not downstream of {}", listed(starts)),
                ));
            }
            known.then(|| id.to_owned())
        }
        None => {
            missing(table, at, "extract_from", "the transform whose output is checked", errors);
            None
        }
    };
    if table.contains_key("reason_contains") && !table.contains_key("dead_lettered") {
        errors.push(ConfigError::new(format!("{at}.reason_contains"), "only goes with dead_lettered = true"));
    }
    let expect = match one_of(table, at, OUTPUT_EXPECTS, errors)? {
        "conditions" => {
            let conditions: Vec<Option<Condition>> = tables(table, at, "conditions", "list what to check", errors)
                .into_iter()
                .map(|(at, condition)| parse_condition(condition, &at, errors))
                .collect();
            Expect::Conditions(conditions.into_iter().collect::<Option<_>>()?)
        }
        "dropped" => {
            only_true(table, at, "dropped", errors)?;
            Expect::Dropped
        }
        _ => {
            only_true(table, at, "dead_lettered", errors)?;
            let reason_contains = match table.get("reason_contains") {
                None => None,
                Some(_) => Some(string(table, at, "reason_contains", errors)?.to_owned()),
            };
            Expect::DeadLettered { reason_contains }
        }
    };
    Some(Output { extract_from: extract_from?, expect })
}

fn parse_condition(table: &toml::Table, at: &str, errors: &mut Vec<ConfigError>) -> Option<Condition> {
    unknown_keys(table, at, CONDITION_KEYS, errors);
    let check = one_of(table, at, CONDITION_CHECKS, errors);
    if check == Some("line_matches") {
        if table.contains_key("field") {
            errors.push(ConfigError::new(
                format!("{at}.field"),
                "line_matches checks the whole line a sink would write; leave field out (or use matches)",
            ));
        }
        return regex(table, at, "line_matches", errors).map(Condition::LineMatches);
    }
    let field = match string(table, at, "field", errors) {
        Some(path) => match FieldPath::parse(path) {
            Ok(field) => Some(field),
            Err(problem) => {
                errors.push(ConfigError::new(format!("{at}.field"), problem));
                None
            }
        },
        None => {
            missing(table, at, "field", "the dotted path of the field to check, like `agent.id`", errors);
            None
        }
    };
    let condition = match check? {
        "absent" => match &table["absent"] {
            toml::Value::Boolean(absent) => Condition::Absent { field: field?, absent: *absent },
            other => return wrong_type(at, "absent", "a boolean", other, errors),
        },
        "matches" => Condition::Matches { regex: regex(table, at, "matches", errors)?, field: field? },
        check => {
            let value = match json_of(&table[check]) {
                Ok(value) => value,
                Err(problem) => {
                    errors.push(ConfigError::new(format!("{at}.{check}"), problem));
                    return None;
                }
            };
            match check {
                "equals" => Condition::Equals { field: field?, value },
                _ => Condition::Contains { field: field?, value },
            }
        }
    };
    Some(condition)
}

/// What a test names a transform for, which decides the hint when it names
/// a source or a sink.
#[derive(Clone, Copy)]
enum Role {
    Insert,
    Extract,
}

/// Whether `id` is a transform a test can name; when not, an error at `key`
/// saying what it is and which transforms would do.
fn transform(id: &str, key: &str, graph: &Graph, role: Role, errors: &mut Vec<ConfigError>) -> bool {
    if graph.transforms.contains_key(id) {
        return true;
    }
    if graph.unparsed.contains(id) {
        return false;
    }
    let problem = if graph.sources.contains(id) {
        let readers: Vec<&str> = graph.consumers(id).map(String::as_str).collect();
        match role {
            Role::Insert if !readers.is_empty() => format!(
                "`{id}` is a source, and tests run no source: insert at a transform that reads it ({})",
                readers.join(", ")
            ),
            _ => format!("`{id}` is a source, and tests run no source: name a transform"),
        }
    } else if let Some(inputs) = graph.sinks.get(id) {
        let transforms: Vec<&str> =
            inputs.iter().filter(|i| graph.transforms.contains_key(*i)).map(String::as_str).collect();
        match role {
            Role::Extract if !transforms.is_empty() => format!(
                "`{id}` is a sink, and tests run no sink: extract from the transform it reads ({})",
                transforms.join(", ")
            ),
            _ => format!("`{id}` is a sink, and tests run no sink: name a transform"),
        }
    } else {
        let known: Vec<&str> = graph.transforms.keys().map(String::as_str).collect();
        match known.is_empty() {
            true => format!("unknown transform `{id}`: the config has no transform to test"),
            false => format!("unknown transform `{id}` (transforms: {})", known.join(", ")),
        }
    };
    errors.push(ConfigError::new(key, problem));
    false
}

/// Ids as a sentence lists them: `a`, `a or b`.
fn listed(ids: &[&str]) -> String {
    let quoted: Vec<String> = ids.iter().map(|id| format!("`{id}`")).collect();
    quoted.join(" or ")
}

/// A TOML value as the JSON value events hold. Dates and times have no JSON
/// form; a test writes them as the strings an event holds.
fn json_of(value: &toml::Value) -> Result<Value, String> {
    Ok(match value {
        toml::Value::String(s) => Value::String(s.clone()),
        toml::Value::Integer(n) => Value::from(*n),
        toml::Value::Float(x) => match serde_json::Number::from_f64(*x) {
            Some(n) => Value::Number(n),
            None => return Err(format!("{x} has no JSON form")),
        },
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(at) => {
            return Err(format!("a TOML date-time ({at}) has no JSON form: quote it, as events hold it as a string"));
        }
        toml::Value::Array(items) => Value::Array(items.iter().map(json_of).collect::<Result<_, _>>()?),
        toml::Value::Table(table) => {
            Value::Object(table.iter().map(|(k, v)| Ok((k.clone(), json_of(v)?))).collect::<Result<_, String>>()?)
        }
    })
}

fn as_table<'a>(value: &'a toml::Value, at: &str, errors: &mut Vec<ConfigError>) -> Option<&'a toml::Table> {
    match value {
        toml::Value::Table(table) => Some(table),
        other => {
            errors.push(ConfigError::new(at, format!("must be a table, got {}", other.type_str())));
            None
        }
    }
}

fn unknown_keys(table: &toml::Table, at: &str, known: &[&str], errors: &mut Vec<ConfigError>) {
    for key in table.keys().filter(|key| !known.contains(&key.as_str())) {
        errors.push(ConfigError::new(
            format!("{at}.{key}"),
            format!("unknown key (expected one of: {})", known.join(", ")),
        ));
    }
}

/// The string at `key`, if there is one; a value of another type is an error.
fn string<'a>(table: &'a toml::Table, at: &str, key: &str, errors: &mut Vec<ConfigError>) -> Option<&'a str> {
    match table.get(key)? {
        toml::Value::String(s) => Some(s),
        other => wrong_type(at, key, "a string", other, errors),
    }
}

fn wrong_type<T>(at: &str, key: &str, expected: &str, got: &toml::Value, errors: &mut Vec<ConfigError>) -> Option<T> {
    errors.push(ConfigError::new(format!("{at}.{key}"), format!("must be {expected}, got {}", got.type_str())));
    None
}

/// A missing key is an error, unless it is there with the wrong type (already reported).
fn missing(table: &toml::Table, at: &str, key: &str, what: &str, errors: &mut Vec<ConfigError>) {
    if !table.contains_key(key) {
        errors.push(ConfigError::new(format!("{at}.{key}"), format!("missing: {what}")));
    }
}

/// The tables of the array at `key`, each with where it is; a missing or
/// empty array is an error saying what to add.
fn tables<'a>(
    table: &'a toml::Table,
    at: &str,
    key: &str,
    hint: &str,
    errors: &mut Vec<ConfigError>,
) -> Vec<(String, &'a toml::Table)> {
    let items = match table.get(key) {
        None => {
            errors.push(ConfigError::new(format!("{at}.{key}"), format!("missing: {hint}")));
            return Vec::new();
        }
        Some(toml::Value::Array(items)) if items.is_empty() => {
            errors.push(ConfigError::new(format!("{at}.{key}"), format!("empty: {hint}")));
            return Vec::new();
        }
        Some(toml::Value::Array(items)) => items,
        Some(other) => return wrong_type(at, key, "an array of tables", other, errors).unwrap_or_default(),
    };
    items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| {
            let at = format!("{at}.{key}[{i}]");
            as_table(item, &at, errors).map(|table| (at, table))
        })
        .collect()
}

/// The one of `keys` the table has; none or several is an error.
fn one_of(table: &toml::Table, at: &str, keys: &[&'static str], errors: &mut Vec<ConfigError>) -> Option<&'static str> {
    let given: Vec<&'static str> = keys.iter().copied().filter(|key| table.contains_key(*key)).collect();
    match given[..] {
        [one] => Some(one),
        [] => {
            errors.push(ConfigError::new(at, format!("give one of: {}", keys.join(", "))));
            None
        }
        _ => {
            errors.push(ConfigError::new(
                at,
                format!("give only one of: {} (it has {})", keys.join(", "), given.join(", ")),
            ));
            None
        }
    }
}

/// `key = true`: the only value that asks for something.
fn only_true(table: &toml::Table, at: &str, key: &str, errors: &mut Vec<ConfigError>) -> Option<()> {
    match &table[key] {
        toml::Value::Boolean(true) => Some(()),
        toml::Value::Boolean(false) => {
            errors.push(ConfigError::new(
                format!("{at}.{key}"),
                "only `true` checks anything: to check the events that come out, give conditions",
            ));
            None
        }
        other => wrong_type(at, key, "true", other, errors),
    }
}

/// The regular expression at `key`, compiled; a bad one is an error saying
/// what is wrong with it, on one line.
fn regex(table: &toml::Table, at: &str, key: &str, errors: &mut Vec<ConfigError>) -> Option<Regex> {
    let pattern = string(table, at, key, errors)?;
    match Regex::new(pattern) {
        Ok(regex) => Some(regex),
        Err(err) => {
            // The parser's message draws a caret under the pattern over
            // several lines; its last line says what is wrong.
            let text = err.to_string();
            let problem = text.lines().last().unwrap_or_default().trim_start_matches("error: ");
            errors.push(ConfigError::new(
                format!("{at}.{key}"),
                format!("{pattern:?} is not a valid regular expression: {problem}"),
            ));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// in -> normalise -> redact -> format -> out, and a side branch.
    fn graph() -> Graph {
        let ids = |ids: &[&str]| ids.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        Graph {
            sources: ["in".to_owned()].into(),
            transforms: [
                ("normalise".to_owned(), ids(&["in"])),
                ("redact".to_owned(), ids(&["normalise"])),
                ("format".to_owned(), ids(&["redact"])),
                ("side".to_owned(), ids(&["in"])),
            ]
            .into(),
            sinks: [("out".to_owned(), ids(&["format"]))].into(),
            unparsed: ["broken".to_owned()].into(),
        }
    }

    fn parsed(text: &str) -> Result<Vec<PipelineTest>, Vec<String>> {
        let table: toml::Table = text.parse().expect("valid TOML");
        let mut errors = Vec::new();
        let tests = parse(table.get("tests"), &graph(), &mut errors);
        if errors.is_empty() { Ok(tests) } else { Err(errors.iter().map(ToString::to_string).collect()) }
    }

    fn errors(text: &str) -> Vec<String> {
        parsed(text).expect_err("the tests should be refused")
    }

    fn assert_has(errors: &[String], expected: &str) {
        assert!(errors.iter().any(|e| e == expected), "expected {expected:?} in {errors:#?}");
    }

    const GOOD: &str = r#"
[[tests]]
name = "a tool call is formatted"
[[tests.inputs]]
insert_at = "normalise"
value = '{"agent":{"id":"a1"}}'
[[tests.inputs]]
insert_at = "redact"
log_fields = { agent.id = "a2", n = 1.5 }
[[tests.inputs]]
insert_at = "redact"
event = '{"agent":{"id":"a3"}}'
[[tests.outputs]]
extract_from = "format"
conditions = [
  { field = "agent.id", equals = "a1" },
  { field = "agent.id", contains = "a" },
  { field = "user.email", absent = true },
  { field = "agent.id", matches = "^a[0-9]$" },
  { line_matches = "^CEF:0\\|" },
]
[[tests.outputs]]
extract_from = "redact"
dropped = true
[[tests.outputs]]
extract_from = "normalise"
dead_lettered = true
reason_contains = "agent.id"
"#;

    #[test]
    fn every_form_of_input_output_and_condition_is_read() {
        let tests = parsed(GOOD).unwrap();
        assert_eq!(tests.len(), 1);
        let test = &tests[0];
        assert_eq!(test.name, "a tool call is formatted");
        let events: Vec<_> = test.inputs.iter().map(|i| (i.insert_at.as_str(), i.event.clone())).collect();
        assert_eq!(
            events,
            [
                ("normalise", Inserted::Message(r#"{"agent":{"id":"a1"}}"#.into())),
                ("redact", Inserted::Event(r#"{"agent":{"id":"a2"},"n":1.5}"#.into())),
                ("redact", Inserted::Event(r#"{"agent":{"id":"a3"}}"#.into())),
            ]
        );
        let Expect::Conditions(conditions) = &test.outputs[0].expect else { panic!("conditions") };
        let shown: Vec<String> = conditions.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                r#"agent.id equals "a1""#,
                r#"agent.id contains "a""#,
                "user.email is absent",
                "agent.id matches /^a[0-9]$/",
                r"line matches /^CEF:0\|/"
            ]
        );
        assert!(matches!(test.outputs[1].expect, Expect::Dropped));
        assert!(
            matches!(&test.outputs[2].expect, Expect::DeadLettered { reason_contains: Some(r) } if r == "agent.id")
        );
    }

    #[test]
    fn bad_tables_are_all_reported_with_their_keys() {
        let text = GOOD
            .replace(r#"{ line_matches = "^CEF:0\\|" }"#, r#"{ line_matches = "^CEF:0\\|(" }"#)
            .replace("insert_at = \"redact\"\nlog_fields", "insert_at = \"redcat\"\nlog_fields")
            .replace("dropped = true", "dropped = true\ncolour = \"red\"")
            .replace("{ field = \"user.email\", absent = true }", "{ field = \"user..email\", absent = \"yes\" }");
        let errors = errors(&text);
        assert_has(
            &errors,
            r#"tests[0].outputs[0].conditions[4].line_matches: "^CEF:0\\|(" is not a valid regular expression: unclosed group"#,
        );
        assert_has(
            &errors,
            "tests[0].inputs[1].insert_at: unknown transform `redcat` (transforms: format, normalise, redact, side)",
        );
        assert_has(
            &errors,
            "tests[0].outputs[1].colour: unknown key (expected one of: extract_from, conditions, dropped, dead_lettered, reason_contains)",
        );
        assert_has(
            &errors,
            r#"tests[0].outputs[0].conditions[2].field: path "user..email" has an empty segment (paths look like `agent.id`)"#,
        );
        assert_has(&errors, "tests[0].outputs[0].conditions[2].absent: must be a boolean, got string");
        assert_eq!(errors.len(), 5, "{errors:#?}");
    }

    #[test]
    fn sources_sinks_and_unreachable_transforms_are_refused_with_a_hint() {
        let test = |insert_at: &str, extract_from: &str| {
            format!(
                "[[tests]]\nname = \"t\"\n[[tests.inputs]]\ninsert_at = \"{insert_at}\"\nvalue = \"x\"\n\
                 [[tests.outputs]]\nextract_from = \"{extract_from}\"\ndropped = true\n"
            )
        };
        assert_has(
            &errors(&test("in", "format")),
            "tests[0].inputs[0].insert_at: `in` is a source, and tests run no source: insert at a transform that reads it (normalise, side)",
        );
        assert_has(
            &errors(&test("normalise", "out")),
            "tests[0].outputs[0].extract_from: `out` is a sink, and tests run no sink: extract from the transform it reads (format)",
        );
        assert_has(
            &errors(&test("redact", "side")),
            "tests[0].outputs[0].extract_from: no event of this test can reach `side`: it is not downstream of `redact`",
        );
        assert_has(
            &errors(&test("redact", "normalise")),
            "tests[0].outputs[0].extract_from: no event of this test can reach `normalise`: it is not downstream of `redact`",
        );
        // A component whose own table is broken is reported there, not here.
        assert!(parsed(&test("broken", "format")).is_ok_and(|tests| tests.is_empty()));
        assert!(parsed(&test("normalise", "format")).is_ok());
    }

    #[test]
    fn missing_ambiguous_and_meaningless_settings_are_refused() {
        let text = "[[tests]]\nname = \"\"\n[[tests.inputs]]\ninsert_at = \"normalise\"\nvalue = \"x\"\nevent = '[1]'\n\
                    [[tests.inputs]]\nevent = '[1]'\n\
                    [[tests.outputs]]\nextract_from = \"format\"\ndropped = false\n\
                    [[tests.outputs]]\nextract_from = \"format\"\nconditions = []\nreason_contains = \"x\"\n\
                    [[tests.outputs]]\nextract_from = \"format\"\nconditions = [{ field = \"a\" }, { field = \"a\", line_matches = \"x\" }, { equals = 1 }]\n\
                    [[tests]]\nname = \"n\"\n[[tests]]\nname = \"n\"\ninputs = []\noutputs = 3\n";
        let found = errors(text);
        for expected in [
            "tests[0].name: must not be empty",
            "tests[0].inputs[0]: give only one of: value, log_fields, event (it has value, event)",
            "tests[0].inputs[1].insert_at: missing: the transform the event enters, as if from its inputs",
            "tests[0].inputs[1].event: must be a JSON object, got JSON that is not an object (an array)",
            "tests[0].outputs[0].dropped: only `true` checks anything: to check the events that come out, give conditions",
            "tests[0].outputs[1].conditions: empty: list what to check",
            "tests[0].outputs[1].reason_contains: only goes with dead_lettered = true",
            "tests[0].outputs[2].conditions[0]: give one of: equals, contains, absent, matches, line_matches",
            "tests[0].outputs[2].conditions[1].field: line_matches checks the whole line a sink would write; leave field out (or use matches)",
            "tests[0].outputs[2].conditions[2].field: missing: the dotted path of the field to check, like `agent.id`",
            "tests[1].inputs: missing: add a [[tests.inputs]] with insert_at and value",
            "tests[1].outputs: missing: add a [[tests.outputs]] with extract_from and conditions",
            "tests[2].inputs: empty: add a [[tests.inputs]] with insert_at and value",
            "tests[2].outputs: must be an array of tables, got integer",
        ] {
            assert_has(&found, expected);
        }
        let twice = format!("{GOOD}{GOOD}");
        assert_has(&errors(&twice), r#"tests[1].name: "a tool call is formatted" is already the name of tests[0]"#);
        assert_has(
            &errors("tests = { name = \"x\" }"),
            "tests: must be an array of tables: write each test as [[tests]]",
        );
    }

    #[test]
    fn dates_and_non_finite_numbers_have_no_json_form() {
        let text = GOOD
            .replace("log_fields = { agent.id = \"a2\", n = 1.5 }", "log_fields = { at = 2026-01-01T00:00:00Z }")
            .replace("{ field = \"agent.id\", equals = \"a1\" }", "{ field = \"n\", equals = nan }");
        let errors = errors(&text);
        assert_has(
            &errors,
            "tests[0].inputs[1].log_fields: a TOML date-time (2026-01-01T00:00:00Z) has no JSON form: quote it, as events hold it as a string",
        );
        assert_has(&errors, "tests[0].outputs[0].conditions[0].equals: NaN has no JSON form");
    }
}
