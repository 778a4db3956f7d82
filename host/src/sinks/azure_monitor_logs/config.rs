//! `[sinks.<id>]` with `type = "azure_monitor_logs"`.

use crate::secrets::Secret;
use crate::sinks::delivery::http::{self, Compression, HttpBatch};
use crate::tls::ClientTlsConfig;
use crate::validation::ConfigError;
use serde::Deserialize;

/// The most the Logs Ingestion API takes in one request, and so the most
/// `batch.max_bytes` may be. 1 MiB, as Microsoft's own client libraries cut
/// their requests.
pub const MAX_REQUEST_BYTES: usize = 1 << 20;

/// ```toml
/// [sinks.sentinel]
/// type = "azure_monitor_logs"
/// inputs = ["normalise"]
/// endpoint = "https://my-dce-a1b2.westeurope-1.ingest.monitor.azure.com"
/// dcr_immutable_id = "dcr-00000000000000000000000000000000"
/// stream_name = "Custom-AgentEvents_CL"
/// tenant_id = "00000000-0000-0000-0000-000000000000"
/// client_id = "00000000-0000-0000-0000-000000000000"
/// client_secret = "${AZURE_CLIENT_SECRET}"
/// compression = "gzip"
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AzureMonitorLogsSinkConfig {
    /// The data collection endpoint, or the DCR's own logs ingestion
    /// endpoint: `https://…`.
    pub endpoint: String,
    /// The data collection rule's immutable id, `dcr-…`.
    pub dcr_immutable_id: String,
    /// The rule's input stream, `Custom-…` (or `Microsoft-…` for a built-in table).
    pub stream_name: String,
    /// The Microsoft Entra tenant of the application.
    pub tenant_id: String,
    /// The application (client) id.
    pub client_id: String,
    /// The application's client secret.
    pub client_secret: Secret,
    /// Where tokens come from (default
    /// `https://login.microsoftonline.com/<tenant_id>/oauth2/v2.0/token`).
    pub token_endpoint: Option<String>,
    /// What the token is for (default `https://monitor.azure.com/.default`).
    #[serde(default = "default_scope")]
    pub scope: String,
    #[serde(default)]
    pub compression: Compression,
    /// When a request is sent; `max_bytes` is at most 1 MiB (1048576), the
    /// API's limit.
    #[serde(default)]
    pub batch: HttpBatch,
    /// For both endpoints: the CA to trust (default: the system's) and a
    /// client certificate and key.
    pub tls: Option<ClientTlsConfig>,
    /// How long one request may take, answer included (default 30).
    #[serde(default = "crate::sinks::http::config::default_timeout_secs")]
    pub request_timeout_secs: u64,
}

fn default_scope() -> String {
    "https://monitor.azure.com/.default".into()
}

impl AzureMonitorLogsSinkConfig {
    /// Report every problem with these settings.
    pub fn validate(&self, at: &str, errors: &mut Vec<ConfigError>) {
        let url = secure_uri(&format!("{at}.endpoint"), &self.endpoint, errors);
        http::validate_tls(&format!("{at}.tls"), self.tls.as_ref(), url.as_ref(), errors);
        if let Some(token_endpoint) = &self.token_endpoint {
            secure_uri(&format!("{at}.token_endpoint"), token_endpoint, errors);
        }
        let id_chars = |text: &str| text.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !(self.dcr_immutable_id.starts_with("dcr-")
            && self.dcr_immutable_id.len() > 4
            && id_chars(&self.dcr_immutable_id))
        {
            errors.push(ConfigError::new(
                format!("{at}.dcr_immutable_id"),
                format!(
                    "`{}` is not an immutable id such as `dcr-0123456789abcdef0123456789abcdef`",
                    self.dcr_immutable_id
                ),
            ));
        }
        let stream_chars = self.stream_name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        let prefixed = ["Custom-", "Microsoft-"]
            .iter()
            .any(|p| self.stream_name.len() > p.len() && self.stream_name.starts_with(p));
        if !(prefixed && stream_chars) {
            errors.push(ConfigError::new(
                format!("{at}.stream_name"),
                format!("`{}` is not a stream name such as `Custom-AgentEvents_CL`", self.stream_name),
            ));
        }
        for (key, value) in [("tenant_id", &self.tenant_id), ("client_id", &self.client_id), ("scope", &self.scope)] {
            if value.trim().is_empty() {
                errors.push(ConfigError::new(format!("{at}.{key}"), "is empty"));
            }
        }
        if self.token_endpoint.is_none() && !id_chars(&self.tenant_id) && !self.tenant_id.contains('.') {
            errors.push(ConfigError::new(format!("{at}.tenant_id"), "is not a tenant id or domain"));
        }
        if self.client_secret.is_blank() {
            errors.push(ConfigError::new(
                format!("{at}.client_secret"),
                "is empty (write it as \"${AZURE_CLIENT_SECRET}\")",
            ));
        }
        self.batch.validate(&format!("{at}.batch"), errors);
        if self.batch.max_bytes > MAX_REQUEST_BYTES {
            errors.push(ConfigError::new(
                format!("{at}.batch.max_bytes"),
                format!("is at most {MAX_REQUEST_BYTES} (1 MiB): the Logs Ingestion API takes no more in one request"),
            ));
        }
        if self.request_timeout_secs == 0 {
            errors.push(ConfigError::new(format!("{at}.request_timeout_secs"), "must be at least 1"));
        }
    }

    /// Where tokens come from.
    pub fn token_endpoint(&self) -> String {
        match &self.token_endpoint {
            Some(uri) => uri.clone(),
            None => format!("https://login.microsoftonline.com/{}/oauth2/v2.0/token", self.tenant_id),
        }
    }

    /// Where events go.
    pub fn ingestion_uri(&self) -> String {
        format!(
            "{}/dataCollectionRules/{}/streams/{}?api-version=2023-01-01",
            self.endpoint.trim_end_matches('/'),
            self.dcr_immutable_id,
            self.stream_name
        )
    }
}

/// A URI a secret is sent to: `https://`, or `http://` to this machine only
/// (a test or a local proxy), as a secret sent in clear is a secret given away.
fn secure_uri(at: &str, uri: &str, errors: &mut Vec<ConfigError>) -> Option<reqwest::Url> {
    let url = http::validate_uri(at, uri, errors)?;
    let host = url.host_str().unwrap_or("").trim_start_matches('[').trim_end_matches(']');
    let local = host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if url.scheme() != "https" && !local {
        errors.push(ConfigError::new(at, format!("`{uri}` must start with https:// (a token is sent to it)")));
    }
    Some(url)
}
