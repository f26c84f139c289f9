//! The explain stage of `audit` and `crawl`: put each finding's cause and, when asked, the
//! backup clusters into the report.

use super::Causes;
use super::{cause, cluster, Evidence, PairCounts, Referrers, RestorePoints};
use crate::analyze::Analysis;
use crate::model::{Report, ReportFinding};
use crate::rules::Rules;
use crate::source::{Recorded, Snapshot};
use crate::vocab::FindingKind;

/// What the explain stage adds to an audit.
#[derive(Debug, Clone, PartialEq)]
pub struct ExplainOptions {
    /// `--restore-point SERVICE=TIME` arguments (they override the rules' `restored_from`).
    pub restore_points: Vec<String>,
    /// Add the `clusters` section (`--clusters`).
    pub clusters: bool,
    /// Cross-group weight share a cluster recommendation may leave.
    pub threshold: f64,
    /// Weight a finding adds to its pair of services.
    pub finding_weight: u64,
}

impl Default for ExplainOptions {
    fn default() -> Self {
        ExplainOptions {
            restore_points: Vec::new(),
            clusters: false,
            threshold: super::clusters::DEFAULT_THRESHOLD,
            finding_weight: super::clusters::DEFAULT_FINDING_WEIGHT,
        }
    }
}

/// Adds causes (when some service has a restore point) and clusters (when asked) to the
/// report of `analysis`. `current` is the audited snapshot (`None` for a live crawl: its
/// bodies are not kept, so only the previous snapshot's timestamps are read); `previous` is
/// `--previous-snapshot`.
pub fn annotate(
    report: &mut Report,
    analysis: &Analysis,
    rules: &Rules,
    points: &RestorePoints,
    current: Option<&dyn Recorded>,
    previous: Option<&Snapshot>,
    opts: &ExplainOptions,
) {
    if !points.is_empty() {
        let has_orphans = analysis
            .findings
            .iter()
            .any(|f| f.kind == FindingKind::Orphan);
        // Who referred to the orphans before the disaster (extraction over the previous
        // snapshot's bodies: only when there is something to explain).
        let referrers = previous
            .filter(|_| has_orphans)
            .map(|p| Referrers::of_orphan_rules(rules, p));
        let evidence = Evidence {
            current,
            previous,
            previous_referrers: referrers.as_ref(),
        };
        set_causes(report, &cause::explain(analysis, rules, points, &evidence));
    }
    if opts.clusters {
        report.clusters = Some(cluster(
            &PairCounts::from_analysis(analysis, rules),
            opts.threshold,
            opts.finding_weight,
        ));
    }
}

/// Puts each finding's cause (by finding id) in the report.
fn set_causes(report: &mut Report, causes: &Causes) {
    for f in &mut report.findings {
        let cause = causes.get(f.id()).map(str::to_string);
        match f {
            ReportFinding::Link(l) => l.cause = cause,
            ReportFinding::Orphan(o) => o.cause = cause,
        }
    }
}
