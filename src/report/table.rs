//! The human-readable summary printed to stdout: counts, services, links between services,
//! and each finding on one line (breaker-skipped links grouped per service) with its cause
//! below it when restore points explain it, then the backup clusters when asked for.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::model::{Clusters, LinkEntry, OrphanEntry, Report, ReportFinding};
use crate::text::grid;
use crate::vocab::Reason;

/// Renders the report as plain-text tables.
pub fn render_table(r: &Report) -> String {
    let mut out = String::new();
    heading(&mut out, r);
    services(&mut out, r);
    service_graph(&mut out, r);
    findings(&mut out, r);
    if let Some(c) = &r.clusters {
        out.push('\n');
        out.push_str(&render_clusters(c));
    }
    warnings(&mut out, &r.warnings);
    out
}

/// What was audited, and the counts of the crawl.
fn heading(out: &mut String, r: &Report) {
    let s = &r.summary;
    let _ = writeln!(
        out,
        "bacaudit {} · rules {}{}{}",
        r.source.mode,
        r.source.rules,
        r.source
            .snapshot
            .as_deref()
            .map(|p| format!(" · snapshot {p}"))
            .unwrap_or_default(),
        if r.complete {
            ""
        } else {
            " · INCOMPLETE (interrupted)"
        }
    );
    let _ = writeln!(
        out,
        "{} resources · {} references ({} cross-service) · {} requests · {} retries · {} out of scope\n",
        s.resources, s.references, s.cross_service_references, s.requests, s.retries, s.out_of_scope
    );
}

/// One row per service.
fn services(out: &mut String, r: &Report) {
    let mut rows = vec![vec![
        "SERVICE".to_string(),
        "STATUS".into(),
        "RESOURCES".into(),
        "REQUESTS".into(),
        "FAILURES".into(),
    ]];
    for svc in &r.services {
        rows.push(vec![
            svc.name.clone(),
            svc.status.clone(),
            svc.resources.to_string(),
            svc.requests.to_string(),
            svc.failures.to_string(),
        ]);
    }
    table(out, &rows, &[false, false, true, true, true]);
}

/// One row per pair of services with references between them (nothing when there are none).
fn service_graph(out: &mut String, r: &Report) {
    if r.service_graph.is_empty() {
        return;
    }
    out.push('\n');
    let mut rows = vec![vec![
        "REFERENCES".to_string(),
        "COUNT".into(),
        "BROKEN".into(),
        "UNRESOLVED".into(),
    ]];
    for e in &r.service_graph {
        rows.push(vec![
            format!("{} → {}", e.from, e.to),
            e.references.to_string(),
            e.broken_link.to_string(),
            e.unresolved.to_string(),
        ]);
    }
    table(out, &rows, &[false, true, true, true]);
}

/// The counts, then each finding with its cause, then the links not requested because their
/// service's circuit breaker was open.
fn findings(out: &mut String, r: &Report) {
    let s = &r.summary;
    let _ = writeln!(
        out,
        "\nFINDINGS: {} broken_link · {} orphan · {} unresolved",
        s.broken_link, s.orphan, s.unresolved
    );
    // Links behind an open circuit breaker: one line per target service.
    let mut skipped: BTreeMap<String, usize> = BTreeMap::new();
    for f in &r.findings {
        match f {
            ReportFinding::Link(l) if l.reason == Reason::ServiceUnavailable && l.attempts == 0 => {
                let host = url::Url::parse(&l.target)
                    .map(|u| u.origin().ascii_serialization())
                    .unwrap_or_default();
                *skipped.entry(host).or_default() += 1;
            }
            ReportFinding::Link(l) => {
                let _ = writeln!(out, "{}", link_line(l));
                cause_line(out, l.cause.as_deref());
            }
            ReportFinding::Orphan(o) => {
                let _ = writeln!(out, "{}", orphan_line(o));
                cause_line(out, o.cause.as_deref());
            }
        }
    }
    for (origin, n) in skipped {
        let _ = writeln!(
            out,
            "  unresolved   {n} link(s) to {origin}: not requested, the service is unavailable (circuit breaker open)"
        );
    }
}

fn warnings(out: &mut String, warnings: &[String]) {
    if !warnings.is_empty() {
        out.push_str("\nWARNINGS\n");
        for w in warnings {
            let _ = writeln!(out, "  - {w}");
        }
    }
}

fn orphan_line(o: &OrphanEntry) -> String {
    let action = o
        .compensations
        .first()
        .map(|c| format!("  ⇒ {}", compensation_text(c)))
        .unwrap_or_default();
    format!(
        "  orphan       {}  (nothing in {} points at it){action}",
        o.resource,
        o.expected_referenced_by.join(", ")
    )
}

/// The cause of the finding above, indented under it.
fn cause_line(out: &mut String, cause: Option<&str>) {
    if let Some(c) = cause {
        let _ = writeln!(out, "{:15}cause: {c}", "");
    }
}

/// The backup clusters: the recommendation, what it leaves exposed, and every level.
pub fn render_clusters(c: &Clusters) -> String {
    let mut out = String::new();
    let chosen = &c.levels[c.recommended];
    let _ = writeln!(
        out,
        "BACKUP CLUSTERS: back up each group together (level {} of {}: {:.1}% of the \
         cross-service weight left between groups, threshold {:.1}%)",
        c.recommended,
        c.levels.len() - 1,
        chosen.share * 100.0,
        c.threshold * 100.0
    );
    for (i, g) in c.groups.iter().enumerate() {
        let _ = writeln!(out, "  group {}: {}", i + 1, g.join(", "));
    }
    if c.remaining.is_empty() {
        out.push_str("  nothing is left between groups\n");
    }
    for p in &c.remaining {
        let _ = writeln!(
            out,
            "  left between groups: {}  {} references ({} broken links, {} orphans in this audit)",
            p.services.join(" ↔ "),
            p.references,
            p.broken_link,
            p.orphan
        );
    }
    out.push('\n');
    let mut rows = vec![vec![
        "LEVEL".to_string(),
        "GROUPS".into(),
        "CROSS REFS".into(),
        "BROKEN".into(),
        "ORPHANS".into(),
        "WEIGHT".into(),
        "SHARE".into(),
    ]];
    for (i, l) in c.levels.iter().enumerate() {
        let groups: Vec<String> = l.groups.iter().map(|g| g.join("+")).collect();
        rows.push(vec![
            format!("{i}{}", if i == c.recommended { "*" } else { "" }),
            groups.join(" | "),
            l.cross_references.to_string(),
            l.cross_broken_link.to_string(),
            l.cross_orphan.to_string(),
            l.cross_weight.to_string(),
            format!("{:.1}%", l.share * 100.0),
        ]);
    }
    out.push_str(&grid(&rows, &[false, false, true, true, true, true, true]));
    out
}

fn link_line(l: &LinkEntry) -> String {
    let status = l
        .status
        .map(|s| s.to_string())
        .unwrap_or_else(|| "-".into());
    let from = match (&l.source, &l.pointer) {
        (Some(s), Some(p)) => format!("{s} {p}"),
        _ => "seed".into(),
    };
    let rel = l.relation.as_deref().unwrap_or("undeclared link");
    let action = l
        .compensations
        .first()
        .map(|c| format!("  ⇒ {}", compensation_text(c)))
        .unwrap_or_default();
    let attempts = if l.attempts > 1 {
        format!(", {} attempts", l.attempts)
    } else {
        String::new()
    };
    format!(
        "  {:<12} {from} → {}  [{status} {}{attempts}] ({rel}){action}",
        l.kind, l.target, l.reason
    )
}

fn compensation_text(c: &crate::analyze::Compensation) -> String {
    match &c.method {
        Some(m) => format!("{} {m} {}", c.action, c.url),
        None => format!("{} (look at {})", c.action, c.url),
    }
}

fn table(out: &mut String, rows: &[Vec<String>], right: &[bool]) {
    out.push_str(&grid(rows, right));
}
