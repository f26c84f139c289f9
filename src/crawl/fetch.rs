//! One URL, fetched to its final outcome: redirects followed inside the declared services,
//! transient failures retried with backoff, the answer classified.

use std::sync::Arc;
use std::time::SystemTime;

use url::Url;

use super::classify::{classify_status, parse_retry_after, RetryPolicy, Verdict};
use super::engine::Observer;
use super::limits::Pacer;
use crate::canon;
use crate::graph::{Failure, Outcome};
use crate::rules::{Rules, ServiceId};
use crate::source::{Attempt, Response, Source};
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
}

pub(crate) struct Fetcher<S> {
    pub source: Arc<S>,
    pub rules: Arc<Rules>,
    pub policy: RetryPolicy,
    pub pacers: Arc<Vec<Option<Pacer>>>,
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
    /// Fetches `url` (canonical, inside a declared service) to its final outcome.
    pub async fn fetch(&self, url: &Url) -> Fetched {
        let mut requests: Vec<(ServiceId, u32)> = Vec::new();
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let hop = self.follow(url, &mut requests).await;
            let (reason, detail, status, retry_after, response, final_url) = match hop {
                Hop::Answer(resp, final_url, redirect) => match classify_status(resp.status) {
                    Verdict::Ok if resp.truncated => {
                        let detail = format!(
                            "{} answered with a body over the size cap; it was cut and not read",
                            status_text(resp.status)
                        );
                        (
                            Reason::BodyTooLarge,
                            detail,
                            Some(resp.status),
                            None,
                            Some(resp),
                            final_url,
                        )
                    }
                    Verdict::Ok => {
                        return Fetched {
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
                        }
                    }
                    Verdict::Redirect => unreachable!("follow() resolves redirects"),
                    Verdict::Failed(reason) => {
                        let ra = resp
                            .header("retry-after")
                            .and_then(|v| parse_retry_after(v, SystemTime::now()));
                        (
                            reason,
                            status_text(resp.status),
                            Some(resp.status),
                            ra,
                            Some(resp),
                            final_url,
                        )
                    }
                },
                Hop::Failed(Reason::ServiceUnavailable, detail, _, _) if attempts == 1 => {
                    return Fetched {
                        outcome: Outcome {
                            status: None,
                            attempts: 0,
                            failure: Some(Box::new(Failure {
                                reason: Reason::ServiceUnavailable,
                                class: Class::Transient,
                                detail,
                            })),
                        },
                        response: None,
                        final_url: url.clone(),
                        redirect: None,
                        requests,
                        skipped: true,
                    }
                }
                Hop::Failed(reason, detail, status, at) => (reason, detail, status, None, None, at),
            };
            let class = reason.class();
            if class == Class::Transient && attempts <= self.policy.retries {
                let delay = self.policy.delay(attempts, retry_after);
                // Whether to wait is up to the source that gave the failing answer: a replayed
                // one answers the same at once, a live one may recover.
                if self.source.sleeps_for(&final_url) && !delay.is_zero() {
                    self.observer.retrying(1);
                    tokio::time::sleep(delay).await;
                    self.observer.retrying(-1);
                }
                continue;
            }
            let detail = if attempts > 1 {
                format!("{detail} after {attempts} attempts")
            } else {
                detail
            };
            return Fetched {
                outcome: Outcome {
                    status,
                    attempts,
                    failure: Some(Box::new(Failure {
                        reason,
                        class,
                        detail,
                    })),
                },
                response,
                final_url,
                redirect: None,
                requests,
                skipped: false,
            };
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
            match requests.iter_mut().find(|(s, _)| *s == service) {
                Some((_, n)) => *n += 1,
                None => requests.push((service, 1)),
            }
            let resp = match self.source.fetch(&current).await {
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

/// `404 Not Found`.
pub(crate) fn status_text(status: u16) -> String {
    match http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
    {
        Some(r) => format!("{status} {r}"),
        None => status.to_string(),
    }
}
