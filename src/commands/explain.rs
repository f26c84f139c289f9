//! The `diff`, `whatif` and `clusters` commands as library functions: load and check every
//! input first (exit code 2 on any problem), run the audit pipeline over a snapshot where
//! needed, render a table or JSON. Nothing here touches the terminal. Each exits 0 once it
//! has said what it found: these commands inform, they do not gate.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use super::pipeline::{self as run, CommonOptions, Prepared};
use super::Output;
use crate::analyze::{self, Analysis};
use crate::crawl::{self, CrawlOptions, Quiet, Stop};
use crate::error::Error;
use crate::explain::{cluster, diff, whatif, PairCounts, Referrers};
use crate::graph::Graph;
use crate::model::{Clusters, Origin, Report};
use crate::plan;
use crate::report::{render_clusters, Format};
use crate::rules::{self, Rules};
use crate::source::{Snapshot, SnapshotSource};
use crate::vocab::exit;

/// The audit pipeline over a snapshot, kept whole for the commands that read more than the
/// report (the graph, the analysis).
pub struct Audited {
    pub prepared: Prepared,
    pub snapshot: Arc<Snapshot>,
    pub graph: Graph,
    pub planned: Analysis,
    pub report: Report,
}

/// Runs rules → crawl (over the snapshot) → analysis → plan → report.
pub async fn audit_snapshot(opts: &CommonOptions, snapshot: &Path) -> Result<Audited, Error> {
    let prepared = run::prepare(opts)?;
    let snap = Arc::new(Snapshot::load(snapshot)?);
    let (graph, planned, report) = pipeline(
        prepared.rules.clone(),
        snap.clone(),
        snapshot,
        opts.crawl.clone(),
        prepared.previous.as_ref(),
    )
    .await;
    Ok(Audited {
        prepared,
        snapshot: snap,
        graph,
        planned,
        report,
    })
}

async fn pipeline(
    rules: Arc<Rules>,
    snapshot: Arc<Snapshot>,
    path: &Path,
    crawl_opts: CrawlOptions,
    previous: Option<&Snapshot>,
) -> (Graph, Analysis, Report) {
    let source = Arc::new(SnapshotSource::new(snapshot));
    let graph = crawl::crawl(
        rules.clone(),
        source,
        crawl_opts,
        Arc::new(Quiet),
        Stop::never(),
    )
    .await;
    let analysis = analyze::analyze(&graph, &rules);
    let planned = plan::plan(analysis, &graph, &rules, previous);
    let report = Report::new(
        &planned,
        &rules.path,
        &Origin::Audit {
            snapshot: path.to_path_buf(),
        },
    );
    (graph, planned, report)
}

fn render<T: Serialize>(format: Format, value: &T, table: impl FnOnce() -> String) -> String {
    match format {
        Format::Json => {
            let mut s = serde_json::to_string_pretty(value).expect("always serializes");
            s.push('\n');
            s
        }
        _ => table(),
    }
}

/// Options of `bacaudit diff`.
#[derive(Debug, Clone)]
pub struct DiffOptions {
    pub before: PathBuf,
    pub after: PathBuf,
    /// Group by service and kind, and explain AFTER's findings.
    pub rules: Option<PathBuf>,
    pub format: Format,
    pub crawl: CrawlOptions,
}

/// `bacaudit diff BEFORE AFTER`.
pub async fn diff(opts: &DiffOptions) -> Result<Output, Error> {
    let rules = opts.rules.as_deref().map(rules::load).transpose()?;
    let before = Snapshot::load(&opts.before)?;
    let after = Arc::new(Snapshot::load(&opts.after)?);
    let mut d = diff::diff(&before, &after, rules.as_ref());
    if let Some(rules) = rules {
        let rules = Arc::new(rules);
        let (_, _, report) = pipeline(
            rules.clone(),
            after,
            &opts.after,
            opts.crawl.clone(),
            Some(&before),
        )
        .await;
        let referrers = Referrers::of_orphan_rules(&rules, &before);
        d.explained = Some(diff::explain_findings(&d, &report.findings, &referrers));
    }
    Ok(Output {
        exit_code: exit::OK,
        stdout: render(opts.format, &d, || diff::render_table(&d)),
    })
}

/// `bacaudit whatif --rules FILE --snapshot AFTER [--previous-snapshot BEFORE]`: `opts`
/// carries the rules, the previous snapshot and the restore points.
pub async fn whatif(opts: &CommonOptions, snapshot: &Path) -> Result<Output, Error> {
    let a = audit_snapshot(opts, snapshot).await?;
    let w = whatif::whatif(
        &a.report,
        &a.graph,
        &a.prepared.rules,
        &a.prepared.restore_points,
        &a.snapshot,
        opts.previous_snapshot
            .as_deref()
            .map(|p| p.display().to_string())
            .as_deref(),
    );
    Ok(Output {
        exit_code: exit::OK,
        stdout: render(opts.format, &w, || whatif::render_table(&w)),
    })
}

/// The JSON output of `bacaudit clusters`.
#[derive(Debug, Serialize)]
pub struct ClustersOutput<'a> {
    pub schema: &'static str,
    pub rules: String,
    pub snapshot: String,
    #[serde(flatten)]
    pub clusters: &'a Clusters,
}

/// `bacaudit clusters --rules FILE --snapshot PATH`: `opts.explain` carries the threshold and
/// the finding weight.
pub async fn clusters(opts: &CommonOptions, snapshot: &Path) -> Result<Output, Error> {
    let threshold = opts.explain.threshold;
    if !(0.0..=1.0).contains(&threshold) {
        return Err(Error::Usage(format!(
            "--threshold {threshold} must be a share between 0 and 1"
        )));
    }
    let a = audit_snapshot(opts, snapshot).await?;
    let c = cluster(
        &PairCounts::from_analysis(&a.planned, &a.prepared.rules),
        threshold,
        opts.explain.finding_weight,
    );
    let out = ClustersOutput {
        schema: "bacaudit/clusters/v1",
        rules: opts.rules.display().to_string(),
        snapshot: snapshot.display().to_string(),
        clusters: &c,
    };
    Ok(Output {
        exit_code: exit::OK,
        stdout: render(opts.format, &out, || {
            format!(
                "bacaudit clusters · rules {} · snapshot {}\n\n{}",
                out.rules,
                out.snapshot,
                render_clusters(&c)
            )
        }),
    })
}
