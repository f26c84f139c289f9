//! The commands as library functions: load and check every input first, run the pipeline
//! (source → crawl → graph → analysis → plan → report), write the reports, judge the result.
//! Nothing here touches the terminal: the caller prints [`RunOutput::stdout`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::Output;
use crate::crawl::{self, CrawlOptions, Fanout, Observer, ScannedSnapshot, Stop};
use crate::error::Error;
use crate::explain::{self, ExplainOptions, RestorePoints};
use crate::gate::{self, Gate};
use crate::graph::Graph;
use crate::model::{Origin, Report};
use crate::record::Recorder;
use crate::report::{self, Format};
use crate::rules::{self, Rules};
use crate::source::{LiveOptions, LiveSource, Recorded, ResumeSource, Snapshot};
use crate::vocab::FindingKind;
use crate::{analyze, plan};

/// Options every auditing command shares.
#[derive(Debug, Clone)]
pub struct CommonOptions {
    pub rules: PathBuf,
    /// Report files and job summaries (a target to stdout is turned into `format` by the
    /// caller).
    pub reports: Vec<report::ReportTarget>,
    /// What goes to stdout.
    pub format: Format,
    pub fail_on: Vec<FindingKind>,
    pub baseline: Option<PathBuf>,
    pub max_broken: u64,
    pub max_orphans: u64,
    /// The last good snapshot, for `recreate` bodies.
    pub previous_snapshot: Option<PathBuf>,
    pub crawl: CrawlOptions,
    /// Restore points and clusters (the explain stage).
    pub explain: ExplainOptions,
}

impl CommonOptions {
    /// Options with defaults for a rules file.
    pub fn new(rules: impl Into<PathBuf>) -> CommonOptions {
        CommonOptions {
            rules: rules.into(),
            reports: Vec::new(),
            format: Format::Table,
            fail_on: Gate::default().fail_on,
            baseline: None,
            max_broken: 0,
            max_orphans: 0,
            previous_snapshot: None,
            crawl: CrawlOptions::default(),
            explain: ExplainOptions::default(),
        }
    }
}

/// What a command produced.
#[derive(Debug, Clone)]
pub struct RunOutput {
    pub exit_code: i32,
    /// The rendering for stdout (`--format`).
    pub stdout: String,
    pub report: Report,
}

impl RunOutput {
    /// What the process prints and how it exits.
    pub fn into_output(self) -> Output {
        Output {
            exit_code: self.exit_code,
            stdout: self.stdout,
        }
    }
}

/// Inputs checked before any request: rules, baseline, previous snapshot, report paths.
pub struct Prepared {
    pub rules: Arc<Rules>,
    pub gate: Gate,
    pub previous: Option<Snapshot>,
    /// Per service, when its backup was taken (rules, then `--restore-point`).
    pub restore_points: RestorePoints,
    /// Warnings about how the run was made (TLS not verified), first in the report's.
    pub warnings: Vec<String>,
}

/// Loads and checks every input of a run (exit code 2 on any problem, before any work).
pub fn prepare(opts: &CommonOptions) -> Result<Prepared, Error> {
    let rules = Arc::new(rules::load(&opts.rules)?);
    let baseline = match &opts.baseline {
        Some(p) => gate::load_baseline(p)?,
        None => Default::default(),
    };
    let restore_points = RestorePoints::with_overrides(&rules, &opts.explain.restore_points)
        .map_err(Error::Usage)?;
    let previous = match &opts.previous_snapshot {
        Some(p) => Some(Snapshot::load(p)?),
        None => None,
    };
    Ok(Prepared {
        rules,
        gate: Gate {
            fail_on: opts.fail_on.clone(),
            baseline,
            max_broken: opts.max_broken,
            max_orphans: opts.max_orphans,
        },
        previous,
        restore_points,
        warnings: Vec::new(),
    })
}

/// `bacaudit audit`: the pipeline over a recorded snapshot.
pub async fn audit(
    opts: &CommonOptions,
    snapshot: &Path,
    observer: Arc<dyn Observer>,
    stop: Stop,
) -> Result<RunOutput, Error> {
    let prepared = prepare(opts)?;
    // Scanned once on every core (links extracted ahead, bodies left on disk), then replayed
    // from the seeds in one thread: the same walk as a crawl through a snapshot source.
    let rules = prepared.rules.clone();
    let crawl_opts = opts.crawl.clone();
    let path = snapshot.to_path_buf();
    let (scan, graph) = tokio::task::spawn_blocking(move || {
        let started = std::time::Instant::now();
        let scan = Arc::new(ScannedSnapshot::open(&path, &rules, &stop)?.unwrap_or_default());
        tracing::debug!(
            records = scan.len(),
            hwm = %hwm(),
            "snapshot scanned in {:?}",
            started.elapsed()
        );
        let started = std::time::Instant::now();
        let mut scan = scan;
        let graph = crawl::replay(scan.clone(), &crawl_opts, rules, observer, &stop);
        if let Some(scan) = Arc::get_mut(&mut scan) {
            // The links are in the graph now; the explain stage reads only records.
            scan.drop_links();
        }
        tracing::debug!(nodes = graph.len(), hwm = %hwm(), "replayed in {:?}", started.elapsed());
        Ok::<_, Error>((scan, graph))
    })
    .await
    .map_err(|e| Error::Other(format!("the audit task failed: {e}")))??;
    finish_with(
        graph,
        &prepared,
        opts,
        &Origin::Audit {
            snapshot: snapshot.to_path_buf(),
        },
        Some(scan.as_ref()),
    )
}

/// The most URLs a live crawl fetches unless told otherwise (`--max-resources`): a world that
/// makes up URLs forever (a pagination or id trap) still ends. An audit needs no default: a
/// snapshot is finite.
pub const LIVE_MAX_RESOURCES: usize = 1_000_000;

/// The crawl options of a live crawl: `max_resources` defaults to [`LIVE_MAX_RESOURCES`].
pub fn live_crawl_options(opts: &CrawlOptions) -> CrawlOptions {
    let mut o = opts.clone();
    o.max_resources.get_or_insert(LIVE_MAX_RESOURCES);
    o
}

/// `bacaudit crawl`: the pipeline over the live services, optionally recording every fetch.
pub async fn crawl(
    opts: &CommonOptions,
    live: LiveOptions,
    record: Option<&Path>,
    observer: Arc<dyn Observer>,
    stop: Stop,
) -> Result<RunOutput, Error> {
    let mut prepared = prepare(opts)?;
    prepared
        .warnings
        .extend(crate::http::insecure_warning(&live.tls, &prepared.rules));
    let source = Arc::new(LiveSource::new(prepared.rules.clone(), live)?);
    source.start().await?;
    let recorder = match record {
        Some(path) => Some(Arc::new(
            Recorder::create(path)
                .map_err(|e| {
                    Error::Other(format!(
                        "{}: cannot create the recording: {e}",
                        path.display()
                    ))
                })?
                .redacting(&prepared.rules)
                .redacting_tokens(source.issued_tokens()),
        )),
        None => None,
    };
    crawl_with(source, recorder, &prepared, opts, observer, stop).await
}

/// `bacaudit crawl --resume FILE`: continues the crawl a recording was interrupted in. URLs the
/// recording holds are replayed from it (no request, no backoff); every other URL is fetched
/// live and appended to it. A cut last line is cut off and its URL fetched again; a missing
/// file starts an empty recording.
pub async fn resume(
    opts: &CommonOptions,
    live: LiveOptions,
    recording: &Path,
    observer: Arc<dyn Observer>,
    stop: Stop,
) -> Result<RunOutput, Error> {
    let prepared = prepare(opts)?;
    let recorded = match std::fs::metadata(recording) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Snapshot {
            path: recording.to_path_buf(),
            ..Snapshot::default()
        },
        Ok(m) if m.is_dir() => {
            return Err(Error::Usage(format!(
                "{}: --resume takes the recording file of one crawl, not a folder",
                recording.display()
            )))
        }
        _ => Snapshot::load(recording)?,
    };
    let recorded = Arc::new(recorded);
    let mut prepared = prepared;
    prepared
        .warnings
        .extend(crate::http::insecure_warning(&live.tls, &prepared.rules));
    let live = LiveSource::new(prepared.rules.clone(), live)?;
    live.start().await?;
    let tokens = live.issued_tokens();
    let source = Arc::new(ResumeSource::new(recorded.clone(), live));
    let recorder = Recorder::resume(recording, recorded)
        .map_err(|e| {
            Error::Other(format!(
                "{}: cannot append to the recording: {e}",
                recording.display()
            ))
        })?
        .redacting(&prepared.rules)
        .redacting_tokens(tokens);
    crawl_with(
        source,
        Some(Arc::new(recorder)),
        &prepared,
        opts,
        observer,
        stop,
    )
    .await
}

/// A live crawl through `source`, recording to `recorder`, then the rest of the pipeline.
async fn crawl_with<S: crate::source::Source>(
    source: Arc<S>,
    recorder: Option<Arc<Recorder>>,
    prepared: &Prepared,
    opts: &CommonOptions,
    observer: Arc<dyn Observer>,
    stop: Stop,
) -> Result<RunOutput, Error> {
    let mut crawl_opts = live_crawl_options(&opts.crawl);
    let observer: Arc<dyn Observer> = match &recorder {
        Some(r) => {
            crawl_opts.keep_bodies = true;
            Arc::new(Fanout(vec![observer, r.clone() as Arc<dyn Observer>]))
        }
        None => observer,
    };
    let graph = crawl::crawl(prepared.rules.clone(), source, crawl_opts, observer, stop).await;
    let out = finish(graph, prepared, opts, &Origin::Crawl)?;
    if let Some(r) = recorder {
        r.finish().map_err(|(path, e)| {
            Error::Other(format!(
                "{}: the recording is incomplete, a write failed: {e} (the reports were written)",
                path.display()
            ))
        })?;
    }
    Ok(out)
}

/// The rest of the pipeline once the graph is built: analysis, plan, report files, verdict.
/// Report files are written even when the run was interrupted (marked incomplete).
pub fn finish(
    graph: Graph,
    prepared: &Prepared,
    opts: &CommonOptions,
    origin: &Origin,
) -> Result<RunOutput, Error> {
    finish_with(graph, prepared, opts, origin, None)
}

/// [`finish`], with the snapshot the graph was crawled from (the explain stage reads the
/// timestamps of surviving resources from it).
pub fn finish_with(
    graph: Graph,
    prepared: &Prepared,
    opts: &CommonOptions,
    origin: &Origin,
    current: Option<&dyn Recorded>,
) -> Result<RunOutput, Error> {
    let started = std::time::Instant::now();
    let analysis = analyze::analyze(&graph, &prepared.rules);
    tracing::debug!("analysed in {:?}", started.elapsed());
    let planned = plan::plan(
        analysis,
        &graph,
        &prepared.rules,
        prepared.previous.as_ref(),
    );
    let mut report = Report::new(&planned, &opts.rules, origin);
    report
        .warnings
        .splice(0..0, prepared.warnings.iter().cloned());
    let annotate = |report: &mut Report, current: &dyn Recorded| {
        explain::annotate(
            report,
            &planned,
            &prepared.rules,
            &prepared.restore_points,
            Some(current),
            prepared.previous.as_ref(),
            &opts.explain,
        )
    };
    match current {
        Some(current) => {
            drop(graph);
            annotate(&mut report, current);
        }
        // A live crawl has no snapshot to read timestamps from: what it saw stands in for one.
        None => {
            annotate(&mut report, &crawl::Seen::new(&graph, &prepared.rules));
            drop(graph);
        }
    }
    tracing::debug!("planned and explained in {:?}", started.elapsed());
    // The rendering for stdout reads only the report: made on a second thread while the
    // report files are rendered and written.
    let stdout = std::thread::scope(|scope| {
        let stdout = scope.spawn(|| report::render(&report, opts.format));
        let written = report::write_reports(&opts.reports, &report).map_err(Error::from);
        let stdout = stdout
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        written.map(|()| stdout)
    })?;
    tracing::debug!("reports written in {:?}", started.elapsed());
    let verdict = gate::judge(&report, &prepared.gate);
    Ok(RunOutput {
        exit_code: verdict.exit_code,
        stdout,
        report,
    })
}

/// Peak and current memory, for the debug log (Linux; empty elsewhere).
fn hwm() -> String {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with("VmHWM") || l.starts_with("VmRSS"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_live_crawl_is_bounded_by_default_and_a_given_bound_wins() {
        let default = live_crawl_options(&CrawlOptions::default());
        assert_eq!(default.max_resources, Some(LIVE_MAX_RESOURCES));
        assert_eq!(default.max_depth, None);
        let given = live_crawl_options(&CrawlOptions {
            max_resources: Some(7),
            ..CrawlOptions::default()
        });
        assert_eq!(given.max_resources, Some(7));
    }
}
