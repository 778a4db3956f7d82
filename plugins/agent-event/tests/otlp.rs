//! OpenTelemetry GenAI data sent as OTLP/JSON, through the plugin as the
//! router runs it: realistic export requests from `tests/otlp/`, in a syslog
//! or file envelope's `message` or as the event itself.

use serde_json::{Value, json};
use sluice_plugin::{Outcome, Plugin};
use sluice_plugin_agent_event::AgentEvent;

fn sample(name: &str) -> String {
    let path = format!("{}/tests/otlp/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{path}: {err}"))
}

fn run(config: Value, event: &str) -> Result<Value, String> {
    match AgentEvent::configure(config).unwrap().process(event) {
        Outcome::Replace(json) => Ok(serde_json::from_str(&json).unwrap()),
        Outcome::Fail(reason) => Err(reason),
        other => panic!("unexpected outcome {other:?}"),
    }
}

/// `name` as a file source delivers it: the document as one line in `message`.
fn in_envelope(name: &str) -> Result<Value, String> {
    let document: Value = serde_json::from_str(&sample(name)).unwrap();
    let envelope = json!({
        "message": document.to_string(),
        "source": {"id": "otel-file", "path": "/var/log/otel/genai.jsonl"},
        "received_at": "2026-11-26T12:31:00Z",
    });
    run(json!({}), &envelope.to_string())
}

#[test]
fn an_execute_tool_span_is_a_tool_call() {
    let event = in_envelope("execute-tool-span.json").unwrap();
    assert_eq!(event["event"]["kind"], "tool_call");
    assert_eq!(event["event"]["action"], "execute_tool");
    assert_eq!(event["event"]["outcome"], "success", "status OK");
    assert_eq!(event["time"], "2026-11-26T12:30:05.123456789Z", "the span's start, to the nanosecond");
    assert_eq!(
        event["agent"],
        json!({"id": "asst_5j66UpCpwteGg4YSxUnt7lPY", "name": "Trip Planner", "version": "2026-11-01"})
    );
    assert_eq!(event["tenant"]["id"], "acme-travel", "a resource attribute named like the canonical field");
    assert_eq!(event["session"]["id"], "conv_5j66UpCpwteGg4YSxUnt7lPY");
    assert_eq!(event["delegation"], json!({"on_behalf_of": "alice@acme-travel.example", "type": "user"}));
    assert_eq!(event["tool"]["name"], "get_weather");
    assert_eq!(event["tool"]["call_id"], "call_mszuSIzqtI65i1wAUOE8w5H4");
    assert_eq!(event["tool"]["type"], "function");
    assert_eq!(event["tool"]["arguments"], json!({"location": "Paris|FR", "unit": "celsius"}), "JSON string decoded");
    assert_eq!(event["tool"]["result"], json!({"temperature": 18, "sky": "rain"}));
    assert_eq!(
        event["trace"],
        json!({"id": "5b8efff798038103d269b633813fc60c", "span_id": "eee19b7ec3c1b174",
               "parent_span_id": "eee19b7ec3c1b173"})
    );
    assert!(event.get("destination").is_none(), "a tool call's provider is not where the call went");
    assert_eq!(event["otel"]["name"], "execute_tool get_weather");
    assert_eq!(event["otel"]["span_kind"], "internal");
    assert_eq!(event["otel"]["end_time"], "2026-11-26T12:30:05.623456789Z");
    assert_eq!(event["otel"]["attributes"], json!({"gen_ai.provider.name": "openai"}), "only the unmapped stay");
    assert_eq!(event["otel"]["resource"]["service.name"], "travel-planner");
    assert!(event["otel"]["resource"].get("tenant.id").is_none(), "mapped resource attributes move");
    assert_eq!(event["otel"]["scope"]["name"], "opentelemetry.instrumentation.openai_agents");
    assert_eq!(event["source"]["id"], "otel-file", "the envelope is kept");
    assert!(event.get("message").is_none());
}

#[test]
fn a_chat_span_is_a_prompt_to_the_model_provider() {
    let event = in_envelope("chat-span.json").unwrap();
    assert_eq!(event["event"]["kind"], "prompt");
    assert_eq!(event["event"]["outcome"], "unknown", "an unset status without error.type");
    assert_eq!(event["agent"]["model"], "gpt-4.1", "the requested model");
    assert_eq!(event["destination"], json!({"service": "openai", "host": "api.openai.com"}));
    assert_eq!(event["prompt"]["text"], "And pack list\nfor rain?", "the last user message");
    assert_eq!(event["output"]["text"], "Take an umbrella — 18 °C and rain.");
    assert_eq!(event["reasoning"]["summary"], "Rain expected; suggest umbrella.");
    let kept = &event["otel"]["attributes"];
    assert_eq!(kept["gen_ai.usage.input_tokens"], 97, "intValue strings become numbers");
    assert_eq!(kept["server.port"], 443);
    assert_eq!(kept["gen_ai.response.model"], "gpt-4.1-2025-04-14");
    assert_eq!(kept["gen_ai.response.finish_reasons"], json!(["stop"]));
    assert!(kept["gen_ai.input.messages"].as_str().unwrap().contains("You plan trips."), "whole messages stay");
    assert_eq!(event["otel"]["span_kind"], "client");
}

#[test]
fn a_failed_remote_invoke_agent_span_is_a_failed_api_call_with_sluice_attributes() {
    let event = in_envelope("invoke-agent-client-error-span.json").unwrap();
    assert_eq!(event["event"]["kind"], "api_call", "invoke_agent on a CLIENT span calls a remote agent");
    assert_eq!(event["event"]["outcome"], "failure");
    assert_eq!(event["event"]["severity"], 5, "a failure is medium");
    assert_eq!(event["error"], json!({"type": "timeout", "message": "deadline exceeded after 30s"}));
    assert_eq!(event["destination"], json!({"host": "agents.globex.example"}), "no provider for agent calls");
    assert_eq!(
        event["delegation"],
        json!({"type": "agent", "on_behalf_of": "agent:orchestrator",
               "chain": ["user:carol", "agent:orchestrator", "agent:agt-researcher-7"]})
    );
    assert_eq!(event["authz"], json!({"decision": "allow", "scope": ["research:read"]}));
    assert_eq!(event["otel"]["status"], "error");
    assert_eq!(event["otel"]["events"][0]["name"], "exception");
    assert_eq!(event["otel"]["events"][0]["attributes"]["exception.type"], "TimeoutError");
    assert!(event.get("trace").unwrap().get("parent_span_id").is_none(), "a root span has no parent");
}

#[test]
fn an_inference_details_log_record_with_structured_messages() {
    let event = in_envelope("inference-details-log.json").unwrap();
    assert_eq!(event["event"]["kind"], "prompt");
    assert_eq!(event["time"], "2026-11-26T12:30:04.912000000Z");
    assert_eq!(event["agent"], json!({"id": "spiffe://acme.example/agent/planner-01", "model": "claude-sonnet-4-5"}));
    assert_eq!(event["session"]["id"], "sess-7f3a");
    assert_eq!(event["delegation"], json!({"on_behalf_of": "alice", "type": "user"}));
    assert_eq!(event["data"]["classification"], "confidential");
    assert_eq!(event["prompt"]["text"], "Summarise Q3 spend; key=value | pipe");
    assert_eq!(event["output"]["text"], "Q3 spend: 1.2M€.");
    assert_eq!(event["destination"]["service"], "anthropic");
    assert_eq!(event["trace"], json!({"id": "5b8efff798038103d269b633813fc60c", "span_id": "1f0c2e8bd4a3c9e7"}));
    assert_eq!(event["otel"]["signal"], "log");
    assert_eq!(event["otel"]["name"], "gen_ai.client.inference.operation.details");
    assert_eq!((&event["otel"]["severity_number"], &event["otel"]["severity_text"]), (&json!(9), &json!("INFO")));
    assert_eq!(event["otel"]["attributes"]["gen_ai.input.messages"][0]["role"], "user", "kvlists become objects");
}

#[test]
fn the_document_may_be_the_event_itself_and_the_mapping_reaches_otel_fields() {
    let config = json!({"mapping": {"agent.framework": {"value": "registry"}, "output.text": "otel.body"}});
    let event = run(config, &sample("create-agent-log.json")).unwrap();
    assert_eq!(event["event"]["kind"], "lifecycle");
    assert_eq!(event["event"]["action"], "create_agent", "the operation, not the event name");
    assert_eq!(event["agent"], json!({"id": "support-bot", "name": "Support bot", "framework": "registry"}));
    assert_eq!(event["tenant"]["id"], "globex");
    assert_eq!(event["time"], "2026-11-26T12:28:20.000000000Z");
    assert_eq!(event["output"]["text"], "agent created");
    assert!(event["otel"].get("body").is_none(), "mapped fields move");
}

#[test]
fn a_document_with_several_records_fails_and_says_why() {
    let reason = in_envelope("two-spans.json").unwrap_err();
    assert!(reason.starts_with("OTLP/JSON document holds 2 log records and spans"), "{reason}");
    assert!(reason.contains("the router cannot split an event into several yet"), "{reason}");
}

#[test]
fn identity_rules_apply_to_otlp_input_too() {
    let document = sample("execute-tool-span.json").replace("gen_ai.agent.id", "gen_ai.agent.uid");
    let reason = run(json!({}), &document).unwrap_err();
    assert!(reason.contains("no `agent.id`"), "{reason}");
    let event = run(json!({"require_identity": false}), &document).unwrap();
    assert_eq!(event["agent"]["id"], "unknown");
    assert_eq!(event["labels"], json!(["agent_id:missing"]));
}

#[test]
fn unknown_operations_follow_the_unknown_kind_config() {
    let document = sample("execute-tool-span.json").replace("\"execute_tool\"", "\"evaluate\"");
    let reason = run(json!({}), &document).unwrap_err();
    assert!(reason.contains("`event.kind` \"evaluate\" is not one of"), "{reason}");
    let event = run(json!({"unknown_kind": "lifecycle"}), &document).unwrap();
    assert_eq!(event["event"]["kind"], "lifecycle");
    assert_eq!(event["event"]["action"], "evaluate");
}

#[test]
fn replays_of_the_same_record_get_the_same_event_id() {
    let first = in_envelope("execute-tool-span.json").unwrap();
    let again = run(json!({}), &sample("execute-tool-span.json")).unwrap();
    assert_eq!(first["event"]["id"], again["event"]["id"]);
    assert_eq!(first["event"]["id"].as_str().unwrap().len(), 36);
}

/// The OTLP example of `docs/agent-event.md`, input and output as printed there.
#[test]
fn the_documented_example() {
    let document = r#"{"resourceSpans":[{"resource":{"attributes":[
 {"key":"service.name","value":{"stringValue":"travel-planner"}},
 {"key":"tenant.id","value":{"stringValue":"acme-travel"}}]},"scopeSpans":[{"scope":{"name":"openai_agents"},
 "spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"execute_tool get_weather",
 "kind":1,"startTimeUnixNano":"1795696205123456789","endTimeUnixNano":"1795696205623456789","status":{"code":1},
 "attributes":[{"key":"gen_ai.operation.name","value":{"stringValue":"execute_tool"}},
 {"key":"gen_ai.agent.id","value":{"stringValue":"asst_5j66UpCpwteGg4YSxUnt7lPY"}},
 {"key":"gen_ai.tool.name","value":{"stringValue":"get_weather"}},
 {"key":"gen_ai.tool.call.arguments","value":{"stringValue":"{\"location\":\"Paris\"}"}},
 {"key":"user.id","value":{"stringValue":"alice@acme-travel.example"}}]}]}]}]}"#;
    let mut event = run(json!({}), document).unwrap();
    event["event"].as_object_mut().unwrap().remove("id");
    let expected = r#"{"time":"2026-11-26T12:30:05.123456789Z","event":{"kind":"tool_call","action":"execute_tool",
 "outcome":"success","severity":1},"agent":{"id":"asst_5j66UpCpwteGg4YSxUnt7lPY"},"tenant":{"id":"acme-travel"},
 "delegation":{"on_behalf_of":"alice@acme-travel.example","type":"user"},
 "tool":{"name":"get_weather","arguments":{"location":"Paris"}},
 "trace":{"id":"5b8efff798038103d269b633813fc60c","span_id":"eee19b7ec3c1b174"},
 "otel":{"signal":"span","name":"execute_tool get_weather","span_kind":"internal",
 "end_time":"2026-11-26T12:30:05.623456789Z","status":"ok","resource":{"service.name":"travel-planner"},
 "scope":{"name":"openai_agents"}}}"#;
    assert_eq!(event, serde_json::from_str::<Value>(expected).unwrap());
}
