//! The one report model (schema `bacaudit/report/v1`), built from the planned analysis and
//! fanned out to the formats: table, JSON, Markdown, HTML, SARIF, JUnit XML, DOT and Mermaid.
//! Every renderer reads only the [`Report`]: a saved JSON report renders the same as the run.

mod dot;
mod html;
mod json;
mod junit;
mod markdown;
mod mermaid;
mod sarif;
mod table;
mod view;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::analyze::{Analysis, Compensation, FindingBody};
use crate::error::ReportError;
use crate::explain::{Causes, Clusters};

pub use dot::render_dot;
pub use html::render_html;
pub use json::render_json;
pub use junit::render_junit;
pub use markdown::render_markdown;
pub use mermaid::render_mermaid;
pub use sarif::render_sarif;
pub use table::{grid, render_clusters, render_table};

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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    pub kind: String,
    pub class: String,
    pub source: Option<String>,
    pub pointer: Option<String>,
    pub relation: Option<String>,
    pub target: String,
    pub status: Option<u16>,
    pub attempts: u32,
    pub reason: String,
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
    pub kind: String,
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
    pub fn kind(&self) -> &str {
        match self {
            ReportFinding::Link(l) => &l.kind,
            ReportFinding::Orphan(o) => &o.kind,
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
                })
                .collect(),
            warnings: analysis.warnings.clone(),
            findings: analysis
                .findings
                .iter()
                .map(|f| match &f.body {
                    FindingBody::Link(l) => ReportFinding::Link(LinkEntry {
                        id: f.id.clone(),
                        kind: f.kind.as_str().into(),
                        class: l.class.as_str().into(),
                        source: l.source.clone(),
                        pointer: l.pointer.clone(),
                        relation: l.relation.clone(),
                        target: l.target.clone(),
                        status: l.status,
                        attempts: l.attempts,
                        reason: l.reason.as_str().into(),
                        detail: l.detail.clone(),
                        cause: None,
                        compensations: f.compensations.clone(),
                    }),
                    FindingBody::Orphan(o) => ReportFinding::Orphan(OrphanEntry {
                        id: f.id.clone(),
                        kind: f.kind.as_str().into(),
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

    /// Puts each finding's cause (by finding id) in the report.
    pub fn set_causes(&mut self, causes: &Causes) {
        for f in &mut self.findings {
            let cause = causes.get(f.id()).map(str::to_string);
            match f {
                ReportFinding::Link(l) => l.cause = cause,
                ReportFinding::Orphan(o) => o.cause = cause,
            }
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

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Plain-text tables for a terminal.
    Table,
    /// The report itself (schema `bacaudit/report/v1`).
    Json,
    /// A Markdown document (GitHub-flavoured: tables, a Mermaid graph).
    Markdown,
    /// One self-contained HTML page with an SVG graph and a sortable findings table.
    Html,
    /// SARIF 2.1.0 for code-scanning UIs.
    Sarif,
    /// JUnit XML for CI test reports.
    Junit,
    /// The service graph in Graphviz DOT.
    Dot,
    /// The service graph as a Mermaid flowchart.
    Mermaid,
}

impl Format {
    /// The format a report file gets from its extension (`.json`, `.md`, `.html`, `.sarif`,
    /// `.xml` for JUnit, `.dot`, `.mmd`, `.txt` for the table).
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "json" => Some(Format::Json),
            "txt" => Some(Format::Table),
            "md" | "markdown" => Some(Format::Markdown),
            "html" | "htm" => Some(Format::Html),
            "sarif" => Some(Format::Sarif),
            "xml" => Some(Format::Junit),
            "dot" | "gv" => Some(Format::Dot),
            "mmd" | "mermaid" => Some(Format::Mermaid),
            _ => None,
        }
    }

    /// Parses a `--format` value.
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "table" => Some(Format::Table),
            "json" => Some(Format::Json),
            "markdown" | "md" => Some(Format::Markdown),
            "html" => Some(Format::Html),
            "sarif" => Some(Format::Sarif),
            "junit" => Some(Format::Junit),
            "dot" => Some(Format::Dot),
            "mermaid" | "mmd" => Some(Format::Mermaid),
            _ => None,
        }
    }

    /// Names accepted by [`Format::parse`] (aliases `md` and `mmd` left out).
    pub const NAMES: &'static [&'static str] = &[
        "table", "json", "markdown", "html", "sarif", "junit", "dot", "mermaid",
    ];

    /// The usual file extension of the format.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Table => "txt",
            Format::Json => "json",
            Format::Markdown => "md",
            Format::Html => "html",
            Format::Sarif => "sarif",
            Format::Junit => "xml",
            Format::Dot => "dot",
            Format::Mermaid => "mmd",
        }
    }
}

/// Renders a report in a format.
pub fn render(report: &Report, format: Format) -> String {
    match format {
        Format::Table => render_table(report),
        Format::Json => render_json(report),
        Format::Markdown => render_markdown(report),
        Format::Html => render_html(report),
        Format::Sarif => render_sarif(report),
        Format::Junit => render_junit(report),
        Format::Dot => render_dot(report),
        Format::Mermaid => render_mermaid(report),
    }
}

/// Writes a report file atomically (temporary file, then rename): a crash never leaves half a
/// report.
pub fn write_file(path: &Path, report: &Report) -> Result<(), ReportError> {
    let format = Format::from_path(path).ok_or_else(|| ReportError::UnknownFormat {
        path: path.to_path_buf(),
    })?;
    write_atomic(path, render(report, format).as_bytes())
}

/// Writes bytes to `path` through a temporary file in the same folder and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    let err = |source| ReportError::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(|e| {
        // A write that failed partway (a full disk) leaves no partial file behind.
        let _ = std::fs::remove_file(&tmp);
        err(e)
    })?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        err(e)
    })
}
