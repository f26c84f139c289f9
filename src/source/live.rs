//! The live source: plain `http://` on pooled hyper HTTP/1.1 connections ([`super::h1`]),
//! `https://` through one shared reqwest client (rustls, keep-alive); credentials sent only to
//! their own service, bodies capped, no automatic redirects (the crawler follows them inside
//! the declared services).

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use reqwest::header::{HeaderName, HeaderValue, ACCEPT};
use url::Url;

use super::{h1, Attempt, Response, Source};
use crate::error::Error;
use crate::rules::Rules;
use crate::vocab::Reason;

/// What a live crawl sends with each request.
pub const ACCEPT_VALUE: &str = "application/hal+json, application/vnd.api+json, \
    application/vnd.siren+json, application/vnd.collection+json, application/ld+json, \
    application/json;q=0.9, */*;q=0.1";

/// The `User-Agent` of every request.
pub(super) const USER_AGENT_VALUE: &str = concat!("bacaudit/", env!("CARGO_PKG_VERSION"));

/// Bounds of one request.
#[derive(Debug, Clone, Copy)]
pub struct LiveOptions {
    /// Whole-request timeout (connect, headers and body).
    pub timeout: Duration,
    /// Largest body read; beyond it the body is cut and the fetch is `body_too_large`.
    pub max_body: usize,
}

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions {
            timeout: Duration::from_secs(10),
            max_body: 8 * 1024 * 1024,
        }
    }
}

/// Live HTTP requests to the declared services.
pub struct LiveSource {
    client: reqwest::Client,
    rules: Arc<Rules>,
    /// Per service: the auth header to send, prepared once.
    auth: Vec<Option<(HeaderName, HeaderValue)>>,
    opts: LiveOptions,
    /// Idle plain-HTTP connections.
    pool: h1::Pool,
    /// Per service: the headers of a plain-HTTP request (its auth header included).
    h1_headers: Vec<reqwest::header::HeaderMap>,
}

impl LiveSource {
    /// Builds the shared client. Fails only when an auth header value cannot be sent.
    pub fn new(rules: Arc<Rules>, opts: LiveOptions) -> Result<LiveSource, Error> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(opts.timeout)
            .connect_timeout(opts.timeout)
            .pool_idle_timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(256)
            .tcp_nodelay(true)
            .user_agent(USER_AGENT_VALUE)
            .build()
            .map_err(|e| Error::Other(format!("cannot build the HTTP client: {e}")))?;
        let auth = auth_headers(&rules)?;
        Ok(LiveSource {
            client,
            rules,
            opts,
            pool: h1::Pool::new(256),
            h1_headers: auth
                .iter()
                .map(|a| h1::service_headers(a.as_ref()))
                .collect(),
            auth,
        })
    }

    async fn request(&self, url: &Url) -> Attempt {
        let Some(service) = self.rules.service_of(url) else {
            return Attempt::Failed {
                reason: Reason::RedirectOutOfScope,
                detail: format!("{url} is outside every declared service (not requested)"),
                status: None,
            };
        };
        if url.scheme() == "http" {
            let headers = &self.h1_headers[service as usize];
            let exchange = h1::request(&self.pool, url, headers, self.opts.max_body);
            return match tokio::time::timeout(self.opts.timeout, exchange).await {
                Ok(attempt) => attempt,
                Err(_) => self.timed_out(),
            };
        }
        let mut req = self
            .client
            .get(url.clone())
            .header(ACCEPT, HeaderValue::from_static(ACCEPT_VALUE));
        if let Some((name, value)) = &self.auth[service as usize] {
            req = req.header(name.clone(), value.clone());
        }
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) => return self.failed(&e),
        };
        let status = resp.status().as_u16();
        if !(100..=599).contains(&status) {
            // RFC 9110 §15: an invalid status is handled as a 5xx. No status is kept, so a
            // recording of it (`"error": "server_error"`) replays the same.
            return Attempt::Failed {
                reason: Reason::ServerError,
                detail: format!("invalid HTTP status {status} (handled as a server error)"),
                status: None,
            };
        }
        let headers = super::header_list(resp.headers(), |_| false);
        if (300..=399).contains(&status) {
            // The crawler follows a redirect by its Location and never reads its body: do not
            // wait for one (it may never end).
            return Attempt::Answer(Response {
                status,
                headers: headers.into(),
                body: Bytes::new(),
                truncated: false,
            });
        }
        let mut body = BytesMut::new();
        let mut truncated = false;
        let mut stream = resp.bytes_stream();
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(c) => {
                    if body.len() + c.len() > self.opts.max_body {
                        truncated = true;
                        break;
                    }
                    body.extend_from_slice(&c);
                }
                // A failed answer is its status line: a body that cannot be read (cut short,
                // badly encoded) does not make a 404 a transient reset.
                Err(_) if !(200..=299).contains(&status) => {
                    body.clear();
                    break;
                }
                Err(e) => return self.failed(&e),
            }
        }
        Attempt::Answer(Response {
            status,
            headers: headers.into(),
            body: if truncated {
                Bytes::new()
            } else {
                body.freeze()
            },
            truncated,
        })
    }

    fn timed_out(&self) -> Attempt {
        Attempt::Failed {
            reason: Reason::Timeout,
            detail: format!("timed out after {} s", self.opts.timeout.as_secs_f64()),
            status: None,
        }
    }

    fn failed(&self, e: &reqwest::Error) -> Attempt {
        let (reason, detail) = if e.is_timeout() {
            return self.timed_out();
        } else if e.is_connect() {
            (
                Reason::ConnectFailed,
                format!("connection failed: {}", root_cause(e)),
            )
        } else if e.is_decode() {
            (
                Reason::ConnectionReset,
                format!("bad response body: {}", root_cause(e)),
            )
        } else {
            (
                Reason::ConnectionReset,
                format!(
                    "connection closed without a complete answer: {}",
                    root_cause(e)
                ),
            )
        };
        Attempt::Failed {
            reason,
            detail,
            status: None,
        }
    }
}

/// Each service's auth header, ready to send (values marked sensitive: never logged).
pub fn auth_headers(rules: &Rules) -> Result<Vec<Option<(HeaderName, HeaderValue)>>, Error> {
    let mut auth = Vec::new();
    for s in &rules.services {
        auth.push(match &s.auth {
            None => None,
            Some(a) => {
                let name = HeaderName::from_bytes(a.header.as_bytes()).map_err(|_| {
                    Error::Other(format!(
                        "service {}: bad auth header name `{}`",
                        s.name, a.header
                    ))
                })?;
                let mut value = HeaderValue::from_str(a.value.expose()).map_err(|_| {
                    Error::Other(format!(
                        "service {}: the value of ${} is not a valid header value",
                        s.name, a.env
                    ))
                })?;
                value.set_sensitive(true);
                Some((name, value))
            }
        });
    }
    Ok(auth)
}

/// The innermost error message (reqwest's outer messages repeat the URL).
pub(super) fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

impl Source for LiveSource {
    async fn fetch(&self, url: &Url) -> Attempt {
        self.request(url).await
    }

    fn sleeps(&self) -> bool {
        true
    }
}
