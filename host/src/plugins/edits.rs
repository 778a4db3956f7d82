//! Applying the edits a 0.3 plugin answers with (`outcome.edit`), so that a
//! plugin that changes a few fields does not write the whole event back.
//!
//! Edits are applied in order to the parsed event and the result is written
//! as compact JSON. A failed edit fails only its event, with a reason that
//! names the edit.

use serde_json::{Map, Value};

/// One change to an event (`edit` in `wit/plugin.wit`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    /// Set the value at `path` to the JSON text `value`.
    Set { path: String, value: String },
    /// Remove the member at this path.
    Remove(String),
    /// Move the value at `from` to `to`.
    Rename { from: String, to: String },
}

/// The event `json` with `edits` applied, as compact JSON text.
pub fn apply(json: &str, edits: &[Edit]) -> Result<String, String> {
    let mut event: Value =
        serde_json::from_str(json).map_err(|err| format!("the event to edit is not valid JSON: {err}"))?;
    for (n, edit) in edits.iter().enumerate() {
        apply_one(&mut event, edit)
            .map_err(|reason| format!("edit {} of {} ({edit}): {reason}", n + 1, edits.len()))?;
    }
    Ok(serde_json::to_string(&event).expect("a JSON value always serialises"))
}

fn apply_one(event: &mut Value, edit: &Edit) -> Result<(), String> {
    match edit {
        Edit::Set { path, value } => {
            let value = serde_json::from_str(value).map_err(|err| format!("the value is not valid JSON: {err}"))?;
            set(event, path, value)
        }
        Edit::Remove(path) => {
            remove(event, path)?;
            Ok(())
        }
        Edit::Rename { from, to } => match remove(event, from)? {
            Some(value) => set(event, to, value),
            None => Ok(()),
        },
    }
}

fn segments(path: &str) -> Result<Vec<&str>, String> {
    let segments: Vec<&str> = path.split('.').collect();
    if segments.iter().any(|s| s.is_empty()) {
        return Err("the path has an empty segment".to_owned());
    }
    Ok(segments)
}

fn set(event: &mut Value, path: &str, value: Value) -> Result<(), String> {
    let segments = segments(path)?;
    let (last, parents) = segments.split_last().expect("split yields at least one segment");
    let mut object = as_object(event, "the event")?;
    for (depth, name) in parents.iter().enumerate() {
        let child = object.entry(*name).or_insert_with(|| Value::Object(Map::new()));
        object = as_object(child, &segments[..=depth].join("."))?;
    }
    object.insert((*last).to_owned(), value);
    Ok(())
}

fn remove(event: &mut Value, path: &str) -> Result<Option<Value>, String> {
    let segments = segments(path)?;
    let (last, parents) = segments.split_last().expect("split yields at least one segment");
    let mut at = event;
    for name in parents {
        match at.get_mut(*name) {
            Some(child) => at = child,
            None => return Ok(None),
        }
    }
    Ok(at.as_object_mut().and_then(|object| object.remove(*last)))
}

fn as_object<'v>(value: &'v mut Value, what: &str) -> Result<&'v mut Map<String, Value>, String> {
    match value {
        Value::Object(object) => Ok(object),
        other => Err(format!("`{what}` is not an object but {}", kind(other))),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl std::fmt::Display for Edit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Edit::Set { path, .. } => write!(f, "set `{path}`"),
            Edit::Remove(path) => write!(f, "remove `{path}`"),
            Edit::Rename { from, to } => write!(f, "rename `{from}` to `{to}`"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn set(path: &str, value: &str) -> Edit {
        Edit::Set { path: path.into(), value: value.into() }
    }

    fn edited(event: Value, edits: &[Edit]) -> Result<Value, String> {
        apply(&event.to_string(), edits).map(|json| serde_json::from_str(&json).unwrap())
    }

    #[test]
    fn set_remove_and_rename_apply_in_order() {
        let event = json!({"agent": {"id": "a", "secret": "s"}, "message": "m"});
        let edits = [
            set("agent.id", r#""b""#),
            set("tool.call.name", r#""search""#),
            Edit::Remove("agent.secret".into()),
            Edit::Remove("not.there".into()),
            Edit::Rename { from: "message".into(), to: "body.text".into() },
            Edit::Rename { from: "gone".into(), to: "never".into() },
            set("n", "[1, {\"x\": null}]"),
        ];
        assert_eq!(
            edited(event, &edits).unwrap(),
            json!({"agent": {"id": "b"}, "tool": {"call": {"name": "search"}}, "body": {"text": "m"},
                   "n": [1, {"x": null}]})
        );
    }

    #[test]
    fn a_bad_edit_names_itself_and_why() {
        let event = json!({"agent": "not an object"});
        let err = edited(event.clone(), &[set("ok", "1"), set("agent.id", "1")]).unwrap_err();
        assert_eq!(err, "edit 2 of 2 (set `agent.id`): `agent` is not an object but a string");
        let err = edited(event.clone(), &[set("x", "{nope")]).unwrap_err();
        assert!(err.starts_with("edit 1 of 1 (set `x`): the value is not valid JSON"), "{err}");
        let err = edited(event, &[Edit::Remove("a..b".into())]).unwrap_err();
        assert_eq!(err, "edit 1 of 1 (remove `a..b`): the path has an empty segment");
    }
}
