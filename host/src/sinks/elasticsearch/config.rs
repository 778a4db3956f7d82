//! `[sinks.<id>]` with `type = "elasticsearch"`.

use crate::secrets::Secret;
use crate::sinks::delivery::http::{self, Auth, Compression, HttpBatch};
use crate::tls::ClientTlsConfig;
use crate::validation::ConfigError;
use serde::Deserialize;

/// ```toml
/// [sinks.search]
/// type = "elasticsearch"
/// inputs = ["normalise"]
/// uri = "https://es.example:9200"
/// data_stream = "logs-sluice-default"      # or: index = "sluice-%Y.%m.%d"
/// api_key = "${ES_API_KEY}"                # or: auth = { strategy = "basic", … }
/// compression = "gzip"
/// batch = { max_events = 1000, max_bytes = 5242880, timeout_ms = 1000 }
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElasticsearchSinkConfig {
    /// The cluster (or a proxy in front of it): requests go to `<uri>/_bulk`.
    pub uri: String,
    /// Create the documents in this data stream (such as
    /// `logs-sluice-default`); each gets an `@timestamp` from the event's
    /// `time` if it has none, as a data stream requires one.
    pub data_stream: Option<String>,
    /// Or in this index, whose name may hold `%Y`, `%m` and `%d`: the UTC
    /// date of the event's `time` (of now, if it has none).
    pub index: Option<String>,
    /// Basic or bearer credentials.
    pub auth: Option<Auth>,
    /// Or an API key (its `encoded` form): `Authorization: ApiKey <api_key>`.
    pub api_key: Option<Secret>,
    #[serde(default)]
    pub compression: Compression,
    #[serde(default)]
    pub batch: HttpBatch,
    /// With an `https://` URI: the CA to trust (default: the system's) and a
    /// client certificate and key for mutual TLS.
    pub tls: Option<ClientTlsConfig>,
    /// How long one request may take, answer included (default 30).
    #[serde(default = "crate::sinks::http::config::default_timeout_secs")]
    pub request_timeout_secs: u64,
}

/// Where the documents go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    DataStream(String),
    /// An index name, with `%Y`, `%m` and `%d` to be replaced.
    Index(String),
}

impl ElasticsearchSinkConfig {
    /// Report every problem with these settings.
    pub fn validate(&self, at: &str, errors: &mut Vec<ConfigError>) {
        let url = http::validate_uri(&format!("{at}.uri"), &self.uri, errors);
        http::validate_tls(&format!("{at}.tls"), self.tls.as_ref(), url.as_ref(), errors);
        match (&self.data_stream, &self.index) {
            (None, None) => errors.push(ConfigError::new(
                format!("{at}.data_stream"),
                "is required (or `index`): where the documents go, such as \"logs-sluice-default\"",
            )),
            (Some(_), Some(_)) => {
                errors.push(ConfigError::new(format!("{at}.index"), "cannot be set with `data_stream`: choose one"))
            }
            (Some(name), None) => {
                if let Err(problem) = check_name(name) {
                    errors.push(ConfigError::new(format!("{at}.data_stream"), problem));
                } else if name.contains('%') {
                    errors.push(ConfigError::new(
                        format!("{at}.data_stream"),
                        "cannot hold a date pattern: a data stream rolls over by itself",
                    ));
                }
            }
            (None, Some(pattern)) => {
                if let Err(problem) = check_pattern(pattern).and_then(|()| check_name(&expand(pattern, 2026, 1, 1))) {
                    errors.push(ConfigError::new(format!("{at}.index"), problem));
                }
            }
        }
        match (&self.auth, &self.api_key) {
            (Some(_), Some(_)) => {
                errors.push(ConfigError::new(format!("{at}.api_key"), "cannot be set with `auth`: choose one"))
            }
            (Some(auth), None) => auth.validate(&format!("{at}.auth"), errors),
            (None, Some(key)) if key.is_blank() => errors.push(ConfigError::new(format!("{at}.api_key"), "is empty")),
            _ => {}
        }
        self.batch.validate(&format!("{at}.batch"), errors);
        if self.request_timeout_secs == 0 {
            errors.push(ConfigError::new(format!("{at}.request_timeout_secs"), "must be at least 1"));
        }
    }

    /// The target, once validated.
    pub fn target(&self) -> Target {
        match (&self.data_stream, &self.index) {
            (Some(name), _) => Target::DataStream(name.clone()),
            (None, Some(pattern)) => Target::Index(pattern.clone()),
            (None, None) => unreachable!("validated: one of data_stream and index"),
        }
    }
}

/// Only `%Y`, `%m` and `%d` (and no lone `%`).
fn check_pattern(pattern: &str) -> Result<(), String> {
    let mut rest = pattern;
    while let Some(at) = rest.find('%') {
        match rest[at + 1..].chars().next() {
            Some('Y' | 'm' | 'd') => rest = &rest[at + 2..],
            Some(other) => return Err(format!("`%{other}` in `{pattern}`: only %Y, %m and %d are supported")),
            None => return Err(format!("`{pattern}` ends with a lone `%`: only %Y, %m and %d are supported")),
        }
    }
    Ok(())
}

/// `pattern` with its date placeholders replaced.
pub fn expand(pattern: &str, year: i32, month: u8, day: u8) -> String {
    pattern
        .replace("%Y", &format!("{year:04}"))
        .replace("%m", &format!("{month:02}"))
        .replace("%d", &format!("{day:02}"))
}

/// The rules Elasticsearch sets for index and data stream names.
fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("is empty".into());
    }
    if name.len() > 255 {
        return Err(format!("`{name}` is longer than 255 bytes"));
    }
    if name.chars().any(char::is_uppercase) {
        return Err(format!("`{name}` must be lowercase"));
    }
    if let Some(bad) =
        name.chars().find(|c| matches!(c, '\\' | '/' | '*' | '?' | '"' | '<' | '>' | '|' | ' ' | ',' | '#' | ':'))
    {
        return Err(format!("`{name}` cannot hold `{bad}`"));
    }
    if name.starts_with(['-', '_', '+']) || name == "." || name == ".." {
        return Err(format!("`{name}` cannot start with `-`, `_` or `+`, nor be `.` or `..`"));
    }
    Ok(())
}
