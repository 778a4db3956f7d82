//! The OCSF vocabulary the plugin writes: the pinned schema version, the
//! classes with their ids, categories, profiles and activities, and the
//! shared enums (severity, status, action, disposition), each id with the
//! caption OCSF gives it.
//!
//! The captions are copied from the pinned schema; `schema/captions.json` holds
//! them as the schema has them, and a test checks this module against it, so
//! a mistyped caption or id fails the build's tests rather than a SIEM rule.

/// The OCSF schema version every event is written in (`metadata.version`).
pub const SCHEMA_VERSION: &str = "1.8.0";

/// The classes the plugin emits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// 6003: tool and API calls, authorization decisions, errors, and the
    /// GenAI operations (prompt, reasoning, output).
    ApiActivity,
    /// 6005: retrievals from a data source.
    DatastoreActivity,
    /// 3002: an agent logging on or off, or using a credential.
    Authentication,
    /// 6002: an agent (or its session) starting, stopping, being installed …
    ApplicationLifecycle,
    /// 2004: errors raised by a policy or guardrail.
    DetectionFinding,
}

impl Class {
    /// Every class, in the order the docs list them.
    pub const ALL: [Class; 5] = [
        Class::ApiActivity,
        Class::DatastoreActivity,
        Class::Authentication,
        Class::ApplicationLifecycle,
        Class::DetectionFinding,
    ];

    /// `class_uid`.
    pub fn uid(self) -> u32 {
        match self {
            Class::ApiActivity => 6003,
            Class::DatastoreActivity => 6005,
            Class::Authentication => 3002,
            Class::ApplicationLifecycle => 6002,
            Class::DetectionFinding => 2004,
        }
    }

    /// `class_name`.
    pub fn caption(self) -> &'static str {
        match self {
            Class::ApiActivity => "API Activity",
            Class::DatastoreActivity => "Datastore Activity",
            Class::Authentication => "Authentication",
            Class::ApplicationLifecycle => "Application Lifecycle",
            Class::DetectionFinding => "Detection Finding",
        }
    }

    /// The class's name in the schema (and the pinned JSON Schema's file name).
    pub fn schema_name(self) -> &'static str {
        match self {
            Class::ApiActivity => "api_activity",
            Class::DatastoreActivity => "datastore_activity",
            Class::Authentication => "authentication",
            Class::ApplicationLifecycle => "application_lifecycle",
            Class::DetectionFinding => "detection_finding",
        }
    }

    /// `category_uid` and `category_name`.
    pub fn category(self) -> (u32, &'static str) {
        match self {
            Class::ApiActivity | Class::DatastoreActivity | Class::ApplicationLifecycle => (6, "Application Activity"),
            Class::Authentication => (3, "Identity & Access Management"),
            Class::DetectionFinding => (2, "Findings"),
        }
    }

    /// The profiles the class is written with (`metadata.profiles`): AI
    /// Operation where the class admits it (for `ai_model` and
    /// `message_context`), Security Control everywhere (for the authorization
    /// decision in `action_id`/`disposition_id`/`policy`), Trace where admitted.
    pub fn profiles(self) -> &'static [&'static str] {
        match self {
            Class::ApiActivity => &["ai_operation", "security_control", "trace"],
            Class::DatastoreActivity => &["ai_operation", "security_control"],
            Class::Authentication | Class::ApplicationLifecycle | Class::DetectionFinding => &["security_control"],
        }
    }

    /// `activity_id` values and their captions.
    pub fn activities(self) -> &'static [(u32, &'static str)] {
        match self {
            Class::ApiActivity => {
                &[(0, "Unknown"), (1, "Create"), (2, "Read"), (3, "Update"), (4, "Delete"), (99, "Other")]
            }
            Class::DatastoreActivity => &[
                (0, "Unknown"),
                (1, "Read"),
                (2, "Update"),
                (3, "Connect"),
                (4, "Query"),
                (5, "Write"),
                (6, "Create"),
                (7, "Delete"),
                (8, "List"),
                (9, "Encrypt"),
                (10, "Decrypt"),
                (99, "Other"),
            ],
            Class::Authentication => &[
                (0, "Unknown"),
                (1, "Logon"),
                (2, "Logoff"),
                (3, "Authentication Ticket"),
                (4, "Service Ticket Request"),
                (5, "Service Ticket Renew"),
                (6, "Preauth"),
                (7, "Account Switch"),
                (99, "Other"),
            ],
            Class::ApplicationLifecycle => &[
                (0, "Unknown"),
                (1, "Install"),
                (2, "Remove"),
                (3, "Start"),
                (4, "Stop"),
                (5, "Restart"),
                (6, "Enable"),
                (7, "Disable"),
                (8, "Update"),
                (99, "Other"),
            ],
            Class::DetectionFinding => &[(0, "Unknown"), (1, "Create"), (2, "Update"), (3, "Close"), (99, "Other")],
        }
    }

    /// The caption of one of the class's activities.
    pub fn activity_caption(self, activity_id: u32) -> &'static str {
        caption(self.activities(), activity_id)
    }
}

/// The caption of `id` in `table`; ids come from the tables themselves, so a
/// miss is a bug in this crate.
pub fn caption(table: &[(u32, &'static str)], id: u32) -> &'static str {
    table.iter().find(|(value, _)| *value == id).map_or("Other", |(_, caption)| caption)
}

/// `severity_id` (same in every class).
pub const SEVERITY: &[(u32, &str)] = &[
    (0, "Unknown"),
    (1, "Informational"),
    (2, "Low"),
    (3, "Medium"),
    (4, "High"),
    (5, "Critical"),
    (6, "Fatal"),
    (99, "Other"),
];

/// `status_id` of the activity classes: how the action turned out.
pub const STATUS: &[(u32, &str)] = &[(0, "Unknown"), (1, "Success"), (2, "Failure"), (99, "Other")];

/// `status_id` of Detection Finding: where the finding is in triage.
pub const FINDING_STATUS: &[(u32, &str)] = &[
    (0, "Unknown"),
    (1, "New"),
    (2, "In Progress"),
    (3, "Suppressed"),
    (4, "Resolved"),
    (5, "Archived"),
    (6, "Deleted"),
    (99, "Other"),
];

/// `action_id` (Security Control profile): what the control did.
pub const ACTION: &[(u32, &str)] = &[(0, "Unknown"), (1, "Allowed"), (2, "Denied"), (3, "Observed"), (4, "Modified")];

/// `disposition_id` values the plugin uses (Security Control profile).
pub const DISPOSITION: &[(u32, &str)] = &[(0, "Unknown"), (1, "Allowed"), (2, "Blocked")];

/// `message_context.ai_role_id` (AI Operation profile).
pub const AI_ROLE: &[(u32, &str)] = &[
    (0, "Unknown"),
    (1, "User"),
    (2, "Assistant"),
    (3, "Tool"),
    (4, "Agent"),
    (5, "Orchestrator"),
    (6, "Retriever"),
    (99, "Other"),
];

/// `user.type_id`.
pub const USER_TYPE: &[(u32, &str)] = &[(0, "Unknown"), (1, "User"), (2, "Admin"), (3, "System"), (4, "Service")];

/// `database.type_id` values the plugin uses.
pub const DATABASE_TYPE: &[(u32, &str)] =
    &[(0, "Unknown"), (1, "Relational"), (6, "NoSQL"), (7, "Vector"), (8, "Knowledge Graph")];

/// What the plugin calls an AI agent where OCSF 1.8.0 has no value for one
/// (`user.type`, `agent.type` with `type_id` 99, Other).
pub const AI_AGENT_TYPE: &str = "AI Agent";

/// `type_id` 99: the value is named in the sibling string instead.
pub const OTHER: u32 = 99;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn pinned() -> Value {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/captions.json");
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    /// Every (id, caption) of `table` is the schema's, for `enum_` (a map of
    /// id text to caption).
    fn assert_subset(what: &str, table: &[(u32, &str)], enum_: &Value) {
        for (id, caption) in table {
            assert_eq!(enum_[id.to_string()].as_str(), Some(*caption), "{what} {id}");
        }
    }

    #[test]
    fn ids_and_captions_are_the_pinned_schemas() {
        let pinned = pinned();
        assert_eq!(pinned["version"], SCHEMA_VERSION);
        for class in Class::ALL {
            let entry = &pinned["classes"][class.schema_name()];
            let enums = &entry["enums"];
            assert_eq!(entry["uid"], class.uid());
            assert_eq!(enums["class_uid"][class.uid().to_string()], class.caption());
            let (category_uid, category_name) = class.category();
            assert_eq!(enums["category_uid"][category_uid.to_string()], category_name);
            assert_eq!(entry["profiles"], serde_json::json!(class.profiles()));
            // Exactly the class's activities, no more and no fewer.
            assert_eq!(enums["activity_id"].as_object().unwrap().len(), class.activities().len(), "{class:?}");
            assert_subset(class.schema_name(), class.activities(), &enums["activity_id"]);
            assert_subset("severity_id", SEVERITY, &enums["severity_id"]);
            assert_subset("action_id", ACTION, &enums["action_id"]);
            assert_subset("disposition_id", DISPOSITION, &enums["disposition_id"]);
            let status = if class == Class::DetectionFinding { FINDING_STATUS } else { STATUS };
            assert_subset("status_id", status, &enums["status_id"]);
        }
        let objects = &pinned["objects"];
        assert_subset("ai_role_id", AI_ROLE, &objects["message_context"]["ai_role_id"]);
        assert_subset("user.type_id", USER_TYPE, &objects["user"]["type_id"]);
        assert_subset("database.type_id", DATABASE_TYPE, &objects["database"]["type_id"]);
        assert_eq!(objects["user"]["type_id"][OTHER.to_string()], "Other");
        assert_eq!(objects["agent"]["type_id"][OTHER.to_string()], "Other");
    }
}
