//! The operator's HTTP API (`[api]`): `GET /metrics` for Prometheus and
//! `GET /health` for load balancers and systemd.
//!
//! It is bound before the plugins load (which can take seconds on a first
//! run), so that `/health` answers 503 meanwhile instead of refusing, and a
//! port in use fails the start at once. The topology is attached once it is
//! built; `/metrics` reads its live counters at each scrape.

pub mod config;
pub mod readiness;

use crate::metrics::{Metrics, exposition};
use anyhow::Context;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use readiness::{Phase, Readiness};
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

pub use config::ApiConfig;

/// Connections served at once: the API is for a scraper and a health
/// checker or two, and must not become a way to tie up the router.
const MAX_CONNECTIONS: usize = 64;

/// How long a client may take to send its request headers.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// What the API serves from: the topology, once it is built.
#[derive(Debug, Default)]
struct State {
    topology: OnceLock<(Metrics, Readiness)>,
}

/// A bound API listener, not yet serving.
pub struct Api {
    listener: TcpListener,
    state: Arc<State>,
}

/// Serves the API; hand it the topology with [`Handle::attach`].
#[derive(Debug, Clone)]
pub struct Handle {
    state: Arc<State>,
}

impl Api {
    /// Listen on the configured address; an address in use fails here,
    /// before anything else starts, as a syslog source's does.
    pub async fn bind(config: &ApiConfig) -> anyhow::Result<Api> {
        let address: SocketAddr =
            config.address.parse().with_context(|| format!("api.address `{}` is not an ip:port", config.address))?;
        let listener = TcpListener::bind(address).await.with_context(|| format!("api: listening on tcp {address}"))?;
        Ok(Api { listener, state: Arc::default() })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serve on the current runtime until it ends.
    pub fn spawn(self) -> Handle {
        self.spawn_on(&tokio::runtime::Handle::current())
    }

    /// Serve on `runtime` until it ends.
    pub fn spawn_on(self, runtime: &tokio::runtime::Handle) -> Handle {
        let handle = Handle { state: self.state.clone() };
        if let Ok(address) = self.listener.local_addr() {
            tracing::info!(%address, "API listening: GET /metrics, GET /health");
        }
        runtime.spawn(serve(self.listener, self.state));
        handle
    }
}

impl Handle {
    /// Serve this topology's counters and readiness from now on.
    pub fn attach(&self, metrics: Metrics, readiness: Readiness) {
        let _ = self.state.topology.set((metrics, readiness));
    }
}

async fn serve(listener: TcpListener, state: Arc<State>) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(err) => {
                // Out of file descriptors, most likely: wait rather than spin.
                tracing::warn!(error = %err, "api: accepting a connection");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            // Closed at once: a client over the limit learns so quickly.
            continue;
        };
        let state = state.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let state = state.clone();
                async move { Ok::<_, std::convert::Infallible>(route(&state, &request)) }
            });
            let served = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service)
                .await;
            if let Err(err) = served {
                tracing::debug!(error = %err, "api: connection ended with an error");
            }
            drop(slot);
        });
    }
}

fn route(state: &State, request: &Request<Incoming>) -> Response<Full<Bytes>> {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return reply(StatusCode::METHOD_NOT_ALLOWED, "text/plain", "only GET\n".into());
    }
    match request.uri().path() {
        "/metrics" => match state.topology.get() {
            Some((metrics, _)) => reply(StatusCode::OK, exposition::CONTENT_TYPE, exposition::encode(metrics)),
            None => reply(StatusCode::SERVICE_UNAVAILABLE, "text/plain", "starting: loading plugins\n".into()),
        },
        "/health" => {
            let phase = state.topology.get().map_or(Phase::Starting, |(_, readiness)| readiness.phase());
            let status = if phase == Phase::Ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
            reply(status, "application/json", format!("{{\"status\":\"{}\"}}\n", phase.as_str()))
        }
        _ => reply(StatusCode::NOT_FOUND, "text/plain", "not found: try /metrics or /health\n".into()),
    }
}

fn reply(status: StatusCode, content_type: &'static str, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::internal_events::{EventsReceived, InternalEvent};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn get(address: SocketAddr, path: &str) -> String {
        let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
        let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        response
    }

    #[tokio::test]
    async fn health_waits_for_the_topology_and_metrics_read_it_live() {
        let api = Api::bind(&ApiConfig { address: "127.0.0.1:0".into() }).await.unwrap();
        let address = api.local_addr().unwrap();
        let handle = api.spawn();

        let response = get(address, "/health").await;
        assert!(response.starts_with("HTTP/1.1 503"), "{response}");
        assert!(response.ends_with("{\"status\":\"starting\"}\n"), "{response}");
        assert!(get(address, "/metrics").await.starts_with("HTTP/1.1 503"));

        let metrics = Metrics::default();
        let readiness = Readiness::default();
        handle.attach(metrics.clone(), readiness.clone());
        readiness.set(Phase::Ready);
        let response = get(address, "/health").await;
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        assert!(response.ends_with("{\"status\":\"ok\"}\n"), "{response}");

        EventsReceived { count: 3 }.emit(&metrics.component("in"));
        let response = get(address, "/metrics").await;
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        assert!(response.contains("content-type: text/plain; version=0.0.4"), "{response}");
        assert!(response.contains("sluice_component_received_events_total{component=\"in\""), "{response}");

        readiness.set(Phase::Stopping);
        let response = get(address, "/health").await;
        assert!(response.starts_with("HTTP/1.1 503") && response.contains("stopping"), "{response}");
        assert!(get(address, "/nope").await.starts_with("HTTP/1.1 404"));
    }

    #[tokio::test]
    async fn an_address_in_use_fails_the_bind_with_the_address() {
        let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = held.local_addr().unwrap().to_string();
        let err = Api::bind(&ApiConfig { address: address.clone() }).await.err().expect("in use");
        let text = format!("{err:#}");
        assert!(text.contains(&format!("api: listening on tcp {address}")), "{text}");
        assert!(text.to_lowercase().contains("in use"), "{text}");
    }
}
