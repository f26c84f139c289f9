//! Why a request got no usable HTTP answer, in one set of words for both transports, and the
//! one mapping from such a failure to a [`Reason`]; and why a client could not be built.

use std::time::Duration;

use crate::vocab::Reason;

/// A request that got no usable HTTP answer. `Display` is the `detail` of a finding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// The whole request (connect, headers and body) took longer than the timeout.
    #[error("timed out after {} s", .0.as_secs_f64())]
    Timeout(Duration),
    /// No connection: refused, unreachable, or the name did not resolve.
    #[error("connection failed: {0}")]
    Connect(String),
    /// The TLS handshake failed: most often a certificate the client does not trust (an
    /// unknown CA, another host's name, expired). Retried like any connect failure, within
    /// the retry budget, and named so in the detail.
    #[error("TLS handshake failed (certificate not accepted?): {0}")]
    Tls(String),
    /// The connection closed (or was reset) before a complete answer came.
    #[error("connection closed without a complete answer: {0}")]
    Closed(String),
    /// A body that could not be decoded (a broken gzip, brotli or deflate stream).
    #[error("bad response body: {0}")]
    BadBody(String),
    /// A status outside 100-599: handled as a 5xx (RFC 9110 §15). No status is kept, so a
    /// recording of it (`"error": "server_error"`) replays the same.
    #[error("invalid HTTP status {0} (handled as a server error)")]
    InvalidStatus(u16),
    /// The request could not be written (a URL or header hyper refuses).
    #[error("cannot make the request: {0}")]
    BadRequest(String),
    /// No credential could be had for the request (an OAuth2 token endpoint that fails): not
    /// sent. The words never hold a secret.
    #[error("{0}")]
    Auth(String),
}

impl Failure {
    /// The reason code of this failure (its class follows from it).
    pub fn reason(&self) -> Reason {
        match self {
            Failure::Timeout(_) => Reason::Timeout,
            Failure::Connect(_) | Failure::Tls(_) => Reason::ConnectFailed,
            Failure::Closed(_) | Failure::BadBody(_) | Failure::BadRequest(_) => {
                Reason::ConnectionReset
            }
            Failure::InvalidStatus(_) => Reason::ServerError,
            Failure::Auth(_) => Reason::AuthFailed,
        }
    }
}

/// The innermost error message (outer messages tend to repeat the URL).
pub(crate) fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// A client that cannot be built: a bad credential header or an unusable TLS setting.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("service {service}: bad auth header name `{header}`")]
    AuthHeaderName { service: String, header: String },
    #[error("service {service}: the value of ${env} is not a valid header value")]
    AuthHeaderValue { service: String, env: String },
    #[error("service {service}: cannot get an OAuth2 token: {message}")]
    Token { service: String, message: String },
    #[error("extra root certificate {index}: {message}")]
    RootCertificate { index: usize, message: String },
    #[error("cannot build the HTTP client: {0}")]
    Build(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::Class;

    #[test]
    fn every_failure_is_transient_with_its_reason_and_words() {
        let cases = [
            (
                Failure::Timeout(Duration::from_millis(1500)),
                Reason::Timeout,
                "timed out after 1.5 s",
            ),
            (
                Failure::Connect("refused".into()),
                Reason::ConnectFailed,
                "connection failed: refused",
            ),
            (
                Failure::Tls("bad".into()),
                Reason::ConnectFailed,
                "TLS handshake failed (certificate not accepted?): bad",
            ),
            (
                Failure::Closed("eof".into()),
                Reason::ConnectionReset,
                "connection closed without a complete answer: eof",
            ),
            (
                Failure::BadBody("gz".into()),
                Reason::ConnectionReset,
                "bad response body: gz",
            ),
            (
                Failure::InvalidStatus(999),
                Reason::ServerError,
                "invalid HTTP status 999 (handled as a server error)",
            ),
            (
                Failure::BadRequest("uri".into()),
                Reason::ConnectionReset,
                "cannot make the request: uri",
            ),
        ];
        for (failure, reason, words) in cases {
            assert_eq!(failure.reason(), reason);
            assert_eq!(failure.reason().class(), Class::Transient);
            assert_eq!(failure.to_string(), words);
        }
    }
}
