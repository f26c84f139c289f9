//! The report document (schema `bacaudit/report/v1`), field for field: what the analysis
//! becomes, what every renderer, baseline, `apply`, `diff` and `whatif` reads. A saved JSON
//! report reads back into the same [`Report`].

mod clusters;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::analyze::{Analysis, Compensation, FindingBody};
use crate::vocab::{Class, FindingKind, Reason};

pub use clusters::{Clusters, Level, PairCost};

/// A report that cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{}: cannot write report: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: unknown report format (use .json, .md, .html, .sarif, .xml, .dot or .mmd, or FORMAT:PATH)", path.display())]
    UnknownFormat { path: PathBuf },
    #[error("--report {arg}: unknown format `{name}` (known: {known})")]
    UnknownFormatName {
        arg: String,
        name: String,
        known: String,
    },
    #[error("--report {arg}: no path after the format (use FORMAT:PATH, or FORMAT:- for stdout)")]
    NoPath { arg: String },
    #[error("{}: cannot read baseline: {message}", path.display())]
    Baseline { path: PathBuf, message: String },
}

/// The report's schema name.
pub const SCHEMA: &str = "bacaudit/report/v1";

/// The JSON report, field for field (DESIGN.md "Report JSON — contract").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub schema: String,
    pub tool: Tool,
    pub source: SourceInfo,
    pub complete: bool,
    pub summary: ReportSummary,
    pub services: Vec<ReportService>,
    pub warnings: Vec<String>,
    pub findings: Vec<ReportFinding>,
    /// Reference counts between services (an extension of v1: the service-level graph that
    /// the graph formats draw).
    #[serde(default)]
    pub service_graph: Vec<ServiceLink>,
    /// Which services to back up together (an extension of v1, with `--clusters`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clusters: Option<Clusters>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceInfo {
    /// `crawl` or `audit`.
    pub mode: String,
    pub rules: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<String>,
}

/// The report's `summary`: the analysis counts, as they are.
pub type ReportSummary = crate::analyze::Summary;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportService {
    pub name: String,
    /// The service's `base_url` from the rules (an addition to v1: lets a renderer tell which
    /// service a URL belongs to, e.g. to count orphans per service). Absent in older reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// `ok` or `unavailable`.
    pub status: String,
    pub resources: u64,
    pub requests: u64,
    pub failures: u64,
    /// Live crawls only (run fields, like timings): the highest number of requests in flight
    /// the service was allowed (adaptive concurrency) and the median and 99th-percentile
    /// latency of its answers, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency_limit: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_p50_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_p99_ms: Option<f64>,
}

/// A finding as the report shows it: a link finding or an orphan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ReportFinding {
    Link(LinkEntry),
    Orphan(OrphanEntry),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkEntry {
    pub id: String,
    pub kind: FindingKind,
    pub class: Class,
    pub source: Option<String>,
    pub pointer: Option<String>,
    pub relation: Option<String>,
    /// The target as written in the data (in its alias form when its service has aliases).
    pub target: String,
    /// The URL actually fetched, when it differs from `target` (a link under a service's
    /// alias, fetched under its `base_url`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fetched: Option<String>,
    pub status: Option<u16>,
    pub attempts: u32,
    pub reason: Reason,
    pub detail: String,
    /// Why the link broke, from the restore points (an extension of v1: only when some
    /// service has a restore point).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    pub compensations: Vec<Compensation>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrphanEntry {
    pub id: String,
    pub kind: FindingKind,
    pub resource: String,
    pub expected_referenced_by: Vec<String>,
    /// Why it lost its referrers, from the restore points (as for [`LinkEntry::cause`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    pub compensations: Vec<Compensation>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceLink {
    pub from: String,
    pub to: String,
    pub references: u64,
    pub broken_link: u64,
    pub unresolved: u64,
}

impl ReportFinding {
    pub fn id(&self) -> &str {
        match self {
            ReportFinding::Link(l) => &l.id,
            ReportFinding::Orphan(o) => &o.id,
        }
    }
    pub fn kind(&self) -> FindingKind {
        match self {
            ReportFinding::Link(l) => l.kind,
            ReportFinding::Orphan(o) => o.kind,
        }
    }
    /// Why the finding happened, when restore points explain it.
    pub fn cause(&self) -> Option<&str> {
        match self {
            ReportFinding::Link(l) => l.cause.as_deref(),
            ReportFinding::Orphan(o) => o.cause.as_deref(),
        }
    }
    pub fn compensations(&self) -> &[Compensation] {
        match self {
            ReportFinding::Link(l) => &l.compensations,
            ReportFinding::Orphan(o) => &o.compensations,
        }
    }
}

/// Where the audited data came from.
#[derive(Debug, Clone)]
pub enum Origin {
    Crawl,
    Audit { snapshot: PathBuf },
}

impl Report {
    /// Builds the report of a planned analysis.
    pub fn new(analysis: &Analysis, rules_path: &Path, origin: &Origin) -> Report {
        let (mode, snapshot) = match origin {
            Origin::Crawl => ("crawl", None),
            Origin::Audit { snapshot } => ("audit", Some(snapshot.display().to_string())),
        };
        Report {
            schema: SCHEMA.into(),
            tool: Tool {
                name: "bacaudit".into(),
                version: env!("CARGO_PKG_VERSION").into(),
            },
            source: SourceInfo {
                mode: mode.into(),
                rules: rules_path.display().to_string(),
                snapshot,
            },
            complete: analysis.complete,
            summary: analysis.summary.clone(),
            services: analysis
                .services
                .iter()
                .map(|s| ReportService {
                    name: s.name.clone(),
                    base_url: Some(s.base_url.clone()),
                    status: if s.unavailable { "unavailable" } else { "ok" }.into(),
                    resources: s.resources,
                    requests: s.requests,
                    failures: s.failures,
                    concurrency_limit: s.load.map(|l| l.peak_limit as u64),
                    latency_p50_ms: s.load.map(|l| round1(l.p50_ms)),
                    latency_p99_ms: s.load.map(|l| round1(l.p99_ms)),
                })
                .collect(),
            warnings: analysis.warnings.clone(),
            findings: analysis
                .findings
                .iter()
                .map(|f| match &f.body {
                    FindingBody::Link(l) => ReportFinding::Link(LinkEntry {
                        id: f.id.clone(),
                        kind: f.kind,
                        class: l.class,
                        source: l.source.clone(),
                        pointer: l.pointer.clone(),
                        relation: l.relation.clone(),
                        target: l.written.clone().unwrap_or_else(|| l.target.clone()),
                        fetched: l.written.is_some().then(|| l.target.clone()),
                        status: l.status,
                        attempts: l.attempts,
                        reason: l.reason,
                        detail: l.detail.clone(),
                        cause: None,
                        compensations: f.compensations.clone(),
                    }),
                    FindingBody::Orphan(o) => ReportFinding::Orphan(OrphanEntry {
                        id: f.id.clone(),
                        kind: f.kind,
                        resource: o.resource.clone(),
                        expected_referenced_by: o.expected_referenced_by.clone(),
                        cause: None,
                        compensations: f.compensations.clone(),
                    }),
                })
                .collect(),
            service_graph: analysis
                .service_edges
                .iter()
                .map(|e| ServiceLink {
                    from: e.from.clone(),
                    to: e.to.clone(),
                    references: e.references,
                    broken_link: e.broken_link,
                    unresolved: e.unresolved,
                })
                .collect(),
            clusters: None,
        }
    }

    /// Reads a JSON report (for baselines and `apply`).
    pub fn read(path: &Path) -> Result<Report, ReportError> {
        let text = std::fs::read_to_string(path).map_err(|e| ReportError::Baseline {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        serde_json::from_str(&text).map_err(|e| ReportError::Baseline {
            path: path.to_path_buf(),
            message: format!("not a bacaudit report: {e}"),
        })
    }
}

/// Milliseconds to a tenth, as the report shows them.
fn round1(ms: f64) -> f64 {
    (ms * 10.0).round() / 10.0
}
