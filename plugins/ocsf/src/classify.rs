//! Which OCSF class and activity an agent event becomes.
//!
//! The class follows `event.kind` (see the crate's mapping table). The
//! activity is read from the verbs in the tool's name and the event's action
//! (`http.get` is a Read, `files.delete_draft` a Delete, `session.start` a
//! Start), first the tool's name, then the action, word by word, the first
//! known verb winning. Where no verb is known the activity is Other (99) and
//! `activity_name` carries the source's own name for it, as OCSF asks.

use crate::source::Source;
use crate::vocabulary::{Class, OTHER};

/// An event's class and activity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classification {
    pub class: Class,
    pub activity_id: u32,
}

/// Verbs of API Activity (6003): Create 1, Read 2, Update 3, Delete 4.
const API_VERBS: &[(u32, &[&str])] = &[
    (
        2,
        &[
            "get", "read", "fetch", "list", "search", "query", "find", "lookup", "view", "download", "retrieve",
            "select", "describe", "show", "browse", "head", "cat", "ls", "grep",
        ],
    ),
    (
        1,
        &[
            "create", "post", "add", "insert", "write", "upload", "send", "new", "make", "submit", "append", "mkdir",
            "register", "invite",
        ],
    ),
    (3, &["update", "put", "patch", "modify", "edit", "set", "rename", "move", "change", "replace", "upsert", "mv"]),
    (4, &["delete", "remove", "rm", "del", "destroy", "drop", "purge", "erase", "unlink", "revoke", "truncate"]),
];

/// Verbs of Datastore Activity (6005). A retrieval with none of them is a
/// Query (4): retrieving for an agent is searching a store.
const DATASTORE_VERBS: &[(u32, &[&str])] = &[
    (4, &["query", "search", "retrieve", "find", "lookup", "select", "match", "recall"]),
    (1, &["read", "get", "fetch", "download"]),
    (8, &["list", "ls", "scan", "browse"]),
    (5, &["write", "insert", "upsert", "store", "save", "ingest", "index", "embed", "put"]),
    (2, &["update", "patch", "modify", "edit"]),
    (6, &["create", "new"]),
    (7, &["delete", "remove", "drop", "purge", "erase"]),
    (3, &["connect", "open"]),
];

/// Verbs that make a lifecycle event an Authentication (3002): Logon 1,
/// Logoff 2, Other 99 (credential and token use, named in `activity_name`).
const AUTH_VERBS: &[(u32, &[&str])] = &[
    (1, &["login", "logon", "signin", "authenticate", "authenticated", "authentication", "auth"]),
    (2, &["logout", "logoff", "signout"]),
    (OTHER, &["token", "credential", "credentials", "mfa"]),
];

/// Verbs of Application Lifecycle (6002).
const LIFECYCLE_VERBS: &[(u32, &[&str])] = &[
    (
        3,
        &[
            "start",
            "started",
            "starting",
            "launch",
            "launched",
            "spawn",
            "spawned",
            "boot",
            "init",
            "initialize",
            "initialized",
            "begin",
            "resume",
            "resumed",
        ],
    ),
    (
        4,
        &[
            "stop",
            "stopped",
            "end",
            "ended",
            "exit",
            "exited",
            "terminate",
            "terminated",
            "shutdown",
            "kill",
            "killed",
            "finish",
            "finished",
            "complete",
            "completed",
            "crash",
            "crashed",
        ],
    ),
    (5, &["restart", "restarted", "reload", "reloaded"]),
    (1, &["install", "installed", "deploy", "deployed", "register", "registered", "create", "created", "provision"]),
    (2, &["uninstall", "uninstalled", "remove", "removed", "deregister", "unregister", "delete", "deleted"]),
    (6, &["enable", "enabled"]),
    (7, &["disable", "disabled", "suspend", "suspended"]),
    (8, &["update", "updated", "upgrade", "upgraded", "reconfigure", "reconfigured"]),
];

/// Classify `source`.
pub fn classify(source: &Source) -> Classification {
    let kind = source.peek_text("event.kind").unwrap_or_default();
    let words = words_of(source);
    let (class, activity_id) = match kind.as_str() {
        "retrieval" => (Class::DatastoreActivity, find(DATASTORE_VERBS, &words).unwrap_or(4)),
        "lifecycle" => match find(AUTH_VERBS, &words) {
            Some(activity) => (Class::Authentication, activity),
            // With no action at all, nothing names the activity: Unknown.
            None => {
                let unnamed = if source.peek_text("event.action").is_some() { OTHER } else { 0 };
                (Class::ApplicationLifecycle, find(LIFECYCLE_VERBS, &words).unwrap_or(unnamed))
            }
        },
        // A policy or guardrail behind an error makes it a detection.
        "error" if source.peek("authz.policy").is_some() || denied(source) => (Class::DetectionFinding, 1),
        "tool_call" | "api_call" | "authz" | "error" => (Class::ApiActivity, find(API_VERBS, &words).unwrap_or(OTHER)),
        // The GenAI operations have no CRUD verb: `api.operation` names them.
        "prompt" | "reasoning" | "output" => (Class::ApiActivity, OTHER),
        // Not a canonical kind (the event skipped the normaliser): still an
        // event, of an activity nobody named.
        _ => (Class::ApiActivity, 0),
    };
    Classification { class, activity_id }
}

fn denied(source: &Source) -> bool {
    source.peek_text("authz.decision").as_deref() == Some("deny")
}

/// The words of the tool's name, then of the event's action: lower case,
/// split at anything not a letter or digit and at camelCase humps.
fn words_of(source: &Source) -> Vec<String> {
    let mut words = Vec::new();
    for path in ["tool.name", "event.action"] {
        let Some(text) = source.peek_text(path) else { continue };
        let mut word = String::new();
        let mut previous_lower = false;
        for c in text.chars() {
            if c.is_alphanumeric() {
                if c.is_uppercase() && previous_lower && !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                previous_lower = c.is_lowercase() || c.is_ascii_digit();
                word.extend(c.to_lowercase());
            } else {
                previous_lower = false;
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
        }
        if !word.is_empty() {
            words.push(word);
        }
    }
    words
}

/// The activity of the first word that is a known verb, a word joined with
/// the next counting too (`sign in`, `LogOut`).
fn find(verbs: &[(u32, &[&str])], words: &[String]) -> Option<u32> {
    let lookup = |word: &str| verbs.iter().find(|(_, list)| list.contains(&word)).map(|(id, _)| *id);
    (0..words.len()).find_map(|i| {
        lookup(&words[i]).or_else(|| words.get(i + 1).and_then(|next| lookup(&format!("{}{next}", words[i]))))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn classify_json(event: Value) -> (Class, u32) {
        let map = event.as_object().unwrap().clone();
        let got = classify(&Source::new(&map));
        (got.class, got.activity_id)
    }

    fn kind(kind: &str, tool: Option<&str>, action: Option<&str>) -> (Class, u32) {
        classify_json(json!({"event": {"kind": kind, "action": action}, "tool": {"name": tool}}))
    }

    #[test]
    fn tool_and_api_calls_take_the_verb_of_the_tool_first() {
        assert_eq!(kind("tool_call", Some("http.get"), Some("tool.invoke")), (Class::ApiActivity, 2));
        assert_eq!(kind("tool_call", Some("files.deleteDraft"), None), (Class::ApiActivity, 4));
        assert_eq!(kind("api_call", Some("http.post"), Some("api.request")), (Class::ApiActivity, 1));
        assert_eq!(kind("api_call", None, Some("PATCH /v1/users")), (Class::ApiActivity, 3));
        assert_eq!(kind("tool_call", Some("shell.exec"), Some("tool.invoke")), (Class::ApiActivity, 99));
        assert_eq!(kind("authz", None, Some("authorize")), (Class::ApiActivity, 99));
        assert_eq!(kind("authz", Some("sql.query"), Some("authorize")), (Class::ApiActivity, 2));
    }

    #[test]
    fn genai_operations_are_other_activities_of_api_activity() {
        for k in ["prompt", "reasoning", "output"] {
            // Verbs in their action do not make them CRUD: the text is about
            // the conversation, not an API.
            assert_eq!(kind(k, None, Some("response.sent")), (Class::ApiActivity, 99), "{k}");
        }
    }

    #[test]
    fn retrievals_are_datastore_queries_unless_a_verb_says_otherwise() {
        assert_eq!(kind("retrieval", None, Some("retrieve")), (Class::DatastoreActivity, 4));
        assert_eq!(kind("retrieval", None, None), (Class::DatastoreActivity, 4));
        assert_eq!(kind("retrieval", None, Some("list_collections")), (Class::DatastoreActivity, 8));
        assert_eq!(kind("retrieval", Some("kb.read"), None), (Class::DatastoreActivity, 1));
    }

    #[test]
    fn lifecycle_is_authentication_when_it_names_a_logon_or_credential() {
        assert_eq!(kind("lifecycle", None, Some("session.start")), (Class::ApplicationLifecycle, 3));
        assert_eq!(kind("lifecycle", None, Some("session.end")), (Class::ApplicationLifecycle, 4));
        assert_eq!(kind("lifecycle", None, Some("agent.upgraded")), (Class::ApplicationLifecycle, 8));
        assert_eq!(kind("lifecycle", None, Some("heartbeat")), (Class::ApplicationLifecycle, 99));
        assert_eq!(kind("lifecycle", None, None), (Class::ApplicationLifecycle, 0));
        assert_eq!(kind("lifecycle", None, Some("agent.login")), (Class::Authentication, 1));
        assert_eq!(kind("lifecycle", None, Some("SignOut")), (Class::Authentication, 2));
        assert_eq!(kind("lifecycle", None, Some("user log in")), (Class::Authentication, 1));
        assert_eq!(kind("lifecycle", None, Some("token.refresh")), (Class::Authentication, 99));
    }

    #[test]
    fn errors_are_findings_only_when_a_policy_stands_behind_them() {
        assert_eq!(kind("error", Some("sql.query"), Some("tool.error")), (Class::ApiActivity, 2));
        let guardrail = json!({"event": {"kind": "error"}, "authz": {"policy": "pol-pii-guard"}});
        assert_eq!(classify_json(guardrail), (Class::DetectionFinding, 1));
        let denied = json!({"event": {"kind": "error"}, "authz": {"decision": "deny"}});
        assert_eq!(classify_json(denied), (Class::DetectionFinding, 1));
        let allowed = json!({"event": {"kind": "error"}, "authz": {"decision": "allow"}});
        assert_eq!(classify_json(allowed), (Class::ApiActivity, 99));
    }

    #[test]
    fn events_without_a_kind_are_unknown_api_activity() {
        assert_eq!(classify_json(json!({"agent": {"id": "a"}})), (Class::ApiActivity, 0));
        assert_eq!(kind("deploy", None, None), (Class::ApiActivity, 0));
    }

    #[test]
    fn words_split_at_separators_and_humps_and_ignore_case() {
        let map = json!({"tool": {"name": "FS.readFile"}, "event": {"action": "Tool-Invoke v2"}});
        let words = words_of(&Source::new(map.as_object().unwrap()));
        assert_eq!(words, ["fs", "read", "file", "tool", "invoke", "v2"]);
    }
}
