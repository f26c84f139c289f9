//! A whole offline audit of a generated 10k-item shop world (10,100 resources, 4 MB of NDJSON)
//! through the public library API, and its stages: the scan (lines read and links extracted
//! on every core), the replay from the seeds, analysis + plan + report; beside them, the crawl
//! loop driven through a loaded snapshot (the live crawl's engine without the network).
//! `cargo bench --bench audit`.
//!
//! The world's findings are checked once before measuring: a fast wrong answer is no figure.
//! `BENCH_ITEMS=100000 cargo bench --bench audit` measures a bigger world.

mod common;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bacaudit::commands::pipeline::{self as run, CommonOptions};
use bacaudit::crawl::{self, CrawlOptions, Quiet, ScannedSnapshot, Stop};
use bacaudit::model::{Origin, Report};
use bacaudit::source::{Snapshot, SnapshotSource};
use bacaudit::{analyze, plan};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

struct Fixture {
    _dir: tempfile::TempDir,
    rules_path: PathBuf,
    snapshot: PathBuf,
    world: common::World,
}

fn fixture() -> Fixture {
    let items = std::env::var("BENCH_ITEMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let dir = tempfile::tempdir().expect("temporary folder");
    let rules_path = dir.path().join("world.toml");
    std::fs::write(&rules_path, common::WORLD_RULES).unwrap();
    let world = common::world(items);
    let snapshot = dir.path().join("snapshot.ndjson");
    std::fs::write(&snapshot, &world.ndjson).unwrap();
    Fixture {
        _dir: dir,
        rules_path,
        snapshot,
        world,
    }
}

fn whole_audit(c: &mut Criterion) {
    let f = fixture();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let opts = CommonOptions::new(&f.rules_path);
    let audit = || {
        rt.block_on(run::audit(
            &opts,
            &f.snapshot,
            Arc::new(Quiet),
            Stop::never(),
        ))
        .expect("the audit runs")
    };

    // correctness first
    let out = audit();
    let s = &out.report.summary;
    assert_eq!(s.resources as usize, f.world.resources, "resources");
    assert_eq!(s.broken_link as usize, f.world.broken, "broken links");
    assert_eq!(s.orphan as usize, f.world.orphans, "orphans");
    assert_eq!(s.unresolved, 0, "unresolved");
    assert_eq!(out.exit_code, 1);

    let mut g = c.benchmark_group("audit");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(4))
        .throughput(Throughput::Elements(f.world.resources as u64));
    g.bench_function("whole", |b| b.iter(audit));

    let rules = Arc::new(bacaudit::rules::load(&f.rules_path).unwrap());
    let scan = || {
        ScannedSnapshot::open(&f.snapshot, &rules, &Stop::never())
            .unwrap()
            .unwrap()
    };
    g.bench_function("stage1_scan", |b| b.iter(scan));
    let scanned = Arc::new(scan());
    let replay_once = || {
        crawl::replay(
            scanned.clone(),
            &CrawlOptions::default(),
            rules.clone(),
            Arc::new(Quiet),
            &Stop::never(),
        )
    };
    g.bench_function("stage2_replay", |b| b.iter(replay_once));

    g.bench_function("snapshot_load", |b| {
        b.iter(|| Snapshot::load(&f.snapshot).unwrap())
    });
    let snap = Arc::new(Snapshot::load(&f.snapshot).unwrap());
    let crawl_once = || {
        rt.block_on(crawl::crawl(
            rules.clone(),
            Arc::new(SnapshotSource::new(snap.clone())),
            CrawlOptions::default(),
            Arc::new(Quiet),
            Stop::never(),
        ))
    };
    g.bench_function("crawl_loop_over_snapshot", |b| b.iter(crawl_once));

    let graph = replay_once();
    let origin = Origin::Audit {
        snapshot: f.snapshot.clone(),
    };
    g.bench_function("stage3_analyze_plan_report", |b| {
        b.iter(|| {
            let analysis = analyze::analyze(&graph, &rules);
            let planned = plan::plan(analysis, &graph, &rules, None);
            let report = Report::new(&planned, &f.rules_path, &origin);
            serde_json::to_vec(&report).unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, whole_audit);
criterion_main!(benches);
