//! The transforms of a config as a graph: which ids exist, which transforms
//! lie between where a test inserts events and where it extracts them, and
//! the order they run in.

use crate::config::Config;
use std::collections::{BTreeMap, BTreeSet};

/// The components of a config, by kind, and each transform's inputs.
#[derive(Debug, Clone, Default)]
pub struct Graph {
    pub sources: BTreeSet<String>,
    /// Each transform's inputs, as the config lists them.
    pub transforms: BTreeMap<String, Vec<String>>,
    /// Each sink's inputs.
    pub sinks: BTreeMap<String, Vec<String>>,
    /// Ids written in the config whose tables did not parse: their own error
    /// is reported, so a test naming them is not checked further (no "unknown
    /// id" noise on top).
    pub unparsed: BTreeSet<String>,
}

impl Graph {
    /// The graph of a parsed config; `raw`, the TOML it came from, when some
    /// tables may have failed to parse.
    pub fn new(config: &Config, raw: Option<&toml::Table>) -> Graph {
        let mut graph = Graph {
            sources: config.sources.keys().cloned().collect(),
            transforms: config.transforms.iter().map(|(id, t)| (id.clone(), t.inputs.clone())).collect(),
            sinks: config.sinks.iter().map(|(id, s)| (id.clone(), s.inputs.clone())).collect(),
            unparsed: BTreeSet::new(),
        };
        for kind in ["sources", "transforms", "sinks"] {
            let written = raw.and_then(|raw| raw.get(kind)).and_then(toml::Value::as_table);
            for id in written.into_iter().flat_map(toml::Table::keys) {
                if !graph.sources.contains(id) && !graph.transforms.contains_key(id) && !graph.sinks.contains_key(id) {
                    graph.unparsed.insert(id.clone());
                }
            }
        }
        graph
    }

    /// The transforms that read `id` directly.
    pub fn consumers<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a String> + 'a {
        self.transforms.iter().filter(move |(_, inputs)| inputs.iter().any(|i| i == id)).map(|(t, _)| t)
    }

    /// `from` and every transform downstream of it.
    pub fn downstream(&self, from: &str) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut next = vec![from.to_owned()];
        while let Some(id) = next.pop() {
            if seen.insert(id.clone()) {
                next.extend(self.consumers(&id).cloned());
            }
        }
        seen
    }

    /// `to` and every transform upstream of it.
    fn upstream(&self, to: &str) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut next = vec![to.to_owned()];
        while let Some(id) = next.pop() {
            if let Some(inputs) = self.transforms.get(&id)
                && seen.insert(id)
            {
                next.extend(inputs.iter().cloned());
            }
        }
        seen
    }

    /// The transforms on some path from one of `starts` to one of `ends`,
    /// both included, in an order where each comes after its inputs.
    pub fn between<'a>(
        &self,
        starts: impl IntoIterator<Item = &'a str>,
        ends: impl IntoIterator<Item = &'a str>,
    ) -> Vec<String> {
        let reached: BTreeSet<String> = starts.into_iter().flat_map(|s| self.downstream(s)).collect();
        let reaching: BTreeSet<String> = ends.into_iter().flat_map(|e| self.upstream(e)).collect();
        self.order().into_iter().filter(|id| reached.contains(id) && reaching.contains(id)).collect()
    }

    /// Every transform, each after the transforms it reads (the config is
    /// checked to have no cycle; a cycle's members would be left out).
    fn order(&self) -> Vec<String> {
        let mut waiting: BTreeMap<&str, usize> = self
            .transforms
            .iter()
            .map(|(id, inputs)| (id.as_str(), inputs.iter().filter(|i| self.transforms.contains_key(*i)).count()))
            .collect();
        // Ready transforms by id, so that the order (and the report) is the
        // same on every run.
        let mut ready: BTreeSet<&str> = waiting.iter().filter(|(_, n)| **n == 0).map(|(id, _)| *id).collect();
        let mut order = Vec::new();
        while let Some(id) = ready.pop_first() {
            order.push(id.to_owned());
            for consumer in self.consumers(id) {
                let n = waiting.get_mut(consumer.as_str()).expect("a transform");
                // An input listed twice counts twice, as it was counted.
                let times = self.transforms[consumer].iter().filter(|i| *i == id).count();
                *n -= times;
                if *n == 0 {
                    ready.insert(consumer);
                }
            }
        }
        order
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(edges: &[(&str, &[&str])]) -> Graph {
        Graph {
            sources: ["in".to_owned()].into(),
            transforms: edges
                .iter()
                .map(|(id, inputs)| (id.to_string(), inputs.iter().map(|i| i.to_string()).collect()))
                .collect(),
            ..Graph::default()
        }
    }

    #[test]
    fn only_the_transforms_between_the_ends_run_each_after_its_inputs() {
        // in -> a -> b -> c, and a -> side; d reads b and a.
        let g = graph(&[("a", &["in"]), ("b", &["a"]), ("c", &["b"]), ("side", &["a"]), ("d", &["b", "a"])]);
        assert_eq!(g.between(["a"], ["c"]), ["a", "b", "c"]);
        assert_eq!(g.between(["b"], ["b"]), ["b"]);
        assert_eq!(g.between(["a"], ["d"]), ["a", "b", "d"]);
        assert_eq!(g.between(["b"], ["side"]), Vec::<String>::new(), "side is not downstream of b");
        assert_eq!(g.between(["a"], ["c", "side"]), ["a", "b", "c", "side"]);
        assert!(g.downstream("b").contains("d") && !g.downstream("b").contains("a"));
    }
}
