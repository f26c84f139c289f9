//! One URL, fetched to its final outcome: redirects followed inside the declared services,
//! the answer classified, transient failures retried by the shared loop ([`http::retry`]).

use std::sync::Arc;
use std::time::Duration;

use url::Url;

use super::adaptive::{AdaptiveLimit, Signal};
use super::engine::Observer;
use super::limits::Pacer;
use crate::canon;
use crate::graph::{Failure, Outcome};
use crate::http::{self, classify_status, Next, RetryPolicy, Retryable, Verdict};
use crate::rules::{Rules, ServiceId};
use crate::source::{Attempt, Earlier, History, Response, Source};
use crate::vocab::{Class, Reason};

/// Redirects followed for one attempt; the next one is `too_many_redirects`.
pub const MAX_REDIRECTS: usize = 5;

/// What the fetch of one URL produced.
pub(crate) struct Fetched {
    pub outcome: Outcome,
    /// The last answer (2xx or not), for extraction and recording.
    pub response: Option<Response>,
    /// The URL the last answer came from (after redirects).
    pub final_url: Url,
    /// The status of the first redirect, when the last answer came from another URL.
    pub redirect: Option<u16>,
    /// Requests made, per service (redirect hops may cross services).
    pub requests: Vec<(ServiceId, u32)>,
    /// Not requested: a replayed `service_unavailable`.
    pub skipped: bool,
    /// The attempts before the last one, for the recording.
    pub earlier: Vec<Earlier>,
    /// The last attempt's failure detail, before `after N attempts` was added to it.
    pub detail: Option<String>,
}

pub(crate) struct Fetcher<S> {
    pub source: Arc<S>,
    pub rules: Arc<Rules>,
    pub policy: RetryPolicy,
    pub pacers: Arc<Vec<Option<Pacer>>>,
    /// Each service's concurrency limit, told of every live answer.
    pub load: Arc<Vec<AdaptiveLimit>>,
    pub observer: Arc<dyn Observer>,
}

enum Hop {
    /// The last answer, the URL it came from, and the first redirect's status (if any).
    Answer(Response, Url, Option<u16>),
    /// No usable answer: the reason, the detail, the status it followed, and the URL of the
    /// request that failed.
    Failed(Reason, String, Option<u16>, Url),
}

impl<S: Source> Fetcher<S> {
    /// Fetches `url` (canonical, inside a declared service) to its final outcome, through the
    /// shared retry loop.
    pub async fn fetch(&self, url: &Url) -> Fetched {
        let mut job = Job {
            fetcher: self,
            url,
            requests: Vec::new(),
            history: self.source.history(url),
            tries: Vec::new(),
        };
        let (tried, attempts) = http::retry(&self.policy, &mut job).await;
        let requests = job.requests;
        let mut earlier = job.tries;
        earlier.truncate(attempts.saturating_sub(1) as usize);
        match tried {
            Tried::Ok(resp, final_url, redirect) => Fetched {
                outcome: Outcome {
                    status: Some(resp.status),
                    attempts,
                    failure: None,
                },
                response: Some(resp),
                final_url,
                redirect,
                requests,
                skipped: false,
                earlier,
                detail: None,
            },
            Tried::Skipped(detail) => Fetched {
                outcome: failed(None, 0, Reason::ServiceUnavailable, detail.clone()),
                response: None,
                final_url: url.clone(),
                redirect: None,
                requests,
                skipped: true,
                earlier,
                detail: Some(detail),
            },
            Tried::Failed {
                reason,
                detail,
                status,
                response,
                at,
                ..
            } => {
                let shown = if attempts > 1 {
                    format!("{detail} after {attempts} attempts")
                } else {
                    detail.clone()
                };
                Fetched {
                    outcome: failed(status, attempts, reason, shown),
                    response,
                    final_url: at,
                    redirect: None,
                    requests,
                    skipped: false,
                    earlier,
                    detail: Some(detail),
                }
            }
        }
    }

    /// One attempt: requests `url` and follows in-scope redirects.
    async fn follow(&self, url: &Url, requests: &mut Vec<(ServiceId, u32)>) -> Hop {
        let mut current = url.clone();
        let mut redirects = 0usize;
        let mut first_redirect = None;
        loop {
            let Some(service) = self.rules.service_of(&current) else {
                // Callers only pass in-scope URLs, and redirects are checked below.
                return Hop::Failed(
                    Reason::RedirectOutOfScope,
                    format!("{current} is outside every declared service"),
                    None,
                    current,
                );
            };
            if let Some(p) = &self.pacers[service as usize] {
                p.acquire().await;
            }
            count(requests, service);
            let started = tokio::time::Instant::now();
            let attempt = self.source.fetch(&current).await;
            if self.source.sleeps_for(&current) {
                self.took(service, started.elapsed(), &attempt);
            }
            let resp = match attempt {
                Attempt::Failed {
                    reason,
                    detail,
                    status,
                } => return Hop::Failed(reason, detail, status, current),
                Attempt::Answer(resp) => resp,
            };
            if classify_status(resp.status) != Verdict::Redirect {
                return Hop::Answer(resp, current, first_redirect);
            }
            let location = resp.header("location").map(str::trim).unwrap_or_default();
            let Some(next) = canon::resolve(&current, location) else {
                // A location in another scheme (`file:`, `ftp:`, `data:`) leaves every
                // declared service: the resource may well exist, so it is not a broken link.
                let scheme = (!location.is_empty())
                    .then(|| current.join(location).ok())
                    .flatten()
                    .map(|u| u.scheme().to_string());
                let (reason, detail) = match scheme {
                    Some(scheme) => (
                        Reason::RedirectOutOfScope,
                        format!(
                            "{} redirects to a {scheme}: URL, outside every declared service (not followed)",
                            status_text(resp.status)
                        ),
                    ),
                    None => (
                        Reason::ClientError,
                        format!(
                            "{} without a usable Location header",
                            status_text(resp.status)
                        ),
                    ),
                };
                return Hop::Failed(reason, detail, Some(resp.status), current);
            };
            // A redirect to a service's alias is followed under its base URL.
            let next = match self.rules.service_of(&next) {
                Some(_) => next,
                None => self
                    .rules
                    .unalias(next.as_str())
                    .and_then(|u| crate::canon::parse_absolute(&u))
                    .unwrap_or(next),
            };
            if self.rules.service_of(&next).is_none() {
                return Hop::Failed(
                    Reason::RedirectOutOfScope,
                    format!(
                        "{} redirects to {next}, outside every declared service (not followed)",
                        status_text(resp.status)
                    ),
                    Some(resp.status),
                    current,
                );
            }
            if redirects == MAX_REDIRECTS {
                return Hop::Failed(
                    Reason::TooManyRedirects,
                    format!("more than {MAX_REDIRECTS} redirects (last to {next})"),
                    Some(resp.status),
                    current,
                );
            }
            redirects += 1;
            first_redirect.get_or_insert(resp.status);
            current = next;
        }
    }
}

impl<S: Source> Fetcher<S> {
    /// Tells the service's limit how a live request went: 429, 503 and timeouts are overload,
    /// other answers give their latency, failures to connect say nothing about load.
    fn took(&self, service: ServiceId, latency: Duration, attempt: &Attempt) {
        let signal = match attempt {
            Attempt::Answer(r) if matches!(r.status, 429 | 503) => Signal::Overloaded,
            Attempt::Answer(_) => Signal::Answered,
            Attempt::Failed {
                reason: Reason::Timeout,
                ..
            } => Signal::Overloaded,
            Attempt::Failed { .. } => return,
        };
        let limit = &self.load[service as usize];
        if let Some(now) = limit.record(latency, signal) {
            let name = &self.rules.services[service as usize].name;
            let latency = limit.latency();
            tracing::debug!(service = %name, limit = now, ?latency, "concurrency limit");
            self.observer.limit_changed(name, now, latency);
        }
    }
}

/// One more request to `service`.
fn count(requests: &mut Vec<(ServiceId, u32)>, service: ServiceId) {
    match requests.iter_mut().find(|(s, _)| *s == service) {
        Some((_, n)) => *n += 1,
        None => requests.push((service, 1)),
    }
}

/// A failed outcome (its class follows from the reason).
fn failed(status: Option<u16>, attempts: u32, reason: Reason, detail: String) -> Outcome {
    Outcome {
        status,
        attempts,
        failure: Some(Box::new(Failure {
            reason,
            class: reason.class(),
            detail,
        })),
    }
}

/// One try of a URL, classified.
enum Tried {
    /// A 2xx answer, the URL it came from, and the first redirect's status (if any).
    Ok(Response, Url, Option<u16>),
    /// Not requested: a replayed `service_unavailable` on the first try.
    Skipped(String),
    /// Anything else: final or transient by the reason's class.
    Failed {
        reason: Reason,
        detail: String,
        /// The status of the answer the failure came with or followed.
        status: Option<u16>,
        retry_after: Option<Duration>,
        response: Option<Response>,
        /// The URL of the request that failed (whose source decides whether to wait).
        at: Url,
    },
}

impl Tried {
    /// A recorded earlier attempt of `url`, replayed.
    fn earlier(e: &Earlier, url: &Url) -> Tried {
        let reason = e.reason();
        Tried::Failed {
            reason,
            detail: match e.outcome {
                Ok(status) => status_text(status),
                Err(r) => crate::source::snapshot::recorded_detail(r),
            },
            status: e.outcome.ok(),
            retry_after: e
                .retry_after
                .as_deref()
                .and_then(|v| http::parse_retry_after(v, std::time::SystemTime::now())),
            response: None,
            at: url.clone(),
        }
    }

    /// This try as the recording keeps an earlier attempt.
    fn as_earlier(&self) -> Earlier {
        let (outcome, retry_after) = match self {
            Tried::Ok(resp, ..) => (Ok(resp.status), None),
            Tried::Skipped(_) => (Err(Reason::ServiceUnavailable), None),
            Tried::Failed {
                reason,
                status,
                response,
                ..
            } => (
                match status {
                    Some(s) if classify_status(*s) == Verdict::Failed(*reason) => Ok(*s),
                    _ => Err(*reason),
                },
                response
                    .as_ref()
                    .and_then(|r| r.header("retry-after"))
                    .map(str::to_string),
            ),
        };
        Earlier {
            outcome,
            retry_after,
        }
    }

    fn of(hop: Hop, attempt: u32) -> Tried {
        let (resp, at, redirect) = match hop {
            Hop::Failed(Reason::ServiceUnavailable, detail, _, _) if attempt == 1 => {
                return Tried::Skipped(detail)
            }
            Hop::Failed(reason, detail, status, at) => {
                return Tried::Failed {
                    reason,
                    detail,
                    status,
                    retry_after: None,
                    response: None,
                    at,
                }
            }
            Hop::Answer(resp, at, redirect) => (resp, at, redirect),
        };
        let (reason, detail, retry_after) = match classify_status(resp.status) {
            Verdict::Ok if resp.truncated => (
                Reason::BodyTooLarge,
                format!(
                    "{} answered with a body over the size cap; it was cut and not read",
                    status_text(resp.status)
                ),
                None,
            ),
            Verdict::Ok => return Tried::Ok(resp, at, redirect),
            Verdict::Redirect => unreachable!("follow() resolves redirects"),
            Verdict::Failed(reason) => (reason, status_text(resp.status), resp.retry_after()),
        };
        Tried::Failed {
            reason,
            detail,
            status: Some(resp.status),
            retry_after,
            response: Some(resp),
            at,
        }
    }
}

/// The fetch of one URL as the retry loop drives it; counts requests per service.
struct Job<'a, S> {
    fetcher: &'a Fetcher<S>,
    url: &'a Url,
    requests: Vec<(ServiceId, u32)>,
    /// What a recording holds of this fetch: its earlier attempts are replayed first.
    history: Option<Arc<History>>,
    /// Every try so far, as a recording keeps it.
    tries: Vec<Earlier>,
}

impl<S: Source> Retryable for Job<'_, S> {
    type Output = Tried;

    async fn attempt(&mut self, attempt: u32) -> Tried {
        let recorded = self
            .history
            .as_ref()
            .and_then(|h| h.earlier.get(attempt as usize - 1));
        if let Some(e) = recorded {
            // A recorded earlier attempt: one request, as in the crawl that recorded it.
            if let Some(service) = self.fetcher.rules.service_of(self.url) {
                count(&mut self.requests, service);
            }
            self.tries.push(e.clone());
            return Tried::earlier(e, self.url);
        }
        let hop = self.fetcher.follow(self.url, &mut self.requests).await;
        let tried = Tried::of(hop, attempt);
        self.tries.push(tried.as_earlier());
        tried
    }

    fn next(&self, tried: &Tried, _attempt: u32) -> Next {
        match tried {
            Tried::Failed {
                reason,
                retry_after,
                ..
            } if reason.class() == Class::Transient => Next::Retry {
                retry_after: *retry_after,
            },
            _ => Next::Done,
        }
    }

    /// Whether to wait is up to the source that gave the failing answer: a replayed one
    /// answers the same at once, a live one may recover.
    fn sleeps(&self, tried: &Tried) -> bool {
        match tried {
            Tried::Failed { at, .. } => self.fetcher.source.sleeps_for(at),
            _ => true,
        }
    }

    fn waiting(&self, started: bool) {
        self.fetcher.observer.retrying(if started { 1 } else { -1 });
    }
}

/// `404 Not Found`.
pub(crate) fn status_text(status: u16) -> String {
    match ::http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
    {
        Some(r) => format!("{status} {r}"),
        None => status.to_string(),
    }
}
