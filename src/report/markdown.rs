//! The Markdown report (`.md`): summary, services, the service graph (a table and a Mermaid
//! chart), findings grouped by relation with their compensations, and warnings.
//! GitHub-flavoured; everything taken from the report is escaped or put in code spans.

use std::fmt::Write as _;

use super::render_mermaid;
use super::view::{
    attempts_note, body_text, by_relation, findings_line, kind_label, plural, relation_title,
    status_text, ServiceGraph, INCOMPLETE_NOTE,
};
use crate::analyze::Compensation;
use crate::model::{Report, ReportFinding};
use crate::vocab::FindingKind;

/// Renders the report as a Markdown document.
pub fn render_markdown(r: &Report) -> String {
    render_markdown_within(r, usize::MAX)
}

/// The Markdown document in at most `limit` bytes (a CI job summary's size limit): when the
/// whole does not fit, the findings are cut after the last one that does, with a line saying
/// how many were left out; a line is never cut in half.
pub fn render_markdown_within(r: &Report, limit: usize) -> String {
    let mut out = String::new();
    heading(&mut out, r);
    summary(&mut out, r);
    let graph = ServiceGraph::new(r);
    services(&mut out, &graph);
    service_links(&mut out, r, &graph);
    let mut tail = String::new();
    warnings(&mut tail, &r.warnings);
    let sections = findings(r);
    let whole: usize = sections.iter().map(|s| s.len()).sum();
    if out.len() + whole + tail.len() <= limit {
        sections.iter().for_each(|s| out.push_str(s));
        out.push_str(&tail);
        return out;
    }
    cut_findings(out, &sections, &tail, limit)
}

/// What fits of the findings (a heading goes only with the finding after it), then the note
/// on what was left out, then the warnings if they still fit.
fn cut_findings(mut out: String, sections: &[String], tail: &str, limit: usize) -> String {
    let left_out = |n: usize| {
        format!(
            "\n_{} left out here to stay within {limit} bytes: the full report (JSON, HTML) \
             has them._\n",
            plural(n as u64, "more finding", "more findings"),
        )
    };
    let is_finding = |s: &String| s.starts_with('-');
    let total = sections.iter().filter(|s| is_finding(s)).count();
    let mut shown = 0;
    let mut pending = String::new();
    for s in sections {
        if !is_finding(s) {
            pending.push_str(s);
            continue;
        }
        // Room for the finding (with its headings) and the note naming everything after it.
        let note = left_out(total - shown - 1);
        if out.len() + pending.len() + s.len() + note.len() > limit {
            break;
        }
        out.push_str(&pending);
        out.push_str(s);
        pending.clear();
        shown += 1;
    }
    let note = left_out(total - shown);
    cut_lines(&mut out, limit.saturating_sub(note.len()));
    out.push_str(&note);
    if out.len() + tail.len() <= limit {
        out.push_str(tail);
    }
    out
}

/// Drops whole lines from the end until `out` is at most `limit` bytes.
fn cut_lines(out: &mut String, limit: usize) {
    while out.len() > limit {
        let end = out.trim_end_matches('\n').rfind('\n').map_or(0, |i| i + 1);
        out.truncate(end);
    }
}

/// The title, what was audited, and the findings in one line.
fn heading(out: &mut String, r: &Report) {
    out.push_str("# bacaudit report\n\n");
    let _ = write!(out, "{} of {}", text(&r.source.mode), code(&r.source.rules));
    if let Some(snap) = &r.source.snapshot {
        let _ = write!(out, ", snapshot {}", code(snap));
    }
    let _ = writeln!(out, " · {} {}\n", text(&r.tool.name), text(&r.tool.version));
    if !r.complete {
        let _ = writeln!(out, "> [!WARNING]\n> **Incomplete.** {INCOMPLETE_NOTE}\n");
    }
    let _ = writeln!(out, "**{}**\n", findings_line(r));
}

fn summary(out: &mut String, r: &Report) {
    let s = &r.summary;
    out.push_str("## Summary\n\n| | count |\n|:--|--:|\n");
    for (label, n) in [
        ("resources", s.resources),
        ("references", s.references),
        ("cross-service references", s.cross_service_references),
        ("broken links", s.broken_link),
        ("orphans", s.orphan),
        ("unresolved", s.unresolved),
        ("requests", s.requests),
        ("retries", s.retries),
        ("out of scope", s.out_of_scope),
    ] {
        let _ = writeln!(out, "| {label} | {n} |");
    }
}

/// One row per service (nothing without services).
fn services(out: &mut String, graph: &ServiceGraph<'_>) {
    if graph.nodes.is_empty() {
        return;
    }
    out.push_str("\n## Services\n\n");
    out.push_str("| service | base URL | status | resources | requests | failures | orphans |\n");
    out.push_str("|:--|:--|:--|--:|--:|--:|--:|\n");
    for n in &graph.nodes {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            cell(&text(n.name)),
            n.base_url.map(|u| cell(&code(u))).unwrap_or_default(),
            if n.unavailable {
                "**unavailable**"
            } else {
                "ok"
            },
            n.resources,
            n.requests,
            n.failures,
            bold_if(n.orphans),
        );
    }
    if graph.unattributed_orphans > 0 {
        let _ = writeln!(
            out,
            "\n{} outside every service's base URL.",
            plural(graph.unattributed_orphans, "orphan", "orphans")
        );
    }
}

/// The references between services: a table and a Mermaid chart (nothing without any).
fn service_links(out: &mut String, r: &Report, graph: &ServiceGraph<'_>) {
    if graph.edges.is_empty() {
        return;
    }
    out.push_str("\n## Links between services\n\n");
    out.push_str("| from | to | references | broken | unresolved |\n");
    out.push_str("|:--|:--|--:|--:|--:|\n");
    for e in graph.edges {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            cell(&text(&e.from)),
            cell(&text(&e.to)),
            e.references,
            bold_if(e.broken_link),
            bold_if(e.unresolved),
        );
    }
    let chart = render_mermaid(r);
    let fence = fence_for(&chart);
    let _ = write!(out, "\n{fence}mermaid\n{chart}{fence}\n");
}

/// The findings, grouped by relation: the section heading, then each relation's heading and
/// each finding as its own piece (a finding's piece starts with `-`), so a size limit can cut
/// between them.
fn findings(r: &Report) -> Vec<String> {
    let mut pieces = vec![String::from("\n## Findings\n")];
    if r.findings.is_empty() {
        pieces.push("\nNo findings.\n".into());
    }
    for (key, findings) in by_relation(r) {
        pieces.push(format!(
            "\n### {} ({})\n\n",
            text(relation_title(&key)),
            findings.len()
        ));
        for f in findings {
            let mut piece = String::new();
            finding(&mut piece, f);
            pieces.push(piece);
        }
    }
    pieces
}

fn warnings(out: &mut String, warnings: &[String]) {
    if !warnings.is_empty() {
        out.push_str("\n## Warnings\n\n");
        for w in warnings {
            let _ = writeln!(out, "- {}", prose(w));
        }
    }
}

fn finding(out: &mut String, f: &ReportFinding) {
    match f {
        ReportFinding::Link(l) => {
            let from = match &l.source {
                Some(s) => code(s),
                None => "seed".into(),
            };
            let _ = writeln!(
                out,
                "- **{}** {from} → {}",
                text(&kind_label(l.kind.as_str())),
                code(&l.target)
            );
            let mut facts = Vec::new();
            if let Some(p) = &l.pointer {
                facts.push(format!("at {}", code(p)));
            }
            facts.push(format!("{}: {}", text(&status_text(l)), text(&l.detail)));
            if let Some(note) = attempts_note(l) {
                facts.push(note);
            }
            facts.push(format!("id {}", code(&l.id)));
            let _ = writeln!(out, "  - {}", facts.join(" · "));
            if let Some(cause) = &l.cause {
                let _ = writeln!(out, "  - why: {}", text(cause));
            }
            if l.compensations.is_empty() && l.kind == FindingKind::Unresolved {
                out.push_str("  - no repair: the evidence is uncertain\n");
            }
            for c in &l.compensations {
                compensation(out, c);
            }
        }
        ReportFinding::Orphan(o) => {
            let _ = writeln!(
                out,
                "- **{}** {}",
                text(&kind_label(o.kind.as_str())),
                code(&o.resource)
            );
            let _ = writeln!(
                out,
                "  - nothing in {} points at it · id {}",
                text(&o.expected_referenced_by.join(", ")),
                code(&o.id)
            );
            if let Some(cause) = &o.cause {
                let _ = writeln!(out, "  - why: {}", text(cause));
            }
            for c in &o.compensations {
                compensation(out, c);
            }
        }
    }
}

fn compensation(out: &mut String, c: &Compensation) {
    let op = match &c.method {
        Some(m) => code(&format!("{m} {}", c.url)),
        None => format!("look at {}", code(&c.url)),
    };
    let ct = c
        .content_type
        .as_deref()
        .map(|t| format!(" with {}", code(t)))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "  - repair **{}** {op}{ct}: {}",
        text(c.action.as_str()),
        text(&c.reason)
    );
    if let Some(body) = body_text(c) {
        let fence = fence_for(&body);
        let _ = writeln!(out, "    {fence}json");
        for line in body.lines() {
            let _ = writeln!(out, "    {line}");
        }
        let _ = writeln!(out, "    {fence}");
    }
}

/// A number, bold when it is not zero.
fn bold_if(n: u64) -> String {
    if n > 0 {
        format!("**{n}**")
    } else {
        n.to_string()
    }
}

/// Plain text with Markdown's inline syntax and HTML escaped.
fn text(s: &str) -> String {
    escape(s, true)
}

/// Text whose `code spans` are kept (the tool's own sentences: warnings).
fn prose(s: &str) -> String {
    escape(s, false)
}

fn escape(s: &str, backticks: bool) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    for (i, &ch) in chars.iter().enumerate() {
        // An underscore inside a word (`not_found`) is never emphasis in GitHub's Markdown.
        let inside_word = ch == '_'
            && i > 0
            && chars[i - 1].is_alphanumeric()
            && chars.get(i + 1).is_some_and(|c| c.is_alphanumeric());
        match ch {
            '_' if inside_word => out.push(ch),
            '\\' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '&' => {
                out.push('\\');
                out.push(ch);
            }
            '`' if backticks => out.push_str("\\`"),
            '\n' | '\r' => out.push(' '),
            _ => out.push(ch),
        }
    }
    out
}

/// A code span that holds any text: the fence is longer than any run of backticks in it.
fn code(s: &str) -> String {
    let s = s.replace(['\n', '\r'], " ");
    let fence = "`".repeat(longest_run(&s, '`') + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{s}{pad}{fence}")
}

/// A table cell: `|` escaped (GitHub needs it even inside code spans).
fn cell(s: &str) -> String {
    s.replace('|', "\\|")
}

/// A code block fence longer than any run of backticks in the block (at least three).
fn fence_for(block: &str) -> String {
    "`".repeat((longest_run(block, '`') + 1).max(3))
}

fn longest_run(s: &str, c: char) -> usize {
    let (mut best, mut run) = (0, 0);
    for ch in s.chars() {
        if ch == c {
            run += 1;
            best = best.max(run);
        } else {
            run = 0;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_hold_backticks() {
        assert_eq!(code("a"), "`a`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x`"), "`` `x` ``");
    }

    #[test]
    fn text_escapes_markup_and_html() {
        assert_eq!(
            text("<script>*x*</script> | a_b _c"),
            "\\<script\\>\\*x\\*\\</script\\> \\| a_b \\_c"
        );
        assert_eq!(prose("skipped `order`"), "skipped `order`");
    }

    #[test]
    fn fences_outgrow_the_block() {
        assert_eq!(fence_for("x"), "```");
        assert_eq!(fence_for("a ```` b"), "`````");
    }
}
