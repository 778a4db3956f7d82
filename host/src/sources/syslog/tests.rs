//! The harness the syslog tests share, and the tests of the settings.

use super::*;
use crate::sources::batcher::BatchConfig;
use crate::sources::testing::{self, Harness};
use crate::syslog::frame::Framing;

pub use crate::sources::testing::WAIT;

/// A source listening on 127.0.0.1 with a port of its own.
pub struct Running {
    pub address: SocketAddr,
    source: testing::Running,
}

impl std::ops::Deref for Running {
    type Target = testing::Running;

    fn deref(&self) -> &testing::Running {
        &self.source
    }
}

impl std::ops::DerefMut for Running {
    fn deref_mut(&mut self) -> &mut testing::Running {
        &mut self.source
    }
}

pub fn config(mode: &str, extra: &str) -> SyslogSourceConfig {
    toml::from_str(&format!("mode = \"{mode}\"\naddress = \"127.0.0.1:0\"\n{extra}")).unwrap()
}

pub async fn start(config: SyslogSourceConfig, batch: BatchConfig, capacity: usize) -> Running {
    let mut errors = Vec::new();
    config.validate("sources.net", &mut errors);
    assert_eq!(errors, []);
    let listener = Listener::bind(config, "net").await.unwrap();
    let address = listener.local_addr().unwrap();
    let harness = Harness::new("net").batch(batch.max_events, batch.timeout).capacity(capacity);
    Running { address, source: harness.start(|ctx| listener.serve(ctx)) }
}

impl Running {
    /// Stop the source and return the dead-letter records it wrote.
    pub async fn stop(self) -> Vec<serde_json::Value> {
        let stopped = self.source.stop().await;
        assert!(stopped.rest.is_empty(), "unexpected batch after the test's events: {:?}", stopped.rest);
        stopped.dead
    }
}

fn problems(config: &str) -> Vec<String> {
    let config: SyslogSourceConfig = toml::from_str(config).unwrap();
    let mut errors = Vec::new();
    config.validate("sources.s", &mut errors);
    errors.iter().map(ToString::to_string).collect()
}

#[test]
fn config_defaults() {
    let config = config("tcp", "");
    assert_eq!(config.framing, None);
    assert_eq!(config.max_message_bytes, 65536);
    assert_eq!(config.max_connections, 1024);
    assert_eq!(config.receive_buffer_bytes, None);
    assert_eq!(config.tls, None);
    assert!(toml::from_str::<SyslogSourceConfig>("mode = \"tcp\"\naddress = \"0:1\"\nport = 1").is_err());
    assert!(toml::from_str::<SyslogSourceConfig>("mode = \"sctp\"\naddress = \"0:1\"").is_err());
    let framed: SyslogSourceConfig =
        toml::from_str("mode = \"tcp\"\naddress = \"0:1\"\nframing = \"octet-counting\"").unwrap();
    assert_eq!(framed.framing, Some(Framing::OctetCounting));
}

#[test]
fn validation_reports_every_problem() {
    let errors = problems(
        "mode = \"udp\"\naddress = \"localhost\"\nframing = \"newline\"\nmax_message_bytes = 0\n\
         max_connections = 0\nreceive_buffer_bytes = 0\ntls = { cert = \"c.pem\", key = \"k.pem\" }",
    );
    assert_eq!(errors.len(), 6, "{errors:#?}");
    assert!(errors[0].starts_with("sources.s.address: `localhost` is not an ip:port to listen on"));
    assert_eq!(
        errors[1..],
        [
            "sources.s.max_message_bytes: must be at least 1",
            "sources.s.max_connections: must be at least 1",
            "sources.s.receive_buffer_bytes: must be at least 1",
            "sources.s.tls: only used with mode = \"tls\"",
            "sources.s.framing: only used with mode \"tcp\" or \"tls\": a UDP datagram is one message",
        ]
    );
}

#[test]
fn tls_mode_needs_its_table_and_readable_files() {
    assert_eq!(
        problems("mode = \"tls\"\naddress = \"0.0.0.0:6514\""),
        ["sources.s.tls: missing: mode \"tls\" needs tls = { cert = \"…\", key = \"…\" }"]
    );
    let errors = problems(
        "mode = \"tls\"\naddress = \"0.0.0.0:6514\"\nreceive_buffer_bytes = 1\n\
         tls = { cert = \"/nonexistent/c.pem\", key = \"/nonexistent/k.pem\" }",
    );
    assert_eq!(errors.len(), 3, "{errors:#?}");
    assert!(errors[0].starts_with("sources.s.tls.cert: cannot read /nonexistent/c.pem"), "{errors:#?}");
    assert!(errors[1].starts_with("sources.s.tls.key: cannot read /nonexistent/k.pem"), "{errors:#?}");
    assert_eq!(errors[2], "sources.s.receive_buffer_bytes: only used with mode = \"udp\"");
}
