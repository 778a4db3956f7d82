//! `[sinks.<id>]` with `type = "splunk_hec"`.

use super::ack::Acknowledgements;
use crate::secrets::Secret;
use crate::sinks::delivery::fields::Fields;
use crate::sinks::delivery::http::{self, Compression, HttpBatch};
use crate::tls::ClientTlsConfig;
use crate::validation::ConfigError;
use serde::Deserialize;

/// The sourcetype when none is set: Splunk's `vendor:product` naming, so a
/// `props.conf` stanza or a search can single out sluice's events.
pub const DEFAULT_SOURCETYPE: &str = "sluice:agent_event";

/// ```toml
/// [sinks.splunk]
/// type = "splunk_hec"
/// inputs = ["normalise"]
/// uri = "https://splunk.example:8088"
/// token = "${SPLUNK_HEC_TOKEN}"
/// endpoint = "event"
/// index = "agents"
/// host = { field = "agent.id" }
/// compression = "gzip"
/// acknowledgements = { enabled = true, poll_interval_ms = 500, timeout_secs = 60 }
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SplunkHecConfig {
    /// The HEC's base URI, such as `https://splunk.example:8088`; the sink
    /// adds `/services/collector/event` (or `/raw`, `/ack`) to its path.
    pub uri: String,
    /// The HEC token, sent as `Authorization: Splunk <token>`. Write it as
    /// `${ENV_VAR}` or `${file:/path}`.
    pub token: Secret,
    /// `"event"` (the default: JSON envelopes, metadata per event) or
    /// `"raw"` (each event's body as a line, metadata per request).
    #[serde(default)]
    pub endpoint: Endpoint,
    /// The index (default: the token's).
    pub index: Option<Meta>,
    /// The sourcetype (default [`DEFAULT_SOURCETYPE`]).
    pub sourcetype: Option<Meta>,
    /// The source (default: the token's, `http:<token name>`).
    pub source: Option<Meta>,
    /// The host (default: the one HEC assigns).
    pub host: Option<Meta>,
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
    /// Indexer acknowledgement (off by default).
    #[serde(default)]
    pub acknowledgements: Acknowledgements,
}

/// Which HEC endpoint events go to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Endpoint {
    /// `/services/collector/event`.
    #[default]
    Event,
    /// `/services/collector/raw`.
    Raw,
}

impl Endpoint {
    pub fn path(self) -> &'static str {
        match self {
            Endpoint::Event => "services/collector/event",
            Endpoint::Raw => "services/collector/raw",
        }
    }
}

/// One metadata value (`index`, `sourcetype`, `source`, `host`): fixed text
/// (`index = "agents"`), or an event's field by its dotted path
/// (`host = { field = "agent.id" }`); an event without that field (or whose
/// value is an object or a list) goes without the key, and HEC uses the
/// token's default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Meta {
    Text(String),
    Field(String),
}

impl<'de> Deserialize<'de> for Meta {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Meta, D::Error> {
        /// The table form, with nothing else allowed in it.
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct FieldForm {
            field: String,
        }

        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Meta;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("text, or a table `{ field = \"dotted.path\" }`")
            }

            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Meta, E> {
                Ok(Meta::Text(text.to_owned()))
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Meta, A::Error> {
                let form = FieldForm::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(Meta::Field(form.field))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

impl SplunkHecConfig {
    /// The metadata keys with their settings, in the order HEC documents them.
    pub fn metadata(&self) -> [(&'static str, Option<&Meta>); 4] {
        [
            ("host", self.host.as_ref()),
            ("source", self.source.as_ref()),
            ("sourcetype", self.sourcetype.as_ref()),
            ("index", self.index.as_ref()),
        ]
    }

    /// Report every problem with these settings.
    pub fn validate(&self, at: &str, errors: &mut Vec<ConfigError>) {
        let url = http::validate_uri(&format!("{at}.uri"), &self.uri, errors);
        if let Some(url) = &url {
            if url.path().contains("/services/collector") {
                errors.push(ConfigError::new(
                    format!("{at}.uri"),
                    format!("`{}` names the endpoint; give the base URI (such as https://splunk.example:8088) and set `endpoint`", self.uri),
                ));
            }
            if url.query().is_some() || url.fragment().is_some() {
                errors.push(ConfigError::new(format!("{at}.uri"), "must have no query or fragment"));
            }
        }
        http::validate_tls(&format!("{at}.tls"), self.tls.as_ref(), url.as_ref(), errors);
        if self.token.is_blank() {
            errors.push(ConfigError::new(format!("{at}.token"), "is empty"));
        } else if reqwest::header::HeaderValue::from_str(&format!("Splunk {}", self.token.expose())).is_err() {
            errors.push(ConfigError::new(format!("{at}.token"), "has characters an HTTP header cannot hold"));
        }
        for (key, meta) in self.metadata() {
            match meta {
                Some(Meta::Text(text)) if text.is_empty() => {
                    errors.push(ConfigError::new(format!("{at}.{key}"), "is empty; leave it out for HEC's default"));
                }
                Some(Meta::Field(path)) if self.endpoint == Endpoint::Raw => errors.push(ConfigError::new(
                    format!("{at}.{key}"),
                    format!(
                        "`{{ field = \"{path}\" }}` needs endpoint = \"event\": /raw carries one {key} per request"
                    ),
                )),
                Some(Meta::Field(path)) => {
                    if let Err(err) = Fields::new(&[path]) {
                        errors.push(ConfigError::new(format!("{at}.{key}.field"), err));
                    }
                }
                _ => {}
            }
        }
        self.batch.validate(&format!("{at}.batch"), errors);
        if self.request_timeout_secs == 0 {
            errors.push(ConfigError::new(format!("{at}.request_timeout_secs"), "must be at least 1"));
        }
        self.acknowledgements.validate(&format!("{at}.acknowledgements"), errors);
    }
}
