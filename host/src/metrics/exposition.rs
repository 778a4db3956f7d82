//! `/metrics`: every component's counters in the Prometheus text format
//! (0.0.4), written by `prometheus-client` from the live counters at each
//! scrape, so that nothing is counted twice.
//!
//! Every series has the labels `component` (the id in the config),
//! `component_kind` (`source`, `transform`, `sink` or `dead_letter`) and
//! `component_type` (its `type`). `docs/operations.md` lists every name.

use super::{ComponentKind, ComponentMetrics, Metrics};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::registry::Registry;
use std::sync::Arc;

/// The `Content-Type` of what [`encode`] writes.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// The counters every component has, as (name without `_total`, help, value).
type Counter = (&'static str, &'static str, fn(&ComponentMetrics) -> u64);

const EVERY_COMPONENT: &[Counter] = &[
    ("sluice_component_received_events", "Events that came into the component.", |m| m.counts().received),
    (
        "sluice_component_sent_events",
        "Events the component passed on (for a sink: delivered; for the dead letter: written).",
        |m| m.counts().sent,
    ),
    ("sluice_component_dropped_events", "Events dropped on purpose or by policy under pressure.", |m| {
        m.counts().dropped
    }),
    ("sluice_component_dead_lettered_events", "Events the component sent to the dead-letter output.", |m| {
        m.counts().dead_lettered
    }),
    ("sluice_component_errors", "Failures in the component (plugin traps, write errors, refused peers).", |m| {
        m.counts().errors
    }),
];

const TRANSFORMS: &[Counter] =
    &[("sluice_plugin_retries", "Batches run a second time after a plugin call overran its deadline.", |m| {
        m.counts().retries
    })];

const SOURCES: &[Counter] = &[
    ("sluice_udp_lost_events", "Datagrams the kernel dropped because the socket's receive buffer was full.", |m| {
        m.counts().lost
    }),
    ("sluice_tls_unclean_closes", "Connections a peer ended without a TLS close_notify.", |m| {
        m.counts().unclean_closes
    }),
];

/// Writes the live counters of a topology at each scrape.
#[derive(Debug)]
struct Components(Metrics);

/// A series' labels: the component's, then the metric's own.
fn labels(m: &ComponentMetrics, extra: &[(&'static str, String)]) -> Vec<(&'static str, String)> {
    let mut labels = vec![
        ("component", m.id().to_owned()),
        ("component_kind", m.kind().as_str().to_owned()),
        ("component_type", m.type_name().to_owned()),
    ];
    labels.extend(extra.iter().cloned());
    labels
}

fn counters(
    encoder: &mut DescriptorEncoder,
    components: &[Arc<ComponentMetrics>],
    counters: &[Counter],
) -> Result<(), std::fmt::Error> {
    for (name, help, value) in counters {
        if components.is_empty() {
            continue;
        }
        let mut metric = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
        for m in components {
            ConstCounter::new(value(m)).encode(metric.encode_family(&labels(m, &[]))?)?;
        }
    }
    Ok(())
}

impl Collector for Components {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let all = self.0.components();
        let of = |kinds: &[ComponentKind]| -> Vec<Arc<ComponentMetrics>> {
            all.iter().filter(|m| kinds.contains(&m.kind())).cloned().collect()
        };
        counters(&mut encoder, &all, EVERY_COMPONENT)?;

        let transforms = of(&[ComponentKind::Transform]);
        if !transforms.is_empty() {
            let mut metric = encoder.encode_descriptor(
                "sluice_plugin_reloads",
                "New plugin versions hot reload swapped in (outcome=ok) or rejected, keeping the running one (outcome=failed).",
                None,
                MetricType::Counter,
            )?;
            for m in &transforms {
                let counts = m.counts();
                for (outcome, n) in [("ok", counts.reloads), ("failed", counts.reload_failures)] {
                    let labels = labels(m, &[("outcome", outcome.to_owned())]);
                    ConstCounter::new(n).encode(metric.encode_family(&labels)?)?;
                }
            }
        }
        counters(&mut encoder, &transforms, TRANSFORMS)?;
        counters(&mut encoder, &of(&[ComponentKind::Source]), SOURCES)?;

        // Only the sinks that have made a request: the others speak no HTTP.
        let http: Vec<_> = all.iter().filter(|m| m.counts().requests > 0).cloned().collect();
        if !http.is_empty() {
            let mut metric = encoder.encode_descriptor(
                "sluice_http_requests",
                "HTTP requests a sink made that got an answer, by status code.",
                None,
                MetricType::Counter,
            )?;
            for m in &http {
                for (status, n) in m.statuses() {
                    let labels = labels(m, &[("status", status.to_string())]);
                    ConstCounter::new(n).encode(metric.encode_family(&labels)?)?;
                }
            }
        }
        counters(
            &mut encoder,
            &http,
            &[(
                "sluice_http_request_failures",
                "HTTP requests a sink made that got no answer (refused, reset, timed out).",
                |m| m.counts().request_failures,
            )],
        )?;
        if !http.is_empty() {
            let mut metric = encoder.encode_descriptor(
                "sluice_http_request_duration_seconds",
                "How long a sink's HTTP requests took, answered or not.",
                None,
                MetricType::Histogram,
            )?;
            for m in &http {
                let latency = m.request_latency();
                let labels = labels(m, &[]);
                metric.encode_family(&labels)?.encode_histogram::<NoLabelSet>(
                    latency.sum_seconds,
                    latency.count,
                    &latency.buckets,
                    None,
                )?;
            }
        }
        Ok(())
    }
}

/// The text `/metrics` answers with.
pub fn encode(metrics: &Metrics) -> String {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(Components(metrics.clone())));
    let mut text = String::new();
    prometheus_client::encoding::prometheus_text::encode(&mut text, &registry)
        .expect("writing into a String does not fail");
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::internal_events::*;
    use std::time::Duration;

    /// The sample lines (not comments) of a metric, for one component.
    fn samples<'a>(text: &'a str, name: &str, component: &str) -> Vec<&'a str> {
        let label = format!("component=\"{component}\"");
        text.lines().filter(|l| l.starts_with(&format!("{name}{{")) && l.contains(&label)).collect()
    }

    #[test]
    fn every_component_has_its_counters_labelled_by_id_kind_and_type() {
        let metrics = Metrics::default();
        let source = metrics.register("agents", ComponentKind::Source, "file");
        let transform = metrics.register("redact", ComponentKind::Transform, "wasm");
        metrics.register("console", ComponentKind::Sink, "stdout");
        EventsReceived { count: 5 }.emit(&source);
        EventsSent { count: 5 }.emit(&source);
        EventsReceived { count: 5 }.emit(&transform);
        EventsDeadLettered { count: 2, reason: "bad" }.emit(&transform);
        PluginReloaded { plugin: "redact", sha256: "x" }.emit(&transform);
        let text = encode(&metrics);

        assert!(text.contains("# HELP sluice_component_received_events_total Events that came into the component.\n"));
        assert!(text.contains("# TYPE sluice_component_received_events_total counter\n"), "{text}");
        assert_eq!(
            samples(&text, "sluice_component_received_events_total", "agents"),
            [
                "sluice_component_received_events_total{component=\"agents\",component_kind=\"source\",component_type=\"file\"} 5"
            ]
        );
        assert_eq!(
            samples(&text, "sluice_component_dead_lettered_events_total", "redact"),
            [
                "sluice_component_dead_lettered_events_total{component=\"redact\",component_kind=\"transform\",component_type=\"wasm\"} 2"
            ]
        );
        assert_eq!(
            samples(&text, "sluice_plugin_reloads_total", "redact"),
            [
                "sluice_plugin_reloads_total{component=\"redact\",component_kind=\"transform\",component_type=\"wasm\",outcome=\"ok\"} 1",
                "sluice_plugin_reloads_total{component=\"redact\",component_kind=\"transform\",component_type=\"wasm\",outcome=\"failed\"} 0",
            ]
        );
        // A sink that sent nothing still shows, with zeros.
        assert_eq!(samples(&text, "sluice_component_sent_events_total", "console").len(), 1, "{text}");
        assert!(samples(&text, "sluice_component_sent_events_total", "console")[0].ends_with(" 0"));
        // Per-kind metrics only on that kind.
        assert!(samples(&text, "sluice_plugin_retries_total", "agents").is_empty());
        assert_eq!(samples(&text, "sluice_udp_lost_events_total", "agents").len(), 1);
        assert!(samples(&text, "sluice_udp_lost_events_total", "redact").is_empty());
        assert!(!text.contains("sluice_http_"), "no sink made a request:\n{text}");
    }

    #[test]
    fn http_sinks_count_requests_by_status_and_their_latency_as_a_histogram() {
        let metrics = Metrics::default();
        let sink = metrics.register("siem", ComponentKind::Sink, "splunk_hec");
        for (status, ms) in [(Some(200), 3), (Some(200), 30), (Some(503), 300), (None, 3000)] {
            HttpRequest { destination: "x", status, latency: Duration::from_millis(ms) }.emit(&sink);
        }
        let text = encode(&metrics);
        let labels = "component=\"siem\",component_kind=\"sink\",component_type=\"splunk_hec\"";
        for line in [
            format!("sluice_http_requests_total{{{labels},status=\"200\"}} 2"),
            format!("sluice_http_requests_total{{{labels},status=\"503\"}} 1"),
            format!("sluice_http_request_failures_total{{{labels}}} 1"),
            "# TYPE sluice_http_request_duration_seconds histogram".to_owned(),
            format!("sluice_http_request_duration_seconds_bucket{{{labels},le=\"0.005\"}} 1"),
            format!("sluice_http_request_duration_seconds_bucket{{{labels},le=\"0.05\"}} 2"),
            format!("sluice_http_request_duration_seconds_bucket{{{labels},le=\"2.5\"}} 3"),
            format!("sluice_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} 4"),
            format!("sluice_http_request_duration_seconds_sum{{{labels}}} 3.333"),
            format!("sluice_http_request_duration_seconds_count{{{labels}}} 4"),
        ] {
            assert!(text.lines().any(|l| l == line), "{line:?} is not in\n{text}");
        }
    }

    #[test]
    fn label_values_are_escaped() {
        let metrics = Metrics::default();
        metrics.register("odd\"id\\", ComponentKind::Sink, "file");
        let text = encode(&metrics);
        assert!(text.contains("component=\"odd\\\"id\\\\\""), "{text}");
    }
}

#[cfg(test)]
mod documented {
    use super::*;
    use crate::internal_events::{HttpRequest, InternalEvent};

    #[test]
    fn every_metric_name_is_in_docs_operations_md() {
        let metrics = Metrics::default();
        for (id, kind) in [("s", ComponentKind::Source), ("t", ComponentKind::Transform), ("k", ComponentKind::Sink)] {
            metrics.register(id, kind, "x");
        }
        HttpRequest { destination: "x", status: Some(200), latency: std::time::Duration::ZERO }
            .emit(&metrics.component("k"));
        let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/operations.md")).unwrap();
        let scrape = encode(&metrics);
        let names: Vec<&str> = scrape.lines().filter_map(|l| l.strip_prefix("# TYPE ")?.split(' ').next()).collect();
        assert_eq!(names.len(), 12, "{names:?}");
        for name in names {
            assert!(docs.contains(&format!("| `{name}` |")), "docs/operations.md does not list {name}");
        }
    }
}
