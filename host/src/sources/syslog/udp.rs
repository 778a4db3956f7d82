//! UDP for the syslog source: one datagram is one message (RFC 5426).
//!
//! UDP has no flow control: while the pipeline is busy, datagrams wait in
//! the socket's receive buffer, and when it is full the kernel drops them.
//! The source asks for a large buffer, and on Linux it reads the socket's
//! count of drops (`SO_MEMINFO`) every second and once at shutdown, from a
//! task of its own: each increase is logged and counted as `lost` (events
//! that never reached the router, not errors), even when the source is
//! stuck waiting for the pipeline and no later datagram arrives.

use super::Decoding;
use crate::internal_events::{InternalEvent, PeerError, UdpDropped};
use crate::metrics::ComponentMetrics;
use crate::sources::SourceContext;
use crate::sources::driver::{self, Next, Reader};
use crate::sources::malformed::Malformed;
use anyhow::Context;
use socket2::{Domain, Protocol, Socket, Type};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::UdpSocket;

/// A pause after a failed receive, so that a lasting failure does not spin.
const ERROR_PAUSE: Duration = Duration::from_millis(10);

/// How often the socket's drop count is read.
#[cfg(target_os = "linux")]
const DROPS_EVERY: Duration = Duration::from_secs(1);

/// A UDP socket bound to `address` with a receive buffer of (up to)
/// `receive_buffer_bytes`.
pub(super) fn bind(address: SocketAddr, receive_buffer_bytes: usize) -> anyhow::Result<UdpSocket> {
    let socket =
        Socket::new(Domain::for_address(address), Type::DGRAM, Some(Protocol::UDP)).context("creating a UDP socket")?;
    // The kernel silently caps the size at net.core.rmem_max; what was
    // granted is logged below.
    socket.set_recv_buffer_size(receive_buffer_bytes).context("setting the UDP receive buffer size")?;
    socket.set_nonblocking(true).context("making the UDP socket non-blocking")?;
    socket.bind(&address.into()).with_context(|| format!("binding {address}"))?;
    let granted = socket.recv_buffer_size().unwrap_or(0);
    tracing::debug!(%address, asked = receive_buffer_bytes, granted, "UDP receive buffer");
    UdpSocket::from_std(socket.into()).context("registering the UDP socket")
}

/// Receive datagrams until shutdown.
pub(super) async fn serve(
    socket: UdpSocket,
    max_message_bytes: usize,
    decoding: Decoding,
    ctx: SourceContext,
) -> anyhow::Result<()> {
    let local = socket.local_addr().map(|a| a.to_string()).unwrap_or_default();
    let socket = Arc::new(socket);
    #[cfg(target_os = "linux")]
    let drops = tokio::spawn(watch_drops(socket.clone(), local.clone(), ctx.clone()));
    let datagrams = Datagrams {
        socket,
        // One byte more than allowed, so that a datagram of more is seen as
        // such even where the kernel does not tell the full length.
        buf: vec![0; max_message_bytes + 1],
        max_message_bytes,
        local,
        peer: String::new(),
        id: ctx.id.clone(),
        metrics: ctx.metrics.clone(),
        decoding,
    };
    let read = driver::run(datagrams, ctx).await;
    #[cfg(target_os = "linux")]
    drops.await.context("the task counting UDP drops failed")?;
    read
}

/// The datagrams of a socket, as events.
struct Datagrams {
    socket: Arc<UdpSocket>,
    buf: Vec<u8>,
    max_message_bytes: usize,
    /// The socket's own address, for errors.
    local: String,
    /// The sender of the last datagram, `ip:port`; its buffer is reused.
    peer: String,
    id: Arc<str>,
    metrics: Arc<ComponentMetrics>,
    decoding: Decoding,
}

impl Reader for Datagrams {
    type Position = ();

    async fn next(&mut self) -> Next<'_, ()> {
        loop {
            let datagram = match receive(&self.socket, &mut self.buf).await {
                Ok(datagram) => datagram,
                Err(err) => {
                    let what = format!("receiving a syslog datagram on {}", self.local);
                    PeerError { kind: "receive", what: &what, error: &err }.emit(&self.metrics);
                    tokio::time::sleep(ERROR_PAUSE).await;
                    continue;
                }
            };
            self.peer.clear();
            let _ = write!(self.peer, "{}", datagram.peer);
            let max = self.max_message_bytes;
            if datagram.len <= max {
                return Next::Event(super::event(&self.buf[..datagram.len], &self.id, &self.peer, self.decoding), ());
            }
            let reason = format!(
                "syslog datagram of {} bytes from {} exceeds max_message_bytes ({max}); only its first {max} bytes \
                 are kept",
                datagram.len, self.peer,
            );
            return Next::Malformed(Malformed { peer: &self.peer, head: &self.buf[..max], reason });
        }
    }
}

/// Read the socket's drop count every [`DROPS_EVERY`] and once at shutdown,
/// counting each increase as lost. A task of its own, so that a loss is
/// reported while the receiving loop waits for the pipeline.
#[cfg(target_os = "linux")]
async fn watch_drops(socket: Arc<UdpSocket>, local: String, ctx: SourceContext) {
    use std::os::fd::AsRawFd;
    let mut seen = 0u32;
    let mut report = || match linux::drops(socket.as_raw_fd()) {
        Ok(total) => {
            // The count wraps at 2^32; a difference is right across the wrap.
            let lost = total.wrapping_sub(seen);
            seen = total;
            if lost == 0 {
                return;
            }
            UdpDropped {
                count: u64::from(lost),
                what: &format!(
                    "{lost} syslog datagrams to {local} were lost: the receive buffer was full (raise \
                     receive_buffer_bytes and net.core.rmem_max)"
                ),
            }
            .emit(&ctx.metrics);
        }
        Err(err) => PeerError { kind: "drop count", what: "reading the UDP socket's drop count", error: &err }
            .emit(&ctx.metrics),
    };
    let mut every = tokio::time::interval(DROPS_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = ctx.shutdown.cancelled() => break,
            _ = every.tick() => report(),
        }
    }
    report();
}

/// One received datagram; its first bytes are in the caller's buffer.
#[derive(Debug)]
struct Datagram {
    /// Its whole length, which may exceed the buffer.
    len: usize,
    peer: SocketAddr,
}

#[cfg(target_os = "linux")]
async fn receive(socket: &UdpSocket, buf: &mut [u8]) -> std::io::Result<Datagram> {
    use std::os::fd::AsRawFd;
    socket.async_io(tokio::io::Interest::READABLE, || linux::receive(socket.as_raw_fd(), buf)).await
}

#[cfg(not(target_os = "linux"))]
async fn receive(socket: &UdpSocket, buf: &mut [u8]) -> std::io::Result<Datagram> {
    let (len, peer) = socket.recv_from(buf).await?;
    Ok(Datagram { len, peer })
}

/// `recvmsg(2)` with `MSG_TRUNC` (the whole length), and `getsockopt` of
/// `SO_MEMINFO` (the drop count): neither std nor tokio expose them.
#[cfg(target_os = "linux")]
mod linux {
    use super::Datagram;
    use std::io;
    use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
    use std::os::fd::RawFd;

    /// `SO_MEMINFO` (Linux 3.17+; the same number on every architecture but
    /// SPARC), which the libc crate does not export.
    #[cfg(not(target_arch = "sparc64"))]
    const SO_MEMINFO: libc::c_int = 55;
    #[cfg(target_arch = "sparc64")]
    const SO_MEMINFO: libc::c_int = 0x39;

    /// The socket's running count of dropped datagrams (`SK_MEMINFO_DROPS`).
    pub fn drops(fd: RawFd) -> io::Result<u32> {
        let mut info = [0u32; 16];
        let mut len = size_of_val(&info) as libc::socklen_t;
        // SAFETY: a pointer to a local array and its size; the kernel writes at most `len` bytes.
        let result =
            unsafe { libc::getsockopt(fd, libc::SOL_SOCKET, SO_MEMINFO, info.as_mut_ptr().cast(), &raw mut len) };
        if result != 0 {
            return Err(io::Error::last_os_error());
        }
        let at = libc::SK_MEMINFO_DROPS as usize;
        if (len as usize) < (at + 1) * size_of::<u32>() {
            return Err(io::Error::other("SO_MEMINFO returned no drop count"));
        }
        Ok(info[at])
    }

    /// Receive one datagram without blocking (`WouldBlock` when none waits).
    pub fn receive(fd: RawFd, buf: &mut [u8]) -> io::Result<Datagram> {
        // SAFETY (all blocks below): every pointer handed to the kernel
        // points to a live local of the size given with it; the kernel fills
        // at most those sizes.
        let mut peer: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
        let mut iov = libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() };
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_name = (&raw mut peer).cast();
        msg.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        msg.msg_iov = &raw mut iov;
        msg.msg_iovlen = 1;
        let len = unsafe { libc::recvmsg(fd, &raw mut msg, libc::MSG_TRUNC | libc::MSG_DONTWAIT) };
        if len < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Datagram { len: len as usize, peer: socket_addr(&peer)? })
    }

    fn socket_addr(storage: &libc::sockaddr_storage) -> io::Result<SocketAddr> {
        match libc::c_int::from(storage.ss_family) {
            libc::AF_INET => {
                // SAFETY: the family says the storage holds a sockaddr_in.
                let v4 = unsafe { &*(&raw const *storage).cast::<libc::sockaddr_in>() };
                let ip = Ipv4Addr::from(u32::from_be(v4.sin_addr.s_addr));
                Ok(SocketAddr::V4(SocketAddrV4::new(ip, u16::from_be(v4.sin_port))))
            }
            libc::AF_INET6 => {
                // SAFETY: the family says the storage holds a sockaddr_in6.
                let v6 = unsafe { &*(&raw const *storage).cast::<libc::sockaddr_in6>() };
                let ip = Ipv6Addr::from(v6.sin6_addr.s6_addr);
                let port = u16::from_be(v6.sin6_port);
                Ok(SocketAddr::V6(SocketAddrV6::new(ip, port, v6.sin6_flowinfo, v6.sin6_scope_id)))
            }
            family => Err(io::Error::other(format!("a datagram from an address of family {family}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{config, start};
    use crate::sources::batcher::BatchConfig;
    use std::time::Duration;
    use tokio::net::UdpSocket;

    fn batch(max_events: usize) -> BatchConfig {
        BatchConfig { max_events, timeout: Duration::from_millis(20) }
    }

    #[tokio::test]
    async fn each_datagram_is_one_message() {
        let mut source = start(config("udp", ""), batch(100), 16).await;
        let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let peer = client.local_addr().unwrap().to_string();
        let rfc5424 = "<14>1 2026-11-26T10:00:00.5+01:00 agent-host claude 42 tool [a@1 k=\"v \\\"q\\\"\"] ran tool";
        client.send_to(rfc5424.as_bytes(), source.address).await.unwrap();
        // No framing over UDP: a newline inside is part of the message.
        client.send_to(b"<13>Nov 26 10:00:01 host app: two\nlines", source.address).await.unwrap();
        let events = source.events(2).await;
        assert_eq!(events[0]["message"], "ran tool");
        assert_eq!(events[0]["syslog"]["timestamp"], "2026-11-26T10:00:00.5+01:00");
        assert_eq!(events[0]["syslog"]["structured_data"]["a@1"]["k"], "v \"q\"");
        assert_eq!(events[0]["source"]["address"], peer);
        assert_eq!(events[1]["message"], "two\nlines");
        assert_eq!(events[1]["syslog"]["format"], "rfc3164");
        assert_eq!(source.stop().await, Vec::<serde_json::Value>::new());
    }

    #[tokio::test]
    async fn an_oversized_datagram_goes_to_the_dead_letter_with_its_length() {
        let mut source = start(config("udp", "max_message_bytes = 32"), batch(100), 16).await;
        let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        client.send_to(&[b'y'; 1000], source.address).await.unwrap();
        client.send_to(b"<13>small", source.address).await.unwrap();
        assert_eq!(source.events(1).await[0]["message"], "small");
        let dead = source.stop().await;
        assert_eq!(dead.len(), 1, "{dead:#?}");
        let reason = dead[0]["reason"].as_str().unwrap();
        assert!(reason.contains("datagram of 1000 bytes from 127.0.0.1:"), "{reason}");
        assert_eq!(dead[0]["event"]["message"], "y".repeat(32));
    }

    /// Datagrams that arrive while the pipeline is stuck and the buffer is
    /// full are lost: the loss is counted as such (not as an error) from the
    /// socket's drop counter, read on a timer, so no later datagram is
    /// needed to report it.
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn datagrams_lost_to_a_full_receive_buffer_are_counted_without_a_later_datagram() {
        let config = config("udp", "receive_buffer_bytes = 4096");
        let mut source = start(config, batch(1), 1).await;
        let metrics = source.metrics.clone();
        let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        // The pipeline takes one batch, the source holds one more while it
        // waits: the rest stays in (and overflows) the socket buffer.
        let sent = 200;
        for i in 0..sent {
            client.send_to(format!("<13>message {i} {}", "z".repeat(500)).as_bytes(), source.address).await.unwrap();
        }
        // Nothing more is sent and nothing is read yet: the report comes from the timer.
        let deadline = tokio::time::Instant::now() + super::super::tests::WAIT;
        while metrics.counts().lost == 0 {
            assert!(tokio::time::Instant::now() < deadline, "the loss is reported: {:?}", metrics.counts());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let mut received = 0;
        while let Ok(Some(batch)) = tokio::time::timeout(Duration::from_millis(500), source.batches.recv()).await {
            received += batch.len();
        }
        assert!(received < sent, "some were lost: {received}");
        source.stop().await;
        let counts = metrics.counts();
        assert_eq!(counts.errors, 0, "a loss is not an error: {counts:?}");
        assert_eq!(counts.received, received as u64);
        assert_eq!(counts.received + counts.lost, sent as u64, "every datagram is received or counted lost");
    }
}
