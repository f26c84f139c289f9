//! Retry classification (DESIGN.md "Retry classification — contract"): what one fetch outcome
//! means, whether to try again, and how long to wait.

use std::time::Duration;

use rand::Rng;

use crate::vocab::Reason;

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
}
