//! Walking an event: every string value, however deeply nested, goes through
//! the redactor — and member names too when `keys` is on — within the
//! configured `paths`, outside the `redaction` record, and on the `skip`
//! list with the high-confidence rules only.
//!
//! Integers as long as a card number (13 digits or more) are read as text
//! too: `"card": 4111111111111111` is a card number whatever its JSON type.
//! A field that a `drop` rule fires on is removed: a member from its object,
//! an item from its list.

use crate::paths::{PathTree, Scope};
use crate::redactor::{Reach, Redactor, Scratch, Verdict};
use serde_json::{Map, Value};

/// Where to look, from the config.
pub struct Targets {
    pub skip: PathTree,
    /// `None`: the whole event.
    pub paths: Option<PathTree>,
    pub keys: bool,
    /// Whether any rule looks at the skipped fields; when none does, they
    /// are not visited at all.
    pub look_in_skipped: bool,
}

/// What the config says of one field: which rules look at it, and what of
/// the `paths` and `skip` lists is still ahead.
#[derive(Clone, Copy)]
pub struct Place<'t> {
    /// The part of the skip list below this field; `None` once none is, or
    /// once the field is skipped (everything below is then too).
    skip: Option<&'t PathTree>,
    scope: Scope<'t>,
    pub reach: Reach,
    look_in_skipped: bool,
}

impl<'t> Place<'t> {
    pub fn root(targets: &'t Targets) -> Place<'t> {
        Place {
            skip: Some(&targets.skip),
            scope: match &targets.paths {
                Some(tree) => Scope::Under(tree),
                None => Scope::All,
            },
            reach: Reach::Every,
            look_in_skipped: targets.look_in_skipped,
        }
    }

    /// The place of member `key`; `None` when no rule looks there or below.
    pub fn member(self, key: &str) -> Option<Place<'t>> {
        let scope = self.scope.member(key)?;
        self.enter(self.skip.and_then(|tree| tree.child(key)), scope)
    }

    /// The place of list item `index`; `None` when no rule looks there or below.
    pub fn item(self, index: usize) -> Option<Place<'t>> {
        let scope = self.scope.item(index)?;
        self.enter(self.skip.and_then(|tree| tree.item(index)), scope)
    }

    fn enter(self, skip: Option<&'t PathTree>, scope: Scope<'t>) -> Option<Place<'t>> {
        match skip {
            Some(tree) if tree.here => {
                self.look_in_skipped.then_some(Place { skip: None, scope, reach: Reach::HighConfidence, ..self })
            }
            _ => Some(Place { skip, scope, ..self }),
        }
    }

    /// Whether the strings right here are looked at (and not only some below).
    pub fn looks_here(self) -> bool {
        self.scope.is_all()
    }
}

/// What one event's redaction did.
pub struct Report {
    /// Secrets found per rule, indexed as [`Redactor::names`].
    pub counts: Vec<u64>,
    /// Dotted paths of the fields that changed, in walk order.
    pub fields: Vec<String>,
    /// Dotted paths of the fields removed. A member removed for a secret in
    /// its name shows as `*`, so the record does not repeat the secret.
    pub dropped: Vec<String>,
}

impl Report {
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.dropped.is_empty()
    }
}

/// Redact `event` in place.
pub fn redact_event(
    redactor: &Redactor,
    targets: &Targets,
    scratch: &mut Scratch,
    event: &mut Map<String, Value>,
) -> Report {
    let report = Report { counts: vec![0; redactor.names().len()], fields: Vec::new(), dropped: Vec::new() };
    let mut walker = Walker { redactor, keys: targets.keys, scratch, report };
    walker.object(event, Place::root(targets), &Path { parent: None, key: Key::Root });
    walker.report
}

/// The field the walk is in, as a chain back to the root; rendered only for
/// fields that change.
pub struct Path<'a> {
    pub parent: Option<&'a Path<'a>>,
    pub key: Key<'a>,
}

pub enum Key<'a> {
    Root,
    Name(&'a str),
    Index(usize),
}

impl Path<'_> {
    pub fn render(&self) -> String {
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

#[derive(PartialEq, Eq)]
enum Fate {
    Keep,
    Drop,
}

struct Walker<'r, 's> {
    redactor: &'r Redactor,
    keys: bool,
    scratch: &'s mut Scratch,
    report: Report,
}

impl<'t> Walker<'_, '_> {
    fn object(&mut self, map: &mut Map<String, Value>, place: Place<'t>, path: &Path) {
        let root = matches!(path.key, Key::Root);
        // Member names first: a name may be renamed or its member dropped.
        let mut renamed: Vec<(String, String)> = Vec::new();
        let mut removed: Vec<String> = Vec::new();
        if self.keys {
            for key in map.keys() {
                let Some(member) = place.member(key).filter(|_| !(root && key == "redaction")) else {
                    continue;
                };
                if !member.looks_here() {
                    continue;
                }
                match self.redactor.redact(key, member.reach, self.scratch, &mut self.report.counts) {
                    Verdict::Clean => {}
                    Verdict::Drop => {
                        removed.push(key.clone());
                        self.report.dropped.push(Path { parent: Some(path), key: Key::Name("*") }.render());
                    }
                    Verdict::Replace(name) => renamed.push((key.clone(), name)),
                }
            }
            // Two names masked alike (`[REDACTED:email]`) must not overwrite each other.
            for index in 0..renamed.len() {
                let wanted = renamed[index].1.clone();
                let mut name = wanted.clone();
                let mut n = 2;
                while map.contains_key(&name) || renamed[..index].iter().any(|(_, taken)| *taken == name) {
                    name = format!("{wanted}~{n}");
                    n += 1;
                }
                self.report.fields.push(Path { parent: Some(path), key: Key::Name(&name) }.render());
                renamed[index].1 = name;
            }
        }
        for (key, value) in map.iter_mut() {
            if (root && key == "redaction") || removed.contains(key) {
                continue;
            }
            let Some(member) = place.member(key) else { continue };
            let shown = renamed.iter().find(|(old, _)| old == key).map_or(key.as_str(), |(_, new)| new.as_str());
            let member_path = Path { parent: Some(path), key: Key::Name(shown) };
            let by_name = match value {
                Value::String(text) if member.looks_here() => {
                    self.redactor.redact_member(key, text, member.reach, &mut self.report.counts)
                }
                _ => None,
            };
            let fate = match by_name {
                Some(verdict) => self.apply(value, verdict, &member_path),
                None => self.value(value, member, &member_path),
            };
            if fate == Fate::Drop {
                removed.push(key.clone());
            }
        }
        for key in &removed {
            map.remove(key);
        }
        for (old, new) in renamed {
            if let Some(value) = map.remove(&old) {
                map.insert(new, value);
            }
        }
    }

    fn value(&mut self, value: &mut Value, place: Place<'t>, path: &Path) -> Fate {
        match value {
            Value::String(text) if place.looks_here() => {
                let verdict = self.redactor.redact(text, place.reach, self.scratch, &mut self.report.counts);
                self.apply(value, verdict, path)
            }
            Value::Number(number) if place.looks_here() && card_length(number) => {
                let verdict =
                    self.redactor.redact(&number.to_string(), place.reach, self.scratch, &mut self.report.counts);
                self.apply(value, verdict, path)
            }
            Value::Array(items) => {
                let mut removed = Vec::new();
                for (index, item) in items.iter_mut().enumerate() {
                    let Some(item_place) = place.item(index) else { continue };
                    let item_path = Path { parent: Some(path), key: Key::Index(index) };
                    if self.value(item, item_place, &item_path) == Fate::Drop {
                        removed.push(index);
                    }
                }
                let mut index = 0;
                items.retain(|_| {
                    index += 1;
                    !removed.contains(&(index - 1))
                });
                Fate::Keep
            }
            Value::Object(map) => {
                self.object(map, place, path);
                Fate::Keep
            }
            _ => Fate::Keep,
        }
    }

    fn apply(&mut self, value: &mut Value, verdict: Verdict, path: &Path) -> Fate {
        match verdict {
            Verdict::Clean => Fate::Keep,
            Verdict::Replace(text) => {
                *value = Value::String(text);
                self.report.fields.push(path.render());
                Fate::Keep
            }
            Verdict::Drop => {
                self.report.dropped.push(path.render());
                Fate::Drop
            }
        }
    }
}

/// An integer of 13 digits or more: as long as the shortest card number.
pub fn card_length(number: &serde_json::Number) -> bool {
    const SHORTEST: u64 = 1_000_000_000_000;
    number.as_u64().or_else(|| number.as_i64().map(i64::unsigned_abs)).is_some_and(|n| n >= SHORTEST)
}
