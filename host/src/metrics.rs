//! The router's internal events: each one is a counter and a log line emitted
//! together, so that metrics and logs never disagree.

use crate::log_limit::LogLimit;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Counters of one component (source, transform or sink).
#[derive(Debug, Default)]
pub struct ComponentMetrics {
    id: Arc<str>,
    received: AtomicU64,
    sent: AtomicU64,
    dropped: AtomicU64,
    dead_lettered: AtomicU64,
    errors: AtomicU64,
    reloads: AtomicU64,
    reload_failures: AtomicU64,
    retries: AtomicU64,
    lost: AtomicU64,
    unclean_closes: AtomicU64,
    requests: AtomicU64,
    request_failures: AtomicU64,
    request_micros: AtomicU64,
    /// An HTTP sink's answers, by status code.
    statuses: Mutex<BTreeMap<u16, u64>>,
    /// For the lines a peer can trigger at will (the `*_limited` methods).
    log_limit: LogLimit,
}

/// A snapshot of one component's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    /// Events that came into the component.
    pub received: u64,
    /// Events the component passed on (or, for a sink, delivered).
    pub sent: u64,
    /// Events filtered out on purpose.
    pub dropped: u64,
    /// Events sent to the dead-letter output.
    pub dead_lettered: u64,
    /// Failures: plugin traps, write errors, unreadable files.
    pub errors: u64,
    /// New plugin versions swapped in by hot reload.
    pub reloads: u64,
    /// New plugin versions rejected (did not compile, `configure` refused …).
    pub reload_failures: u64,
    /// Batches run a second time after a plugin call overran its deadline.
    pub retries: u64,
    /// Events that never reached the router: datagrams the kernel dropped
    /// because the socket's receive buffer was full.
    pub lost: u64,
    /// Connections a peer ended without closing TLS cleanly (no
    /// close_notify): common client behaviour, not an error.
    pub unclean_closes: u64,
    /// HTTP requests a sink made (every attempt, answered or not).
    pub requests: u64,
    /// HTTP requests that got no answer (refused, reset, timed out).
    pub request_failures: u64,
    /// The time HTTP requests took, added up, in milliseconds.
    pub request_ms: u64,
}

impl ComponentMetrics {
    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn received(&self, n: usize) {
        self.received.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub fn sent(&self, n: usize) {
        self.sent.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub fn dropped(&self, n: usize) {
        if n > 0 {
            self.dropped.fetch_add(n as u64, Ordering::Relaxed);
            tracing::debug!(component = %self.id, events = n, "events dropped on purpose");
        }
    }

    /// Events went to the dead-letter output.
    pub fn dead_lettered(&self, n: usize, reason: &str) {
        if n > 0 {
            self.dead_lettered.fetch_add(n as u64, Ordering::Relaxed);
            tracing::warn!(component = %self.id, events = n, %reason, "events sent to the dead-letter output");
        }
    }

    /// Something failed in the component.
    pub fn error(&self, what: &str, err: &dyn std::fmt::Display) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        tracing::error!(component = %self.id, error = %err, "{what}");
    }

    /// Something a peer caused failed (a refused connection, a failed
    /// handshake …): counted every time, logged at most a few times per
    /// `kind` and window (see [`LogLimit`]).
    pub fn error_limited(&self, kind: &'static str, what: &str, err: &dyn std::fmt::Display) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        if self.may_log(kind) {
            tracing::error!(component = %self.id, error = %err, "{what}");
        }
    }

    /// [`Self::dead_lettered`] for records a peer can cause at will (bad
    /// frames): the log line is rate-limited per `kind`.
    pub fn dead_lettered_limited(&self, kind: &'static str, n: u64, reason: &str) {
        if n > 0 {
            self.dead_lettered.fetch_add(n, Ordering::Relaxed);
            if self.may_log(kind) {
                tracing::warn!(component = %self.id, events = n, %reason, "events sent to the dead-letter output");
            }
        }
    }

    /// `n` were dropped by policy under pressure (dead-letter records of bad
    /// frames when the dead letter is full): counted as dropped, logged as a
    /// warning rate-limited per `kind`.
    pub fn dropped_limited(&self, kind: &'static str, n: u64, what: &str) {
        if n > 0 {
            self.dropped.fetch_add(n, Ordering::Relaxed);
            if self.may_log(kind) {
                tracing::warn!(component = %self.id, events = n, "{what}");
            }
        }
    }

    /// Whether a line of `kind` may be logged now; when it may, the lines of
    /// that kind held back since the last one are reported first.
    fn may_log(&self, kind: &'static str) -> bool {
        let Some(suppressed) = self.log_limit.allow(kind) else { return false };
        if suppressed > 0 {
            tracing::warn!(component = %self.id, kind, suppressed, "suppressed {suppressed} similar log lines");
        }
        true
    }

    /// A new plugin version was swapped in.
    pub fn reloaded(&self, plugin: &str, digest: &str) {
        self.reloads.fetch_add(1, Ordering::Relaxed);
        tracing::info!(component = %self.id, plugin, sha256 = digest, "plugin reloaded");
    }

    /// A new plugin version was rejected; the running one stays.
    pub fn reload_rejected(&self, plugin: &str, reason: &dyn std::fmt::Display) {
        self.reload_failures.fetch_add(1, Ordering::Relaxed);
        tracing::error!(component = %self.id, plugin, %reason, "plugin reload rejected; the running version stays");
    }

    /// A plugin call overran its deadline; its batch is run once more.
    pub fn retried(&self, reason: &dyn std::fmt::Display) {
        let retries = self.retries.fetch_add(1, Ordering::Relaxed) + 1;
        tracing::warn!(component = %self.id, retries, %reason,
            "plugin call overran its deadline; retrying the batch once on a fresh instance");
    }

    /// `n` events were lost before they reached the router.
    pub fn lost(&self, n: u64, what: &str) {
        if n > 0 {
            self.lost.fetch_add(n, Ordering::Relaxed);
            tracing::warn!(component = %self.id, events = n, "{what}");
        }
    }

    /// `peer` ended its connection without closing TLS cleanly.
    pub fn unclean_close(&self, peer: &str) {
        self.unclean_closes.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(component = %self.id, %peer, "the peer closed the connection without a TLS close_notify");
    }

    /// An HTTP sink's request got `status` after `latency` (`None`: no
    /// answer). Logged at debug level: the counts say how it goes.
    pub fn http_request(&self, destination: &str, status: Option<u16>, latency: std::time::Duration) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.request_micros.fetch_add(latency.as_micros() as u64, Ordering::Relaxed);
        match status {
            Some(status) => *self.statuses.lock().expect("statuses lock").entry(status).or_default() += 1,
            None => {
                self.request_failures.fetch_add(1, Ordering::Relaxed);
            }
        }
        tracing::debug!(component = %self.id, %destination, status, latency_ms = latency.as_secs_f64() * 1e3, "HTTP request");
    }

    /// How many answers of each HTTP status a sink got.
    pub fn statuses(&self) -> BTreeMap<u16, u64> {
        self.statuses.lock().expect("statuses lock").clone()
    }

    pub fn counts(&self) -> Counts {
        Counts {
            received: self.received.load(Ordering::Relaxed),
            sent: self.sent.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            dead_lettered: self.dead_lettered.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            reloads: self.reloads.load(Ordering::Relaxed),
            reload_failures: self.reload_failures.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            lost: self.lost.load(Ordering::Relaxed),
            unclean_closes: self.unclean_closes.load(Ordering::Relaxed),
            requests: self.requests.load(Ordering::Relaxed),
            request_failures: self.request_failures.load(Ordering::Relaxed),
            request_ms: self.request_micros.load(Ordering::Relaxed) / 1000,
        }
    }
}

/// Every component's counters, by component id.
#[derive(Debug, Default, Clone)]
pub struct Metrics {
    components: Arc<Mutex<BTreeMap<String, Arc<ComponentMetrics>>>>,
}

impl Metrics {
    /// The counters of component `id`, created on first use.
    pub fn component(&self, id: &str) -> Arc<ComponentMetrics> {
        let mut components = self.components.lock().expect("metrics lock");
        components
            .entry(id.to_owned())
            .or_insert_with(|| Arc::new(ComponentMetrics { id: id.into(), ..Default::default() }))
            .clone()
    }

    /// A snapshot of every component's counters.
    pub fn snapshot(&self) -> BTreeMap<String, Counts> {
        let components = self.components.lock().expect("metrics lock");
        components.iter().map(|(id, m)| (id.clone(), m.counts())).collect()
    }
}
