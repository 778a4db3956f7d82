//! The `[api]` table: where the operator's HTTP API listens.

use crate::validation::ConfigError;
use serde::Deserialize;
use std::net::SocketAddr;

/// The address the API listens on when `[api]` gives none: loopback only,
/// Vector's port, since the API has no authentication.
pub const DEFAULT_ADDRESS: &str = "127.0.0.1:8686";

/// `[api]`: present turns the API on.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiConfig {
    /// The `ip:port` to listen on. Anyone who reaches it can read the
    /// router's metrics, so keep it on loopback or a management network.
    #[serde(default = "default_address")]
    pub address: String,
}

fn default_address() -> String {
    DEFAULT_ADDRESS.to_owned()
}

impl ApiConfig {
    /// Report every problem with these settings.
    pub fn validate(&self, errors: &mut Vec<ConfigError>) {
        if let Err(err) = self.address.parse::<SocketAddr>() {
            errors.push(ConfigError::new(
                "api.address",
                format!("`{}` is not an ip:port to listen on, such as {DEFAULT_ADDRESS} ({err})", self.address),
            ));
        }
    }

    /// The warning `sluice validate` gives when another process holds the
    /// address now (not an error: what holds a port at deploy time is
    /// unknown), as the syslog source does.
    pub fn warnings(&self) -> Vec<String> {
        let Ok(address) = self.address.parse::<SocketAddr>() else { return Vec::new() };
        match std::net::TcpListener::bind(address) {
            Err(err) if err.kind() == std::io::ErrorKind::AddrInUse => vec![format!(
                "api.address: {} (tcp) is in use by another process now; `sluice run` would fail to start",
                self.address
            )],
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_address_must_be_an_ip_and_port() {
        let mut errors = Vec::new();
        ApiConfig { address: "localhost".into() }.validate(&mut errors);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].to_string().starts_with("api.address: `localhost` is not an ip:port"), "{errors:?}");
        let mut errors = Vec::new();
        ApiConfig { address: "[::1]:9000".into() }.validate(&mut errors);
        assert!(errors.is_empty(), "{errors:?}");
    }

    #[test]
    fn an_address_in_use_is_a_warning() {
        let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let config = ApiConfig { address: held.local_addr().unwrap().to_string() };
        let warnings = config.warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("is in use by another process now"), "{warnings:?}");
        drop(held);
        assert!(config.warnings().is_empty());
    }
}
