//! Adaptive concurrency against fragile services served by `bacaudit serve` (capacity,
//! latency): a service is never sent more than it is configured to take, the crawl backs off a
//! saturated one and still finds the true world, and the report shows each service's limit and
//! latency. Assertions count events (refusals, findings) or bound latencies from below (a
//! served delay is a floor); nothing depends on how fast the machine is.

use std::sync::Arc;
use std::time::Duration;

use bacaudit::crawl::{CrawlOptions, RetryPolicy};
use bacaudit::model::{Origin, Report};
use bacaudit::serve::{self, Fragility, Load, ServeHandle, ServeOptions};
use bacaudit::source::{LiveOptions, Snapshot};
use bacaudit::vocab::FindingKind::{BrokenLink, Orphan, Unresolved};
use bacaudit::{plan, rules};

use crate::support::{crawl_live, fast, Crawled};

/// Customers 0..CUSTOMERS; every order points at customer `i % (CUSTOMERS + LOST)`, so the
/// orders of the LOST missing customers are broken links.
const CUSTOMERS: usize = 60;
const LOST: usize = 4;
const ORDERS: usize = 64;

const RULES: &str = r#"
version = 1

[services.customers]
base_url = "http://127.0.0.1:8081/"
seeds = ["/customers"]

[services.orders]
base_url = "http://127.0.0.1:8082/"
seeds = ["/orders"]

[kinds.customer]
service = "customers"
path = "/customers/{id}"
collection = "/customers"

[kinds.order]
service = "orders"
path = "/orders/{id}"
collection = "/orders"

[kinds.order.links.customer]
pointer = "/customer"
to = "customer"
"#;

/// The world as a snapshot: two list pages and their items.
fn world() -> String {
    let mut lines = Vec::new();
    let mut line = |url: String, body: serde_json::Value| {
        lines.push(
            serde_json::json!({
                "url": url, "status": 200,
                "headers": {"content-type": "application/json"}, "body": body
            })
            .to_string(),
        );
    };
    let customer = |i: usize| format!("http://127.0.0.1:8081/customers/{i}");
    let order = |i: usize| format!("http://127.0.0.1:8082/orders/{i}");
    line(
        "http://127.0.0.1:8081/customers".into(),
        (0..CUSTOMERS).map(customer).collect(),
    );
    for i in 0..CUSTOMERS {
        line(customer(i), serde_json::json!({"id": i}));
    }
    line(
        "http://127.0.0.1:8082/orders".into(),
        (0..ORDERS).map(order).collect(),
    );
    for i in 0..ORDERS {
        let c = customer(i % (CUSTOMERS + LOST));
        line(order(i), serde_json::json!({"id": i, "customer": c}));
    }
    lines.join("\n") + "\n"
}

/// Broken links the world holds: the orders whose customer is one of the LOST.
fn broken_links() -> usize {
    (0..ORDERS)
        .filter(|i| i % (CUSTOMERS + LOST) >= CUSTOMERS)
        .count()
}

/// The world served rebased with `fragility`; the rules (with `edit` applied) point at it.
async fn fragile_world(
    fragility: Fragility,
    edit: impl FnOnce(&mut rules::Rules),
) -> (ServeHandle, Arc<rules::Rules>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rules.toml"), RULES).unwrap();
    std::fs::write(dir.path().join("world.ndjson"), world()).unwrap();
    let mut rules = rules::load(&dir.path().join("rules.toml")).unwrap();
    edit(&mut rules);
    let snapshot = Snapshot::load(&dir.path().join("world.ndjson")).unwrap();
    let opts = ServeOptions {
        rebase: true,
        fragility,
        ..ServeOptions::default()
    };
    let handle = serve::serve(&rules, Arc::new(snapshot), opts)
        .await
        .unwrap();
    let served = Arc::new(handle.rules().clone());
    (handle, served, dir)
}

fn load(latency_ms: Option<u64>, capacity: Option<usize>) -> Load {
    Load {
        latency: latency_ms.map(Duration::from_millis),
        capacity,
        slow_under_load: None,
    }
}

fn report(c: Crawled, rules: &rules::Rules) -> Report {
    let planned = plan::plan(c.analysis, &c.graph, rules, None);
    Report::new(&planned, &rules.path, &Origin::Crawl)
}

fn assert_true_world(c: &Crawled) {
    assert_eq!(c.count(BrokenLink), broken_links(), "broken links");
    assert_eq!(c.count(Unresolved), 0, "nothing left unresolved");
    assert_eq!(c.count(Orphan), 0);
}

#[tokio::test]
async fn a_service_is_never_sent_more_than_its_configured_concurrency() {
    for adaptive in [true, false] {
        let fragility = Fragility {
            all: load(Some(2), Some(3)),
            ..Fragility::default()
        };
        let (h, rules, _dir) = fragile_world(fragility, |r| {
            r.services.iter_mut().for_each(|s| s.concurrency = Some(3))
        })
        .await;
        let opts = CrawlOptions {
            adaptive,
            ..fast(0)
        };
        let c = crawl_live(&rules, LiveOptions::default(), opts).await;
        assert_eq!(h.refused_over_capacity(), 0, "adaptive {adaptive}");
        assert_true_world(&c);
        let report = report(c, &rules);
        for s in &report.services {
            let limit = s
                .concurrency_limit
                .expect("a live crawl reports its limits");
            assert!(limit <= 3, "{}: {limit}", s.name);
            if !adaptive {
                assert_eq!(limit, 3, "a fixed limit is the configured one");
            }
        }
        h.shutdown().await;
    }
}

#[tokio::test]
async fn a_saturated_service_is_backed_off_and_the_true_world_still_found() {
    // Customers take 2 requests at once and answer in 20 ms; orders are unlimited.
    let fragility = Fragility {
        per_service: [("customers".to_string(), load(Some(20), Some(2)))].into(),
        ..Fragility::default()
    };
    let mut refused = Vec::new();
    for adaptive in [true, false] {
        let (h, rules, _dir) = fragile_world(fragility.clone(), |_| {}).await;
        // Backoff about a round trip of the service: with 1 ms a retry would find the same
        // requests still in flight and be refused again.
        let opts = CrawlOptions {
            adaptive,
            retry: RetryPolicy {
                retries: 12,
                base: Duration::from_millis(25),
                max_backoff: Duration::from_millis(200),
                ..RetryPolicy::default()
            },
            ..fast(0)
        };
        let c = crawl_live(&rules, LiveOptions::default(), opts).await;
        refused.push(h.refused_over_capacity());
        if adaptive {
            // Fixed, a URL may be refused more often than it is retried: not so adaptive.
            assert_true_world(&c);
            let report = report(c, &rules);
            let customers = &report.services[0];
            assert_eq!(customers.name, "customers");
            assert!(customers.latency_p50_ms.unwrap() >= 16.0, "{customers:?}");
        }
        h.shutdown().await;
    }
    // Fixed at 64, each burst to customers is refused but for 2; adaptive cuts its limit on
    // the first 503s and stays near what the service takes.
    assert!(
        refused[0] * 4 < refused[1],
        "refused: adaptive {}, fixed {}",
        refused[0],
        refused[1]
    );
}

#[tokio::test]
async fn the_report_shows_each_services_limit_and_latency_which_a_snapshot_has_not() {
    let fragility = Fragility {
        all: load(Some(10), None),
        per_service: [("orders".to_string(), load(Some(30), None))].into(),
    };
    let (h, rules, dir) = fragile_world(fragility, |_| {}).await;
    let c = crawl_live(&rules, LiveOptions::default(), fast(0)).await;
    let report = report(c, &rules);
    let [customers, orders] = &report.services[..] else {
        panic!("two services: {:?}", report.services)
    };
    // A served delay is a floor: 10 ms and 30 ms less the 20 % jitter.
    assert!(customers.latency_p50_ms.unwrap() >= 8.0, "{customers:?}");
    assert!(orders.latency_p50_ms.unwrap() >= 24.0, "{orders:?}");
    for s in [customers, orders] {
        assert!(s.latency_p99_ms >= s.latency_p50_ms, "{s:?}");
        assert!(s.concurrency_limit.unwrap() >= 1);
    }
    h.shutdown().await;

    // An offline audit has no load to show.
    let out = assert_cmd::Command::cargo_bin("bacaudit")
        .unwrap()
        .args(["audit", "--format", "json", "--rules"])
        .arg(dir.path().join("rules.toml"))
        .arg("--snapshot")
        .arg(dir.path().join("world.ndjson"))
        .output()
        .unwrap();
    let audited: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for s in audited["services"].as_array().unwrap() {
        assert!(s.get("concurrency_limit").is_none(), "{s}");
        assert!(s.get("latency_p50_ms").is_none(), "{s}");
    }
}

#[test]
fn bad_fragility_options_name_the_option_and_the_service() {
    let run = |args: &[&str]| {
        let out = assert_cmd::Command::cargo_bin("bacaudit")
            .unwrap()
            .args(["serve", "--rules", "rules/shop.toml"])
            .args(["--snapshot", "fixtures/shop/shop.ndjson"])
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = run(&["--capacity", "orders=0"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("--capacity `orders=0`"), "{err}");
    let (code, err) = run(&["--latency", "payments=5"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("no service `payments`"), "{err}");
    let (code, err) = run(&["--slow-under-load=-3"]);
    assert_eq!(code, Some(2), "{err}");
}
