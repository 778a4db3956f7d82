//! `latency`: end-to-end latency of a log router at a fixed offered rate.
//!
//! What it measures: for each event, the time from the moment the tool hands
//! it to the kernel (just before the `write` on the input connection) to the
//! moment the router's output line carrying it is read back (just after the
//! `read` on an output connection returns). Both instants come from one
//! monotonic clock in one process, so there is no clock skew. The figure
//! therefore covers the router's parsing, batching (a sluice batch waits up
//! to its timeout for more events), plugins, sink writes and the two
//! loopback hops; it does not include the tool's own framing.
//!
//! How: it listens on `--out-port` (127.0.0.1, any number of connections,
//! LF-framed lines, as the shared harness's `sink`), connects to
//! `--in-port` (retrying until the router listens), waits `--settle-ms`, and
//! then sends `--count` events (or `--secs` × `--rate`) from the shared
//! harness corpus, cycling it, as octet-counted RFC 5424 framed exactly like
//! the harness's `loadgen` does (`<134>1 TS agenthost-NN AGENT - - - JSON`),
//! except that each event's `event_id` value is replaced by `lat-<seq>`.
//! That tag survives both pipelines: P0 forwards the JSON unchanged
//! (`"event_id":"lat-<seq>"`), P1 writes it as `externalId=lat-<seq>` in the
//! CEF line. The receiver finds the tag in every line it reads.
//!
//! Pacing is open-loop on a fixed schedule: event `seq` is due at
//! `start + seq / rate`; every `--tick-us` (1 ms) the sender writes all the
//! events that have become due since the last burst, so sleeping late or a
//! blocked write never makes the rate drift (the next burst catches up).
//! How late the sender was against that schedule is reported as "sender lag"
//! (about half a tick on average by design, more when the tool is not
//! scheduled in time or a write blocks); the "latency from schedule" line adds
//! it to the latency (what a source producing events on the schedule would
//! see if the router pushed back).
//! `TCP_NODELAY` is set on the input connection so Nagle does not hold bursts.
//!
//! Output: the rate asked and achieved, events sent / received / lost, the
//! latency p50/p90/p99/p99.9/max in milliseconds, and one `latency k=v ...`
//! line for scripts. Exit status 1 if any event was lost (or not all could be
//! sent), 2 on usage or connection errors.
//!
//! Run it through `bench/latency.sh [PIPELINE] [RATE] [SECS]`, which builds
//! it, starts sluice with `bench/peer/start.sh` and stops it again; by hand:
//!
//! ```text
//! CARGO_TARGET_DIR=target/bench-latency cargo build --release \
//!     --manifest-path bench/latency/Cargo.toml
//! target/bench-latency/release/latency --corpus corpus.jsonl \
//!     --in-port 15140 --out-port 15141 --rate 10000 --secs 10
//! ```
//! (start it first, then the router: the router's output must find the
//! listener.) Standard library only.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

const USAGE: &str = "usage: latency --corpus FILE --in-port PORT --out-port PORT
               [--rate 10000] [--secs 10 | --count N] [--tick-us 1000]
               [--settle-ms 1000] [--connect-secs 60] [--wait-secs 10] [--label TEXT]";

/// Events written per `write` at most, so a send time is never far from the
/// moment its bytes went to the socket, even when the sender has to catch up.
const MAX_BURST: u64 = 256;

/// Minimal `--key value` / `--key=value` argument parser (as the harness's).
struct Args(Vec<String>);

impl Args {
    fn get(&self, key: &str) -> Option<String> {
        let mut it = self.0.iter();
        while let Some(a) = it.next() {
            if a == key {
                return it.next().cloned();
            }
            if let Some(v) = a.strip_prefix(key).and_then(|r| r.strip_prefix('=')) {
                return Some(v.to_string());
            }
        }
        None
    }
    fn get_or<T: std::str::FromStr>(&self, key: &str, default: T) -> T {
        match self.get(key) {
            Some(v) => v.parse().unwrap_or_else(|_| die(2, &format!("bad value for {key}: {v}"))),
            None => default,
        }
    }
}

fn die(code: i32, msg: &str) -> ! {
    eprintln!("latency: {msg}");
    std::process::exit(code)
}

/// Value of the first `"key":"value"` occurrence (as loadgen reads it).
fn json_str<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let pat = format!("\"{key}\":\"");
    let i = line.find(&pat)? + pat.len();
    let j = line[i..].find('"')?;
    Some(&line[i..i + j])
}

/// One corpus event as an RFC 5424 message, split around its `event_id`
/// value: the message is `head` + `lat-<seq>` + `tail`.
struct Template {
    head: Vec<u8>,
    tail: Vec<u8>,
}

fn load_corpus(path: &str) -> Vec<Template> {
    let f = std::fs::File::open(path).unwrap_or_else(|e| die(2, &format!("open {path}: {e}")));
    let mut out = Vec::new();
    for (i, line) in BufReader::new(f).lines().enumerate() {
        let line = line.unwrap_or_else(|e| die(2, &format!("read {path}: {e}")));
        if line.is_empty() {
            continue;
        }
        // The same header loadgen writes (its index `i` counts every line).
        let ts = json_str(&line, "ts").unwrap_or("-");
        let app = line.find("\"agent\":{").and_then(|p| json_str(&line[p..], "id")).unwrap_or("-");
        let msg = format!("<134>1 {ts} agenthost-{:02} {app} - - - {line}", i % 16);
        let pat = "\"event_id\":\"";
        let start = msg
            .find(pat)
            .map(|p| p + pat.len())
            .unwrap_or_else(|| die(2, &format!("corpus line {} has no event_id", i + 1)));
        let end = start + msg[start..].find('"').unwrap_or_else(|| die(2, "unterminated event_id"));
        out.push(Template { head: msg.as_bytes()[..start].to_vec(), tail: msg.as_bytes()[end..].to_vec() });
    }
    if out.is_empty() {
        die(2, "empty corpus");
    }
    out
}

fn digits(mut n: u64) -> usize {
    let mut d = 1;
    while n >= 10 {
        n /= 10;
        d += 1;
    }
    d
}

/// Append event `seq` octet-counted: `LEN SP MSG`.
fn frame(buf: &mut Vec<u8>, t: &Template, seq: u64) {
    let len = t.head.len() + 4 + digits(seq) + t.tail.len();
    write!(buf, "{len} ").unwrap();
    buf.extend_from_slice(&t.head);
    write!(buf, "lat-{seq}").unwrap();
    buf.extend_from_slice(&t.tail);
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Leading decimal digits of `s` as a number, if there is at least one.
fn leading_number(s: &[u8]) -> Option<u64> {
    let n = s.iter().take_while(|b| b.is_ascii_digit()).count();
    if n == 0 || n > 19 {
        return None;
    }
    std::str::from_utf8(&s[..n]).ok()?.parse().ok()
}

/// The `<seq>` of the `lat-<seq>` tag in an output line: where the pipelines
/// put it first (P1's `externalId=`, P0's raw JSON), then anywhere.
fn find_seq(line: &[u8]) -> Option<u64> {
    for pat in [&b"externalId=lat-"[..], &b"\"event_id\":\"lat-"[..]] {
        if let Some(i) = find(line, pat) {
            if let Some(n) = leading_number(&line[i + pat.len()..]) {
                return Some(n);
            }
        }
    }
    let mut from = 0;
    while let Some(i) = find(&line[from..], b"lat-") {
        let at = from + i + 4;
        if let Some(n) = leading_number(&line[at..]) {
            return Some(n);
        }
        from = at;
    }
    None
}

/// What the receivers record; times are nanoseconds since `base`.
struct Shared {
    base: Instant,
    /// Receive time per seq, 0 while not received.
    recv_ns: Vec<AtomicU64>,
    received: AtomicU64,
    duplicates: AtomicU64,
    unmatched: AtomicU64,
    conns: AtomicU64,
}

impl Shared {
    fn now_ns(&self) -> u64 {
        (self.base.elapsed().as_nanos() as u64).max(1)
    }
    fn line(&self, line: &[u8], t: u64) {
        match find_seq(line) {
            Some(seq) if (seq as usize) < self.recv_ns.len() => {
                if self.recv_ns[seq as usize].compare_exchange(0, t, Relaxed, Relaxed).is_ok() {
                    self.received.fetch_add(1, Relaxed);
                } else {
                    self.duplicates.fetch_add(1, Relaxed);
                }
            }
            _ => {
                let n = self.unmatched.fetch_add(1, Relaxed);
                if n < 3 {
                    let show = String::from_utf8_lossy(&line[..line.len().min(160)]);
                    eprintln!("latency: output line without a known lat-<seq> tag: {show}");
                }
            }
        }
    }
}

fn receive(mut s: TcpStream, st: Arc<Shared>) {
    let mut buf = vec![0u8; 1 << 16];
    let mut pending: Vec<u8> = Vec::new();
    loop {
        let n = match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let t = st.now_ns(); // one time for every line completed by this read
        pending.extend_from_slice(&buf[..n]);
        let mut start = 0;
        while let Some(p) = pending[start..].iter().position(|&b| b == b'\n') {
            st.line(&pending[start..start + p], t);
            start += p + 1;
        }
        pending.drain(..start);
    }
    if !pending.is_empty() {
        let t = st.now_ns();
        st.line(&pending, t); // a last line without LF still counts
    }
}

/// Nearest-rank percentile of sorted values.
fn pct(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(ns: u64) -> String {
    format!("{:.3}", ns as f64 / 1e6)
}

fn main() {
    let a = Args(std::env::args().skip(1).collect());
    if a.0.iter().any(|x| x == "-h" || x == "--help") {
        println!("{USAGE}");
        return;
    }
    let corpus = a.get("--corpus").unwrap_or_else(|| die(2, USAGE));
    let in_port: u16 = a.get("--in-port").map(|_| a.get_or("--in-port", 0)).unwrap_or_else(|| die(2, USAGE));
    let out_port: u16 = a.get("--out-port").map(|_| a.get_or("--out-port", 0)).unwrap_or_else(|| die(2, USAGE));
    let rate: f64 = a.get_or("--rate", 10_000.0);
    if !rate.is_finite() || rate <= 0.0 {
        die(2, "--rate must be > 0");
    }
    let count: u64 = match a.get("--count") {
        Some(_) => a.get_or("--count", 0),
        None => (a.get_or("--secs", 10.0) * rate).round() as u64,
    };
    if count == 0 || count > 50_000_000 {
        die(2, "--count (or --secs × --rate) must be 1..=50,000,000");
    }
    let tick = Duration::from_micros(a.get_or::<u64>("--tick-us", 1000).max(50));
    let settle = Duration::from_millis(a.get_or("--settle-ms", 1000));
    let connect_for = Duration::from_secs_f64(a.get_or("--connect-secs", 60.0));
    let wait_for = Duration::from_secs_f64(a.get_or("--wait-secs", 10.0));
    let label = a.get("--label");

    let templates = load_corpus(&corpus);
    let st = Arc::new(Shared {
        base: Instant::now(),
        recv_ns: (0..count).map(|_| AtomicU64::new(0)).collect(),
        received: AtomicU64::new(0),
        duplicates: AtomicU64::new(0),
        unmatched: AtomicU64::new(0),
        conns: AtomicU64::new(0),
    });

    // The output side first: the router's sink must find us listening.
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, out_port))
        .unwrap_or_else(|e| die(2, &format!("listen on 127.0.0.1:{out_port}: {e}")));
    eprintln!("latency: listening on {}", listener.local_addr().unwrap());
    {
        let st = st.clone();
        std::thread::spawn(move || {
            for s in listener.incoming() {
                let Ok(s) = s else { continue };
                st.conns.fetch_add(1, Relaxed);
                let st = st.clone();
                std::thread::spawn(move || receive(s, st));
            }
        });
    }

    // Then the input side, retried until the router listens.
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, in_port));
    let began = Instant::now();
    let mut s = loop {
        match TcpStream::connect(addr) {
            Ok(s) => break s,
            Err(e) if began.elapsed() < connect_for => {
                if e.kind() != std::io::ErrorKind::ConnectionRefused {
                    eprintln!("latency: connect {addr}: {e} (retrying)");
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => die(2, &format!("connect {addr}: {e} (gave up after {connect_for:?})")),
        }
    };
    s.set_nodelay(true).ok();
    eprintln!("latency: connected to {addr}; settling {settle:?}, then {count} events at {rate}/s");
    std::thread::sleep(settle);

    // ---- send on a fixed schedule: event q is due at t0 + q / rate
    let mut send_ns = vec![0u64; count as usize];
    let mut buf: Vec<u8> = Vec::with_capacity(1 << 20);
    let t0 = st.now_ns();
    let t0_i = Instant::now();
    let mut seq = 0u64;
    let mut ticks = 0u64;
    let mut write_error = None;
    'send: while seq < count {
        let el = t0_i.elapsed().as_secs_f64();
        let due = ((el * rate).floor() as u64 + 1).min(count);
        while seq < due {
            let upto = due.min(seq + MAX_BURST);
            buf.clear();
            for q in seq..upto {
                frame(&mut buf, &templates[(q % templates.len() as u64) as usize], q);
            }
            let t = st.now_ns();
            send_ns[seq as usize..upto as usize].fill(t);
            if let Err(e) = s.write_all(&buf) {
                write_error = Some(e);
                break 'send;
            }
            seq = upto;
        }
        ticks += 1;
        let next = t0_i + Duration::from_nanos(tick.as_nanos() as u64 * ticks);
        let now = Instant::now();
        if next > now {
            std::thread::sleep(next - now);
        } else {
            // Behind (slept late or a write blocked): resume ticking from now.
            ticks = (now.duration_since(t0_i).as_nanos() / tick.as_nanos()) as u64;
        }
    }
    let sent = seq;
    let t_last_send = if sent > 0 { send_ns[sent as usize - 1] } else { t0 };
    if let Some(e) = &write_error {
        eprintln!("latency: write error after {sent} events: {e}");
    }
    let _ = s.flush();

    // ---- wait for the output: everything sent, or --wait-secs after the last send
    let wait_start = Instant::now();
    while st.received.load(Relaxed) < sent && wait_start.elapsed() < wait_for {
        std::thread::sleep(Duration::from_millis(1));
    }
    let waited = wait_start.elapsed();
    let _ = s.shutdown(std::net::Shutdown::Write);

    // ---- results
    let ns_per_ev = 1e9 / rate;
    let mut lat = Vec::with_capacity(sent as usize);
    let mut lat_sched = Vec::with_capacity(sent as usize);
    let mut lag = Vec::with_capacity(sent as usize);
    let (mut first_recv, mut last_recv) = (u64::MAX, 0u64);
    for (q, (&sent_at, recv)) in send_ns.iter().zip(&st.recv_ns).take(sent as usize).enumerate() {
        let sched = t0 + (q as f64 * ns_per_ev) as u64;
        lag.push(sent_at.saturating_sub(sched));
        let r = recv.load(Relaxed);
        if r != 0 {
            lat.push(r.saturating_sub(sent_at));
            lat_sched.push(r.saturating_sub(sched));
            first_recv = first_recv.min(r);
            last_recv = last_recv.max(r);
        }
    }
    lat.sort_unstable();
    lat_sched.sort_unstable();
    lag.sort_unstable();
    let received = lat.len() as u64;
    let lost = sent - received;
    let send_secs = (t_last_send - t0) as f64 / 1e9;
    let achieved = if sent > 1 && send_secs > 0.0 { (sent - 1) as f64 / send_secs } else { 0.0 };
    let deliv_secs = last_recv.saturating_sub(t0) as f64 / 1e9;
    let delivered = if received > 0 && deliv_secs > 0.0 { received as f64 / deliv_secs } else { 0.0 };
    let (dups, unmatched, conns) = (st.duplicates.load(Relaxed), st.unmatched.load(Relaxed), st.conns.load(Relaxed));
    let ps = [50.0, 90.0, 99.0, 99.9];
    let row = |v: &[u64]| {
        let mut s: String = ps.iter().map(|&p| format!("  p{p}={}", ms(pct(v, p)))).collect();
        s.push_str(&format!("  max={}", ms(v.last().copied().unwrap_or(0))));
        s
    };

    println!();
    if let Some(l) = &label {
        println!("== latency: {l}");
    }
    println!(
        "rate       asked {rate:.0}/s  achieved {achieved:.0}/s (sent over {send_secs:.3} s)  delivered {delivered:.0}/s"
    );
    println!(
        "events     sent {sent}/{count}  received {received}  lost {lost}  duplicates {dups}  unmatched lines {unmatched}  output conns {conns}"
    );
    if received > 0 {
        println!("latency ms{}", row(&lat));
        println!("  from schedule (incl. sender lag){}", row(&lat_sched));
    } else {
        println!("latency ms  (nothing received)");
    }
    println!(
        "sender lag ms  p50={}  p99={}  max={}  (how late sends were against the schedule)",
        ms(pct(&lag, 50.0)),
        ms(pct(&lag, 99.0)),
        ms(lag.last().copied().unwrap_or(0))
    );
    if lost > 0 {
        println!("LOST {lost} events (waited {:.1} s after the last send)", waited.as_secs_f64());
    }
    println!(
        "latency rate={rate:.0} achieved={achieved:.0} delivered={delivered:.0} sent={sent} received={received} lost={lost} dups={dups} unmatched={unmatched} p50_ms={} p90_ms={} p99_ms={} p999_ms={} max_ms={} lag_max_ms={}",
        ms(pct(&lat, 50.0)),
        ms(pct(&lat, 90.0)),
        ms(pct(&lat, 99.0)),
        ms(pct(&lat, 99.9)),
        ms(lat.last().copied().unwrap_or(0)),
        ms(lag.last().copied().unwrap_or(0))
    );
    std::process::exit(if lost > 0 || sent < count { 1 } else { 0 });
}
