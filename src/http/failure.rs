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
    /// The TLS handshake failed: a certificate the client does not accept (an unknown
    /// issuer, expired, another host's name) or a handshake the server refused (no client
    /// certificate). Retrying does not change a certificate: `tls_error`, not retried.
    #[error("TLS error: {cause} ({message})")]
    Tls {
        /// What went wrong, in a few words ([`tls_cause`]).
        cause: &'static str,
        /// rustls' own words.
        message: String,
    },
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
            Failure::Connect(_) => Reason::ConnectFailed,
            Failure::Tls { .. } => Reason::TlsError,
            Failure::Closed(_) | Failure::BadBody(_) | Failure::BadRequest(_) => {
                Reason::ConnectionReset
            }
            Failure::InvalidStatus(_) => Reason::ServerError,
            Failure::Auth(_) => Reason::AuthFailed,
        }
    }
}

impl Failure {
    /// A TLS failure from rustls' error.
    pub fn from_rustls(e: &rustls::Error) -> Failure {
        Failure::Tls {
            cause: tls_cause(e),
            message: e.to_string(),
        }
    }
}

/// The cause of a TLS failure in a few words: `unknown issuer`, `expired`, `name mismatch`,
/// `no client certificate`, `client certificate rejected`, or `handshake failure`.
pub fn tls_cause(e: &rustls::Error) -> &'static str {
    use rustls::{AlertDescription as A, CertificateError as C};
    match e {
        rustls::Error::InvalidCertificate(c) => match c {
            C::UnknownIssuer => "unknown issuer",
            C::Expired | C::ExpiredContext { .. } => "expired",
            C::NotValidYet | C::NotValidYetContext { .. } => "not yet valid",
            C::NotValidForName | C::NotValidForNameContext { .. } => "name mismatch",
            C::Revoked => "revoked",
            _ => "invalid certificate",
        },
        rustls::Error::AlertReceived(A::CertificateRequired) => "no client certificate",
        rustls::Error::AlertReceived(
            A::BadCertificate
            | A::UnknownCA
            | A::CertificateExpired
            | A::CertificateRevoked
            | A::CertificateUnknown
            | A::UnsupportedCertificate
            | A::AccessDenied,
        ) => "client certificate rejected",
        _ => "handshake failure",
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
    /// A service's TLS setting (its CA, client certificate or key) that the TLS client refuses.
    #[error("service {service}: unusable TLS setting: {message}")]
    ServiceTls { service: String, message: String },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::Class;

    #[test]
    fn a_tls_failure_is_tls_error_in_class_access_with_its_cause() {
        use rustls::CertificateError as C;
        let cases = [
            (
                rustls::Error::InvalidCertificate(C::UnknownIssuer),
                "TLS error: unknown issuer (invalid peer certificate: UnknownIssuer)",
            ),
            (
                rustls::Error::InvalidCertificate(C::Expired),
                "TLS error: expired (invalid peer certificate: Expired)",
            ),
            (
                rustls::Error::InvalidCertificate(C::NotValidForName),
                "TLS error: name mismatch (invalid peer certificate: NotValidForName)",
            ),
            (
                rustls::Error::AlertReceived(rustls::AlertDescription::CertificateRequired),
                "TLS error: no client certificate (received fatal alert: CertificateRequired)",
            ),
            (
                rustls::Error::AlertReceived(rustls::AlertDescription::HandshakeFailure),
                "TLS error: handshake failure (received fatal alert: HandshakeFailure)",
            ),
        ];
        for (e, words) in cases {
            let f = Failure::from_rustls(&e);
            assert_eq!(f.reason(), Reason::TlsError);
            assert_eq!(f.reason().class(), Class::Access);
            assert_eq!(f.to_string(), words);
        }
    }

    #[test]
    fn every_other_failure_is_transient_with_its_reason_and_words() {
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
