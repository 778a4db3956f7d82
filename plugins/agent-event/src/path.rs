//! Dotted paths into JSON values (`agent.id`, `attributes.gen_ai.agent.id`).
//!
//! Sources often hold dotted names as flat keys (OpenTelemetry attributes such
//! as `gen_ai.agent.id`), so a lookup tries the longest key first at each
//! level and falls back to shorter ones: `attributes.gen_ai.agent.id` finds
//! both `{"attributes": {"gen_ai.agent.id": …}}` and the fully nested form.
//! A numeric segment indexes into a list.

use serde_json::{Map, Value};

/// The value at `path`, if any.
pub fn get<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    // The same search as `resolve`, without collecting the keys: every
    // mapping rule runs it on every event.
    if path.is_empty() {
        return Some(value);
    }
    let mut end = path.len();
    loop {
        if let Some(next) = child(value, &path[..end])
            && let Some(found) = get(next, path.get(end + 1..).unwrap_or(""))
        {
            return Some(found);
        }
        end = path[..end].rfind('.')?;
    }
}

/// The non-null value at `path` split on every dot, the way canonical
/// fields are written (no flat-key lookup).
pub fn get_in<'a>(map: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut keys = path.split('.');
    let mut node = map.get(keys.next()?)?;
    for key in keys {
        node = node.as_object()?.get(key)?;
    }
    (!node.is_null()).then_some(node)
}

/// Remove the value at `path` and return it.
pub fn remove(value: &mut Value, path: &str) -> Option<Value> {
    let keys = resolve(value, path)?;
    let (last, parents) = keys.split_last()?;
    let mut node = value;
    for key in parents {
        node = child_mut(node, key)?;
    }
    match node {
        Value::Object(map) => map.remove(last.as_str()),
        Value::Array(items) => {
            let index = last.parse::<usize>().ok().filter(|i| *i < items.len())?;
            Some(items.remove(index))
        }
        _ => None,
    }
}

/// Set the value at `path` (split on every dot), creating objects on the way.
/// A non-object in the way is replaced: the canonical schema owns these names.
pub fn set(map: &mut Map<String, Value>, path: &str, value: Value) {
    let mut node = map;
    let mut segments = path.split('.').peekable();
    while let Some(key) = segments.next() {
        if segments.peek().is_none() {
            node.insert(key.to_owned(), value);
            return;
        }
        let entry = node.entry(key.to_owned()).or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        node = entry.as_object_mut().expect("made an object above");
    }
}

/// The keys that `path` names in `value`, longest flat key first at each level.
fn resolve(value: &Value, path: &str) -> Option<Vec<String>> {
    if path.is_empty() {
        return Some(Vec::new());
    }
    let mut end = path.len();
    loop {
        let key = &path[..end];
        if let Some(next) = child(value, key) {
            let rest = path.get(end + 1..).unwrap_or("");
            if let Some(mut keys) = resolve(next, rest) {
                keys.insert(0, key.to_owned());
                return Some(keys);
            }
        }
        end = path[..end].rfind('.')?;
    }
}

fn child<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    match value {
        Value::Object(map) => map.get(key),
        Value::Array(items) => items.get(key.parse::<usize>().ok()?),
        _ => None,
    }
}

fn child_mut<'a>(value: &'a mut Value, key: &str) -> Option<&'a mut Value> {
    match value {
        Value::Object(map) => map.get_mut(key),
        Value::Array(items) => items.get_mut(key.parse::<usize>().ok()?),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_nested_flat_and_mixed_keys() {
        let value = json!({
            "a": {"b": {"c": 1}},
            "attributes": {"gen_ai.agent.id": "planner"},
            "x.y": {"z": 2},
            "list": [{"id": "first"}, {"id": "second"}],
        });
        assert_eq!(get(&value, "a.b.c"), Some(&json!(1)));
        assert_eq!(get(&value, "attributes.gen_ai.agent.id"), Some(&json!("planner")));
        assert_eq!(get(&value, "x.y.z"), Some(&json!(2)));
        assert_eq!(get(&value, "list.1.id"), Some(&json!("second")));
        assert_eq!(get(&value, "a.b.missing"), None);
        assert_eq!(get(&value, "list.7.id"), None);
    }

    #[test]
    fn falls_back_to_shorter_keys_when_the_longer_one_leads_nowhere() {
        let value = json!({"a.b": 1, "a": {"b": {"c": 2}}});
        assert_eq!(get(&value, "a.b.c"), Some(&json!(2)));
    }

    #[test]
    fn removes_what_it_finds() {
        let mut value = json!({"attributes": {"gen_ai.agent.id": "planner", "keep": 1}, "list": [1, 2]});
        assert_eq!(remove(&mut value, "attributes.gen_ai.agent.id"), Some(json!("planner")));
        assert_eq!(remove(&mut value, "list.0"), Some(json!(1)));
        assert_eq!(remove(&mut value, "nothing.here"), None);
        assert_eq!(value, json!({"attributes": {"keep": 1}, "list": [2]}));
    }

    #[test]
    fn set_creates_and_replaces_objects_on_the_way() {
        let mut map = Map::new();
        map.insert("tenant".into(), json!("acme"));
        set(&mut map, "agent.id", json!("a-1"));
        set(&mut map, "tenant.id", json!("acme"));
        assert_eq!(Value::Object(map), json!({"agent": {"id": "a-1"}, "tenant": {"id": "acme"}}));
    }

    #[test]
    fn get_in_follows_every_dot_and_skips_nulls() {
        let map = json!({"agent": {"id": "a-1", "name": null}, "gen_ai.agent.id": "x", "time": "t"});
        let map = map.as_object().unwrap();
        assert_eq!(get_in(map, "agent.id"), Some(&json!("a-1")));
        assert_eq!(get_in(map, "time"), Some(&json!("t")));
        assert_eq!(get_in(map, "agent.name"), None);
        assert_eq!(get_in(map, "gen_ai.agent.id"), None);
        assert_eq!(get_in(map, "agent.id.deeper"), None);
    }
}
