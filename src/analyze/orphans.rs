//! Orphans: resources of a kind with `must_be_referenced_by` that no such link reaches —
//! claimed only on complete evidence from every service holding a referring kind.

use std::collections::BTreeSet;

use super::{finding_id, Finding, FindingBody, OrphanFinding};
use crate::graph::{Graph, NodeState};
use crate::rules::{Rules, ServiceId};
use crate::vocab::FindingKind;
use crate::vocab::Reason;

/// Why a service's evidence is incomplete (empty: complete), per service.
pub(super) fn service_gaps(graph: &Graph, rules: &Rules) -> Vec<Vec<String>> {
    let n = rules.services.len();
    let mut unresolved = vec![0u64; n];
    let mut pages_failed = vec![0u64; n];
    let mut not_fetched = vec![0u64; n];
    let mut unreadable = vec![0u64; n];
    for node in &graph.nodes {
        let Some(s) = node.service else { continue };
        let s = s as usize;
        if node.unreadable {
            unreadable[s] += 1;
        }
        match &node.state {
            NodeState::Pending | NodeState::Cut => not_fetched[s] += 1,
            NodeState::Done(o) => {
                let Some(f) = &o.failure else { continue };
                let is_item = node.kind.is_some();
                if is_item && matches!(f.reason, Reason::NotFound | Reason::Gone) {
                    continue;
                }
                if f.reason.is_broken() && !is_item {
                    pages_failed[s] += 1;
                } else if f.reason.is_broken() {
                    // Another 4xx on an item: the item's links are unknown.
                    unresolved[s] += 1;
                } else {
                    unresolved[s] += 1;
                }
            }
        }
    }
    (0..n)
        .map(|s| {
            let mut gaps = Vec::new();
            if pages_failed[s] > 0 {
                gaps.push(format!(
                    "{} seed or list page(s) did not answer 2xx",
                    pages_failed[s]
                ));
            }
            if unresolved[s] > 0 {
                gaps.push(format!("{} fetch(es) ended unresolved", unresolved[s]));
            }
            if unreadable[s] > 0 {
                gaps.push(format!(
                    "{} resource(s) answered 2xx with a body that is not JSON (their links are unknown)",
                    unreadable[s]
                ));
            }
            if not_fetched[s] > 0 {
                gaps.push(format!(
                    "{} URL(s) were not fetched (--max-depth, --max-resources or interrupted)",
                    not_fetched[s]
                ));
            }
            gaps
        })
        .collect()
}

/// Orphan findings, and a warning per kind whose detection was skipped.
pub(super) fn find(
    graph: &Graph,
    rules: &Rules,
    findings: &mut Vec<Finding>,
    warnings: &mut Vec<String>,
) {
    let gaps = service_gaps(graph, rules);
    for (k, kind) in rules.kinds.iter().enumerate() {
        if kind.must_be_referenced_by.is_empty() {
            continue;
        }
        let referring: BTreeSet<ServiceId> = kind
            .must_be_referenced_by
            .iter()
            .map(|&l| rules.kind(rules.link(l).kind).service)
            .collect();
        let mut skipped = Vec::new();
        for &s in &referring {
            let g = &gaps[s as usize];
            if !g.is_empty() {
                skipped.push(format!(
                    "service {}: {}",
                    rules.service(s).name,
                    g.join(", ")
                ));
            }
        }
        if !skipped.is_empty() {
            warnings.push(format!(
                "orphan detection for kind `{}` skipped: evidence is incomplete ({})",
                kind.name,
                skipped.join("; ")
            ));
            continue;
        }
        // Which resources some required link reaches.
        let mut required = vec![false; rules.links.len()];
        for &l in &kind.must_be_referenced_by {
            required[usize::from(l)] = true;
        }
        let mut referenced = vec![false; graph.nodes.len()];
        for e in &graph.edges {
            // `NO_RELATION` is past the end: no rule requires it.
            if required.get(usize::from(e.relation)) == Some(&true) {
                referenced[e.target as usize] = true;
            }
        }
        let expected: Vec<String> = kind
            .must_be_referenced_by
            .iter()
            .map(|&l| rules.link(l).name.clone())
            .collect();
        for (i, node) in graph.nodes.iter().enumerate() {
            if node.service != Some(kind.service) {
                continue;
            }
            let NodeState::Done(o) = &node.state else {
                continue;
            };
            if !o.is_ok() {
                continue;
            }
            if node.kind != Some(k as u16) {
                continue;
            }
            if referenced[i] {
                continue;
            }
            let resource = graph.url(i as u32).to_string();
            findings.push(Finding {
                // Hashed in its alias form: the same id in every environment.
                id: finding_id(
                    FindingKind::Orphan,
                    Some(&rules.alias_form(&resource)),
                    None,
                    None,
                ),
                kind: FindingKind::Orphan,
                body: FindingBody::Orphan(OrphanFinding {
                    resource,
                    of_kind: k as u16,
                    expected_referenced_by: expected.clone(),
                }),
                compensations: Vec::new(),
            });
        }
    }
}
