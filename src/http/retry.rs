//! Retry classification (DESIGN.md "Retry classification — contract"): what one answer
//! means, whether to try again, how long to wait — and the one retry loop ([`retry`]) that the
//! crawl and `apply` both run their requests through.

use std::future::Future;
use std::time::{Duration, SystemTime};

use rand::Rng;

use super::{Failure, Response};
use crate::vocab::{Class, Reason};

/// What an HTTP status means for a fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Ok,
    Redirect,
    /// Failed for good (or for now, when the class is transient) with this reason.
    Failed(Reason),
}

/// Classifies one HTTP status.
pub fn classify_status(status: u16) -> Verdict {
    match status {
        200..=299 => Verdict::Ok,
        301 | 302 | 303 | 307 | 308 => Verdict::Redirect,
        404 => Verdict::Failed(Reason::NotFound),
        410 => Verdict::Failed(Reason::Gone),
        401 | 403 => Verdict::Failed(Reason::AccessDenied),
        408 => Verdict::Failed(Reason::Timeout),
        425 | 429 => Verdict::Failed(Reason::RateLimited),
        // Every 5xx is "try again": a restored service may still be starting. Never claim
        // data loss on a server error.
        500..=599 => Verdict::Failed(Reason::ServerError),
        // Outside 100-599 a status is invalid, to be handled as a 5xx (RFC 9110 §15).
        600.. => Verdict::Failed(Reason::ServerError),
        // Other 1xx/3xx answers carry no resource: treat like other client errors.
        _ => Verdict::Failed(Reason::ClientError),
    }
}

/// The backoff policy (DESIGN.md defaults: 250 ms doubling with full jitter up to 5 s,
/// `Retry-After` honoured up to 30 s).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub retries: u32,
    pub base: Duration,
    pub max_backoff: Duration,
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            retries: 3,
            base: Duration::from_millis(250),
            max_backoff: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// How long to wait before retry number `retry` (1-based): full jitter over
    /// `min(max_backoff, base * 2^(retry-1))`, or the server's `Retry-After` (capped) when
    /// it gave one.
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(ra) = retry_after {
            return ra.min(self.max_retry_after);
        }
        let exp = self
            .base
            .saturating_mul(
                1u32.checked_shl(retry.saturating_sub(1))
                    .unwrap_or(u32::MAX),
            )
            .min(self.max_backoff);
        let ms = exp.as_millis() as u64;
        Duration::from_millis(rand::thread_rng().gen_range(0..=ms))
    }
}

/// Parses a `Retry-After` value: delay-seconds or an HTTP-date (relative to `now`).
pub fn parse_retry_after(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// What the retry loop makes of one try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Final: keep this outcome.
    Done,
    /// Transient: try again (within the policy), after the server's `Retry-After` if it gave one.
    Retry { retry_after: Option<Duration> },
}

/// A request (or a chain of redirects) that [`retry`] may make again.
pub trait Retryable {
    type Output: Send;

    /// Makes try number `attempt` (from 1).
    fn attempt(&mut self, attempt: u32) -> impl Future<Output = Self::Output> + Send;

    /// Whether `out`, the outcome of try number `attempt`, is worth another try.
    fn next(&self, out: &Self::Output, attempt: u32) -> Next;

    /// Whether to wait out the backoff after `out` (a replayed answer would come back the same
    /// at once, so replays do not sleep).
    fn sleeps(&self, out: &Self::Output) -> bool {
        let _ = out;
        true
    }

    /// Told when a backoff wait starts (`true`) and when it ends (`false`).
    fn waiting(&self, started: bool) {
        let _ = started;
    }
}

/// The one retry loop: tries `job` until an outcome is final or `policy.retries` retries are
/// spent, waiting the backoff (full jitter, or the capped `Retry-After`) in between. Returns
/// the last outcome and the number of tries. The timer is only touched when it waits, so a
/// replay runs on any executor.
pub async fn retry<R: Retryable>(policy: &RetryPolicy, job: &mut R) -> (R::Output, u32) {
    let mut attempts = 0u32;
    loop {
        attempts += 1;
        let out = job.attempt(attempts).await;
        let retry_after = match job.next(&out, attempts) {
            Next::Done => return (out, attempts),
            Next::Retry { retry_after } => retry_after,
        };
        if attempts > policy.retries {
            return (out, attempts);
        }
        let delay = policy.delay(attempts, retry_after);
        if !delay.is_zero() && job.sleeps(&out) {
            job.waiting(true);
            tokio::time::sleep(delay).await;
            job.waiting(false);
        }
    }
}

/// The retry decision for one plain request (no redirects followed): a transient status or a
/// failure without an answer is tried again, anything else is final.
pub fn next_of(result: &Result<Response, Failure>) -> Next {
    match result {
        Ok(resp) => match classify_status(resp.status) {
            Verdict::Failed(r) if r.class() == Class::Transient => Next::Retry {
                retry_after: resp.retry_after(),
            },
            _ => Next::Done,
        },
        Err(f) if f.reason().class() == Class::Transient => Next::Retry { retry_after: None },
        Err(_) => Next::Done,
    }
}

impl Response {
    /// The server's `Retry-After`, as a delay from now.
    pub fn retry_after(&self) -> Option<Duration> {
        self.header("retry-after")
            .and_then(|v| parse_retry_after(v, SystemTime::now()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_classify_as_the_contract_table() {
        assert_eq!(classify_status(200), Verdict::Ok);
        assert_eq!(classify_status(204), Verdict::Ok);
        assert_eq!(classify_status(302), Verdict::Redirect);
        assert_eq!(classify_status(404), Verdict::Failed(Reason::NotFound));
        assert_eq!(classify_status(410), Verdict::Failed(Reason::Gone));
        assert_eq!(classify_status(401), Verdict::Failed(Reason::AccessDenied));
        assert_eq!(classify_status(403), Verdict::Failed(Reason::AccessDenied));
        assert_eq!(classify_status(408), Verdict::Failed(Reason::Timeout));
        assert_eq!(classify_status(425), Verdict::Failed(Reason::RateLimited));
        assert_eq!(classify_status(429), Verdict::Failed(Reason::RateLimited));
        for s in [500, 502, 503, 504] {
            assert_eq!(classify_status(s), Verdict::Failed(Reason::ServerError));
        }
        assert_eq!(classify_status(400), Verdict::Failed(Reason::ClientError));
        assert_eq!(classify_status(600), Verdict::Failed(Reason::ServerError));
        assert_eq!(classify_status(999), Verdict::Failed(Reason::ServerError));
        assert_eq!(classify_status(422), Verdict::Failed(Reason::ClientError));
    }

    #[test]
    fn backoff_is_bounded_and_retry_after_capped() {
        let p = RetryPolicy::default();
        for retry in 1..40 {
            assert!(p.delay(retry, None) <= Duration::from_secs(5));
        }
        assert!(p.delay(1, None) <= Duration::from_millis(250));
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(2))),
            Duration::from_secs(2)
        );
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(999))),
            Duration::from_secs(30)
        );
    }

    #[test]
    fn retry_after_seconds_and_http_date() {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    /// Answers from a script (`None`: a transport failure), noting when each try came.
    struct Scripted {
        steps: Vec<Option<(u16, Option<&'static str>)>>,
        tries: Vec<tokio::time::Instant>,
        sleeps: bool,
        waits: std::sync::Mutex<Vec<bool>>,
    }

    impl Scripted {
        fn new(steps: Vec<Option<(u16, Option<&'static str>)>>, sleeps: bool) -> Scripted {
            Scripted {
                steps,
                tries: Vec::new(),
                sleeps,
                waits: Default::default(),
            }
        }
    }

    impl Retryable for Scripted {
        type Output = Result<Response, Failure>;

        async fn attempt(&mut self, attempt: u32) -> Self::Output {
            self.tries.push(tokio::time::Instant::now());
            let i = (attempt as usize - 1).min(self.steps.len() - 1);
            match self.steps[i] {
                None => Err(Failure::Closed("reset".into())),
                Some((status, retry_after)) => Ok(Response {
                    status,
                    headers: retry_after
                        .map(|v| ("retry-after".to_string(), v.to_string()))
                        .into_iter()
                        .collect(),
                    body: bytes::Bytes::new(),
                    truncated: false,
                }),
            }
        }

        fn next(&self, out: &Self::Output, _attempt: u32) -> Next {
            next_of(out)
        }

        fn sleeps(&self, _out: &Self::Output) -> bool {
            self.sleeps
        }

        fn waiting(&self, started: bool) {
            self.waits.lock().unwrap().push(started);
        }
    }

    fn policy(retries: u32) -> RetryPolicy {
        RetryPolicy {
            retries,
            ..RetryPolicy::default()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_loop_waits_the_retry_after_and_stops_at_a_final_answer() {
        let mut job = Scripted::new(vec![Some((429, Some("2"))), None, Some((404, None))], true);
        let (out, attempts) = retry(&policy(5), &mut job).await;
        assert_eq!((out.unwrap().status, attempts), (404, 3));
        assert_eq!(job.tries[1] - job.tries[0], Duration::from_secs(2));
        assert!(job.tries[2] - job.tries[1] <= Duration::from_millis(500));
        assert_eq!(*job.waits.lock().unwrap(), [true, false, true, false]);
    }

    #[tokio::test(start_paused = true)]
    async fn the_loop_gives_up_after_the_retries_with_the_last_outcome() {
        let mut job = Scripted::new(vec![Some((503, Some("1")))], true);
        let started = tokio::time::Instant::now();
        let (out, attempts) = retry(&policy(3), &mut job).await;
        assert_eq!((out.unwrap().status, attempts), (503, 4));
        assert_eq!(started.elapsed(), Duration::from_secs(3));
        let mut job = Scripted::new(vec![None], true);
        let (out, attempts) = retry(&policy(0), &mut job).await;
        assert_eq!(
            (out.unwrap_err().reason(), attempts),
            (Reason::ConnectionReset, 1)
        );
    }

    /// A replayed source does not sleep: no timer is touched, so any executor runs it.
    #[test]
    fn a_job_that_does_not_sleep_runs_without_a_runtime() {
        let mut job = Scripted::new(vec![Some((503, Some("30"))), Some((200, None))], false);
        let (out, attempts) = futures::executor::block_on(retry(&policy(3), &mut job));
        assert_eq!((out.unwrap().status, attempts), (200, 2));
        assert!(job.waits.lock().unwrap().is_empty());
    }

    #[test]
    fn final_answers_are_not_retried() {
        for status in [200, 302, 400, 401, 403, 404, 410] {
            let resp = Response {
                status,
                headers: Vec::new().into(),
                body: bytes::Bytes::new(),
                truncated: false,
            };
            assert_eq!(next_of(&Ok(resp)), Next::Done, "{status}");
        }
    }
}
