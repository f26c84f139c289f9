//! The live source: each request sent through the shared HTTP client layer
//! ([`crate::http::Client`]: `http://` on pooled hyper connections, `https://` over rustls),
//! with the headers of the URL's own service (its credentials, no other's; an OAuth2 token
//! renewed as [`crate::http::Credentials`] does). Redirects are not followed here: the crawler
//! follows them inside the declared services.

use std::sync::Arc;

use url::Url;

use super::{Attempt, Source};
use crate::http::{self, Client, ClientError, Credentials, IssuedTokens};
use crate::rules::Rules;
use crate::vocab::Reason;

/// Bounds of one request and whom to trust over TLS: the client layer's options.
pub type LiveOptions = http::ClientOptions;

/// Live HTTP requests to the declared services.
pub struct LiveSource {
    client: Client,
    rules: Arc<Rules>,
    /// Per service: the headers of its requests, its credentials included.
    credentials: Credentials,
}

impl LiveSource {
    /// Builds the shared client. Fails when an auth header value cannot be sent or a TLS
    /// setting is unusable.
    pub fn new(rules: Arc<Rules>, mut opts: LiveOptions) -> Result<LiveSource, ClientError> {
        if opts.proxies.is_none() {
            opts.proxies = Some(http::Proxies::from_process(&rules));
        }
        Ok(LiveSource {
            client: Client::for_services(&opts, &rules)?,
            credentials: Credentials::new(&rules)?,
            rules,
        })
    }

    /// Gets the first OAuth2 token of every service that uses OAuth2, before the crawl's first
    /// request; fails when one cannot be had.
    pub async fn start(&self) -> Result<(), ClientError> {
        self.credentials.start(&self.client).await
    }

    /// The OAuth2 tokens handed out so far (for the recorder's redaction).
    pub fn issued_tokens(&self) -> Option<IssuedTokens> {
        self.credentials
            .has_oauth2()
            .then(|| self.credentials.issued())
    }
}

impl Source for LiveSource {
    async fn fetch(&self, url: &Url) -> Attempt {
        let Some(service) = self.rules.service_of(url) else {
            return Attempt::Failed {
                reason: Reason::RedirectOutOfScope,
                detail: format!("{url} is outside every declared service (not requested)"),
                status: None,
            };
        };
        let sent = self
            .credentials
            .send(&self.client, service, &http::Method::GET, url, None)
            .await;
        match sent {
            Ok(resp) => Attempt::Answer(resp),
            Err(failure) => Attempt::Failed {
                reason: failure.reason(),
                detail: failure.to_string(),
                status: None,
            },
        }
    }

    fn sleeps(&self) -> bool {
        true
    }
}
