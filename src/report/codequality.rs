//! The GitLab code quality report (`codequality:PATH`): the CodeClimate issue array GitLab
//! reads from a job's `artifacts:reports:codequality` and shows in merge requests. One issue
//! per finding; its fingerprint is the finding id, so GitLab tells new findings from old ones.
//!
//! Findings are about resources, not source lines: each issue's location is the snapshot the
//! audit read (the rules file for a live crawl) at line 1, and its description names the URLs.

use serde::Serialize;

use super::view::status_text;
use crate::model::{Report, ReportFinding};
use crate::vocab::FindingKind;

#[derive(Serialize)]
struct Issue<'a> {
    description: String,
    check_name: String,
    fingerprint: &'a str,
    severity: &'static str,
    location: Location<'a>,
}

#[derive(Serialize)]
struct Location<'a> {
    path: &'a str,
    lines: Lines,
}

#[derive(Serialize)]
struct Lines {
    begin: u32,
}

/// Renders the report as a GitLab code quality (CodeClimate) JSON array.
pub fn render_codequality(r: &Report) -> String {
    let path = r.source.snapshot.as_deref().unwrap_or(&r.source.rules);
    let issues: Vec<Issue<'_>> = r.findings.iter().map(|f| issue(f, path)).collect();
    let mut text = serde_json::to_string_pretty(&issues).unwrap_or_else(|_| "[]".into());
    text.push('\n');
    text
}

fn issue<'a>(f: &'a ReportFinding, path: &'a str) -> Issue<'a> {
    let (id, kind, relation, description) = match f {
        ReportFinding::Link(l) => {
            let from = l.source.as_deref().unwrap_or("a seed");
            let at = l
                .pointer
                .as_deref()
                .map_or(String::new(), |p| format!(" at {p}"));
            let text = format!(
                "{}: {from}{at} → {} ({}: {})",
                l.kind,
                l.target,
                status_text(l),
                l.detail
            );
            let relation = l.relation.clone().unwrap_or_else(|| "undeclared".into());
            (&l.id, l.kind, relation, text)
        }
        ReportFinding::Orphan(o) => {
            let text = format!(
                "orphan: {} (nothing in {} points at it)",
                o.resource,
                o.expected_referenced_by.join(", ")
            );
            let relation = o.expected_referenced_by.join("+");
            (&o.id, o.kind, relation, text)
        }
    };
    Issue {
        description,
        check_name: format!("bacaudit/{kind}/{relation}"),
        fingerprint: id,
        severity: match kind {
            FindingKind::BrokenLink => "major",
            FindingKind::Orphan => "minor",
            FindingKind::Unresolved => "info",
        },
        location: Location {
            path,
            lines: Lines { begin: 1 },
        },
    }
}
