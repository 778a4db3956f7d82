//! Delivery over a byte stream or datagrams (the `syslog` and `tcp` sinks):
//! connecting (lazily, again after any failure), writing a batch whole, and
//! the loop that sends each batch until it is through, with backoff between
//! attempts, and lets it go only then.

use super::abandon;
use super::retry::{Backoff, Retry, give_up};
use crate::event::{Batch, Event};
use crate::internal_events::{ComponentError, EventsReceived, EventsSent, InternalEvent};
use crate::sinks::SinkContext;
use crate::syslog::Mode;
use crate::tls::ClientTlsConfig;
use anyhow::Context;
use futures_util::FutureExt;
use rustls_pki_types::ServerName;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::ops::Range;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// A connection attempt (TCP and TLS handshake) that takes longer fails.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a finished sink waits for a TLS close to be written.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

/// Where and how the sink connects.
pub(crate) struct Destination {
    mode: Mode,
    address: String,
    tls: Option<(TlsConnector, ServerName<'static>)>,
}

/// An open connection to the destination.
pub(crate) enum Connection {
    Tcp(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    Udp(UdpSocket),
}

impl Destination {
    /// A destination over `mode`; with TLS, `tls` says whom to trust and
    /// who we are (`None`: the system's CAs, no client certificate).
    pub fn new(mode: Mode, address: &str, tls: Option<&ClientTlsConfig>) -> anyhow::Result<Destination> {
        let tls = match mode {
            Mode::Tls => {
                let tls = tls.cloned().unwrap_or_default();
                let client = tls.load().context("loading the TLS settings")?;
                Some((TlsConnector::from(client), tls.server_name(address)?))
            }
            Mode::Tcp | Mode::Udp => None,
        };
        Ok(Destination { mode, address: address.to_owned(), tls })
    }

    /// A plain TCP destination (the `tcp` sink's).
    pub fn tcp(address: String) -> Destination {
        Destination { mode: Mode::Tcp, address, tls: None }
    }

    pub fn address(&self) -> &str {
        &self.address
    }

    /// Write `out` on `connection`, opening one first if there is none.
    pub(crate) async fn send(&self, connection: &mut Option<Connection>, out: &Encoded) -> anyhow::Result<()> {
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

/// A batch as it goes on the wire.
#[derive(Debug, Default)]
pub(crate) struct Encoded {
    pub(crate) bytes: Vec<u8>,
    /// For UDP: each datagram's range of `bytes`.
    pub(crate) datagrams: Vec<Range<usize>>,
    /// How many events the bytes hold.
    pub(crate) events: usize,
}

/// The loop of a sink that streams to a [`Destination`] (`syslog`, `tcp`):
/// `encode` turns each batch into `out` and returns the events it could not
/// encode, with the reason, for the dead letter; the rest is sent with
/// retries, and the batch is let go once it is through.
pub(crate) async fn deliver_with(
    mut ctx: SinkContext,
    destination: &Destination,
    retry: Retry,
    mut encode: impl FnMut(&Batch, &mut Encoded) -> Vec<(Event, String)>,
) -> anyhow::Result<()> {
    let mut connection = None;
    let mut out = Encoded::default();
    while let Some(batch) = ctx.input.recv().await {
        EventsReceived { count: batch.len() }.emit(&ctx.metrics);
        let rejected = encode(&batch, &mut out);
        ctx.dead_letter.send(&ctx.metrics, &batch, rejected).await;
        if out.events == 0 {
            continue;
        }
        if send_with_retries(&ctx, destination, &mut connection, &out, retry).await {
            EventsSent { count: out.events }.emit(&ctx.metrics);
        } else {
            abandon(&mut ctx, [batch], destination.address()).await;
            return Ok(());
        }
    }
    if let Some(connection) = connection {
        connection.close().await;
    }
    Ok(())
}

/// Send `out`, reconnecting and retrying until it is through (`true`), or
/// until the router has stopped and the grace period is over (`false`).
async fn send_with_retries(
    ctx: &SinkContext,
    destination: &Destination,
    connection: &mut Option<Connection>,
    out: &Encoded,
    retry: Retry,
) -> bool {
    let mut give_up = std::pin::pin!(give_up(&ctx.shutdown, retry.grace));
    let mut backoff = Backoff::new(retry);
    loop {
        let result = tokio::select! {
            result = destination.send(connection, out) => result,
            () = &mut give_up => return false,
        };
        let Err(err) = result else { return true };
        // Whatever went wrong, the connection is not to be trusted with the
        // next attempt: part of the batch may have gone, the rest may not.
        *connection = None;
        let delay = backoff.next_delay();
        ComponentError {
            what: &format!("sending to {}; retrying in {delay:.1?}", destination.address()),
            error: &format!("{err:#}"),
        }
        .emit(&ctx.metrics);
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = &mut give_up => return false,
        }
    }
}
