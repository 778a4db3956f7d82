//! Config errors and the validators every component shares: a leaf module
//! (it imports nothing of sluice), so that a component checks its settings
//! without importing the config that imports it.

use std::fmt;
use std::path::Path;

/// One problem in a config, located by its table and key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Where: `transforms.normalise.inputs`, `sinks.siem`, `line 4` …
    pub at: String,
    pub message: String,
}

impl ConfigError {
    pub fn new(at: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError { at: at.into(), message: message.into() }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.at, self.message)
    }
}

/// Every problem found in a config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        writeln!(f, "the configuration has {n} error{}:", if n == 1 { "" } else { "s" })?;
        for error in &self.0 {
            writeln!(f, "  - {error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// Whether `address` reads as `host:port` with a non-empty host and a port
/// from 1 to 65535 (names are resolved when connecting, not here).
pub fn is_host_port(address: &str) -> bool {
    address.rsplit_once(':').is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0))
}

/// A directory that exists and is writable, or can be created.
pub fn check_writable_dir(dir: &Path, at: &str, errors: &mut Vec<ConfigError>) {
    let existing = dir.ancestors().find(|a| a.exists()).unwrap_or(Path::new("."));
    if !existing.is_dir() {
        errors.push(ConfigError::new(at, format!("{} is not a directory", existing.display())));
    } else if is_read_only(existing) {
        errors.push(ConfigError::new(at, format!("directory {} is not writable", existing.display())));
    }
}

/// A file that can be appended to, or created.
pub fn check_writable_file(path: &Path, at: &str, errors: &mut Vec<ConfigError>) {
    if path.is_dir() {
        errors.push(ConfigError::new(at, format!("{} is a directory, not a file", path.display())));
    } else if path.exists() {
        if std::fs::OpenOptions::new().append(true).open(path).is_err() {
            errors.push(ConfigError::new(at, format!("file {} is not writable", path.display())));
        }
    } else if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        check_writable_dir(parent, at, errors);
    }
}

fn is_read_only(dir: &Path) -> bool {
    // Probe by creating a file: permission bits lie for root and ACLs.
    let probe = dir.join(format!(".sluice-probe-{}", std::process::id()));
    match std::fs::File::create(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            false
        }
        Err(_) => true,
    }
}
