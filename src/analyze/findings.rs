//! Link findings (broken and unresolved references, failed seeds), the summary counts, and the
//! whole analysis pass.

use super::{
    finding_id, orphans, Analysis, Finding, FindingBody, LinkFinding, ServiceEdge, ServiceSummary,
    Summary,
};
use crate::graph::{Graph, NodeId, NodeState, NO_RELATION};
use crate::rules::Rules;
use crate::vocab::FindingKind;

/// Analyzes a finished crawl graph.
pub fn analyze(graph: &Graph, rules: &Rules) -> Analysis {
    let ((mut findings, pairs, cross), (orphan_findings, mut warnings)) =
        links_and_orphans(graph, rules);
    findings.extend(orphan_findings);
    crawl_warnings(graph, rules, &mut warnings);

    findings.sort_by(|a, b| a.key().cmp(&b.key()));
    findings.dedup_by(|a, b| a.key() == b.key());

    let summary = summary(graph, &findings, cross);
    let services = service_summaries(graph, rules);
    let service_edges = service_edges(rules, pairs);
    Analysis {
        findings,
        warnings,
        summary,
        services,
        complete: graph.complete,
        service_edges,
    }
}

/// The link findings (see [`link_findings`]) and the orphans with their warnings.
///
/// Orphans read only the graph: on a large one they are found on a second thread while the
/// references are read here. Their findings come after the references' and their warnings
/// first, as when one thread did both.
fn links_and_orphans(graph: &Graph, rules: &Rules) -> (Links, (Vec<Finding>, Vec<String>)) {
    let orphans = || {
        let (mut findings, mut warnings) = (Vec::new(), Vec::new());
        orphans::find(graph, rules, &mut findings, &mut warnings);
        (findings, warnings)
    };
    if graph.edges.len() >= PARALLEL_EDGES {
        std::thread::scope(|scope| {
            let found = scope.spawn(orphans);
            let links = link_findings(graph, rules);
            let found = found
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (links, found)
        })
    } else {
        (link_findings(graph, rules), orphans())
    }
}

/// Warnings about what the crawl did not reach (cut services, unavailable ones, an interrupt)
/// and what it noticed on the way (the graph's own warnings).
fn crawl_warnings(graph: &Graph, rules: &Rules, warnings: &mut Vec<String>) {
    if graph.cut_services.iter().any(|&c| c) {
        let names: Vec<&str> = rules
            .services
            .iter()
            .zip(&graph.cut_services)
            .filter(|(_, &c)| c)
            .map(|(s, _)| s.name.as_str())
            .collect();
        warnings.push(format!(
            "the crawl was cut by --max-depth or --max-resources in: {}",
            names.join(", ")
        ));
    }
    for (s, &down) in rules.services.iter().zip(&graph.unavailable) {
        if down {
            warnings.push(format!(
                "service {} is unavailable: its circuit breaker opened after consecutive transient failures; its remaining URLs were not requested",
                s.name
            ));
        }
    }
    warnings.extend(graph.warnings.iter().cloned());
    if !graph.complete {
        warnings.push("the crawl was interrupted: this report covers only what was fetched".into());
    }
}

/// The counts of the whole audit.
fn summary(graph: &Graph, findings: &[Finding], cross: u64) -> Summary {
    let count = |k: FindingKind| findings.iter().filter(|f| f.kind == k).count() as u64;
    let resources = graph
        .nodes
        .iter()
        .filter(|n| n.service.is_some() && matches!(&n.state, NodeState::Done(o) if o.is_ok()))
        .count() as u64;
    Summary {
        resources,
        references: graph.edges.len() as u64,
        cross_service_references: cross,
        broken_link: count(FindingKind::BrokenLink),
        orphan: count(FindingKind::Orphan),
        unresolved: count(FindingKind::Unresolved),
        requests: graph.stats.requests,
        retries: graph.stats.retries,
        out_of_scope: graph.out_of_scope.len() as u64,
    }
}

/// The counts per service, in rules order.
fn service_summaries(graph: &Graph, rules: &Rules) -> Vec<ServiceSummary> {
    let counts = graph.service_counts(rules);
    rules
        .services
        .iter()
        .enumerate()
        .map(|(i, s)| ServiceSummary {
            name: s.name.clone(),
            base_url: s.base_url.to_string(),
            unavailable: graph.unavailable[i],
            resources: counts[i].0,
            requests: graph.stats.service_requests[i],
            failures: counts[i].1,
            load: graph.stats.service_load.get(i).copied().flatten(),
        })
        .collect()
}

/// In (from, to) order, the pairs with at least one reference.
fn service_edges(rules: &Rules, pairs: Vec<(u64, u64, u64)>) -> Vec<ServiceEdge> {
    let n = rules.services.len();
    pairs
        .into_iter()
        .enumerate()
        .filter(|(_, (r, _, _))| *r > 0)
        .map(|(i, (r, br, u))| ServiceEdge {
            from: rules.service((i / n) as u16).name.clone(),
            to: rules.service((i % n) as u16).name.clone(),
            references: r,
            broken_link: br,
            unresolved: u,
        })
        .collect()
}

/// References from which [`analyze`] finds orphans on a second thread.
const PARALLEL_EDGES: usize = 1 << 16;

/// What [`link_findings`] returns.
type Links = (Vec<Finding>, Vec<(u64, u64, u64)>, u64);

/// Failed seeds and references, the reference counts per (from, to) service pair (a dense
/// services x services table), and the number of cross-service references.
fn link_findings(graph: &Graph, rules: &Rules) -> Links {
    let mut findings = Vec::new();
    // Seeds that did not answer 2xx.
    for &seed in &graph.seeds {
        if let Some(f) = link_finding(graph, rules, seed, None, None, None, None) {
            findings.push(f);
        }
    }
    // Every reference whose target did not answer 2xx. Per edge only integers are read: a
    // finding's strings are made for the few targets that failed (the 1M audit cloned a
    // relation name per edge), and the service pairs are counted in a dense table.
    let n = rules.services.len();
    let mut pairs: Vec<(u64, u64, u64)> = vec![(0, 0, 0); n * n];
    let mut cross = 0u64;
    for e in &graph.edges {
        let target = graph.node(e.target);
        let failed = match &target.state {
            NodeState::Done(o) => o.failure.as_deref(),
            _ => None,
        };
        if let (Some(a), Some(b)) = (graph.node(e.source).service, target.service) {
            let c = &mut pairs[usize::from(a) * n + usize::from(b)];
            c.0 += 1;
            match failed.map(|f| f.reason.is_broken()) {
                Some(true) => c.1 += 1,
                Some(false) => c.2 += 1,
                None => {}
            }
            if a != b {
                cross += 1;
            }
        }
        if failed.is_none() {
            continue;
        }
        let relation = (e.relation != NO_RELATION).then_some(e.relation);
        if let Some(f) = link_finding(
            graph,
            rules,
            e.target,
            Some(e.source),
            Some(graph.pointer(e.pointer)),
            relation.map(|l| rules.link(l).name.clone()),
            relation,
        ) {
            findings.push(f);
        }
    }
    (findings, pairs, cross)
}

/// The finding for a reference to `target` (or for a seed when `source` is `None`), if the
/// target did not answer 2xx.
fn link_finding(
    graph: &Graph,
    rules: &Rules,
    target: NodeId,
    source: Option<NodeId>,
    pointer: Option<&str>,
    relation: Option<String>,
    link: Option<u16>,
) -> Option<Finding> {
    let NodeState::Done(outcome) = &graph.node(target).state else {
        return None;
    };
    let failure = outcome.failure.as_deref()?;
    let kind = if failure.reason.is_broken() {
        FindingKind::BrokenLink
    } else {
        FindingKind::Unresolved
    };
    let source = source.map(|s| graph.url(s).to_string());
    let target_url = graph.url(target).to_string();
    let relation = if source.is_none() {
        Some("seed".to_string())
    } else {
        relation
    };
    // Ids hash URLs in their alias form, the same in every environment (another base URL,
    // the same aliases); the report shows the target in that form too.
    let written = rules.alias_form(&target_url);
    let id = finding_id(
        kind,
        source.as_deref().map(|s| rules.alias_form(s)).as_deref(),
        pointer,
        Some(&written),
    );
    let written = (written != target_url).then(|| written.into_owned());
    Some(Finding {
        id,
        kind,
        body: FindingBody::Link(LinkFinding {
            class: failure.class,
            source,
            pointer: pointer.map(str::to_string),
            relation,
            link,
            target: target_url,
            written,
            status: outcome.status,
            attempts: outcome.attempts,
            reason: failure.reason,
            detail: failure.detail.clone(),
        }),
        compensations: Vec::new(),
    })
}
