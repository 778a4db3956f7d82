//! The transform's key-value state: kept by the router across a replaced
//! instance, a hot reload and a restart, shared by the transform's workers,
//! and bounded. Values are bytes; [`get_json`] and [`set_json`] store JSON.
//!
//! Workers run in parallel: to update a value without losing another
//! worker's update, read it, compute, and [`compare_and_swap`]; on `false`
//! read again ([`update`] does the loop).
//!
//! Outside WebAssembly (a plugin's native unit tests) the state is a map in
//! the test's thread, without limits.

use std::fmt;

/// Why the router refused a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    KeyTooLong(String),
    ValueTooLarge(String),
    /// The transform's state is at its limit.
    Full(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::KeyTooLong(m) | Error::ValueTooLarge(m) | Error::Full(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {}

#[cfg(target_arch = "wasm32")]
mod imp {
    use super::Error;
    use crate::bindings::sluice::plugin::state::{self, Error as Wit};

    fn error(err: Wit) -> Error {
        match err {
            Wit::KeyTooLong(m) => Error::KeyTooLong(m),
            Wit::ValueTooLarge(m) => Error::ValueTooLarge(m),
            Wit::Full(m) => Error::Full(m),
        }
    }

    pub fn get(key: &str) -> Option<Vec<u8>> {
        state::get(key)
    }
    pub fn set(key: &str, value: &[u8]) -> Result<(), Error> {
        state::set(key, value).map_err(error)
    }
    pub fn delete(key: &str) -> Result<(), Error> {
        state::delete(key).map_err(error)
    }
    pub fn compare_and_swap(key: &str, expected: Option<&[u8]>, new: Option<&[u8]>) -> Result<bool, Error> {
        state::compare_and_swap(key, expected, new).map_err(error)
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use super::Error;
    use std::cell::RefCell;
    use std::collections::HashMap;

    thread_local! {
        static MAP: RefCell<HashMap<String, Vec<u8>>> = RefCell::new(HashMap::new());
    }

    pub fn get(key: &str) -> Option<Vec<u8>> {
        MAP.with(|m| m.borrow().get(key).cloned())
    }
    pub fn set(key: &str, value: &[u8]) -> Result<(), Error> {
        MAP.with(|m| m.borrow_mut().insert(key.to_owned(), value.to_vec()));
        Ok(())
    }
    pub fn delete(key: &str) -> Result<(), Error> {
        MAP.with(|m| m.borrow_mut().remove(key));
        Ok(())
    }
    pub fn compare_and_swap(key: &str, expected: Option<&[u8]>, new: Option<&[u8]>) -> Result<bool, Error> {
        MAP.with(|m| {
            let mut map = m.borrow_mut();
            if map.get(key).map(Vec::as_slice) != expected {
                return Ok(false);
            }
            match new {
                Some(new) => map.insert(key.to_owned(), new.to_vec()),
                None => map.remove(key),
            };
            Ok(true)
        })
    }
}

/// The value stored under `key`, if any.
pub fn get(key: &str) -> Option<Vec<u8>> {
    imp::get(key)
}

/// Store `value` under `key`.
pub fn set(key: &str, value: &[u8]) -> Result<(), Error> {
    imp::set(key, value)
}

/// Remove `key` (no error if it is missing).
pub fn delete(key: &str) -> Result<(), Error> {
    imp::delete(key)
}

/// Replace `key`'s value only if it is still `expected` (`None`: absent);
/// `new` of `None` removes it. Whether the swap happened.
pub fn compare_and_swap(key: &str, expected: Option<&[u8]>, new: Option<&[u8]>) -> Result<bool, Error> {
    imp::compare_and_swap(key, expected, new)
}

/// Apply `change` to `key`'s value until no other worker changed it in
/// between; `change` gets the current value and returns the new one (`None`
/// removes the key). Returns what was stored.
pub fn update(key: &str, mut change: impl FnMut(Option<&[u8]>) -> Option<Vec<u8>>) -> Result<Option<Vec<u8>>, Error> {
    loop {
        let current = get(key);
        let new = change(current.as_deref());
        if compare_and_swap(key, current.as_deref(), new.as_deref())? {
            return Ok(new);
        }
    }
}

/// The JSON value stored under `key`, if any (a value that is not JSON reads as none).
pub fn get_json(key: &str) -> Option<serde_json::Value> {
    get(key).and_then(|bytes| serde_json::from_slice(&bytes).ok())
}

/// Store `value` under `key` as JSON text.
pub fn set_json(key: &str, value: &serde_json::Value) -> Result<(), Error> {
    set(key, value.to_string().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compare_and_swap_and_update_work_natively() {
        assert_eq!(get("n"), None);
        assert!(compare_and_swap("n", None, Some(b"1")).unwrap());
        assert!(!compare_and_swap("n", None, Some(b"2")).unwrap(), "it is no longer absent");
        let stored = update("n", |v| {
            Some(format!("{}", std::str::from_utf8(v.unwrap()).unwrap().parse::<u32>().unwrap() + 1).into_bytes())
        });
        assert_eq!(stored.unwrap().as_deref(), Some(&b"2"[..]));
        set_json("j", &serde_json::json!({"a": 1})).unwrap();
        assert_eq!(get_json("j"), Some(serde_json::json!({"a": 1})));
        delete("j").unwrap();
        assert_eq!(get("j"), None);
    }
}
