//! A deletion's consequences: references to a deleted resource through declared links get
//! their link's action, and resources the deletions leave unreferenced get their orphan action.

use std::collections::{HashSet, VecDeque};

use super::{manual, set_null_patch};
use crate::analyze::{Analysis, Compensation};
use crate::graph::{Graph, NodeId, NodeState, NO_RELATION};
use crate::rules::{BrokenAction, OrphanAction, Rules};
use crate::vocab::{Action, Method};

/// Incoming declared references per node (compressed: offsets into one edge-index array).
struct Incoming {
    offsets: Vec<u32>,
    edges: Vec<u32>,
}

impl Incoming {
    fn new(graph: &Graph) -> Incoming {
        let n = graph.nodes.len();
        let mut counts = vec![0u32; n + 1];
        for e in graph.edges.iter().filter(|e| e.relation != NO_RELATION) {
            counts[e.target as usize + 1] += 1;
        }
        for i in 0..n {
            counts[i + 1] += counts[i];
        }
        let mut fill = counts.clone();
        let mut edges = vec![0u32; counts[n] as usize];
        for (i, e) in graph.edges.iter().enumerate() {
            if e.relation != NO_RELATION {
                let slot = &mut fill[e.target as usize];
                edges[*slot as usize] = i as u32;
                *slot += 1;
            }
        }
        Incoming {
            offsets: counts,
            edges,
        }
    }

    fn of(&self, node: NodeId) -> &[u32] {
        let a = self.offsets[node as usize] as usize;
        let b = self.offsets[node as usize + 1] as usize;
        &self.edges[a..b]
    }
}

fn is_live(graph: &Graph, id: NodeId) -> bool {
    matches!(&graph.node(id).state, NodeState::Done(o) if o.is_ok())
}

/// Adds the follow-up compensations of every planned DELETE.
pub(super) fn follow_up(analysis: &mut Analysis, graph: &Graph, rules: &Rules) {
    let deletes_anything = analysis.findings.iter().any(|f| {
        f.compensations
            .iter()
            .any(|c| c.method == Some(Method::Delete))
    });
    if !deletes_anything {
        return;
    }
    let incoming = Incoming::new(graph);
    // Everything any finding deletes directly, first: a follow-up never re-plans those.
    let mut deleted: HashSet<NodeId> = HashSet::new();
    for f in &analysis.findings {
        for c in &f.compensations {
            if c.method == Some(Method::Delete) {
                if let Some(id) = graph.id(&c.url) {
                    deleted.insert(id);
                }
            }
        }
    }
    let mut touched: HashSet<(NodeId, u32)> = HashSet::new();
    for f in &mut analysis.findings {
        let roots: Vec<NodeId> = f
            .compensations
            .iter()
            .filter(|c| c.method == Some(Method::Delete))
            .filter_map(|c| graph.id(&c.url))
            .collect();
        let mut queue: VecDeque<NodeId> = roots.into();
        while let Some(gone) = queue.pop_front() {
            let gone_url = graph.url(gone).to_string();
            let mut maybe_orphans: Vec<NodeId> = Vec::new();
            // References to the deleted resource.
            for &ei in incoming.of(gone) {
                let e = graph.edges[ei as usize];
                if deleted.contains(&e.source)
                    || !is_live(graph, e.source)
                    || !touched.insert((e.source, ei))
                {
                    continue;
                }
                let rule = rules.link(e.relation);
                let src = graph.url(e.source).to_string();
                let why = format!(
                    "{} of {src} points at {gone_url}, which this plan deletes",
                    rule.name
                );
                let c = match rule.on_broken {
                    BrokenAction::Cascade => {
                        deleted.insert(e.source);
                        queue.push_back(e.source);
                        Compensation {
                            action: Action::Cascade,
                            method: Some(Method::Delete),
                            url: src,
                            content_type: None,
                            body: None,
                            reason: why,
                        }
                    }
                    BrokenAction::SetNull => {
                        match set_null_patch(graph.pointer(e.pointer), &rule.selector) {
                            Some(patch) => Compensation {
                                action: Action::SetNull,
                                method: Some(Method::Patch),
                                url: src,
                                content_type: Some("application/json-patch+json".into()),
                                body: Some(patch),
                                reason: why,
                            },
                            None => manual(&src, format!("{why}; the link is in a `Link` header")),
                        }
                    }
                    BrokenAction::Recreate => manual(
                        &src,
                        format!("{why}, but its rule says to recreate the target; decide by hand"),
                    ),
                    BrokenAction::Manual => manual(&src, format!("{why}; decide by hand")),
                };
                f.compensations.push(c);
            }
            // Resources the deleted one referenced and that may now have no required referrer.
            // Edges are sorted by source (Graph::finish).
            let from = graph.edges.partition_point(|e| e.source < gone);
            for e in graph.edges[from..].iter().take_while(|e| e.source == gone) {
                if e.relation != NO_RELATION {
                    maybe_orphans.push(e.target);
                }
            }
            for t in maybe_orphans {
                if deleted.contains(&t) || !is_live(graph, t) {
                    continue;
                }
                let Some(k) = graph.node(t).kind else {
                    continue;
                };
                let kind = rules.kind(k);
                if kind.must_be_referenced_by.is_empty() {
                    continue;
                }
                let still_referenced = incoming.of(t).iter().any(|&ei| {
                    let e = graph.edges[ei as usize];
                    kind.must_be_referenced_by.contains(&e.relation) && !deleted.contains(&e.source)
                });
                if still_referenced {
                    continue;
                }
                let t_url = graph.url(t).to_string();
                let why = format!(
                    "{t_url} is left without any {} once this plan deletes {gone_url}",
                    kind.must_be_referenced_by
                        .iter()
                        .map(|&l| rules.link(l).name.as_str())
                        .collect::<Vec<_>>()
                        .join(" or ")
                );
                let c = match kind.on_orphan {
                    OrphanAction::Delete => {
                        deleted.insert(t);
                        queue.push_back(t);
                        Compensation {
                            action: Action::Delete,
                            method: Some(Method::Delete),
                            url: t_url,
                            content_type: None,
                            body: None,
                            reason: why,
                        }
                    }
                    OrphanAction::Manual => manual(&t_url, format!("{why}; decide by hand")),
                };
                f.compensations.push(c);
            }
        }
    }
}
