//! `apply` against the servers people run, started on loopback by each test: json-server 0.17
//! (npm, `tests/jsonserver/`) and Django REST framework (`ModelViewSet` on SQLite,
//! `tests/drf/`, in `target/test-venv`), both installed by `scripts/test.sh`.
//!
//! One restored world on each: orders whose customer was lost (`set-null`), an order whose
//! product was lost (`recreate`), a payment whose order was lost (`cascade`) and two customers
//! no order references (orphans, `delete`). `apply --execute` in the service's dialect, then a
//! fresh crawl: 0 broken links, 0 orphans; a second apply sends no write. In the default
//! dialect (JSON Patch) json-server answers 200 and changes nothing — `no_effect`, exit 3 —
//! and DRF answers 415 — `failed`, exit 3, with the key to set.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use bacaudit::commands::apply::{self, ApplyOptions};
use bacaudit::commands::pipeline::{self as run, CommonOptions, RunOutput};
use bacaudit::crawl::{Quiet, RetryPolicy, Stop};
use bacaudit::source::LiveOptions;
use serde_json::{json, Value};

/// The restored world, the same on both servers.
fn world() -> Value {
    json!({
        "customers": [
            {"id": 1, "name": "Ada"}, {"id": 2, "name": "Grace"},
            {"id": 3, "name": "nobody's"}, {"id": 4, "name": "nobody's either"}
        ],
        "products": [{"id": 1, "name": "tea"}],
        "orders": [
            {"id": 1, "customer_id": 1, "product_id": 1, "total": 10.0},
            {"id": 2, "customer_id": 2, "product_id": 7, "total": 12.5},
            {"id": 142, "customer_id": 59, "product_id": 1, "total": 43.09},
            {"id": 143, "customer_id": 60, "product_id": 1, "total": 5.0}
        ],
        "payments": [
            {"id": 1, "order_id": 1, "amount": 10.0},
            {"id": 2, "order_id": 99, "amount": 3.0}
        ]
    })
}

/// The rules of the world on one server: `slash` is DRF's trailing slash.
fn rules(base: &str, slash: &str, patch: Option<&str>, create: &str) -> String {
    let patch = patch
        .map(|p| format!("patch = \"{p}\"\n"))
        .unwrap_or_default();
    let kind = |name: &str, plural: &str| {
        format!(
            "[kinds.{name}]\nservice = \"shop\"\npath = \"/{plural}/{{id}}{slash}\"\n\
             collection = \"/{plural}{slash}\"\n"
        )
    };
    format!(
        "[services.shop]\nbase_url = \"{base}/\"\n\
         seeds = [\"/customers{slash}\", \"/orders{slash}\", \"/payments{slash}\", \"/products{slash}\"]\n\
         {patch}create = \"{create}\"\n\n\
         {}must_be_referenced_by = [\"order.customer\"]\non_orphan = \"delete\"\n\n\
         {}\n{}\n\
         [kinds.order.links.customer]\npointer = \"/customer_id\"\nto = \"customer\"\non_broken = \"set-null\"\n\n\
         [kinds.order.links.product]\npointer = \"/product_id\"\nto = \"product\"\non_broken = \"recreate\"\n\n\
         {}\n\
         [kinds.payment.links.order]\npointer = \"/order_id\"\nto = \"order\"\non_broken = \"cascade\"\n",
        kind("customer", "customers"),
        kind("product", "products"),
        kind("order", "orders"),
        kind("payment", "payments"),
    )
}

/// A real server on an ephemeral loopback port, stopped (stdin closed, then killed) when
/// dropped.
struct RealServer {
    child: Child,
    base: String,
}

impl Drop for RealServer {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `program args…` in `dir`; it prints `{"port": N}` once listening.
fn start(program: &Path, args: &[&Path], dir: &Path) -> RealServer {
    let mut child = Command::new(program)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("{} starts: {e}", program.display()));
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .expect("the server says where it listens");
    let port = serde_json::from_str::<Value>(&first)
        .unwrap_or_else(|e| panic!("not a port line: {first:?}: {e}"))["port"]
        .as_u64()
        .expect("a port");
    RealServer {
        child,
        base: format!("http://127.0.0.1:{port}"),
    }
}

fn manifest(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// json-server 0.17 holding `world`; None (said loudly) only when node is absent.
#[expect(clippy::print_stderr, reason = "a skipped test says so")]
fn json_server(dir: &Path) -> Option<RealServer> {
    if Command::new("node").arg("--version").output().is_err() {
        eprintln!("SKIPPED: node is not installed, so json-server (tests/jsonserver) cannot run");
        return None;
    }
    let home = manifest("tests/jsonserver");
    assert!(
        home.join("node_modules/json-server").is_dir(),
        "tests/jsonserver/node_modules is missing: run scripts/test.sh (it runs npm ci there)"
    );
    let w = dir.join("world.json");
    std::fs::write(&w, world().to_string()).unwrap();
    Some(start(
        Path::new("node"),
        &[&home.join("server.js"), &w],
        &home,
    ))
}

/// Django REST framework holding `world` in a fresh SQLite file.
#[expect(clippy::print_stderr, reason = "a skipped test says so")]
fn drf(dir: &Path) -> Option<RealServer> {
    if Command::new("python3").arg("--version").output().is_err() {
        eprintln!("SKIPPED: python3 is not installed, so Django REST framework cannot run");
        return None;
    }
    let python = manifest("target/test-venv/bin/python");
    assert!(
        python.is_file(),
        "target/test-venv is missing: run scripts/test.sh (it installs tests/drf/requirements.txt)"
    );
    let w = dir.join("world.json");
    std::fs::write(&w, world().to_string()).unwrap();
    let db = dir.join("drf.sqlite3");
    Some(start(
        &python,
        &[&manifest("tests/drf/app.py"), &w, &db],
        &manifest("tests/drf"),
    ))
}

async fn crawl(rules: &Path, report: &Path) -> RunOutput {
    let mut opts = CommonOptions::new(rules);
    opts.reports = vec![bacaudit::report::ReportTarget::file(report).unwrap()];
    let live = LiveOptions {
        timeout: Duration::from_secs(5),
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

fn apply_opts(report: &Path, rules: &Path, journal: &Path) -> ApplyOptions {
    ApplyOptions {
        report: report.to_path_buf(),
        rules: rules.to_path_buf(),
        execute: true,
        journal: Some(journal.to_path_buf()),
        timeout: Duration::from_secs(5),
        retry: RetryPolicy {
            base: Duration::from_millis(1),
            ..RetryPolicy::default()
        },
        tls: Default::default(),
        verify_wait: None,
    }
}

fn journal(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The world's findings, the repair in the service's dialect, a fresh crawl with nothing left,
/// and a second apply that sends no write.
async fn repairs(server: &RealServer, dir: &Path, slash: &str, patch: &str) {
    let rules = dir.join(format!("rules-{patch}.toml"));
    std::fs::write(
        &rules,
        self::rules(&server.base, slash, Some(patch), "post"),
    )
    .unwrap();
    let before = dir.join(format!("before-{patch}.json"));
    let first = crawl(&rules, &before).await;
    let s = &first.report.summary;
    assert_eq!(
        (s.broken_link, s.orphan, s.unresolved),
        (4, 2, 0),
        "the restored world\n{}",
        first.stdout
    );

    let dry = apply::apply(&ApplyOptions {
        execute: false,
        ..apply_opts(&before, &rules, &dir.join("unused"))
    })
    .await
    .unwrap();
    assert!(
        dry.stdout
            .contains(&format!("POST   {}/products{slash}", server.base)),
        "{}",
        dry.stdout
    );

    let first_journal = dir.join(format!("first-{patch}.ndjson"));
    let done = apply::apply(&apply_opts(&before, &rules, &first_journal))
        .await
        .unwrap();
    assert_eq!(done.exit_code, 0, "{}\n{}", done.stdout, dry.stdout);
    let entries = journal(&first_journal);
    assert_eq!(entries.len(), 6, "{}", done.stdout);
    for e in &entries {
        assert_eq!(e["outcome"], "done", "{e}");
        assert_eq!(e["verification"]["verified"], true, "{e}");
    }

    let after = dir.join(format!("after-{patch}.json"));
    let second = crawl(&rules, &after).await;
    let s = &second.report.summary;
    assert_eq!(
        (s.broken_link, s.orphan, s.unresolved),
        (0, 0, 0),
        "{}",
        second.stdout
    );

    // A second apply of the same report, with a journal of its own: everything is re-checked
    // and found repaired, so nothing is sent.
    let again_journal = dir.join(format!("again-{patch}.ndjson"));
    let again = apply::apply(&apply_opts(&before, &rules, &again_journal))
        .await
        .unwrap();
    assert_eq!(again.exit_code, 0, "{}", again.stdout);
    for e in journal(&again_journal) {
        assert_eq!(e["outcome"], "skipped", "{e}");
        assert!(e.get("sent").is_none(), "no write: {e}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_server_is_repaired_by_merge_patch_and_post() {
    let dir = tempfile::tempdir().unwrap();
    let Some(server) = json_server(dir.path()) else {
        return;
    };
    repairs(&server, dir.path(), "", "merge-patch").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_server_is_repaired_by_read_modify_put() {
    let dir = tempfile::tempdir().unwrap();
    let Some(server) = json_server(dir.path()) else {
        return;
    };
    repairs(&server, dir.path(), "", "put").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drf_is_repaired_by_merge_patch_and_post() {
    let dir = tempfile::tempdir().unwrap();
    let Some(server) = drf(dir.path()) else {
        return;
    };
    repairs(&server, dir.path(), "/", "merge-patch").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drf_is_repaired_by_read_modify_put() {
    let dir = tempfile::tempdir().unwrap();
    let Some(server) = drf(dir.path()) else {
        return;
    };
    repairs(&server, dir.path(), "/", "put").await;
}

/// The JSON Patches of the default dialect on one server: the outcomes of the two set-null
/// operations, with the exit code and output.
async fn json_patch_outcomes(
    server: &RealServer,
    dir: &Path,
    slash: &str,
) -> (i32, String, Vec<Value>) {
    let rules = dir.join("rules.toml");
    std::fs::write(&rules, self::rules(&server.base, slash, None, "post")).unwrap();
    let report = dir.join("before.json");
    crawl(&rules, &report).await;
    let journal_path = dir.join("journal.ndjson");
    let out = apply::apply(&apply_opts(&report, &rules, &journal_path))
        .await
        .unwrap();
    let patches = journal(&journal_path)
        .into_iter()
        .filter(|e| e["method"] == "PATCH")
        .collect();
    (out.exit_code, out.stdout, patches)
}

/// The false success: json-server does not parse `application/json-patch+json`,
/// answers 200 and changes nothing. `apply` reads the order back: `no_effect`, exit 3, and a
/// rerun tries it again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_server_answering_200_to_a_json_patch_is_no_effect() {
    let dir = tempfile::tempdir().unwrap();
    let Some(server) = json_server(dir.path()) else {
        return;
    };
    let (code, stdout, patches) = json_patch_outcomes(&server, dir.path(), "").await;
    assert_eq!(code, 3, "{stdout}");
    assert_eq!(patches.len(), 2, "{stdout}");
    for e in &patches {
        assert_eq!(e["outcome"], "no_effect", "{e}");
        assert_eq!(e["status"], 200, "{e}");
        assert_eq!(e["verification"]["verified"], false, "{e}");
        let detail = e["detail"].as_str().unwrap();
        assert!(
            detail.contains("changed nothing") && detail.contains("/customer_id is still"),
            "{detail}"
        );
    }
    assert!(!stdout.contains("done     PATCH"), "{stdout}");
    assert!(stdout.contains("no_effect PATCH"), "{stdout}");
}

/// DRF has no JSON Patch parser: 415, `failed`, with the rules key that fixes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drf_refusing_a_json_patch_says_which_key_to_set() {
    let dir = tempfile::tempdir().unwrap();
    let Some(server) = drf(dir.path()) else {
        return;
    };
    let (code, stdout, patches) = json_patch_outcomes(&server, dir.path(), "/").await;
    assert_eq!(code, 3, "{stdout}");
    assert_eq!(patches.len(), 2, "{stdout}");
    for e in &patches {
        assert_eq!(e["outcome"], "failed", "{e}");
        assert_eq!(e["status"], 415, "{e}");
        assert!(
            e["detail"]
                .as_str()
                .unwrap()
                .contains("set `patch = \"merge-patch\"`"),
            "{e}"
        );
    }
}
