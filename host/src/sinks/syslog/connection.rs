//! The syslog sink's link to its destination (also the `tcp` sink's):
//! connecting (lazily, again after any failure), writing a batch, and the
//! backoff between attempts.

use super::{Encoded, SyslogSinkConfig};
use crate::syslog::Mode;
use anyhow::Context;
use futures_util::FutureExt;
use rustls_pki_types::ServerName;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// A connection attempt (TCP and TLS handshake) that takes longer fails.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a finished sink waits for a TLS close to be written.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

/// The timing of retries.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Retry {
    /// The delay after the first failure; it doubles with each further one…
    pub first: Duration,
    /// …up to this.
    pub max: Duration,
    /// How long a batch may still be retried once the router stops.
    pub grace: Duration,
}

impl Retry {
    pub const DEFAULT: Retry =
        Retry { first: Duration::from_millis(100), max: Duration::from_secs(30), grace: Duration::from_secs(5) };
}

/// Exponential backoff with jitter.
#[derive(Debug)]
pub(super) struct Backoff {
    next: Duration,
    max: Duration,
}

impl Backoff {
    pub fn new(retry: Retry) -> Self {
        Backoff { next: retry.first, max: retry.max }
    }

    /// The delay before the next attempt: between half and all of the
    /// current step ("equal jitter"), so that many sinks cut off by the same
    /// outage do not all come back at the same instant.
    pub fn next(&mut self) -> Duration {
        let step = self.next;
        self.next = (step * 2).min(self.max);
        step / 2 + step.mul_f64(fastrand::f64() / 2.0)
    }
}

/// Where and how the sink connects.
pub(crate) struct Destination {
    mode: Mode,
    address: String,
    tls: Option<(TlsConnector, ServerName<'static>)>,
}

/// An open connection to the destination.
pub(super) enum Connection {
    Tcp(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    Udp(UdpSocket),
}

impl Destination {
    pub fn new(config: &SyslogSinkConfig) -> anyhow::Result<Destination> {
        let tls = match config.mode {
            Mode::Tls => {
                let tls = config.tls.clone().unwrap_or_default();
                let client = tls.load().context("loading the TLS settings")?;
                Some((TlsConnector::from(client), tls.server_name(&config.address)?))
            }
            Mode::Tcp | Mode::Udp => None,
        };
        Ok(Destination { mode: config.mode, address: config.address.clone(), tls })
    }

    /// A plain TCP destination (the `tcp` sink's).
    pub fn tcp(address: String) -> Destination {
        Destination { mode: Mode::Tcp, address, tls: None }
    }

    pub fn address(&self) -> &str {
        &self.address
    }

    /// Write `out` on `connection`, opening one first if there is none.
    pub(super) async fn send(&self, connection: &mut Option<Connection>, out: &Encoded) -> anyhow::Result<()> {
        let open = match connection {
            Some(open) => open,
            None => connection.insert(self.connect().await?),
        };
        open.send(out).await.with_context(|| format!("writing to {}", self.address))
    }

    async fn connect(&self) -> anyhow::Result<Connection> {
        let address = &self.address;
        let connect = async {
            if self.mode == Mode::Udp {
                let peer = resolve(address).await?;
                let local: SocketAddr = match peer {
                    SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
                    SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
                };
                let socket = UdpSocket::bind(local).await.context("opening a UDP socket")?;
                socket.connect(peer).await.with_context(|| format!("setting {peer} as the UDP destination"))?;
                return Ok(Connection::Udp(socket));
            }
            let tcp = TcpStream::connect(address).await.with_context(|| format!("connecting to {address}"))?;
            // Batches are written whole: there is nothing for Nagle to merge.
            tcp.set_nodelay(true).context("setting TCP_NODELAY")?;
            match &self.tls {
                None => Ok(Connection::Tcp(tcp)),
                Some((connector, name)) => {
                    let tls = connector
                        .connect(name.clone(), tcp)
                        .await
                        .with_context(|| format!("TLS handshake with {address}"))?;
                    Ok(Connection::Tls(Box::new(tls)))
                }
            }
        };
        tokio::time::timeout(CONNECT_TIMEOUT, connect)
            .await
            .map_err(|_| anyhow::anyhow!("no connection to {address} within {CONNECT_TIMEOUT:?}"))?
    }
}

/// The first address that `host:port` resolves to.
async fn resolve(address: &str) -> anyhow::Result<SocketAddr> {
    let mut addresses = tokio::net::lookup_host(address).await.with_context(|| format!("resolving {address}"))?;
    addresses.next().with_context(|| format!("{address} resolves to no address"))
}

impl Connection {
    /// Write a whole batch and flush it to the operating system.
    async fn send(&mut self, out: &Encoded) -> io::Result<()> {
        match self {
            Connection::Tcp(stream) => write_stream(stream, &out.bytes).await,
            Connection::Tls(stream) => write_stream(stream.as_mut(), &out.bytes).await,
            Connection::Udp(socket) => {
                for range in &out.datagrams {
                    socket.send(&out.bytes[range.clone()]).await?;
                }
                Ok(())
            }
        }
    }

    /// Close the connection cleanly (a TLS close_notify, a TCP FIN).
    pub async fn close(self) {
        let close = async {
            match self {
                Connection::Tcp(mut stream) => stream.shutdown().await,
                Connection::Tls(mut stream) => stream.shutdown().await,
                Connection::Udp(_) => Ok(()),
            }
        };
        // The batches were all sent; a peer that does not take the close
        // loses nothing.
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, close).await;
    }
}

async fn write_stream<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut S, bytes: &[u8]) -> io::Result<()> {
    ensure_open(stream)?;
    stream.write_all(bytes).await?;
    stream.flush().await
}

/// Fail if the peer has closed the connection. A write to a connection
/// that the peer has closed still succeeds (only the peer's reset tells),
/// so without this look the first batch after a destination restarts
/// would be written into the void and counted as sent. Syslog receivers
/// never write, so anything readable is the end of the stream or an error.
fn ensure_open<S: AsyncRead + Unpin>(stream: &mut S) -> io::Result<()> {
    let mut probe = [0; 512];
    match stream.read(&mut probe).now_or_never() {
        None | Some(Ok(1..)) => Ok(()),
        Some(Ok(0)) => Err(io::Error::new(io::ErrorKind::ConnectionAborted, "the destination closed the connection")),
        Some(Err(err)) => Err(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_the_cap_with_jitter() {
        let retry =
            Retry { first: Duration::from_millis(100), max: Duration::from_millis(1000), grace: Duration::ZERO };
        let mut backoff = Backoff::new(retry);
        let steps = [100, 200, 400, 800, 1000, 1000];
        for step in steps {
            let delay = backoff.next().as_millis();
            assert!((step / 2..=step).contains(&delay), "{delay} ms for a step of {step} ms");
        }
    }
}
