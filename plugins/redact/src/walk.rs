//! Walking an event: every string value, however deeply nested, goes through
//! the redactor, except under the paths the config skips.

use crate::redactor::Redactor;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// What one event's redaction did.
pub struct Report {
    /// Masked matches per rule, indexed as [`Redactor::names`].
    pub counts: Vec<u64>,
    /// Dotted paths of the fields that changed, in walk order.
    pub fields: Vec<String>,
}

/// The skipped paths as a tree of keys, so the walk knows at every step
/// whether it is on the way to a skipped field without building paths.
#[derive(Default)]
pub struct SkipTree {
    skip_here: bool,
    children: BTreeMap<String, SkipTree>,
}

impl SkipTree {
    pub fn new(paths: &[Vec<String>]) -> SkipTree {
        let mut root = SkipTree::default();
        for path in paths {
            let node = path.iter().fold(&mut root, |node, key| node.children.entry(key.clone()).or_default());
            node.skip_here = true;
        }
        root
    }

    fn child(&self, key: &str) -> Option<&SkipTree> {
        self.children.get(key)
    }
}

/// The field the walk is in, as a chain back to the root; rendered only for
/// fields that change.
struct Path<'a> {
    parent: Option<&'a Path<'a>>,
    key: Key<'a>,
}

enum Key<'a> {
    Root,
    Name(&'a str),
    Index(usize),
}

impl Path<'_> {
    fn render(&self) -> String {
        let mut keys = Vec::new();
        let mut node = Some(self);
        while let Some(path) = node {
            match path.key {
                Key::Root => {}
                Key::Name(name) => keys.push(name.to_owned()),
                Key::Index(index) => keys.push(index.to_string()),
            }
            node = path.parent;
        }
        keys.reverse();
        keys.join(".")
    }
}

/// Redact every string in `event` outside the skipped paths and the
/// `redaction` record itself.
pub fn redact_event(redactor: &Redactor, skip: &SkipTree, event: &mut Map<String, Value>) -> Report {
    let mut walker =
        Walker { redactor, report: Report { counts: vec![0; redactor.names().len()], fields: Vec::new() } };
    let root = Path { parent: None, key: Key::Root };
    for (key, value) in event.iter_mut() {
        if key == "redaction" {
            continue;
        }
        walker.member(key, value, Some(skip), &root);
    }
    walker.report
}

struct Walker<'r> {
    redactor: &'r Redactor,
    report: Report,
}

impl Walker<'_> {
    fn member(&mut self, key: &str, value: &mut Value, skip: Option<&SkipTree>, parent: &Path) {
        let skip = skip.and_then(|tree| tree.child(key));
        if skip.is_some_and(|tree| tree.skip_here) {
            return;
        }
        let path = Path { parent: Some(parent), key: Key::Name(key) };
        if let Value::String(text) = value
            && !text.is_empty()
            && let Some((marker, rule)) = self.redactor.secret_member(key)
        {
            if text != marker {
                *text = marker.to_owned();
                self.report.counts[rule] += 1;
                self.report.fields.push(path.render());
            }
            return;
        }
        self.value(value, skip, &path);
    }

    fn value(&mut self, value: &mut Value, skip: Option<&SkipTree>, path: &Path) {
        match value {
            Value::String(text) => {
                if let Some(masked) = self.redactor.redact(text, &mut self.report.counts) {
                    *text = masked;
                    self.report.fields.push(path.render());
                }
            }
            Value::Array(items) => {
                for (index, item) in items.iter_mut().enumerate() {
                    let skip =
                        skip.filter(|tree| !tree.children.is_empty()).and_then(|tree| tree.child(&index.to_string()));
                    if skip.is_some_and(|tree| tree.skip_here) {
                        continue;
                    }
                    self.value(item, skip, &Path { parent: Some(path), key: Key::Index(index) });
                }
            }
            Value::Object(map) => {
                for (key, item) in map.iter_mut() {
                    self.member(key, item, skip, path);
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
}
