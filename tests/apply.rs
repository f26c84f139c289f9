//! `apply` end to end: serve the broken shop writable, crawl it, apply the plan, crawl again
//! (nothing broken, no orphan), apply again (the journal settles everything: no request).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bacaudit::commands::apply::{self, default_journal, ApplyOptions};
use bacaudit::commands::pipeline::{self as run, CommonOptions, RunOutput};
use bacaudit::crawl::{Quiet, RetryPolicy, Stop};
use bacaudit::serve::{self, ServeOptions};
use bacaudit::source::{LiveOptions, Snapshot};

fn manifest(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

async fn crawl(rules: &Path, report: &Path) -> RunOutput {
    let mut opts = CommonOptions::new(rules);
    opts.reports = vec![bacaudit::report::ReportTarget::file(report).unwrap()];
    let live = LiveOptions {
        timeout: Duration::from_secs(2),
        ..LiveOptions::default()
    };
    tokio::time::timeout(
        Duration::from_secs(120),
        run::crawl(&opts, live, None, Arc::new(Quiet), Stop::never()),
    )
    .await
    .expect("the crawl ends")
    .expect("the crawl runs")
}

fn apply_opts(report: &Path, rules: &Path, execute: bool) -> ApplyOptions {
    ApplyOptions {
        report: report.to_path_buf(),
        rules: rules.to_path_buf(),
        execute,
        journal: None,
        timeout: Duration::from_secs(5),
        retry: RetryPolicy {
            base: Duration::from_millis(1),
            ..RetryPolicy::default()
        },
        tls: Default::default(),
        verify_wait: None,
    }
}

fn lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_repairs_the_served_shop_and_a_second_apply_does_nothing() {
    served_shop_repaired("").await;
}

/// `serve --writable` takes every dialect: merge patches and creates by POST…
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_served_shop_is_repaired_by_merge_patch_and_post() {
    served_shop_repaired("patch = \"merge-patch\"\ncreate = \"post\"\n").await;
}

/// …and read-modify-PUT (with If-Match on a written resource's ETag).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_served_shop_is_repaired_by_read_modify_put() {
    served_shop_repaired("patch = \"put\"\n").await;
}

/// The broken shop served writable, its rules with `dialect` in every service: crawl, apply,
/// crawl again (nothing broken, no orphan), apply again (nothing sent).
async fn served_shop_repaired(dialect: &str) {
    let rules = bacaudit::rules::load(&manifest("rules/shop.toml")).unwrap();
    let snap = Arc::new(Snapshot::load(&manifest("fixtures/shop/shop.ndjson")).unwrap());
    let handle = serve::serve(
        &rules,
        snap,
        ServeOptions {
            rebase: true,
            writable: true,
            hold: Duration::from_millis(50),
            ..ServeOptions::default()
        },
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let rules_file = dir.path().join("shop.toml");
    let text = std::fs::read_to_string(manifest("rules/shop.toml")).unwrap();
    let rebased = handle.origins().rules_toml(&text).unwrap();
    let with_dialect: String = rebased
        .lines()
        .map(|l| {
            if l.starts_with("base_url") {
                format!("{l}\n{dialect}")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    std::fs::write(&rules_file, with_dialect).unwrap();

    let before = dir.path().join("before.json");
    let first = crawl(&rules_file, &before).await;
    let s = &first.report.summary;
    assert_eq!((s.broken_link, s.orphan), (8, 5), "the broken shop");

    // The dry run sends nothing and writes no journal.
    let dry = apply::apply(&apply_opts(&before, &rules_file, false))
        .await
        .unwrap();
    assert!(
        dry.stdout.contains("16 operations; dry run"),
        "{}",
        dry.stdout
    );
    assert!(dry.stdout.contains("curl -fsS -X DELETE"), "{}", dry.stdout);
    assert!(!default_journal(&before).exists());

    let done = apply::apply(&apply_opts(&before, &rules_file, true))
        .await
        .unwrap();
    assert_eq!(done.exit_code, 0, "{}", done.stdout);
    let journal = lines(&default_journal(&before));
    assert_eq!(journal.len(), 16, "{}", done.stdout);
    assert!(
        journal.iter().all(|e| e["outcome"] == "done"),
        "{journal:?}"
    );

    let after = dir.path().join("after.json");
    let second = crawl(&rules_file, &after).await;
    let s = &second.report.summary;
    assert_eq!((s.broken_link, s.orphan), (0, 0), "{}", second.stdout);
    // The placeholders put back are there; the 503s of the products service remain.
    assert_eq!(s.unresolved, first.report.summary.unresolved);

    let again = apply::apply(&apply_opts(&before, &rules_file, true))
        .await
        .unwrap();
    assert_eq!(again.exit_code, 0);
    assert!(
        again.stdout.contains("16 already journaled"),
        "{}",
        again.stdout
    );
    assert_eq!(
        lines(&default_journal(&before)).len(),
        16,
        "no new operation"
    );
    // Without the journal every operation is re-checked and found repaired: nothing is sent
    // (an array removal whose element moved is not sent again either).
    let fresh = dir.path().join("fresh.ndjson");
    let recheck = apply::apply(&ApplyOptions {
        journal: Some(fresh.clone()),
        ..apply_opts(&before, &rules_file, true)
    })
    .await
    .unwrap();
    assert_eq!(recheck.exit_code, 0, "{}", recheck.stdout);
    for e in lines(&fresh) {
        assert_eq!(e["outcome"], "skipped", "{e}");
    }
    handle.shutdown().await;
}

#[tokio::test]
async fn apply_refuses_a_plan_outside_the_rules_and_performs_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.json");
    // A real report, with one compensation moved to a host no rule declares.
    let out = run::audit(
        &CommonOptions::new(manifest("rules/bac-talk.toml")),
        &manifest("fixtures/bac-talk/independent-backup.ndjson"),
        Arc::new(Quiet),
        Stop::never(),
    )
    .await
    .unwrap();
    let text = serde_json::to_string(&out.report).unwrap().replace(
        "\"url\":\"http://127.0.0.1:8082/orders/3\"",
        "\"url\":\"http://169.254.169.254/latest\"",
    );
    std::fs::write(&report, text).unwrap();
    let err = apply::apply(&apply_opts(&report, &manifest("rules/bac-talk.toml"), true))
        .await
        .unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert!(err.to_string().contains("169.254.169.254"), "{err}");
    assert!(!default_journal(&report).exists(), "nothing performed");
}

/// A resource whose body is over the client's cap is not patched on a guess: the re-check
/// before a PATCH reads at most the cap, and a cut body fails the operation.
#[tokio::test]
async fn apply_does_not_patch_a_resource_whose_body_is_over_the_cap() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let server = MockServer::start().await;
    let uri = server.uri();
    let huge = format!(
        "{{\"customer_id\":3,\"pad\":\"{}\"}}",
        "x".repeat(LiveOptions::default().max_body + 1)
    );
    Mock::given(method("GET"))
        .and(path("/orders/3"))
        .respond_with(ResponseTemplate::new(200).set_body_string(huge))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/customers/3"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.toml");
    std::fs::write(
        &rules,
        format!(
            "[services.shop]\nbase_url = \"{uri}/\"\n\n[kinds.customer]\nservice = \"shop\"\n\
             path = \"/customers/{{id}}\"\n\n[kinds.order]\nservice = \"shop\"\n\
             path = \"/orders/{{id}}\"\n\n[kinds.order.links.customer]\n\
             pointer = \"/customer_id\"\nto = \"customer\"\non_broken = \"set-null\"\n"
        ),
    )
    .unwrap();
    // The bac-talk report's broken link, moved onto the mock, repaired by a set-null PATCH.
    let out = run::audit(
        &CommonOptions::new(manifest("rules/bac-talk.toml")),
        &manifest("fixtures/bac-talk/independent-backup.ndjson"),
        Arc::new(Quiet),
        Stop::never(),
    )
    .await
    .unwrap();
    let text = serde_json::to_string(&out.report)
        .unwrap()
        .replace("http://127.0.0.1:8081", &uri)
        .replace("http://127.0.0.1:8082", &uri);
    let mut report: serde_json::Value = serde_json::from_str(&text).unwrap();
    report["findings"][0]["compensations"] = serde_json::json!([{
        "action": "set-null", "method": "PATCH", "url": format!("{uri}/orders/3"),
        "content_type": "application/json-patch+json",
        "body": [{"op": "replace", "path": "/customer_id", "value": null}],
        "reason": "order.customer points at a customer that no longer exists"
    }]);
    let path_ = dir.path().join("r.json");
    std::fs::write(&path_, report.to_string()).unwrap();

    let done = apply::apply(&apply_opts(&path_, &rules, true))
        .await
        .unwrap();
    assert_eq!(done.exit_code, 3, "{}", done.stdout);
    let journal = lines(&default_journal(&path_));
    assert_eq!(journal.len(), 1, "{journal:?}");
    assert_eq!(journal[0]["outcome"], "failed");
    let detail = journal[0]["detail"].as_str().unwrap();
    assert!(detail.contains("cannot re-check"), "{detail}");
    let received = server.received_requests().await.unwrap();
    assert!(
        received.iter().all(|r| r.method.as_str() != "PATCH"),
        "no PATCH sent"
    );
}
