//! The `azure_monitor_logs` sink against a loopback receiver playing both
//! Microsoft Entra ID's token endpoint and the Logs Ingestion API, as
//! documented in:
//! - <https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow>:
//!   `POST /{tenant}/oauth2/v2.0/token` with the form `client_id`, `scope`,
//!   `client_secret`, `grant_type=client_credentials`; the answer
//!   `{"token_type":"Bearer","expires_in":3599,"access_token":"…"}`, or a
//!   `400` `{"error":"invalid_client","error_description":"AADSTS…"}`;
//! - <https://learn.microsoft.com/en-us/azure/azure-monitor/logs/logs-ingestion-api-overview>:
//!   `POST {endpoint}/dataCollectionRules/{dcr-immutable-id}/streams/{stream}?api-version=2023-01-01`
//!   with `Authorization: Bearer`, `Content-Type: application/json`, a JSON
//!   array body of at most 1 MB (`413` above), `204` on success, `401` for a
//!   token that is invalid or expired, `429` with `Retry-After`, `503`.

use super::*;
use crate::ack::BatchStatus;
use crate::sinks::testing::receiver::{Answer, Received, Receiver};
use crate::sinks::testing::{self, FAST, Running, event, finished};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const DCR: &str = "dcr-0123456789abcdef0123456789abcdef";
const STREAM: &str = "Custom-AgentEvents_CL";
const SECRET: &str = "qWgdYAmab0YSkuL1qKv5bPX";

/// What the receiver does beyond the documented rules, per test.
type Script = dyn Fn(&Received, &Azure) -> Option<Answer> + Send + Sync;

/// Entra ID and the ingestion endpoint, in one receiver.
struct Azure {
    /// The lifetime given to each token, in seconds.
    expires_in: u64,
    /// The tokens issued, by value: when each expires.
    issued: Mutex<HashMap<String, Instant>>,
    /// The token requests' forms.
    forms: Mutex<Vec<HashMap<String, String>>>,
    script: Box<Script>,
}

impl Azure {
    fn start(
        expires_in: u64,
        script: impl Fn(&Received, &Azure) -> Option<Answer> + Send + Sync + 'static,
    ) -> (Arc<Azure>, Arc<Receiver>) {
        let azure = Arc::new(Azure {
            expires_in,
            issued: Mutex::new(HashMap::new()),
            forms: Mutex::new(Vec::new()),
            script: Box::new(script),
        });
        let serving = azure.clone();
        (azure, Arc::new(Receiver::start(move |request| serving.answer(request))))
    }

    fn tokens(&self) -> usize {
        self.issued.lock().unwrap().len()
    }

    fn answer(&self, request: &Received) -> Answer {
        if let Some(answer) = (self.script)(request, self) {
            return answer;
        }
        if request.path() == format!("/{TENANT}/oauth2/v2.0/token") {
            self.token(request)
        } else {
            self.ingest(request)
        }
    }

    fn token(&self, request: &Received) -> Answer {
        let form = form(request.text());
        self.forms.lock().unwrap().push(form.clone());
        let field = |name: &str| form.get(name).map(String::as_str).unwrap_or("");
        if request.header("content-type") != "application/x-www-form-urlencoded"
            || field("grant_type") != "client_credentials"
        {
            return Answer::json(400, json!({"error": "invalid_request", "error_description": "AADSTS900144"}));
        }
        if field("client_id") != "app-1" || field("client_secret") != SECRET {
            return invalid_client();
        }
        if field("scope") != "https://monitor.azure.com/.default" {
            return Answer::json(400, json!({"error": "invalid_scope", "error_description": "AADSTS70011"}));
        }
        let mut issued = self.issued.lock().unwrap();
        let token = format!("token-{}", issued.len() + 1);
        issued.insert(token.clone(), Instant::now() + Duration::from_secs(self.expires_in));
        Answer::json(200, json!({"token_type": "Bearer", "expires_in": self.expires_in, "access_token": token}))
    }

    fn ingest(&self, request: &Received) -> Answer {
        let error = |status: u16, code: &str| Answer::json(status, json!({"error": {"code": code, "message": code}}));
        if request.method != "POST"
            || request.path() != format!("/dataCollectionRules/{DCR}/streams/{STREAM}")
            || !request.target.ends_with("?api-version=2023-01-01")
        {
            return error(404, "NotFound");
        }
        let token = request.header("authorization").strip_prefix("Bearer ").unwrap_or("");
        if self.issued.lock().unwrap().get(token).is_none_or(|expires| Instant::now() >= *expires) {
            return error(401, "InvalidToken");
        }
        if request.body.len() > 1 << 20 {
            return error(413, "ContentLengthLimitExceeded");
        }
        if request.header("content-type") != "application/json"
            || !serde_json::from_slice::<Value>(&request.body).is_ok_and(|body| body.is_array())
        {
            return error(400, "InvalidContent");
        }
        Answer::new(204, "")
    }
}

fn invalid_client() -> Answer {
    Answer::json(
        400,
        json!({"error": "invalid_client",
            "error_description": "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value."}),
    )
}

/// An `application/x-www-form-urlencoded` body's fields.
fn form(text: &str) -> HashMap<String, String> {
    let decode = |s: &str| {
        let s = s.replace('+', " ");
        let mut out = Vec::new();
        let mut bytes = s.bytes();
        while let Some(b) = bytes.next() {
            if b == b'%' {
                let hex: String = [bytes.next().unwrap(), bytes.next().unwrap()].iter().map(|&b| b as char).collect();
                out.push(u8::from_str_radix(&hex, 16).unwrap());
            } else {
                out.push(b);
            }
        }
        String::from_utf8(out).unwrap()
    };
    text.split('&').filter_map(|pair| pair.split_once('=')).map(|(k, v)| (decode(k), decode(v))).collect()
}

fn settings(receiver: &Receiver, extra: &str) -> String {
    format!(
        "endpoint = \"{}\"\ndcr_immutable_id = \"{DCR}\"\nstream_name = \"{STREAM}\"\ntenant_id = \"{TENANT}\"
client_id = \"app-1\"\nclient_secret = \"{SECRET}\"\ntoken_endpoint = \"{}\"\n{extra}",
        receiver.uri("/"),
        receiver.uri(&format!("/{TENANT}/oauth2/v2.0/token"))
    )
}

fn config(text: &str) -> AzureMonitorLogsSinkConfig {
    let config: AzureMonitorLogsSinkConfig = toml::from_str(text).unwrap();
    let mut errors = Vec::new();
    config.validate("sinks.sentinel", &mut errors);
    assert_eq!(errors, []);
    config
}

fn start(config: AzureMonitorLogsSinkConfig) -> Running {
    testing::start(FAST.grace, move |ctx| async move { sender(config, &ctx, FAST)?.run(ctx).await })
}

fn events(n: usize) -> Vec<Event> {
    (0..n).map(|i| event(json!({"event": {"id": format!("e-{i}")}, "n": i}))).collect()
}

/// The ingestion requests the receiver got (not the token requests).
fn ingestions(receiver: &Receiver) -> Vec<Received> {
    receiver.received().into_iter().filter(|r| r.path().starts_with("/dataCollectionRules/")).collect()
}

/// The `n` of each event in an ingestion request.
fn numbers(request: &Received) -> Vec<u64> {
    let body: Vec<Value> = serde_json::from_slice(&request.body).unwrap();
    body.iter().map(|event| event["n"].as_u64().unwrap()).collect()
}

#[tokio::test]
async fn one_token_serves_several_requests() {
    let (azure, receiver) = Azure::start(3599, |_, _| None);
    let sink = start(config(&settings(&receiver, "compression = \"gzip\"\nbatch = { max_events = 2 }")));
    assert_eq!(finished(sink.send(events(6)).await).await, BatchStatus::Delivered);
    let got = ingestions(&receiver);
    assert_eq!(got.len(), 3);
    for request in &got {
        assert_eq!(request.header("authorization"), "Bearer token-1");
        assert_eq!(request.header("content-type"), "application/json");
        assert!(request.gzipped);
    }
    assert_eq!(got.iter().flat_map(numbers).collect::<Vec<_>>(), [0, 1, 2, 3, 4, 5]);
    assert_eq!(azure.tokens(), 1, "one token for all");
    let forms = azure.forms.lock().unwrap().clone();
    assert_eq!(forms.len(), 1);
    let expected: HashMap<String, String> = [
        ("grant_type", "client_credentials"),
        ("client_id", "app-1"),
        ("client_secret", SECRET),
        ("scope", "https://monitor.azure.com/.default"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    assert_eq!(forms[0], expected);
    assert_eq!(sink.metrics.statuses().get(&204), Some(&3));
    assert_eq!(sink.metrics.counts().sent, 6);
    assert!(sink.finish().await.is_empty());
}

#[tokio::test]
async fn a_token_near_its_end_is_replaced_before_the_next_request() {
    let (azure, receiver) = Azure::start(1, |_, _| None);
    let sink = start(config(&settings(&receiver, "batch = { timeout_ms = 10 }")));
    assert_eq!(finished(sink.send(events(1)).await).await, BatchStatus::Delivered);
    // The token lives 1 s; it is replaced once 0.9 s of it are gone.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(finished(sink.send(events(1)).await).await, BatchStatus::Delivered);
    let got = ingestions(&receiver);
    let tokens: Vec<&str> = got.iter().map(|request| request.header("authorization")).collect();
    assert_eq!(tokens, ["Bearer token-1", "Bearer token-2"]);
    assert_eq!(azure.tokens(), 2);
    assert_eq!(sink.metrics.statuses().get(&401), None, "replaced before it was refused");
    assert!(sink.finish().await.is_empty());
}

#[tokio::test]
async fn a_refused_token_is_replaced_and_the_request_sent_again() {
    // The first token is revoked as soon as it is used.
    let (azure, receiver) = Azure::start(3599, |request, _| {
        (request.header("authorization") == "Bearer token-1")
            .then(|| Answer::json(401, json!({"error": {"code": "InvalidToken", "message": "revoked"}})))
    });
    let sink = start(config(&settings(&receiver, "batch = { timeout_ms = 10 }")));
    assert_eq!(finished(sink.send(events(2)).await).await, BatchStatus::Delivered);
    let got = ingestions(&receiver);
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].header("authorization"), "Bearer token-1");
    assert_eq!(got[1].header("authorization"), "Bearer token-2");
    assert_eq!(got[0].body, got[1].body);
    assert_eq!(azure.tokens(), 2);
    assert_eq!(sink.metrics.counts().sent, 2);
    assert!(sink.finish().await.is_empty());
}

#[tokio::test]
async fn a_new_token_refused_as_well_dead_letters_the_request() {
    let (azure, receiver) = Azure::start(3599, |request, _| {
        request
            .path()
            .starts_with("/dataCollectionRules/")
            .then(|| Answer::json(401, json!({"error": {"code": "InvalidAudience", "message": "wrong audience"}})))
    });
    let sink = start(config(&settings(&receiver, "batch = { timeout_ms = 10 }")));
    assert_eq!(finished(sink.send(events(2)).await).await, BatchStatus::Delivered, "done: dead-lettered");
    assert_eq!(ingestions(&receiver).len(), 2, "once with a new token, then given up");
    assert_eq!(azure.tokens(), 2);
    let dead = sink.finish().await;
    assert_eq!(dead.len(), 2);
    let reason = dead[0]["reason"].as_str().unwrap();
    assert!(reason.contains("401") && reason.contains("wrong audience"), "{reason}");
}

#[tokio::test]
async fn requests_stay_within_one_mebibyte_and_a_larger_event_is_dead_lettered() {
    let (_azure, receiver) = Azure::start(3599, |_, _| None);
    let sink = start(config(&settings(&receiver, "batch = { timeout_ms = 10 }")));
    let pad = "x".repeat(200_000);
    let mut batch: Vec<Event> = (0..12).map(|i| event(json!({"n": i, "pad": pad}))).collect();
    batch.insert(5, event(json!({"n": 99, "pad": "y".repeat(1 << 20)})));
    assert_eq!(finished(sink.send(batch).await).await, BatchStatus::Delivered);
    let got = ingestions(&receiver);
    assert!(got.iter().all(|request| request.body.len() <= 1 << 20), "each request at most 1 MiB");
    assert_eq!(got.len(), 3, "five events of 200 kB to a request");
    assert_eq!(got.iter().flat_map(numbers).collect::<Vec<_>>(), (0..12).collect::<Vec<_>>());
    let counts = sink.metrics.counts();
    assert_eq!((counts.sent, counts.dead_lettered), (12, 1));
    let dead = sink.finish().await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0]["event"]["n"], 99);
    let reason = dead[0]["reason"].as_str().unwrap();
    assert!(reason.contains("1 MiB"), "{reason}");
}

#[tokio::test]
async fn too_large_and_bad_requests_are_dead_lettered() {
    let (_azure, receiver) =
        Azure::start(3599, |request, _| match request.path().starts_with("/dataCollectionRules/") {
            true if request.text().contains("\"n\":0") => Some(Answer::json(
                413,
                json!({"error": {"code": "ContentLengthLimitExceeded", "message": "Maximum request size exceeded"}}),
            )),
            true => Some(Answer::json(
                400,
                json!({"error": {"code": "InvalidStream", "message": "Stream Custom-AgentEvents_CL is not defined"}}),
            )),
            false => None,
        });
    let sink = start(config(&settings(&receiver, "batch = { max_events = 1, timeout_ms = 10 }")));
    assert_eq!(finished(sink.send(events(2)).await).await, BatchStatus::Delivered, "done: dead-lettered");
    assert_eq!(ingestions(&receiver).len(), 2, "neither is retried");
    let dead = sink.finish().await;
    let reasons: Vec<&str> = dead.iter().map(|record| record["reason"].as_str().unwrap()).collect();
    assert!(reasons[0].contains("413") && reasons[0].contains("ContentLengthLimitExceeded"), "{reasons:?}");
    assert!(reasons[1].contains("400") && reasons[1].contains("InvalidStream"), "{reasons:?}");
}

#[tokio::test]
async fn throttled_and_unavailable_answers_are_retried_honouring_retry_after() {
    let calls = Arc::new(Mutex::new(0));
    let seen = calls.clone();
    let (_azure, receiver) = Azure::start(3599, move |request, _| {
        if !request.path().starts_with("/dataCollectionRules/") {
            return None;
        }
        let mut calls = seen.lock().unwrap();
        *calls += 1;
        match *calls {
            1 => Some(
                Answer::json(429, json!({"error": {"code": "TooManyRequests", "message": "throttled"}}))
                    .header("Retry-After", "1"),
            ),
            2 => Some(Answer::json(503, json!({"error": {"code": "ServiceUnavailable", "message": "later"}}))),
            _ => None,
        }
    });
    let sink = start(config(&settings(&receiver, "batch = { timeout_ms = 10 }")));
    let started = Instant::now();
    assert_eq!(finished(sink.send(events(2)).await).await, BatchStatus::Delivered);
    assert!(started.elapsed() >= Duration::from_secs(1), "Retry-After: 1 was honoured ({:?})", started.elapsed());
    assert_eq!(*calls.lock().unwrap(), 3);
    let statuses = sink.metrics.statuses();
    assert_eq!((statuses[&429], statuses[&503], statuses[&204]), (1, 1, 1));
    assert_eq!(sink.metrics.counts().sent, 2);
    assert!(sink.finish().await.is_empty());
}

#[tokio::test]
async fn a_failing_token_endpoint_is_retried_and_its_error_never_shows_the_secret() {
    // The application's secret is refused twice (as while it is rotated), then taken.
    let refusals = Arc::new(Mutex::new(2));
    let left = refusals.clone();
    let (azure, receiver) = Azure::start(3599, move |request, _| {
        let mut left = left.lock().unwrap();
        (request.path().ends_with("/token") && *left > 0).then(|| {
            *left -= 1;
            invalid_client()
        })
    });
    let settings = settings(&receiver, "batch = { timeout_ms = 10 }");

    let tokens = Tokens::new(
        receiver.uri(&format!("/{TENANT}/oauth2/v2.0/token")),
        "app-1",
        SECRET,
        "https://monitor.azure.com/.default",
    );
    let metrics = crate::metrics::Metrics::default().component("t");
    let client = Client::new(None, Duration::from_secs(5), Default::default(), metrics).unwrap();
    let error = format!("{:#}", tokens.bearer(client.http()).await.unwrap_err());
    assert!(error.contains("400") && error.contains("invalid_client") && error.contains("AADSTS7000215"), "{error}");
    assert!(!error.contains(SECRET), "{error}");
    assert!(!format!("{tokens:?}").contains(SECRET));

    let sink = start(config(&settings));
    assert_eq!(finished(sink.send(events(2)).await).await, BatchStatus::Delivered);
    assert_eq!(*refusals.lock().unwrap(), 0);
    assert_eq!(azure.forms.lock().unwrap().len(), 1, "the refused ones are answered by the script");
    assert_eq!(ingestions(&receiver).len(), 1, "nothing sent without a token");
    let counts = sink.metrics.counts();
    assert_eq!((counts.sent, counts.errors), (2, 1), "the failed attempt is counted");
    assert!(sink.finish().await.is_empty());
}

#[tokio::test]
async fn concurrent_requests_wait_for_one_token() {
    // A slow token endpoint, so that every caller arrives while it is asked.
    let (azure, receiver) = Azure::start(3599, |request, azure| {
        request.path().ends_with("/token").then(|| azure.token(request).after(Duration::from_millis(200)))
    });
    let tokens = Arc::new(Tokens::new(
        receiver.uri(&format!("/{TENANT}/oauth2/v2.0/token")),
        "app-1",
        SECRET,
        "https://monitor.azure.com/.default",
    ));
    let metrics = crate::metrics::Metrics::default().component("t");
    let client = Client::new(None, Duration::from_secs(5), Default::default(), metrics).unwrap();
    let callers: Vec<_> = (0..8)
        .map(|_| {
            let (tokens, http) = (tokens.clone(), client.http().clone());
            tokio::spawn(async move { tokens.bearer(&http).await.unwrap() })
        })
        .collect();
    for caller in callers {
        assert_eq!(caller.await.unwrap(), "Bearer token-1");
    }
    assert_eq!(azure.tokens(), 1);
}

#[tokio::test]
async fn ten_thousand_events_arrive_once() {
    let (azure, receiver) = Azure::start(3599, |_, _| None);
    let sink = start(config(&settings(&receiver, "batch = { max_events = 1000, timeout_ms = 50 }")));
    let started = Instant::now();
    let mut statuses = Vec::new();
    for chunk in events(10_000).chunks(500) {
        statuses.push(sink.send(chunk.to_vec()).await);
    }
    for status in statuses {
        assert_eq!(finished(status).await, BatchStatus::Delivered);
    }
    let elapsed = started.elapsed();
    let mut got: Vec<u64> = ingestions(&receiver).iter().flat_map(numbers).collect();
    got.sort_unstable();
    assert_eq!(got, (0..10_000).collect::<Vec<_>>(), "each event once");
    assert_eq!(azure.tokens(), 1);
    assert_eq!(sink.metrics.counts().sent, 10_000);
    eprintln!("azure_monitor_logs: 10000 events in {elapsed:?} ({:.0} events/s)", 10_000.0 / elapsed.as_secs_f64());
    assert!(sink.finish().await.is_empty());
}

#[test]
fn bad_settings_are_refused_with_the_key_named() {
    let errors = |text: &str| {
        let config: AzureMonitorLogsSinkConfig = toml::from_str(text).unwrap();
        let mut errors = Vec::new();
        config.validate("sinks.sentinel", &mut errors);
        errors.iter().map(ToString::to_string).collect::<Vec<_>>()
    };
    let base = |endpoint: &str, dcr: &str, secret: &str, extra: &str| {
        format!(
            "endpoint = \"{endpoint}\"\ndcr_immutable_id = \"{dcr}\"\nstream_name = \"{STREAM}\"\ntenant_id = \"{TENANT}\"
client_id = \"app-1\"\nclient_secret = \"{secret}\"\n{extra}"
        )
    };
    let good = "https://dce-1.westeurope-1.ingest.monitor.azure.com";
    assert_eq!(errors(&base(good, DCR, SECRET, "")), Vec::<String>::new());
    let got = errors(&base("dce-1.westeurope-1.ingest.monitor.azure.com", "", " ", ""));
    assert!(got.iter().any(|e| e.starts_with("sinks.sentinel.endpoint")), "{got:?}");
    assert!(got.iter().any(|e| e.starts_with("sinks.sentinel.dcr_immutable_id")), "{got:?}");
    assert!(got.iter().any(|e| e.starts_with("sinks.sentinel.client_secret") && e.contains("empty")), "{got:?}");
    let got = errors(&base("http://dce.example", "0123", SECRET, "").replace(STREAM, "AgentEvents"));
    assert!(got.iter().any(|e| e.starts_with("sinks.sentinel.endpoint") && e.contains("https://")), "{got:?}");
    assert!(got.iter().any(|e| e.starts_with("sinks.sentinel.dcr_immutable_id") && e.contains("0123")), "{got:?}");
    assert!(got.iter().any(|e| e.starts_with("sinks.sentinel.stream_name")), "{got:?}");
    let got = errors(&base(
        good,
        DCR,
        SECRET,
        "token_endpoint = \"http://login.example/t\"\nbatch = { max_bytes = 2000000 }",
    ));
    assert!(got.iter().any(|e| e.starts_with("sinks.sentinel.token_endpoint")), "{got:?}");
    assert!(got.iter().any(|e| e.starts_with("sinks.sentinel.batch.max_bytes") && e.contains("1 MiB")), "{got:?}");
    let missing = toml::from_str::<AzureMonitorLogsSinkConfig>(
        &base(good, DCR, SECRET, "").replace(&format!("dcr_immutable_id = \"{DCR}\"\n"), ""),
    )
    .unwrap_err();
    assert!(missing.to_string().contains("missing field `dcr_immutable_id`"), "{missing}");
    let unknown = toml::from_str::<AzureMonitorLogsSinkConfig>(&base(good, DCR, SECRET, "dcr_id = \"x\"")).unwrap_err();
    assert!(unknown.to_string().contains("unknown field `dcr_id`"), "{unknown}");
    let printed = format!("{:?}", config(&base(good, DCR, SECRET, "")));
    assert!(!printed.contains(SECRET), "the secret is never printed: {printed}");
}
