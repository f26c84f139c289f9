//! OAuth2 client credentials (RFC 6749 §4.4) for one service: a [`TokenSource`] fetches a
//! bearer token from the service's token endpoint through the shared [`Client`], keeps it,
//! renews it before it expires and once after a 401, and hands out the service's request
//! headers with the token in them.
//!
//! Renewal: a token that says how long it lives (`expires_in`, lifetime L) is renewed once
//! less than `min(30 s, L / 10)` of it is left; one without `expires_in` only after a 401. One
//! refresh at a time: requests that find the token due wait on the refresh lock and take the
//! token the first of them fetched. A failed renewal while the old token is still valid keeps
//! the old one (tried again after a second); once it has expired, the failure is the request's
//! (`auth_failed`). A 401 renews the token it was answered with, once: a token that itself came
//! from a 401 renewal is not renewed again on a 401 (the service refuses the client, not the
//! token), and requests that were answered 401 with a token already replaced just retry with the
//! new one.
//!
//! Nothing here logs or puts into a message the client secret or a token.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use ::http::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION};
use ::http::Method;
use base64::Engine as _;
use bytes::Bytes;
use tokio::time::Instant;

use super::client::{Client, Request, Response};
use super::failure::Failure;
use super::retry::{next_of, retry, Next, RetryPolicy, Retryable};
use crate::rules::{ClientAuth, OAuth2, Secret};

/// The most of the lifetime a token is renewed ahead of its expiry.
const MAX_MARGIN: Duration = Duration::from_secs(30);
/// How long a failed renewal is not tried again while the old token still holds.
const RETRY_RENEWAL: Duration = Duration::from_secs(1);
/// The longest piece of a token endpoint's error words quoted in a message.
const MAX_QUOTE: usize = 200;

/// Tokens handed out so far, for keeping them out of recordings (shared with the recorder).
#[derive(Debug, Clone, Default)]
pub struct IssuedTokens(Arc<Mutex<Vec<Secret>>>);

impl IssuedTokens {
    /// Every token issued so far (newest last).
    pub fn all(&self) -> Vec<Secret> {
        self.0.lock().expect("issued tokens lock").clone()
    }

    fn push(&self, token: &str) {
        self.0
            .lock()
            .expect("issued tokens lock")
            .push(Secret::new(token.to_string()));
    }
}

/// One token and the request headers that carry it.
#[derive(Debug)]
pub struct Token {
    /// The service's headers with `Authorization: Bearer …` (marked sensitive).
    pub headers: HeaderMap,
    /// Renew from here on (None: only after a 401).
    renew_at: Option<Instant>,
    /// Not valid from here on.
    expires_at: Option<Instant>,
    /// Counts the tokens of this source (1 for the first).
    generation: u64,
    /// Fetched because the service answered 401 to the one before.
    after_401: bool,
}

impl Token {
    fn fresh(&self, now: Instant) -> bool {
        self.renew_at.is_none_or(|r| now < r)
    }

    fn valid(&self, now: Instant) -> bool {
        self.expires_at.is_none_or(|e| now < e)
    }
}

/// The tokens of one service.
pub struct TokenSource {
    service: String,
    token_url: url::Url,
    /// The service's own headers, into which the token goes.
    base: HeaderMap,
    /// The token request's headers (client authentication included, sensitive).
    endpoint_headers: HeaderMap,
    /// The token request's form body.
    form: Bytes,
    /// Secrets to strip from a token endpoint's error words.
    secrets: Vec<Secret>,
    current: RwLock<Option<Arc<Token>>>,
    /// Held while a token is fetched: one refresh at a time.
    refresh: tokio::sync::Mutex<Refresh>,
    /// Fetches made so far (also read without the lock).
    fetches: AtomicU64,
    issued: IssuedTokens,
}

/// What the refresh lock guards: the outcome of the last fetch.
#[derive(Default)]
struct Refresh {
    last_error: Option<String>,
}

impl TokenSource {
    /// The token source of `service`, whose requests carry `base` plus the token.
    pub fn new(service: &str, o: &OAuth2, base: HeaderMap, issued: IssuedTokens) -> TokenSource {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("grant_type", "client_credentials");
        if let Some(scope) = &o.scope {
            form.append_pair("scope", scope);
        }
        if let Some(audience) = &o.audience {
            form.append_pair("audience", audience);
        }
        // Strings that would give the client away if a token endpoint echoed them.
        let mut secrets = vec![o.client_secret.clone()];
        let encoded: String =
            url::form_urlencoded::byte_serialize(o.client_secret.expose().as_bytes()).collect();
        if encoded != o.client_secret.expose() {
            secrets.push(Secret::new(encoded));
        }
        let mut endpoint_headers = HeaderMap::with_capacity(3);
        endpoint_headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        if let Some(ua) = base.get(::http::header::USER_AGENT) {
            endpoint_headers.insert(::http::header::USER_AGENT, ua.clone());
        }
        match o.client_auth {
            ClientAuth::ClientSecretBasic => {
                // RFC 6749 §2.3.1: each part form-urlencoded, then `id:secret` in base64.
                let enc = |s: &str| -> String {
                    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
                };
                let pair = format!(
                    "{}:{}",
                    enc(o.client_id.expose()),
                    enc(o.client_secret.expose())
                );
                let b64 = base64::engine::general_purpose::STANDARD.encode(pair);
                let mut v = HeaderValue::from_str(&format!("Basic {b64}"))
                    .expect("base64 is a valid header value");
                v.set_sensitive(true);
                endpoint_headers.insert(AUTHORIZATION, v);
                secrets.push(Secret::new(b64));
            }
            ClientAuth::ClientSecretPost => {
                form.append_pair("client_id", o.client_id.expose());
                form.append_pair("client_secret", o.client_secret.expose());
            }
        }
        TokenSource {
            service: service.to_string(),
            token_url: o.token_url.clone(),
            base,
            endpoint_headers,
            form: Bytes::from(form.finish()),
            secrets,
            current: RwLock::new(None),
            refresh: tokio::sync::Mutex::new(Refresh::default()),
            fetches: AtomicU64::new(0),
            issued,
        }
    }

    /// The service's name.
    pub fn service(&self) -> &str {
        &self.service
    }

    fn read(&self) -> Option<Arc<Token>> {
        self.current.read().expect("token lock").clone()
    }

    fn store(&self, token: Arc<Token>) {
        *self.current.write().expect("token lock") = Some(token);
    }

    /// A token to send now: the kept one while fresh, else a renewed one (waiting for a
    /// refresh another request started). `Err` says why none can be had (no secret in it).
    pub async fn token(&self, client: &Client) -> Result<Arc<Token>, String> {
        if let Some(t) = self.read().filter(|t| t.fresh(Instant::now())) {
            return Ok(t);
        }
        let seen = self.fetches.load(Ordering::Acquire);
        let mut refresh = self.refresh.lock().await;
        let now = Instant::now();
        let kept = self.read();
        if let Some(t) = kept.as_ref().filter(|t| t.fresh(now)) {
            return Ok(t.clone());
        }
        // A fetch ended while this request waited, and failed: its answer is this one's too.
        if seen != self.fetches.load(Ordering::Acquire) {
            if let Some(e) = &refresh.last_error {
                return kept.filter(|t| t.valid(now)).ok_or_else(|| e.clone());
            }
        }
        match self.fetch(client, &mut refresh, false).await {
            Ok(t) => Ok(t),
            Err(e) => match kept.filter(|t| t.valid(now)) {
                Some(old) => {
                    tracing::warn!(
                        "service {}: renewing the OAuth2 token failed, the current one is kept \
                         until it expires: {e}",
                        self.service
                    );
                    // Not tried again for a second; never past its expiry.
                    let retry = (now + RETRY_RENEWAL).min(old.expires_at.unwrap_or(now));
                    let again = Arc::new(Token {
                        headers: old.headers.clone(),
                        renew_at: Some(retry),
                        ..*old
                    });
                    self.store(again.clone());
                    Ok(again)
                }
                None => Err(e),
            },
        }
    }

    /// After the service answered 401 to a request sent with `used`: the token to retry
    /// with, or None when the 401 stands (`used` came from a 401 renewal itself).
    pub async fn after_unauthorized(
        &self,
        client: &Client,
        used: &Token,
    ) -> Result<Option<Arc<Token>>, String> {
        let mut refresh = self.refresh.lock().await;
        if let Some(t) = self.read().filter(|t| t.generation != used.generation) {
            return Ok(Some(t));
        }
        if used.after_401 {
            return Ok(None);
        }
        tracing::debug!(
            "service {}: answered 401, renewing the OAuth2 token",
            self.service
        );
        self.fetch(client, &mut refresh, true).await.map(Some)
    }

    /// Asks the token endpoint for a new token and keeps it (the refresh lock held).
    async fn fetch(
        &self,
        client: &Client,
        refresh: &mut Refresh,
        after_401: bool,
    ) -> Result<Arc<Token>, String> {
        let generation = self.read().map_or(1, |t| t.generation + 1);
        let asked = Instant::now();
        let outcome = self.request(client).await.and_then(|(token, expires_in)| {
            let mut headers = self.base.clone();
            let mut value = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
                "the access_token is not a valid header value (control characters or \
                 non-ASCII characters)"
                    .to_string()
            })?;
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
            self.issued.push(&token);
            let (renew_at, expires_at) = match expires_in {
                Some(l) => {
                    let margin = MAX_MARGIN.min(l / 10);
                    (Some(asked + (l - margin)), Some(asked + l))
                }
                None => (None, None),
            };
            Ok(Arc::new(Token {
                headers,
                renew_at,
                expires_at,
                generation,
                after_401,
            }))
        });
        self.fetches.fetch_add(1, Ordering::AcqRel);
        match outcome {
            Ok(t) => {
                tracing::debug!(
                    "service {}: OAuth2 token {} from {} ({})",
                    self.service,
                    generation,
                    self.token_url,
                    t.expires_at.map_or("no expiry given".to_string(), |e| {
                        format!("expires in {} s", (e - asked).as_secs())
                    })
                );
                refresh.last_error = None;
                self.store(t.clone());
                Ok(t)
            }
            Err(e) => {
                let e = format!("token endpoint {}: {e}", self.token_url);
                refresh.last_error = Some(e.clone());
                Err(e)
            }
        }
    }

    /// One token request: the access token and its lifetime.
    async fn request(&self, client: &Client) -> Result<(String, Option<Duration>), String> {
        let request = Request {
            method: &Method::POST,
            url: &self.token_url,
            headers: &self.endpoint_headers,
            body: Some(("application/x-www-form-urlencoded", &self.form)),
        };
        // A token endpoint that is briefly down (a refused connection, 503, 429) is tried
        // again with the crawl's default backoff, as any request; a refusal (4xx) is final.
        let mut exchange = TokenExchange { client, request };
        let (sent, attempts) = retry(&RetryPolicy::default(), &mut exchange).await;
        let resp = sent.map_err(|f| match attempts {
            1 => f.to_string(),
            n => format!("{f} after {n} attempts"),
        })?;
        let body: serde_json::Value = serde_json::from_slice(&resp.body).unwrap_or_default();
        if !(200..300).contains(&resp.status) {
            let words = ["error", "error_description"]
                .iter()
                .filter_map(|k| body.get(k).and_then(serde_json::Value::as_str))
                .map(|w| self.quote(w))
                .collect::<Vec<_>>();
            return Err(if words.is_empty() {
                format!("answered {} (no OAuth2 error in the body)", resp.status)
            } else {
                format!("answered {}: {}", resp.status, words.join(": "))
            });
        }
        let token = body
            .get("access_token")
            .and_then(serde_json::Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| format!("answered {} without an access_token", resp.status))?;
        if let Some(kind) = body.get("token_type").and_then(serde_json::Value::as_str) {
            if !kind.eq_ignore_ascii_case("bearer") {
                return Err(format!(
                    "issued a token of type `{}` (only bearer tokens are supported)",
                    self.quote(kind)
                ));
            }
        }
        // A number of seconds; some servers send it as a string.
        let expires_in = match body.get("expires_in") {
            Some(serde_json::Value::Number(n)) => n.as_f64(),
            Some(serde_json::Value::String(s)) => s.trim().parse::<f64>().ok(),
            _ => None,
        }
        .filter(|s| s.is_finite() && *s > 0.0)
        .map(|s| Duration::from_secs_f64(s.min(1e9)));
        Ok((token.to_string(), expires_in))
    }

    /// A token endpoint's words without the client's secrets, cut short.
    fn quote(&self, words: &str) -> String {
        let mut s: String = words.chars().filter(|c| !c.is_control()).collect();
        for secret in &self.secrets {
            if secret.expose().len() >= 4 {
                s = s.replace(secret.expose(), "REDACTED");
            }
        }
        s.chars().take(MAX_QUOTE).collect()
    }
}

/// One token request as the shared retry loop drives it.
struct TokenExchange<'a> {
    client: &'a Client,
    request: Request<'a>,
}

impl Retryable for TokenExchange<'_> {
    type Output = Result<Response, Failure>;

    async fn attempt(&mut self, _attempt: u32) -> Self::Output {
        self.client.send(self.request).await
    }

    fn next(&self, out: &Self::Output, _attempt: u32) -> Next {
        next_of(out)
    }
}
