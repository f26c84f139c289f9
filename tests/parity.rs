//! A recording audits to exactly the live report, retries included: a crawl of a world that
//! fails on purpose (`serve --chaos`; wiremock timeouts and a 429 with `Retry-After`) is
//! recorded, the recording audited, and the two JSON reports compared with only the run fields
//! left out (README, "Recordings replay to the live report"). The same for a crawl killed
//! (SIGKILL) and finished with `--resume`, and for the recording served again and crawled.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bacaudit::commands::pipeline::{self as run, CommonOptions, RunOutput};
use bacaudit::crawl::{Quiet, Stop};
use bacaudit::report::{self, Format};
use bacaudit::serve::{self, Chaos, ServeHandle, ServeOptions};
use bacaudit::source::{LiveOptions, Snapshot};
use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{without_run_fields, Script};

/// Every crawl here ends within this.
const BOUND: Duration = Duration::from_secs(120);

fn manifest(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

/// The report as `--report FILE.json` writes it, parsed.
fn json_report(out: &RunOutput) -> Value {
    serde_json::from_str(&report::render(&out.report, Format::Json)).unwrap()
}

/// The two reports are the same but for the run fields; on a difference, the first field that
/// differs is named.
fn assert_same_report(live: &RunOutput, replayed: &RunOutput, what: &str) {
    let (a, b) = (
        without_run_fields(&json_report(live)),
        without_run_fields(&json_report(replayed)),
    );
    assert_eq!(live.exit_code, replayed.exit_code, "{what}: exit code");
    for key in [
        "complete",
        "summary",
        "services",
        "warnings",
        "service_graph",
    ] {
        assert_eq!(a[key], b[key], "{what}: `{key}`");
    }
    let (fa, fb) = (
        a["findings"].as_array().unwrap(),
        b["findings"].as_array().unwrap(),
    );
    assert_eq!(fa.len(), fb.len(), "{what}: number of findings");
    for (x, y) in fa.iter().zip(fb) {
        assert_eq!(x, y, "{what}: a finding");
    }
    // Byte for byte, as a CI gate compares the files.
    assert_eq!(
        serde_json::to_string_pretty(&a).unwrap(),
        serde_json::to_string_pretty(&b).unwrap(),
        "{what}"
    );
}

fn options(rules: &Path, retries: u32) -> CommonOptions {
    let mut opts = CommonOptions::new(rules);
    opts.crawl.retry.retries = retries;
    opts
}

fn live(timeout: Duration) -> LiveOptions {
    LiveOptions {
        timeout,
        ..LiveOptions::default()
    }
}

async fn crawl(opts: &CommonOptions, live: LiveOptions, record: &Path) -> RunOutput {
    tokio::time::timeout(
        BOUND,
        run::crawl(opts, live, Some(record), Arc::new(Quiet), Stop::never()),
    )
    .await
    .expect("the crawl ends")
    .unwrap()
}

async fn audit(opts: &CommonOptions, snapshot: &Path) -> RunOutput {
    run::audit(opts, snapshot, Arc::new(Quiet), Stop::never())
        .await
        .unwrap()
}

/// Lines of a recording that hold earlier attempts.
fn with_history(recording: &Path) -> usize {
    std::fs::read_to_string(recording)
        .unwrap()
        .lines()
        .filter(|l| l.contains("\"earlier\":"))
        .count()
}

async fn shutdown(h: ServeHandle) {
    tokio::time::timeout(Duration::from_secs(30), h.shutdown())
        .await
        .expect("shutdown ends");
}

/// The shop fixture served with chaos on ephemeral ports, and its rules moved there.
async fn chaotic_shop(dir: &Path, seed: u64) -> (ServeHandle, PathBuf) {
    let rules = bacaudit::rules::load(&manifest("rules/shop.toml")).unwrap();
    let snap = Arc::new(Snapshot::load(&manifest("fixtures/shop/shop.ndjson")).unwrap());
    let h = serve::serve(
        &rules,
        snap,
        ServeOptions {
            rebase: true,
            hold: Duration::from_secs(10),
            chaos: Some(Chaos {
                probability: 0.3,
                seed,
                max_failures: 3,
            }),
            ..ServeOptions::default()
        },
    )
    .await
    .unwrap();
    let text = std::fs::read_to_string(manifest("rules/shop.toml")).unwrap();
    let rules_file = dir.join("shop.toml");
    std::fs::write(&rules_file, h.origins().rules_toml(&text).unwrap()).unwrap();
    (h, rules_file)
}

/// `serve --chaos` in front of the shop, 2 retries (3 attempts) against at most 3 failures per
/// URL: some URLs end well after failures, some end on a failure chaos made, a recorded 503
/// and a recorded timeout are retried to the end. The audit of the recording is the live
/// report; so is a crawl of the recording served again (its histories answered in order).
#[tokio::test]
async fn a_chaos_crawl_audits_and_serves_back_to_the_live_report() {
    let dir = tempfile::tempdir().unwrap();
    let (h, rules_file) = chaotic_shop(dir.path(), 11).await;
    let opts = options(&rules_file, 2);
    let recording = dir.path().join("drill.ndjson");
    let timeout = Duration::from_secs(2);
    let crawled = crawl(&opts, live(timeout), &recording).await;
    let injected = h.chaos_injected();
    shutdown(h).await;
    let s = &crawled.report.summary;
    assert!(injected > 100, "chaos failed {injected} requests");
    assert!(s.retries > 100, "{} retries", s.retries);
    assert!(
        s.unresolved > 9,
        "chaos ended some fetches: {}",
        s.unresolved
    );
    assert!(with_history(&recording) > 100);

    let audited = audit(&opts, &recording).await;
    assert_same_report(&crawled, &audited, "audit of the recording");

    // Served again on the same origins (no chaos: the recording holds what it did), crawled
    // and recorded again: the same report, and the new recording audits to it too.
    let served = bacaudit::rules::load(&rules_file).unwrap();
    let h = serve::serve(
        &served,
        Arc::new(Snapshot::load(&recording).unwrap()),
        ServeOptions {
            hold: Duration::from_secs(10),
            ..ServeOptions::default()
        },
    )
    .await
    .unwrap();
    let again = dir.path().join("again.ndjson");
    let recrawled = crawl(&opts, live(timeout), &again).await;
    shutdown(h).await;
    assert_same_report(&crawled, &recrawled, "crawl of the served recording");
    assert_same_report(
        &crawled,
        &audit(&opts, &again).await,
        "audit of its recording",
    );
}

/// Timeouts, a 429 with `Retry-After` and a URL that answers 503, 503, 503, then 404 (`serve`
/// answering such histories is checked in `serve::answers`; the chaos test serves one back).
#[tokio::test]
async fn timeouts_and_a_429_with_retry_after_audit_to_the_live_report() {
    let server = MockServer::start().await;
    let uri = server.uri();
    let slow = || ResponseTemplate::new(200).set_delay(Duration::from_secs(5));
    let items: Vec<String> = ["a", "b", "c", "d", "e"]
        .iter()
        .map(|p| format!("{uri}/{p}"))
        .collect();
    let routes: Vec<(&str, Vec<ResponseTemplate>)> = vec![
        (
            "/items",
            vec![ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "items": items,
            }))],
        ),
        // Rate limited once, then there.
        (
            "/a",
            vec![
                ResponseTemplate::new(429).insert_header("retry-after", "1"),
                ResponseTemplate::new(200).set_body_json(serde_json::json!({"id": "a"})),
            ],
        ),
        // Timed out, then gone for good.
        ("/b", vec![slow(), ResponseTemplate::new(404)]),
        // The issue's example: 503 three times, then 404.
        (
            "/c",
            vec![
                ResponseTemplate::new(503),
                ResponseTemplate::new(503),
                ResponseTemplate::new(503),
                ResponseTemplate::new(404),
            ],
        ),
        // Never answers in time.
        ("/d", vec![slow()]),
        // Rate limited every time.
        (
            "/e",
            vec![ResponseTemplate::new(429).insert_header("retry-after", "1")],
        ),
    ];
    for (p, script) in routes {
        Mock::given(method("GET"))
            .and(path(p))
            .respond_with(Script::new(script))
            .mount(&server)
            .await;
    }
    let dir = tempfile::tempdir().unwrap();
    let rules_file = dir.path().join("api.toml");
    std::fs::write(
        &rules_file,
        format!("[services.api]\nbase_url = \"{uri}/\"\nseeds = [\"/items\"]\n"),
    )
    .unwrap();
    let opts = options(&rules_file, 3);
    let recording = dir.path().join("api.ndjson");
    let timeout = Duration::from_secs(1);
    let crawled = crawl(&opts, live(timeout), &recording).await;
    let findings = json_report(&crawled)["findings"].clone();
    let by_target = |p: &str| {
        findings
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["target"] == format!("{uri}/{p}"))
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(by_target("a"), Value::Null, "/a ends well");
    assert_eq!(
        (&by_target("b")["attempts"], &by_target("b")["status"]),
        (&2.into(), &404.into())
    );
    assert_eq!(by_target("c")["attempts"], 4);
    assert_eq!(by_target("c")["detail"], "404 Not Found after 4 attempts");
    assert_eq!(by_target("d")["reason"], "timeout");
    assert_eq!(by_target("e")["reason"], "rate_limited");
    let text = std::fs::read_to_string(&recording).unwrap();
    assert!(
        text.contains(r#""earlier":[{"retry_after":"1","status":429}]"#),
        "{text}"
    );
    assert!(
        text.contains(r#""earlier":[{"error":"timeout"}]"#),
        "{text}"
    );

    let audited = audit(&opts, &recording).await;
    assert_same_report(&crawled, &audited, "audit of the recording");
}

/// A chaos crawl killed (SIGKILL) once its recording holds `N` lines, then finished with
/// `--resume`: the recording audits to the resumed crawl's report.
#[tokio::test]
async fn a_killed_and_resumed_chaos_crawl_audits_to_its_report() {
    let dir = tempfile::tempdir().unwrap();
    let (h, rules_file) = chaotic_shop(dir.path(), 23).await;
    let recording = dir.path().join("drill.ndjson");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("bacaudit"))
        .arg("crawl")
        .arg("--rules")
        .arg(&rules_file)
        .args(["--retries", "2", "--timeout", "2", "-q", "--format", "json"])
        .arg("--record")
        .arg(&recording)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Killed once 400 lines are written (a fifth of the shop), whatever the time.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let written = std::fs::read(&recording)
            .map(|b| b.iter().filter(|&&c| c == b'\n').count())
            .unwrap_or(0);
        if written >= 400 {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the crawl ended before it could be killed"
        );
        assert!(Instant::now() < deadline, "no 400 lines in 60 s");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let held = Snapshot::load(&recording).unwrap();
    assert!(held.entries.len() < 2000, "killed before the end");

    let opts = options(&rules_file, 2);
    let resumed = tokio::time::timeout(
        BOUND,
        run::resume(
            &opts,
            live(Duration::from_secs(2)),
            &recording,
            Arc::new(Quiet),
            Stop::never(),
        ),
    )
    .await
    .expect("the resumed crawl ends")
    .unwrap();
    shutdown(h).await;
    assert!(resumed.report.complete);
    assert!(with_history(&recording) > 100);
    let audited = audit(&opts, &recording).await;
    assert_same_report(&resumed, &audited, "audit of the resumed recording");
}

/// A service whose circuit breaker opens while fetches are in flight: the recording marks the
/// fetch whose end opened it, so the replay marks the service there and replays each URL as
/// recorded (in flight: answered; queued: skipped) rather than open the breaker by counting
/// in its own order.
#[tokio::test]
async fn a_breaker_that_opened_with_fetches_in_flight_audits_to_the_live_report() {
    let down = MockServer::start().await;
    let seeds: Vec<String> = (1..=20).map(|i| format!("/d{i}")).collect();
    for (i, p) in seeds.iter().enumerate() {
        // Ends in another order than the seeds': the replay meets them in seed order.
        let delay = Duration::from_millis(((i * 7) % 5) as u64 * 30);
        Mock::given(method("GET"))
            .and(path(p.as_str()))
            .respond_with(ResponseTemplate::new(503).set_delay(delay))
            .mount(&down)
            .await;
    }
    let dir = tempfile::tempdir().unwrap();
    let rules_file = dir.path().join("down.toml");
    let listed: Vec<String> = seeds.iter().map(|s| format!("\"{s}\"")).collect();
    std::fs::write(
        &rules_file,
        format!(
            "[services.down]\nbase_url = \"{}/\"\nseeds = [{}]\nconcurrency = 4\nadaptive = false\n",
            down.uri(),
            listed.join(", ")
        ),
    )
    .unwrap();
    let opts = options(&rules_file, 0);
    let recording = dir.path().join("down.ndjson");
    let crawled = crawl(&opts, live(Duration::from_secs(5)), &recording).await;
    let report = json_report(&crawled);
    assert_eq!(report["services"][0]["status"], "unavailable");
    let requests = report["summary"]["requests"].as_u64().unwrap();
    assert!(requests > 10, "fetches in flight finished: {requests}");
    assert!(requests < 20, "queued ones were skipped: {requests}");
    let text = std::fs::read_to_string(&recording).unwrap();
    assert_eq!(text.matches(r#""breaker":true"#).count(), 1, "{text}");

    let audited = audit(&opts, &recording).await;
    assert_same_report(&crawled, &audited, "audit of the recording");
}

/// Redirect chains: a 2xx after three hops, a 404 after one, and an attempt that was redirected
/// to a 503 before the next was redirected to the answer. The recording keeps each attempt's
/// hops, so the audit counts the requests the crawl made.
#[tokio::test]
async fn redirect_hops_audit_to_the_live_requests() {
    let server = MockServer::start().await;
    let uri = server.uri();
    let items: Vec<String> = ["r1", "f", "h"]
        .iter()
        .map(|p| format!("{uri}/{p}"))
        .collect();
    let to = |p: &str| crate::support::redirect(302, &format!("{uri}{p}"));
    let routes: Vec<(&str, Vec<ResponseTemplate>)> = vec![
        (
            "/items",
            vec![ResponseTemplate::new(200).set_body_json(serde_json::json!({"items": items}))],
        ),
        ("/r1", vec![to("/r2")]),
        ("/r2", vec![to("/r3")]),
        ("/r3", vec![to("/r4")]),
        (
            "/r4",
            vec![ResponseTemplate::new(200).set_body_json(serde_json::json!({"id": "r4"}))],
        ),
        ("/f", vec![to("/g")]),
        ("/g", vec![ResponseTemplate::new(404)]),
        ("/h", vec![to("/i")]),
        (
            "/i",
            vec![
                ResponseTemplate::new(503),
                ResponseTemplate::new(200).set_body_json(serde_json::json!({"id": "i"})),
            ],
        ),
    ];
    for (p, script) in routes {
        Mock::given(method("GET"))
            .and(path(p))
            .respond_with(Script::new(script))
            .mount(&server)
            .await;
    }
    let dir = tempfile::tempdir().unwrap();
    let rules_file = dir.path().join("api.toml");
    std::fs::write(
        &rules_file,
        format!("[services.api]\nbase_url = \"{uri}/\"\nseeds = [\"/items\"]\n"),
    )
    .unwrap();
    let opts = options(&rules_file, 3);
    let recording = dir.path().join("api.ndjson");
    let crawled = crawl(&opts, live(Duration::from_secs(5)), &recording).await;
    let requests = crate::support::paths(&server).await.len() as u64;
    assert_eq!(crawled.report.summary.requests, requests);
    let text = std::fs::read_to_string(&recording).unwrap();
    assert!(
        text.contains(&format!(r#""hops":["{uri}/r2","{uri}/r3","{uri}/r4"]"#)),
        "{text}"
    );
    let audited = audit(&opts, &recording).await;
    assert_same_report(&crawled, &audited, "audit of the recording");
}
