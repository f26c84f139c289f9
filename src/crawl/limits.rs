//! Per-service limits: a request-rate pacer shared by every task that talks to one service.

use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

/// Spaces requests to one service at least `interval` apart.
#[derive(Debug)]
pub struct Pacer {
    interval: Duration,
    next: Mutex<Option<Instant>>,
}

impl Pacer {
    /// A pacer for `rate` requests per second. Rules keep `rate` finite and positive; a rate
    /// slower than one request a day is paced at one a day (rather than overflowing).
    pub fn new(rate: f64) -> Pacer {
        const SLOWEST: Duration = Duration::from_secs(86_400);
        let interval = Duration::try_from_secs_f64(1.0 / rate).map_or(SLOWEST, |d| d.min(SLOWEST));
        Pacer {
            interval,
            next: Mutex::new(None),
        }
    }

    /// Waits for this request's slot.
    pub async fn acquire(&self) {
        let at = {
            let mut next = self.next.lock().await;
            let now = Instant::now();
            let at = next.map_or(now, |n| n.max(now));
            *next = Some(at + self.interval);
            at
        };
        tokio::time::sleep_until(at).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn paces_requests_at_the_rate() {
        let p = Pacer::new(10.0);
        let start = Instant::now();
        for _ in 0..5 {
            p.acquire().await;
        }
        // The first goes at once, the next four 100 ms apart (paused clock: exact).
        assert_eq!(start.elapsed(), Duration::from_millis(400));
    }

    #[test]
    fn absurdly_slow_rates_do_not_overflow() {
        assert_eq!(Pacer::new(1e-300).interval, Duration::from_secs(86_400));
        assert_eq!(Pacer::new(0.0).interval, Duration::from_secs(86_400));
        assert_eq!(Pacer::new(1e12).interval, Duration::ZERO);
    }
}
