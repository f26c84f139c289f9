//! Interrupted runs: a `--record`ing crawl killed with SIGKILL leaves only complete lines (and
//! at most a cut last line, which `audit` ignores with a warning); `crawl --resume` continues
//! it without refetching what it holds, appends the rest, and ends with the findings of an
//! uninterrupted crawl; a redirected answer replays from the URL it came from; a report that
//! cannot be written leaves no file behind.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bacaudit::commands::pipeline::{self as run, CommonOptions};
use bacaudit::crawl::{CrawlOptions, FetchEvent, Observer, Quiet, Stop};
use bacaudit::record::Recorder;
use bacaudit::source::{LiveOptions, ResumeSource, Snapshot, SnapshotSource};
use serde_json::{json, Value};

use crate::support::world::{Reply, Req, World};
use crate::support::{answer, crawl_live_with, crawl_with, fast, url, RulesBuilder, Scripted};

// ---------------------------------------------------------------------------------------------
// The world: orders and customers on two loopback servers

/// Orders 1-18 and 20 point at customers `id % 11 + 1` (1-11); customer 7 is gone, customer
/// 12 is referenced by no order (an orphan). Order 20 is listed at a legacy URL that redirects
/// to it, and its body links the missing order `../o/99` relatively. Customer 1 links a resource that always
/// answers 503. Lists are paginated.
fn orders(req: &Req) -> Reply {
    let b = &req.base;
    if let Some(page) = req.target.strip_prefix("/orders?page=") {
        let page: u64 = page.parse().unwrap_or(0);
        let ids: Vec<u64> = (1..=20)
            .filter(|i| *i != 19 && (i - 1) / 5 + 1 == page)
            .collect();
        let results: Vec<Value> = ids
            .iter()
            .map(|i| match i {
                20 => json!({"url": format!("{b}/legacy/orders/20")}),
                i => json!({"url": format!("{b}/o/{i}")}),
            })
            .collect();
        let mut body = json!({ "results": results });
        if page < 4 {
            body["next"] = json!(format!("{b}/orders?page={}", page + 1));
        }
        return Reply::json(&body);
    }
    if req.target == "/legacy/orders/20" {
        return Reply::redirect(301, "/o/20");
    }
    match req
        .target
        .strip_prefix("/o/")
        .and_then(|i| i.parse::<u64>().ok())
    {
        Some(i @ (1..=18 | 20)) => {
            let mut body = json!({"id": i, "customer_id": i % 11 + 1});
            if i == 20 {
                body["_links"] =
                    json!({"self": {"href": "/o/20"}, "previous": {"href": "../o/99"}});
            }
            Reply::json(&body)
        }
        _ => Reply::status(404),
    }
}

fn customers(req: &Req) -> Reply {
    let b = &req.base;
    if let Some(page) = req.target.strip_prefix("/customers?page=") {
        let page: u64 = page.parse().unwrap_or(0);
        let items: Vec<Value> = (1..=12)
            .filter(|i| *i != 7 && (i - 1) / 4 + 1 == page)
            .map(|i| json!({"_links": {"self": {"href": format!("{b}/c/{i}")}}}))
            .collect();
        let mut body = json!({"_embedded": {"customers": items}});
        if page < 3 {
            body["_links"] = json!({"next": {"href": format!("{b}/customers?page={}", page + 1)}});
        }
        return Reply::json(&body);
    }
    if req.target == "/flaky" {
        return Reply::status(503);
    }
    match req
        .target
        .strip_prefix("/c/")
        .and_then(|i| i.parse::<u64>().ok())
    {
        Some(i @ 1..=12) if i != 7 => {
            let mut body = json!({"id": i, "_links": {"self": {"href": format!("{b}/c/{i}")}}});
            if i == 1 {
                body["_links"]["extra"] = json!({"href": "/flaky"});
            }
            Reply::json(&body)
        }
        _ => Reply::status(404),
    }
}

struct Shop {
    orders: World,
    customers: World,
    dir: tempfile::TempDir,
    rules: PathBuf,
}

impl Shop {
    async fn start(delay: Duration) -> Shop {
        let orders = World::start_slow(delay, orders).await;
        let customers = World::start_slow(delay, customers).await;
        let dir = tempfile::tempdir().unwrap();
        let rules = dir.path().join("shop.toml");
        std::fs::write(
            &rules,
            format!(
                r#"[services.customers]
base_url = "{}/"
seeds = ["/customers?page=1"]

[services.orders]
base_url = "{}/"
seeds = ["/orders?page=1"]

[kinds.customer]
service = "customers"
path = "/c/{{id}}"
must_be_referenced_by = ["order.customer"]
on_orphan = "delete"

[kinds.order]
service = "orders"
path = "/o/{{id}}"

[kinds.order.links.customer]
pointer = "/customer_id"
to = "customer"
on_broken = "cascade"
"#,
                customers.uri, orders.uri
            ),
        )
        .unwrap();
        Shop {
            orders,
            customers,
            dir,
            rules,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Requests received per absolute URL, over both worlds.
    fn hits(&self) -> std::collections::HashMap<String, usize> {
        let mut m = std::collections::HashMap::new();
        for w in [&self.orders, &self.customers] {
            for (t, n) in w.hits() {
                m.insert(format!("{}{t}", w.uri), n);
            }
        }
        m
    }

    fn crawl_cmd(&self, extra: &[&str]) -> std::process::Command {
        let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("bacaudit"));
        c.arg("crawl")
            .arg("--rules")
            .arg(&self.rules)
            .args([
                "--concurrency",
                "2",
                "--retries",
                "1",
                "-q",
                "--format",
                "json",
            ])
            .args(extra)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        c
    }

    /// Runs `bacaudit crawl` to its end; returns the exit code and the JSON report.
    async fn crawl(&self, extra: &[&str], report: &Path) -> (i32, Value) {
        let mut cmd = self.crawl_cmd(extra);
        cmd.arg("--report").arg(report);
        let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
            .await
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!stderr.contains("panicked"), "{stderr}");
        let report: Value = serde_json::from_slice(&std::fs::read(report).unwrap_or_else(|e| {
            panic!("no report: {e}; stderr:\n{stderr}");
        }))
        .unwrap();
        (out.status.code().expect("exited"), report)
    }

    /// Starts `bacaudit crawl` with `extra`, waits until `recording` holds at least `lines`
    /// complete lines, and kills it (SIGKILL). Returns whether it was still running then.
    async fn kill_after(&self, extra: &[&str], recording: &Path, lines: usize) -> bool {
        let mut child = self.crawl_cmd(extra).spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let written = std::fs::read(recording)
                .map(|b| b.iter().filter(|&&c| c == b'\n').count())
                .unwrap_or(0);
            if written >= lines {
                break;
            }
            if child.try_wait().unwrap().is_some() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "no {lines} lines written in 30 s"
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let running = child.try_wait().unwrap().is_none();
        child.kill().unwrap();
        child.wait().unwrap();
        running
    }
}

/// What must not move between an interrupted-then-resumed crawl and an uninterrupted one
/// (the services' measured latencies and limits are about the run).
fn essentials(report: &Value) -> Value {
    let report = crate::support::without_run_fields(report);
    json!({
        "complete": report["complete"],
        "summary": report["summary"],
        "services": report["services"],
        "warnings": report["warnings"],
        "findings": report["findings"],
    })
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

/// Every complete line of a recording is a valid snapshot line, and only the last may be cut.
fn assert_loadable(path: &Path) -> Snapshot {
    let snap = Snapshot::load(path).unwrap_or_else(|e| panic!("{e}"));
    let bytes = std::fs::read(path).unwrap();
    match snap.cut.as_slice() {
        [] => {}
        [cut] => assert!(!bytes[cut.offset..].contains(&b'\n'), "only the last line"),
        more => panic!("{more:?}"),
    }
    snap
}

// ---------------------------------------------------------------------------------------------
// SIGKILL, then --resume

/// The uninterrupted crawl, then for each kill point: a crawl killed after N lines, resumed
/// to the end (the middle one killed again while resuming, and resumed again). Every resumed
/// run ends with the uninterrupted run's report, requested nothing its recording held, and
/// leaves a recording that audits to the same findings.
#[tokio::test]
async fn a_killed_crawl_resumes_to_the_findings_of_an_uninterrupted_one() {
    let shop = Shop::start(Duration::from_millis(20)).await;
    let full = shop.path("full.ndjson");
    let (code, baseline) = shop
        .crawl(
            &["--record", full.to_str().unwrap()],
            &shop.path("full.json"),
        )
        .await;
    assert_eq!(code, 1);
    let total = lines(&full).len();
    let summary = &baseline["summary"];
    assert_eq!(
        (
            &summary["broken_link"],
            &summary["orphan"],
            &summary["unresolved"]
        ),
        (&json!(3), &json!(1), &json!(1)),
        "{:#}",
        baseline["findings"]
    );
    let targets: Vec<&str> = baseline["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["target"].as_str())
        .collect();
    assert!(
        targets.contains(&shop.orders.url("/o/99").as_str()),
        "{targets:?}"
    );

    for (k, kill_at) in [1, total / 3, 2 * total / 3].into_iter().enumerate() {
        let rec = shop.path(&format!("killed-{k}.ndjson"));
        let rec_arg = rec.to_str().unwrap();
        assert!(
            shop.kill_after(&["--record", rec_arg], &rec, kill_at).await,
            "the crawl ended before it could be killed"
        );
        let held = assert_loadable(&rec);
        assert!(held.entries.len() < total, "killed before the end");
        if k == 1 {
            // Killed again while resuming: the recording still only grows by whole lines.
            let before = held.entries.len();
            if shop
                .kill_after(&["--resume", rec_arg], &rec, lines(&rec).len() + 3)
                .await
            {
                let again = assert_loadable(&rec);
                assert!(again.entries.len() >= before);
            }
        }
        let held = assert_loadable(&rec);
        let hits_before = shop.hits();
        let report = shop.path(&format!("resumed-{k}.json"));
        let (code, resumed) = shop.crawl(&["--resume", rec_arg], &report).await;
        assert_eq!(code, 1);
        assert_eq!(
            essentials(&resumed),
            essentials(&baseline),
            "kill point {kill_at}"
        );
        let hits_after = shop.hits();
        for u in held.entries.keys() {
            assert_eq!(
                hits_after.get(u),
                hits_before.get(u),
                "{u} is in the recording and was requested again"
            );
        }
        // The recording is now whole: every URL once or more, no cut line, and it audits
        // to the same findings.
        let done = assert_loadable(&rec);
        assert!(done.cut.is_empty());
        let mut want: Vec<String> = Snapshot::load(&full).unwrap().entries.into_keys().collect();
        let mut got: Vec<String> = done.entries.into_keys().collect();
        want.sort();
        got.sort();
        assert_eq!(got, want);
        let audited = shop.path(&format!("audited-{k}.json"));
        let out = assert_cmd::Command::cargo_bin("bacaudit")
            .unwrap()
            .arg("audit")
            .arg("--rules")
            .arg(&shop.rules)
            .arg("--snapshot")
            .arg(&rec)
            .arg("--report")
            .arg(&audited)
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        let audited: Value = serde_json::from_slice(&std::fs::read(&audited).unwrap()).unwrap();
        let ids = |r: &Value| -> Vec<Value> {
            r["findings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["id"].clone())
                .collect()
        };
        assert_eq!(ids(&audited), ids(&baseline));
    }
}

/// A recording cut at any byte (a crash mid-write): loading ignores a cut last line with a
/// warning, `audit` does not fail on it, and resuming cuts it off and ends like the
/// uninterrupted crawl.
#[tokio::test]
async fn a_recording_cut_at_any_byte_resumes() {
    let shop = Shop::start(Duration::ZERO).await;
    let full = shop.path("full.ndjson");
    let opts = CommonOptions {
        crawl: CrawlOptions {
            concurrency: 2,
            ..fast(1)
        },
        ..CommonOptions::new(&shop.rules)
    };
    let baseline = run::crawl(
        &opts,
        LiveOptions::default(),
        Some(&full),
        Arc::new(Quiet),
        Stop::never(),
    )
    .await
    .unwrap();
    let bytes = std::fs::read(&full).unwrap();
    let ends: Vec<usize> = bytes
        .iter()
        .enumerate()
        .filter(|(_, &b)| b == b'\n')
        .map(|(i, _)| i + 1)
        .collect();
    let cuts = [
        0,
        5,
        ends[0],
        ends[2] - 1,
        ends[4] + 17,
        ends[ends.len() / 2] + 1,
        bytes.len() - 2,
        bytes.len() - 1,
    ];
    for cut in cuts {
        let path = shop.path(&format!("cut-{cut}.ndjson"));
        std::fs::write(&path, &bytes[..cut]).unwrap();
        let mid_line = cut > 0 && bytes[cut - 1] != b'\n' && !ends.contains(&(cut + 1));
        let out = assert_cmd::Command::cargo_bin("bacaudit")
            .unwrap()
            .arg("audit")
            .arg("--rules")
            .arg(&shop.rules)
            .arg("--snapshot")
            .arg(&path)
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        if cut > 0 {
            assert_ne!(out.status.code(), Some(2), "cut at {cut}: {stderr}");
        }
        assert_eq!(
            stderr.contains("cut short"),
            mid_line,
            "cut at {cut}: {stderr}"
        );

        let resumed = run::resume(
            &opts,
            LiveOptions::default(),
            &path,
            Arc::new(Quiet),
            Stop::never(),
        )
        .await
        .unwrap();
        assert_eq!(resumed.exit_code, baseline.exit_code);
        assert_eq!(
            resumed.report.findings, baseline.report.findings,
            "cut at {cut}"
        );
        assert_eq!(
            resumed.report.summary, baseline.report.summary,
            "cut at {cut}"
        );
        let done = assert_loadable(&path);
        assert!(done.cut.is_empty());
        assert_eq!(
            done.entries.len(),
            Snapshot::load(&full).unwrap().entries.len()
        );
        assert!(std::fs::read(&path).unwrap().ends_with(b"\n"));
    }
}

/// A missing recording starts an empty one; a folder is refused.
#[tokio::test]
async fn resume_from_nothing_records_everything_and_a_folder_is_refused() {
    let shop = Shop::start(Duration::ZERO).await;
    let opts = CommonOptions::new(&shop.rules);
    let full = shop.path("full.ndjson");
    run::crawl(
        &opts,
        LiveOptions::default(),
        Some(&full),
        Arc::new(Quiet),
        Stop::never(),
    )
    .await
    .unwrap();
    let path = shop.path("new.ndjson");
    let out = run::resume(
        &opts,
        LiveOptions::default(),
        &path,
        Arc::new(Quiet),
        Stop::never(),
    )
    .await
    .unwrap();
    assert_eq!(out.exit_code, 1);
    let mut want: Vec<String> = Snapshot::load(&full).unwrap().entries.into_keys().collect();
    let mut got: Vec<String> = assert_loadable(&path).entries.into_keys().collect();
    want.sort();
    got.sort();
    assert_eq!(got, want);
    let e = run::resume(
        &opts,
        LiveOptions::default(),
        shop.dir.path(),
        Arc::new(Quiet),
        Stop::never(),
    )
    .await
    .unwrap_err();
    assert_eq!(e.exit_code(), 2);
    assert!(e.to_string().contains("not a folder"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// Replay fidelity and the resumed source

/// A 2xx reached through a redirect is recorded as the redirect and the answer at the URL it
/// came from, so a replay resolves its relative links there and gives its links to that
/// resource: the same findings as live.
#[tokio::test]
async fn a_redirected_answer_replays_from_the_url_it_came_from() {
    let world = World::start(|req: &Req| match req.target.as_str() {
        "/legacy/orders/20" => Reply::redirect(301, "/o/20"),
        "/o/20" => Reply::json(&json!({"_links": {"invoice": {"href": "../c/7"}}})),
        _ => Reply::status(404),
    })
    .await;
    let rules = Arc::new(
        RulesBuilder::new()
            .service("api", &world.uri, &["/legacy/orders/20"])
            .build(),
    );
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("r.ndjson");
    let recorder = Arc::new(Recorder::create(&rec).unwrap());
    let opts = CrawlOptions {
        keep_bodies: true,
        ..fast(0)
    };
    let live = crawl_live_with(
        &rules,
        LiveOptions::default(),
        opts,
        recorder.clone(),
        Stop::never(),
    )
    .await;
    recorder.finish().unwrap();
    let (_, l) = live.finding(&world.url("/c/7"));
    assert_eq!(l.source.as_deref(), Some(world.url("/o/20").as_str()));

    let snap = Arc::new(Snapshot::load(&rec).unwrap());
    let legacy = snap
        .get(&url::Url::parse(&world.url("/legacy/orders/20")).unwrap())
        .unwrap();
    assert_eq!(legacy.outcome, Ok(301));
    let replay = crawl_with(
        &rules,
        Arc::new(SnapshotSource::new(snap)),
        fast(0),
        Arc::new(Quiet),
        Stop::never(),
    )
    .await;
    let ids = |c: &crate::support::Crawled| -> Vec<String> {
        c.analysis.findings.iter().map(|f| f.id.clone()).collect()
    };
    assert_eq!(ids(&replay), ids(&live));
    assert_eq!(
        replay.analysis.summary.references,
        live.analysis.summary.references
    );
}

/// Counts the retries that waited out a backoff.
#[derive(Default)]
struct Waits(AtomicI64);

impl Observer for Waits {
    fn retrying(&self, delta: i64) {
        if delta > 0 {
            self.0.fetch_add(delta, Ordering::SeqCst);
        }
    }
    fn fetched(&self, _: &FetchEvent<'_>) {}
}

/// A recorded URL is answered from the recording (no request) and its retries do not sleep;
/// a URL the recording does not hold is fetched live (not taken for a 404) and backs off.
/// Both ask for `Retry-After: 1`, so every wait is certain (no jitter).
#[tokio::test(start_paused = true)]
async fn a_resumed_source_replays_recorded_urls_without_waiting_and_fetches_the_rest() {
    let base = "http://127.0.0.1:9";
    let mut recorded = Snapshot::default();
    recorded
        .add_text(
            Path::new("r.ndjson"),
            bytes::Bytes::from(format!(
                "{{\"url\":\"{base}/recorded\",\"status\":503,\"headers\":{{\"retry-after\":\"1\"}}}}\n"
            )),
        )
        .unwrap();
    let live = Scripted::new(Duration::ZERO)
        .on(&url(base, "/recorded"), vec![answer(200, &[])])
        .on(
            &url(base, "/live"),
            vec![answer(503, &[("retry-after", "1")])],
        )
        .on(&url(base, "/unrecorded"), vec![answer(200, &[])]);
    let rules = Arc::new(
        RulesBuilder::new()
            .service("api", base, &["/recorded", "/live", "/unrecorded"])
            .build(),
    );
    let source = Arc::new(ResumeSource::new(Arc::new(recorded), live));
    let waits = Arc::new(Waits::default());
    let c = crawl_with(
        &rules,
        source.clone(),
        fast(3),
        waits.clone(),
        Stop::never(),
    )
    .await;
    // The recorded 503 replays four times, without a request or a wait.
    let o = c.outcome(&url(base, "/recorded"));
    assert_eq!((o.status, o.attempts), (Some(503), 4));
    assert!(c.outcome(&url(base, "/unrecorded")).is_ok());
    let o = c.outcome(&url(base, "/live"));
    assert_eq!((o.status, o.attempts), (Some(503), 4));
    assert_eq!(
        waits.0.load(Ordering::SeqCst),
        3,
        "only the live URL's retries wait"
    );
    assert_eq!(c.graph.stats.requests, 4 + 4 + 1);
}

// ---------------------------------------------------------------------------------------------
// Reports: all or nothing

fn audit_bac_talk(reports: &[&Path]) -> std::process::Output {
    let mut c = assert_cmd::Command::cargo_bin("bacaudit").unwrap();
    c.current_dir(env!("CARGO_MANIFEST_DIR")).args([
        "audit",
        "--rules",
        "rules/bac-talk.toml",
        "--snapshot",
        "fixtures/bac-talk/independent-backup.ndjson",
    ]);
    for r in reports {
        c.arg("--report").arg(r);
    }
    c.timeout(Duration::from_secs(60)).output().unwrap()
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// A report that cannot be written is exit 2, and no report of the run is left: not the
/// others, not a temporary file.
#[test]
fn a_report_that_cannot_be_written_leaves_no_report() {
    let dir = tempfile::tempdir().unwrap();
    let ok = dir.path().join("ok.json");
    let missing = dir.path().join("no-such-folder").join("r.md");
    let out = audit_bac_talk(&[&ok, &missing]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no-such-folder/r.md: cannot write report"),
        "{stderr}"
    );
    assert!(
        names_in(dir.path()).is_empty(),
        "{:?}",
        names_in(dir.path())
    );
    // An earlier report at that path is left as it was.
    std::fs::write(&ok, "previous").unwrap();
    assert_eq!(audit_bac_talk(&[&ok, &missing]).status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(&ok).unwrap(), "previous");
}

/// A write that fails partway (here the file size limit, `ulimit -f`, as a full disk would)
/// leaves no partial report or temporary file.
#[cfg(unix)]
#[test]
fn a_report_write_that_fails_partway_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("big.html");
    let out = std::process::Command::new("sh")
        .arg("-c")
        // SIGXFSZ ignored (inherited through exec): the write fails with EFBIG instead.
        .arg("trap '' XFSZ; ulimit -f 8; exec \"$0\" \"$@\"")
        .arg(assert_cmd::cargo::cargo_bin("bacaudit"))
        .args(["audit", "--rules", "rules/bac-talk.toml", "--snapshot"])
        .arg("fixtures/bac-talk/independent-backup.ndjson")
        .arg("--report")
        .arg(&html)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cannot write report"), "{stderr}");
    assert!(
        names_in(dir.path()).is_empty(),
        "{:?}",
        names_in(dir.path())
    );

    // `baseline -o` writes through the same kind of temporary file: none is left either.
    let report = tempfile::tempdir().unwrap();
    let input = report.path().join("report.json");
    assert_eq!(audit_bac_talk(&[&input]).status.code(), Some(1));
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -f 0; exec \"$0\" \"$@\"")
        .arg(assert_cmd::cargo::cargo_bin("bacaudit"))
        .arg("baseline")
        .arg(&input)
        .arg("-o")
        .arg(dir.path().join("baseline.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        names_in(dir.path()).is_empty(),
        "{:?}",
        names_in(dir.path())
    );
}
