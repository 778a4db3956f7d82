//! Plugin `ocsf`: format the canonical agent event as one OCSF event (schema
//! **1.8.0**, the latest release; JSON, one compact line) that the sinks send
//! instead of the event's JSON; the event itself passes on unchanged.
//!
//! Modules: `classify` picks the class and activity, `objects` builds the OCSF
//! objects, `format` assembles the event, `source` reads the canonical event
//! and keeps what was not mapped for `unmapped`, `url` splits URLs,
//! `vocabulary` holds OCSF's ids and captions, `config` the config table.
//! The tests validate every event against JSON Schemas generated from the
//! OCSF 1.8.0 export (`schema/`, with its README).
//!
//! # Classes
//!
//! | `event.kind` | OCSF class | `activity_id` |
//! |-|-|-|
//! | `tool_call`, `api_call`, `authz` | API Activity (6003) | verb\*: Create 1, Read 2, Update 3, Delete 4; Other 99 |
//! | `prompt`, `reasoning`, `output` | API Activity (6003) | Other 99; `api.operation` names the GenAI operation |
//! | `retrieval` | Datastore Activity (6005) | Query 4, or the verb's: Read 1, List 8, Write 5 … |
//! | `lifecycle`: logon, logoff, token … | Authentication (3002) | Logon 1, Logoff 2, Other 99 |
//! | `lifecycle`, otherwise | Application Lifecycle (6002) | Start 3, Stop 4, Restart 5, Install 1 …; Other 99 |
//! | `error` with `authz.policy` or a denial | Detection Finding (2004) | Create 1; `status_id` 1 New, `is_alert` |
//! | `error`, otherwise | API Activity (6003) | as for tool calls; `status_id` from the outcome |
//! | missing or not canonical | API Activity (6003) | Unknown 0 |
//!
//! \* The verb is the first known word of `tool.name`, then of `event.action`
//! (`http.get` is a Read, `session.start` a Start). Other (99) is named in
//! `activity_name` by `event.action` (or the kind); a lifecycle event with no
//! action is Unknown (0). The GenAI operation (`gen_ai.operation.name`) is
//! `invoke_agent` for a prompt and for the agent's output, `chat` for the
//! model's reasoning. An authorization decision is API Activity, not Authorize
//! Session (3003): the agent asks to do one thing under a policy, which is an
//! API call with a decision (Security Control's `action_id`,
//! `disposition_id`, `policy`, and `actor.authorizations`), while Authorize
//! Session records privileges given to a user's session at logon.
//!
//! Every event has `class_uid`, `class_name`, `category_uid`, `category_name`,
//! `activity_id`, `activity_name`, `type_uid` (= `class_uid` × 100 +
//! `activity_id`), `type_name`, `time`, `severity_id`, `severity`,
//! `status_id`, `status` and `metadata` with `version` 1.8.0, `product` and
//! `profiles` (AI Operation where the class admits it, Security Control, and
//! Trace on API Activity).
//!
//! # Fields
//!
//! OCSF 1.8.0 has no `ai_agent` object (it is in 1.9.0, unreleased), so the
//! agent's identity goes where 1.8.0 puts a non-human actor: `actor.app_uid`
//! and `actor.app_name`, with the full agent in `src_endpoint.agent_list` and
//! its model in `ai_model`. Where a class lacks an attribute, the field stays
//! in `unmapped` (for example `tool.*` on Application Lifecycle, which has no
//! `api`).
//!
//! | Canonical field | OCSF attribute |
//! |-|-|
//! | `time` | `time` (epoch ms), `metadata.original_time` (as written) |
//! | `received_at` | `metadata.logged_time`; `time` when the event has none |
//! | `event.id` | `metadata.uid`, `finding_info.uid`, `api.request.uid` without a call id (absent: a digest) |
//! | `event.kind` | the class (above), `metadata.event_code` |
//! | `event.action` | `message`; `activity_name` when Other; `api.operation` with no tool; `finding_info.title` |
//! | `event.outcome` | `status_id`: success 1 Success, failure 2 Failure, unknown 0 Unknown (findings: 1 New) |
//! | `event.severity` | `severity_id`: 0–1 Informational, 2–3 Low, 4–6 Medium, 7–8 High, 9–10 Critical |
//! | | (above 10 counts as 10; words as the normaliser reads them; absent: 0 Unknown) |
//! | `agent.id` | `actor.app_uid`, `src_endpoint.svc_name`, `src_endpoint.agent_list[0].uid` |
//! | | Authentication: `user.uid`; Lifecycle: `app.uid`; `message_context.application.uid` |
//! | `agent.name`, `agent.version` | `actor.app_name`; `name` and `version` beside each `agent.id` above |
//! | `agent.model` | `ai_model.name`; `ai_model.ai_provider` is `agent.provider` or `unknown` (required) |
//! | `tenant.id` | `metadata.tenant_uid` |
//! | `authz.decision` | `actor.authorizations[0].decision` |
//! | | `action_id`: allow 1 Allowed, deny 2 Denied; `disposition_id`: 1 Allowed, 2 Blocked |
//! | `authz.policy` | `actor.authorizations[0].policy.name`, `policy.name` |
//! | `authz.reason` | `status_detail`; `finding_info.desc` |
//! | `delegation.on_behalf_of` | `actor.user.uid` |
//! | `delegation.type` | `actor.user.type_id`: user 1 User, system 3 System, agent 99 (`type` "AI Agent") |
//! | `session.id` | `actor.session.uid` (and `session.uid` on Authentication) |
//! | `trace.id` | `metadata.correlation_uid`, `trace.uid` |
//! | `prompt.text` | `api.request.data.prompt` |
//! | `reasoning.summary` | `api.response.data.reasoning` |
//! | `output.text`, `output.action` | `api.response.data.output`, `api.response.data.action` |
//! | `tool.name` | `api.operation` (and the activity's verb) |
//! | `tool.call_id` | `api.request.uid` |
//! | `tool.arguments`, `tool.result` | `api.request.data.arguments`, `api.response.data.result` |
//! | `error.type`, `error.message` | `api.response.error`, `api.response.error_message`, `status_detail` |
//! | | findings: `finding_info.title`, `finding_info.desc` (not canonical; agent platforms send them) |
//! | `destination.service` | `api.service.name`, `dst_endpoint.svc_name`; `service.name` on Authentication |
//! | `destination.host` | `dst_endpoint.hostname`, or `dst_endpoint.ip` for an address |
//! | `destination.ip`, `destination.port` | `dst_endpoint.ip`, `dst_endpoint.port` (not canonical; sources send them) |
//! | `destination.url` | `http_request.url`: `url_string`, `scheme`, `hostname`, `port`, `path`, `query_string` |
//! | | `http_request.http_method` from an HTTP tool's name (`http.post`); findings: `evidences[0].url` |
//! | | its host is the `dst_endpoint` when there is no `destination.host` |
//! | `retrieval.source` | `database.name`; `database.type_id` from its scheme: 7 Vector (`pgvector://`, `vector:`), |
//! | | 8 Knowledge Graph (`neo4j://`, `graph:`), 1 Relational (`postgres://` …), 6 NoSQL (`mongodb://` …), else 0 |
//! | `labels` | `metadata.labels` (a list) or `metadata.tags` (a map) |
//! | `syslog.hostname` | `src_endpoint.hostname` (or `.ip`) |
//! | `authz.scope`, `delegation.chain` | `unmapped` (1.8.0 has no attribute for them) |
//! | `trace.span_id`, `trace.parent_span_id` | `unmapped` (an OCSF `span` needs start and end times) |
//! | `agent.framework`, `retrieval.records` | `unmapped` |
//! | `data.classification`, `redaction` | `unmapped` |
//! | `syslog.*`, `source.*`, any other field | `unmapped`, in the event's own nesting |
//!
//! # Config
//!
//! `product` (`name`, `vendor_name`, `version`; default "sluice", "sluice",
//! this plugin's version) sets `metadata.product`; `include_unmapped`
//! (default true) keeps or drops `unmapped`. See module `config`.

mod classify;
mod config;
mod format;
mod objects;
mod source;
mod url;
mod vocabulary;

use serde_json::Value;
use sluice_plugin::{Outcome, Plugin, export_plugin};

pub use vocabulary::{Class, SCHEMA_VERSION};

/// The plugin instance.
pub struct Ocsf {
    settings: config::Settings,
}

impl Plugin for Ocsf {
    fn configure(config: Value) -> Result<Self, String> {
        Ok(Ocsf { settings: config::Settings::parse(&config)? })
    }

    fn process(&mut self, event: &str) -> Outcome {
        match sluice_plugin::parse_object(event) {
            Ok(event) => match format::format(&self.settings, &event) {
                Ok(line) => Outcome::Emit(line),
                Err(reason) => Outcome::Fail(reason),
            },
            Err(reason) => Outcome::Fail(reason),
        }
    }
}

export_plugin!(Ocsf);
