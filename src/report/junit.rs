//! The JUnit XML report (`.xml`) for CI test views, written with `quick-junit`: a `bacaudit`
//! suite whose `summary` case carries the counts and warnings, then one suite per relation
//! (`order.customer`, `seed`, `undeclared`) with one case per finding: a failure for a broken
//! link or an orphan, skipped for an unresolved link (it could not be checked).
//!
//! JUnit allows one `<failure>` per test case, so each finding is its own case and the relation
//! is its suite: a CI view then lists every finding, grouped by relation. Relations with no
//! findings do not appear (the report does not list them). No timestamps, no durations: the
//! file is byte-stable for the same report.

use std::fmt::Write as _;

use quick_junit::{NonSuccessKind, Report as JunitReport, TestCase, TestCaseStatus, TestSuite};

use super::view::{
    attempts_note, body_text, by_relation, compensation_text, findings_line, source_line,
    status_text, INCOMPLETE_NOTE,
};
use crate::model::{Report, ReportFinding};
use crate::vocab::FindingKind;

/// Renders the report as JUnit XML.
pub fn render_junit(r: &Report) -> String {
    let mut junit = JunitReport::new("bacaudit");

    let mut summary = TestSuite::new("bacaudit");
    let status = if r.complete {
        TestCaseStatus::success()
    } else {
        let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
        s.set_type("incomplete").set_message(INCOMPLETE_NOTE);
        s
    };
    let mut case = TestCase::new("summary", status);
    case.set_classname("bacaudit");
    case.set_system_out(summary_text(r));
    summary.add_test_case(case);
    junit.add_test_suite(summary);

    for (relation, findings) in by_relation(r) {
        let mut suite = TestSuite::new(relation.as_str());
        for f in findings {
            let mut case = match f {
                ReportFinding::Link(l) => {
                    let from = l.source.as_deref().unwrap_or("seed");
                    let name = match &l.pointer {
                        Some(p) => format!("{}: {from} {p} → {}", l.kind, l.target),
                        None => format!("{}: {from} → {}", l.kind, l.target),
                    };
                    let message = format!("{from} → {}: {}", l.target, status_text(l));
                    let mut description = match attempts_note(l) {
                        Some(note) => format!("{}\n{note}\nid {}\n", l.detail, l.id),
                        None => format!("{}\nid {}\n", l.detail, l.id),
                    };
                    if let Some(p) = &l.pointer {
                        let _ = writeln!(description, "pointer {p}");
                    }
                    let mut status = if l.kind == FindingKind::Unresolved {
                        let mut s = TestCaseStatus::skipped();
                        s.set_message(format!("could not be checked: {message}"));
                        s
                    } else {
                        let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                        s.set_message(message);
                        s
                    };
                    status
                        .set_type(l.kind.as_str())
                        .set_description(description + &compensations(f));
                    TestCase::new(name, status)
                }
                ReportFinding::Orphan(o) => {
                    let by = o.expected_referenced_by.join(" or ");
                    let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    status
                        .set_type(o.kind.as_str())
                        .set_message(format!("{}: nothing in {by} points at it", o.resource))
                        .set_description(format!("id {}\n{}", o.id, compensations(f)));
                    TestCase::new(format!("{}: {}", o.kind, o.resource), status)
                }
            };
            case.set_classname(format!("bacaudit.{relation}"));
            suite.add_test_case(case);
        }
        junit.add_test_suite(suite);
    }
    junit
        .to_string()
        .expect("a JUnit report of strings always serializes")
}

fn summary_text(r: &Report) -> String {
    let s = &r.summary;
    let mut out = format!(
        "bacaudit {}: {}\n{}\n{} resources, {} references ({} cross-service), {} requests, {} retries, {} out of scope\n",
        r.tool.version,
        source_line(r),
        findings_line(r),
        s.resources,
        s.references,
        s.cross_service_references,
        s.requests,
        s.retries,
        s.out_of_scope
    );
    if !r.complete {
        let _ = writeln!(out, "{INCOMPLETE_NOTE}");
    }
    for w in &r.warnings {
        let _ = writeln!(out, "warning: {w}");
    }
    out
}

/// The compensations of a finding, one per line, bodies as JSON after their line.
fn compensations(f: &ReportFinding) -> String {
    let mut out = String::new();
    for c in f.compensations() {
        let _ = writeln!(out, "repair {} ({})", compensation_text(c), c.reason);
        if let Some(body) = body_text(c) {
            let _ = writeln!(out, "{body}");
        }
    }
    out
}
