//! Why a fetch did not end 2xx (`reason`) and what that means (`class`): the words of the retry
//! classification that the source, the crawl, the graph, the analysis and the reports share.

/// Why a fetch did not end 2xx (the `reason` of findings and snapshot `error`s).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reason {
    NotFound,
    Gone,
    ClientError,
    AccessDenied,
    RateLimited,
    ServerError,
    Timeout,
    ConnectFailed,
    ConnectionReset,
    TooManyRedirects,
    RedirectOutOfScope,
    BodyTooLarge,
    ServiceUnavailable,
    /// The TLS handshake failed (unknown issuer, expired, name mismatch, …): retrying does
    /// not change a certificate.
    TlsError,
    /// No credential could be had for the service (its OAuth2 token endpoint failed).
    AuthFailed,
}

impl Reason {
    pub const ALL: [Reason; 15] = [
        Reason::NotFound,
        Reason::Gone,
        Reason::ClientError,
        Reason::AccessDenied,
        Reason::RateLimited,
        Reason::ServerError,
        Reason::Timeout,
        Reason::ConnectFailed,
        Reason::ConnectionReset,
        Reason::TooManyRedirects,
        Reason::RedirectOutOfScope,
        Reason::BodyTooLarge,
        Reason::ServiceUnavailable,
        Reason::TlsError,
        Reason::AuthFailed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::NotFound => "not_found",
            Reason::Gone => "gone",
            Reason::ClientError => "client_error",
            Reason::AccessDenied => "access_denied",
            Reason::RateLimited => "rate_limited",
            Reason::ServerError => "server_error",
            Reason::Timeout => "timeout",
            Reason::ConnectFailed => "connect_failed",
            Reason::ConnectionReset => "connection_reset",
            Reason::TooManyRedirects => "too_many_redirects",
            Reason::RedirectOutOfScope => "redirect_out_of_scope",
            Reason::BodyTooLarge => "body_too_large",
            Reason::ServiceUnavailable => "service_unavailable",
            Reason::TlsError => "tls_error",
            Reason::AuthFailed => "auth_failed",
        }
    }

    pub fn parse(s: &str) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The class of a fetch that ended with this reason and no answer to classify otherwise.
    pub fn class(self) -> Class {
        match self {
            Reason::NotFound
            | Reason::Gone
            | Reason::ClientError
            | Reason::TooManyRedirects
            | Reason::RedirectOutOfScope
            | Reason::BodyTooLarge => Class::Permanent,
            Reason::AccessDenied | Reason::TlsError | Reason::AuthFailed => Class::Access,
            Reason::RateLimited
            | Reason::ServerError
            | Reason::Timeout
            | Reason::ConnectFailed
            | Reason::ConnectionReset
            | Reason::ServiceUnavailable => Class::Transient,
        }
    }

    /// Failures that happen after an HTTP answer came (the answer's status is kept).
    pub fn follows_answer(self) -> bool {
        matches!(
            self,
            Reason::TooManyRedirects | Reason::RedirectOutOfScope | Reason::BodyTooLarge
        )
    }

    /// Whether a link to a target that ended with this reason is a `broken_link` (the data is
    /// gone) rather than `unresolved` (the evidence is not conclusive).
    pub fn is_broken(self) -> bool {
        matches!(
            self,
            Reason::NotFound | Reason::Gone | Reason::ClientError | Reason::TooManyRedirects
        )
    }
}

/// The class of a failed fetch (`class` in findings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Class {
    Permanent,
    Transient,
    Access,
}

impl Class {
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Permanent => "permanent",
            Class::Transient => "transient",
            Class::Access => "access",
        }
    }
}

impl Class {
    pub fn parse(s: &str) -> Option<Class> {
        [Class::Permanent, Class::Transient, Class::Access]
            .into_iter()
            .find(|c| c.as_str() == s)
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

impl std::fmt::Display for Class {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

super::string_enum!(Reason, "reason");
super::string_enum!(Class, "class");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_have_the_contract_classes() {
        assert_eq!(Reason::NotFound.class(), Class::Permanent);
        assert_eq!(Reason::RateLimited.class(), Class::Transient);
        assert_eq!(Reason::ConnectFailed.class(), Class::Transient);
        assert_eq!(Reason::AccessDenied.class(), Class::Access);
        assert!(Reason::TooManyRedirects.is_broken());
        assert!(!Reason::RedirectOutOfScope.is_broken());
        for r in Reason::ALL {
            assert_eq!(Reason::parse(r.as_str()), Some(r));
        }
    }
}
