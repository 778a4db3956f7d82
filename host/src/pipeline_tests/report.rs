//! Judging a test's outputs against what its run did, in words a person
//! fixing the pipeline can act on: each failing condition with the value the
//! event held instead, and where the events went when none came out.

use super::conditions::{Subject, quote};
use super::harness::{Stage, Trace};
use super::spec::{Expect, Output, PipelineTest};
use std::fmt::Write as _;

/// How many events a failing output shows the conditions of.
const SHOWN_EVENTS: usize = 5;

/// Why each output of `test` failed, one entry per failing output (its
/// lines indented under it); empty when the test passed.
pub fn judge(test: &PipelineTest, trace: &Trace) -> Vec<String> {
    test.outputs.iter().enumerate().filter_map(|(i, output)| judge_output(i, output, trace)).collect()
}

fn judge_output(i: usize, output: &Output, trace: &Trace) -> Option<String> {
    let id = output.extract_from.as_str();
    let empty = Stage::default();
    let stage = trace.stage(id).unwrap_or(&empty);
    let head = format!("outputs[{i}] (extract_from = {id:?})");
    match &output.expect {
        Expect::Conditions(conditions) => {
            if stage.emitted.is_empty() {
                return Some(format!("{head}: no event came out of `{id}`\n{}", journey(trace, id)));
            }
            let mut misses = Vec::new();
            for event in &stage.emitted {
                let subject = Subject::new(event);
                let failed: Vec<String> = conditions
                    .iter()
                    .enumerate()
                    .filter_map(|(k, condition)| {
                        condition.check(&subject).err().map(|actual| format!("conditions[{k}] {condition}: {actual}"))
                    })
                    .collect();
                if failed.is_empty() {
                    return None;
                }
                misses.push(failed);
            }
            let n = misses.len();
            let mut text = match n {
                1 => format!("{head}: the event that came out of `{id}` did not meet every condition"),
                _ => format!("{head}: none of the {n} events that came out of `{id}` met every condition"),
            };
            for (e, failed) in misses.iter().enumerate().take(SHOWN_EVENTS) {
                let indent = if n == 1 { "  " } else { "    " };
                if n > 1 {
                    let _ = write!(text, "\n  event {}:", e + 1);
                }
                for line in failed {
                    let _ = write!(text, "\n{indent}{line}");
                }
            }
            if n > SHOWN_EVENTS {
                let _ = write!(text, "\n  … and {} more events", n - SHOWN_EVENTS);
            }
            Some(text)
        }
        Expect::Dropped if stage.dropped > 0 => None,
        Expect::Dropped => Some(format!("{head}: `{id}` dropped no event\n{}", journey(trace, id))),
        Expect::DeadLettered { reason_contains } => {
            let reasons: Vec<&str> = stage.dead_lettered.iter().map(|(_, reason)| reason.as_str()).collect();
            match reason_contains {
                _ if reasons.is_empty() => {
                    Some(format!("{head}: `{id}` dead-lettered no event\n{}", journey(trace, id)))
                }
                Some(part) if !reasons.iter().any(|reason| reason.contains(part.as_str())) => {
                    let shown: Vec<String> = reasons.iter().map(|reason| quote(reason)).collect();
                    Some(format!(
                        "{head}: `{id}` dead-lettered {} event{}, but no reason contains {}: actual {}",
                        reasons.len(),
                        if reasons.len() == 1 { "" } else { "s" },
                        quote(part),
                        shown.join(", ")
                    ))
                }
                _ => None,
            }
        }
    }
}

/// What each transform that ran before `to` (and `to` itself) did with the
/// test's events, one line each.
fn journey(trace: &Trace, to: &str) -> String {
    let mut lines = Vec::new();
    for (id, stage) in &trace.stages {
        let mut line = format!("  `{id}`: received {}, passed on {}", stage.received, stage.emitted.len());
        if stage.dropped > 0 {
            let _ = write!(line, ", dropped {}", stage.dropped);
        }
        if let Some((_, reason)) = stage.dead_lettered.first() {
            let _ = write!(line, ", dead-lettered {} (reason: {})", stage.dead_lettered.len(), quote(reason));
        }
        lines.push(line);
        if id == to {
            break;
        }
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Event;
    use crate::pipeline_tests::conditions::{Condition, FieldPath};
    use crate::pipeline_tests::spec::{Input, Inserted};
    use serde_json::json;

    fn test(outputs: Vec<Output>) -> PipelineTest {
        let input = Input { insert_at: "normalise".into(), event: Inserted::Message("m".into()) };
        PipelineTest { name: "t".into(), inputs: vec![input], outputs }
    }

    fn output(extract_from: &str, expect: Expect) -> Output {
        Output { extract_from: extract_from.into(), expect }
    }

    fn kind_is(kind: &str) -> Expect {
        Expect::Conditions(vec![Condition::Equals {
            field: FieldPath::parse("event.kind").unwrap(),
            value: json!(kind),
        }])
    }

    fn event(kind: &str) -> Event {
        Event::from_json(json!({"event": {"kind": kind}}).to_string())
    }

    /// normalise passes on a prompt and a tool call; redact drops one of them.
    fn trace() -> Trace {
        let normalise = Stage { received: 1, emitted: vec![event("prompt"), event("tool_call")], ..Stage::default() };
        let redact = Stage { received: 2, emitted: vec![event("tool_call")], dropped: 1, ..Stage::default() };
        Trace { stages: vec![("normalise".into(), normalise), ("redact".into(), redact)] }
    }

    #[test]
    fn an_output_passes_when_some_event_meets_every_condition() {
        let passing = test(vec![output("normalise", kind_is("tool_call")), output("redact", Expect::Dropped)]);
        assert_eq!(judge(&passing, &trace()), Vec::<String>::new());
    }

    #[test]
    fn a_failing_condition_is_reported_with_the_actual_value_of_each_event() {
        let failing = test(vec![output("normalise", kind_is("denial")), output("redact", kind_is("prompt"))]);
        assert_eq!(
            judge(&failing, &trace()),
            [
                "outputs[0] (extract_from = \"normalise\"): none of the 2 events that came out of `normalise` met \
                 every condition\n  event 1:\n    conditions[0] event.kind equals \"denial\": actual \"prompt\"\n  \
                 event 2:\n    conditions[0] event.kind equals \"denial\": actual \"tool_call\"",
                "outputs[1] (extract_from = \"redact\"): the event that came out of `redact` did not meet every \
                 condition\n  conditions[0] event.kind equals \"prompt\": actual \"tool_call\"",
            ]
        );
    }

    #[test]
    fn dropped_and_dead_lettered_name_what_happened_instead() {
        let mut trace = trace();
        trace.stages[1].1.dead_lettered = vec![(event("x"), "plugin `redact` failed the event: no agent".into())];
        let expecting = |expect| judge(&test(vec![output("normalise", expect)]), &trace);
        assert_eq!(
            expecting(Expect::Dropped),
            ["outputs[0] (extract_from = \"normalise\"): `normalise` dropped no event\n  `normalise`: received 1, \
              passed on 2"]
        );
        assert_eq!(
            expecting(Expect::DeadLettered { reason_contains: None }),
            ["outputs[0] (extract_from = \"normalise\"): `normalise` dead-lettered no event\n  `normalise`: \
              received 1, passed on 2"]
        );
        let expecting = |expect| judge(&test(vec![output("redact", expect)]), &trace);
        assert!(expecting(Expect::DeadLettered { reason_contains: Some("no agent".into()) }).is_empty());
        assert!(expecting(Expect::DeadLettered { reason_contains: None }).is_empty());
        assert_eq!(
            expecting(Expect::DeadLettered { reason_contains: Some("timeout".into()) }),
            ["outputs[0] (extract_from = \"redact\"): `redact` dead-lettered 1 event, but no reason contains \
              \"timeout\": actual \"plugin `redact` failed the event: no agent\""]
        );
        assert_eq!(
            expecting(kind_is("prompt"))[0].lines().count(),
            2,
            "one failing condition of the one event that came out"
        );
    }

    #[test]
    fn when_nothing_comes_out_the_report_shows_where_the_events_went() {
        let mut trace = trace();
        trace.stages[1].1.emitted.clear();
        trace.stages[1].1.dead_lettered = vec![(event("x"), "bad".into())];
        let failures = judge(&test(vec![output("redact", kind_is("prompt"))]), &trace);
        assert_eq!(
            failures,
            ["outputs[0] (extract_from = \"redact\"): no event came out of `redact`\n  `normalise`: received 1, \
              passed on 2\n  `redact`: received 2, passed on 0, dropped 1, dead-lettered 1 (reason: \"bad\")"]
        );
    }
}
