//! The one place a request is sent: [`Client::send`] picks the transport by scheme — pooled
//! hyper HTTP/1.1 connections for `http://` ([`super::h1`], the fast path), reqwest over rustls
//! for `https://` ([`super::tls`]) — under one timeout, with one body cap counted after
//! decoding, and returns an answer or a [`Failure`]. Redirects are never followed here.

use std::time::Duration;

use ::http::header::{HeaderMap, HeaderName, HeaderValue, ACCEPT, ACCEPT_ENCODING, USER_AGENT};
use ::http::Method;
use bytes::Bytes;
use url::Url;

use super::failure::{ClientError, Failure};
use super::tls_config::{self, TlsSetting};
use super::{h1, tls};
use crate::rules::{Rules, ServiceId};

/// What every request accepts.
pub const ACCEPT_VALUE: &str = "application/hal+json, application/vnd.api+json, \
    application/vnd.siren+json, application/vnd.collection+json, application/ld+json, \
    application/json;q=0.9, */*;q=0.1";

/// The `User-Agent` of every request.
pub const USER_AGENT_VALUE: &str = concat!("bacaudit/", env!("CARGO_PKG_VERSION"));

/// A response's headers: lower-case names and values, cheap to clone.
pub type Headers = std::sync::Arc<[(String, String)]>;

/// Bounds of one request, and whom to trust over TLS.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Whole-request timeout (connect, headers and body).
    pub timeout: Duration,
    /// Largest body read (after decoding); beyond it the body is cut and the answer marked
    /// `truncated`.
    pub max_body: usize,
    /// How `https://` connections are verified.
    pub tls: TlsOptions,
    /// Proxied services; `None`: decided from the rules and the process environment by the
    /// crawl's source, none elsewhere.
    pub proxies: Option<super::Proxies>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            timeout: Duration::from_secs(10),
            max_body: 8 * 1024 * 1024,
            tls: TlsOptions::default(),
            proxies: None,
        }
    }
}

/// How `https://` servers are verified: the bundled (webpki) roots and the system's (which
/// `SSL_CERT_FILE` / `SSL_CERT_DIR` replace), plus these — for every service (the command
/// line's `--ca` and `--insecure`). A service's own `tls` table adds to them
/// ([`Client::for_services`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// Extra trusted root certificates, each a PEM document (one or more certificates).
    pub extra_roots_pem: Vec<Vec<u8>>,
    /// Verify no certificate at all (loudly warned).
    pub insecure: bool,
}

/// One HTTP answer (a single request: redirects are the caller's to follow).
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    /// Lower-case header names; a repeated header joined with `, ` (shared: a replayed
    /// snapshot hands out the same header set for every URL that recorded it).
    pub headers: Headers,
    /// The body, decoded (empty for a redirect, whose body is never read).
    pub body: Bytes,
    /// The body was cut at the configured cap.
    pub truncated: bool,
}

impl Response {
    /// The value of a header (lower-case name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One request to send.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub method: &'a Method,
    pub url: &'a Url,
    /// The headers of the service the URL belongs to ([`ServiceHeaders`]): its credentials
    /// and no other service's.
    pub headers: &'a HeaderMap,
    /// A body and its content type.
    pub body: Option<(&'a str, &'a Bytes)>,
}

impl<'a> Request<'a> {
    /// A `GET` of `url` with these headers.
    pub fn get(url: &'a Url, headers: &'a HeaderMap) -> Request<'a> {
        Request {
            method: &Method::GET,
            url,
            headers,
            body: None,
        }
    }
}

/// The shared client: one per crawl or `apply`.
pub struct Client {
    h1: h1::Pool,
    tls: reqwest::Client,
    /// Per service, the `https://` client of its TLS setting (clones share one pool); empty
    /// when built without rules.
    service_tls: Vec<reqwest::Client>,
    /// Proxied services, and a client through each one's proxy (by route).
    proxies: super::Proxies,
    proxied: Vec<reqwest::Client>,
    timeout: Duration,
    max_body: usize,
}

impl Client {
    /// Builds both transports with the options' TLS setting for every URL. Fails only on an
    /// unusable TLS setting.
    pub fn new(opts: &ClientOptions) -> Result<Client, ClientError> {
        if opts.tls.insecure {
            tracing::warn!("TLS certificate verification is OFF (--insecure)");
        }
        Ok(Client {
            h1: h1::Pool::new(256),
            tls: tls::client(opts, &TlsSetting::global(&opts.tls), None)?,
            service_tls: Vec::new(),
            proxies: opts.proxies.clone().unwrap_or_default(),
            proxied: proxied_clients(opts, |_| TlsSetting::global(&opts.tls))?,
            timeout: opts.timeout,
            max_body: opts.max_body,
        })
    }

    /// [`Client::new`], plus one `https://` client per distinct TLS setting of the services
    /// (their `tls` tables on top of the options'), used by [`Client::send_as`].
    pub fn for_services(opts: &ClientOptions, rules: &Rules) -> Result<Client, ClientError> {
        let plan = tls_config::plan(&opts.tls, rules);
        let mut clients = Vec::with_capacity(plan.settings.len());
        for (i, setting) in plan.settings.iter().enumerate() {
            let built = tls::client(opts, setting, None);
            let built = match plan.of_service.iter().position(|&s| s == i) {
                // A service's own setting: its name in the message.
                Some(first) if i > 0 => built.map_err(|e| ClientError::ServiceTls {
                    service: rules.services[first].name.clone(),
                    message: e.to_string(),
                })?,
                _ => built?,
            };
            clients.push(built);
        }
        for name in tls_config::insecure_services(&opts.tls, rules) {
            tracing::warn!(
                service = name,
                "TLS certificate verification is OFF for service {name} (insecure): anyone on \
                 the network path can answer for it"
            );
        }
        // A proxied service's client keeps the service's own TLS setting.
        let setting_of = |base: &str| {
            rules
                .services
                .iter()
                .position(|s| s.base_url.as_str() == base)
                .map_or_else(
                    || TlsSetting::global(&opts.tls),
                    |i| plan.settings[plan.of_service[i]].clone(),
                )
        };
        let proxied = proxied_clients(opts, setting_of)?;
        Ok(Client {
            h1: h1::Pool::new(256),
            proxies: opts.proxies.clone().unwrap_or_default(),
            proxied,
            service_tls: plan
                .of_service
                .iter()
                .map(|&i| clients[i].clone())
                .collect(),
            tls: clients.swap_remove(0),
            timeout: opts.timeout,
            max_body: opts.max_body,
        })
    }

    /// Sends one request and reads its answer (a redirect's body is not read), bounded by
    /// the timeout as a whole.
    pub async fn send(&self, req: Request<'_>) -> Result<Response, Failure> {
        self.send_over(&self.tls, req).await
    }

    /// [`Client::send`] for a URL of `service`: over its TLS setting when it is `https://`.
    pub async fn send_as(&self, service: ServiceId, req: Request<'_>) -> Result<Response, Failure> {
        let tls = self
            .service_tls
            .get(usize::from(service))
            .unwrap_or(&self.tls);
        self.send_over(tls, req).await
    }

    async fn send_over(
        &self,
        tls: &reqwest::Client,
        req: Request<'_>,
    ) -> Result<Response, Failure> {
        // A proxied service goes through reqwest, whatever its scheme.
        let proxied = if self.proxies.is_empty() {
            None
        } else {
            self.proxies.route(req.url).map(|i| &self.proxied[i])
        };
        let exchange = async {
            if let Some(client) = proxied {
                tls::request(client, req, self.max_body, self.timeout).await
            } else if req.url.scheme() == "http" {
                h1::request(&self.h1, req, self.max_body).await
            } else {
                tls::request(tls, req, self.max_body, self.timeout).await
            }
        };
        match tokio::time::timeout(self.timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(Failure::Timeout(self.timeout)),
        }
    }
}

/// Per service, the headers of every request to it (all but `Host`): `Accept`,
/// `Accept-Encoding`, `User-Agent` and the service's own credentials, made once. A request
/// takes the headers of the service its URL belongs to, so a credential never reaches another
/// service, also not through a redirect (each hop is a request of its own).
#[derive(Debug, Clone)]
pub struct ServiceHeaders(Vec<HeaderMap>);

impl ServiceHeaders {
    /// Each service's headers; fails when an auth header cannot be sent.
    pub fn new(rules: &Rules) -> Result<ServiceHeaders, ClientError> {
        let mut all = Vec::with_capacity(rules.services.len());
        for s in &rules.services {
            let mut h = HeaderMap::with_capacity(5);
            h.insert(ACCEPT, HeaderValue::from_static(ACCEPT_VALUE));
            h.insert(ACCEPT_ENCODING, HeaderValue::from_static("gzip,deflate,br"));
            h.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
            if let Some(a) = &s.auth {
                let name = HeaderName::from_bytes(a.header.as_bytes()).map_err(|_| {
                    ClientError::AuthHeaderName {
                        service: s.name.clone(),
                        header: a.header.clone(),
                    }
                })?;
                let mut value = HeaderValue::from_str(a.value.expose()).map_err(|_| {
                    ClientError::AuthHeaderValue {
                        service: s.name.clone(),
                        env: a.env.clone(),
                    }
                })?;
                // Never logged.
                value.set_sensitive(true);
                h.insert(name, value);
            }
            super::headers::add_service_headers(&mut h, s)?;
            all.push(h);
        }
        Ok(ServiceHeaders(all))
    }

    /// The headers of one service.
    pub fn of(&self, service: ServiceId) -> &HeaderMap {
        &self.0[service as usize]
    }
}

/// A response's headers as a source keeps them: lower-case names in the order first seen, a
/// repeated header's values joined with `, `, the headers `skip` names left out.
pub(crate) fn header_list(
    map: &HeaderMap,
    skip: impl Fn(&HeaderName) -> bool,
) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = Vec::with_capacity(map.keys_len());
    for (name, value) in map {
        if skip(name) {
            continue;
        }
        let v = String::from_utf8_lossy(value.as_bytes());
        match headers.iter_mut().find(|(n, _)| n == name.as_str()) {
            Some((_, existing)) => {
                existing.push_str(", ");
                existing.push_str(&v);
            }
            None => headers.push((name.as_str().to_string(), v.into_owned())),
        }
    }
    headers
}

/// Whether a status is a redirect whose body is not read.
pub(crate) fn is_redirect(status: u16) -> bool {
    (300..=399).contains(&status)
}

/// The empty answer to a redirect: the caller follows its `Location` and never reads its body
/// (it may never end).
pub(crate) fn redirect_answer(status: u16, headers: Vec<(String, String)>) -> Response {
    Response {
        status,
        headers: headers.into(),
        body: Bytes::new(),
        truncated: false,
    }
}

/// One client per proxy route, each with the TLS setting `setting_of` gives for the route's
/// base URL.
fn proxied_clients(
    opts: &ClientOptions,
    setting_of: impl Fn(&str) -> TlsSetting,
) -> Result<Vec<reqwest::Client>, ClientError> {
    match &opts.proxies {
        Some(p) => p
            .routes
            .iter()
            .map(|(base, proxy)| tls::client(opts, &setting_of(base), Some(proxy)))
            .collect(),
        None => Ok(Vec::new()),
    }
}
