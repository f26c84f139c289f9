//! `bacaudit serve` and `bacaudit demo`: a snapshot served on ephemeral loopback ports answers
//! what was recorded, and a live crawl of the served shop finds what `audit` finds.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bacaudit::commands::demo::{self, DemoOptions};
use bacaudit::commands::pipeline::{self as run, CommonOptions, RunOutput};
use bacaudit::crawl::{Quiet, Stop};
use bacaudit::model::Report;
use bacaudit::rules::{Rules, Service};
use bacaudit::serve::{self, Flaky, OriginMap, ServeHandle, ServeOptions};
use bacaudit::source::{LiveOptions, Snapshot};
use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use url::Url;

/// Every network wait in these tests ends within this.
const BOUND: Duration = Duration::from_secs(30);

fn service(name: &str, base: &str, seeds: &[&str]) -> Service {
    Service {
        seeds: seeds.iter().map(|s| Url::parse(s).unwrap()).collect(),
        ..Service::new(name, Url::parse(base).unwrap())
    }
}

fn rules(services: Vec<Service>) -> Rules {
    Rules {
        path: "serve-test.toml".into(),
        services,
        kinds: Vec::new(),
        links: Vec::new(),
    }
}

fn snapshot(lines: &[&str]) -> Arc<Snapshot> {
    let mut s = Snapshot::default();
    s.add_text(
        Path::new("serve-test.ndjson"),
        Bytes::from(lines.join("\n")),
    )
    .unwrap();
    Arc::new(s)
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(BOUND)
        .build()
        .unwrap()
}

async fn get(url: &str) -> reqwest::Response {
    client().get(url).send().await.unwrap()
}

async fn shutdown(handle: ServeHandle) {
    tokio::time::timeout(BOUND, handle.shutdown())
        .await
        .expect("shutdown ends");
}

/// Two services sharing one origin under different base paths, and a third on its own.
const WORLD: &[&str] = &[
    r#"{"url":"http://127.0.0.1:8081/a/customers/1","status":200,"headers":{"content-type":"application/hal+json","link":"<http://127.0.0.1:8081/a/customers?page=2>; rel=\"next\"","content-length":"1"},"body":{"id":1,"_links":{"self":{"href":"http://127.0.0.1:8081/a/customers/1"},"orders":{"href":"http://127.0.0.1:8082/orders?customer=1"}}}}"#,
    r#"{"url":"http://127.0.0.1:8081/a/customers?page=2","status":200,"body":[]}"#,
    r#"{"url":"http://127.0.0.1:8081/a/customers/57","status":410,"headers":{"content-type":"application/problem+json"},"body":{"title":"Gone"}}"#,
    r#"{"url":"http://127.0.0.1:8081/a/moved","status":301,"headers":{"location":"http://127.0.0.1:8082/orders/1"}}"#,
    r#"{"url":"http://127.0.0.1:8081/b/reset","error":"connection_reset"}"#,
    r#"{"url":"http://127.0.0.1:8081/b/refused","error":"connect_failed"}"#,
    r#"{"url":"http://127.0.0.1:8081/b/skipped","error":"service_unavailable"}"#,
    r#"{"url":"http://127.0.0.1:8081/b/big","status":200,"error":"body_too_large"}"#,
    r#"{"url":"http://127.0.0.1:8081/b/loop","error":"too_many_redirects"}"#,
    r#"{"url":"http://127.0.0.1:8082/orders/1","status":200,"body":{"id":1,"customer":"http://127.0.0.1:8081/a/customers/1"}}"#,
    r#"{"url":"http://127.0.0.1:8082/orders/2","status":404}"#,
    r#"{"url":"http://127.0.0.1:8082/slow","error":"timeout"}"#,
];

fn world_rules() -> Rules {
    rules(vec![
        service(
            "customers",
            "http://127.0.0.1:8081/a/",
            &["http://127.0.0.1:8081/a/customers/1"],
        ),
        service("legacy", "http://127.0.0.1:8081/b/", &[]),
        service("orders", "http://127.0.0.1:8082/", &[]),
    ])
}

async fn serve_world(opts: ServeOptions) -> ServeHandle {
    serve::serve(&world_rules(), snapshot(WORLD), opts)
        .await
        .unwrap()
}

fn rebased() -> ServeOptions {
    ServeOptions {
        rebase: true,
        ..ServeOptions::default()
    }
}

#[tokio::test]
async fn rebased_services_share_listeners_by_origin_and_say_where() {
    let h = serve_world(rebased()).await;
    let s = h.services();
    assert_eq!(s.len(), 3);
    assert_eq!(
        s[0].addr, s[1].addr,
        "customers and legacy share 127.0.0.1:8081"
    );
    assert_ne!(s[0].addr, s[2].addr);
    assert_eq!(h.addrs(), vec![s[0].addr, s[2].addr]);
    for svc in s {
        assert!(svc.addr.ip().is_loopback() && svc.addr.port() != 0);
    }
    assert_eq!(s[0].base_url.as_str(), format!("http://{}/a/", s[0].addr));
    assert_eq!(
        h.rules().services[0].seeds[0].as_str(),
        format!("http://{}/a/customers/1", s[0].addr)
    );
    assert_eq!(h.rules().services[2].base_url, s[2].base_url);
    assert_eq!((s[0].urls, s[1].urls, s[2].urls), (4, 5, 3));
    let banner = h.banner();
    assert!(
        banner.starts_with(&format!(
            "serving customers at http://{}/a/ (4 URLs)\n",
            s[0].addr
        )),
        "{banner}"
    );
    assert_eq!(banner.lines().count(), 3);
    shutdown(h).await;
}

#[tokio::test]
async fn recorded_answers_come_back_rebased() {
    let h = serve_world(rebased()).await;
    let a = format!("http://{}", h.services()[0].addr);
    let o = format!("http://{}", h.services()[2].addr);

    let r = get(&format!("{a}/a/customers/1")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/hal+json");
    assert_eq!(
        r.headers()["link"].to_str().unwrap(),
        format!("<{a}/a/customers?page=2>; rel=\"next\"")
    );
    assert_eq!(
        r.text().await.unwrap(),
        format!(
            r#"{{"id":1,"_links":{{"self":{{"href":"{a}/a/customers/1"}},"orders":{{"href":"{o}/orders?customer=1"}}}}}}"#
        ),
        "the recorded JSON text, byte for byte, origins moved"
    );

    let r = get(&format!("{a}/a/customers?page=2")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    assert_eq!(r.text().await.unwrap(), "[]");

    let r = get(&format!("{a}/a/customers/57")).await;
    assert_eq!(r.status(), 410);
    assert_eq!(r.text().await.unwrap(), r#"{"title":"Gone"}"#);

    let r = get(&format!("{a}/a/moved")).await;
    assert_eq!(r.status(), 301);
    assert_eq!(
        r.headers()["location"].to_str().unwrap(),
        format!("{o}/orders/1")
    );

    let r = get(&format!("{o}/orders/1")).await;
    assert_eq!(
        r.text().await.unwrap(),
        format!(r#"{{"id":1,"customer":"{a}/a/customers/1"}}"#)
    );
    assert_eq!(get(&format!("{o}/orders/2")).await.status(), 404);
    shutdown(h).await;
}

#[tokio::test]
async fn unknown_urls_and_recorded_errors() {
    let h = serve_world(rebased()).await;
    let a = format!("http://{}", h.services()[0].addr);

    let r = get(&format!("{a}/a/customers/999?x=1")).await;
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let body: serde_json::Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert_eq!(body["status"], 404);
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("/a/customers/999?x=1"),
        "{body}"
    );

    for path in ["/b/reset", "/b/refused"] {
        let e = client()
            .get(format!("{a}{path}"))
            .send()
            .await
            .expect_err("closed without an answer");
        assert!(!e.is_timeout() && e.status().is_none(), "{path}: {e:?}");
    }
    // The listener survives a closed connection.
    assert_eq!(get(&format!("{a}/b/skipped")).await.status(), 503);
    assert_eq!(get(&format!("{a}/b/big")).await.status(), 200);
    assert_eq!(get(&format!("{a}/b/loop")).await.status(), 500);
    let r = client()
        .post(format!("{a}/a/customers/1"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["allow"], "GET, HEAD");
    let r = client()
        .head(format!("{a}/a/customers/1"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    shutdown(h).await;
}

#[tokio::test]
async fn recorded_timeout_holds_until_the_client_gives_up_and_shutdown_releases_it() {
    let h = serve_world(rebased()).await;
    let o = format!("http://{}", h.services()[2].addr);
    let e = reqwest::Client::new()
        .get(format!("{o}/slow"))
        .timeout(Duration::from_millis(300))
        .send()
        .await
        .expect_err("no answer");
    assert!(e.is_timeout(), "{e:?}");

    // A request held (or not yet read) when the server stops gets no answer: its connection
    // is closed, and the stop does not wait for the hold (60 s).
    let mut raw = tokio::net::TcpStream::connect(h.services()[2].addr)
        .await
        .unwrap();
    raw.write_all(b"GET /slow HTTP/1.1\r\nhost: test\r\n\r\n")
        .await
        .unwrap();
    shutdown(h).await;
    let mut answer = Vec::new();
    let read = tokio::time::timeout(BOUND, raw.read_to_end(&mut answer))
        .await
        .expect("the connection is closed");
    assert!(read.is_err() || answer.is_empty(), "no answer: {answer:?}");
}

#[tokio::test]
async fn recorded_timeout_hold_is_bounded() {
    let h = serve_world(ServeOptions {
        hold: Duration::from_millis(50),
        ..rebased()
    })
    .await;
    let o = format!("http://{}", h.services()[2].addr);
    let e = client()
        .get(format!("{o}/slow"))
        .send()
        .await
        .expect_err("closed without an answer after the hold");
    assert!(!e.is_timeout(), "{e:?}");
    shutdown(h).await;
}

#[tokio::test]
async fn flaky_urls_fail_once_then_answer() {
    let h = serve_world(ServeOptions {
        flaky: Some(Flaky {
            service: "orders".into(),
            fraction: 1.0,
            seed: 1,
        }),
        ..rebased()
    })
    .await;
    let a = format!("http://{}", h.services()[0].addr);
    let o = format!("http://{}", h.services()[2].addr);
    assert_eq!(get(&format!("{o}/orders/1")).await.status(), 503);
    assert_eq!(get(&format!("{o}/orders/1")).await.status(), 200);
    assert_eq!(get(&format!("{o}/orders/1")).await.status(), 200);
    // Only recorded 2xx answers are flaky (a recorded 404 stays a 404 on its first request),
    // and only in the chosen service.
    assert_eq!(get(&format!("{o}/orders/2")).await.status(), 404);
    assert_eq!(get(&format!("{a}/a/customers/1")).await.status(), 200);
    shutdown(h).await;

    let e = serve::serve(
        &world_rules(),
        snapshot(WORLD),
        ServeOptions {
            flaky: Some(Flaky {
                service: "nope".into(),
                fraction: 0.5,
                seed: 1,
            }),
            ..rebased()
        },
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("`nope`"), "{e}");
}

#[tokio::test]
async fn serves_the_recorded_origin_without_rebasing() {
    // Port 0 in the base URL: the listener gets an ephemeral port, URLs are not moved.
    let r = rules(vec![service("only", "http://127.0.0.1:0/", &[])]);
    let s = snapshot(&[
        r#"{"url":"http://127.0.0.1:0/x","status":200,"body":{"next":"http://127.0.0.1:0/y"}}"#,
    ]);
    let h = serve::serve(&r, s, ServeOptions::default()).await.unwrap();
    assert!(h.origins().is_identity());
    assert_eq!(
        h.rules().services[0].base_url.as_str(),
        "http://127.0.0.1:0/"
    );
    let addr = h.services()[0].addr;
    let body = get(&format!("http://{addr}/x")).await.text().await.unwrap();
    assert_eq!(body, r#"{"next":"http://127.0.0.1:0/y"}"#);
    shutdown(h).await;
}

#[tokio::test]
async fn a_port_in_use_names_the_service_and_address() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let r = rules(vec![
        service("customers", &format!("http://127.0.0.1:{port}/c/"), &[]),
        service("orders", &format!("http://127.0.0.1:{port}/o/"), &[]),
    ]);
    let e = serve::serve(&r, snapshot(&[]), ServeOptions::default())
        .await
        .unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.starts_with(&format!(
            "cannot serve customers and orders at 127.0.0.1:{port}: "
        )),
        "{msg}"
    );
    assert_eq!(e.exit_code(), bacaudit::exit::INPUT);
    drop(taken);
}

#[tokio::test]
async fn https_is_served_only_rebased() {
    let r = rules(vec![service("s", "https://127.0.0.1:8443/", &[])]);
    let s = snapshot(&[
        r#"{"url":"https://127.0.0.1:8443/x","status":200,"body":{"self":"https://127.0.0.1:8443/x"}}"#,
    ]);
    let e = serve::serve(&r, s.clone(), ServeOptions::default())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("plain http"), "{e}");
    let h = serve::serve(&r, s, rebased()).await.unwrap();
    let base = h.services()[0].base_url.clone();
    assert_eq!(base.scheme(), "http");
    let body = get(base.join("x").unwrap().as_str())
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(body, format!(r#"{{"self":"{}x"}}"#, base));
    shutdown(h).await;
}

// --- End to end: the served shop, crawled live, finds what `audit` finds. -----------------

fn manifest(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

async fn audit_shop() -> RunOutput {
    let opts = CommonOptions::new(manifest("rules/shop.toml"));
    run::audit(
        &opts,
        &manifest("fixtures/shop/shop.ndjson"),
        Arc::new(Quiet),
        Stop::never(),
    )
    .await
    .unwrap()
}

/// Findings in recorded URLs (`to_recorded` moves served origins back), without the parts
/// that cannot match: `id` hashes the URLs, and a live timeout's `detail` names its seconds.
fn comparable(report: &Report, to_recorded: &OriginMap) -> Vec<serde_json::Value> {
    let text = serde_json::to_string(&report.findings).unwrap();
    let mut findings: Vec<serde_json::Value> =
        serde_json::from_str(&to_recorded.apply(&text)).unwrap();
    for f in &mut findings {
        let f = f.as_object_mut().unwrap();
        f.remove("id");
        if f.get("reason").and_then(|r| r.as_str()) == Some("timeout") {
            f.remove("detail");
        }
    }
    findings.sort_by_key(|f| f.to_string());
    findings
}

/// The crawl's report equals the audit's, but for ports, ids and timeout details; `flaky`
/// crawls make more requests.
fn assert_same_world(crawled: &RunOutput, audited: &RunOutput, to_recorded: &OriginMap) {
    let (c, a) = (&crawled.report, &audited.report);
    assert_eq!(crawled.exit_code, audited.exit_code);
    assert_eq!(c.complete, a.complete);
    assert_eq!(
        comparable(c, to_recorded),
        comparable(a, &OriginMap::default())
    );
    let counts = |r: &Report| {
        let s = &r.summary;
        (
            s.resources,
            s.references,
            s.cross_service_references,
            s.broken_link,
            s.orphan,
            s.unresolved,
            s.out_of_scope,
        )
    };
    assert_eq!(counts(c), counts(a));
    assert!(c.summary.requests >= a.summary.requests);
    assert_eq!(c.warnings, a.warnings);
    let services = |r: &Report| {
        r.services
            .iter()
            .map(|s| (s.name.clone(), s.status.clone(), s.resources, s.failures))
            .collect::<Vec<_>>()
    };
    assert_eq!(services(c), services(a));
}

#[tokio::test]
async fn a_live_crawl_of_the_served_shop_finds_what_audit_finds() {
    let audited = audit_shop().await;
    assert_eq!(
        (
            audited.report.summary.broken_link,
            audited.report.summary.orphan,
            audited.report.summary.unresolved
        ),
        (8, 5, 9)
    );

    let rules = bacaudit::rules::load(&manifest("rules/shop.toml")).unwrap();
    let snap = Arc::new(Snapshot::load(&manifest("fixtures/shop/shop.ndjson")).unwrap());
    let h = serve::serve(&rules, snap, rebased()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let rules_file = dir.path().join("shop.toml");
    let text = std::fs::read_to_string(manifest("rules/shop.toml")).unwrap();
    std::fs::write(&rules_file, h.origins().rules_toml(&text).unwrap()).unwrap();
    let live = LiveOptions {
        timeout: Duration::from_secs(2),
        ..LiveOptions::default()
    };
    let crawled = tokio::time::timeout(
        Duration::from_secs(120),
        run::crawl(
            &CommonOptions::new(&rules_file),
            live,
            None,
            Arc::new(Quiet),
            Stop::never(),
        ),
    )
    .await
    .expect("the crawl ends")
    .unwrap();
    let to_recorded = h.origins().inverse();
    shutdown(h).await;
    assert_same_world(&crawled, &audited, &to_recorded);
    // Retries may only grow: a loaded machine can time out a genuine request, which is then
    // retried and ends well (the findings above do not move).
    assert!(crawled.report.summary.retries >= audited.report.summary.retries);
}

#[tokio::test]
async fn the_demo_finds_what_audit_finds_through_a_flaky_service() {
    let audited = audit_shop().await;
    let out = tempfile::tempdir().unwrap();
    let demo = demo::start(&DemoOptions {
        out: Some(out.path().join("reports")),
        ..DemoOptions::default()
    })
    .await
    .unwrap();
    let to_recorded = demo.server().origins().inverse();
    assert_eq!(demo.out_dir(), out.path().join("reports"));
    let done = tokio::time::timeout(
        Duration::from_secs(120),
        demo.run(Arc::new(Quiet), Stop::never()),
    )
    .await
    .expect("the demo ends")
    .unwrap();
    assert_same_world(&done.run, &audited, &to_recorded);
    assert!(
        done.run.report.summary.retries > audited.report.summary.retries,
        "the flaky products service made the crawler retry"
    );
    assert!(done
        .reports
        .contains(&out.path().join("reports/report.json")));
    for report in &done.reports {
        assert!(report.is_file(), "{}", report.display());
    }
    let written = Report::read(&out.path().join("reports/report.json")).unwrap();
    assert_eq!(written, done.run.report);
    assert!(out.path().join("reports/demo-rules.toml").is_file());
    assert!(done.summary().contains("report.json"), "{}", done.summary());
}

#[test]
fn serve_cli_exits_2_when_a_port_is_taken() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("r.toml");
    std::fs::write(
        &rules,
        format!("[services.customers]\nbase_url = \"http://127.0.0.1:{port}/\"\n"),
    )
    .unwrap();
    let snap = dir.path().join("s.ndjson");
    std::fs::write(&snap, "").unwrap();
    assert_cmd::Command::cargo_bin("bacaudit")
        .unwrap()
        .args(["serve", "--rules"])
        .arg(&rules)
        .arg("--snapshot")
        .arg(&snap)
        .timeout(BOUND)
        .assert()
        .code(2)
        .stderr(predicates::str::contains(format!(
            "error: cannot serve customers at 127.0.0.1:{port}: "
        )));
    drop(taken);
}
