//! Per-service `headers`: each service gets its own headers and no other's — also across a
//! redirect to another service — and its `Accept` replaces the default one.

use std::path::Path;
use std::sync::Arc;

use bacaudit::source::{LiveOptions, ACCEPT_VALUE};
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{crawl_live, fast, redirect};

#[tokio::test]
async fn each_service_gets_its_own_headers_only_also_across_a_redirect() {
    let a = MockServer::start().await;
    let b = MockServer::start().await;
    let c = MockServer::start().await;
    let body = serde_json::json!({
        "other": format!("{}/b/1", b.uri()),
        "moved": format!("{}/r", a.uri()),
        "plain": format!("{}/c/1", c.uri()),
    });
    Mock::given(path("/a/1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(&a)
        .await;
    Mock::given(path("/r"))
        .respond_with(redirect(302, &format!("{}/b/2", b.uri())))
        .mount(&a)
        .await;
    for p in ["/b/1", "/b/2"] {
        Mock::given(path(p))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({})))
            .mount(&b)
            .await;
    }
    Mock::given(path("/c/1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({})))
        .mount(&c)
        .await;

    let text = format!(
        r#"
[services.a]
base_url = "{}/"
seeds = ["/a/1"]
headers = {{ Accept = "application/vnd.api+json", "X-Tenant" = "acme", "X-Api-Version" = {{ env = "API_VERSION" }} }}
[services.b]
base_url = "{}/"
headers = {{ accept = "application/hal+json", "x-tenant" = "globex" }}
[services.c]
base_url = "{}/"
"#,
        a.uri(),
        b.uri(),
        c.uri()
    );
    let rules = bacaudit::rules::parse(Path::new("h.toml"), &text, &|v| {
        (v == "API_VERSION").then(|| "2026-12-v".to_string())
    })
    .unwrap();
    assert!(!format!("{rules:?}").contains("2026-12-v"));
    let rules = Arc::new(rules);
    let crawled = crawl_live(&rules, LiveOptions::default(), fast(0)).await;
    assert_eq!(
        crawled.analysis.findings.len(),
        0,
        "{:#?}",
        crawled.analysis.findings
    );

    let got = |r: &wiremock::Request, name: &str| {
        r.headers
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let ra = a.received_requests().await.unwrap();
    assert_eq!(ra.len(), 2, "/a/1 and /r");
    for r in &ra {
        assert_eq!(got(r, "accept"), ["application/vnd.api+json"], "{}", r.url);
        assert_eq!(got(r, "x-tenant"), ["acme"], "{}", r.url);
        assert_eq!(got(r, "x-api-version"), ["2026-12-v"], "{}", r.url);
    }
    let rb = b.received_requests().await.unwrap();
    let mut paths: Vec<&str> = rb.iter().map(|r| r.url.path()).collect();
    paths.sort_unstable();
    assert_eq!(paths, ["/b/1", "/b/2"], "the redirect was followed into b");
    for r in &rb {
        assert_eq!(got(r, "accept"), ["application/hal+json"], "{}", r.url);
        assert_eq!(got(r, "x-tenant"), ["globex"], "{}", r.url);
        assert!(got(r, "x-api-version").is_empty(), "{}", r.url);
    }
    let rc = c.received_requests().await.unwrap();
    assert_eq!(rc.len(), 1);
    assert_eq!(got(&rc[0], "accept"), [ACCEPT_VALUE]);
    assert!(got(&rc[0], "x-tenant").is_empty());
    assert!(got(&rc[0], "x-api-version").is_empty());
}
