//! Locating the fields a 0.3 plugin declared it reads, so that it finds each
//! value at a fixed slot instead of scanning the event.
//!
//! The declared paths become a small tree of member names. Each event's text
//! is scanned once, natively, descending only into members on a declared
//! path and skipping every other value whole (a SIMD search for the quotes
//! and backslashes that end strings), so the cost follows the size of the
//! event's top level and of the declared objects, not of everything in it.
//! Names are compared as text (decoded only when they hold escapes), never
//! by hash, so nothing can land in the wrong slot. Round 2 of the design
//! comparison in BENCHMARKS.md measured this shape.
//!
//! The scanner trusts its input to be valid JSON: the host checks every text
//! a plugin hands back, and sources build theirs with serde.

/// Slot kinds, as `wit/plugin.wit` documents them.
pub mod kind {
    pub const ABSENT: u32 = 0;
    pub const STRING: u32 = 1;
    pub const ESCAPED: u32 = 2;
    pub const NUMBER: u32 = 3;
    pub const BOOL: u32 = 4;
    pub const NULL: u32 = 5;
    pub const OBJECT: u32 = 6;
    pub const ARRAY: u32 = 7;
}

/// The paths a plugin reads, in slot order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Slots {
    count: usize,
    root: Node,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Node {
    /// The slots of the paths that end here (a path declared twice fills two).
    ends_here: Vec<u32>,
    children: Vec<(Box<str>, Node)>,
}

impl Node {
    fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|(n, _)| &**n == name).map(|(_, node)| node)
    }
}

impl Slots {
    /// The slots of `paths`; an empty segment (`a..b`, `.a`, ``) is refused
    /// with the path named.
    pub fn new(paths: &[String]) -> Result<Slots, String> {
        let mut root = Node::default();
        for (slot, path) in paths.iter().enumerate() {
            if path.split('.').any(str::is_empty) {
                return Err(format!("path {path:?} has an empty segment (paths look like `agent.id`)"));
            }
            let node = path.split('.').fold(&mut root, |node, name| {
                let at = match node.children.iter().position(|(n, _)| &**n == name) {
                    Some(at) => at,
                    None => {
                        node.children.push((name.into(), Node::default()));
                        node.children.len() - 1
                    }
                };
                &mut node.children[at].1
            });
            node.ends_here.push(slot as u32);
        }
        Ok(Slots { count: paths.len(), root })
    }

    /// How many paths were declared.
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Append one event's slots to `out`: three u32 per declared path
    /// (start, length, kind), with starts counted from `base` (where the
    /// event's text begins in the batch's buffer).
    pub fn locate(&self, event: &[u8], base: u32, out: &mut Vec<u32>) {
        let first = out.len();
        out.resize(first + self.count * 3, 0);
        if self.count == 0 {
            return;
        }
        let at = skip_space(event, 0);
        if event.get(at) == Some(&b'{') {
            scan_object(event, at, &self.root, &mut Found { out: &mut out[first..], base });
        }
    }
}

struct Found<'a> {
    out: &'a mut [u32],
    base: u32,
}

impl Found<'_> {
    fn record(&mut self, node: &Node, start: usize, end: usize, kind: u32) {
        for &slot in &node.ends_here {
            let at = slot as usize * 3;
            self.out[at..at + 3].copy_from_slice(&[self.base + start as u32, (end - start) as u32, kind]);
        }
    }
}

/// Scan the object opening at `at` for the members under `node`; returns
/// the object's end.
fn scan_object(bytes: &[u8], at: usize, node: &Node, found: &mut Found) -> usize {
    let mut at = skip_space(bytes, at + 1);
    if bytes.get(at) == Some(&b'}') {
        return at + 1;
    }
    while at < bytes.len() {
        let (name_end, escaped) = string_end(bytes, at);
        let child = if escaped {
            serde_json::from_slice::<String>(&bytes[at..name_end]).ok().and_then(|name| node.child(&name))
        } else {
            std::str::from_utf8(&bytes[at + 1..name_end - 1]).ok().and_then(|name| node.child(name))
        };
        at = skip_space(bytes, name_end);
        at = skip_space(bytes, at + 1); // past ':'
        let start = at;
        let end = match (child, bytes.get(at)) {
            (Some(child), Some(b'{')) if !child.children.is_empty() => {
                let end = scan_object(bytes, at, child, found);
                found.record(child, start, end, kind::OBJECT);
                end
            }
            (Some(child), _) => {
                let (end, kind) = value_end(bytes, at);
                found.record(child, start, end, kind);
                end
            }
            (None, _) => value_end(bytes, at).0,
        };
        at = skip_space(bytes, end);
        match bytes.get(at) {
            Some(b',') => at = skip_space(bytes, at + 1),
            _ => return at + 1,
        }
    }
    at
}

fn skip_space(bytes: &[u8], mut at: usize) -> usize {
    while matches!(bytes.get(at), Some(b' ' | b'\t' | b'\r' | b'\n')) {
        at += 1;
    }
    at
}

/// The end (one past the closing quote) of the string opening at `at`, and
/// whether it holds escapes.
fn string_end(bytes: &[u8], mut at: usize) -> (usize, bool) {
    at += 1;
    let mut escaped = false;
    loop {
        match memchr::memchr2(b'"', b'\\', &bytes[at.min(bytes.len())..]) {
            Some(i) if bytes[at + i] == b'"' => return (at + i + 1, escaped),
            Some(i) => {
                escaped = true;
                at += i + 2;
            }
            None => return (bytes.len(), escaped),
        }
    }
}

/// The end of the value starting at `at`, and its kind.
fn value_end(bytes: &[u8], at: usize) -> (usize, u32) {
    match bytes.get(at) {
        Some(b'"') => {
            let (end, escaped) = string_end(bytes, at);
            (end, if escaped { kind::ESCAPED } else { kind::STRING })
        }
        Some(open @ (b'{' | b'[')) => {
            let kind = if *open == b'{' { kind::OBJECT } else { kind::ARRAY };
            let mut depth = 0usize;
            let mut i = at;
            while i < bytes.len() {
                match bytes[i] {
                    b'"' => {
                        i = string_end(bytes, i).0;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return (i + 1, kind);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            (bytes.len(), kind)
        }
        first => {
            let kind = match first {
                Some(b't' | b'f') => kind::BOOL,
                Some(b'n') => kind::NULL,
                _ => kind::NUMBER,
            };
            let mut i = at;
            while i < bytes.len() && !matches!(bytes[i], b',' | b'}' | b']' | b' ' | b'\t' | b'\r' | b'\n') {
                i += 1;
            }
            (i, kind)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    /// What a plugin reads at each slot, decoded: `None` when absent.
    fn read(paths: &[&str], event: &str) -> Vec<Option<(u32, Value)>> {
        let paths: Vec<String> = paths.iter().map(|p| (*p).to_owned()).collect();
        let slots = Slots::new(&paths).unwrap();
        // A prefix, so that starts are shown to count from `base`.
        let text = format!("{{}}{event}");
        let mut out = vec![99];
        slots.locate(event.as_bytes(), 2, &mut out);
        assert_eq!(out.len(), 1 + paths.len() * 3, "three numbers per path, appended");
        out[1..]
            .chunks(3)
            .map(|s| match s {
                [0, 0, kind::ABSENT] => None,
                [start, len, kind] => {
                    let raw = &text[*start as usize..(*start + *len) as usize];
                    Some((*kind, serde_json::from_str(raw).unwrap_or_else(|e| panic!("{raw:?}: {e}"))))
                }
                _ => unreachable!(),
            })
            .collect()
    }

    #[test]
    fn each_declared_path_finds_what_a_full_parse_finds() {
        let event = json!({
            "agent": {"id": "a-1", "name": null, "model": "m", "tags": ["x", {"y": 1}]},
            "event": {"kind": "tool_call", "severity": 7, "ok": true, "extra": {"deep": [1, 2]}},
            "msg": "line\nbreak \"quoted\" \u{e9}",
            "esc\"aped": {"q\\": 1.5e3},
            "big": [{"a": "}"}, "]", "\\"],
        });
        let text = event.to_string();
        let paths = [
            "agent.id",
            "agent.name",
            "agent.tags",
            "agent.missing",
            "event.severity",
            "event.ok",
            "event.extra",
            "event.extra.deep",
            "msg",
            "esc\"aped.q\\",
            "big",
            "msg.deeper",
            "nothing.at.all",
            "agent.id",
        ];
        let found = read(&paths, &text);
        for (path, slot) in paths.iter().zip(&found) {
            let expected = path.split('.').try_fold(&event, |v, k| v.get(k));
            assert_eq!(slot.as_ref().map(|(_, v)| v), expected, "{path}");
        }
        let kinds: Vec<u32> = found.iter().map(|s| s.as_ref().map_or(kind::ABSENT, |(k, _)| *k)).collect();
        use kind::*;
        assert_eq!(
            kinds,
            [STRING, NULL, ARRAY, ABSENT, NUMBER, BOOL, OBJECT, ARRAY, ESCAPED, NUMBER, ARRAY, ABSENT, ABSENT, STRING]
        );
    }

    #[test]
    fn a_repeated_member_s_last_value_wins_and_whitespace_is_skipped() {
        let text = "{ \"a\" : 1 ,\n \"b\":{\"c\": \"x\" } , \"a\":\t\"two\" }";
        let found = read(&["a", "b.c", "b"], text);
        assert_eq!(found[0], Some((kind::STRING, json!("two"))));
        assert_eq!(found[1], Some((kind::STRING, json!("x"))));
        assert_eq!(found[2], Some((kind::OBJECT, json!({"c": "x"}))));
    }

    #[test]
    fn nothing_declared_costs_no_slots_and_bad_paths_are_named() {
        assert!(read(&[], r#"{"a":1}"#).is_empty());
        assert_eq!(read(&["a"], "{}"), [None]);
        let err = Slots::new(&["agent..id".to_owned()]).unwrap_err();
        assert!(err.contains("\"agent..id\"") && err.contains("empty segment"), "{err}");
        assert!(Slots::new(&[String::new()]).is_err());
    }
}
