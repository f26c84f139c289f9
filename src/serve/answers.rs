//! What the served world answers: every snapshot entry turned once, at start, into a ready
//! HTTP answer (status, headers, body, rebased) or a simulated failure (hold, close); plus the
//! seeded choice of flaky URLs and of the requests chaos fails.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};
use http::StatusCode;
use url::Url;

use super::rebase::OriginMap;
use crate::rules::{Rules, ServiceId};
use crate::source::{Earlier, Snapshot, SnapshotEntry};
use crate::vocab::Reason;

/// Some first requests to one service answer 503 once, then the recorded answer: the crawler's
/// retries show, and end well.
#[derive(Debug, Clone, PartialEq)]
pub struct Flaky {
    /// The service whose URLs may fail once.
    pub service: String,
    /// The share of its 2xx URLs that fail once, in `0.0..=1.0`.
    pub fraction: f64,
    /// Chooses the URLs: the same seed always picks the same URLs.
    pub seed: u64,
}

/// Any request may fail at random: each answers 503 or closes its connection unanswered with
/// `probability`, at most `max_failures` times per URL, so a crawler that retries that often
/// always gets through and ends with the world's true findings. Only requests whose recorded
/// answer is itself final are failed (not a recorded 503, timeout or reset). Seeded: the n-th
/// request for a URL fails or not whatever the order requests arrive in.
#[derive(Debug, Clone, PartialEq)]
pub struct Chaos {
    /// The chance that one request fails, in `0.0..=1.0`.
    pub probability: f64,
    pub seed: u64,
    /// Failures at most per URL.
    pub max_failures: u32,
}

impl Chaos {
    /// The seed when none is given.
    pub const DEFAULT_SEED: u64 = 0;
    /// Failures at most per URL when not given: below the crawl's default retries.
    pub const DEFAULT_MAX_FAILURES: u32 = 3;
}

/// How chaos fails a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Strike {
    /// Answer 503.
    Unavailable,
    /// Close the connection without an answer.
    Close,
}

/// Chaos as it goes: requests and failures so far per URL, failures in all.
#[derive(Debug)]
pub(crate) struct ChaosState {
    chaos: Chaos,
    per_url: Mutex<HashMap<String, (u32, u32)>>,
    injected: AtomicU64,
}

impl ChaosState {
    pub fn new(chaos: Chaos) -> ChaosState {
        ChaosState {
            chaos,
            per_url: Mutex::default(),
            injected: AtomicU64::new(0),
        }
    }

    /// Whether (and how) this request for `url` fails.
    pub fn strike(&self, url: &str) -> Option<Strike> {
        let mut per_url = self.per_url.lock().expect("chaos lock");
        let (requests, failures) = per_url.entry(url.to_string()).or_default();
        let n = *requests;
        *requests += 1;
        let c = &self.chaos;
        if *failures >= c.max_failures || unit(c.seed, url, u64::from(n)) >= c.probability {
            return None;
        }
        *failures += 1;
        self.injected.fetch_add(1, Ordering::Relaxed);
        Some(if unit(!c.seed, url, u64::from(n)) < 0.5 {
            Strike::Unavailable
        } else {
            Strike::Close
        })
    }

    /// Requests failed so far.
    pub fn injected(&self) -> u64 {
        self.injected.load(Ordering::Relaxed)
    }
}

/// How one URL is answered.
#[derive(Debug)]
pub(crate) enum Answer {
    /// An HTTP answer.
    Reply(Reply),
    /// A recorded `timeout`: hold the request without answering.
    Hold,
    /// A recorded `connection_reset` / `connect_failed`: close the connection, no answer.
    Close,
}

/// A ready HTTP answer.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// One served URL.
#[derive(Debug)]
pub(crate) struct Served {
    pub answer: Answer,
    /// Set for a flaky URL until its first request has answered 503.
    pub flaky: Option<AtomicBool>,
    /// The recorded earlier attempts: the n-th request for the URL gets the n-th, then every
    /// request gets `answer`.
    pub earlier: Vec<Answer>,
    /// Requests answered from `earlier` so far.
    pub requests: AtomicUsize,
}

impl Served {
    /// The recorded earlier attempt this request replays, while there is one left.
    pub fn earlier_now(&self) -> Option<&Answer> {
        if self.earlier.is_empty() {
            return None;
        }
        // Never past the end: the count stops growing once the history is spent.
        let n = self
            .requests
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                (n < self.earlier.len()).then_some(n + 1)
            })
            .ok()?;
        self.earlier.get(n)
    }

    /// Whether this request is the one a flaky URL fails (true once at most).
    pub fn fails_now(&self) -> bool {
        self.flaky
            .as_ref()
            .is_some_and(|pending| pending.swap(false, Ordering::Relaxed))
    }
}

/// Every served URL, by recorded canonical URL.
#[derive(Debug, Default)]
pub(crate) struct Answers {
    pub by_url: HashMap<String, Served>,
    /// Recorded URLs per service (by the recorded rules).
    pub per_service: Vec<usize>,
    /// How long a recorded timeout holds its request.
    pub hold: Duration,
}

/// Headers never replayed: they describe the recorded connection or encoding, not the
/// resource, and the server sets its own framing.
const NOT_REPLAYED: &[&str] = &[
    "connection",
    "content-encoding",
    "content-length",
    "keep-alive",
    "proxy-authenticate",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

impl Answers {
    /// Prepares every entry of `snapshot`, with URLs moved by `map`.
    pub fn build(
        snapshot: &Snapshot,
        rules: &Rules,
        map: &OriginMap,
        flaky: Option<(&Flaky, ServiceId)>,
        hold: Duration,
    ) -> Answers {
        let mut per_service = vec![0usize; rules.services.len()];
        let mut by_url = HashMap::with_capacity(snapshot.entries.len());
        let aliased = rules.has_aliases();
        for (url, entry) in &snapshot.entries {
            // A snapshot recorded under a service's alias (its production name) is answered
            // under the service's base URL; its bodies keep the alias links, as a drill's data.
            let moved = if aliased { rules.unalias(url) } else { None };
            let url = moved.as_ref().unwrap_or(url);
            let service = Url::parse(url).ok().and_then(|u| rules.service_of(&u));
            if let Some(s) = service {
                per_service[s as usize] += 1;
            }
            let answer = answer(url, entry, map);
            let is_flaky = match (flaky, &answer) {
                (Some((f, s)), Answer::Reply(r)) => {
                    service == Some(s) && r.status.is_success() && picked(f, url)
                }
                _ => false,
            };
            let earlier = entry
                .history
                .iter()
                .flat_map(|h| &h.earlier)
                .map(earlier_answer)
                .collect();
            by_url.insert(
                url.clone(),
                Served {
                    answer,
                    flaky: is_flaky.then(|| AtomicBool::new(true)),
                    earlier,
                    requests: AtomicUsize::new(0),
                },
            );
        }
        Answers {
            by_url,
            per_service,
            hold,
        }
    }
}

/// The answer for one recorded entry.
fn answer(url: &str, entry: &SnapshotEntry, map: &OriginMap) -> Answer {
    let recorded = |status: u16| {
        Answer::Reply(Reply {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            headers: headers(url, entry, map),
            body: rebase_body(&entry.body, map),
        })
    };
    match entry.outcome {
        Ok(status) => recorded(status),
        Err(Reason::Timeout) => Answer::Hold,
        Err(Reason::ConnectionReset | Reason::ConnectFailed) => Answer::Close,
        Err(reason) if reason.follows_answer() => match entry.error_status {
            Some(status) => recorded(status),
            None => Answer::Reply(problem(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("recorded as `{}` without a status", reason.as_str()),
            )),
        },
        Err(reason) => {
            // A recorded reason that is an HTTP status in the live world.
            let status = match reason {
                Reason::NotFound => StatusCode::NOT_FOUND,
                Reason::Gone => StatusCode::GONE,
                Reason::ClientError => StatusCode::BAD_REQUEST,
                Reason::AccessDenied => StatusCode::FORBIDDEN,
                Reason::RateLimited => StatusCode::TOO_MANY_REQUESTS,
                Reason::ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            Answer::Reply(problem(
                status,
                &format!("recorded as `{}`", reason.as_str()),
            ))
        }
    }
}

/// The answer for a recorded earlier attempt: its status (with its `Retry-After`), or the
/// failure it got instead of an answer.
fn earlier_answer(e: &Earlier) -> Answer {
    let status = match e.outcome {
        Ok(status) => StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        Err(Reason::Timeout) => return Answer::Hold,
        Err(Reason::ConnectionReset | Reason::ConnectFailed) => return Answer::Close,
        Err(Reason::RateLimited) => StatusCode::TOO_MANY_REQUESTS,
        Err(_) => StatusCode::SERVICE_UNAVAILABLE,
    };
    let mut reply = problem(status, "a recorded earlier attempt: try again");
    if let Some(v) = e
        .retry_after
        .as_deref()
        .and_then(|v| HeaderValue::from_str(v).ok())
    {
        reply.headers.insert(http::header::RETRY_AFTER, v);
    }
    Answer::Reply(reply)
}

/// The recorded headers worth replaying, rebased; `content-type: application/json` added for
/// a recorded body without one (a snapshot body is JSON by definition).
fn headers(url: &str, entry: &SnapshotEntry, map: &OriginMap) -> HeaderMap {
    let mut out = HeaderMap::new();
    for (name, value) in entry.headers.iter() {
        if NOT_REPLAYED.contains(&name.as_str()) {
            continue;
        }
        let value = map.apply(value);
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            (Ok(n), Ok(v)) => {
                out.append(n, v);
            }
            _ => tracing::warn!(%url, header = %name, "recorded header cannot be sent; left out"),
        }
    }
    if !entry.body.is_empty() && !out.contains_key(CONTENT_TYPE) {
        out.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    out
}

fn rebase_body(body: &Bytes, map: &OriginMap) -> Bytes {
    if map.is_identity() {
        return body.clone();
    }
    match std::str::from_utf8(body) {
        Ok(text) => match map.apply(text) {
            std::borrow::Cow::Borrowed(_) => body.clone(),
            std::borrow::Cow::Owned(s) => Bytes::from(s),
        },
        Err(_) => body.clone(),
    }
}

/// A small RFC 9457 problem answer.
pub(crate) fn problem(status: StatusCode, detail: &str) -> Reply {
    let body = serde_json::json!({
        "title": status.canonical_reason().unwrap_or("Error"),
        "status": status.as_u16(),
        "detail": detail,
    });
    let mut headers = HeaderMap::new();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    Reply {
        status,
        headers,
        body: Bytes::from(body.to_string()),
    }
}

/// Whether the seeded choice makes `url` flaky: a stable hash of (seed, url) under the fraction.
fn picked(flaky: &Flaky, url: &str) -> bool {
    if flaky.fraction <= 0.0 {
        return false;
    }
    if flaky.fraction >= 1.0 {
        return true;
    }
    unit(flaky.seed, url, 0) < flaky.fraction
}

/// A number in `[0, 1)` fixed by (seed, url, n): FNV-1a over them, then a splitmix64 finish,
/// stable across Rust versions and platforms (std's hasher is not promised to be).
fn unit(seed: u64, url: &str, n: u64) -> f64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let extra = if n == 0 { None } else { Some(n.to_le_bytes()) };
    for b in seed
        .to_le_bytes()
        .iter()
        .chain(url.as_bytes())
        .chain(extra.iter().flatten())
    {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^= h >> 31;
    // The top 53 bits as a uniform number in [0, 1).
    (h >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn snapshot(text: &str) -> Snapshot {
        let mut s = Snapshot::default();
        s.add_text(Path::new("t.ndjson"), Bytes::from(text.to_string()))
            .unwrap();
        s
    }

    fn flaky(fraction: f64, seed: u64) -> Flaky {
        Flaky {
            service: "s".into(),
            fraction,
            seed,
        }
    }

    #[test]
    fn flaky_choice_is_seeded_and_near_the_fraction() {
        let urls: Vec<String> = (0..2000).map(|i| format!("http://h/p/{i}")).collect();
        let count = |f: &Flaky| urls.iter().filter(|u| picked(f, u)).count();
        let a = count(&flaky(0.2, 7));
        assert_eq!(a, count(&flaky(0.2, 7)), "same seed, same choice");
        assert!((300..500).contains(&a), "{a} of 2000 at 0.2");
        let differs = urls
            .iter()
            .any(|u| picked(&flaky(0.2, 7), u) != picked(&flaky(0.2, 8), u));
        assert!(differs, "another seed picks other URLs");
        assert_eq!(count(&flaky(0.0, 7)), 0);
        assert_eq!(count(&flaky(1.0, 7)), 2000);
    }

    #[test]
    fn recorded_outcomes_become_answers() {
        let s = snapshot(concat!(
            r#"{"url":"http://h/a","status":200,"headers":{"content-length":"9","etag":"x"},"body":{"u":"http://h/b"}}"#,
            "\n",
            r#"{"url":"http://h/t","error":"timeout"}"#,
            "\n",
            r#"{"url":"http://h/r","error":"connection_reset"}"#,
            "\n",
            r#"{"url":"http://h/u","error":"service_unavailable"}"#,
            "\n",
            r#"{"url":"http://h/big","status":200,"error":"body_too_large"}"#,
            "\n",
            r#"{"url":"http://h/loop","error":"too_many_redirects"}"#,
            "\n",
        ));
        let map = OriginMap::new(vec![("http://h".into(), "http://127.0.0.1:9".into())]);
        let rules = Rules {
            path: "r.toml".into(),
            services: Vec::new(),
            kinds: Vec::new(),
            links: Vec::new(),
        };
        let a = Answers::build(&s, &rules, &map, None, Duration::from_secs(1));
        let reply = |u: &str| match &a.by_url[u].answer {
            Answer::Reply(r) => r.clone(),
            other => panic!("{u}: {other:?}"),
        };
        let r = reply("http://h/a");
        assert_eq!(r.status, 200);
        assert_eq!(&r.body[..], br#"{"u":"http://127.0.0.1:9/b"}"#);
        assert!(r.headers.get("content-length").is_none());
        assert_eq!(r.headers["etag"], "x");
        assert_eq!(r.headers["content-type"], "application/json");
        assert!(matches!(a.by_url["http://h/t"].answer, Answer::Hold));
        assert!(matches!(a.by_url["http://h/r"].answer, Answer::Close));
        assert_eq!(reply("http://h/u").status, 503);
        assert_eq!(reply("http://h/big").status, 200);
        assert_eq!(reply("http://h/loop").status, 500);
    }

    #[test]
    fn a_recorded_history_answers_in_request_order_then_the_final_answer() {
        let s = snapshot(concat!(
            r#"{"url":"http://h/a","status":404,"earlier":[{"status":429,"retry_after":"1"},{"error":"timeout"},{"error":"connection_reset"},{"status":503}]}"#,
            "\n",
        ));
        let rules = Rules {
            path: "r.toml".into(),
            services: Vec::new(),
            kinds: Vec::new(),
            links: Vec::new(),
        };
        let a = Answers::build(
            &s,
            &rules,
            &OriginMap::new(Vec::new()),
            None,
            Duration::from_secs(1),
        );
        let served = &a.by_url["http://h/a"];
        let status = |answer: Option<&Answer>| match answer {
            Some(Answer::Reply(r)) => {
                format!("{} {:?}", r.status.as_u16(), r.headers.get("retry-after"))
            }
            Some(other) => format!("{other:?}"),
            None => "final".into(),
        };
        let seen: Vec<String> = (0..6).map(|_| status(served.earlier_now())).collect();
        assert_eq!(
            seen,
            [
                "429 Some(\"1\")",
                "Hold",
                "Close",
                "503 None",
                "final",
                "final"
            ]
        );
        assert!(matches!(&served.answer, Answer::Reply(r) if r.status == 404));
    }

    #[test]
    fn chaos_is_seeded_bounded_per_url_and_near_its_probability() {
        let chaos = |seed| Chaos {
            probability: 0.2,
            seed,
            max_failures: 3,
        };
        let urls: Vec<String> = (0..500).map(|i| format!("http://h/p/{i}")).collect();
        let run = |seed| {
            let st = ChaosState::new(chaos(seed));
            let strikes: Vec<Option<Strike>> = urls
                .iter()
                .flat_map(|u| (0..10).map(|_| st.strike(u)).collect::<Vec<_>>())
                .collect();
            (strikes, st.injected())
        };
        let (a, injected) = run(7);
        assert_eq!(a, run(7).0, "same seed, same failures");
        assert_ne!(a, run(8).0, "another seed, other failures");
        // About 20 % of the first requests fail; no URL more than 3 times.
        let first = a.iter().step_by(10).filter(|s| s.is_some()).count();
        assert!((60..140).contains(&first), "{first} of 500");
        for per_url in a.chunks(10) {
            assert!(per_url.iter().filter(|s| s.is_some()).count() <= 3);
        }
        assert_eq!(injected as usize, a.iter().filter(|s| s.is_some()).count());
        assert!(a.contains(&Some(Strike::Close)) && a.contains(&Some(Strike::Unavailable)));
        let never = ChaosState::new(Chaos {
            probability: 0.0,
            ..chaos(1)
        });
        assert!((0..100).all(|_| never.strike("http://h/x").is_none()));
    }
}
