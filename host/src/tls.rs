//! TLS settings for network sources and sinks, loaded from PEM files.
//!
//! A server (the syslog source in `tls` mode) presents a certificate chain
//! and may require clients to present one signed by a given CA (mutual TLS).
//! A client (the syslog sink) trusts a given CA, or else the system's CA
//! bundle, and may present a certificate of its own. Cryptography is rustls
//! with the `ring` provider, chosen explicitly so that no process-wide
//! default provider has to be installed. Every error names the file and what
//! was wrong with it, so an operator can fix a config without guessing.

use crate::validation::ConfigError;
use anyhow::{Context, bail};
use rustls::crypto::CryptoProvider;
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where distributions keep the system CA bundle, tried in order when a
/// client has no `ca` of its own (after `SSL_CERT_FILE`).
const SYSTEM_CA_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// The `tls` table of a listening component.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerTlsConfig {
    /// PEM file with the server's certificate, followed by any intermediates.
    pub cert: PathBuf,
    /// PEM file with the server's private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
    /// PEM file with the CA certificates that client certificates must chain
    /// to. When set, a client without a valid certificate is refused (mTLS).
    pub client_ca: Option<PathBuf>,
}

/// The `tls` table of a connecting component.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientTlsConfig {
    /// PEM file with the CA certificates to trust for the server (default:
    /// the system's CA bundle).
    pub ca: Option<PathBuf>,
    /// PEM file with a client certificate chain, for servers that require
    /// one (mTLS); needs `key`.
    pub cert: Option<PathBuf>,
    /// PEM file with the client certificate's private key; needs `cert`.
    pub key: Option<PathBuf>,
    /// The name the server's certificate must carry (default: the host part
    /// of the component's `address`).
    pub server_name: Option<String>,
}

impl ServerTlsConfig {
    /// Report every problem with these settings; `at` is the `tls` table.
    pub fn validate(&self, at: &str, errors: &mut Vec<ConfigError>) {
        let certs = report(load_certs(&self.cert), &format!("{at}.cert"), errors);
        let key = report(load_key(&self.key), &format!("{at}.key"), errors);
        let client_ca = self.client_ca.as_ref().map(|ca| report(load_roots(ca), &format!("{at}.client_ca"), errors));
        // Only a config whose files all load can fail as a whole (a key that
        // does not match the certificate).
        if certs.is_some() && key.is_some() && client_ca.flatten().is_some() == self.client_ca.is_some() {
            report(self.load(), at, errors);
        }
    }

    /// The rustls server configuration.
    pub fn load(&self) -> anyhow::Result<Arc<ServerConfig>> {
        let builder = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .context("choosing TLS protocol versions")?;
        let builder = match &self.client_ca {
            Some(ca) => {
                let roots = load_roots(ca)?;
                let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
                    .build()
                    .with_context(|| format!("using {} to verify client certificates", ca.display()))?;
                builder.with_client_cert_verifier(verifier)
            }
            None => builder.with_no_client_auth(),
        };
        let config = builder.with_single_cert(load_certs(&self.cert)?, load_key(&self.key)?).with_context(|| {
            format!("using the certificate {} with the key {}", self.cert.display(), self.key.display())
        })?;
        Ok(Arc::new(config))
    }
}

impl ClientTlsConfig {
    /// Report every problem with these settings; `at` is the `tls` table and
    /// `address` the component's `host:port`.
    pub fn validate(&self, at: &str, address: &str, errors: &mut Vec<ConfigError>) {
        let roots = report(self.roots(), &format!("{at}.ca"), errors);
        let mut identity = true;
        match (&self.cert, &self.key) {
            (Some(cert), Some(key)) => {
                identity &= report(load_certs(cert), &format!("{at}.cert"), errors).is_some();
                identity &= report(load_key(key), &format!("{at}.key"), errors).is_some();
            }
            (Some(_), None) => errors.push(ConfigError::new(format!("{at}.key"), "missing: `cert` needs its `key`")),
            (None, Some(_)) => errors.push(ConfigError::new(format!("{at}.cert"), "missing: `key` needs its `cert`")),
            (None, None) => {}
        }
        report(self.server_name(address), &format!("{at}.server_name"), errors);
        if roots.is_some() && identity && (self.cert.is_some() == self.key.is_some()) {
            report(self.load(), at, errors);
        }
    }

    /// The rustls client configuration.
    pub fn load(&self) -> anyhow::Result<Arc<ClientConfig>> {
        let builder = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .context("choosing TLS protocol versions")?
            .with_root_certificates(self.roots()?);
        let config = match (&self.cert, &self.key) {
            (Some(cert), Some(key)) => {
                builder.with_client_auth_cert(load_certs(cert)?, load_key(key)?).with_context(|| {
                    format!("using the client certificate {} with the key {}", cert.display(), key.display())
                })?
            }
            (None, None) => builder.with_no_client_auth(),
            _ => bail!("a client certificate needs both `cert` and `key`"),
        };
        Ok(Arc::new(config))
    }

    /// The name to check the server's certificate against: `server_name`,
    /// else the host part of `address` (a DNS name or an IP address).
    pub fn server_name(&self, address: &str) -> anyhow::Result<ServerName<'static>> {
        match &self.server_name {
            Some(name) => {
                ServerName::try_from(name.clone()).with_context(|| format!("`{name}` is not a valid TLS server name"))
            }
            None => {
                let host =
                    host_of(address).with_context(|| format!("`{address}` has no host part to use as server_name"))?;
                ServerName::try_from(host.to_owned())
                    .with_context(|| format!("`{host}` is not a valid TLS server name; set `server_name`"))
            }
        }
    }

    /// The trust anchors: `ca`, else the system bundle.
    fn roots(&self) -> anyhow::Result<RootCertStore> {
        match &self.ca {
            Some(ca) => load_roots(ca),
            None => load_roots(&system_ca_bundle()?),
        }
    }
}

/// The host of `host:port`, `[v6]:port` or `v6` with a port; `None` without a port.
fn host_of(address: &str) -> Option<&str> {
    let (host, _port) = address.rsplit_once(':')?;
    let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    (!host.is_empty()).then_some(host)
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Push `result`'s error, if any, as a config error at `at`.
fn report<T>(result: anyhow::Result<T>, at: &str, errors: &mut Vec<ConfigError>) -> Option<T> {
    result.map_err(|err| errors.push(ConfigError::new(at, format!("{err:#}")))).ok()
}

fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Every certificate in a PEM file; at least one.
fn load_certs(path: &Path) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let pem = read(path)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("{} is not a valid PEM file", path.display()))?;
    if certs.is_empty() {
        bail!("{} holds no certificate (no `BEGIN CERTIFICATE` section)", path.display());
    }
    Ok(certs)
}

/// The first private key in a PEM file.
fn load_key(path: &Path) -> anyhow::Result<PrivateKeyDer<'static>> {
    let pem = read(path)?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|err| match err {
        rustls_pki_types::pem::Error::NoItemsFound => {
            anyhow::anyhow!("{} holds no private key (PKCS#8, PKCS#1 or SEC1 PEM section)", path.display())
        }
        other => anyhow::anyhow!("{} is not a valid PEM file: {other}", path.display()),
    })
}

/// The certificates of a PEM file, as trust anchors.
fn load_roots(path: &Path) -> anyhow::Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    for cert in load_certs(path)? {
        roots
            .add(cert)
            .with_context(|| format!("{} holds a certificate that cannot be a trust anchor", path.display()))?;
    }
    Ok(roots)
}

/// `SSL_CERT_FILE`, else the first system bundle that exists.
fn system_ca_bundle() -> anyhow::Result<PathBuf> {
    let from_env = std::env::var_os("SSL_CERT_FILE").map(PathBuf::from);
    from_env.or_else(|| SYSTEM_CA_BUNDLES.iter().map(PathBuf::from).find(|path| path.is_file())).with_context(|| {
        format!("no `ca` is set and no system CA bundle was found (SSL_CERT_FILE, {})", SYSTEM_CA_BUNDLES.join(", "))
    })
}

/// Certificates made at test time: a CA, a server certificate for
/// `localhost` and 127.0.0.1, and a client certificate, all as PEM files.
#[cfg(test)]
pub(crate) mod test_certs {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    use std::path::{Path, PathBuf};

    pub struct Certs {
        pub ca: PathBuf,
        pub server_cert: PathBuf,
        pub server_key: PathBuf,
        pub client_cert: PathBuf,
        pub client_key: PathBuf,
    }

    /// Write a fresh CA and the certificates it signed into `dir`.
    pub fn make(dir: &Path) -> Certs {
        let mut ca_params = CertificateParams::new(Vec::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.distinguished_name.push(rcgen::DnType::CommonName, "sluice test CA");
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
        let leaf = |names: Vec<String>, name: &str| {
            let key = KeyPair::generate().unwrap();
            let cert = CertificateParams::new(names).unwrap().signed_by(&key, &ca).unwrap();
            let (cert_path, key_path) = (dir.join(format!("{name}.pem")), dir.join(format!("{name}.key")));
            std::fs::write(&cert_path, cert.pem()).unwrap();
            std::fs::write(&key_path, key.serialize_pem()).unwrap();
            (cert_path, key_path)
        };
        let (server_cert, server_key) = leaf(vec!["localhost".into(), "127.0.0.1".into()], "server");
        let (client_cert, client_key) = leaf(vec!["agent.example".into()], "client");
        let ca_path = dir.join("ca.pem");
        std::fs::write(&ca_path, ca.pem()).unwrap();
        Certs { ca: ca_path, server_cert, server_key, client_cert, client_key }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(errors: &[ConfigError]) -> Vec<String> {
        errors.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn loads_server_and_client_configs_from_pem_files() {
        let dir = tempfile::tempdir().unwrap();
        let certs = test_certs::make(dir.path());
        let server = ServerTlsConfig {
            cert: certs.server_cert.clone(),
            key: certs.server_key.clone(),
            client_ca: Some(certs.ca.clone()),
        };
        let mut errors = Vec::new();
        server.validate("sources.s.tls", &mut errors);
        assert_eq!(errors, []);
        server.load().unwrap();
        let client = ClientTlsConfig {
            ca: Some(certs.ca.clone()),
            cert: Some(certs.client_cert.clone()),
            key: Some(certs.client_key.clone()),
            server_name: None,
        };
        client.validate("sinks.s.tls", "localhost:6514", &mut errors);
        assert_eq!(errors, []);
        client.load().unwrap();
    }

    #[test]
    fn errors_name_the_key_the_file_and_the_problem() {
        let dir = tempfile::tempdir().unwrap();
        let certs = test_certs::make(dir.path());
        let missing = dir.path().join("missing.pem");
        let server =
            ServerTlsConfig { cert: certs.server_key.clone(), key: certs.ca.clone(), client_ca: Some(missing) };
        let mut errors = Vec::new();
        server.validate("sources.s.tls", &mut errors);
        let errors = messages(&errors);
        let d = dir.path().display();
        assert_eq!(errors.len(), 3, "{errors:#?}");
        assert!(errors[0].starts_with(&format!("sources.s.tls.cert: {d}/server.key holds no certificate")));
        assert!(errors[1].starts_with(&format!("sources.s.tls.key: {d}/ca.pem holds no private key")));
        assert!(errors[2].starts_with(&format!("sources.s.tls.client_ca: cannot read {d}/missing.pem")));
    }

    #[test]
    fn a_key_that_does_not_match_the_certificate_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let certs = test_certs::make(dir.path());
        let server = ServerTlsConfig { cert: certs.server_cert, key: certs.client_key, client_ca: None };
        let mut errors = Vec::new();
        server.validate("sources.s.tls", &mut errors);
        let errors = messages(&errors);
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert!(errors[0].starts_with("sources.s.tls: using the certificate"), "{errors:#?}");
    }

    #[test]
    fn client_needs_cert_and_key_together_and_a_usable_server_name() {
        let dir = tempfile::tempdir().unwrap();
        let certs = test_certs::make(dir.path());
        let client = ClientTlsConfig { ca: Some(certs.ca), cert: Some(certs.client_cert), ..Default::default() };
        let mut errors = Vec::new();
        client.validate("sinks.s.tls", "no-port", &mut errors);
        let errors = messages(&errors);
        assert_eq!(
            errors,
            [
                "sinks.s.tls.key: missing: `cert` needs its `key`",
                "sinks.s.tls.server_name: `no-port` has no host part to use as server_name"
            ]
        );
    }

    #[test]
    fn server_name_comes_from_the_address_unless_set() {
        let client = ClientTlsConfig::default();
        assert_eq!(client.server_name("siem.example:6514").unwrap(), ServerName::try_from("siem.example").unwrap());
        let ip = client.server_name("[::1]:6514").unwrap();
        assert_eq!(ip, ServerName::from("::1".parse::<std::net::IpAddr>().unwrap()));
        let named = ClientTlsConfig { server_name: Some("collector".into()), ..Default::default() };
        assert_eq!(named.server_name("10.0.0.1:6514").unwrap(), ServerName::try_from("collector").unwrap());
    }
}
