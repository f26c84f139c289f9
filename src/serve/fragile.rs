//! What a fragile service looks like, for tests, benchmarks and the demo: answers that take
//! time (`latency`, with jitter), a capacity beyond which requests are refused with 503 at once
//! (a saturated server), and latency that grows with the requests in flight (a server that
//! queues instead of refusing).
//!
//! Each setting is for every service or for one (`SERVICE=VALUE`, which wins). A request's
//! delay is `latency × (1 ± jitter) + slow_under_load × (requests in flight before it)`; the
//! jitter comes from a seeded sequence, so a run's delays are reproducible in distribution.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use crate::error::Error;
use crate::rules::{Rules, ServiceId};

/// How fragile the served services are. Empty: not at all.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fragility {
    /// For every service not named in `per_service`.
    pub all: Load,
    /// Settings of one service, by name (on top of `all`).
    pub per_service: BTreeMap<String, Load>,
}

/// One service's fragility (each `None`: as given for every service, or none).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Load {
    /// Time each answer takes.
    pub latency: Option<Duration>,
    /// Requests in flight at most; more are answered 503 at once.
    pub capacity: Option<usize>,
    /// Time each answer takes longer per request already in flight.
    pub slow_under_load: Option<Duration>,
}

impl Fragility {
    /// The share of `latency` each answer may take more or less (uniform).
    pub const JITTER: f64 = 0.2;

    /// Whether any setting is given.
    pub fn is_set(&self) -> bool {
        self.all != Load::default() || self.per_service.values().any(|l| *l != Load::default())
    }

    /// Reads `MS` or `SERVICE=MS` (`what` names the option in errors) into `set`.
    pub fn parse_into<T>(
        &mut self,
        what: &str,
        arg: &str,
        parse: impl Fn(&str) -> Option<T>,
        set: impl Fn(&mut Load, T),
    ) -> Result<(), Error> {
        let (load, value) = match arg.split_once('=') {
            Some((service, value)) => (
                self.per_service
                    .entry(service.trim().to_string())
                    .or_default(),
                value,
            ),
            None => (&mut self.all, arg),
        };
        let v = parse(value.trim())
            .ok_or_else(|| Error::Usage(format!("{what} `{arg}`: expected N or SERVICE=N")))?;
        set(load, v);
        Ok(())
    }
}

/// Fragility as it goes: requests in flight per service, refusals so far.
#[derive(Debug)]
pub(crate) struct FragileState {
    /// The rules as recorded (requests are looked up under the recorded origins), to tell a
    /// request's service.
    rules: Rules,
    services: Vec<ServiceState>,
    next: AtomicU64,
    refused: AtomicU64,
}

#[derive(Debug)]
struct ServiceState {
    latency: Duration,
    capacity: usize,
    slow: Duration,
    in_flight: AtomicUsize,
}

/// What to do with one request.
pub(crate) enum Admit<'a> {
    /// Answer 503 at once: the service is over capacity.
    Refuse,
    /// Wait `delay`, then answer; in flight until the guard is dropped.
    Answer {
        delay: Duration,
        _guard: InFlight<'a>,
    },
}

/// One request in flight to a service.
pub(crate) struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl FragileState {
    /// Resolves the settings for every service of `rules`; a service name not in the rules is
    /// an error.
    pub fn new(f: &Fragility, rules: &Rules) -> Result<FragileState, Error> {
        for name in f.per_service.keys() {
            if rules.services.iter().all(|s| &s.name != name) {
                return Err(Error::Usage(format!(
                    "no service `{name}` in the rules (known: {})",
                    rules
                        .services
                        .iter()
                        .map(|s| s.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
        let services = rules
            .services
            .iter()
            .map(|s| {
                let own = f.per_service.get(&s.name);
                let pick = |get: fn(&Load) -> Option<Duration>| {
                    own.and_then(get).or(get(&f.all)).unwrap_or_default()
                };
                ServiceState {
                    latency: pick(|l| l.latency),
                    slow: pick(|l| l.slow_under_load),
                    capacity: own
                        .and_then(|l| l.capacity)
                        .or(f.all.capacity)
                        .unwrap_or(usize::MAX),
                    in_flight: AtomicUsize::new(0),
                }
            })
            .collect();
        Ok(FragileState {
            rules: rules.clone(),
            services,
            next: AtomicU64::new(0),
            refused: AtomicU64::new(0),
        })
    }

    /// Requests refused over capacity so far.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// Admits one request for `url` (None: not a service's URL, answered at once).
    pub fn admit_url(&self, url: &url::Url) -> Option<Admit<'_>> {
        self.admit(self.rules.service_of(url))
    }

    /// Admits one request to `service` (None: not a service's URL, answered at once).
    pub fn admit(&self, service: Option<ServiceId>) -> Option<Admit<'_>> {
        let s = &self.services[service? as usize];
        let before = s.in_flight.fetch_add(1, Ordering::AcqRel);
        let guard = InFlight(&s.in_flight);
        if before >= s.capacity {
            self.refused.fetch_add(1, Ordering::Relaxed);
            return Some(Admit::Refuse);
        }
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let jitter = 1.0 + Fragility::JITTER * (2.0 * unit(n) - 1.0);
        let delay = s.latency.mul_f64(jitter) + s.slow * before as u32;
        Some(Admit::Answer {
            delay,
            _guard: guard,
        })
    }
}

/// The n-th number of a fixed sequence, uniform in `[0, 1)` (splitmix64).
fn unit(n: u64) -> f64 {
    let mut z = n.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Service;

    fn two_services() -> Rules {
        let service = |name: &str, base: &str| Service::new(name, url::Url::parse(base).unwrap());
        Rules {
            path: "fragile-test.toml".into(),
            services: vec![
                service("customers", "http://127.0.0.1:1/"),
                service("orders", "http://127.0.0.1:2/"),
            ],
            kinds: Vec::new(),
            links: Vec::new(),
        }
    }

    fn delay(a: Option<Admit<'_>>) -> Option<Duration> {
        match a? {
            Admit::Refuse => None,
            Admit::Answer { delay, .. } => Some(delay),
        }
    }

    #[test]
    fn over_capacity_is_refused_until_a_request_ends() {
        let mut f = Fragility::default();
        f.parse_into(
            "--capacity",
            "2",
            |v| v.parse().ok(),
            |l, v| l.capacity = Some(v),
        )
        .unwrap();
        let state = FragileState::new(&f, &two_services()).unwrap();
        let a = state.admit(Some(0)).unwrap();
        let b = state.admit(Some(0)).unwrap();
        assert!(matches!(state.admit(Some(0)), Some(Admit::Refuse)));
        // The other service has its own capacity.
        assert!(matches!(state.admit(Some(1)), Some(Admit::Answer { .. })));
        drop(a);
        assert!(matches!(state.admit(Some(0)), Some(Admit::Answer { .. })));
        drop(b);
        assert_eq!(state.refused(), 1);
        assert!(state.admit(None).is_none());
    }

    #[test]
    fn latency_has_bounded_jitter_and_grows_with_load_per_service() {
        let mut f = Fragility::default();
        let ms = |v: &str| v.parse().ok().map(Duration::from_millis);
        f.parse_into("--latency", "10", ms, |l, v| l.latency = Some(v))
            .unwrap();
        f.parse_into("--latency", "orders=100", ms, |l, v| l.latency = Some(v))
            .unwrap();
        f.parse_into("--slow-under-load", "orders=5", ms, |l, v| {
            l.slow_under_load = Some(v)
        })
        .unwrap();
        let state = FragileState::new(&f, &two_services()).unwrap();
        let mut seen = Vec::new();
        for _ in 0..200 {
            let d = delay(state.admit(Some(0))).unwrap();
            assert!((8.0..=12.0).contains(&(d.as_secs_f64() * 1000.0)), "{d:?}");
            seen.push(d);
        }
        seen.sort();
        assert!(seen[0] < seen[199], "jitter varies the delay");
        // With 3 requests in flight on orders, the 4th waits 3 × 5 ms more.
        let held: Vec<_> = (0..3).map(|_| state.admit(Some(1))).collect();
        let d = delay(state.admit(Some(1))).unwrap().as_secs_f64() * 1000.0;
        assert!((80.0 + 15.0..=120.0 + 15.0).contains(&d), "{d}");
        drop(held);
    }

    #[test]
    fn unknown_services_and_bad_values_are_named() {
        let mut f = Fragility::default();
        let err = f
            .parse_into(
                "--capacity",
                "orders=x",
                |v| v.parse::<usize>().ok(),
                |l, v| l.capacity = Some(v),
            )
            .unwrap_err();
        assert!(err.to_string().contains("--capacity `orders=x`"), "{err}");
        f.parse_into(
            "--capacity",
            "payments=3",
            |v| v.parse().ok(),
            |l, v| l.capacity = Some(v),
        )
        .unwrap();
        let err = FragileState::new(&f, &two_services()).unwrap_err();
        assert!(err.to_string().contains("no service `payments`"), "{err}");
    }
}
