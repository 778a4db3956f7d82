//! TCP and TLS connections of the syslog source: one task per connection.
//!
//! A connection is read through the RFC 6587 [`Decoder`] and driven on its
//! own (one reader per connection), so a slow or hostile peer affects nobody else, and a full pipeline
//! stops the reads (TCP flow control then slows the peer). Connections over
//! `max_connections` and failed TLS handshakes (such as a client without a
//! valid certificate under mTLS) are closed, logged and counted as errors;
//! those log lines are rate-limited per kind, since any peer can cause them.
//! A TLS client that closes TCP without a close_notify is normal (many
//! syslog clients do): what it sent is read to the end as on a TCP close,
//! and the close is counted as unclean and logged at debug level.

use super::Decoding;
use crate::internal_events::{ComponentError, InternalEvent, PeerError, UncleanTlsClose};
use crate::metrics::ComponentMetrics;
use crate::sources::SourceContext;
use crate::sources::driver::{self, Next, Reader};
use crate::sources::malformed::Malformed;
use crate::syslog::frame::{Decoder, Frame, Framing};
use anyhow::Context;
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncRead;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tokio_util::codec::{Decoder as _, FramedRead};

/// A peer gets this long to finish its TLS handshake, so that idle or
/// stalled clients do not hold connection slots.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A pause after a failed `accept` (out of file descriptors …), so that a
/// lasting failure does not spin.
const ACCEPT_PAUSE: Duration = Duration::from_millis(100);

/// How connections are read.
#[derive(Debug, Clone, Copy)]
pub(super) struct Settings {
    pub framing: Framing,
    pub max_message_bytes: usize,
    pub max_connections: usize,
    pub decoding: Decoding,
}

/// Accept connections until shutdown, then wait for each one to send what
/// it has batched.
pub(super) async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    settings: Settings,
    ctx: SourceContext,
) -> anyhow::Result<()> {
    let slots = Arc::new(Semaphore::new(settings.max_connections));
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            biased;
            () = ctx.shutdown.cancelled() => break,
            Some(done) = connections.join_next(), if !connections.is_empty() => report_panic(done, &ctx),
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(err) => {
                        PeerError { kind: "accept", what: "accepting a syslog connection", error: &err }.emit(&ctx.metrics);
                        tokio::time::sleep(ACCEPT_PAUSE).await;
                        continue;
                    }
                };
                let Ok(slot) = slots.clone().try_acquire_owned() else {
                    let max = settings.max_connections;
                    PeerError { kind: "max_connections", what: &format!("refused a syslog connection from {peer}: max_connections ({max}) are open"), error: &"too many connections" }.emit(&ctx.metrics);
                    continue;
                };
                connections.spawn(connection(stream, peer, tls.clone(), settings, ctx.clone(), slot));
            }
        }
    }
    drop(listener);
    while let Some(done) = connections.join_next().await {
        report_panic(done, &ctx);
    }
    Ok(())
}

fn report_panic(done: Result<(), tokio::task::JoinError>, ctx: &SourceContext) {
    if let Err(err) = done {
        ComponentError { what: "a syslog connection task failed", error: &err }.emit(&ctx.metrics);
    }
}

/// Serve one connection; its slot is given back when it ends.
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    tls: Option<TlsAcceptor>,
    settings: Settings,
    ctx: SourceContext,
    _slot: OwnedSemaphorePermit,
) {
    let result = match tls {
        None => driver::run(Frames::new(stream, peer, settings, &ctx), ctx.clone()).await,
        Some(acceptor) => {
            let handshake = tokio::select! {
                () = ctx.shutdown.cancelled() => return,
                handshake = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)) => handshake,
            };
            match handshake {
                Ok(Ok(stream)) => driver::run(Frames::new(stream, peer, settings, &ctx), ctx.clone()).await,
                Ok(Err(err)) => {
                    let err = anyhow::Error::new(err).context(format!("TLS handshake with {peer} failed"));
                    PeerError { kind: "tls handshake", what: "syslog connection closed", error: &format!("{err:#}") }
                        .emit(&ctx.metrics);
                    return;
                }
                Err(_) => {
                    let err = format!("no TLS handshake from {peer} within {HANDSHAKE_TIMEOUT:?}");
                    PeerError { kind: "tls handshake", what: "syslog connection closed", error: &err }
                        .emit(&ctx.metrics);
                    return;
                }
            }
        }
    };
    if let Err(err) = result {
        PeerError { kind: "read", what: "syslog connection closed", error: &format!("{err:#}") }.emit(&ctx.metrics);
    }
}

/// The frames of one connection, as events.
struct Frames<S> {
    frames: FramedRead<S, Decoder>,
    peer: String,
    id: Arc<str>,
    metrics: Arc<ComponentMetrics>,
    max_message_bytes: usize,
    decoding: Decoding,
    /// What a TLS peer that closed without a close_notify left unread.
    rest: Option<BytesMut>,
    /// The bad frame being reported, which the report borrows.
    bad: Bytes,
}

impl<S: AsyncRead + Unpin + Send> Frames<S> {
    fn new(stream: S, peer: SocketAddr, settings: Settings, ctx: &SourceContext) -> Self {
        Frames {
            frames: FramedRead::new(stream, Decoder::new(settings.framing, settings.max_message_bytes)),
            peer: peer.to_string(),
            id: ctx.id.clone(),
            metrics: ctx.metrics.clone(),
            max_message_bytes: settings.max_message_bytes,
            decoding: settings.decoding,
            rest: None,
            bad: Bytes::new(),
        }
    }

    /// The next frame; `None` at the end of the stream.
    async fn frame(&mut self) -> anyhow::Result<Option<Frame>> {
        if let Some(rest) = &mut self.rest {
            return Ok(self.frames.decoder_mut().decode_eof(rest)?);
        }
        match self.frames.next().await {
            None => Ok(None),
            Some(Ok(frame)) => Ok(Some(frame)),
            // A TLS peer that closed TCP without a close_notify: what it
            // sent is read to the end, as when a TCP peer closes.
            Some(Err(err)) if err.kind() == std::io::ErrorKind::UnexpectedEof => {
                UncleanTlsClose { peer: &self.peer }.emit(&self.metrics);
                let rest = self.rest.insert(std::mem::take(self.frames.read_buffer_mut()));
                Ok(self.frames.decoder_mut().decode_eof(rest)?)
            }
            Some(Err(err)) => Err(err).with_context(|| format!("reading from {}", self.peer)),
        }
    }
}

impl<S: AsyncRead + Unpin + Send> Reader for Frames<S> {
    type Position = ();

    /// A message, or a bad frame for the dead letter.
    async fn next(&mut self) -> Next<'_, ()> {
        let reason = match self.frame().await {
            Ok(None) => return Next::End,
            Err(err) => return Next::Failed(err),
            Ok(Some(Frame::Message(message))) => {
                return Next::Event(super::event(&message, &self.id, &self.peer, self.decoding), ());
            }
            Ok(Some(Frame::Oversized { head, len })) => {
                let reason = format!(
                    "syslog message of {len} bytes from {} exceeds max_message_bytes ({}); only its first {} bytes \
                     are kept",
                    self.peer,
                    self.max_message_bytes,
                    head.len()
                );
                self.bad = head;
                reason
            }
            Ok(Some(Frame::Invalid { reason, bytes })) => {
                self.bad = bytes;
                format!("invalid syslog frame from {}: {reason}", self.peer)
            }
        };
        Next::Malformed(Malformed { peer: &self.peer, head: &self.bad, reason })
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{WAIT, config, start};
    use crate::sources::batcher::BatchConfig;
    use crate::tls::test_certs;
    use rustls_pki_types::ServerName;
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    const RFC5424: &str = "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 1234 ID47 \
                           [exampleSDID@32473 iut=\"3\" eventSource=\"Application\"] An application event";
    const RFC3164: &str = "<34>Oct 11 22:14:15 mymachine su[230]: 'su root' failed for lonvick on /dev/pts/8";

    fn batch(max_events: usize) -> BatchConfig {
        BatchConfig { max_events, timeout: Duration::from_millis(20) }
    }

    fn octet_counted(message: &str) -> String {
        format!("{} {message}", message.len())
    }

    fn assert_5424(event: &serde_json::Value, peer: &str) {
        assert_eq!(event["message"], "An application event");
        let syslog = &event["syslog"];
        assert_eq!(syslog["facility"], 20);
        assert_eq!(syslog["severity"], 5);
        assert_eq!(syslog["version"], 1);
        assert_eq!(syslog["timestamp"], "2003-10-11T22:14:15.003Z");
        assert_eq!(syslog["hostname"], "mymachine.example.com");
        assert_eq!(syslog["app_name"], "evntslog");
        assert_eq!(syslog["procid"], "1234");
        assert_eq!(syslog["msgid"], "ID47");
        assert_eq!(syslog["structured_data"]["exampleSDID@32473"]["eventSource"], "Application");
        assert_eq!(syslog["format"], "rfc5424");
        assert_eq!(event["source"]["id"], "net");
        assert_eq!(event["source"]["address"], peer);
        assert!(event["received_at"].as_str().is_some_and(|t| t.ends_with('Z')));
    }

    fn assert_3164(event: &serde_json::Value) {
        assert_eq!(event["message"], "'su root' failed for lonvick on /dev/pts/8");
        assert_eq!(event["syslog"]["facility"], 4);
        assert_eq!(event["syslog"]["severity"], 2);
        assert_eq!(event["syslog"]["hostname"], "mymachine");
        assert_eq!(event["syslog"]["app_name"], "su");
        assert_eq!(event["syslog"]["procid"], "230");
        assert_eq!(event["syslog"]["format"], "rfc3164");
        assert!(event["syslog"].get("version").is_none());
    }

    #[tokio::test]
    async fn tcp_octet_counted_and_newline_frames_become_events() {
        let mut source = start(config("tcp", ""), batch(100), 16).await;
        let mut client = TcpStream::connect(source.address).await.unwrap();
        let peer = client.local_addr().unwrap().to_string();
        let stream = format!("{}{}", octet_counted(RFC5424), octet_counted(RFC3164));
        client.write_all(stream.as_bytes()).await.unwrap();
        let events = source.events(2).await;
        assert_5424(&events[0], &peer);
        assert_3164(&events[1]);

        // A second connection, newline-framed, detected on its own.
        let mut other = TcpStream::connect(source.address).await.unwrap();
        other.write_all(format!("{RFC3164}\n{RFC5424}\n").as_bytes()).await.unwrap();
        let events = source.events(2).await;
        assert_3164(&events[0]);
        assert_5424(&events[1], &other.local_addr().unwrap().to_string());
        drop((client, other));
        assert_eq!(source.metrics.counts().received, 4);
        assert_eq!(source.stop().await, Vec::<serde_json::Value>::new());
    }

    #[tokio::test]
    async fn batches_are_cut_at_max_events_per_connection() {
        let mut source = start(config("tcp", "framing = \"newline\""), batch(2), 16).await;
        let mut client = TcpStream::connect(source.address).await.unwrap();
        client.write_all(b"<13>one\n<13>two\n<13>three\n").await.unwrap();
        let messages = |events: Vec<serde_json::Value>| -> Vec<String> {
            events.iter().map(|e| e["message"].as_str().unwrap().to_owned()).collect()
        };
        assert_eq!(messages(source.next().await), ["one", "two"]);
        // The third waits for the timeout, the connection still open.
        assert_eq!(messages(source.next().await), ["three"]);
        drop(client);
        source.stop().await;
    }

    #[tokio::test]
    async fn a_frame_over_the_limit_goes_to_the_dead_letter_and_the_next_one_arrives() {
        let mut source = start(config("tcp", "max_message_bytes = 64"), batch(100), 16).await;
        let mut client = TcpStream::connect(source.address).await.unwrap();
        let long = format!("<13>1 - - - - - - {}", "x".repeat(200));
        let stream = format!("{}{}", octet_counted(&long), octet_counted("<13>1 - mymachine.example.com app - - - hi"));
        client.write_all(stream.as_bytes()).await.unwrap();
        let events = source.events(1).await;
        assert_eq!(events[0]["syslog"]["hostname"], "mymachine.example.com");
        drop(client);
        let dead = source.stop().await;
        assert_eq!(dead.len(), 1, "{dead:#?}");
        // Refused at its count, with its first bytes; the body is skipped to the next frame.
        let reason = dead[0]["reason"].as_str().unwrap();
        assert!(reason.starts_with("invalid syslog frame from 127.0.0.1:"), "{reason}");
        assert!(reason.ends_with(": MSG-LEN exceeds max_message_bytes (64)"), "{reason}");
        assert_eq!(dead[0]["count"], 1);
        let sample = dead[0]["event"]["message"].as_str().unwrap();
        assert!(sample.starts_with(&format!("{} <13>1 - - - - - - xxx", long.len())), "{sample}");
        assert_eq!(sample.len(), 64);
        assert_eq!(dead[0]["event"]["source"]["address"], events[0]["source"]["address"]);
    }

    #[tokio::test]
    async fn a_connection_over_max_connections_is_refused_and_counted() {
        let mut source = start(config("tcp", "max_connections = 1"), batch(1), 16).await;
        let mut first = TcpStream::connect(source.address).await.unwrap();
        first.write_all(b"<13>first\n").await.unwrap();
        assert_eq!(source.events(1).await[0]["message"], "first");

        let mut second = TcpStream::connect(source.address).await.unwrap();
        let mut buf = [0; 16];
        let read = tokio::time::timeout(WAIT, second.read(&mut buf)).await.expect("the refused peer is closed");
        assert!(read.is_err() || read.unwrap() == 0, "closed without data");
        assert_eq!(source.metrics.counts().errors, 1);

        // Its slot is free again once the first peer has gone.
        drop(first);
        let mut third = loop {
            let mut third = TcpStream::connect(source.address).await.unwrap();
            let _ = third.write_all(b"<13>third\n").await;
            if tokio::time::timeout(Duration::from_millis(200), third.read(&mut buf)).await.is_err() {
                break third; // Not closed: accepted.
            }
        };
        third.shutdown().await.unwrap();
        assert_eq!(source.events(1).await[0]["message"], "third");
        source.stop().await;
    }

    #[tokio::test]
    async fn shutdown_sends_what_open_connections_have_batched() {
        let batch = BatchConfig { max_events: 100, timeout: Duration::from_secs(60) };
        let mut source = start(config("tcp", ""), batch, 16).await;
        let mut client = TcpStream::connect(source.address).await.unwrap();
        client.write_all(b"<13>kept\n").await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        source.shutdown.cancel();
        assert_eq!(source.next().await[0]["message"], "kept");
        source.stop().await;
        drop(client);
    }

    async fn tls_client(
        address: std::net::SocketAddr,
        certs: &test_certs::Certs,
        with_cert: bool,
    ) -> std::io::Result<tokio_rustls::client::TlsStream<TcpStream>> {
        let tls = crate::tls::ClientTlsConfig {
            ca: Some(certs.ca.clone()),
            cert: with_cert.then(|| certs.client_cert.clone()),
            key: with_cert.then(|| certs.client_key.clone()),
            server_name: None,
        };
        let connector = tokio_rustls::TlsConnector::from(tls.load().unwrap());
        let tcp = TcpStream::connect(address).await.unwrap();
        connector.connect(ServerName::try_from("localhost").unwrap(), tcp).await
    }

    fn tls_config(certs: &test_certs::Certs, client_ca: bool) -> crate::sources::syslog::SyslogSourceConfig {
        let mut tls = format!("tls = {{ cert = {:?}, key = {:?}", certs.server_cert, certs.server_key);
        if client_ca {
            tls.push_str(&format!(", client_ca = {:?}", certs.ca));
        }
        config("tls", &format!("{tls} }}"))
    }

    #[tokio::test]
    async fn tls_clients_get_through() {
        let dir = tempfile::tempdir().unwrap();
        let certs = test_certs::make(dir.path());
        let mut source = start(tls_config(&certs, false), batch(100), 16).await;
        let mut client = tls_client(source.address, &certs, false).await.unwrap();
        client.write_all(octet_counted(RFC5424).as_bytes()).await.unwrap();
        client.flush().await.unwrap();
        let peer = client.get_ref().0.local_addr().unwrap().to_string();
        assert_5424(&source.events(1).await[0], &peer);
        drop(client);
        source.stop().await;
    }

    /// Many clients end a connection by closing TCP without a TLS
    /// close_notify: what they sent arrives (the last line too, as over
    /// TCP), and the close is counted as unclean, not as an error.
    #[tokio::test]
    async fn a_tls_client_that_closes_without_close_notify_is_not_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let certs = test_certs::make(dir.path());
        let mut source = start(tls_config(&certs, false), batch(100), 16).await;
        let mut client = tls_client(source.address, &certs, false).await.unwrap();
        client.write_all(b"<13>first\n<13>last without LF").await.unwrap();
        client.flush().await.unwrap();
        let (mut tcp, _) = client.into_inner();
        tcp.shutdown().await.unwrap();
        drop(tcp);
        let events = source.events(2).await;
        assert_eq!(events[0]["message"], "first");
        assert_eq!(events[1]["message"], "last without LF");
        let deadline = tokio::time::Instant::now() + WAIT;
        while source.metrics.counts().unclean_closes == 0 {
            assert!(tokio::time::Instant::now() < deadline, "counted: {:?}", source.metrics.counts());
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(source.metrics.counts().errors, 0);
        assert_eq!(source.metrics.counts().unclean_closes, 1);
        source.stop().await;
    }

    #[tokio::test]
    async fn mutual_tls_refuses_a_client_without_a_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let certs = test_certs::make(dir.path());
        let mut source = start(tls_config(&certs, true), batch(100), 16).await;

        // TLS 1.3 clients finish their side before the server has checked
        // them: the refusal shows as an alert or a close on the first read.
        if let Ok(mut anonymous) = tls_client(source.address, &certs, false).await {
            let _ = anonymous.write_all(b"<13>must not arrive\n").await;
            let _ = anonymous.flush().await;
            let mut buf = [0; 16];
            let read = tokio::time::timeout(WAIT, anonymous.read(&mut buf)).await.expect("the server answers");
            assert!(read.is_err() || read.unwrap() == 0, "refused");
        }
        let errors = source.metrics.clone();
        let deadline = tokio::time::Instant::now() + WAIT;
        while errors.counts().errors == 0 {
            assert!(tokio::time::Instant::now() < deadline, "the failed handshake is counted");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }

        let mut client = tls_client(source.address, &certs, true).await.unwrap();
        client.write_all(b"<13>signed\n").await.unwrap();
        client.flush().await.unwrap();
        assert_eq!(source.events(1).await[0]["message"], "signed");
        drop(client);
        assert_eq!(source.metrics.counts().received, 1, "the anonymous message never arrived");
        source.stop().await;
    }
}
