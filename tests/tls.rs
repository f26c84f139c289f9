//! The `https://` path on its own: a real TLS server (the test CA, see `support::tls`) is
//! reached only when trusted — through the client layer's extra roots, or through
//! `SSL_CERT_FILE` or `--ca` for the CLI; an untrusted certificate is `tls_error`, tried once;
//! and `apply` sends its re-checks and writes through the same layer over both
//! schemes, with its credentials and the shared retry loop.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use assert_cmd::Command;
use bacaudit::crawl::{Quiet, Stop};
use bacaudit::http::{self, ClientOptions, Failure, Request, ServiceHeaders, TlsOptions};
use bacaudit::source::{LiveOptions, LiveSource};
use bacaudit::vocab::FindingKind::{BrokenLink, Unresolved};
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::tls::{pki, Scheme};
use crate::support::{crawl_with, fast, url, Deletable, RulesBuilder, Script};

#[tokio::test]
async fn a_trusted_https_service_is_crawled_through_tls() {
    let server = MockServer::start().await;
    Mock::given(path("/a"))
        .respond_with(ResponseTemplate::new(404))
        .expect(1)
        .mount(&server)
        .await;
    let over = Scheme::Https.over(&server.uri()).await;
    assert!(over.uri.starts_with("https://127.0.0.1:"), "{}", over.uri);
    let rules = Arc::new(
        RulesBuilder::new()
            .service("api", &over.uri, &["/a"])
            .build(),
    );
    let c = crate::support::crawl_live(&rules, LiveOptions::default(), fast(0)).await;
    c.assert_seed(
        &url(&over.uri, "/a"),
        BrokenLink,
        "permanent",
        "not_found",
        Some(404),
        1,
    );
    let front = over.front.as_ref().expect("a TLS front");
    assert_eq!(
        front.handshakes.load(Ordering::SeqCst),
        1,
        "one kept-alive connection"
    );
    server.verify().await;
}

/// Without the test CA among its roots the client refuses the server: `tls_error` (class
/// access: a certificate does not change by retrying, so one attempt), the cause in the detail.
#[tokio::test]
async fn an_untrusted_certificate_is_a_tls_error_tried_once() {
    let server = MockServer::start().await;
    let over = Scheme::Https.over(&server.uri()).await;
    let rules = Arc::new(
        RulesBuilder::new()
            .service("api", &over.uri, &["/a"])
            .build(),
    );
    let source = Arc::new(LiveSource::new(rules.clone(), LiveOptions::default()).unwrap());
    let c = crawl_with(&rules, source, fast(2), Arc::new(Quiet), Stop::never()).await;
    let u = url(&over.uri, "/a");
    c.assert_seed(&u, Unresolved, "access", "tls_error", None, 1);
    let (_, l) = c.finding(&u);
    assert!(
        l.detail.starts_with("TLS error: unknown issuer"),
        "{}",
        l.detail
    );
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn extra_roots_that_are_not_pem_certificates_are_refused() {
    for bad in [b"not a certificate".to_vec(), Vec::new()] {
        let opts = ClientOptions {
            tls: TlsOptions {
                extra_roots_pem: vec![pki().ca_pem.as_bytes().to_vec(), bad],
                ..TlsOptions::default()
            },
            ..ClientOptions::default()
        };
        let err = http::Client::new(&opts).err().expect("refused");
        assert!(
            err.to_string().starts_with("extra root certificate 1: "),
            "{err}"
        );
    }
}

/// The client layer on its own: one `send`, the same answer and the same failure words over
/// both transports.
async fn the_client_sends_any_method_with_a_body_over_each_scheme(scheme: Scheme) {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/things/1"))
        .and(wiremock::matchers::header(
            "content-type",
            "application/json",
        ))
        .and(wiremock::matchers::body_string("{\"id\":1}"))
        .respond_with(ResponseTemplate::new(201).insert_header("x-made", "yes"))
        .expect(1)
        .mount(&server)
        .await;
    let over = scheme.over(&server.uri()).await;
    let client = http::Client::new(&crate::support::tls::trusting(ClientOptions::default()))
        .expect("client");
    let rules = RulesBuilder::new().service("api", &over.uri, &[]).build();
    let headers = ServiceHeaders::new(&rules).unwrap();
    let target = url::Url::parse(&url(&over.uri, "/things/1")).unwrap();
    let body = bytes::Bytes::from_static(b"{\"id\":1}");
    let resp = client
        .send(Request {
            method: &http::Method::PUT,
            url: &target,
            headers: headers.of(0),
            body: Some(("application/json", &body)),
        })
        .await
        .expect("an answer");
    assert_eq!((resp.status, resp.header("x-made")), (201, Some("yes")));
    let dead = format!(
        "{}://127.0.0.1:{}/x",
        target.scheme(),
        crate::support::dead_port()
    );
    let dead = url::Url::parse(&dead).unwrap();
    let failure = client
        .send(Request::get(&dead, headers.of(0)))
        .await
        .expect_err("refused");
    assert!(matches!(failure, Failure::Connect(_)), "{failure:?}");
    assert!(
        failure.to_string().starts_with("connection failed: "),
        "{failure}"
    );
    server.verify().await;
}

/// Credentials stay with their service when a redirect changes the transport too: an
/// `https://` service with a key redirects to an `http://` one and back.
#[tokio::test]
async fn credentials_stay_with_their_service_across_schemes() {
    let (secured, open) = (MockServer::start().await, MockServer::start().await);
    let secured_over = Scheme::Https.over(&secured.uri()).await;
    let open_uri = open.uri();
    Mock::given(path("/to-open"))
        .respond_with(crate::support::redirect(302, &url(&open_uri, "/landing")))
        .expect(1)
        .mount(&secured)
        .await;
    Mock::given(path("/to-secured"))
        .respond_with(crate::support::redirect(
            302,
            &url(&secured_over.uri, "/back"),
        ))
        .expect(1)
        .mount(&open)
        .await;
    for (server, p) in [(&open, "/landing"), (&secured, "/back")] {
        Mock::given(path(p))
            .respond_with(ResponseTemplate::new(404))
            .expect(1)
            .mount(server)
            .await;
    }
    let rules = Arc::new(
        RulesBuilder::new()
            .service("secured", &secured_over.uri, &["/to-open"])
            .service("open", &open_uri, &["/to-secured"])
            .auth("secured", "X-Api-Key", "k3y")
            .build(),
    );
    let c = crate::support::crawl_live(&rules, LiveOptions::default(), fast(0)).await;
    assert_eq!(c.count(BrokenLink), 2, "{:#?}", c.analysis.findings);
    for r in secured.received_requests().await.unwrap() {
        let key = r.headers.get("x-api-key").map(|v| v.to_str().unwrap());
        assert_eq!(key, Some("k3y"), "{}", r.url);
    }
    for r in open.received_requests().await.unwrap() {
        assert!(
            r.headers.get("x-api-key").is_none(),
            "{} got the key",
            r.url
        );
    }
    secured.verify().await;
    open.verify().await;
}

// ---------------------------------------------------------------------------------------------
// The CLI: `SSL_CERT_FILE` (the system's roots) makes the test CA trusted

/// Runs the binary off the runtime's thread (the servers answer meanwhile).
async fn run(args: Vec<String>, env: Vec<(&'static str, String)>) -> (i32, String, String) {
    tokio::task::spawn_blocking(move || {
        let mut c = Command::cargo_bin("bacaudit").expect("binary built");
        c.env_remove("SSL_CERT_FILE").env_remove("SSL_CERT_DIR");
        for (k, v) in env {
            c.env(k, v);
        }
        let out = c.args(&args).output().expect("runs");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    })
    .await
    .expect("joined")
}

/// Orders point at customers; order 1's customer 3 is gone (cascade: delete the order).
fn shop_rules(dir: &Path, customers: &str, orders: &str) -> String {
    let text = format!(
        r#"version = 1

[services.customers]
base_url = "{customers}/"

[services.orders]
base_url = "{orders}/"
seeds = ["/orders/1"]
auth = {{ header = "X-Api-Key", env = "BACAUDIT_TEST_ORDERS_TOKEN" }}

[kinds.customer]
service = "customers"
path = "/customers/{{id}}"

[kinds.order]
service = "orders"
path = "/orders/{{id}}"

[kinds.order.links.customer]
pointer = "/customer_id"
to = "customer"
on_broken = "cascade"
"#
    );
    let file = dir.join("shop.toml");
    std::fs::write(&file, text).unwrap();
    file.to_string_lossy().into_owned()
}

/// The shop; the delete of order 1 is expected `deletes` times.
async fn mount_shop(customers: &MockServer, orders: &MockServer, deletes: u64) -> Script {
    // The order is gone once the DELETE succeeds (its second try), as apply reads back.
    let order = Deletable::new(2);
    Mock::given(method("GET"))
        .and(path("/orders/1"))
        .respond_with(
            order.get(ResponseTemplate::new(200).set_body_json(json!({"id": 1, "customer_id": 3}))),
        )
        .mount(orders)
        .await;
    Mock::given(method("GET"))
        .and(path("/customers/3"))
        .respond_with(ResponseTemplate::new(404))
        .mount(customers)
        .await;
    // The delete meets a busy service once (Retry-After: 0, so no wait), then succeeds.
    let delete = Script::new(vec![
        ResponseTemplate::new(503).insert_header("retry-after", "0"),
        ResponseTemplate::new(204),
    ]);
    Mock::given(method("DELETE"))
        .and(path("/orders/1"))
        .respond_with(order.delete(delete.clone()))
        .expect(deletes)
        .mount(orders)
        .await;
    delete
}

async fn the_cli_crawls_and_applies_over_each_scheme_trusting_ssl_cert_file(scheme: Scheme) {
    let (customers, orders) = (MockServer::start().await, MockServer::start().await);
    mount_shop(&customers, &orders, 2).await;
    let (c_over, o_over) = (
        scheme.over(&customers.uri()).await,
        scheme.over(&orders.uri()).await,
    );
    let dir = tempfile::tempdir().unwrap();
    let rules = shop_rules(dir.path(), &c_over.uri, &o_over.uri);
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &pki().ca_pem).unwrap();
    let report = dir.path().join("report.json");
    let s = |x: &str| x.to_string();
    let env = vec![
        ("SSL_CERT_FILE", ca.to_string_lossy().into_owned()),
        ("BACAUDIT_TEST_ORDERS_TOKEN", s("s3cr3t")),
    ];
    let crawl = vec![
        s("crawl"),
        s("-q"),
        s("--rules"),
        rules.clone(),
        s("--report"),
        report.to_string_lossy().into_owned(),
    ];
    let (code, out, err) = run(crawl, env.clone()).await;
    assert_eq!(code, 1, "a broken link fails the run\n{out}\n{err}");
    let r: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(r["summary"]["broken_link"], 1, "{r:#}");

    let apply = vec![
        s("apply"),
        report.to_string_lossy().into_owned(),
        s("--rules"),
        rules,
        s("--execute"),
    ];
    let (code, out, err) = run(apply, env).await;
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("done     DELETE"), "{out}");
    // Every request to orders carried its key; none to customers did.
    for r in orders.received_requests().await.unwrap() {
        let key = r.headers.get("x-api-key").map(|v| v.to_str().unwrap());
        assert_eq!(key, Some("s3cr3t"), "{} {}", r.method, r.url);
    }
    for r in customers.received_requests().await.unwrap() {
        assert!(r.headers.get("x-api-key").is_none(), "{}", r.url);
    }
    orders.verify().await;
}

/// `--ca FILE` on `crawl` and `apply` trusts the test CA for every service (no `SSL_CERT_FILE`).
#[tokio::test]
async fn the_cli_crawls_and_applies_trusting_the_ca_flag() {
    let (customers, orders) = (MockServer::start().await, MockServer::start().await);
    mount_shop(&customers, &orders, 2).await;
    let (c_over, o_over) = (
        Scheme::Https.over(&customers.uri()).await,
        Scheme::Https.over(&orders.uri()).await,
    );
    let dir = tempfile::tempdir().unwrap();
    let rules = shop_rules(dir.path(), &c_over.uri, &o_over.uri);
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &pki().ca_pem).unwrap();
    let (ca, report) = (
        ca.to_string_lossy().into_owned(),
        dir.path()
            .join("report.json")
            .to_string_lossy()
            .into_owned(),
    );
    let env = vec![("BACAUDIT_TEST_ORDERS_TOKEN", "s3cr3t".to_string())];
    let crawl = [
        "crawl", "-q", "--rules", &rules, "--ca", &ca, "--report", &report,
    ];
    let (code, out, err) = run(crawl.map(String::from).to_vec(), env.clone()).await;
    assert_eq!(code, 1, "a broken link fails the run\n{out}\n{err}");
    let apply = [
        "apply",
        &report,
        "--rules",
        &rules,
        "--ca",
        &ca,
        "--execute",
    ];
    let (code, out, err) = run(apply.map(String::from).to_vec(), env).await;
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("done     DELETE"), "{out}");
    orders.verify().await;
}

/// Without `SSL_CERT_FILE` the CLI does not trust the test CA: the seed is unresolved (exit
/// 3, `tls_error`), not broken, and nothing reaches the server.
#[tokio::test]
async fn the_cli_does_not_trust_an_unknown_ca() {
    let (customers, orders) = (MockServer::start().await, MockServer::start().await);
    mount_shop(&customers, &orders, 0).await;
    let (c_over, o_over) = (
        Scheme::Https.over(&customers.uri()).await,
        Scheme::Https.over(&orders.uri()).await,
    );
    let dir = tempfile::tempdir().unwrap();
    let rules = shop_rules(dir.path(), &c_over.uri, &o_over.uri);
    let args = vec![
        "crawl".to_string(),
        "-q".into(),
        "--retries".into(),
        "0".into(),
        "--rules".into(),
        rules,
        "--format".into(),
        "json".into(),
    ];
    let env = vec![("BACAUDIT_TEST_ORDERS_TOKEN", "s3cr3t".to_string())];
    let (code, out, err) = run(args, env).await;
    assert_eq!(code, 3, "{out}\n{err}");
    let r: Value = serde_json::from_str(&out).unwrap();
    let f = &r["findings"][0];
    assert_eq!(
        (&f["reason"], &f["class"]),
        (&json!("tls_error"), &json!("access"))
    );
    assert!(
        f["detail"]
            .as_str()
            .unwrap()
            .starts_with("TLS error: unknown issuer"),
        "{f:#}"
    );
    assert!(orders.received_requests().await.unwrap().is_empty());
}

crate::both_schemes!(
    the_client_sends_any_method_with_a_body_over_each_scheme,
    the_cli_crawls_and_applies_over_each_scheme_trusting_ssl_cert_file,
);
