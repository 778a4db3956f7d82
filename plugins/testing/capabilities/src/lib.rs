//! Test plugin for what contract 0.3 added: declared reads, edits, one event
//! split into several, the clock and the transform's state.
//!
//! It declares `message` and `agent.id`, and acts on the message:
//! - `READ` → edit: `read` = what it found at its two slots (without parsing the event);
//! - `EDIT` → edits: set `edited` to true, remove `remove_me`, rename `old` to `new`;
//! - `BADEDIT` → an edit the router cannot apply (a member under the string `message`);
//! - `SPLIT:a,b,c` → one event per part, `{"message": part, "part": n, "agent": …}`;
//! - `COUNT` → adds one to the state key `count:<agent.id>` (compare-and-swap)
//!   and sets `count` to the new value;
//! - `CLOCK` → sets `now` (seconds since the epoch) and `monotonic` (ns);
//! - `FILLSTATE` → stores a value larger than the state's limit and fails
//!   with the router's refusal;
//! - anything else is kept.

use serde_json::{Value, json};
use sluice_plugin::{Declared, Edit, Outcome, Plugin, clock, export_plugin, state};

struct Capabilities;

impl Plugin for Capabilities {
    fn configure(_config: Value) -> Result<Self, String> {
        Ok(Capabilities)
    }

    fn reads(&self) -> Vec<String> {
        vec!["message".to_owned(), "agent.id".to_owned()]
    }

    fn process_declared(&mut self, event: &Declared<'_>) -> Outcome {
        let message = event.str(0).unwrap_or_default();
        let agent = event.str(1).unwrap_or_default();
        match message.as_ref() {
            "READ" => Outcome::Edit(vec![Edit::set("read", &json!({"message": message, "agent.id": agent}))]),
            "EDIT" => Outcome::Edit(vec![
                Edit::set("edited", &json!(true)),
                Edit::Remove("remove_me".to_owned()),
                Edit::Rename { from: "old".to_owned(), to: "new".to_owned() },
            ]),
            "BADEDIT" => Outcome::Edit(vec![Edit::set("message.inner", &json!(1))]),
            "COUNT" => {
                let key = format!("count:{agent}");
                let stored = state::update(&key, |old| {
                    let n = old.and_then(|v| std::str::from_utf8(v).ok()?.parse::<u64>().ok()).unwrap_or(0);
                    Some((n + 1).to_string().into_bytes())
                });
                match stored {
                    Ok(Some(n)) => {
                        let n: u64 = String::from_utf8_lossy(&n).parse().unwrap_or(0);
                        Outcome::Edit(vec![Edit::set("count", &json!(n))])
                    }
                    Ok(None) => Outcome::Fail("the counter vanished".to_owned()),
                    Err(err) => Outcome::Fail(err.to_string()),
                }
            }
            "CLOCK" => {
                let now = clock::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
                Outcome::Edit(vec![
                    Edit::set("now", &json!(now.as_secs())),
                    Edit::set("monotonic", &json!(clock::monotonic().as_nanos() as u64)),
                ])
            }
            "FILLSTATE" => match state::set("big", &vec![0; 2 << 20]) {
                Ok(()) => Outcome::Fail("the state took a value past its limit".to_owned()),
                Err(err) => Outcome::Fail(format!("refused: {err}")),
            },
            _ => match message.strip_prefix("SPLIT:") {
                Some(parts) => Outcome::Split(
                    parts
                        .split(',')
                        .filter(|p| !p.is_empty())
                        .enumerate()
                        .map(|(n, part)| json!({"message": part, "part": n, "agent": {"id": agent}}).to_string())
                        .collect(),
                ),
                None => Outcome::Keep,
            },
        }
    }
}

export_plugin!(Capabilities);
