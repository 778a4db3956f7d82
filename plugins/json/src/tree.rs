//! Taking values out of an event and putting them in by dotted path.
//!
//! Both keep the event tidy and lossless: taking a value also removes the
//! objects it leaves empty (dropping `tool.arguments` from a `tool` that held
//! nothing else removes `tool`), and putting a value never overwrites one
//! already there: objects merge, and whatever does not fit is handed back.

use serde_json::{Map, Value};

/// Remove the value at `path` and return it, with the parents it leaves empty.
pub fn take(root: &mut Map<String, Value>, path: &str) -> Option<Value> {
    match path.split_once('.') {
        None => root.remove(path),
        Some((head, rest)) => {
            let Some(Value::Object(child)) = root.get_mut(head) else { return None };
            let taken = take(child, rest)?;
            if child.is_empty() {
                root.remove(head);
            }
            Some(taken)
        }
    }
}

/// Put `value` at `path`, creating objects on the way and merging into an
/// object already there. What cannot go in (the place holds something else,
/// or a parent on the way is not an object) is returned.
pub fn put(root: &mut Map<String, Value>, path: &str, value: Value) -> Result<(), Value> {
    match path.split_once('.') {
        None => put_key(root, path.to_owned(), value),
        Some((head, rest)) => match root.get_mut(head) {
            None => {
                let mut child = Map::new();
                put(&mut child, rest, value).expect("an empty object takes anything");
                root.insert(head.to_owned(), Value::Object(child));
                Ok(())
            }
            Some(Value::Object(child)) => put(child, rest, value),
            Some(_) => Err(value),
        },
    }
}

/// `put` along literal keys (each may itself hold dots, as an agent's flat
/// names do), for a value kept in the nesting it came in.
pub fn put_at(root: &mut Map<String, Value>, keys: &[&str], value: Value) -> Result<(), Value> {
    match keys {
        [] => Err(value),
        [key] => put_key(root, (*key).to_owned(), value),
        [head, rest @ ..] => match root.get_mut(*head) {
            None => {
                let mut child = Map::new();
                put_at(&mut child, rest, value).expect("an empty object takes anything");
                root.insert((*head).to_owned(), Value::Object(child));
                Ok(())
            }
            Some(Value::Object(child)) => put_at(child, rest, value),
            Some(_) => Err(value),
        },
    }
}

/// `put` for one literal key (which may itself hold dots, as map labels do).
fn put_key(map: &mut Map<String, Value>, key: String, value: Value) -> Result<(), Value> {
    match (map.get_mut(&key), value) {
        (None, value) => {
            map.insert(key, value);
            Ok(())
        }
        (Some(Value::Object(existing)), Value::Object(incoming)) => {
            let mut left = Map::new();
            for (key, item) in incoming {
                if let Err(item) = put_key(existing, key.clone(), item) {
                    left.insert(key, item);
                }
            }
            if left.is_empty() { Ok(()) } else { Err(Value::Object(left)) }
        }
        (Some(_), value) => Err(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn take_removes_the_parents_it_empties() {
        let mut event = object(json!({"tool": {"arguments": {"a": 1}}, "agent": {"id": "a", "name": "n"}}));
        assert_eq!(take(&mut event, "tool.arguments"), Some(json!({"a": 1})));
        assert_eq!(take(&mut event, "agent.id"), Some(json!("a")));
        assert_eq!(Value::Object(event.clone()), json!({"agent": {"name": "n"}}));
        assert_eq!(take(&mut event, "agent.name.first"), None);
        assert_eq!(take(&mut event, "missing.path"), None);
    }

    #[test]
    fn put_creates_merges_and_hands_back_what_does_not_fit() {
        let mut event = object(json!({"gen_ai": {"agent": {"id": "a"}}, "user": "plain"}));
        put(&mut event, "gen_ai.agent", json!({"name": "n", "id": "clash"})).unwrap_err();
        assert_eq!(event["gen_ai"]["agent"], json!({"id": "a", "name": "n"}));
        assert_eq!(put(&mut event, "gen_ai.agent", json!({"id": "x"})), Err(json!({"id": "x"})));
        assert_eq!(put(&mut event, "user.id", json!("u")), Err(json!("u")));
        put(&mut event, "log.syslog.facility.code", json!(4)).unwrap();
        assert_eq!(event["log"], json!({"syslog": {"facility": {"code": 4}}}));
        put_at(&mut event, &["log", "syslog.app"], json!("a")).unwrap();
        assert_eq!(event["log"], json!({"syslog": {"facility": {"code": 4}}, "syslog.app": "a"}));
        assert_eq!(put_at(&mut event, &["user", "id"], json!("u")), Err(json!("u")));
    }
}
