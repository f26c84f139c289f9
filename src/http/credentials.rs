//! Each service's credentials on its requests: the static headers of [`ServiceHeaders`] and, for
//! a service with OAuth2 client credentials, a [`TokenSource`] whose token goes in. The crawl
//! (through `source::LiveSource`) and `apply` send through [`Credentials::send`], so
//! both renew a token the same way and send it to its service only (a redirect's next hop is a
//! request of its own, with the headers of the service it lands in).
//!
//! A service without OAuth2 costs one branch per request over [`ServiceHeaders`]: no lock, no
//! allocation.

use std::borrow::Cow;

use ::http::header::HeaderMap;
use ::http::Method;
use bytes::Bytes;
use url::Url;

use super::client::{Client, Request, Response, ServiceHeaders};
use super::failure::{ClientError, Failure};
use super::oauth2::{IssuedTokens, TokenSource};
use crate::rules::{Rules, ServiceId};

/// Per service, what its requests carry.
pub struct Credentials {
    headers: ServiceHeaders,
    /// Indexed by service; None for a service without OAuth2.
    oauth2: Box<[Option<TokenSource>]>,
    issued: IssuedTokens,
}

impl Credentials {
    /// The credentials of every service; fails when a static header cannot be sent. No token
    /// is fetched yet ([`Credentials::start`]).
    pub fn new(rules: &Rules) -> Result<Credentials, ClientError> {
        let headers = ServiceHeaders::new(rules)?;
        let issued = IssuedTokens::default();
        let oauth2 = rules
            .services
            .iter()
            .enumerate()
            .map(|(i, s)| {
                s.oauth2.as_ref().map(|o| {
                    let base = headers.of(i as ServiceId).clone();
                    TokenSource::new(&s.name, o, base, issued.clone())
                })
            })
            .collect();
        Ok(Credentials {
            headers,
            oauth2,
            issued,
        })
    }

    /// Fetches the first token of every service with OAuth2, before any request to it. Fails
    /// (naming the service and the token endpoint's answer) when one cannot be had.
    pub async fn start(&self, client: &Client) -> Result<(), ClientError> {
        for ts in self.oauth2.iter().flatten() {
            ts.token(client)
                .await
                .map_err(|message| ClientError::Token {
                    service: ts.service().to_string(),
                    message,
                })?;
        }
        Ok(())
    }

    /// The tokens handed out so far (for redaction).
    pub fn issued(&self) -> IssuedTokens {
        self.issued.clone()
    }

    /// Whether any service uses OAuth2.
    pub fn has_oauth2(&self) -> bool {
        self.oauth2.iter().any(Option::is_some)
    }

    /// Sends one request to `service` with its credentials. With OAuth2: a token that cannot
    /// be had is [`Failure::Auth`]; a 401 renews the token once and the request is sent once
    /// more with the new one.
    pub async fn send(
        &self,
        client: &Client,
        service: ServiceId,
        method: &Method,
        url: &Url,
        body: Option<(&str, &Bytes)>,
    ) -> Result<Response, Failure> {
        self.send_with(client, service, method, url, body, &HeaderMap::new())
            .await
    }

    /// [`Credentials::send`] with `extra` headers on top of the service's own (`apply`'s
    /// `If-Match`); an extra header replaces a service header of the same name.
    pub async fn send_with(
        &self,
        client: &Client,
        service: ServiceId,
        method: &Method,
        url: &Url,
        body: Option<(&str, &Bytes)>,
        extra: &HeaderMap,
    ) -> Result<Response, Failure> {
        let request = |headers| Request {
            method,
            url,
            headers,
            body,
        };
        let Some(ts) = &self.oauth2[service as usize] else {
            let headers = with_extra(self.headers.of(service), extra);
            return client.send_as(service, request(&headers)).await;
        };
        let token = ts.token(client).await.map_err(|m| no_token(ts, m))?;
        let headers = with_extra(&token.headers, extra);
        let resp = client.send_as(service, request(&headers)).await?;
        if resp.status != 401 {
            return Ok(resp);
        }
        match ts.after_unauthorized(client, &token).await {
            Ok(Some(renewed)) => {
                let headers = with_extra(&renewed.headers, extra);
                client.send_as(service, request(&headers)).await
            }
            Ok(None) => Ok(resp),
            Err(m) => Err(no_token(ts, m)),
        }
    }
}

/// `base` with `extra` on top (borrowed when there is nothing to add).
fn with_extra<'a>(base: &'a HeaderMap, extra: &HeaderMap) -> Cow<'a, HeaderMap> {
    if extra.is_empty() {
        return Cow::Borrowed(base);
    }
    let mut h = base.clone();
    for (name, value) in extra {
        h.insert(name.clone(), value.clone());
    }
    Cow::Owned(h)
}

fn no_token(ts: &TokenSource, message: String) -> Failure {
    Failure::Auth(format!(
        "no OAuth2 token for service {}: {message}",
        ts.service()
    ))
}
