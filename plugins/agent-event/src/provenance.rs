//! Which top-level members are the router's, and what becomes of an agent's
//! look-alikes of them.
//!
//! The router's sources wrap the agent's JSON in `source`, `syslog` and
//! `received_at`: how and when the event reached sluice. A SIEM trusts those
//! because the agent cannot write them, so a member of the agent's JSON
//! under one of these names is a claim, not a fact. So is a flat dotted name
//! that reads as one of them (`"source.address"`: a SIEM that splits names at
//! dots sees `source.address`), and so is a member named `agent_claimed`,
//! where this plugin puts the claims. Claims move, as they came, under
//! `agent_claimed` and never merge with the router's fields; every formatter
//! downstream then finds provenance only where the router put it.

use serde_json::{Map, Value};

/// Envelope members that say how the event reached the router; they always
/// hold the router's values. A field the router adds later to say who sent
/// an event or where it came from belongs here.
pub const PROVENANCE: &[&str] = &["source", "syslog", "received_at"];

/// The member that holds the agent's claims to the router's names.
pub const CLAIMS: &str = "agent_claimed";

/// Whether a top-level member of the agent's JSON named `name` claims a name
/// the router owns: a name comparison, so the common case costs nothing.
pub fn is_claim(name: &str) -> bool {
    PROVENANCE
        .iter()
        .chain(&[CLAIMS])
        .any(|owned| name.strip_prefix(owned).is_some_and(|rest| rest.is_empty() || rest.starts_with('.')))
}

/// Move the claims among `agent`'s members under [`CLAIMS`].
pub fn set_aside(agent: &mut Map<String, Value>) {
    let names: Vec<String> = agent.keys().filter(|name| is_claim(name)).cloned().collect();
    if names.is_empty() {
        return;
    }
    let claims = names.into_iter().filter_map(|name| agent.remove_entry(&name)).collect();
    agent.insert(CLAIMS.to_owned(), Value::Object(claims));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn claims_are_router_names_and_names_under_them() {
        for name in ["source", "syslog", "received_at", "agent_claimed", "source.address", "syslog.hostname.x"] {
            assert!(is_claim(name), "{name}");
        }
        for name in ["sourcery", "sources", "received", "received_at_x", "event", "agent", "Source", "sluice", ""] {
            assert!(!is_claim(name), "{name}");
        }
    }

    #[test]
    fn set_aside_moves_only_claims_and_leaves_an_event_without_them_alone() {
        let mut agent = json!({"agent": {"id": "a"}, "source": "s", "source.ip": "1.2.3.4", "agent_claimed": 1})
            .as_object()
            .unwrap()
            .clone();
        set_aside(&mut agent);
        assert_eq!(
            Value::Object(agent),
            json!({"agent": {"id": "a"}, "agent_claimed": {"source": "s", "source.ip": "1.2.3.4", "agent_claimed": 1}})
        );
        let mut plain = json!({"agent": {"id": "a"}}).as_object().unwrap().clone();
        set_aside(&mut plain);
        assert_eq!(Value::Object(plain), json!({"agent": {"id": "a"}}));
    }
}
