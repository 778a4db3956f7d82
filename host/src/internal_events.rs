//! The router's internal events, as Vector's `internal_events` are: each is a
//! small struct whose [`InternalEvent::emit`] updates its counters and writes
//! its log line in one place, so that what `/metrics` counts and what the log
//! says can never drift apart, and a new counter cannot be added without
//! deciding how it is logged.
//!
//! Events a peer can cause at will (bad frames, refused connections, failed
//! handshakes) are counted every time but logged through the component's
//! [`LogLimit`](crate::log_limit::LogLimit), per `kind`, so that a hostile
//! client cannot flood the log.

use crate::metrics::ComponentMetrics;
use std::fmt::Display;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Something that happened in a component: counted and logged by `emit`.
pub trait InternalEvent {
    fn emit(&self, metrics: &ComponentMetrics);
}

/// Events came into the component. Not logged: too frequent to be news.
#[derive(Debug, Clone, Copy)]
pub struct EventsReceived {
    pub count: usize,
}

impl InternalEvent for EventsReceived {
    fn emit(&self, metrics: &ComponentMetrics) {
        metrics.received.fetch_add(self.count as u64, Ordering::Relaxed);
    }
}

/// The component passed events on (a sink: delivered them). Not logged.
#[derive(Debug, Clone, Copy)]
pub struct EventsSent {
    pub count: usize,
}

impl InternalEvent for EventsSent {
    fn emit(&self, metrics: &ComponentMetrics) {
        metrics.sent.fetch_add(self.count as u64, Ordering::Relaxed);
    }
}

/// Events filtered out on purpose (a plugin dropped them, a full buffer
/// with `when_full = "drop_newest"`). Logged at debug level: dropping is
/// what the operator asked for.
#[derive(Debug, Clone, Copy)]
pub struct EventsDropped {
    pub count: usize,
}

impl InternalEvent for EventsDropped {
    fn emit(&self, metrics: &ComponentMetrics) {
        if self.count > 0 {
            metrics.dropped.fetch_add(self.count as u64, Ordering::Relaxed);
            tracing::debug!(component = %metrics.id(), events = self.count, "events dropped on purpose");
        }
    }
}

/// Records dropped by policy under pressure (dead-letter records of bad
/// frames when the dead letter is full): counted as dropped, logged as a
/// warning rate-limited per `kind`.
#[derive(Debug, Clone, Copy)]
pub struct EventsDroppedUnderPressure<'a> {
    pub kind: &'static str,
    pub count: u64,
    pub what: &'a str,
}

impl InternalEvent for EventsDroppedUnderPressure<'_> {
    fn emit(&self, metrics: &ComponentMetrics) {
        if self.count > 0 {
            metrics.dropped.fetch_add(self.count, Ordering::Relaxed);
            if metrics.may_log(self.kind) {
                tracing::warn!(component = %metrics.id(), events = self.count, "{}", self.what);
            }
        }
    }
}

/// Events went to the dead-letter output. One line per batch, not per
/// event: a quarantined plugin at full rate must not make the log the hot path.
#[derive(Debug, Clone, Copy)]
pub struct EventsDeadLettered<'a> {
    pub count: usize,
    pub reason: &'a str,
}

impl InternalEvent for EventsDeadLettered<'_> {
    fn emit(&self, metrics: &ComponentMetrics) {
        if self.count > 0 {
            metrics.dead_lettered.fetch_add(self.count as u64, Ordering::Relaxed);
            tracing::warn!(component = %metrics.id(), events = self.count, reason = %self.reason,
                "events sent to the dead-letter output");
        }
    }
}

/// Records a peer can cause at will (bad frames) went to the dead-letter
/// output: as [`EventsDeadLettered`], with the line rate-limited per `kind`.
#[derive(Debug, Clone, Copy)]
pub struct PeerEventsDeadLettered<'a> {
    pub kind: &'static str,
    pub count: u64,
    pub reason: &'a str,
}

impl InternalEvent for PeerEventsDeadLettered<'_> {
    fn emit(&self, metrics: &ComponentMetrics) {
        if self.count > 0 {
            metrics.dead_lettered.fetch_add(self.count, Ordering::Relaxed);
            if metrics.may_log(self.kind) {
                tracing::warn!(component = %metrics.id(), events = self.count, reason = %self.reason,
                    "events sent to the dead-letter output");
            }
        }
    }
}

/// Something failed in the component: `what` it was doing, and the error.
#[derive(Clone, Copy)]
pub struct ComponentError<'a> {
    pub what: &'a str,
    pub error: &'a dyn Display,
}

impl InternalEvent for ComponentError<'_> {
    fn emit(&self, metrics: &ComponentMetrics) {
        metrics.errors.fetch_add(1, Ordering::Relaxed);
        tracing::error!(component = %metrics.id(), error = %self.error, "{}", self.what);
    }
}

/// Something a peer caused failed (a refused connection, a failed handshake
/// …): counted every time, logged at most a few times per `kind` and window.
#[derive(Clone, Copy)]
pub struct PeerError<'a> {
    pub kind: &'static str,
    pub what: &'a str,
    pub error: &'a dyn Display,
}

impl InternalEvent for PeerError<'_> {
    fn emit(&self, metrics: &ComponentMetrics) {
        metrics.errors.fetch_add(1, Ordering::Relaxed);
        if metrics.may_log(self.kind) {
            tracing::error!(component = %metrics.id(), error = %self.error, "{}", self.what);
        }
    }
}

/// A new version of a plugin was swapped in by hot reload.
#[derive(Debug, Clone, Copy)]
pub struct PluginReloaded<'a> {
    pub plugin: &'a str,
    pub sha256: &'a str,
}

impl InternalEvent for PluginReloaded<'_> {
    fn emit(&self, metrics: &ComponentMetrics) {
        metrics.reloads.fetch_add(1, Ordering::Relaxed);
        tracing::info!(component = %metrics.id(), plugin = self.plugin, sha256 = self.sha256, "plugin reloaded");
    }
}

/// A new version of a plugin was rejected; the running one stays.
#[derive(Clone, Copy)]
pub struct PluginReloadRejected<'a> {
    pub plugin: &'a str,
    pub reason: &'a dyn Display,
}

impl InternalEvent for PluginReloadRejected<'_> {
    fn emit(&self, metrics: &ComponentMetrics) {
        metrics.reload_failures.fetch_add(1, Ordering::Relaxed);
        tracing::error!(component = %metrics.id(), plugin = self.plugin, reason = %self.reason,
            "plugin reload rejected; the running version stays");
    }
}

/// A plugin call overran its deadline; its batch is run once more.
#[derive(Clone, Copy)]
pub struct PluginCallRetried<'a> {
    pub reason: &'a dyn Display,
}

impl InternalEvent for PluginCallRetried<'_> {
    fn emit(&self, metrics: &ComponentMetrics) {
        let retries = metrics.retries.fetch_add(1, Ordering::Relaxed) + 1;
        tracing::warn!(component = %metrics.id(), retries, reason = %self.reason,
            "plugin call overran its deadline; retrying the batch once on a fresh instance");
    }
}

/// Datagrams the kernel dropped because the UDP socket's receive buffer was
/// full: events that never reached the router.
#[derive(Debug, Clone, Copy)]
pub struct UdpDropped<'a> {
    pub count: u64,
    pub what: &'a str,
}

impl InternalEvent for UdpDropped<'_> {
    fn emit(&self, metrics: &ComponentMetrics) {
        if self.count > 0 {
            metrics.lost.fetch_add(self.count, Ordering::Relaxed);
            tracing::warn!(component = %metrics.id(), events = self.count, "{}", self.what);
        }
    }
}

/// A peer ended its connection without closing TLS cleanly (no
/// close_notify): common client behaviour, so debug level, but counted.
#[derive(Debug, Clone, Copy)]
pub struct UncleanTlsClose<'a> {
    pub peer: &'a str,
}

impl InternalEvent for UncleanTlsClose<'_> {
    fn emit(&self, metrics: &ComponentMetrics) {
        metrics.unclean_closes.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(component = %metrics.id(), peer = %self.peer,
            "the peer closed the connection without a TLS close_notify");
    }
}

/// An HTTP sink's request got `status` after `latency` (`None`: no answer).
/// Logged at debug level: the counters say how it goes.
#[derive(Debug, Clone, Copy)]
pub struct HttpRequest<'a> {
    pub destination: &'a str,
    pub status: Option<u16>,
    pub latency: Duration,
}

impl InternalEvent for HttpRequest<'_> {
    fn emit(&self, metrics: &ComponentMetrics) {
        metrics.requests.fetch_add(1, Ordering::Relaxed);
        metrics.request_latency.observe(self.latency);
        match self.status {
            Some(status) => *metrics.statuses.lock().expect("statuses lock").entry(status).or_default() += 1,
            None => {
                metrics.request_failures.fetch_add(1, Ordering::Relaxed);
            }
        }
        tracing::debug!(component = %metrics.id(), destination = %self.destination, status = self.status,
            latency_ms = self.latency.as_secs_f64() * 1e3, "HTTP request");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Metrics;
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    /// Captures what is logged while `f` runs, at every level.
    fn logged(f: impl FnOnce()) -> String {
        #[derive(Clone, Default)]
        struct Buffer(Arc<Mutex<Vec<u8>>>);
        impl Write for Buffer {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, f);
        String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn each_event_counts_and_logs_in_one_emit() {
        let metrics = Metrics::default().component("syslog");
        let log = logged(|| {
            EventsReceived { count: 5 }.emit(&metrics);
            EventsSent { count: 3 }.emit(&metrics);
            EventsDropped { count: 1 }.emit(&metrics);
            EventsDeadLettered { count: 1, reason: "not JSON" }.emit(&metrics);
            ComponentError { what: "opening a.log", error: &"permission denied" }.emit(&metrics);
            PluginReloaded { plugin: "redact", sha256: "abc" }.emit(&metrics);
            PluginReloadRejected { plugin: "redact", reason: &"configure refused" }.emit(&metrics);
            PluginCallRetried { reason: &"deadline" }.emit(&metrics);
            UdpDropped { count: 7, what: "datagrams dropped by the kernel" }.emit(&metrics);
            UncleanTlsClose { peer: "10.0.0.1:5000" }.emit(&metrics);
        });
        let counts = metrics.counts();
        assert_eq!((counts.received, counts.sent, counts.dropped, counts.dead_lettered), (5, 3, 1, 1));
        assert_eq!((counts.errors, counts.reloads, counts.reload_failures, counts.retries), (1, 1, 1, 1));
        assert_eq!((counts.lost, counts.unclean_closes), (7, 1));
        for line in [
            "events dropped on purpose",
            "events sent to the dead-letter output component=syslog events=1 reason=not JSON",
            "opening a.log component=syslog error=permission denied",
            "plugin reloaded",
            "plugin reload rejected",
            "retries=1",
            "datagrams dropped by the kernel component=syslog events=7",
            "without a TLS close_notify",
        ] {
            assert!(log.contains(line), "{line:?} is not in the log:\n{log}");
        }
        assert_eq!(log.lines().count(), 8, "one line per event but the received and sent counts:\n{log}");
        assert!(log.lines().all(|l| l.contains("component=syslog")), "{log}");
    }

    #[test]
    fn an_empty_batch_is_neither_counted_nor_logged() {
        let metrics = Metrics::default().component("t");
        let log = logged(|| {
            EventsDropped { count: 0 }.emit(&metrics);
            EventsDeadLettered { count: 0, reason: "x" }.emit(&metrics);
            UdpDropped { count: 0, what: "lost" }.emit(&metrics);
        });
        assert_eq!(metrics.counts(), crate::metrics::Counts::default());
        assert_eq!(log, "");
    }

    #[test]
    fn peer_caused_events_are_all_counted_but_logged_a_few_times() {
        let metrics = Metrics::default().component("net");
        let log = logged(|| {
            for _ in 0..50 {
                PeerError { kind: "accept", what: "accepting a connection", error: &"too many" }.emit(&metrics);
                PeerEventsDeadLettered { kind: "bad frames", count: 2, reason: "bad PRI" }.emit(&metrics);
                EventsDroppedUnderPressure { kind: "records", count: 1, what: "dead letter full" }.emit(&metrics);
            }
        });
        let counts = metrics.counts();
        assert_eq!((counts.errors, counts.dead_lettered, counts.dropped), (50, 100, 50));
        let lines = |needle: &str| log.lines().filter(|l| l.contains(needle)).count();
        assert_eq!(lines("accepting a connection"), 10, "{log}");
        assert_eq!(lines("bad PRI"), 10, "{log}");
        assert_eq!(lines("dead letter full"), 10, "{log}");
    }

    #[test]
    fn http_requests_count_status_failures_and_latency() {
        let metrics = Metrics::default().component("siem");
        let log = logged(|| {
            let request = |status, ms| HttpRequest {
                destination: "https://siem.example/ingest",
                status,
                latency: Duration::from_millis(ms),
            };
            request(Some(200), 4).emit(&metrics);
            request(Some(200), 40).emit(&metrics);
            request(Some(503), 400).emit(&metrics);
            request(None, 3000).emit(&metrics);
        });
        let counts = metrics.counts();
        assert_eq!((counts.requests, counts.request_failures, counts.request_ms), (4, 1, 3444));
        assert_eq!(metrics.statuses(), [(200, 2), (503, 1)].into());
        let latency = metrics.request_latency();
        assert_eq!(latency.count, 4);
        assert_eq!(latency.buckets[0].1, 1, "4 ms is in the 5 ms bucket");
        assert_eq!(log.lines().filter(|l| l.contains("HTTP request")).count(), 4, "{log}");
        assert!(log.contains("status=503"), "{log}");
    }
}
