//! The findings table: one row per finding with its kind, relation, source, target, status,
//! reason and repairs, and the filter controls that the page's script shows.

use std::fmt::Write as _;

use super::text::esc;
use crate::analyze::Compensation;
use crate::model::{LinkEntry, Report, ReportFinding};
use crate::report::view::{attempts_note, body_text, kind_label, relation_key, relation_title};
use crate::vocab::FindingKind;

/// The finding kinds the filter always offers, in order, with their labels.
const KINDS: [(&str, &str); 3] = [
    ("broken_link", "broken links"),
    ("orphan", "orphans"),
    ("unresolved", "unresolved"),
];

/// The CSS class of a finding kind's badge.
fn kind_class(kind: &str) -> &'static str {
    match kind {
        "broken_link" => "k-broken_link",
        "orphan" => "k-orphan",
        "unresolved" => "k-unresolved",
        _ => "k-other",
    }
}

/// Where a finding kind sorts: in [`KINDS`] order, other kinds last.
fn kind_rank(kind: &str) -> usize {
    KINDS
        .iter()
        .position(|(k, _)| *k == kind)
        .unwrap_or(KINDS.len())
}

/// The findings section: the filter controls and the table.
pub(super) fn findings(out: &mut String, r: &Report) {
    let _ = writeln!(
        out,
        "<section aria-labelledby=\"findings-h\">\n<h2 id=\"findings-h\">Findings <span class=\"muted\">({})</span></h2>",
        r.findings.len()
    );
    if r.findings.is_empty() {
        out.push_str("<p>No findings: every reference resolved and every resource is referenced.</p>\n</section>\n");
        return;
    }
    out.push_str("<div id=\"controls\" class=\"controls\" hidden>\n<label for=\"filter\">Filter</label> <input id=\"filter\" type=\"search\" placeholder=\"URL, relation, reason, id…\" autocomplete=\"off\" spellcheck=\"false\">\n<fieldset><legend>Kinds</legend>");
    let mut kinds: Vec<(String, String)> = KINDS
        .iter()
        .map(|(k, l)| (k.to_string(), l.to_string()))
        .collect();
    for f in &r.findings {
        if !kinds.iter().any(|(k, _)| k == f.kind().as_str()) {
            kinds.push((f.kind().to_string(), f.kind().to_string()));
        }
    }
    for (kind, text) in &kinds {
        let count = r
            .findings
            .iter()
            .filter(|f| f.kind().as_str() == kind)
            .count();
        let _ = write!(
            out,
            " <label><input type=\"checkbox\" name=\"kind\" value=\"{}\" checked> <span class=\"badge {}\">{}</span> {count}</label>",
            esc(kind),
            kind_class(kind),
            esc(text)
        );
    }
    out.push_str("</fieldset>\n<output id=\"shown\" aria-live=\"polite\"></output>\n</div>\n");
    out.push_str("<div class=\"scroll\"><table id=\"findings-table\" class=\"findings\">\n<caption class=\"sr-only\">Findings; the column buttons sort the table</caption>\n<thead><tr>");
    for (name, class) in [
        ("Kind", ""),
        ("Relation", ""),
        ("Source", ""),
        ("Target / resource", ""),
        ("Status", " class=\"num\""),
        ("Reason", ""),
        ("Repair", ""),
    ] {
        let _ = write!(
            out,
            "<th scope=\"col\"{class}><button type=\"button\">{name}</button></th>"
        );
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for f in &r.findings {
        finding_row(out, f);
    }
    out.push_str("</tbody>\n</table></div>\n</section>\n");
}

/// A URL as a link when it is one (http or https), as text otherwise.
fn url_html(u: &str) -> String {
    if u.starts_with("http://") || u.starts_with("https://") {
        format!(
            "<a href=\"{}\" rel=\"noreferrer noopener\">{}</a>",
            esc(u),
            esc(u)
        )
    } else {
        esc(u)
    }
}

/// The finding's cause (restore points), when the report has one.
fn cause_html(cause: Option<&str>) -> String {
    cause.map_or_else(String::new, |c| {
        format!("<div class=\"why\"><strong>why:</strong> {}</div>", esc(c))
    })
}

/// One row of the findings table.
/// One row of the findings table.
fn finding_row(out: &mut String, f: &ReportFinding) {
    let kind = f.kind().as_str();
    let _ = write!(
        out,
        "<tr id=\"f-{}\" data-kind=\"{}\"><td data-sort=\"{}\"><span class=\"badge {}\">{}</span><br><code class=\"fid\">{}</code></td><td>{}</td>",
        esc(f.id()),
        esc(kind),
        kind_rank(kind),
        kind_class(kind),
        esc(&kind_label(kind)),
        esc(f.id()),
        esc(relation_title(&relation_key(f)))
    );
    match f {
        ReportFinding::Link(l) => link_cells(out, l),
        ReportFinding::Orphan(o) => {
            let _ = write!(
                out,
                "<td class=\"muted\">nothing in {} points at it</td><td class=\"url\">{}</td><td class=\"num muted\" data-sort=\"\">—</td><td><code>orphan</code>{}</td>",
                esc(&o.expected_referenced_by.join(", ")),
                url_html(&o.resource),
                cause_html(o.cause.as_deref())
            );
        }
    }
    repair_cell(out, f);
    out.push_str("</tr>\n");
}

/// A link finding's source, target, status and reason cells.
fn link_cells(out: &mut String, l: &LinkEntry) {
    match &l.source {
        Some(s) => {
            let _ = write!(out, "<td class=\"url\">{}", url_html(s));
            if let Some(p) = &l.pointer {
                let _ = write!(out, "<br><code class=\"ptr\">{}</code>", esc(p));
            }
            out.push_str("</td>");
        }
        None => out.push_str("<td class=\"muted\">seed</td>"),
    }
    let _ = write!(out, "<td class=\"url\">{}</td>", url_html(&l.target));
    match l.status {
        Some(s) => {
            let _ = write!(out, "<td class=\"num\" data-sort=\"{s}\">{s}</td>");
        }
        None => out.push_str("<td class=\"num muted\" data-sort=\"\">—</td>"),
    }
    let detail = match attempts_note(l) {
        Some(note) => format!("{} · {note}", l.detail),
        None => l.detail.clone(),
    };
    let _ = write!(
        out,
        "<td><code>{}</code><div class=\"detail\">{}</div>{}</td>",
        esc(l.reason.as_str()),
        esc(&detail),
        cause_html(l.cause.as_deref())
    );
}

/// The repairs of a finding, or why there are none.
fn repair_cell(out: &mut String, f: &ReportFinding) {
    let kind = f.kind();
    out.push_str("<td class=\"repair\">");
    let comps = f.compensations();
    if comps.is_empty() {
        if kind == FindingKind::Unresolved {
            out.push_str(
                "<span class=\"muted\">none: nothing is repaired on uncertain evidence</span>",
            );
        } else {
            out.push_str("<span class=\"muted\">none</span>");
        }
    }
    for c in comps {
        compensation(out, c);
    }
    out.push_str("</td>");
}

/// One repair: the action, the request and why, with its body when it has one.
fn compensation(out: &mut String, c: &Compensation) {
    let op = match &c.method {
        Some(m) => format!("<code>{} {}</code>", esc(m.as_str()), esc(&c.url)),
        None => format!("look at <code>{}</code>", esc(&c.url)),
    };
    let _ = write!(
        out,
        "<div class=\"comp\"><span class=\"action\">{}</span> {op}<div class=\"why\">{}</div>",
        esc(c.action.as_str()),
        esc(&c.reason)
    );
    if let Some(body) = body_text(c) {
        let ct = c
            .content_type
            .as_deref()
            .map(|t| format!(" <code>{}</code>", esc(t)))
            .unwrap_or_default();
        let _ = write!(
            out,
            "<details><summary>Body{ct}</summary><pre><code>{}</code></pre></details>",
            esc(&body)
        );
    }
    out.push_str("</div>");
}
