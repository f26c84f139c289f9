//! The one report model (schema `bacaudit/report/v1`), built from the planned analysis and
//! fanned out to the formats: table, JSON, Markdown, HTML, SARIF, JUnit XML, DOT and Mermaid.
//! Every renderer reads only the [`Report`]: a saved JSON report renders the same as the run.

mod codequality;
mod dot;
mod html;
mod json;
mod junit;
mod markdown;
mod mermaid;
mod sarif;
mod table;
mod target;
mod view;
mod write;

use std::path::Path;

use crate::model::Report;

pub use codequality::render_codequality;
pub use dot::render_dot;
pub use html::render_html;
pub use json::render_json;
pub use junit::render_junit;
pub use markdown::{render_markdown, render_markdown_within};
pub use mermaid::render_mermaid;
pub use sarif::render_sarif;
pub use table::{render_clusters, render_table};
pub use target::{Destination, ReportTarget, JOB_SUMMARY_LIMIT};
pub use write::{write_atomic, write_file, write_reports};

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
    /// GitLab's code quality report (CodeClimate issues); by name only (`codequality:PATH`).
    CodeQuality,
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
            "codequality" => Some(Format::CodeQuality),
            _ => None,
        }
    }

    /// The name [`Format::parse`] reads (the first of [`Format::NAMES`] for each format).
    pub fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::Markdown => "markdown",
            Format::Html => "html",
            Format::Sarif => "sarif",
            Format::Junit => "junit",
            Format::Dot => "dot",
            Format::Mermaid => "mermaid",
            Format::CodeQuality => "codequality",
        }
    }

    /// Names accepted by [`Format::parse`] (aliases `md` and `mmd` left out).
    pub const NAMES: &'static [&'static str] = &[
        "table",
        "json",
        "markdown",
        "html",
        "sarif",
        "junit",
        "dot",
        "mermaid",
        "codequality",
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
            Format::CodeQuality => "json",
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
        Format::CodeQuality => render_codequality(report),
    }
}
