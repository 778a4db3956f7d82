//! Sets of dotted paths (`paths`, `skip`) as trees of keys, so that the walk
//! knows at every step whether it is at or on the way to a listed field,
//! without building the path of every field it passes.
//!
//! A `*` key stands for any one key or list index. The tree is made
//! deterministic when built: what is under a `*` is copied under each named
//! sibling, so one lookup per step finds the only node that applies.

use std::collections::BTreeMap;

#[derive(Debug, Default, Clone)]
pub struct PathTree {
    /// A listed path ends here: everything below is selected.
    pub here: bool,
    children: BTreeMap<String, PathTree>,
    any: Option<Box<PathTree>>,
}

impl PathTree {
    pub fn new(paths: &[Vec<String>]) -> PathTree {
        let mut root = PathTree::default();
        for path in paths {
            let mut node = &mut root;
            for key in path {
                node = if key == "*" {
                    node.any.get_or_insert_with(Box::default)
                } else {
                    node.children.entry(key.clone()).or_default()
                };
            }
            node.here = true;
        }
        root.settle();
        root
    }

    /// The node for member `key`, if any listed path goes through it.
    pub fn child(&self, key: &str) -> Option<&PathTree> {
        self.children.get(key).or(self.any.as_deref())
    }

    /// The node for list item `index`; the index is only spelled out when a
    /// path names one.
    pub fn item(&self, index: usize) -> Option<&PathTree> {
        if self.children.is_empty() { self.any.as_deref() } else { self.child(&index.to_string()) }
    }

    /// Copy what is under `*` into every named sibling, all the way down.
    fn settle(&mut self) {
        if let Some(any) = &self.any {
            for child in self.children.values_mut() {
                child.merge(any);
            }
        }
        for child in self.children.values_mut() {
            child.settle();
        }
        if let Some(any) = &mut self.any {
            any.settle();
        }
    }

    fn merge(&mut self, other: &PathTree) {
        self.here |= other.here;
        for (key, child) in &other.children {
            self.children.entry(key.clone()).or_default().merge(child);
        }
        if let Some(any) = &other.any {
            self.any.get_or_insert_with(Box::default).merge(any);
        }
    }
}

/// How much of the part of the event the walk is in gets redacted.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'t> {
    /// Everything here and below.
    All,
    /// Only what lies under the listed paths that go on below this node.
    Under(&'t PathTree),
}

impl<'t> Scope<'t> {
    /// The scope of member `key`; `None` when no listed path goes there.
    pub fn member(self, key: &str) -> Option<Scope<'t>> {
        match self {
            Scope::All => Some(Scope::All),
            Scope::Under(tree) => tree.child(key).map(Scope::at),
        }
    }

    /// The scope of list item `index`.
    pub fn item(self, index: usize) -> Option<Scope<'t>> {
        match self {
            Scope::All => Some(Scope::All),
            Scope::Under(tree) => tree.item(index).map(Scope::at),
        }
    }

    fn at(node: &'t PathTree) -> Scope<'t> {
        if node.here { Scope::All } else { Scope::Under(node) }
    }

    pub fn is_all(self) -> bool {
        matches!(self, Scope::All)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(paths: &[&str]) -> PathTree {
        PathTree::new(&paths.iter().map(|p| p.split('.').map(str::to_owned).collect()).collect::<Vec<_>>())
    }

    fn selects(tree: &PathTree, path: &str) -> bool {
        let mut scope = Scope::Under(tree);
        for key in path.split('.') {
            scope = match key.parse::<usize>() {
                Ok(index) => match scope.item(index) {
                    Some(next) => next,
                    None => return false,
                },
                Err(_) => match scope.member(key) {
                    Some(next) => next,
                    None => return false,
                },
            };
        }
        scope.is_all()
    }

    #[test]
    fn a_path_selects_its_subtree() {
        let t = tree(&["tool.arguments", "prompt.text"]);
        assert!(selects(&t, "tool.arguments"));
        assert!(selects(&t, "tool.arguments.headers.0"));
        assert!(selects(&t, "prompt.text"));
        assert!(!selects(&t, "tool.name"));
        assert!(!selects(&t, "tool"));
        assert!(!selects(&t, "output.text"));
    }

    #[test]
    fn a_star_stands_for_any_key_or_index_beside_named_ones() {
        let t = tree(&["messages.*.content", "messages.0.name", "*.secret"]);
        assert!(selects(&t, "messages.3.content"));
        assert!(selects(&t, "messages.0.content"), "the star applies beside the named index");
        assert!(selects(&t, "messages.0.name"));
        assert!(!selects(&t, "messages.1.name"));
        assert!(selects(&t, "anything.secret"));
        assert!(selects(&t, "messages.secret"), "the top-level star applies beside `messages`");
    }
}
