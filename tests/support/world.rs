//! A scriptable loopback HTTP world (hyper) for hostile-service and resume tests: a handler
//! answers each request (whole, streamed lazily, or not at all), every request and every
//! accepted connection is counted, and a listener that only counts connections proves what
//! was never requested.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Frame;
use serde_json::Value;

use super::tls::{Scheme, TlsFront};

/// A request as the handler sees it.
pub struct Req {
    /// Path and query, as sent.
    pub target: String,
    /// The world's own origin (`http://127.0.0.1:PORT`), for absolute links.
    pub base: String,
    pub headers: Vec<(String, String)>,
}

/// A lazily produced body: chunks made on demand, so bombs and endless bodies are never held.
pub type Chunks = Pin<Box<dyn Stream<Item = Bytes> + Send>>;

/// How the world answers one request.
pub enum Reply {
    /// A whole answer.
    Full {
        status: u16,
        headers: Vec<(String, String)>,
        body: Bytes,
    },
    /// Headers at once, then the body as the stream yields it.
    Stream {
        status: u16,
        headers: Vec<(String, String)>,
        body: Chunks,
    },
    /// Close the connection without answering.
    Close,
}

impl Reply {
    /// `200` with a JSON body.
    pub fn json(body: &Value) -> Reply {
        Reply::raw(200, "application/json", body.to_string())
    }

    /// A status with a content type and a body given as is.
    pub fn raw(status: u16, content_type: &str, body: impl Into<Bytes>) -> Reply {
        Reply::Full {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.into(),
        }
    }

    /// The same answer with another status.
    pub fn with_status(self, status: u16) -> Reply {
        match self {
            Reply::Full { headers, body, .. } => Reply::Full {
                status,
                headers,
                body,
            },
            Reply::Stream { headers, body, .. } => Reply::Stream {
                status,
                headers,
                body,
            },
            Reply::Close => Reply::Close,
        }
    }

    /// A status, no body.
    pub fn status(status: u16) -> Reply {
        Reply::Full {
            status,
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }

    /// A redirect.
    pub fn redirect(status: u16, location: &str) -> Reply {
        Reply::Full {
            status,
            headers: vec![("location".into(), location.into())],
            body: Bytes::new(),
        }
    }
}

/// Answers requests.
pub type Handler = Arc<dyn Fn(&Req) -> Reply + Send + Sync>;

/// One request the world received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub target: String,
    pub headers: Vec<(String, String)>,
}

/// A running world. Dropping it stops it.
pub struct World {
    /// Its origin: `http://127.0.0.1:PORT`, or `https://…` when served over TLS.
    pub uri: String,
    /// The plain HTTP listener (behind the TLS front, when there is one).
    pub addr: SocketAddr,
    front: Option<TlsFront>,
    seen: Arc<Mutex<Vec<Seen>>>,
    /// TCP connections accepted (also those that never sent a request).
    pub connections: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl World {
    /// Serves `handler` on an ephemeral port of 127.0.0.1.
    pub async fn start(handler: impl Fn(&Req) -> Reply + Send + Sync + 'static) -> World {
        World::start_on("127.0.0.1:0", handler)
            .await
            .expect("bind 127.0.0.1")
    }

    /// Serves `handler` on 127.0.0.1 over `scheme` (`https://`: behind a TLS front, which
    /// is also the origin handlers see as `base`).
    pub async fn start_over(
        scheme: Scheme,
        handler: impl Fn(&Req) -> Reply + Send + Sync + 'static,
    ) -> World {
        World::serve_over("127.0.0.1:0", Duration::ZERO, scheme, handler)
            .await
            .expect("bind 127.0.0.1")
    }

    /// Serves `handler` on 127.0.0.1, each answer `delay` late (a world slow enough to be
    /// interrupted mid-crawl).
    pub async fn start_slow(
        delay: Duration,
        handler: impl Fn(&Req) -> Reply + Send + Sync + 'static,
    ) -> World {
        World::serve("127.0.0.1:0", delay, handler)
            .await
            .expect("bind 127.0.0.1")
    }

    /// Serves `handler` on `addr` (`None` when it cannot be bound, say no IPv6 here).
    pub async fn start_on(
        addr: &str,
        handler: impl Fn(&Req) -> Reply + Send + Sync + 'static,
    ) -> Option<World> {
        World::serve(addr, Duration::ZERO, handler).await
    }

    async fn serve(
        addr: &str,
        delay: Duration,
        handler: impl Fn(&Req) -> Reply + Send + Sync + 'static,
    ) -> Option<World> {
        World::serve_over(addr, delay, Scheme::Http, handler).await
    }

    async fn serve_over(
        addr: &str,
        delay: Duration,
        scheme: Scheme,
        handler: impl Fn(&Req) -> Reply + Send + Sync + 'static,
    ) -> Option<World> {
        let l = tokio::net::TcpListener::bind(addr).await.ok()?;
        let addr = l.local_addr().expect("addr");
        let front = match scheme {
            Scheme::Http => None,
            Scheme::Https => Some(TlsFront::start(addr).await),
        };
        let uri = match &front {
            Some(f) => f.uri.clone(),
            None => format!("http://{addr}"),
        };
        let handler: Handler = Arc::new(handler);
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let connections = Arc::new(AtomicUsize::new(0));
        let (s, c, base) = (seen.clone(), connections.clone(), uri.clone());
        let task = tokio::spawn(async move {
            while let Ok((sock, _)) = l.accept().await {
                c.fetch_add(1, Ordering::SeqCst);
                let (handler, seen, base) = (handler.clone(), s.clone(), base.clone());
                let service = hyper::service::service_fn(move |req: hyper::Request<_>| {
                    let req = Req {
                        target: req
                            .uri()
                            .path_and_query()
                            .map_or("/", |p| p.as_str())
                            .to_string(),
                        base: base.clone(),
                        headers: req
                            .headers()
                            .iter()
                            .map(|(n, v)| {
                                (
                                    n.as_str().to_string(),
                                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                                )
                            })
                            .collect(),
                    };
                    seen.lock().unwrap().push(Seen {
                        target: req.target.clone(),
                        headers: req.headers.clone(),
                    });
                    let reply = handler(&req);
                    async move {
                        if !delay.is_zero() {
                            tokio::time::sleep(delay).await;
                        }
                        respond(reply)
                    }
                });
                tokio::spawn(async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(sock), service)
                        .await;
                });
            }
        });
        Some(World {
            uri,
            addr,
            front,
            seen,
            connections,
            task,
        })
    }

    /// A listener that accepts connections, counts them and closes them: anything that reaches
    /// it was requested.
    pub async fn trap(addr: &str) -> Option<World> {
        World::start_on(addr, |_| Reply::Close).await
    }

    /// `http://127.0.0.1:PORT` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.uri)
    }

    /// Every request received, in order.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// Requests received per target.
    pub fn hits(&self) -> HashMap<String, usize> {
        let mut m = HashMap::new();
        for s in self.seen.lock().unwrap().iter() {
            *m.entry(s.target.clone()).or_default() += 1;
        }
        m
    }

    /// Requests received for one target.
    pub fn hits_of(&self, target: &str) -> usize {
        self.hits().get(target).copied().unwrap_or(0)
    }

    /// Requests received in all.
    pub fn requests(&self) -> usize {
        self.seen.lock().unwrap().len()
    }
}

impl Drop for World {
    fn drop(&mut self) {
        self.task.abort();
    }
}

type Body = UnsyncBoxBody<Bytes, Infallible>;

/// The error that makes hyper close a connection without answering.
#[derive(Debug)]
struct Unanswered;

impl std::fmt::Display for Unanswered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("closed without an answer")
    }
}

impl std::error::Error for Unanswered {}

fn respond(reply: Reply) -> Result<hyper::Response<Body>, Unanswered> {
    let (status, headers, body) = match reply {
        Reply::Close => return Err(Unanswered),
        Reply::Full {
            status,
            headers,
            body,
        } => (status, headers, Full::new(body).boxed_unsync()),
        Reply::Stream {
            status,
            headers,
            body,
        } => (
            status,
            headers,
            BodyExt::boxed_unsync(StreamBody::new(
                body.map(|b| Ok::<_, Infallible>(Frame::data(b))),
            )),
        ),
    };
    let mut resp = hyper::Response::new(body);
    *resp.status_mut() = hyper::StatusCode::from_u16(status).expect("status");
    for (n, v) in headers {
        resp.headers_mut().append(
            hyper::header::HeaderName::from_bytes(n.as_bytes()).expect("header name"),
            hyper::header::HeaderValue::from_str(&v).expect("header value"),
        );
    }
    Ok(resp)
}

/// An endless body: `chunk` again and again, `every` apart (zero: as fast as it is read),
/// counting the bytes handed to the connection.
pub fn endless(chunk: Bytes, every: Duration, sent: Arc<AtomicUsize>) -> Chunks {
    Box::pin(futures::stream::unfold((), move |()| {
        let (chunk, sent) = (chunk.clone(), sent.clone());
        async move {
            if !every.is_zero() {
                tokio::time::sleep(every).await;
            }
            sent.fetch_add(chunk.len(), Ordering::SeqCst);
            Some((chunk, ()))
        }
    }))
}

/// `head`, then `chunk` `times` times (as fast as it is read), counting the bytes sent.
pub fn repeated(head: Bytes, chunk: Bytes, times: usize, sent: Arc<AtomicUsize>) -> Chunks {
    let first = futures::stream::once(futures::future::ready(head));
    let rest = futures::stream::iter(std::iter::repeat_n(chunk, times));
    Box::pin(first.chain(rest).inspect(move |b| {
        sent.fetch_add(b.len(), Ordering::SeqCst);
    }))
}
