//! `bacaudit init`: rules proposed from a snapshot and from live services (a fixture served by
//! `serve`, rebased on ephemeral ports), loaded by the real rules loader, and audits with them
//! that find what the hand-written rules find. Bad inputs exit 2 naming the file or URL.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use predicates::prelude::*;

use bacaudit::rules::{self, Selector};
use bacaudit::serve::{self, ServeOptions};
use bacaudit::source::Snapshot;

const BOUND: Duration = Duration::from_secs(120);

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn bin() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("bacaudit").unwrap();
    c.timeout(BOUND);
    c
}

/// `init --snapshot SNAP --out OUT`: the proposed rules' text.
fn init_snapshot(snapshot: &Path, out: &Path) -> String {
    bin()
        .args(["init", "-q", "--snapshot"])
        .arg(snapshot)
        .arg("--out")
        .arg(out)
        .assert()
        .code(0);
    std::fs::read_to_string(out).unwrap()
}

/// The finding ids of an audit (a hash of kind, source or resource, pointer and target).
fn finding_ids(rules: &Path, snapshot: &Path, dir: &Path) -> BTreeSet<String> {
    let report = dir.join(format!(
        "{}-{}.json",
        rules.file_stem().unwrap().to_string_lossy(),
        snapshot.file_stem().unwrap().to_string_lossy()
    ));
    bin()
        .args(["audit", "-q", "--fail-on", "none", "--rules"])
        .arg(rules)
        .arg("--snapshot")
        .arg(snapshot)
        .arg("--report")
        .arg(&report)
        .assert()
        // 3: some links unresolved (the shop's recorded 503s), the audit inconclusive.
        .code(predicates::ord::eq(0).or(predicates::ord::eq(3)));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect()
}

/// (kind, selector, target kind) of every declared link.
fn links(r: &rules::Rules) -> BTreeSet<(String, String, String)> {
    r.links
        .iter()
        .map(|l| {
            let sel = match &l.selector {
                Selector::Pointer(p) => p.source.clone(),
                Selector::Rel(r) => format!("rel:{r}"),
            };
            (r.kind(l.kind).name.clone(), sel, r.kind(l.to).name.clone())
        })
        .collect()
}

#[test]
fn bac_talk_from_a_snapshot_names_the_kinds_collections_and_the_id_link() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("proposed.toml");
    let text = init_snapshot(
        &root().join("fixtures/bac-talk/synchronized-backup.ndjson"),
        &out,
    );
    let r = rules::load(&out).expect("the proposal loads");
    let kinds: Vec<(&str, String, Option<&str>)> = r
        .kinds
        .iter()
        .map(|k| {
            (
                k.name.as_str(),
                format!("{}{{id}}{}", k.path.prefix, k.path.suffix),
                k.collection.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("customer", "/customers/{id}".into(), Some("/customers")),
            ("order", "/orders/{id}".into(), Some("/orders")),
        ]
    );
    assert_eq!(
        links(&r),
        BTreeSet::from([("order".into(), "/customer_id".into(), "customer".into())])
    );
    // Evidence in comments, the tie the name broke said so, compensations left to a person.
    assert!(
        text.contains("3 of 3 order items hold `/customer_id`"),
        "{text}"
    );
    assert!(text.contains("the name `customer_id` decides"), "{text}");
    assert!(text.contains("on_broken = \"manual\""), "{text}");
}

/// Rules inferred from the world before the disaster find, on the broken world, exactly what
/// the hand-written rules find (broken links, orphans and unresolved links alike).
#[test]
fn inferred_rules_audit_like_the_hand_written_ones() {
    let dir = tempfile::tempdir().unwrap();
    let worlds: [(&str, &str, &[&str]); 3] = [
        (
            "rules/bac-talk.toml",
            "fixtures/bac-talk/synchronized-backup.ndjson",
            &[
                "fixtures/bac-talk/independent-backup.ndjson",
                "fixtures/bac-talk/orphan-state.ndjson",
            ],
        ),
        (
            "rules/bac-talk-restore.toml",
            "fixtures/bac-talk-restore/before.ndjson",
            &[
                "fixtures/bac-talk-restore/independent-backup.ndjson",
                "fixtures/bac-talk-restore/orphan-state.ndjson",
            ],
        ),
        (
            "rules/shop.toml",
            "fixtures/shop-restore/before.ndjson",
            &["fixtures/shop/shop.ndjson"],
        ),
    ];
    for (i, (hand, before, broken)) in worlds.iter().enumerate() {
        let inferred = dir.path().join(format!("inferred-{i}.toml"));
        init_snapshot(&root().join(before), &inferred);
        for snap in *broken {
            let want = finding_ids(&root().join(hand), &root().join(snap), dir.path());
            let got = finding_ids(&inferred, &root().join(snap), dir.path());
            assert!(!want.is_empty(), "{snap}");
            assert_eq!(got, want, "{snap} with rules inferred from {before}");
        }
    }
}

/// Live: the BAC talk world served on ephemeral ports, crawled from two `--service` seeds.
/// The first crawl only sees the bare list pages; the second follows the proposed
/// `collection`s to the items. The result, moved back to the recorded origins, audits the
/// broken worlds like the hand-written rules.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_from_served_services() {
    let hand = root().join("rules/bac-talk.toml");
    let served_rules = rules::load(&hand).unwrap();
    let snapshot = Arc::new(
        Snapshot::load(&root().join("fixtures/bac-talk/synchronized-backup.ndjson")).unwrap(),
    );
    let handle = serve::serve(
        &served_rules,
        snapshot,
        ServeOptions {
            rebase: true,
            ..ServeOptions::default()
        },
    )
    .await
    .unwrap();
    let bases: Vec<(String, String)> = handle
        .rules()
        .services
        .iter()
        .map(|s| (s.name.clone(), s.base_url.to_string()))
        .collect();
    let inverse = handle.origins().inverse();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("live.toml");
    let args: Vec<String> = bases
        .iter()
        .flat_map(|(name, base)| ["--service".to_string(), format!("{name}={base}{name}")])
        .collect();
    let out2 = out.clone();
    tokio::task::spawn_blocking(move || {
        bin()
            .args(["init", "-q", "--timeout", "5", "--out"])
            .arg(&out2)
            .args(&args)
            .assert()
            .code(0);
    })
    .await
    .unwrap();
    handle.shutdown().await;

    let text = std::fs::read_to_string(&out).unwrap();
    let live = rules::load(&out).expect("the proposal loads");
    assert_eq!(links(&live), links(&rules::load(&hand).unwrap()), "{text}");
    assert!(live.kinds.iter().all(|k| k.collection.is_some()), "{text}");
    let recorded = dir.path().join("recorded.toml");
    std::fs::write(&recorded, inverse.rules_toml(&text).unwrap()).unwrap();
    for snap in [
        "fixtures/bac-talk/independent-backup.ndjson",
        "fixtures/bac-talk/orphan-state.ndjson",
    ] {
        assert_eq!(
            finding_ids(&recorded, &root().join(snap), dir.path()),
            finding_ids(&hand, &root().join(snap), dir.path()),
            "{snap}"
        );
    }
}

#[test]
fn an_existing_file_is_kept_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rules.toml");
    std::fs::write(&out, "# mine\n").unwrap();
    let snap = root().join("fixtures/bac-talk/synchronized-backup.ndjson");
    bin()
        .args(["init", "--snapshot"])
        .arg(&snap)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("already exists; pass --force"));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "# mine\n");
    bin()
        .args(["init", "-q", "--force", "--snapshot"])
        .arg(&snap)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(0);
    rules::load(&out).expect("overwritten with rules that load");
}

#[test]
fn bad_inputs_exit_2_naming_the_file_or_url() {
    let dir = tempfile::tempdir().unwrap();
    // A snapshot line that is not JSON: the file and line.
    let bad = dir.path().join("bad.ndjson");
    std::fs::write(
        &bad,
        "{\"url\":\"http://127.0.0.1:1/a\",\"status\":200}\nnot json\n",
    )
    .unwrap();
    bin()
        .args(["init", "--snapshot"])
        .arg(&bad)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("bad.ndjson:2"));
    // A snapshot with nothing to learn from.
    let empty = dir.path().join("empty.ndjson");
    std::fs::write(
        &empty,
        "{\"url\":\"http://127.0.0.1:1/a\",\"status\":404}\n",
    )
    .unwrap();
    bin()
        .args(["init", "--snapshot"])
        .arg(&empty)
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "empty.ndjson: no answered JSON resource",
        ));
    // A partial rules file with a mistake: its file, line and key.
    let partial = dir.path().join("partial.toml");
    std::fs::write(&partial, "[services.a]\nbase_url = \"ftp://x/\"\n").unwrap();
    bin()
        .args(["init", "--rules"])
        .arg(&partial)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("partial.toml:2"));
    // --service without NAME=.
    bin()
        .args(["init", "--service", "http://127.0.0.1:1/a"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("expected NAME=URL"));
    // Nothing to read at all.
    bin()
        .arg("init")
        .assert()
        .code(2)
        .stderr(predicates::str::contains("init needs evidence"));
    // An unreachable service: its name and URL.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    bin()
        .args([
            "init",
            "-q",
            "--retries",
            "0",
            "--timeout",
            "2",
            "--service",
        ])
        .arg(format!("customers=http://127.0.0.1:{port}/customers"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains(format!(
            "service `customers` at http://127.0.0.1:{port}/ did not answer"
        )));
}

/// A partial rules file names the services (and keeps their other keys); the snapshot gives
/// the evidence.
#[test]
fn a_partial_rules_file_names_the_services() {
    let dir = tempfile::tempdir().unwrap();
    let partial = dir.path().join("partial.toml");
    std::fs::write(
        &partial,
        "[services.crm]\nbase_url = \"http://127.0.0.1:8081/\"\nseeds = [\"/customers\"]\n\
         concurrency = 4\n\n[services.shop]\nbase_url = \"http://127.0.0.1:8082/\"\n\
         seeds = [\"/orders\"]\n",
    )
    .unwrap();
    let out = dir.path().join("r.toml");
    bin()
        .args(["init", "-q", "--rules"])
        .arg(&partial)
        .arg("--snapshot")
        .arg(root().join("fixtures/bac-talk/synchronized-backup.ndjson"))
        .arg("--out")
        .arg(&out)
        .assert()
        .code(0);
    let r = rules::load(&out).unwrap();
    let services: Vec<(&str, Option<usize>)> = r
        .services
        .iter()
        .map(|s| (s.name.as_str(), s.concurrency))
        .collect();
    assert_eq!(services, [("crm", Some(4)), ("shop", None)]);
    assert_eq!(r.kind(r.links[0].to).name, "customer");
}

/// An OpenAPI spec beside the data: the kind and the link the data shows are confirmed in
/// their comments; what only the spec says is written commented out. A malformed spec exits 2
/// naming the file and line.
#[test]
fn openapi_specs_confirm_or_stay_commented_out() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.toml");
    let spec = root().join("tests/fixtures/openapi/orders.yaml");
    bin()
        .args(["init", "-q", "--snapshot"])
        .arg(root().join("fixtures/bac-talk/synchronized-backup.ndjson"))
        .arg("--openapi")
        .arg(format!("orders={}", spec.display()))
        .arg("--out")
        .arg(&out)
        .assert()
        .code(0);
    let text = std::fs::read_to_string(&out).unwrap();
    let r = rules::load(&out).unwrap();
    assert_eq!(
        links(&r),
        BTreeSet::from([("order".into(), "/customer_id".into(), "customer".into())]),
        "{text}"
    );
    // Comments as one text (they are wrapped where the temporary path makes them long).
    let text = text.replace("\n# #  ", " ").replace("\n#  ", " ");
    assert!(text.contains("declares `GET /orders/{id}` too"), "{text}");
    assert!(text.contains("orders.yaml agrees"), "{text}");
    assert!(text.contains("# [kinds.order.links.coupon]"), "{text}");
    assert!(text.contains("no value in the sample shows it"), "{text}");

    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "openapi: 3.0.0\npaths: {\n  /a: [\n").unwrap();
    bin()
        .args(["init", "--snapshot"])
        .arg(root().join("fixtures/bac-talk/synchronized-backup.ndjson"))
        .arg("--openapi")
        .arg(format!("orders={}", bad.display()))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("bad.yaml: not YAML"))
        .stderr(predicates::str::contains("line"));
    let swagger = dir.path().join("swagger.json");
    std::fs::write(&swagger, r#"{"swagger":"2.0","paths":{}}"#).unwrap();
    bin()
        .args(["init", "--snapshot"])
        .arg(root().join("fixtures/bac-talk/synchronized-backup.ndjson"))
        .arg("--openapi")
        .arg(format!("nope={}", swagger.display()))
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "swagger.json: not an OpenAPI 3 document",
        ));
}
