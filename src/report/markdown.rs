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
    let mut out = String::new();
    heading(&mut out, r);
    summary(&mut out, r);
    let graph = ServiceGraph::new(r);
    services(&mut out, &graph);
    service_links(&mut out, r, &graph);
    findings(&mut out, r);
    warnings(&mut out, &r.warnings);
    out
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

/// The findings, grouped by relation.
fn findings(out: &mut String, r: &Report) {
    out.push_str("\n## Findings\n");
    if r.findings.is_empty() {
        out.push_str("\nNo findings.\n");
    }
    for (key, findings) in by_relation(r) {
        let _ = writeln!(
            out,
            "\n### {} ({})\n",
            text(relation_title(&key)),
            findings.len()
        );
        for f in findings {
            finding(out, f);
        }
    }
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
