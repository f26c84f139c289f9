//! `apply` against services that misbehave, on wiremock: a 2xx that changed nothing
//! (`no_effect`, retried by a rerun), a 412 to `If-Match` (`conflict`, not retried), a 202
//! whose effect shows later (polled: `done`) or never (`unverified`), and an `Accept-Patch`
//! that asks for another patch format (picked).

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bacaudit::commands::apply::{self, ApplyOptions};
use bacaudit::commands::pipeline::{self as run, CommonOptions};
use bacaudit::crawl::{Quiet, RetryPolicy, Stop};
use bacaudit::source::LiveOptions;
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// Rules for one order whose customer is lost, repaired by `on_broken`.
fn rules(dir: &Path, uri: &str, on_broken: &str) -> std::path::PathBuf {
    let file = dir.join("rules.toml");
    std::fs::write(
        &file,
        format!(
            "[services.shop]\nbase_url = \"{uri}/\"\nseeds = [\"/orders/3\"]\n\n\
             [kinds.customer]\nservice = \"shop\"\npath = \"/customers/{{id}}\"\n\n\
             [kinds.order]\nservice = \"shop\"\npath = \"/orders/{{id}}\"\n\n\
             [kinds.order.links.customer]\npointer = \"/customer_id\"\nto = \"customer\"\n\
             on_broken = \"{on_broken}\"\n"
        ),
    )
    .unwrap();
    file
}

/// A mock shop: customer 3 is lost; order 3 answers what `order` says.
async fn shop(order: impl wiremock::Respond + 'static) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/customers/3"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/orders/3"))
        .respond_with(order)
        .mount(&server)
        .await;
    server
}

/// Crawls the shop into a report, then applies it (`--execute`).
async fn crawl_then_apply(
    dir: &Path,
    rules: &Path,
    verify_wait: Option<Duration>,
) -> apply::ApplyOutput {
    let report = dir.join("report.json");
    let mut opts = CommonOptions::new(rules);
    opts.reports = vec![bacaudit::report::ReportTarget::file(&report).unwrap()];
    let out = run::crawl(
        &opts,
        LiveOptions::default(),
        None,
        Arc::new(Quiet),
        Stop::never(),
    )
    .await
    .unwrap();
    assert_eq!(out.report.summary.broken_link, 1, "{}", out.stdout);
    apply_again(dir, rules, verify_wait).await
}

async fn apply_again(
    dir: &Path,
    rules: &Path,
    verify_wait: Option<Duration>,
) -> apply::ApplyOutput {
    apply::apply(&ApplyOptions {
        report: dir.join("report.json"),
        rules: rules.to_path_buf(),
        execute: true,
        journal: None,
        timeout: Duration::from_secs(5),
        retry: RetryPolicy {
            base: Duration::from_millis(1),
            ..RetryPolicy::default()
        },
        tls: Default::default(),
        verify_wait,
    })
    .await
    .unwrap()
}

fn journal(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("report.json.journal.ndjson"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

async fn sent(server: &MockServer, verb: &str) -> Vec<Request> {
    server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.method.as_str() == verb)
        .collect()
}

#[tokio::test]
async fn a_200_that_changed_nothing_is_no_effect_and_a_rerun_tries_again() {
    let server =
        shop(ResponseTemplate::new(200).set_body_json(json!({"id": 3, "customer_id": 3}))).await;
    Mock::given(method("PATCH"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 3, "customer_id": 3})))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let rules = rules(dir.path(), &server.uri(), "set-null");
    let out = crawl_then_apply(dir.path(), &rules, None).await;
    assert_eq!(out.exit_code, 3, "{}", out.stdout);
    assert!(out.stdout.contains("no_effect PATCH"), "{}", out.stdout);
    let j = journal(dir.path());
    assert_eq!(j[0]["outcome"], "no_effect");
    assert_eq!(
        j[0]["verification"]["detail"],
        "read back /customer_id is still 3"
    );
    // Not settled: a rerun sends it again (and it fails the same way).
    let again = apply_again(dir.path(), &rules, None).await;
    assert_eq!(again.exit_code, 3, "{}", again.stdout);
    assert_eq!(sent(&server, "PATCH").await.len(), 2);
    assert_eq!(journal(dir.path()).len(), 2);
}

#[tokio::test]
async fn a_412_to_if_match_is_a_conflict_and_not_retried() {
    let server = shop(
        ResponseTemplate::new(200)
            .insert_header("etag", "\"v1\"")
            .set_body_json(json!({"id": 3, "customer_id": 3})),
    )
    .await;
    Mock::given(method("PATCH"))
        .respond_with(ResponseTemplate::new(412))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let rules = rules(dir.path(), &server.uri(), "set-null");
    let out = crawl_then_apply(dir.path(), &rules, None).await;
    assert_eq!(out.exit_code, 3, "{}", out.stdout);
    let j = journal(dir.path());
    assert_eq!(j[0]["outcome"], "conflict", "{}", out.stdout);
    assert!(
        j[0]["sent"].as_str().unwrap().ends_with("If-Match \"v1\""),
        "{}",
        j[0]
    );
    let patches = sent(&server, "PATCH").await;
    assert_eq!(patches.len(), 1, "a 412 is not retried");
    assert_eq!(patches[0].headers.get("if-match").unwrap(), "\"v1\"");
}

#[tokio::test]
async fn a_weak_etag_is_not_sent_as_if_match() {
    let server = shop(
        ResponseTemplate::new(200)
            .insert_header("etag", "W/\"22-abc\"")
            .set_body_json(json!({"id": 3, "customer_id": 3})),
    )
    .await;
    Mock::given(method("PATCH"))
        .respond_with(ResponseTemplate::new(412))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let rules = rules(dir.path(), &server.uri(), "set-null");
    crawl_then_apply(dir.path(), &rules, None).await;
    let patches = sent(&server, "PATCH").await;
    assert!(patches[0].headers.get("if-match").is_none());
}

/// A DELETE that a service only queues: 202, the order still there for two reads, then gone.
#[tokio::test]
async fn a_202_is_polled_until_the_delete_shows() {
    let deletes = Arc::new(AtomicUsize::new(0));
    let reads_after = Arc::new(AtomicUsize::new(0));
    let (d, r) = (deletes.clone(), reads_after.clone());
    let server = shop(move |_: &Request| {
        if d.load(Ordering::SeqCst) > 0 && r.fetch_add(1, Ordering::SeqCst) >= 2 {
            ResponseTemplate::new(404)
        } else {
            ResponseTemplate::new(200).set_body_json(json!({"id": 3, "customer_id": 3}))
        }
    })
    .await;
    let d = deletes.clone();
    Mock::given(method("DELETE"))
        .respond_with(move |_: &Request| {
            d.fetch_add(1, Ordering::SeqCst);
            ResponseTemplate::new(202)
        })
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let rules = rules(dir.path(), &server.uri(), "cascade");
    let out = crawl_then_apply(dir.path(), &rules, None).await;
    assert_eq!(out.exit_code, 0, "{}", out.stdout);
    let j = journal(dir.path());
    assert_eq!(j[0]["outcome"], "done");
    assert_eq!(j[0]["status"], 202);
    assert_eq!(j[0]["verification"]["reads"], 3, "{}", j[0]);
}

#[tokio::test]
async fn a_202_whose_effect_never_shows_is_unverified() {
    let server =
        shop(ResponseTemplate::new(200).set_body_json(json!({"id": 3, "customer_id": 3}))).await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(202))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let rules = rules(dir.path(), &server.uri(), "cascade");
    let out = crawl_then_apply(dir.path(), &rules, Some(Duration::from_millis(400))).await;
    assert_eq!(out.exit_code, 3, "{}", out.stdout);
    let j = journal(dir.path());
    assert_eq!(j[0]["outcome"], "unverified", "{}", out.stdout);
    let reads = j[0]["verification"]["reads"].as_u64().unwrap();
    assert!((2..=4).contains(&reads), "bounded polling: {reads} reads");
    assert!(out.stdout.contains("202 Accepted"), "{}", out.stdout);
}

/// A service whose `Accept-Patch` lists only JSON Merge Patch gets one, though the rules left
/// the default (JSON Patch); the output says so.
#[tokio::test]
async fn accept_patch_picks_the_format_the_service_takes() {
    let doc = Arc::new(Mutex::new(json!({"id": 3, "customer_id": 3})));
    let d = doc.clone();
    let server = shop(move |_: &Request| {
        ResponseTemplate::new(200)
            .insert_header("accept-patch", "application/merge-patch+json")
            .set_body_json(d.lock().unwrap().clone())
    })
    .await;
    let d = doc.clone();
    Mock::given(method("PATCH"))
        .respond_with(move |r: &Request| {
            let ct = r
                .headers
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_string());
            if ct.as_deref() != Some("application/merge-patch+json") {
                return ResponseTemplate::new(415);
            }
            let patch: Value = serde_json::from_slice(&r.body).unwrap();
            json_patch::merge(&mut d.lock().unwrap(), &patch);
            ResponseTemplate::new(200)
        })
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let rules = rules(dir.path(), &server.uri(), "set-null");
    let out = crawl_then_apply(dir.path(), &rules, None).await;
    assert_eq!(out.exit_code, 0, "{}", out.stdout);
    assert!(
        out.stdout
            .contains("does not list json-patch: sent merge-patch"),
        "{}",
        out.stdout
    );
    let patches = sent(&server, "PATCH").await;
    assert_eq!(
        serde_json::from_slice::<Value>(&patches[0].body).unwrap(),
        json!({"customer_id": null})
    );
    assert_eq!(*doc.lock().unwrap(), json!({"id": 3}));
}
