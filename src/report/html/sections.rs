//! The page's sections other than the findings: the header, the summary cards, the services
//! table, the service graph with its table, and the warnings.

use std::fmt::Write as _;

use super::svg::svg;
use super::text::{code_spans, esc};
use crate::model::Report;
use crate::report::view::{plural, ServiceGraph, INCOMPLETE_NOTE};

/// The page header: what was audited, and a banner when the audit is incomplete.
pub(super) fn header(out: &mut String, r: &Report) {
    out.push_str("<header>\n<h1>bacaudit report</h1>\n");
    let _ = write!(
        out,
        "<p class=\"meta\">{} of <code>{}</code>",
        esc(&r.source.mode),
        esc(&r.source.rules)
    );
    if let Some(snap) = &r.source.snapshot {
        let _ = write!(out, " · snapshot <code>{}</code>", esc(snap));
    }
    let _ = writeln!(out, " · {} {}</p>", esc(&r.tool.name), esc(&r.tool.version));
    if !r.complete {
        let _ = writeln!(
            out,
            "<p class=\"banner\" role=\"alert\"><strong>Incomplete.</strong> {}</p>",
            esc(INCOMPLETE_NOTE)
        );
    }
    out.push_str("</header>\n");
}

/// The summary: finding counts as coloured cards, then the crawl's counts.
pub(super) fn summary(out: &mut String, r: &Report) {
    let s = &r.summary;
    out.push_str("<section aria-labelledby=\"summary-h\">\n<h2 id=\"summary-h\">Summary</h2>\n<ul class=\"cards\">\n");
    let tone = |n: u64, bad: &'static str| if n > 0 { bad } else { "good" };
    for (n, one, many, class) in [
        (
            s.broken_link,
            "broken link",
            "broken links",
            tone(s.broken_link, "bad"),
        ),
        (s.orphan, "orphan", "orphans", tone(s.orphan, "bad")),
        (
            s.unresolved,
            "unresolved link",
            "unresolved links",
            tone(s.unresolved, "warn"),
        ),
    ] {
        let label = plural(n, one, many);
        let (num, text) = label.split_once(' ').unwrap_or((&label, ""));
        let _ = writeln!(
            out,
            "<li class=\"card {class}\"><span class=\"n\">{num}</span> {}</li>",
            esc(text)
        );
    }
    for (n, text) in [
        (s.resources, "resources"),
        (s.references, "references"),
        (s.cross_service_references, "cross-service"),
        (s.requests, "requests"),
        (s.retries, "retries"),
        (s.out_of_scope, "out of scope"),
    ] {
        let _ = writeln!(
            out,
            "<li class=\"card\"><span class=\"n\">{n}</span> {text}</li>"
        );
    }
    out.push_str("</ul>\n</section>\n");
}

/// The services table: state and counts per service.
pub(super) fn services(out: &mut String, g: &ServiceGraph<'_>) {
    if g.nodes.is_empty() {
        return;
    }
    out.push_str("<section aria-labelledby=\"services-h\">\n<h2 id=\"services-h\">Services</h2>\n<div class=\"scroll\"><table class=\"plain\">\n");
    out.push_str("<thead><tr><th scope=\"col\">Service</th><th scope=\"col\">Base URL</th><th scope=\"col\">Status</th><th scope=\"col\" class=\"num\">Resources</th><th scope=\"col\" class=\"num\">Requests</th><th scope=\"col\" class=\"num\">Failures</th><th scope=\"col\" class=\"num\">Orphans</th></tr></thead>\n<tbody>\n");
    for n in &g.nodes {
        let status = if n.unavailable {
            "<span class=\"badge k-unresolved\">unavailable</span>"
        } else {
            "ok"
        };
        let _ = writeln!(
            out,
            "<tr><th scope=\"row\">{}</th><td class=\"url\">{}</td><td>{status}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num{}\">{}</td></tr>",
            esc(n.name),
            n.base_url.map(|u| format!("<code>{}</code>", esc(u))).unwrap_or_default(),
            n.resources,
            n.requests,
            n.failures,
            if n.orphans > 0 { " bad" } else { "" },
            n.orphans
        );
    }
    out.push_str("</tbody>\n</table></div>\n");
    if g.unattributed_orphans > 0 {
        let _ = writeln!(
            out,
            "<p class=\"muted\">{} outside every service's base URL.</p>",
            plural(g.unattributed_orphans, "orphan", "orphans")
        );
    }
    out.push_str("</section>\n");
}

/// The service graph as a picture and as a table of references between services.
pub(super) fn graph_section(out: &mut String, g: &ServiceGraph<'_>) {
    if g.nodes.is_empty() {
        return;
    }
    out.push_str("<section aria-labelledby=\"graph-h\">\n<h2 id=\"graph-h\">Service graph</h2>\n<figure class=\"graph-box\">\n");
    svg(out, g);
    out.push_str("<figcaption><span class=\"key bad\"></span> has broken links <span class=\"key warn\"></span> has unresolved links <span class=\"key ok\"></span> all links resolve · a dashed box is a service behind an open circuit breaker · red counts on services are orphans</figcaption>\n</figure>\n");
    if !g.edges.is_empty() {
        out.push_str("<div class=\"scroll\"><table class=\"plain\">\n<caption>References between services</caption>\n");
        out.push_str("<thead><tr><th scope=\"col\">From</th><th scope=\"col\">To</th><th scope=\"col\" class=\"num\">References</th><th scope=\"col\" class=\"num\">Broken</th><th scope=\"col\" class=\"num\">Unresolved</th></tr></thead>\n<tbody>\n");
        for e in g.edges {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num{}\">{}</td><td class=\"num{}\">{}</td></tr>",
                esc(&e.from),
                esc(&e.to),
                e.references,
                if e.broken_link > 0 { " bad" } else { "" },
                e.broken_link,
                if e.unresolved > 0 { " warn" } else { "" },
                e.unresolved
            );
        }
        out.push_str("</tbody>\n</table></div>\n");
    }
    out.push_str("</section>\n");
}

/// The run's warnings, with their `quoted` names as code.
pub(super) fn warnings(out: &mut String, r: &Report) {
    if r.warnings.is_empty() {
        return;
    }
    out.push_str("<section aria-labelledby=\"warnings-h\">\n<h2 id=\"warnings-h\">Warnings</h2>\n<ul class=\"warnings\">\n");
    for w in &r.warnings {
        let _ = writeln!(out, "<li>{}</li>", code_spans(&esc(w)));
    }
    out.push_str("</ul>\n</section>\n");
}
