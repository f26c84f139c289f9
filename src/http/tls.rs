//! `https://` requests through one shared reqwest client (rustls, keep-alive): the bundled
//! and the system's root certificates plus the configured extra ones, no automatic redirects,
//! bodies decoded by reqwest (gzip, brotli, deflate) and capped after decoding.

use std::time::Duration;

use bytes::BytesMut;
use futures::StreamExt;

use super::client::{
    header_list, is_redirect, redirect_answer, ClientOptions, Request, Response, USER_AGENT_VALUE,
};
use super::failure::{root_cause, ClientError, Failure};
use super::tls_config::TlsSetting;

/// An `https://` client with one TLS setting. `proxy`: every request through that forward
/// proxy; `None`: direct (the environment's proxies are decided per service in
/// [`super::proxy`], not by reqwest).
pub(super) fn client(
    opts: &ClientOptions,
    setting: &TlsSetting,
    proxy: Option<&url::Url>,
) -> Result<reqwest::Client, ClientError> {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(opts.timeout)
        .connect_timeout(opts.timeout)
        .pool_idle_timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(256)
        .tcp_nodelay(true)
        .user_agent(USER_AGENT_VALUE);
    builder = match proxy {
        None => builder.no_proxy(),
        Some(p) => builder.proxy(
            reqwest::Proxy::all(p.as_str()).map_err(|e| ClientError::Build(root_cause(&e)))?,
        ),
    };
    for (index, pem) in setting.roots.iter().enumerate() {
        let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| {
            ClientError::RootCertificate {
                index,
                message: root_cause(&e),
            }
        })?;
        if certs.is_empty() {
            return Err(ClientError::RootCertificate {
                index,
                message: "no PEM certificate in it".into(),
            });
        }
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    if let Some(identity) = &setting.identity {
        // reqwest's words only: they never quote the key.
        let identity = reqwest::Identity::from_pem(&identity.pem())
            .map_err(|e| ClientError::Build(root_cause(&e)))?;
        builder = builder.identity(identity);
    }
    if setting.insecure {
        builder = builder.danger_accept_invalid_certs(true);
    }
    builder
        .build()
        .map_err(|e| ClientError::Build(root_cause(&e)))
}

/// One request, without redirects; reqwest bounds it by the timeout too.
pub(super) async fn request(
    client: &reqwest::Client,
    req: Request<'_>,
    max_body: usize,
    timeout: Duration,
) -> Result<Response, Failure> {
    let mut builder = client
        .request(req.method.clone(), req.url.clone())
        .headers(req.headers.clone());
    if let Some((content_type, body)) = req.body {
        builder = builder
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body.clone());
    }
    let resp = builder.send().await.map_err(|e| failure(&e, timeout))?;
    let status = resp.status().as_u16();
    if !(100..=599).contains(&status) {
        return Err(Failure::InvalidStatus(status));
    }
    let headers = header_list(resp.headers(), |_| false);
    if is_redirect(status) {
        return Ok(redirect_answer(status, headers));
    }
    let mut body = BytesMut::new();
    let mut truncated = false;
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(c) => {
                if body.len() + c.len() > max_body {
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
            Err(e) => return Err(failure(&e, timeout)),
        }
    }
    if truncated {
        body.clear();
    }
    Ok(Response {
        status,
        headers: headers.into(),
        body: body.freeze(),
        truncated,
    })
}

/// The one reading of a reqwest error.
fn failure(e: &reqwest::Error, timeout: Duration) -> Failure {
    if e.is_timeout() {
        Failure::Timeout(timeout)
    } else if let Some(tls) = tls_error(e) {
        Failure::from_rustls(tls)
    } else if e.is_connect() {
        Failure::Connect(root_cause(e))
    } else if e.is_decode() {
        Failure::BadBody(root_cause(e))
    } else {
        Failure::Closed(root_cause(e))
    }
}

/// The rustls error somewhere in the chain of `e` (a handshake that failed).
fn tls_error<'e>(e: &'e (dyn std::error::Error + 'static)) -> Option<&'e rustls::Error> {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        // `io::Error::source` skips the error it wraps (which may wrap another): step into it.
        cur = match err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => err.source(),
        };
    }
    None
}
