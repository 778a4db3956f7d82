//! The router's counters, per component. They change only through the
//! typed internal events ([`crate::internal_events`]), which update a counter
//! and write its log line together, so that metrics and logs never disagree;
//! [`exposition`] serves them to Prometheus.

pub mod exposition;
pub mod histogram;

use crate::log_limit::LogLimit;
use histogram::{Histogram, HistogramSnapshot};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// What a component is, as the `component_kind` label says it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ComponentKind {
    Source,
    Transform,
    Sink,
    /// The dead-letter output, counted as a component of its own.
    DeadLetter,
    /// Counters made outside a topology (unit tests).
    #[default]
    Unknown,
}

impl ComponentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ComponentKind::Source => "source",
            ComponentKind::Transform => "transform",
            ComponentKind::Sink => "sink",
            ComponentKind::DeadLetter => "dead_letter",
            ComponentKind::Unknown => "unknown",
        }
    }
}

/// Counters of one component (source, transform or sink). The fields are
/// for [`crate::internal_events`] to update; everyone else reads [`Counts`].
#[derive(Debug, Default)]
pub struct ComponentMetrics {
    id: Arc<str>,
    kind: ComponentKind,
    type_name: Arc<str>,
    pub(crate) received: AtomicU64,
    pub(crate) sent: AtomicU64,
    pub(crate) dropped: AtomicU64,
    pub(crate) dead_lettered: AtomicU64,
    pub(crate) errors: AtomicU64,
    pub(crate) reloads: AtomicU64,
    pub(crate) reload_failures: AtomicU64,
    pub(crate) retries: AtomicU64,
    pub(crate) lost: AtomicU64,
    pub(crate) unclean_closes: AtomicU64,
    pub(crate) requests: AtomicU64,
    pub(crate) request_failures: AtomicU64,
    /// An HTTP sink's request durations; its sum is `Counts::request_ms`.
    pub(crate) request_latency: Histogram,
    /// An HTTP sink's answers, by status code.
    pub(crate) statuses: Mutex<BTreeMap<u16, u64>>,
    /// For the lines a peer can trigger at will (see [`Self::may_log`]).
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

    /// What kind of component this is, for the `component_kind` label.
    pub fn kind(&self) -> ComponentKind {
        self.kind
    }

    /// The component's `type`, for the `component_type` label.
    pub fn type_name(&self) -> &str {
        &self.type_name
    }

    /// Whether a line of `kind` may be logged now; when it may, the lines of
    /// that kind held back since the last one are reported first. For the
    /// internal events a peer can trigger at will.
    pub(crate) fn may_log(&self, kind: &'static str) -> bool {
        let Some(suppressed) = self.log_limit.allow(kind) else { return false };
        if suppressed > 0 {
            tracing::warn!(component = %self.id, kind, suppressed, "suppressed {suppressed} similar log lines");
        }
        true
    }

    /// The time an HTTP sink's requests took.
    pub fn request_latency(&self) -> HistogramSnapshot {
        self.request_latency.snapshot()
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
            request_ms: self.request_latency.sum_micros() / 1000,
        }
    }
}

/// Every component's counters, by component id.
#[derive(Debug, Default, Clone)]
pub struct Metrics {
    components: Arc<Mutex<BTreeMap<String, Arc<ComponentMetrics>>>>,
}

impl Metrics {
    /// Make the counters of component `id`, labelled with its kind and
    /// type, so that it shows on `/metrics` (all zeros) before any event.
    pub fn register(&self, id: &str, kind: ComponentKind, type_name: &str) -> Arc<ComponentMetrics> {
        let mut components = self.components.lock().expect("metrics lock");
        components
            .entry(id.to_owned())
            .or_insert_with(|| {
                Arc::new(ComponentMetrics { id: id.into(), kind, type_name: type_name.into(), ..Default::default() })
            })
            .clone()
    }

    /// The counters of component `id`, created on first use (of kind
    /// `unknown` if it was not registered).
    pub fn component(&self, id: &str) -> Arc<ComponentMetrics> {
        self.register(id, ComponentKind::Unknown, "unknown")
    }

    /// Every component's counters, by id.
    pub fn components(&self) -> Vec<Arc<ComponentMetrics>> {
        self.components.lock().expect("metrics lock").values().cloned().collect()
    }

    /// A snapshot of every component's counters.
    pub fn snapshot(&self) -> BTreeMap<String, Counts> {
        let components = self.components.lock().expect("metrics lock");
        components.iter().map(|(id, m)| (id.clone(), m.counts())).collect()
    }
}
