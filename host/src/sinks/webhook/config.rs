//! `[sinks.<id>]` with `type = "webhook"`.

use crate::secrets::Secret;
use crate::sinks::delivery::http;
use crate::tls::ClientTlsConfig;
use crate::validation::ConfigError;
use serde::Deserialize;
use std::collections::BTreeMap;

/// ```toml
/// [sinks.soar]
/// type = "webhook"
/// inputs = ["detect"]
/// uri = "https://soar.example/hooks/sluice"
/// secret = "${SOAR_WEBHOOK_SECRET}"
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Where each event is POSTed: an `http://` or `https://` URI.
    pub uri: String,
    /// The shared secret the receiver checks `X-Sluice-Signature` with (at
    /// least 16 bytes). Write it as `${ENV_VAR}` or `${file:/path}`.
    pub secret: Secret,
    /// Headers added to every request.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// With an `https://` URI: the CA to trust and a client certificate.
    pub tls: Option<ClientTlsConfig>,
    /// How long one request may take, answer included (default 30).
    #[serde(default = "crate::sinks::http::config::default_timeout_secs")]
    pub request_timeout_secs: u64,
}

/// The shortest secret accepted: HMAC-SHA256 keys shorter than this are
/// guessable.
pub const MIN_SECRET_BYTES: usize = 16;

impl WebhookConfig {
    /// Report every problem with these settings.
    pub fn validate(&self, at: &str, errors: &mut Vec<ConfigError>) {
        let url = http::validate_uri(&format!("{at}.uri"), &self.uri, errors);
        http::validate_tls(&format!("{at}.tls"), self.tls.as_ref(), url.as_ref(), errors);
        http::validate_headers(&format!("{at}.headers"), &self.headers, errors);
        if self.secret.expose().len() < MIN_SECRET_BYTES {
            errors.push(ConfigError::new(
                format!("{at}.secret"),
                format!("must be at least {MIN_SECRET_BYTES} bytes (it keys the HMAC-SHA256 signature)"),
            ));
        }
        if self.request_timeout_secs == 0 {
            errors.push(ConfigError::new(format!("{at}.request_timeout_secs"), "must be at least 1"));
        }
    }
}
