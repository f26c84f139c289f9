//! The live crawl against real HTTP servers on 127.0.0.1 (wiremock, raw TCP, a gauge server):
//! every row of the retry classification table, redirects, credentials scope, the body cap, the
//! circuit breaker, per-service limits, interruption and `--record` replay. Seeds drive the
//! crawler, so nothing here depends on link extraction unless marked.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bacaudit::analyze::FindingBody;
use bacaudit::crawl::{CrawlOptions, Quiet, RetryPolicy, Stop};
use bacaudit::gate::{self, Gate};
use bacaudit::model::{Origin, Report};
use bacaudit::record::Recorder;
use bacaudit::source::{LiveOptions, Snapshot, SnapshotSource};
use bacaudit::vocab::FindingKind;
use bacaudit::vocab::FindingKind::{BrokenLink, Unresolved};
use bacaudit::{exit, plan};
use tokio::sync::watch;
use wiremock::matchers::{any, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::tls::Scheme;
use crate::support::{
    answer, crawl_live, crawl_live_with, crawl_with, dead_port, fast, paths, redirect, url,
    Counter, Crawled, Gauge, Hangup, RulesBuilder, Script, Scripted,
};

/// Mounts `status` on `p`, expected exactly `times` times.
async fn mount(server: &MockServer, p: &str, status: u16, times: u64) {
    Mock::given(path(p))
        .respond_with(ResponseTemplate::new(status))
        .expect(times)
        .mount(server)
        .await;
}

/// One service `api` on `uri` (a server reached over a scheme).
fn one_service(uri: &str, seeds: &[&str]) -> Arc<bacaudit::rules::Rules> {
    Arc::new(RulesBuilder::new().service("api", uri, seeds).build())
}

// ---------------------------------------------------------------------------------------------
// The classification table, row by row

async fn not_found_and_gone_are_requested_once_and_broken(scheme: Scheme) {
    let server = MockServer::start().await;
    let over = scheme.over(&server.uri()).await;
    mount(&server, "/a", 404, 1).await;
    mount(&server, "/b", 410, 1).await;
    let rules = one_service(&over.uri, &["/a", "/b"]);
    let c = crawl_live(&rules, LiveOptions::default(), fast(3)).await;
    let u = |p| url(&over.uri, p);
    c.assert_seed(&u("/a"), BrokenLink, "permanent", "not_found", Some(404), 1);
    c.assert_seed(&u("/b"), BrokenLink, "permanent", "gone", Some(410), 1);
    assert_eq!((c.graph.stats.requests, c.graph.stats.retries), (2, 0));
    assert_eq!(c.count(BrokenLink), 2);
    assert!(c.graph.complete);
    server.verify().await;
}

async fn access_denied_is_unresolved_and_not_retried(scheme: Scheme) {
    let server = MockServer::start().await;
    let over = scheme.over(&server.uri()).await;
    mount(&server, "/401", 401, 1).await;
    mount(&server, "/403", 403, 1).await;
    let rules = one_service(&over.uri, &["/401", "/403"]);
    let c = crawl_live(&rules, LiveOptions::default(), fast(3)).await;
    for (p, s) in [("/401", 401), ("/403", 403)] {
        let u = url(&over.uri, p);
        c.assert_seed(&u, Unresolved, "access", "access_denied", Some(s), 1);
    }
    assert_eq!(c.graph.stats.retries, 0);
    server.verify().await;
}

async fn other_client_errors_are_broken_once(scheme: Scheme) {
    let server = MockServer::start().await;
    let over = scheme.over(&server.uri()).await;
    mount(&server, "/400", 400, 1).await;
    mount(&server, "/422", 422, 1).await;
    let rules = one_service(&over.uri, &["/400", "/422"]);
    let c = crawl_live(&rules, LiveOptions::default(), fast(3)).await;
    for (p, s) in [("/400", 400), ("/422", 422)] {
        let u = url(&over.uri, p);
        c.assert_seed(&u, BrokenLink, "permanent", "client_error", Some(s), 1);
    }
    server.verify().await;
}

async fn transient_statuses_are_retried_then_unresolved(scheme: Scheme) {
    let server = MockServer::start().await;
    let over = scheme.over(&server.uri()).await;
    let rows = [
        (408, "timeout"),
        (425, "rate_limited"),
        (429, "rate_limited"),
        (500, "server_error"),
        (502, "server_error"),
        (503, "server_error"),
        (504, "server_error"),
    ];
    let retries = 2;
    for (s, _) in rows {
        mount(&server, &format!("/{s}"), s, u64::from(retries) + 1).await;
    }
    let seeds: Vec<String> = rows.iter().map(|(s, _)| format!("/{s}")).collect();
    let seeds: Vec<&str> = seeds.iter().map(String::as_str).collect();
    let rules = one_service(&over.uri, &seeds);
    let c = crawl_live(&rules, LiveOptions::default(), fast(retries)).await;
    for (s, reason) in rows {
        let u = url(&over.uri, &format!("/{s}"));
        c.assert_seed(&u, Unresolved, "transient", reason, Some(s), retries + 1);
        let (_, l) = c.finding(&u);
        assert!(l.detail.ends_with("after 3 attempts"), "{}", l.detail);
    }
    let n = rows.len() as u64;
    assert_eq!(c.graph.stats.requests, n * 3);
    assert_eq!(c.graph.stats.retries, n * 2);
    assert_eq!(c.analysis.summary.retries, n * 2);
    server.verify().await;
}

async fn a_transient_failure_that_turns_permanent_ends_broken(scheme: Scheme) {
    let server = MockServer::start().await;
    let over = scheme.over(&server.uri()).await;
    Mock::given(path("/flaky"))
        .respond_with(Script::new(vec![
            ResponseTemplate::new(503),
            ResponseTemplate::new(404),
        ]))
        .expect(2)
        .mount(&server)
        .await;
    let rules = one_service(&over.uri, &["/flaky"]);
    let c = crawl_live(&rules, LiveOptions::default(), fast(3)).await;
    let u = url(&over.uri, "/flaky");
    c.assert_seed(&u, BrokenLink, "permanent", "not_found", Some(404), 2);
    assert_eq!((c.graph.stats.requests, c.graph.stats.retries), (2, 1));
    server.verify().await;
}

async fn service_unavailable_then_ok_ends_ok_after_one_retry(scheme: Scheme) {
    let server = MockServer::start().await;
    let over = scheme.over(&server.uri()).await;
    Mock::given(path("/warming"))
        .respond_with(Script::new(vec![
            ResponseTemplate::new(503),
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"id": 1})),
        ]))
        .expect(2)
        .mount(&server)
        .await;
    let rules = one_service(&over.uri, &["/warming"]);
    let c = crawl_live(&rules, LiveOptions::default(), fast(3)).await;
    let o = c.outcome(&url(&over.uri, "/warming"));
    assert!(o.is_ok(), "{o:?}");
    assert_eq!((o.status, o.attempts), (Some(200), 2));
    assert_eq!((c.graph.stats.requests, c.graph.stats.retries), (2, 1));
    assert!(c.analysis.findings.is_empty(), "{:#?}", c.analysis.findings);
    assert_eq!(c.analysis.summary.resources, 1);
    server.verify().await;
}

async fn always_unavailable_ends_unresolved_after_retries_plus_one(scheme: Scheme) {
    let server = MockServer::start().await;
    let over = scheme.over(&server.uri()).await;
    mount(&server, "/down", 503, 5).await;
    let rules = one_service(&over.uri, &["/down"]);
    let c = crawl_live(&rules, LiveOptions::default(), fast(4)).await;
    let u = url(&over.uri, "/down");
    c.assert_seed(&u, Unresolved, "transient", "server_error", Some(503), 5);
    let (_, l) = c.finding(&u);
    assert_eq!(l.detail, "503 Service Unavailable after 5 attempts");
    assert_eq!((c.graph.stats.requests, c.graph.stats.retries), (5, 4));
    server.verify().await;
}

/// `Retry-After` wins over the (1 ms) backoff: the retry comes no sooner than the server asked,
/// capped by the policy. Only a lower bound is asserted (a sleep is never shorter than asked).
async fn retry_after_is_honoured_up_to_the_cap(scheme: Scheme) {
    let server = MockServer::start().await;
    let over = scheme.over(&server.uri()).await;
    let script = Script::new(vec![
        ResponseTemplate::new(429).insert_header("retry-after", "1"),
        ResponseTemplate::new(404),
    ]);
    Mock::given(path("/busy"))
        .respond_with(script.clone())
        .expect(2)
        .mount(&server)
        .await;
    let rules = one_service(&over.uri, &["/busy"]);
    let mut opts = fast(3);
    opts.retry.max_retry_after = Duration::from_millis(300);
    let c = crawl_live(&rules, LiveOptions::default(), opts).await;
    let u = url(&over.uri, "/busy");
    c.assert_seed(&u, BrokenLink, "permanent", "not_found", Some(404), 2);
    let t = script.times();
    assert_eq!(t.len(), 2);
    let gap = t[1] - t[0];
    assert!(gap >= Duration::from_millis(300), "retried after {gap:?}");
    server.verify().await;
}

/// The same on tokio's paused clock through a scripted source: the waits are exactly the
/// `Retry-After` values (seconds, then an HTTP-date), and a huge one is capped.
#[tokio::test(start_paused = true)]
async fn retry_after_delays_are_exact_on_a_paused_clock() {
    let rules = Arc::new(
        RulesBuilder::new()
            .service("api", "http://127.0.0.1:9/", &["/busy", "/capped"])
            .build(),
    );
    let busy = url("http://127.0.0.1:9", "/busy");
    let capped = url("http://127.0.0.1:9", "/capped");
    let in_3s = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(3));
    let source = Arc::new(
        Scripted::new(Duration::ZERO)
            .on(
                &busy,
                vec![
                    answer(429, &[("retry-after", "2")]),
                    answer(503, &[("retry-after", &in_3s)]),
                    answer(404, &[]),
                ],
            )
            .on(
                &capped,
                vec![answer(429, &[("retry-after", "86400")]), answer(410, &[])],
            ),
    );
    let opts = CrawlOptions {
        retry: RetryPolicy {
            retries: 3,
            max_retry_after: Duration::from_secs(30),
            ..RetryPolicy::default()
        },
        ..CrawlOptions::default()
    };
    let c = crawl_with(&rules, source.clone(), opts, Arc::new(Quiet), Stop::never()).await;
    c.assert_seed(&busy, BrokenLink, "permanent", "not_found", Some(404), 3);
    c.assert_seed(&capped, BrokenLink, "permanent", "gone", Some(410), 2);
    let log = source.log();
    let times = |u: &str| -> Vec<tokio::time::Instant> {
        log.iter()
            .filter(|(x, _)| x == u)
            .map(|(_, t)| *t)
            .collect()
    };
    let b = times(&busy);
    assert_eq!(b[1] - b[0], Duration::from_secs(2));
    // An HTTP-date has one-second resolution: between 2 and 3 seconds from when it was made.
    let d = b[2] - b[1];
    assert!(
        d > Duration::from_secs(2) && d <= Duration::from_secs(3),
        "{d:?}"
    );
    let k = times(&capped);
    assert_eq!(k[1] - k[0], Duration::from_secs(30));
}

async fn rate_limited_with_retry_after_then_ok(scheme: Scheme) {
    let server = MockServer::start().await;
    let over = scheme.over(&server.uri()).await;
    Mock::given(path("/busy"))
        .respond_with(Script::new(vec![
            ResponseTemplate::new(429).insert_header("retry-after", "1"),
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"id": 1})),
        ]))
        .expect(2)
        .mount(&server)
        .await;
    let rules = one_service(&over.uri, &["/busy"]);
    let mut opts = fast(3);
    opts.retry.max_retry_after = Duration::from_millis(50);
    let c = crawl_live(&rules, LiveOptions::default(), opts).await;
    let o = c.outcome(&url(&over.uri, "/busy"));
    assert!(o.is_ok() && o.attempts == 2, "{o:?}");
    assert_eq!(c.graph.stats.retries, 1);
    server.verify().await;
}

async fn a_timeout_is_transient_with_no_status(scheme: Scheme) {
    let server = MockServer::start().await;
    let over = scheme.over(&server.uri()).await;
    Mock::given(path("/slow"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(30)))
        .expect(2)
        .mount(&server)
        .await;
    let rules = one_service(&over.uri, &["/slow"]);
    let live = LiveOptions {
        timeout: Duration::from_millis(200),
        ..LiveOptions::default()
    };
    let c = crawl_live(&rules, live, fast(1)).await;
    let u = url(&over.uri, "/slow");
    c.assert_seed(&u, Unresolved, "transient", "timeout", None, 2);
    server.verify().await;
}

async fn connection_refused_is_connect_failed_and_transient(scheme: Scheme) {
    let scheme = if scheme == Scheme::Http {
        "http"
    } else {
        "https"
    };
    let uri = format!("{scheme}://127.0.0.1:{}", dead_port());
    let rules = Arc::new(RulesBuilder::new().service("down", &uri, &["/x"]).build());
    let c = crawl_live(&rules, LiveOptions::default(), fast(2)).await;
    let u = url(&uri, "/x");
    c.assert_seed(&u, Unresolved, "transient", "connect_failed", None, 3);
    assert_eq!((c.graph.stats.requests, c.graph.stats.retries), (3, 2));
}

async fn a_connection_closed_without_an_answer_is_connection_reset(scheme: Scheme) {
    let hangup = Hangup::start().await;
    let over = scheme.over(&hangup.uri).await;
    let rules = Arc::new(
        RulesBuilder::new()
            .service("rude", &over.uri, &["/x"])
            .build(),
    );
    let c = crawl_live(&rules, LiveOptions::default(), fast(1)).await;
    let u = url(&over.uri, "/x");
    c.assert_seed(&u, Unresolved, "transient", "connection_reset", None, 2);
    assert!(hangup.accepted.load(Ordering::SeqCst) >= 2);
}

async fn an_answer_cut_mid_body_is_connection_reset(scheme: Scheme) {
    let cut = Hangup::replying(Some(
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"id\":",
    ))
    .await;
    let over = scheme.over(&cut.uri).await;
    let rules = Arc::new(
        RulesBuilder::new()
            .service("cut", &over.uri, &["/x"])
            .build(),
    );
    let c = crawl_live(&rules, LiveOptions::default(), fast(1)).await;
    let u = url(&over.uri, "/x");
    // A 200 head came, but no whole answer: no status to report, retried like a reset.
    c.assert_seed(&u, Unresolved, "transient", "connection_reset", None, 2);
    assert_eq!(cut.accepted.load(Ordering::SeqCst), 2);
}

// ---------------------------------------------------------------------------------------------
// Redirects

async fn an_in_scope_redirect_chain_is_followed_to_its_end(scheme: Scheme) {
    let server = MockServer::start().await;
    let over = scheme.over(&server.uri()).await;
    // Five redirects (the most allowed), mixing statuses and relative/absolute locations.
    let hops = [
        (301, "/r1"),
        (302, "r2"),
        (303, "/r3"),
        (307, "/r4"),
        (308, "/r5"),
    ];
    for (i, (s, to)) in hops.iter().enumerate() {
        let to = if i == 2 {
            url(&over.uri, to)
        } else {
            to.to_string()
        };
        Mock::given(path(format!("/r{i}")))
            .respond_with(redirect(*s, &to))
            .expect(1)
            .mount(&server)
            .await;
    }
    mount(&server, "/r5", 404, 1).await;
    let rules = one_service(&over.uri, &["/r0"]);
    let c = crawl_live(&rules, LiveOptions::default(), fast(3)).await;
    let u = url(&over.uri, "/r0");
    // The seed's outcome is its chain's final answer: one attempt, six requests, no retries.
    c.assert_seed(&u, BrokenLink, "permanent", "not_found", Some(404), 1);
    assert_eq!((c.graph.stats.requests, c.graph.stats.retries), (6, 0));
    assert_eq!(
        paths(&server).await,
        ["/r0", "/r1", "/r2", "/r3", "/r4", "/r5"]
    );
    server.verify().await;
}

async fn an_in_scope_redirect_chain_to_ok_is_ok(scheme: Scheme) {
    let server = MockServer::start().await;
    let over = scheme.over(&server.uri()).await;
    for i in 0..5 {
        Mock::given(path(format!("/r{i}")))
            .respond_with(redirect(302, &format!("/r{}", i + 1)))
            .expect(1)
            .mount(&server)
            .await;
    }
    Mock::given(path("/r5"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"id": 5})))
        .expect(1)
        .mount(&server)
        .await;
    let rules = one_service(&over.uri, &["/r0"]);
    let c = crawl_live(&rules, LiveOptions::default(), fast(3)).await;
    let o = c.outcome(&url(&over.uri, "/r0"));
    assert!(o.is_ok(), "{o:?}");
    assert!(c.analysis.findings.is_empty(), "{:#?}", c.analysis.findings);
    server.verify().await;
}

async fn a_sixth_redirect_is_too_many_redirects(scheme: Scheme) {
    let server = MockServer::start().await;
    let over = scheme.over(&server.uri()).await;
    for i in 0..6 {
        Mock::given(path(format!("/r{i}")))
            .respond_with(redirect(302, &format!("/r{}", i + 1)))
            .expect(1)
            .mount(&server)
            .await;
    }
    mount(&server, "/r6", 200, 0).await;
    let rules = one_service(&over.uri, &["/r0"]);
    let c = crawl_live(&rules, LiveOptions::default(), fast(3)).await;
    let u = url(&over.uri, "/r0");
    c.assert_seed(
        &u,
        BrokenLink,
        "permanent",
        "too_many_redirects",
        Some(302),
        1,
    );
    assert_eq!(c.graph.stats.requests, 6);
    server.verify().await;
}

async fn a_redirect_out_of_scope_is_unresolved_and_never_followed(scheme: Scheme) {
    let inside = MockServer::start().await;
    let outside = MockServer::start().await;
    let (inside_over, outside_over) = (
        scheme.over(&inside.uri()).await,
        scheme.over(&outside.uri()).await,
    );
    Mock::given(path("/away"))
        .respond_with(redirect(302, &url(&outside_over.uri, "/elsewhere")))
        .expect(1)
        .mount(&inside)
        .await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&outside)
        .await;
    let rules = one_service(&inside_over.uri, &["/away"]);
    let c = crawl_live(&rules, LiveOptions::default(), fast(3)).await;
    let u = url(&inside_over.uri, "/away");
    c.assert_seed(
        &u,
        Unresolved,
        "permanent",
        "redirect_out_of_scope",
        Some(302),
        1,
    );
    assert!(outside.received_requests().await.unwrap().is_empty());
    inside.verify().await;
    outside.verify().await;
}

// ---------------------------------------------------------------------------------------------
// Credentials, body cap

async fn the_auth_header_reaches_its_own_service_only_even_across_a_redirect(scheme: Scheme) {
    let secured = MockServer::start().await;
    let open = MockServer::start().await;
    let (secured_over, open_over) = (
        scheme.over(&secured.uri()).await,
        scheme.over(&open.uri()).await,
    );
    mount(&secured, "/mine", 404, 1).await;
    Mock::given(path("/to-open"))
        .respond_with(redirect(302, &url(&open_over.uri, "/landing")))
        .expect(1)
        .mount(&secured)
        .await;
    mount(&open, "/theirs", 404, 1).await;
    mount(&open, "/landing", 404, 1).await;
    // And the other way round: a redirect into the secured service carries its header there.
    Mock::given(path("/to-secured"))
        .respond_with(redirect(302, &url(&secured_over.uri, "/back")))
        .expect(1)
        .mount(&open)
        .await;
    mount(&secured, "/back", 404, 1).await;
    let token = "Bearer s3cr3t-token";
    let rules = Arc::new(
        RulesBuilder::new()
            .service("secured", &secured_over.uri, &["/mine", "/to-open"])
            .service("open", &open_over.uri, &["/theirs", "/to-secured"])
            .auth("secured", "X-Api-Key", token)
            .build(),
    );
    let c = crawl_live(&rules, LiveOptions::default(), fast(0)).await;
    assert_eq!(c.count(BrokenLink), 4);

    let to_secured = secured.received_requests().await.unwrap();
    assert_eq!(to_secured.len(), 3);
    for r in &to_secured {
        assert_eq!(
            r.headers.get("x-api-key").map(|v| v.to_str().unwrap()),
            Some(token),
            "{} lacks the header",
            r.url
        );
    }
    let to_open = open.received_requests().await.unwrap();
    let mut open_paths: Vec<&str> = to_open.iter().map(|r| r.url.path()).collect();
    open_paths.sort_unstable();
    assert_eq!(open_paths, ["/landing", "/theirs", "/to-secured"]);
    for r in &to_open {
        for (name, value) in &r.headers {
            assert_ne!(name.as_str(), "x-api-key", "{} got the header", r.url);
            assert!(
                !value.to_str().unwrap_or("").contains("s3cr3t"),
                "{} got the secret in {name}",
                r.url
            );
        }
    }
    // Requests are counted per service that received them (redirect hops cross services).
    let by_name = |n: &str| {
        let i = rules.services.iter().position(|s| s.name == n).unwrap();
        c.graph.stats.service_requests[i]
    };
    assert_eq!((by_name("secured"), by_name("open")), (3, 3));
    // The secret never reaches a finding.
    assert!(!format!("{:?}", c.analysis.findings).contains("s3cr3t"));
    secured.verify().await;
    open.verify().await;
}

async fn a_body_over_the_cap_is_body_too_large(scheme: Scheme) {
    let server = MockServer::start().await;
    let over = scheme.over(&server.uri()).await;
    Mock::given(path("/huge"))
        .respond_with(ResponseTemplate::new(200).set_body_string("x".repeat(64 * 1024)))
        .expect(1)
        .mount(&server)
        .await;
    let rules = one_service(&over.uri, &["/huge"]);
    let live = LiveOptions {
        max_body: 1024,
        ..LiveOptions::default()
    };
    let c = crawl_live(&rules, live, fast(3)).await;
    let u = url(&over.uri, "/huge");
    // The resource exists (200) but was not read: not a broken link, not retried.
    c.assert_seed(&u, Unresolved, "permanent", "body_too_large", Some(200), 1);
    server.verify().await;
}

// Each behaviour test above, over `http://` (the hyper fast path) and over `https://` (reqwest
// and rustls, through a TLS front on the same server): `NAME::http` and `NAME::https`.
crate::both_schemes!(
    not_found_and_gone_are_requested_once_and_broken,
    access_denied_is_unresolved_and_not_retried,
    other_client_errors_are_broken_once,
    transient_statuses_are_retried_then_unresolved,
    a_transient_failure_that_turns_permanent_ends_broken,
    service_unavailable_then_ok_ends_ok_after_one_retry,
    always_unavailable_ends_unresolved_after_retries_plus_one,
    retry_after_is_honoured_up_to_the_cap,
    rate_limited_with_retry_after_then_ok,
    a_timeout_is_transient_with_no_status,
    connection_refused_is_connect_failed_and_transient,
    a_connection_closed_without_an_answer_is_connection_reset,
    an_answer_cut_mid_body_is_connection_reset,
    an_in_scope_redirect_chain_is_followed_to_its_end,
    an_in_scope_redirect_chain_to_ok_is_ok,
    a_sixth_redirect_is_too_many_redirects,
    a_redirect_out_of_scope_is_unresolved_and_never_followed,
    the_auth_header_reaches_its_own_service_only_even_across_a_redirect,
    a_body_over_the_cap_is_body_too_large,
);

// ---------------------------------------------------------------------------------------------
// Circuit breaker

#[tokio::test]
async fn the_circuit_breaker_opens_after_ten_transient_fetches() {
    let down = MockServer::start().await;
    let up = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(503))
        .expect(20) // ten fetches of two attempts each
        .mount(&down)
        .await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(404))
        .expect(3)
        .mount(&up)
        .await;
    let down_seeds: Vec<String> = (1..=13).map(|i| format!("/d{i}")).collect();
    let down_seeds: Vec<&str> = down_seeds.iter().map(String::as_str).collect();
    let rules = Arc::new(
        RulesBuilder::new()
            .service("down", &down.uri(), &down_seeds)
            .service("up", &up.uri(), &["/u1", "/u2", "/u3"])
            .build(),
    );
    let opts = CrawlOptions {
        concurrency: 1,
        ..fast(1)
    };
    let c = crawl_live(&rules, LiveOptions::default(), opts).await;
    for i in 1..=10 {
        let u = url(&down.uri(), &format!("/d{i}"));
        c.assert_seed(&u, Unresolved, "transient", "server_error", Some(503), 2);
    }
    for i in 11..=13 {
        let u = url(&down.uri(), &format!("/d{i}"));
        c.assert_seed(&u, Unresolved, "transient", "service_unavailable", None, 0);
    }
    for p in ["/u1", "/u2", "/u3"] {
        let u = url(&up.uri(), p);
        c.assert_seed(&u, BrokenLink, "permanent", "not_found", Some(404), 1);
    }
    let svc = |n: &str| c.analysis.services.iter().find(|s| s.name == n).unwrap();
    assert!(svc("down").unavailable && !svc("up").unavailable);
    assert_eq!((svc("down").requests, svc("down").failures), (20, 13));
    assert_eq!(svc("up").requests, 3);
    assert!(
        c.analysis
            .warnings
            .iter()
            .any(|w| w.contains("service down is unavailable")),
        "{:?}",
        c.analysis.warnings
    );
    // Skipped URLs are not retries nor requests.
    assert_eq!(c.graph.stats.requests, 23);
    assert_eq!(c.graph.stats.retries, 10);
    assert!(c.graph.complete);
    down.verify().await;
    up.verify().await;
}

#[tokio::test]
async fn a_non_transient_answer_resets_the_breaker_count() {
    let server = MockServer::start().await;
    // Nine transient fetches, one 404, nine more: never ten in a row.
    for i in 1..=19 {
        let status = if i == 10 { 404 } else { 503 };
        mount(&server, &format!("/s{i}"), status, 1).await;
    }
    let seeds: Vec<String> = (1..=19).map(|i| format!("/s{i}")).collect();
    let seeds: Vec<&str> = seeds.iter().map(String::as_str).collect();
    let rules = one_service(&server.uri(), &seeds);
    let opts = CrawlOptions {
        concurrency: 1,
        ..fast(0)
    };
    let c = crawl_live(&rules, LiveOptions::default(), opts).await;
    assert!(!c.graph.unavailable[0]);
    assert_eq!(c.graph.stats.requests, 19);
    assert_eq!(c.count(Unresolved), 18);
    server.verify().await;
}

// ---------------------------------------------------------------------------------------------
// Per-service limits

#[tokio::test]
async fn per_service_concurrency_is_respected() {
    // Each request is held until as many are in flight as the limit: a crawler that sends
    // fewer would stall 5 s per request (and fail the equality), one that sends more is seen.
    let limited = Gauge::start(2).await;
    let wide = Gauge::start(3).await;
    let seeds: Vec<String> = (0..8).map(|i| format!("/x{i}")).collect();
    let seeds: Vec<&str> = seeds.iter().map(String::as_str).collect();
    let wide_seeds: Vec<String> = (0..9).map(|i| format!("/y{i}")).collect();
    let wide_seeds: Vec<&str> = wide_seeds.iter().map(String::as_str).collect();
    let rules = Arc::new(
        RulesBuilder::new()
            .service("limited", &limited.uri, &seeds)
            .service("wide", &wide.uri, &wide_seeds)
            .concurrency("limited", 2)
            .build(),
    );
    // The global limit (5) leaves room for more than 2 to the limited service.
    let opts = CrawlOptions {
        concurrency: 5,
        ..fast(0)
    };
    let start = Instant::now();
    let c = crawl_live(&rules, LiveOptions::default(), opts).await;
    assert_eq!(c.count(BrokenLink), 17);
    assert_eq!(limited.max_inflight.load(Ordering::SeqCst), 2);
    assert_eq!(limited.served.load(Ordering::SeqCst), 8);
    assert_eq!(wide.max_inflight.load(Ordering::SeqCst), 3);
    // No request waited out the gauge's 5 s stall.
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn the_global_concurrency_bounds_all_services_together() {
    let a = Gauge::start(2).await;
    let b = Gauge::start(2).await;
    let rules = Arc::new(
        RulesBuilder::new()
            .service("a", &a.uri, &["/1", "/2", "/3", "/4"])
            .service("b", &b.uri, &["/1", "/2", "/3", "/4"])
            .build(),
    );
    let opts = CrawlOptions {
        concurrency: 4,
        ..fast(0)
    };
    let c = crawl_live(&rules, LiveOptions::default(), opts).await;
    assert_eq!(c.count(BrokenLink), 8);
    // Round-robin dispatch: two each, never more than four in all.
    assert_eq!(a.max_inflight.load(Ordering::SeqCst), 2);
    assert_eq!(b.max_inflight.load(Ordering::SeqCst), 2);
}

/// A rate limit is a lower bound on the crawl's duration: n requests at r per second take at
/// least (n - 1) / r (the first goes at once).
#[tokio::test]
async fn per_service_rate_limit_paces_live_requests() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(404))
        .expect(6)
        .mount(&server)
        .await;
    let rules = Arc::new(
        RulesBuilder::new()
            .service(
                "paced",
                &server.uri(),
                &["/1", "/2", "/3", "/4", "/5", "/6"],
            )
            .rate_limit("paced", 20.0)
            .build(),
    );
    let start = Instant::now();
    let c = crawl_live(&rules, LiveOptions::default(), fast(0)).await;
    assert_eq!(c.count(BrokenLink), 6);
    assert!(
        start.elapsed() >= Duration::from_millis(250),
        "{:?}",
        start.elapsed()
    );
    server.verify().await;
}

/// On the paused clock the pacing is exact, per service: the paced service's requests are
/// 100 ms apart while the other service's all go at once; retries are paced too.
#[tokio::test(start_paused = true)]
async fn per_service_rate_limit_spacing_is_exact_on_a_paused_clock() {
    let rules = Arc::new(
        RulesBuilder::new()
            .service("paced", "http://127.0.0.1:9/", &["/1", "/2", "/3"])
            .service("free", "http://127.0.0.2:9/", &["/1", "/2", "/3"])
            .rate_limit("paced", 10.0)
            .build(),
    );
    let flaky = url("http://127.0.0.1:9", "/2");
    let source = Arc::new(
        Scripted::new(Duration::ZERO).on(&flaky, vec![answer(503, &[]), answer(404, &[])]),
    );
    let opts = CrawlOptions {
        retry: RetryPolicy {
            retries: 1,
            base: Duration::ZERO,
            ..RetryPolicy::default()
        },
        ..CrawlOptions::default()
    };
    let start = tokio::time::Instant::now();
    let c = crawl_with(&rules, source.clone(), opts, Arc::new(Quiet), Stop::never()).await;
    assert_eq!(c.count(BrokenLink), 6);
    let log = source.log();
    let mut paced: Vec<Duration> = log
        .iter()
        .filter(|(u, _)| u.starts_with("http://127.0.0.1:9/"))
        .map(|(_, t)| *t - start)
        .collect();
    paced.sort();
    let ms = |n| Duration::from_millis(n);
    assert_eq!(paced, [ms(0), ms(100), ms(200), ms(300)]);
    let free: Vec<Duration> = log
        .iter()
        .filter(|(u, _)| u.starts_with("http://127.0.0.2:9/"))
        .map(|(_, t)| *t - start)
        .collect();
    assert_eq!(free, [ms(0), ms(0), ms(0)]);
}

/// On the paused clock, with slow answers, the per-service limit is reached and never passed.
#[tokio::test(start_paused = true)]
async fn per_service_concurrency_is_exact_on_a_paused_clock() {
    let seeds: Vec<String> = (0..10).map(|i| format!("/{i}")).collect();
    let seeds: Vec<&str> = seeds.iter().map(String::as_str).collect();
    let rules = Arc::new(
        RulesBuilder::new()
            .service("api", "http://127.0.0.1:9/", &seeds)
            .concurrency("api", 3)
            .build(),
    );
    let source = Arc::new(Scripted::new(Duration::from_millis(100)));
    let start = tokio::time::Instant::now();
    let c = crawl_with(
        &rules,
        source.clone(),
        CrawlOptions::default(),
        Arc::new(Quiet),
        Stop::never(),
    )
    .await;
    assert_eq!(c.count(BrokenLink), 10);
    assert_eq!(source.max_inflight.load(Ordering::SeqCst), 3);
    // 10 requests, 3 at a time, 100 ms each: four rounds.
    assert_eq!(start.elapsed(), Duration::from_millis(400));
}

// ---------------------------------------------------------------------------------------------
// Interruption

#[tokio::test]
async fn a_stop_keeps_what_was_gathered_and_the_gate_says_interrupted() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(404))
        .expect(3)
        .mount(&server)
        .await;
    let seeds: Vec<String> = (0..10).map(|i| format!("/{i}")).collect();
    let seeds: Vec<&str> = seeds.iter().map(String::as_str).collect();
    let rules = one_service(&server.uri(), &seeds);
    let (tx, rx) = watch::channel(false);
    let counter = Arc::new(Counter::new(move |n| {
        if n == 3 {
            tx.send_replace(true);
        }
    }));
    let opts = CrawlOptions {
        concurrency: 1,
        ..fast(0)
    };
    let c = crawl_live_with(
        &rules,
        LiveOptions::default(),
        opts,
        counter.clone(),
        Stop::new(rx),
    )
    .await;
    assert!(!c.graph.complete);
    assert!(!c.analysis.complete);
    assert_eq!(counter.fetched.load(Ordering::SeqCst), 3);
    assert_eq!(c.count(BrokenLink), 3);
    let fetched = (0..10)
        .filter(|i| {
            let id = c.graph.id(&url(&server.uri(), &format!("/{i}"))).unwrap();
            c.graph.outcome(id).is_some()
        })
        .count();
    assert_eq!(fetched, 3);
    assert!(c
        .analysis
        .warnings
        .iter()
        .any(|w| w.contains("interrupted")));
    let planned = plan::plan(c.analysis, &c.graph, &rules, None);
    let report = Report::new(&planned, &rules.path, &Origin::Crawl);
    assert!(!report.complete);
    assert_eq!(
        gate::judge(&report, &Gate::default()).exit_code,
        exit::INTERRUPTED
    );
    server.verify().await;
}

#[tokio::test]
async fn a_stop_ends_fetches_in_flight_at_once() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(404).set_delay(Duration::from_secs(60)))
        .mount(&server)
        .await;
    let rules = one_service(&server.uri(), &["/slow1", "/slow2"]);
    let (tx, rx) = watch::channel(false);
    let crawl = tokio::spawn({
        let rules = rules.clone();
        async move {
            crawl_live_with(
                &rules,
                LiveOptions::default(),
                fast(0),
                Arc::new(Quiet),
                Stop::new(rx),
            )
            .await
        }
    });
    // Wait (bounded) until both requests reached the server, then stop.
    let deadline = Instant::now() + Duration::from_secs(20);
    while server.received_requests().await.unwrap().len() < 2 {
        assert!(
            Instant::now() < deadline,
            "the crawl never sent its requests"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tx.send_replace(true);
    let c = tokio::time::timeout(Duration::from_secs(20), crawl)
        .await
        .expect("the crawl stops without waiting for its answers")
        .unwrap();
    assert!(!c.graph.complete);
    assert!(c.analysis.findings.is_empty());
    assert!(c
        .graph
        .nodes
        .iter()
        .all(|n| n.state == bacaudit::graph::NodeState::Pending));
    let planned = plan::plan(c.analysis, &c.graph, &rules, None);
    let report = Report::new(&planned, &rules.path, &Origin::Crawl);
    assert_eq!(
        gate::judge(&report, &Gate::default()).exit_code,
        exit::INTERRUPTED
    );
}

/// A stop channel whose sender is gone (the signal listener ended) is not a stop request.
#[tokio::test]
async fn a_dropped_stop_sender_does_not_stop_the_crawl() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(404).set_delay(Duration::from_millis(100)))
        .expect(2)
        .mount(&server)
        .await;
    let rules = one_service(&server.uri(), &["/a", "/b"]);
    let (tx, rx) = watch::channel(false);
    drop(tx);
    let c = crawl_live_with(
        &rules,
        LiveOptions::default(),
        fast(0),
        Arc::new(Quiet),
        Stop::new(rx),
    )
    .await;
    assert!(c.graph.complete);
    assert_eq!(c.count(BrokenLink), 2);
    server.verify().await;
}

// ---------------------------------------------------------------------------------------------
// A fetch task that panics

/// A source that panics on one URL (a bug in a fetch task must not lose the URL silently).
struct Panicky;

impl bacaudit::source::Source for Panicky {
    async fn fetch(&self, url: &url::Url) -> bacaudit::source::Attempt {
        if url.path() == "/boom" {
            panic!("the source failed");
        }
        answer(404, &[])
    }
    fn sleeps(&self) -> bool {
        false
    }
}

#[tokio::test]
async fn a_panicking_fetch_is_unresolved_and_observed() {
    let rules = Arc::new(
        RulesBuilder::new()
            .service("api", "http://127.0.0.1:9/", &["/boom", "/fine"])
            .build(),
    );
    let counter = Arc::new(Counter::new(|_| {}));
    let c = crawl_with(
        &rules,
        Arc::new(Panicky),
        CrawlOptions::default(),
        counter.clone(),
        Stop::never(),
    )
    .await;
    let boom = url("http://127.0.0.1:9", "/boom");
    c.assert_seed(&boom, Unresolved, "transient", "connection_reset", None, 0);
    let mut seen = counter.urls.lock().unwrap().clone();
    seen.sort();
    assert_eq!(seen, [boom, url("http://127.0.0.1:9", "/fine")]);
}

// ---------------------------------------------------------------------------------------------
// --record, then replay offline

/// A world with one seed per failure row, crawled live with the recorder, then replayed from
/// the recording: the same findings, field for field (ids, attempts, statuses, reasons).
#[tokio::test]
async fn a_recorded_crawl_replays_to_the_same_findings() {
    let api = MockServer::start().await;
    let down = MockServer::start().await;
    let outside = MockServer::start().await;
    for (p, s) in [("/404", 404), ("/410", 410), ("/400", 400), ("/401", 401)] {
        mount(&api, p, s, 1).await;
    }
    mount(&api, "/503", 503, 3).await;
    Mock::given(path("/then-404"))
        .respond_with(Script::new(vec![
            ResponseTemplate::new(502),
            ResponseTemplate::new(404),
        ]))
        .expect(2)
        .mount(&api)
        .await;
    Mock::given(path("/slow"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(30)))
        .mount(&api)
        .await;
    Mock::given(path("/hop"))
        .respond_with(redirect(302, "/404-too"))
        .mount(&api)
        .await;
    mount(&api, "/404-too", 404, 1).await;
    for i in 0..6 {
        Mock::given(path(format!("/loop{i}")))
            .respond_with(redirect(302, &format!("/loop{}", i + 1)))
            .mount(&api)
            .await;
    }
    Mock::given(path("/away"))
        .respond_with(redirect(301, &url(&outside.uri(), "/x")))
        .mount(&api)
        .await;
    Mock::given(path("/huge"))
        .respond_with(ResponseTemplate::new(200).set_body_string("y".repeat(8192)))
        .mount(&api)
        .await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(503))
        .mount(&down)
        .await;
    let refused = format!("http://127.0.0.1:{}", dead_port());
    let down_seeds: Vec<String> = (0..12).map(|i| format!("/d{i}")).collect();
    let down_seeds: Vec<&str> = down_seeds.iter().map(String::as_str).collect();
    let rules = Arc::new(
        RulesBuilder::new()
            .service(
                "api",
                &api.uri(),
                &[
                    "/404",
                    "/410",
                    "/400",
                    "/401",
                    "/503",
                    "/then-404",
                    "/slow",
                    "/hop",
                    "/loop0",
                    "/away",
                    "/huge",
                ],
            )
            .service("down", &down.uri(), &down_seeds)
            .service("refused", &refused, &["/r"])
            .build(),
    );

    let dir = tempfile::tempdir().unwrap();
    let recording = dir.path().join("drill.ndjson");
    let recorder = Arc::new(Recorder::create(&recording).unwrap());
    let opts = CrawlOptions {
        keep_bodies: true,
        concurrency: 4,
        ..fast(2)
    };
    let live = LiveOptions {
        timeout: Duration::from_millis(300),
        max_body: 4096,
        ..LiveOptions::default()
    };
    let live_run = crawl_live_with(&rules, live, opts, recorder.clone(), Stop::never()).await;
    recorder.finish().unwrap();
    assert!(live_run.graph.unavailable[1], "the down service tripped");

    let snapshot = Arc::new(Snapshot::load(&recording).unwrap());
    assert_eq!(snapshot.entries.len(), live_run.graph.len());
    let replay = crawl_with(
        &rules,
        Arc::new(SnapshotSource::new(snapshot)),
        fast(2),
        Arc::new(Quiet),
        Stop::never(),
    )
    .await;

    let ids =
        |c: &Crawled| -> Vec<String> { c.analysis.findings.iter().map(|f| f.id.clone()).collect() };
    assert_eq!(ids(&live_run), ids(&replay));
    // Field for field, the human `detail` and the attempts of a URL whose transient failure
    // cleared included: the recording keeps its earlier attempts, so `/then-404` (502, then
    // 404) replays as 502, then 404.
    let recovered = url(&api.uri(), "/then-404");
    let fields = |c: &Crawled| -> Vec<String> {
        c.analysis
            .findings
            .iter()
            .map(|f| match &f.body {
                FindingBody::Link(l) => format!(
                    "{} {:?} {} {:?} {:?} {:?} {:?} {:?} attempts={} compensations={}",
                    f.id,
                    f.kind,
                    l.target,
                    l.relation,
                    l.class,
                    l.status,
                    l.reason,
                    l.detail,
                    l.attempts,
                    f.compensations.len()
                ),
                FindingBody::Orphan(o) => format!("{} {}", f.id, o.resource),
            })
            .collect()
    };
    let (a, b) = (fields(&live_run), fields(&replay));
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x, y, "live vs replayed");
    }
    assert_eq!(a.len(), b.len());
    assert_eq!(live_run.finding(&recovered).1.attempts, 2);
    assert_eq!(replay.finding(&recovered).1.attempts, 2);
    assert_eq!(
        live_run.analysis.summary.retries,
        replay.analysis.summary.retries
    );
    let kinds = |k: FindingKind| live_run.count(k);
    // 404, 410, 400, then-404, hop→404, loop: broken; the rest unresolved.
    assert_eq!(kinds(BrokenLink), 6);
    assert_eq!(kinds(Unresolved), 1 + 1 + 1 + 1 + 1 + 12 + 1);
    assert_eq!(live_run.analysis.warnings, replay.analysis.warnings);
    let svc = |c: &Crawled| -> Vec<(String, bool, u64)> {
        c.analysis
            .services
            .iter()
            .map(|s| (s.name.clone(), s.unavailable, s.failures))
            .collect()
    };
    assert_eq!(svc(&live_run), svc(&replay));
}

// ---------------------------------------------------------------------------------------------
// The binary: Ctrl-C and SIGTERM

/// Runs `bacaudit crawl` on a world where `/quick` answers 404 and `/slow` hangs, sends
/// `signal` once both requests arrived, and returns the exit code, the JSON report and the
/// recording.
#[cfg(unix)]
async fn interrupt_crawl(signal: &str) -> (Option<i32>, serde_json::Value, String) {
    let server = MockServer::start().await;
    mount(&server, "/quick", 404, 1).await;
    Mock::given(path("/slow"))
        .respond_with(ResponseTemplate::new(404).set_delay(Duration::from_secs(120)))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.toml");
    std::fs::write(
        &rules,
        format!(
            "version = 1\n\n[services.api]\nbase_url = \"{}/\"\nseeds = [\"/quick\", \"/slow\"]\n",
            server.uri()
        ),
    )
    .unwrap();
    let report = dir.path().join("report.json");
    let recording = dir.path().join("drill.ndjson");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("bacaudit"))
        .arg("crawl")
        .arg("--rules")
        .arg(&rules)
        .arg("--report")
        .arg(&report)
        .arg("--record")
        .arg(&recording)
        .args(["--timeout", "300", "-q"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while server.received_requests().await.unwrap().len() < 2 {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("bacaudit ended early: {status}");
        }
        assert!(
            Instant::now() < deadline,
            "bacaudit never sent its requests"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The listeners are installed before the crawl starts: the signal cannot kill the process.
    let sent = std::process::Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("bacaudit did not stop after {signal}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    let report: serde_json::Value = match std::fs::read(&report) {
        Ok(bytes) => serde_json::from_slice(&bytes).unwrap(),
        Err(e) => panic!("no report ({e}); exit {status}; stderr:\n{stderr}"),
    };
    let recording = std::fs::read_to_string(&recording).unwrap();
    (status.code(), report, recording)
}

#[cfg(unix)]
#[tokio::test]
async fn ctrl_c_writes_the_partial_report_and_exits_130() {
    let (code, report, recording) = interrupt_crawl("-INT").await;
    assert_eq!(code, Some(exit::INTERRUPTED));
    assert_eq!(report["complete"], false);
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert!(findings[0]["target"].as_str().unwrap().ends_with("/quick"));
    assert_eq!(findings[0]["kind"], "broken_link");
    assert!(report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w.as_str().unwrap().contains("interrupted")));
    // The recording holds what was fetched, nothing of the fetch cut short.
    let lines: Vec<&str> = recording.lines().collect();
    assert_eq!(lines.len(), 1, "{recording}");
    assert!(lines[0].contains("/quick"));
}

#[cfg(unix)]
#[tokio::test]
async fn sigterm_is_an_interruption_too() {
    let (code, report, _) = interrupt_crawl("-TERM").await;
    assert_eq!(code, Some(exit::INTERRUPTED));
    assert_eq!(report["complete"], false);
}

/// A second signal exits at once, even while the run is stuck: here it blocks opening its
/// `--record` file, a FIFO nobody reads (found through `/proc/PID/task/*/wchan`).
#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_second_ctrl_c_exits_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.toml");
    let port = dead_port();
    std::fs::write(
        &rules,
        format!("version = 1\n\n[services.api]\nbase_url = \"http://127.0.0.1:{port}/\"\n"),
    )
    .unwrap();
    let fifo = dir.path().join("drill.ndjson");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("bacaudit"))
        .arg("crawl")
        .arg("--rules")
        .arg(&rules)
        .arg("--record")
        .arg(&fifo)
        .arg("-q")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let blocked_on_fifo = |pid: u32| {
        std::fs::read_dir(format!("/proc/{pid}/task"))
            .into_iter()
            .flatten()
            .flatten()
            .any(|t| {
                std::fs::read_to_string(t.path().join("wchan"))
                    .is_ok_and(|w| w == "wait_for_partner")
            })
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while !blocked_on_fifo(child.id()) {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("bacaudit ended early: {status}");
        }
        assert!(
            Instant::now() < deadline,
            "bacaudit never opened its recording"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let kill = |child: &std::process::Child| {
        assert!(std::process::Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap()
            .success());
    };
    kill(&child);
    // The first asks the run to stop; it cannot (it is stuck), so it is still there.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        child.try_wait().unwrap().is_none(),
        "one Ctrl-C ended a stuck run"
    );
    kill(&child);
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("a second Ctrl-C did not end bacaudit");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(status.code(), Some(exit::INTERRUPTED));
}

/// Fetches in flight when the breaker opens finish with their own outcome; only the queued
/// ones are skipped. Exact on the paused clock: with 4 in flight, the 10th completion comes
/// when 13 were dispatched (4 + one per earlier completion).
#[tokio::test(start_paused = true)]
async fn fetches_in_flight_when_the_breaker_opens_finish_normally() {
    let seeds: Vec<String> = (1..=15).map(|i| format!("/{i}")).collect();
    let seeds: Vec<&str> = seeds.iter().map(String::as_str).collect();
    let rules = Arc::new(
        RulesBuilder::new()
            .service("api", "http://127.0.0.1:9/", &seeds)
            .build(),
    );
    let mut source = Scripted::new(Duration::from_millis(10));
    for s in &seeds {
        source = source.on(&url("http://127.0.0.1:9", s), vec![answer(503, &[])]);
    }
    let source = Arc::new(source);
    let opts = CrawlOptions {
        concurrency: 4,
        // Four in flight throughout (adaptive concurrency would cut the limit on the 503s).
        adaptive: false,
        ..fast(0)
    };
    let c = crawl_with(&rules, source.clone(), opts, Arc::new(Quiet), Stop::never()).await;
    assert!(c.graph.unavailable[0]);
    assert_eq!(source.log().len(), 13);
    let skipped = c
        .analysis
        .findings
        .iter()
        .filter(|f| c.finding_reason(f) == "service_unavailable")
        .count();
    assert_eq!(skipped, 2);
    assert_eq!(c.count(Unresolved), 15);
    assert_eq!(c.graph.stats.requests, 13);
}

#[tokio::test]
async fn max_resources_cuts_the_crawl_and_says_so() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(404))
        .expect(3)
        .mount(&server)
        .await;
    let rules = one_service(&server.uri(), &["/1", "/2", "/3", "/4", "/5"]);
    let opts = CrawlOptions {
        max_resources: Some(3),
        concurrency: 1,
        ..fast(0)
    };
    let c = crawl_live(&rules, LiveOptions::default(), opts).await;
    assert_eq!(c.count(BrokenLink), 3);
    let cut = c
        .graph
        .nodes
        .iter()
        .filter(|n| n.state == bacaudit::graph::NodeState::Cut)
        .count();
    assert_eq!(cut, 2);
    assert!(c.graph.cut_services[0]);
    assert!(c.graph.complete, "a cut crawl is not an interrupted one");
    assert!(c
        .analysis
        .warnings
        .iter()
        .any(|w| w.contains("--max-resources")));
    server.verify().await;
}

// ---------------------------------------------------------------------------------------------
// Following links (extraction merged)

/// Orders point at customers by id (`/customer_id`). Five orders point at one lost customer:
/// five broken links, one request for the customer; a customer that answers 503 then 200 is
/// not a finding; the customers' credentials never reach the orders service.
#[tokio::test]
async fn links_are_followed_and_each_target_is_fetched_once() {
    let customers = MockServer::start().await;
    let orders = MockServer::start().await;
    Mock::given(path("/customers/1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"id": 1})))
        .expect(1)
        .mount(&customers)
        .await;
    Mock::given(path("/customers/2"))
        .respond_with(Script::new(vec![
            ResponseTemplate::new(503),
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"id": 2})),
        ]))
        .expect(2)
        .mount(&customers)
        .await;
    mount(&customers, "/customers/3", 404, 1).await;
    let points_at = [3, 3, 3, 3, 3, 1, 2];
    for (i, c) in points_at.iter().enumerate() {
        let n = i + 1;
        Mock::given(path(format!("/orders/{n}")))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(serde_json::json!({"id": n, "customer_id": c})),
            )
            .expect(1)
            .mount(&orders)
            .await;
    }
    let seeds: Vec<String> = (1..=points_at.len())
        .map(|n| format!("/orders/{n}"))
        .collect();
    let seeds: Vec<&str> = seeds.iter().map(String::as_str).collect();
    let rules = Arc::new(
        RulesBuilder::new()
            .service("customers", &customers.uri(), &[])
            .service("orders", &orders.uri(), &seeds)
            .auth("customers", "Authorization", "Bearer c-token")
            .kind("customer", "customers", "/customers/{id}")
            .kind("order", "orders", "/orders/{id}")
            .pointer_link(
                "order",
                "customer",
                "/customer_id",
                "customer",
                bacaudit::rules::BrokenAction::Cascade,
            )
            .build(),
    );
    let c = crawl_live(&rules, LiveOptions::default(), fast(3)).await;
    let lost = url(&customers.uri(), "/customers/3");
    let broken: Vec<_> = c
        .analysis
        .findings
        .iter()
        .filter_map(|f| match &f.body {
            FindingBody::Link(l) if f.kind == BrokenLink => Some(l),
            _ => None,
        })
        .collect();
    assert_eq!(broken.len(), 5, "{:#?}", c.analysis.findings);
    for (i, l) in broken.iter().enumerate() {
        assert_eq!(l.target, lost);
        assert_eq!(
            l.source.as_deref(),
            Some(url(&orders.uri(), &format!("/orders/{}", i + 1)).as_str())
        );
        assert_eq!(l.pointer.as_deref(), Some("/customer_id"));
        assert_eq!(l.relation.as_deref(), Some("order.customer"));
        assert_eq!((l.status, l.attempts), (Some(404), 1));
    }
    assert_eq!(c.analysis.findings.len(), 5);
    let s = &c.analysis.summary;
    assert_eq!((s.references, s.cross_service_references), (7, 7));
    assert_eq!(s.resources, 7 + 2);
    assert_eq!(s.retries, 1);
    for r in orders.received_requests().await.unwrap() {
        assert!(r.headers.get("authorization").is_none(), "{}", r.url);
    }
    for r in customers.received_requests().await.unwrap() {
        assert_eq!(r.headers["authorization"], "Bearer c-token");
    }
    // The planner turns each broken link into its rule's action.
    let planned = plan::plan(c.analysis, &c.graph, &rules, None);
    let f = planned
        .findings
        .iter()
        .find(|f| f.kind == BrokenLink)
        .unwrap();
    assert_eq!(f.compensations[0].action.as_str(), "cascade");
    assert_eq!(
        f.compensations[0].method.map(|m| m.as_str()),
        Some("DELETE")
    );
    customers.verify().await;
    orders.verify().await;
}

/// Links into a service whose breaker opened are unresolved `service_unavailable` with their
/// source and pointer (attempts 0), and are never requested.
#[tokio::test]
async fn links_into_an_unavailable_service_are_skipped_with_their_source() {
    let customers = MockServer::start().await;
    let orders = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(503))
        .expect(10)
        .mount(&customers)
        .await;
    for n in 1..=12 {
        Mock::given(path(format!("/orders/{n}")))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(serde_json::json!({"id": n, "customer_id": n})),
            )
            .expect(1)
            .mount(&orders)
            .await;
    }
    let seeds: Vec<String> = (1..=12).map(|n| format!("/orders/{n}")).collect();
    let seeds: Vec<&str> = seeds.iter().map(String::as_str).collect();
    let rules = Arc::new(
        RulesBuilder::new()
            .service("customers", &customers.uri(), &[])
            .service("orders", &orders.uri(), &seeds)
            .kind("customer", "customers", "/customers/{id}")
            .kind("order", "orders", "/orders/{id}")
            .pointer_link(
                "order",
                "customer",
                "/customer_id",
                "customer",
                bacaudit::rules::BrokenAction::Manual,
            )
            .build(),
    );
    let opts = CrawlOptions {
        concurrency: 1,
        ..fast(0)
    };
    let c = crawl_live(&rules, LiveOptions::default(), opts).await;
    assert!(c.graph.unavailable[0]);
    let by_reason = |r: &str| -> Vec<&bacaudit::analyze::LinkFinding> {
        c.analysis
            .findings
            .iter()
            .filter_map(|f| match &f.body {
                FindingBody::Link(l) if l.reason.as_str() == r => Some(l),
                _ => None,
            })
            .collect()
    };
    assert_eq!(by_reason("server_error").len(), 10);
    let skipped = by_reason("service_unavailable");
    assert_eq!(skipped.len(), 2, "{:#?}", c.analysis.findings);
    for l in skipped {
        assert!(l.source.as_deref().unwrap().contains("/orders/"));
        assert_eq!(l.pointer.as_deref(), Some("/customer_id"));
        assert_eq!(l.relation.as_deref(), Some("order.customer"));
        assert_eq!((l.status, l.attempts), (None, 0));
    }
    customers.verify().await;
    orders.verify().await;
}

/// An absolute URL outside every service is counted, never fetched, never a finding.
#[tokio::test]
async fn out_of_scope_links_are_counted_and_never_fetched() {
    let api = MockServer::start().await;
    let outside = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&outside)
        .await;
    Mock::given(path("/orders/1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "id": 1,
            "invoice": url(&outside.uri(), "/invoices/1"),
        })))
        .expect(1)
        .mount(&api)
        .await;
    let rules = one_service(&api.uri(), &["/orders/1"]);
    let c = crawl_live(&rules, LiveOptions::default(), fast(3)).await;
    assert!(c.analysis.findings.is_empty(), "{:#?}", c.analysis.findings);
    assert_eq!(c.analysis.summary.out_of_scope, 1);
    assert_eq!(c.analysis.summary.requests, 1);
    api.verify().await;
    outside.verify().await;
}

/// The BAC-talk world, live: list pages of bare arrays, one broken link, one orphan, a
/// customer that recovers after a 503. Recorded, then replayed: the same findings.
#[tokio::test]
async fn a_recorded_linked_world_replays_to_the_same_findings_and_orphans() {
    let customers = MockServer::start().await;
    let orders = MockServer::start().await;
    let json = |v: serde_json::Value| ResponseTemplate::new(200).set_body_json(v);
    let listed = serde_json::json!([{"id": 1}, {"id": 2}, {"id": 4}]);
    Mock::given(path("/customers"))
        .respond_with(json(listed))
        .mount(&customers)
        .await;
    for id in [1, 4] {
        Mock::given(path(format!("/customers/{id}")))
            .respond_with(json(serde_json::json!({"id": id})))
            .mount(&customers)
            .await;
    }
    Mock::given(path("/customers/2"))
        .respond_with(Script::new(vec![
            ResponseTemplate::new(503),
            json(serde_json::json!({"id": 2})),
        ]))
        .mount(&customers)
        .await;
    mount(&customers, "/customers/3", 404, 1).await;
    let all = serde_json::json!([
        {"id": 1, "customer_id": 1},
        {"id": 2, "customer_id": 3},
        {"id": 3, "customer_id": 2},
    ]);
    Mock::given(path("/orders"))
        .respond_with(json(all.clone()))
        .mount(&orders)
        .await;
    for o in all.as_array().unwrap() {
        Mock::given(path(format!("/orders/{}", o["id"])))
            .respond_with(json(o.clone()))
            .mount(&orders)
            .await;
    }
    let rules = Arc::new(
        RulesBuilder::new()
            .service("customers", &customers.uri(), &["/customers"])
            .service("orders", &orders.uri(), &["/orders"])
            .kind("customer", "customers", "/customers/{id}")
            .collection("customer", "/customers")
            .must_be_referenced_by(
                "customer",
                &["order.customer"],
                bacaudit::rules::OrphanAction::Delete,
            )
            .kind("order", "orders", "/orders/{id}")
            .collection("order", "/orders")
            .pointer_link(
                "order",
                "customer",
                "/customer_id",
                "customer",
                bacaudit::rules::BrokenAction::Cascade,
            )
            .build(),
    );
    let dir = tempfile::tempdir().unwrap();
    let recording = dir.path().join("drill.ndjson");
    let recorder = Arc::new(Recorder::create(&recording).unwrap());
    let opts = CrawlOptions {
        keep_bodies: true,
        ..fast(3)
    };
    let live = crawl_live_with(
        &rules,
        LiveOptions::default(),
        opts,
        recorder.clone(),
        Stop::never(),
    )
    .await;
    recorder.finish().unwrap();
    let replay = crawl_with(
        &rules,
        Arc::new(SnapshotSource::new(Arc::new(
            Snapshot::load(&recording).unwrap(),
        ))),
        fast(3),
        Arc::new(Quiet),
        Stop::never(),
    )
    .await;
    let summary = |c: &Crawled| -> Vec<(String, String, Option<String>)> {
        c.analysis
            .findings
            .iter()
            .map(|f| match &f.body {
                FindingBody::Link(l) => (f.id.clone(), l.target.clone(), l.source.clone()),
                FindingBody::Orphan(o) => (f.id.clone(), o.resource.clone(), None),
            })
            .collect()
    };
    assert_eq!(
        summary(&live),
        [
            (
                live.analysis.findings[0].id.clone(),
                url(&customers.uri(), "/customers/3"),
                Some(url(&orders.uri(), "/orders/2"))
            ),
            (
                live.analysis.findings[1].id.clone(),
                url(&customers.uri(), "/customers/4"),
                None
            ),
        ],
        "{:#?}",
        live.analysis.findings
    );
    assert_eq!(live.analysis.findings[1].kind, FindingKind::Orphan);
    assert!(
        live.analysis.warnings.is_empty(),
        "{:?}",
        live.analysis.warnings
    );
    assert_eq!(summary(&live), summary(&replay));
    assert_eq!(replay.analysis.warnings, live.analysis.warnings);
    let s = (&live.analysis.summary, &replay.analysis.summary);
    assert_eq!(
        (s.0.resources, s.0.references, s.0.broken_link, s.0.orphan),
        (s.1.resources, s.1.references, s.1.broken_link, s.1.orphan)
    );
    // The 503 before customer 2's 200 is recorded as an earlier attempt, and replayed.
    assert_eq!((s.0.retries, s.1.retries), (1, 1));
}

/// Interrupted before the referring service was read: no orphan is claimed on that partial
/// evidence, and the report says why.
#[tokio::test]
async fn an_interrupted_crawl_claims_no_orphans() {
    let customers = MockServer::start().await;
    let orders = MockServer::start().await;
    Mock::given(path("/customers"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!([{"id": 1}])))
        .expect(1)
        .mount(&customers)
        .await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!([])))
        .expect(0)
        .mount(&orders)
        .await;
    let rules = Arc::new(
        RulesBuilder::new()
            .service("customers", &customers.uri(), &["/customers"])
            .service("orders", &orders.uri(), &["/orders"])
            .kind("customer", "customers", "/customers/{id}")
            .collection("customer", "/customers")
            .must_be_referenced_by(
                "customer",
                &["order.customer"],
                bacaudit::rules::OrphanAction::Delete,
            )
            .kind("order", "orders", "/orders/{id}")
            .collection("order", "/orders")
            .pointer_link(
                "order",
                "customer",
                "/customer_id",
                "customer",
                bacaudit::rules::BrokenAction::Manual,
            )
            .build(),
    );
    let (tx, rx) = watch::channel(false);
    let counter = Arc::new(Counter::new(move |_| {
        tx.send_replace(true);
    }));
    let opts = CrawlOptions {
        concurrency: 1,
        ..fast(0)
    };
    // Round-robin from the first service (customers): the list page is the one fetch.
    let c = crawl_live_with(&rules, LiveOptions::default(), opts, counter, Stop::new(rx)).await;
    assert!(!c.graph.complete);
    assert_eq!(
        c.count(FindingKind::Orphan),
        0,
        "{:#?}",
        c.analysis.findings
    );
    assert!(
        c.analysis.warnings.iter().any(|w| w.contains("orphan")),
        "{:?}",
        c.analysis.warnings
    );
    customers.verify().await;
    orders.verify().await;
}
