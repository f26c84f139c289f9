//! The one HTTP client layer, used by the crawl (through `source::LiveSource`) and by
//! `apply`: one place that sends a request ([`Client::send`]: hyper HTTP/1.1 for `http://`,
//! reqwest over rustls for `https://`), one retry loop ([`retry`]) with one classification of
//! statuses ([`classify_status`]), and one mapping from a transport failure to a
//! [`Reason`](crate::vocab::Reason) ([`Failure::reason`]). Each service's credentials go on
//! its requests through [`Credentials`]: static headers, or OAuth2 tokens fetched and renewed
//! by a [`TokenSource`] (`oauth2.rs`).
//!
//! It imports only the layers below it (`vocab`, `canon`, `json`, `intern`, `rules`; checked
//! by `tests/layers.rs`): `source`, `crawl` and `apply` build on it.

mod client;
mod credentials;
mod failure;
mod h1;
mod headers;
mod oauth2;
mod proxy;
mod retry;
mod tls;
mod tls_config;

pub use ::http::Method;
pub use client::{
    Client, ClientOptions, Headers, Request, Response, ServiceHeaders, TlsOptions, ACCEPT_VALUE,
    USER_AGENT_VALUE,
};
pub use credentials::Credentials;
pub use failure::{tls_cause, ClientError, Failure};
pub use oauth2::{IssuedTokens, Token, TokenSource};
pub use proxy::Proxies;
pub use retry::{
    classify_status, next_of, parse_retry_after, retry, Next, RetryPolicy, Retryable, Verdict,
};
pub use tls_config::{insecure_services, insecure_warning};
