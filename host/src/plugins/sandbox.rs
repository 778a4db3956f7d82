//! What a plugin instance can reach: the contract's imports (`log`, and in
//! 0.3 `clock` and `state`, see [`Grants`]), and the WASI surface that
//! language runtimes link against, with nothing behind it.
//!
//! Rust's std, Python and JavaScript components import WASI interfaces even
//! when a plugin never uses them, so the host links WASI 0.2 but grants no
//! preopened directories, no environment, no arguments, no sockets, and
//! clocks frozen at the epoch (the contract's own `clock` is the one a plugin
//! reads, so that tests can freeze it by config). A guest may
//! still wait on the monotonic clock (a `sleep`), but no longer than its
//! call's wall-clock ceiling (see [`super::deadline`]). Random numbers
//! stay available because language runtimes seed their hash tables with them.
//! Whatever the guest prints goes to the router's log, and the last line
//! printed (a Rust panic message, a Python traceback) is quoted in the reason
//! of a failed batch.

use super::deadline::CallClock;
use super::state::{StateError, StateLimits, StateStore};
use super::worlds::{v02, v03};
use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::OnceLock;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime};
use wasmtime::ResourceLimiter;
use wasmtime::component::{HasData, Linker, Resource, ResourceTable};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::clocks::{WasiClocksCtxView, WasiClocksView};
use wasmtime_wasi::p2::DynPollable;
use wasmtime_wasi::p2::bindings::clocks::monotonic_clock;
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

/// The data of one plugin instance's `Store`.
pub struct HostState {
    component: Arc<str>,
    pub(super) limiter: MemoryLimiter,
    pub(super) clock: CallClock,
    grants: Grants,
    wasi: WasiCtx,
    table: ResourceTable,
}

/// What a 0.3 instance is granted beyond the sandbox: the clock it reads and
/// its transform's state store (shared by the transform's instances).
#[derive(Debug, Clone)]
pub struct Grants {
    pub clock: PluginClock,
    pub state: Arc<StateStore>,
}

impl Default for Grants {
    /// The real clock and a store in memory only, for instances nothing
    /// outlives (`plugin check`, tests).
    fn default() -> Self {
        Grants { clock: PluginClock::Real, state: Arc::new(StateStore::in_memory(StateLimits::default())) }
    }
}

/// The clock behind the contract's `clock` import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PluginClock {
    Real,
    /// Always this instant, and a monotonic clock at zero: `[plugins]
    /// frozen_clock`, for repeatable tests of time-dependent plugins.
    Frozen(SystemTime),
}

impl PluginClock {
    fn now(self) -> v03::sluice::plugin::clock::Datetime {
        let now = match self {
            PluginClock::Real => SystemTime::now(),
            PluginClock::Frozen(at) => at,
        };
        // A clock set before 1970 reads as the epoch.
        let since = now.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
        v03::sluice::plugin::clock::Datetime { seconds: since.as_secs(), nanoseconds: since.subsec_nanos() }
    }

    fn monotonic(self) -> u64 {
        static START: OnceLock<Instant> = OnceLock::new();
        match self {
            PluginClock::Real => START.get_or_init(Instant::now).elapsed().as_nanos() as u64,
            PluginClock::Frozen(_) => 0,
        }
    }
}

impl HostState {
    pub fn new(component: &str, limiter: MemoryLimiter, clock: CallClock, output: GuestOutput, grants: Grants) -> Self {
        let wasi = WasiCtxBuilder::new()
            .stdout(output.clone())
            .stderr(output)
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .wall_clock(FrozenClock)
            .monotonic_clock(FrozenClock)
            .build();
        HostState { component: component.into(), limiter, clock, grants, wasi, table: ResourceTable::new() }
    }

    /// The transform that runs this instance.
    pub fn component(&self) -> &str {
        &self.component
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

/// Replace the WASI monotonic clock's waits in `linker` (after WASI was
/// linked) with waits that end at the current call's wall-clock ceiling: the
/// epoch deadline interrupts only the guest's own code, never a wait in the
/// host, so without this a guest could hold its worker for as long as it
/// asked to sleep.
pub fn bound_clock_waits(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let linked = monotonic_clock::add_to_linker::<HostState, BoundedWaits>(linker, |state| BoundedWaitsView {
        wall_left: state.clock.wall_left(),
        clocks: state.clocks(),
    });
    linker.allow_shadowing(false);
    linked
}

struct BoundedWaits;

impl HasData for BoundedWaits {
    type Data<'a> = BoundedWaitsView<'a>;
}

struct BoundedWaitsView<'a> {
    clocks: WasiClocksCtxView<'a>,
    wall_left: Duration,
}

impl BoundedWaitsView<'_> {
    fn bounded(&self, nanos: u64) -> u64 {
        nanos.min(self.wall_left.as_nanos().try_into().unwrap_or(u64::MAX))
    }
}

impl monotonic_clock::Host for BoundedWaitsView<'_> {
    fn now(&mut self) -> wasmtime::Result<monotonic_clock::Instant> {
        self.clocks.now()
    }

    fn resolution(&mut self) -> wasmtime::Result<monotonic_clock::Duration> {
        self.clocks.resolution()
    }

    fn subscribe_instant(&mut self, when: monotonic_clock::Instant) -> wasmtime::Result<Resource<DynPollable>> {
        let wait = when.saturating_sub(self.clocks.now()?);
        self.clocks.subscribe_duration(self.bounded(wait))
    }

    fn subscribe_duration(&mut self, wait: monotonic_clock::Duration) -> wasmtime::Result<Resource<DynPollable>> {
        self.clocks.subscribe_duration(self.bounded(wait))
    }
}

impl HostState {
    fn log(&self, level: tracing::Level, message: String, fields: Vec<(String, String)>) {
        let fields: String = fields.iter().map(|(k, v)| format!(" {k}={v:?}")).collect();
        let (message, fields) = (super::guest_text::bounded(message), super::guest_text::bounded(fields));
        let component = &*self.component;
        match level {
            tracing::Level::TRACE => tracing::trace!(component, "plugin: {message}{fields}"),
            tracing::Level::DEBUG => tracing::debug!(component, "plugin: {message}{fields}"),
            tracing::Level::INFO => tracing::info!(component, "plugin: {message}{fields}"),
            tracing::Level::WARN => tracing::warn!(component, "plugin: {message}{fields}"),
            tracing::Level::ERROR => tracing::error!(component, "plugin: {message}{fields}"),
        }
    }
}

/// The `log` import of each contract version: the same interface, a
/// distinct generated type per version.
macro_rules! log_host {
    ($($world:ident),+) => {$(
        impl $world::sluice::plugin::log::Host for HostState {
            fn log(&mut self, level: $world::sluice::plugin::log::Level, message: String, fields: Vec<(String, String)>) {
                use $world::sluice::plugin::log::Level;
                let level = match level {
                    Level::Trace => tracing::Level::TRACE,
                    Level::Debug => tracing::Level::DEBUG,
                    Level::Info => tracing::Level::INFO,
                    Level::Warn => tracing::Level::WARN,
                    Level::Error => tracing::Level::ERROR,
                };
                HostState::log(self, level, message, fields)
            }
        }
    )+};
}

log_host!(v02, v03);

impl v03::sluice::plugin::clock::Host for HostState {
    fn now(&mut self) -> v03::sluice::plugin::clock::Datetime {
        self.grants.clock.now()
    }

    fn monotonic(&mut self) -> u64 {
        self.grants.clock.monotonic()
    }
}

impl v03::sluice::plugin::state::Host for HostState {
    fn get(&mut self, key: String) -> Option<Vec<u8>> {
        self.grants.state.get(&key)
    }

    fn set(&mut self, key: String, value: Vec<u8>) -> Result<(), v03::sluice::plugin::state::Error> {
        self.grants.state.set(&key, &value).map_err(state_error)
    }

    fn delete(&mut self, key: String) -> Result<(), v03::sluice::plugin::state::Error> {
        self.grants.state.delete(&key).map_err(state_error)
    }

    fn compare_and_swap(
        &mut self,
        key: String,
        expected: Option<Vec<u8>>,
        new: Option<Vec<u8>>,
    ) -> Result<bool, v03::sluice::plugin::state::Error> {
        self.grants.state.compare_and_swap(&key, expected.as_deref(), new.as_deref()).map_err(state_error)
    }
}

fn state_error(err: StateError) -> v03::sluice::plugin::state::Error {
    use v03::sluice::plugin::state::Error;
    let message = err.to_string();
    match err {
        StateError::KeyTooLong { .. } => Error::KeyTooLong(message),
        StateError::ValueTooLarge { .. } => Error::ValueTooLarge(message),
        StateError::Full { .. } => Error::Full(message),
    }
}

/// Caps an instance's linear memory, and remembers that it had to.
#[derive(Debug)]
pub struct MemoryLimiter {
    max_bytes: usize,
    exceeded: bool,
}

impl MemoryLimiter {
    pub fn new(max_bytes: usize) -> Self {
        MemoryLimiter { max_bytes, exceeded: false }
    }

    /// Whether a growth was refused (the cause of the trap that followed).
    pub fn exceeded(&self) -> bool {
        self.exceeded
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > self.max_bytes {
            self.exceeded = true;
            // An error traps at once; refusing (Ok(false)) would let a guest
            // allocator spin on retries until the deadline.
            return Err(wasmtime::Error::msg(format!(
                "memory limit of {} bytes exceeded (wanted {desired})",
                self.max_bytes
            )));
        }
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= 1_000_000)
    }
}

/// Clocks that never move: the contract grants plugins no clock. The wall
/// clock reads the epoch; the monotonic clock reads one second, not zero,
/// because the Go runtime refuses to start on a monotonic clock of zero
/// ("nanotime returning zero").
struct FrozenClock;

impl HostWallClock for FrozenClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }
    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

impl HostMonotonicClock for FrozenClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }
    fn now(&self) -> u64 {
        1_000_000_000
    }
}

/// Keeps what a guest printed until the host forwards it to the log.
#[derive(Debug, Clone, Default)]
pub struct GuestOutput(Arc<Mutex<OutputBuffer>>);

#[derive(Debug, Default)]
struct OutputBuffer {
    pending: Vec<u8>,
    lines: VecDeque<String>,
}

/// A chatty plugin cannot grow the host's memory: older lines are dropped.
const MAX_PENDING_LINES: usize = 64;
const MAX_LINE_BYTES: usize = 4096;

impl GuestOutput {
    fn write(&self, bytes: &[u8]) {
        let mut buf = self.0.lock().expect("guest output lock");
        for &byte in bytes {
            if byte == b'\n' {
                let line = String::from_utf8_lossy(&buf.pending).trim_end().to_owned();
                buf.pending.clear();
                buf.push_line(line);
            } else if buf.pending.len() < MAX_LINE_BYTES {
                buf.pending.push(byte);
            }
        }
    }

    /// Log the lines printed since the last call.
    pub fn forward_to_log(&self, component: &str, plugin: &str) {
        let lines: Vec<String> = self.0.lock().expect("guest output lock").lines.drain(..).collect();
        for line in lines {
            tracing::info!(component, plugin, "plugin printed: {line}");
        }
    }

    /// The last `n` lines printed since output was last forwarded (an
    /// unfinished line included), joined with ` | `: for a Rust panic, its
    /// location and message.
    pub fn tail(&self, n: usize) -> Option<String> {
        let buf = self.0.lock().expect("guest output lock");
        let partial = (!buf.pending.is_empty()).then(|| String::from_utf8_lossy(&buf.pending).trim_end().to_owned());
        let mut lines: Vec<String> = buf.lines.iter().cloned().chain(partial).collect();
        lines.drain(..lines.len().saturating_sub(n));
        (!lines.is_empty()).then(|| lines.join(" | "))
    }
}

impl OutputBuffer {
    fn push_line(&mut self, line: String) {
        // Rust's hint about RUST_BACKTRACE means nothing inside a plugin.
        if line.is_empty() || line.starts_with("note: run with `RUST_BACKTRACE") {
            return;
        }
        if self.lines.len() == MAX_PENDING_LINES {
            self.lines.pop_front();
        }
        self.lines.push_back(line);
    }
}

impl IsTerminal for GuestOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for GuestOutput {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

impl tokio::io::AsyncWrite for GuestOutput {
    fn poll_write(self: Pin<&mut Self>, _cx: &mut Context<'_>, bytes: &[u8]) -> Poll<std::io::Result<usize>> {
        self.write(bytes);
        Poll::Ready(Ok(bytes.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_keeps_the_last_line_and_bounds_the_rest() {
        let out = GuestOutput::default();
        out.write(b"panicked at src/lib.rs:3:\nasked to");
        out.write(b" trap\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n");
        assert_eq!(out.tail(2).as_deref(), Some("panicked at src/lib.rs:3: | asked to trap"));
        for i in 0..200 {
            out.write(format!("line {i}\n").as_bytes());
        }
        assert_eq!(out.0.lock().unwrap().lines.len(), MAX_PENDING_LINES);
        out.write(b"partial");
        assert_eq!(out.tail(2).as_deref(), Some("line 199 | partial"));
    }
}
