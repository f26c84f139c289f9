//! Aliases: the shop's data written with production host names (a restore drill's data),
//! served on loopback, crawled with `aliases`: the shop's findings, with the same ids in two
//! environments, and a recording that `audit` replays with the same findings.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bacaudit::commands::pipeline::{self as run, CommonOptions, RunOutput};
use bacaudit::crawl::{Quiet, Stop};
use bacaudit::model::{Report, ReportFinding};
use bacaudit::serve::{self, OriginMap, ServeOptions};
use bacaudit::source::{LiveOptions, Snapshot};

/// The shop's recorded origins and the production names its data is rewritten to.
const HOSTS: [(&str, &str); 4] = [
    (
        "http://127.0.0.1:8081",
        "https://customers.prod.example.com",
    ),
    ("http://127.0.0.1:8082", "https://products.prod.example.com"),
    (
        "http://127.0.0.1:8083",
        "https://shipments.prod.example.com",
    ),
    ("http://127.0.0.1:8084", "https://orders.prod.example.com"),
];

fn manifest(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn to_prod() -> OriginMap {
    OriginMap::new(
        HOSTS
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
    )
}

/// The alias world in `dir`: the shop's snapshot with every URL (lines and bodies) under its
/// production name, and the shop's rules with each service's production name as an alias.
fn alias_world(dir: &Path) -> (PathBuf, PathBuf) {
    let snapshot = std::fs::read_to_string(manifest("fixtures/shop/shop.ndjson")).unwrap();
    let prod = to_prod().apply(&snapshot).into_owned();
    assert!(!prod.contains("127.0.0.1:808"), "every shop URL moved");
    let snap_file = dir.join("prod.ndjson");
    std::fs::write(&snap_file, prod).unwrap();

    let mut rules = std::fs::read_to_string(manifest("rules/shop.toml")).unwrap();
    for (local, prod) in HOSTS {
        let base = format!("base_url = \"{local}/\"");
        assert!(rules.contains(&base));
        rules = rules.replace(&base, &format!("{base}\naliases = [\"{prod}/\"]"));
    }
    let rules_file = dir.join("alias.toml");
    std::fs::write(&rules_file, rules).unwrap();
    (rules_file, snap_file)
}

/// One environment: the alias world served on fresh loopback ports and crawled there (its
/// rules file moved to those ports, aliases kept), recorded to `record`.
async fn crawl_environment(
    rules_file: &Path,
    snap_file: &Path,
    dir: &Path,
    record: &Path,
) -> (RunOutput, OriginMap, PathBuf) {
    let rules = bacaudit::rules::load(rules_file).unwrap();
    let snap = Arc::new(Snapshot::load(snap_file).unwrap());
    let opts = ServeOptions {
        rebase: true,
        ..ServeOptions::default()
    };
    let h = serve::serve(&rules, snap, opts).await.unwrap();
    let text = std::fs::read_to_string(rules_file).unwrap();
    let served_rules = dir.join(format!("served-{}.toml", h.services()[0].addr.port()));
    std::fs::write(&served_rules, h.origins().rules_toml(&text).unwrap()).unwrap();
    let live = LiveOptions {
        timeout: Duration::from_secs(2),
        ..LiveOptions::default()
    };
    let crawled = tokio::time::timeout(
        Duration::from_secs(120),
        run::crawl(
            &CommonOptions::new(&served_rules),
            live,
            Some(record),
            Arc::new(Quiet),
            Stop::never(),
        ),
    )
    .await
    .expect("the crawl ends")
    .unwrap();
    let to_recorded = h.origins().inverse();
    h.shutdown().await;
    (crawled, to_recorded, served_rules)
}

/// Findings as (id, the rest in the shop's recorded URLs, without `fetched` and a timeout's
/// `detail`).
fn comparable(report: &Report, maps: &[&OriginMap]) -> Vec<serde_json::Value> {
    let mut text = serde_json::to_string(&report.findings).unwrap();
    for m in maps {
        text = m.apply(&text).into_owned();
    }
    let mut findings: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    for f in &mut findings {
        let f = f.as_object_mut().unwrap();
        f.remove("id");
        f.remove("fetched");
        if f.get("reason").and_then(|r| r.as_str()) == Some("timeout") {
            f.remove("detail");
        }
    }
    findings.sort_by_key(|f| f.to_string());
    findings
}

/// Every finding's id, sorted.
fn ids(report: &Report) -> Vec<String> {
    let mut out: Vec<String> = report
        .findings
        .iter()
        .map(|f| match f {
            ReportFinding::Link(l) => l.id.clone(),
            ReportFinding::Orphan(o) => o.id.clone(),
        })
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn an_alias_world_crawled_in_two_environments_finds_the_shops_findings_with_the_same_ids() {
    let audited = run::audit(
        &CommonOptions::new(manifest("rules/shop.toml")),
        &manifest("fixtures/shop/shop.ndjson"),
        Arc::new(Quiet),
        Stop::never(),
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (rules_file, snap_file) = alias_world(dir.path());
    let from_prod = to_prod().inverse();

    let rec_a = dir.path().join("a.ndjson");
    let rec_b = dir.path().join("b.ndjson");
    let (a, back_a, rules_a) = crawl_environment(&rules_file, &snap_file, dir.path(), &rec_a).await;
    let (b, back_b, _) = crawl_environment(&rules_file, &snap_file, dir.path(), &rec_b).await;
    assert_ne!(back_a, back_b, "two environments on different ports");

    // The shop's findings (8 broken links, 5 orphans, 9 unresolved), in either environment.
    let expected = comparable(&audited.report, &[]);
    assert_eq!(comparable(&a.report, &[&back_a, &from_prod]), expected);
    assert_eq!(comparable(&b.report, &[&back_b, &from_prod]), expected);
    let s = &a.report.summary;
    assert_eq!((s.broken_link, s.orphan, s.unresolved), (8, 5, 9));
    assert_eq!(s.out_of_scope, audited.report.summary.out_of_scope);
    assert_eq!(a.exit_code, audited.exit_code);

    // Targets are reported as written (production names), with the URL actually fetched.
    let mut fetched = 0;
    for f in &a.report.findings {
        if let ReportFinding::Link(l) = f {
            assert!(l.target.contains(".prod.example.com/"), "{}", l.target);
            let got = l.fetched.as_deref().expect("fetched differs from target");
            assert!(got.starts_with("http://127.0.0.1:"), "{got}");
            assert_eq!(back_a.apply(got), from_prod.apply(&l.target));
            fetched += 1;
        }
    }
    assert_eq!(fetched, 17);

    // The same ids in both environments: a baseline carries over.
    assert_eq!(ids(&a.report), ids(&b.report));
    assert_eq!(ids(&a.report).len(), 22);

    // The recording replays offline with the same findings and ids.
    let replayed = run::audit(
        &CommonOptions::new(&rules_a),
        &rec_a,
        Arc::new(Quiet),
        Stop::never(),
    )
    .await
    .unwrap();
    assert_eq!(ids(&replayed.report), ids(&a.report));
    assert_eq!(
        comparable(&replayed.report, &[&back_a, &from_prod]),
        expected
    );
}

/// A redirect to a service's alias is followed under its base URL (not out of scope), and a
/// link to it is fetched there.
#[tokio::test]
async fn a_redirect_or_link_to_an_alias_is_fetched_under_the_base_url() {
    use wiremock::matchers::path;
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let a = MockServer::start().await;
    Mock::given(path("/r"))
        .respond_with(crate::support::redirect(
            302,
            "https://a.prod.example/landing?x=1",
        ))
        .mount(&a)
        .await;
    Mock::given(path("/start"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            serde_json::json!({"next": "https://a.prod.example/gone", "elsewhere": "https://b.prod.example/x"}),
        ))
        .mount(&a)
        .await;
    Mock::given(path("/landing"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({})))
        .mount(&a)
        .await;
    let text = format!(
        "[services.a]\nbase_url = \"{}/\"\nseeds = [\"/r\", \"/start\"]\naliases = [\"https://a.prod.example/\"]\n",
        a.uri()
    );
    let rules = Arc::new(bacaudit::rules::parse(Path::new("a.toml"), &text, &|_| None).unwrap());
    let c =
        crate::support::crawl_live(&rules, LiveOptions::default(), crate::support::fast(0)).await;
    let mut paths: Vec<String> = a
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.url[url::Position::BeforePath..].to_string())
        .collect();
    paths.sort();
    assert_eq!(paths, ["/gone", "/landing?x=1", "/r", "/start"]);
    assert_eq!(c.analysis.summary.out_of_scope, 1);
    assert_eq!(c.analysis.findings.len(), 1, "{:#?}", c.analysis.findings);
    let bacaudit::analyze::FindingBody::Link(l) = &c.analysis.findings[0].body else {
        panic!("a link finding");
    };
    assert_eq!(l.target, format!("{}/gone", a.uri()));
    assert_eq!(l.written.as_deref(), Some("https://a.prod.example/gone"));
}
