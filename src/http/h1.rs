//! Plain `http://` requests on long-lived HTTP/1.1 connections (hyper's `client::conn::http1`),
//! pooled per origin. The live crawl spent more CPU in reqwest's layers around each request
//! (redirect and retry layers that parse the URL back, a pool checkout, a header map per
//! request) than in the HTTP exchange itself; this path keeps only the exchange. `https://`
//! stays on reqwest (rustls), see [`super::tls`]; [`super::Client`] picks one by scheme.
//!
//! What it keeps from the reqwest path: no automatic redirects (the caller reads `Location`),
//! `gzip` / `deflate` / `br` bodies decoded (the `content-encoding` and `content-length`
//! headers then dropped, like reqwest), the body cap counted after decoding, a request that
//! was never written to a reused connection resent on a fresh one (never one that was sent).

use std::io;
use std::pin::Pin;
use std::sync::Mutex;

use async_compression::tokio::bufread::{BrotliDecoder, GzipDecoder, ZlibDecoder};
use bytes::{Bytes, BytesMut};
use futures::TryStreamExt;
use http_body_util::{BodyDataStream, BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{HeaderValue, CONTENT_TYPE, HOST};
use hyper::Uri;
use hyper_util::rt::TokioIo;
use rustc_hash::FxHashMap;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio_util::io::StreamReader;
use url::{Host, Position, Url};

use super::client::{header_list, is_redirect, redirect_answer, Request, Response};
use super::failure::{root_cause, Failure};

/// A connection's request side. A `GET`'s body is an empty `Full` (no allocation, no
/// `content-length`, as with `Empty`); `apply`'s writes send theirs.
type Sender = SendRequest<Full<Bytes>>;

/// Idle connections per origin (`http://host:port`), most recently used last.
pub(super) struct Pool {
    idle: Mutex<FxHashMap<String, Vec<Sender>>>,
    max_idle: usize,
}

impl Pool {
    pub(super) fn new(max_idle: usize) -> Pool {
        Pool {
            idle: Mutex::new(FxHashMap::default()),
            max_idle,
        }
    }

    fn take(&self, origin: &str) -> Option<Sender> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        let list = idle.get_mut(origin)?;
        while let Some(s) = list.pop() {
            if !s.is_closed() {
                return Some(s);
            }
        }
        None
    }

    fn put(&self, origin: &str, sender: Sender) {
        if sender.is_closed() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        match idle.get_mut(origin) {
            Some(list) if list.len() < self.max_idle => list.push(sender),
            Some(_) => {}
            None => {
                idle.insert(origin.to_string(), vec![sender]);
            }
        }
    }
}

/// How a body is encoded (the encodings reqwest decoded: exact `content-encoding` values).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Coding {
    Identity,
    Gzip,
    Deflate,
    Brotli,
}

/// One request for a canonical `http://` URL, without a timeout (the caller bounds it).
pub(super) async fn request(
    pool: &Pool,
    req: Request<'_>,
    max_body: usize,
) -> Result<Response, Failure> {
    let url = req.url;
    let origin = &url[..Position::BeforePath];
    let mut message = build(req).map_err(|e| Failure::BadRequest(e.to_string()))?;
    let (sender, resp) = loop {
        let (mut sender, reused) = match pool.take(origin) {
            Some(s) => (s, true),
            None => (connect(url).await.map_err(Failure::Connect)?, false),
        };
        if sender.ready().await.is_err() {
            if reused {
                continue;
            }
            return Err(Failure::Closed(
                "connection closed before the request was sent".into(),
            ));
        }
        match sender.try_send_request(message).await {
            Ok(resp) => break (sender, resp),
            Err(mut e) => match e.take_message() {
                // Never written: safe to send again, on another connection.
                Some(r) if reused => message = r,
                _ => return Err(Failure::Closed(root_cause(&e.into_error()))),
            },
        }
    };

    let status = resp.status().as_u16();
    // Never the headers: the request's carry the service's credentials.
    tracing::trace!(url = url.as_str(), status, "answer");
    if !(100..=599).contains(&status) {
        // RFC 9110 §15: an invalid status is handled as a 5xx (as on the reqwest path).
        return Err(Failure::InvalidStatus(status));
    }
    let coding = match resp.headers().get(hyper::header::CONTENT_ENCODING) {
        Some(v) => match v.as_bytes() {
            b"gzip" => Coding::Gzip,
            b"deflate" => Coding::Deflate,
            b"br" => Coding::Brotli,
            _ => Coding::Identity,
        },
        None => Coding::Identity,
    };
    let headers = header_list(resp.headers(), |name| {
        coding != Coding::Identity
            && (name == hyper::header::CONTENT_ENCODING || name == hyper::header::CONTENT_LENGTH)
    });
    if is_redirect(status) {
        // A redirect's body is never read (it may never end); its connection is not reused.
        return Ok(redirect_answer(status, headers));
    }
    let ok = (200..=299).contains(&status);
    let body = resp.into_body();
    let read = match coding {
        Coding::Identity => read_plain(body, max_body).await,
        _ => read_decoded(body, coding, max_body).await,
    };
    let (body, truncated) = match read {
        Ok(Read::Whole(b)) => {
            pool.put(origin, sender);
            (b, false)
        }
        Ok(Read::OverCap) => (Bytes::new(), true),
        // A failed answer is its status line: a body that cannot be read (cut short, badly
        // encoded) does not make a 404 a transient reset.
        Err(_) if !ok => (Bytes::new(), false),
        Err(failure) => return Err(failure),
    };
    Ok(Response {
        status,
        headers: headers.into(),
        body,
        truncated,
    })
}

fn build(req: Request<'_>) -> Result<hyper::Request<Full<Bytes>>, hyper::http::Error> {
    let url = req.url;
    let mut message = hyper::Request::new(match req.body {
        Some((_, body)) => Full::new(body.clone()),
        None => Full::new(Bytes::new()),
    });
    *message.method_mut() = req.method.clone();
    *message.uri_mut() = Uri::try_from(&url[Position::BeforePath..Position::AfterQuery])?;
    let h = message.headers_mut();
    h.reserve(req.headers.len() + 2);
    h.insert(
        HOST,
        HeaderValue::from_str(&url[Position::BeforeHost..Position::AfterPort])?,
    );
    h.extend(req.headers.iter().map(|(n, v)| (n.clone(), v.clone())));
    if let Some((content_type, _)) = req.body {
        h.insert(CONTENT_TYPE, HeaderValue::from_str(content_type)?);
    }
    Ok(message)
}

async fn connect(url: &Url) -> Result<Sender, String> {
    let port = url.port_or_known_default().unwrap_or(80);
    let stream = match url.host() {
        Some(Host::Ipv4(ip)) => tokio::net::TcpStream::connect((ip, port)).await,
        Some(Host::Ipv6(ip)) => tokio::net::TcpStream::connect((ip, port)).await,
        Some(Host::Domain(d)) => tokio::net::TcpStream::connect((d, port)).await,
        None => return Err("the URL has no host".into()),
    }
    .map_err(|e| root_cause(&e))?;
    let _ = stream.set_nodelay(true);
    tracing::trace!(origin = &url[..Position::BeforePath], "new connection");
    let (sender, conn) = http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| root_cause(&e))?;
    tokio::spawn(async move {
        // Ends when the server closes the connection or every sender is dropped.
        let _ = conn.await;
    });
    Ok(sender)
}

enum Read {
    /// The whole body, read to its end.
    Whole(Bytes),
    /// Longer than the cap (decoded length): cut, not read further.
    OverCap,
}

async fn read_plain(mut body: hyper::body::Incoming, max_body: usize) -> Result<Read, Failure> {
    // Most bodies come in one frame: keep it as it is, copy only when there are more.
    let mut first: Option<Bytes> = None;
    let mut rest = BytesMut::new();
    let mut len = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| Failure::Closed(root_cause(&e)))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        if len + data.len() > max_body {
            return Ok(Read::OverCap);
        }
        len += data.len();
        match &first {
            None if rest.is_empty() => first = Some(data),
            _ => {
                if let Some(f) = first.take() {
                    rest.extend_from_slice(&f);
                }
                rest.extend_from_slice(&data);
            }
        }
    }
    Ok(Read::Whole(match first {
        Some(f) => f,
        None => rest.freeze(),
    }))
}

async fn read_decoded(
    body: hyper::body::Incoming,
    coding: Coding,
    max_body: usize,
) -> Result<Read, Failure> {
    let stream = BodyDataStream::new(body).map_err(io::Error::other);
    let reader = StreamReader::new(stream);
    let mut dec: Pin<Box<dyn AsyncRead + Send>> = match coding {
        Coding::Gzip => Box::pin(GzipDecoder::new(reader)),
        Coding::Deflate => Box::pin(ZlibDecoder::new(reader)),
        Coding::Brotli => Box::pin(BrotliDecoder::new(reader)),
        Coding::Identity => Box::pin(reader),
    };
    let mut out = BytesMut::new();
    let mut chunk = vec![0u8; 32 * 1024];
    loop {
        let n = dec
            .read(&mut chunk)
            .await
            .map_err(|e| Failure::BadBody(root_cause(&e)))?;
        if n == 0 {
            return Ok(Read::Whole(out.freeze()));
        }
        if out.len() + n > max_body {
            return Ok(Read::OverCap);
        }
        out.extend_from_slice(&chunk[..n]);
    }
}
