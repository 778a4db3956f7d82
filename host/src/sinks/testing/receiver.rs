//! An HTTP server for tests of the HTTP sinks: it records every request
//! (method, path and query, headers, body — un-gzipped when it came with
//! `Content-Encoding: gzip`) and answers each as a handler says, with a
//! status, headers, a body and an optional delay. Each sink's tests give it
//! a handler that follows the vendor's documented API.
//!
//! It runs on a thread of its own, so both the unit tests (async) and the
//! end-to-end tests in `tests/` (sync, which include this file by path) can
//! use it. It depends on nothing in the router.

// Each including crate uses a different part of it.
#![allow(dead_code)]

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::io::Read;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One request as the receiver got it.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    /// The path and query, such as `/services/collector/event?channel=…`.
    pub target: String,
    pub headers: hyper::HeaderMap,
    /// The body, decompressed if it was gzipped.
    pub body: Vec<u8>,
    /// Whether it came gzipped.
    pub gzipped: bool,
}

impl Received {
    /// A header's value as text ("" when absent).
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|value| value.to_str().ok()).unwrap_or("")
    }

    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.body).expect("a UTF-8 body")
    }

    /// The path without the query.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }
}

/// What the receiver answers.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// How long to wait before answering.
    pub delay: Duration,
}

impl Answer {
    pub fn new(status: u16, body: impl Into<String>) -> Answer {
        Answer { status, headers: Vec::new(), body: body.into(), delay: Duration::ZERO }
    }

    /// A `200 OK` with a JSON body.
    pub fn json(status: u16, body: serde_json::Value) -> Answer {
        Answer::new(status, body.to_string()).header("Content-Type", "application/json")
    }

    pub fn header(mut self, name: &str, value: &str) -> Answer {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn after(mut self, delay: Duration) -> Answer {
        self.delay = delay;
        self
    }
}

type Handler = dyn Fn(&Received) -> Answer + Send + Sync;

/// A running receiver; it stops when dropped.
pub struct Receiver {
    pub address: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Receiver {
    /// Listen on a free loopback port, over plain HTTP.
    pub fn start(handler: impl Fn(&Received) -> Answer + Send + Sync + 'static) -> Receiver {
        Receiver::listen("127.0.0.1:0".parse().unwrap(), None, Arc::new(handler))
    }

    /// Listen on `address` (to come back on the same port after [`Receiver::stop`]).
    pub fn start_on(address: SocketAddr, handler: impl Fn(&Received) -> Answer + Send + Sync + 'static) -> Receiver {
        Receiver::listen(address, None, Arc::new(handler))
    }

    /// Listen on a free loopback port over TLS.
    pub fn start_tls(
        tls: Arc<rustls::ServerConfig>,
        handler: impl Fn(&Received) -> Answer + Send + Sync + 'static,
    ) -> Receiver {
        Receiver::listen("127.0.0.1:0".parse().unwrap(), Some(tls), Arc::new(handler))
    }

    fn listen(address: SocketAddr, tls: Option<Arc<rustls::ServerConfig>>, handler: Arc<Handler>) -> Receiver {
        let listener = std::net::TcpListener::bind(address).expect("binding the receiver");
        listener.set_nonblocking(true).unwrap();
        let address = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let log = received.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
                let mut stopped = std::pin::pin!(stopped);
                loop {
                    let (stream, _) = tokio::select! {
                        accepted = listener.accept() => match accepted {
                            Ok(accepted) => accepted,
                            Err(_) => continue,
                        },
                        _ = &mut stopped => break,
                    };
                    let handler = handler.clone();
                    let log = log.clone();
                    let acceptor = acceptor.clone();
                    tokio::spawn(async move {
                        let service = service_fn(move |request| serve(request, handler.clone(), log.clone()));
                        match acceptor {
                            None => {
                                let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                            }
                            Some(acceptor) => {
                                let Ok(stream) = acceptor.accept(stream).await else { return };
                                let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                            }
                        }
                    });
                }
            });
        });
        Receiver { address, received, stop: Some(stop), thread: Some(thread) }
    }

    /// `http://127.0.0.1:PORT` followed by `path`.
    pub fn uri(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// Every request so far.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Wait until `done` holds for the requests so far (at most `timeout`).
    pub fn wait_for(&self, timeout: Duration, done: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let received = self.received();
            if done(&received) {
                return received;
            }
            assert!(std::time::Instant::now() < deadline, "the receiver waited {timeout:?}; it has {received:#?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stop listening (connections open now are cut when their thread ends).
    pub fn stop(mut self) -> Vec<Received> {
        self.shut();
        self.received()
    }

    fn shut(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.shut();
    }
}

async fn serve(
    request: hyper::Request<hyper::body::Incoming>,
    handler: Arc<Handler>,
    log: Arc<Mutex<Vec<Received>>>,
) -> Result<hyper::Response<Full<Bytes>>, std::convert::Infallible> {
    let method = request.method().to_string();
    let target = request.uri().path_and_query().map(|pq| pq.as_str().to_owned()).unwrap_or_default();
    let headers = request.headers().clone();
    let raw = match request.into_body().collect().await {
        Ok(body) => body.to_bytes().to_vec(),
        Err(_) => Vec::new(),
    };
    let gzipped = headers.get("content-encoding").is_some_and(|value| value == "gzip");
    let body = if gzipped {
        let mut plain = Vec::new();
        flate2::read::GzDecoder::new(&raw[..]).read_to_end(&mut plain).expect("a gzip body");
        plain
    } else {
        raw
    };
    let received = Received { method, target, headers, body, gzipped };
    let answer = handler(&received);
    log.lock().unwrap().push(received);
    tokio::time::sleep(answer.delay).await;
    let mut response = hyper::Response::builder().status(answer.status);
    for (name, value) in &answer.headers {
        response = response.header(name, value);
    }
    Ok(response.body(Full::new(Bytes::from(answer.body))).unwrap())
}
