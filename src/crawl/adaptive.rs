//! Adaptive per-service concurrency: how many requests one service is sent at once, found
//! from what it answers, so a fragile service just restored is not pushed over by the audit.
//!
//! The rule is TCP's AIMD with a slow start, plus the latency signal of delay-based limiters
//! (TCP Vegas, Netflix's gradient limiter, Envoy's adaptive concurrency filter):
//!
//! - **Start low** ([`INITIAL`] in flight) and, while the service answers at its usual speed,
//!   grow by one per answer (slow start: the limit doubles every round trip).
//! - **Overload** — a 429, a 503 or a timeout — ends slow start and cuts the limit by a quarter
//!   ([`BACKOFF`]), at most once per window of `limit` answers: the answers already in flight
//!   when the first 503 came describe the same moment, and cutting for each would collapse the
//!   limit to one.
//! - **Latency** rising above its floor cuts by a tenth: at the end of each window (as many
//!   answers as the limit, about one round trip), the window's mean latency is compared with
//!   [`TOLERANCE`] × the floor (the lowest latency of the last one to two windows of
//!   [`FLOOR_WINDOW`] answers) plus [`SLACK`], so a loopback service's sub-millisecond jitter
//!   and a busy client's scheduling noise are not read as load. A mean, not single answers: a
//!   few slow answers in a window of fast ones are noise, a window that is slow on the whole
//!   is a service that queues. A service that slows down under load is held where it stays
//!   fast.
//! - Otherwise, past slow start, the limit grows by one per window (additive increase), so it
//!   keeps probing for capacity that appears (a replica that finished starting).
//!
//! AIMD alone would do for a saturated server that answers 503 at once; the latency signal is
//! what protects one that queues instead. Both are per service, so a slow service does not
//! slow the others, and the limit never exceeds the configured maximum.

use std::sync::Mutex;
use std::time::Duration;

use hdrhistogram::Histogram;

/// Requests in flight to a service before it has answered anything.
pub const INITIAL: usize = 4;
/// The share of the limit kept after an overload answer.
pub const BACKOFF: f64 = 0.75;
/// The share kept when latency rises above its floor.
pub const LATENCY_BACKOFF: f64 = 0.9;
/// A window's mean latency above this multiple of the floor (plus [`SLACK`]) counts as load.
pub const TOLERANCE: f64 = 2.0;
/// Absolute latency allowed above the floor before it counts as load.
pub const SLACK: Duration = Duration::from_millis(5);
/// Answers per window of the latency floor.
const FLOOR_WINDOW: u32 = 128;
/// Weight of the newest answer in the smoothed latency.
const SMOOTHING: f64 = 0.2;

/// What one answer says about the service's load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// An answer (whatever its status) that is not an overload signal.
    Answered,
    /// 429, 503 or a timeout: the service is saturated.
    Overloaded,
}

/// One service's limit, shared by the crawl loop (which reads it before each dispatch) and the
/// fetch tasks (which report each answer).
#[derive(Debug)]
pub struct AdaptiveLimit {
    max: usize,
    adaptive: bool,
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    limit: f64,
    peak: usize,
    slow_start: bool,
    /// Answers since the last cut (a cut needs a window of `limit` answers since the last).
    since_cut: u32,
    /// The current window: answers and the sum of their latencies.
    window_answers: u32,
    window_sum_us: f64,
    smoothed_us: f64,
    floor: WindowMin,
    latency: Histogram<u64>,
}

/// What a service's answers came to, for the report.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoadStats {
    /// The highest limit reached (the configured one when not adaptive).
    pub peak_limit: usize,
    /// Latency of the answers, in milliseconds: median and 99th percentile. `None` without
    /// answers.
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
}

impl AdaptiveLimit {
    /// A limit that adapts between 1 and `max`, starting at [`INITIAL`] (or `max` if lower).
    pub fn adaptive(max: usize) -> AdaptiveLimit {
        AdaptiveLimit::new(max.max(1), true)
    }

    /// A limit pinned at `max` (answers still give latency figures).
    pub fn fixed(max: usize) -> AdaptiveLimit {
        AdaptiveLimit::new(max.max(1), false)
    }

    fn new(max: usize, adaptive: bool) -> AdaptiveLimit {
        let start = if adaptive { INITIAL.min(max) } else { max };
        AdaptiveLimit {
            max,
            adaptive,
            inner: Mutex::new(Inner {
                limit: start as f64,
                peak: start,
                slow_start: true,
                // No cut yet: the first overload cuts at once.
                since_cut: u32::MAX,
                window_answers: 0,
                window_sum_us: 0.0,
                smoothed_us: 0.0,
                floor: WindowMin::default(),
                // 1 µs to 1 h at 2 significant digits: a few KiB per service.
                latency: Histogram::new_with_bounds(1, 3_600_000_000, 2)
                    .expect("valid histogram bounds"),
            }),
        }
    }

    /// Requests that may be in flight now.
    pub fn limit(&self) -> usize {
        self.lock().limit as usize
    }

    /// Takes one answer (`latency` from the request's start to its answer); returns the new
    /// limit when it changed as a whole number.
    pub fn record(&self, latency: Duration, signal: Signal) -> Option<usize> {
        let mut s = self.lock();
        let us = latency.as_micros().clamp(1, 3_600_000_000) as u64;
        let _ = s.latency.record(us);
        if !self.adaptive {
            return None;
        }
        let before = s.limit as usize;
        s.since_cut = s.since_cut.saturating_add(1);
        // Only real answers say how fast the service is: a 429 or 503 refused at once would
        // pull the floor to a fraction of a millisecond and make every later window look slow.
        if signal == Signal::Answered {
            s.floor.push(us);
            s.smoothed_us = if s.smoothed_us == 0.0 {
                us as f64
            } else {
                s.smoothed_us + SMOOTHING * (us as f64 - s.smoothed_us)
            };
            s.window_answers += 1;
            s.window_sum_us += us as f64;
        }
        let window_passed = s.since_cut as f64 >= s.limit;
        let window_ended = s.window_answers as f64 >= s.limit;
        match signal {
            Signal::Overloaded => {
                if window_passed {
                    s.cut(BACKOFF);
                }
            }
            Signal::Answered if window_ended && s.slow_window() => {
                if window_passed {
                    s.cut(LATENCY_BACKOFF);
                }
            }
            // Growth only on answers that are fast themselves: slow start doubles every round
            // trip and would overshoot while a window of slow answers is still being counted.
            Signal::Answered if s.over_tolerance(us as f64) => {}
            Signal::Answered if s.slow_start => s.limit += 1.0,
            Signal::Answered => s.limit += 1.0 / s.limit,
        }
        if window_ended {
            s.window_answers = 0;
            s.window_sum_us = 0.0;
        }
        s.limit = s.limit.clamp(1.0, self.max as f64);
        s.peak = s.peak.max(s.limit as usize);
        let after = s.limit as usize;
        (after != before).then_some(after)
    }

    /// The smoothed latency now, for progress lines.
    pub fn latency(&self) -> Duration {
        Duration::from_micros(self.lock().smoothed_us as u64)
    }

    /// The peak limit and the latency percentiles so far.
    pub fn stats(&self) -> LoadStats {
        let s = self.lock();
        let ms = |q: f64| {
            (!s.latency.is_empty()).then(|| s.latency.value_at_quantile(q) as f64 / 1000.0)
        };
        LoadStats {
            peak_limit: s.peak,
            p50_ms: ms(0.5),
            p99_ms: ms(0.99),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Inner {
    fn cut(&mut self, keep: f64) {
        self.limit = (self.limit * keep).floor().max(1.0);
        self.slow_start = false;
        self.since_cut = 0;
    }

    /// Whether the window's mean latency is over the floor's tolerance.
    fn slow_window(&self) -> bool {
        self.over_tolerance(self.window_sum_us / f64::from(self.window_answers.max(1)))
    }

    /// Whether a latency (µs) is over [`TOLERANCE`] × the floor + [`SLACK`].
    fn over_tolerance(&self, us: f64) -> bool {
        self.floor
            .min()
            .is_some_and(|floor| us > TOLERANCE * floor as f64 + SLACK.as_micros() as f64)
    }
}

/// The lowest latency over the last one to two windows of [`FLOOR_WINDOW`] answers: a floor
/// that follows a service that became slower for good, instead of holding its fastest
/// moment forever.
#[derive(Debug, Default)]
struct WindowMin {
    previous: Option<u64>,
    current: Option<u64>,
    count: u32,
}

impl WindowMin {
    fn push(&mut self, us: u64) {
        self.current = Some(self.current.map_or(us, |c| c.min(us)));
        self.count += 1;
        if self.count == FLOOR_WINDOW {
            self.previous = self.current.take();
            self.count = 0;
        }
    }

    fn min(&self) -> Option<u64> {
        match (self.previous, self.current) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS10: Duration = Duration::from_millis(10);

    /// Feeds answers at a steady latency until the limit settles or `n` answers.
    fn feed(l: &AdaptiveLimit, n: usize, latency: Duration, signal: Signal) {
        for _ in 0..n {
            l.record(latency, signal);
        }
    }

    #[test]
    fn grows_while_latency_stays_flat_and_never_passes_the_maximum() {
        let l = AdaptiveLimit::adaptive(64);
        assert_eq!(l.limit(), INITIAL);
        // Slow start: one more per answer.
        feed(&l, 4, MS10, Signal::Answered);
        assert_eq!(l.limit(), 8);
        feed(&l, 1000, MS10, Signal::Answered);
        assert_eq!(l.limit(), 64);
        assert_eq!(l.stats().peak_limit, 64);
    }

    #[test]
    fn an_overload_cuts_once_per_window_then_grows_one_per_window() {
        let l = AdaptiveLimit::adaptive(64);
        feed(&l, 28, MS10, Signal::Answered);
        assert_eq!(l.limit(), 32);
        // A burst of 503s from the same moment: one cut.
        feed(&l, 5, MS10, Signal::Overloaded);
        assert_eq!(l.limit(), 24);
        // 503s keep coming a window later: another cut.
        feed(&l, 24, MS10, Signal::Overloaded);
        assert_eq!(l.limit(), 18);
        // Past slow start: about one more per window of answers.
        feed(&l, 18, MS10, Signal::Answered);
        assert_eq!(l.limit(), 18, "under one window");
        feed(&l, 4, MS10, Signal::Answered);
        assert_eq!(l.limit(), 19);
    }

    #[test]
    fn rising_latency_shrinks_the_limit_and_flat_latency_does_not() {
        let l = AdaptiveLimit::adaptive(64);
        feed(&l, 28, MS10, Signal::Answered);
        assert_eq!(l.limit(), 32);
        // 10 ms → 40 ms: a window's mean over 2 × 10 ms + 5 ms.
        feed(&l, 64, Duration::from_millis(40), Signal::Answered);
        let shrunk = l.limit();
        assert!(shrunk < 32, "{shrunk}");
        // Jitter within the tolerance after the floor caught up does not cut.
        let l = AdaptiveLimit::adaptive(64);
        for i in 0..500u64 {
            l.record(
                Duration::from_micros(10_000 + (i % 7) * 1_000),
                Signal::Answered,
            );
        }
        assert_eq!(l.limit(), 64);
    }

    #[test]
    fn refusals_answered_at_once_do_not_lower_the_latency_floor() {
        let l = AdaptiveLimit::adaptive(64);
        feed(&l, 28, MS10, Signal::Answered);
        // A saturated server refuses at once: one cut, and the 0.2 ms refusals are no floor
        // that would make the usual 10 ms read as load.
        feed(&l, 3, Duration::from_micros(200), Signal::Overloaded);
        assert_eq!(l.limit(), 24);
        feed(&l, 500, MS10, Signal::Answered);
        assert!(l.limit() > 24, "{}", l.limit());
    }

    #[test]
    fn a_few_slow_answers_in_a_fast_window_are_noise() {
        let l = AdaptiveLimit::adaptive(64);
        feed(&l, 28, MS10, Signal::Answered);
        assert_eq!(l.limit(), 32);
        // One answer in eight takes 40 ms (a busy client's scheduling): the mean stays near
        // 14 ms, under 2 × 10 ms + 5 ms.
        for i in 0..2000u64 {
            let ms = if i % 8 == 0 { 40 } else { 10 };
            l.record(Duration::from_millis(ms), Signal::Answered);
        }
        assert_eq!(l.limit(), 64);
    }

    #[test]
    fn loopback_jitter_under_the_slack_is_not_load() {
        let l = AdaptiveLimit::adaptive(64);
        for i in 0..200u64 {
            // 100 µs to 3 ms: a fast service on a busy machine.
            l.record(
                Duration::from_micros(100 + (i * 397) % 2_900),
                Signal::Answered,
            );
        }
        assert_eq!(l.limit(), 64);
    }

    #[test]
    fn a_fixed_limit_stays_and_still_measures_latency() {
        let l = AdaptiveLimit::fixed(8);
        feed(&l, 50, MS10, Signal::Overloaded);
        assert_eq!(l.limit(), 8);
        let stats = l.stats();
        assert_eq!(stats.peak_limit, 8);
        let p50 = stats.p50_ms.unwrap();
        assert!((9.9..=10.1).contains(&p50), "{p50}");
        assert_eq!(AdaptiveLimit::fixed(8).stats().p50_ms, None);
    }

    #[test]
    fn a_maximum_below_the_start_is_the_start() {
        assert_eq!(AdaptiveLimit::adaptive(2).limit(), 2);
        assert_eq!(AdaptiveLimit::adaptive(0).limit(), 1);
    }
}
