//! Views of a [`Report`] shared by the renderers: the service graph with orphan counts per
//! service, findings grouped by relation, and the short texts every format uses.

use std::collections::BTreeMap;

use crate::analyze::Compensation;

use crate::model::{LinkEntry, Report, ReportFinding, ServiceLink};

/// A service as the graph formats draw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ServiceNode<'a> {
    pub name: &'a str,
    pub base_url: Option<&'a str>,
    pub unavailable: bool,
    pub resources: u64,
    pub requests: u64,
    pub failures: u64,
    /// Orphan findings whose resource lies under the service's `base_url`.
    pub orphans: u64,
}

/// The service-level graph: the report's services (plus any service named only in
/// `service_graph`) and the reference counts between them.
#[derive(Debug, Clone)]
pub(super) struct ServiceGraph<'a> {
    pub nodes: Vec<ServiceNode<'a>>,
    pub edges: &'a [ServiceLink],
    /// Orphans no service's `base_url` holds (reports written before `base_url` existed).
    pub unattributed_orphans: u64,
}

impl<'a> ServiceGraph<'a> {
    pub fn new(report: &'a Report) -> ServiceGraph<'a> {
        let mut nodes: Vec<ServiceNode<'a>> = report
            .services
            .iter()
            .map(|s| ServiceNode {
                name: &s.name,
                base_url: s.base_url.as_deref(),
                unavailable: s.status == "unavailable",
                resources: s.resources,
                requests: s.requests,
                failures: s.failures,
                orphans: 0,
            })
            .collect();
        for e in &report.service_graph {
            for name in [&e.from, &e.to] {
                if !nodes.iter().any(|n| n.name == name.as_str()) {
                    nodes.push(ServiceNode {
                        name,
                        base_url: None,
                        unavailable: false,
                        resources: 0,
                        requests: 0,
                        failures: 0,
                        orphans: 0,
                    });
                }
            }
        }
        let scopes = Scopes::new(report);
        let mut unattributed_orphans = 0;
        for f in &report.findings {
            if let ReportFinding::Orphan(o) = f {
                match scopes.service_of(&o.resource) {
                    Some(name) => {
                        if let Some(n) = nodes.iter_mut().find(|n| n.name == name) {
                            n.orphans += 1;
                        }
                    }
                    None => unattributed_orphans += 1,
                }
            }
        }
        ServiceGraph {
            nodes,
            edges: &report.service_graph,
            unattributed_orphans,
        }
    }

    /// The position of a service in [`ServiceGraph::nodes`].
    pub fn index(&self, name: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.name == name)
    }
}

/// The services' base URLs, to tell which service a URL belongs to.
pub(super) struct Scopes<'a> {
    bases: Vec<(&'a str, url::Url)>,
}

impl<'a> Scopes<'a> {
    pub fn new(report: &'a Report) -> Scopes<'a> {
        Scopes {
            bases: report
                .services
                .iter()
                .filter_map(|s| {
                    Some((
                        s.name.as_str(),
                        url::Url::parse(s.base_url.as_deref()?).ok()?,
                    ))
                })
                .collect(),
        }
    }

    /// The service whose base URL holds `url` (same origin, path under the base path; the
    /// longest base path wins), like the rules' own `service_of`.
    pub fn service_of(&self, url: &str) -> Option<&'a str> {
        let url = url::Url::parse(url).ok()?;
        self.bases
            .iter()
            .filter(|(_, base)| {
                base.scheme() == url.scheme()
                    && base.host_str() == url.host_str()
                    && base.port_or_known_default() == url.port_or_known_default()
                    && url.path().starts_with(base.path())
            })
            .max_by_key(|(_, base)| base.path().len())
            .map(|(name, _)| *name)
    }
}

/// The relation a finding is about: a link's relation (`seed` for a seed, `undeclared` for a
/// link no rule declares), or for an orphan the relations expected to point at it.
pub(super) fn relation_key(f: &ReportFinding) -> String {
    match f {
        ReportFinding::Link(l) => l.relation.clone().unwrap_or_else(|| UNDECLARED.into()),
        ReportFinding::Orphan(o) if o.expected_referenced_by.is_empty() => "orphan".into(),
        ReportFinding::Orphan(o) => o.expected_referenced_by.join(", "),
    }
}

/// The relation key of links no rule declares.
pub(super) const UNDECLARED: &str = "undeclared";
/// The relation of a seed.
pub(super) const SEED: &str = "seed";

/// Findings grouped by [`relation_key`]: declared relations in name order, then seeds, then
/// undeclared links; each group keeps the report's order.
pub(super) fn by_relation(report: &Report) -> Vec<(String, Vec<&ReportFinding>)> {
    let mut groups: BTreeMap<(u8, String), Vec<&ReportFinding>> = BTreeMap::new();
    for f in &report.findings {
        let key = relation_key(f);
        let rank = match key.as_str() {
            SEED => 1,
            UNDECLARED => 2,
            _ => 0,
        };
        groups.entry((rank, key)).or_default().push(f);
    }
    groups.into_iter().map(|((_, k), v)| (k, v)).collect()
}

/// A group's heading: the relation, or "seeds" / "undeclared links".
pub(super) fn relation_title(key: &str) -> &str {
    match key {
        SEED => "seeds",
        UNDECLARED => "undeclared links",
        other => other,
    }
}

/// "404 not_found"; "no answer (timeout)" when there was no HTTP status; "not requested
/// (service_unavailable)" for a link skipped behind an open circuit breaker.
pub(super) fn status_text(l: &LinkEntry) -> String {
    match l.status {
        Some(s) => format!("{s} {}", l.reason),
        None if l.attempts == 0 => format!("not requested ({})", l.reason),
        None => format!("no answer ({})", l.reason),
    }
}

/// A finding kind for people: "broken link", "orphan", "unresolved".
pub(super) fn kind_label(kind: &str) -> String {
    kind.replace('_', " ")
}

/// "1 attempt", "4 attempts", or "not requested" for a link skipped behind a circuit breaker.
pub(super) fn attempts_text(attempts: u32) -> String {
    match attempts {
        0 => "not requested".into(),
        1 => "1 attempt".into(),
        n => format!("{n} attempts"),
    }
}

/// The attempts of a link finding when its `detail` does not already say them.
pub(super) fn attempts_note(l: &LinkEntry) -> Option<String> {
    let said =
        l.detail.contains("attempt") || (l.attempts == 0 && l.detail.contains("not requested"));
    (!said).then(|| attempts_text(l.attempts))
}

/// "cascade: DELETE http://…" or "manual: look at http://…".
pub(super) fn compensation_text(c: &Compensation) -> String {
    match &c.method {
        Some(m) => format!("{}: {m} {}", c.action, c.url),
        None => format!("{}: look at {}", c.action, c.url),
    }
}

/// A compensation's body as pretty JSON, when it has one.
pub(super) fn body_text(c: &Compensation) -> Option<String> {
    c.body
        .as_ref()
        .map(|b| serde_json::to_string_pretty(b).expect("a JSON value always serializes"))
}

/// `n thing` or `n things`.
pub(super) fn plural(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// One line per finding kind: "8 broken links · 2 orphans · 4 unresolved".
pub(super) fn findings_line(report: &Report) -> String {
    let s = &report.summary;
    format!(
        "{} · {} · {} unresolved",
        plural(s.broken_link, "broken link", "broken links"),
        plural(s.orphan, "orphan", "orphans"),
        s.unresolved
    )
}

/// What the run covered: "audit of rules/shop.toml, snapshot fixtures/shop/".
pub(super) fn source_line(report: &Report) -> String {
    match &report.source.snapshot {
        Some(snap) => format!(
            "{} of {}, snapshot {snap}",
            report.source.mode, report.source.rules
        ),
        None => format!("{} of {}", report.source.mode, report.source.rules),
    }
}

/// The note an incomplete report carries in every format.
pub(super) const INCOMPLETE_NOTE: &str = "The run was interrupted: this report covers only what was gathered before it stopped, so findings may be missing.";

/// The lines of a service's label in the graph formats: name, resources, orphans, status.
pub(super) fn node_lines(n: &ServiceNode<'_>) -> Vec<String> {
    let mut lines = vec![
        n.name.to_string(),
        plural(n.resources, "resource", "resources"),
    ];
    if n.orphans > 0 {
        lines.push(plural(n.orphans, "orphan", "orphans"));
    }
    if n.unavailable {
        lines.push("unavailable".into());
    }
    lines
}

/// The lines of an edge's label: "44 references", then "2 broken · 1 unresolved" when any.
pub(super) fn edge_lines(e: &ServiceLink) -> Vec<String> {
    let mut lines = vec![plural(e.references, "reference", "references")];
    let mut bad = Vec::new();
    if e.broken_link > 0 {
        bad.push(format!("{} broken", e.broken_link));
    }
    if e.unresolved > 0 {
        bad.push(format!("{} unresolved", e.unresolved));
    }
    if !bad.is_empty() {
        lines.push(bad.join(" · "));
    }
    lines
}

/// Colours the graph formats share (GitHub's light palette): broken red, unresolved amber.
pub(super) const RED: &str = "#cf222e";
pub(super) const AMBER: &str = "#9a6700";
pub(super) const GREY: &str = "#59636e";
