//! One URL, fetched to its final outcome: redirects followed inside the declared services,
//! transient failures retried with backoff, the answer classified.

use std::sync::Arc;
use std::time::SystemTime;

use url::Url;

use super::classify::{classify_status, parse_retry_after, Class, Reason, RetryPolicy, Verdict};
use super::engine::Observer;
use super::limits::Pacer;
use crate::canon;
use crate::graph::{Failure, Outcome};
use crate::rules::{Rules, ServiceId};
use crate::source::{Attempt, Response, Source};

/// Redirects followed for one attempt; the next one is `too_many_redirects`.
pub const MAX_REDIRECTS: usize = 5;

/// What the fetch of one URL produced.
pub(crate) struct Fetched {
    pub outcome: Outcome,
    /// The last answer (2xx or not), for extraction and recording.
    pub response: Option<Response>,
    /// The URL the last answer came from (after redirects).
    pub final_url: Url,
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
    Answer(Response, Url),
    Failed(Reason, String, Option<u16>),
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
                Hop::Answer(resp, final_url) => match classify_status(resp.status) {
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
                Hop::Failed(Reason::ServiceUnavailable, detail, _) if attempts == 1 => {
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
                        requests,
                        skipped: true,
                    }
                }
                Hop::Failed(reason, detail, status) => {
                    (reason, detail, status, None, None, url.clone())
                }
            };
            let class = reason.class();
            if class == Class::Transient && attempts <= self.policy.retries {
                let delay = self.policy.delay(attempts, retry_after);
                if self.source.sleeps() && !delay.is_zero() {
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
                requests,
                skipped: false,
            };
        }
    }

    /// One attempt: requests `url` and follows in-scope redirects.
    async fn follow(&self, url: &Url, requests: &mut Vec<(ServiceId, u32)>) -> Hop {
        let mut current = url.clone();
        let mut redirects = 0usize;
        loop {
            let Some(service) = self.rules.service_of(&current) else {
                // Callers only pass in-scope URLs, and redirects are checked below.
                return Hop::Failed(
                    Reason::RedirectOutOfScope,
                    format!("{current} is outside every declared service"),
                    None,
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
                } => return Hop::Failed(reason, detail, status),
                Attempt::Answer(resp) => resp,
            };
            if classify_status(resp.status) != Verdict::Redirect {
                return Hop::Answer(resp, current);
            }
            let Some(next) = resp
                .header("location")
                .and_then(|loc| canon::resolve(&current, loc))
            else {
                return Hop::Failed(
                    Reason::ClientError,
                    format!(
                        "{} without a usable Location header",
                        status_text(resp.status)
                    ),
                    Some(resp.status),
                );
            };
            if self.rules.service_of(&next).is_none() {
                return Hop::Failed(
                    Reason::RedirectOutOfScope,
                    format!(
                        "{} redirects to {next}, outside every declared service (not followed)",
                        status_text(resp.status)
                    ),
                    Some(resp.status),
                );
            }
            if redirects == MAX_REDIRECTS {
                return Hop::Failed(
                    Reason::TooManyRedirects,
                    format!("more than {MAX_REDIRECTS} redirects (last to {next})"),
                    Some(resp.status),
                );
            }
            redirects += 1;
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
