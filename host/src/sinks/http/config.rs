//! `[sinks.<id>]` with `type = "http"`.

use crate::sinks::delivery::http::{self, Auth, Compression, HttpBatch};
use crate::tls::ClientTlsConfig;
use crate::validation::ConfigError;
use serde::Deserialize;
use std::collections::BTreeMap;

/// ```toml
/// [sinks.collector]
/// type = "http"
/// inputs = ["normalise"]
/// uri = "https://collector.example/ingest"
/// encoding = "ndjson"
/// auth = { strategy = "bearer", token = "${COLLECTOR_TOKEN}" }
/// headers = { "X-Tenant" = "acme" }
/// compression = "gzip"
/// batch = { max_events = 1000, max_bytes = 1048576, timeout_ms = 1000 }
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSinkConfig {
    /// Where requests go: an `http://` or `https://` URI.
    pub uri: String,
    /// `"post"` (the default) or `"put"`.
    #[serde(default)]
    pub method: Method,
    /// The body: `"ndjson"` (the default: each event's JSON on a line of its
    /// own), `"json_array"` (the events' JSON as one array) or `"lines"`
    /// (each event's body, the line a formatter plugin emitted or else its
    /// JSON, one per line).
    #[serde(default)]
    pub encoding: Encoding,
    /// Headers added to every request.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    pub auth: Option<Auth>,
    #[serde(default)]
    pub compression: Compression,
    #[serde(default)]
    pub batch: HttpBatch,
    /// With an `https://` URI: the CA to trust (default: the system's) and a
    /// client certificate and key for mutual TLS.
    pub tls: Option<ClientTlsConfig>,
    /// How long one request may take, answer included (default 30).
    #[serde(default = "default_timeout_secs")]
    pub request_timeout_secs: u64,
}

/// The request method.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    #[default]
    Post,
    Put,
}

/// What a request's body holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    #[default]
    Ndjson,
    JsonArray,
    Lines,
}

pub(crate) fn default_timeout_secs() -> u64 {
    30
}

impl HttpSinkConfig {
    /// Report every problem with these settings.
    pub fn validate(&self, at: &str, errors: &mut Vec<ConfigError>) {
        let url = http::validate_uri(&format!("{at}.uri"), &self.uri, errors);
        http::validate_tls(&format!("{at}.tls"), self.tls.as_ref(), url.as_ref(), errors);
        http::validate_headers(&format!("{at}.headers"), &self.headers, errors);
        if let Some(auth) = &self.auth {
            auth.validate(&format!("{at}.auth"), errors);
        }
        self.batch.validate(&format!("{at}.batch"), errors);
        if self.request_timeout_secs == 0 {
            errors.push(ConfigError::new(format!("{at}.request_timeout_secs"), "must be at least 1"));
        }
    }
}
