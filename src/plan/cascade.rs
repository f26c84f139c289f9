//! A deletion's consequences: references to a deleted resource through declared links get
//! their link's action, and resources the deletions leave unreferenced get their orphan action.

use std::collections::{HashSet, VecDeque};

use super::{manual, set_null_patch};
use crate::analyze::{Analysis, Compensation};
use crate::graph::{Edge, Graph, NodeId, NodeState, NO_RELATION};
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

fn is_delete(c: &Compensation) -> bool {
    c.method == Some(Method::Delete)
}

/// A DELETE that a cascade or an orphan action adds.
fn delete(action: Action, url: String, reason: String) -> Compensation {
    Compensation {
        action,
        method: Some(Method::Delete),
        url,
        content_type: None,
        body: None,
        reason,
    }
}

/// Adds the follow-up compensations of every planned DELETE.
pub(super) fn follow_up(analysis: &mut Analysis, graph: &Graph, rules: &Rules) {
    let deletes_anything = analysis
        .findings
        .iter()
        .any(|f| f.compensations.iter().any(is_delete));
    if !deletes_anything {
        return;
    }
    let incoming = Incoming::new(graph);
    let mut cascade = Cascade {
        graph,
        rules,
        incoming: &incoming,
        deleted: direct_deletes(analysis, graph),
        touched: HashSet::new(),
    };
    for f in &mut analysis.findings {
        cascade.finding(&mut f.compensations);
    }
}

/// Everything any finding deletes directly: a follow-up never re-plans those.
fn direct_deletes(analysis: &Analysis, graph: &Graph) -> HashSet<NodeId> {
    let mut deleted: HashSet<NodeId> = HashSet::new();
    for f in &analysis.findings {
        for c in &f.compensations {
            if is_delete(c) {
                if let Some(id) = graph.id(&c.url) {
                    deleted.insert(id);
                }
            }
        }
    }
    deleted
}

/// The follow-ups across all findings: what the plan deletes so far, and the references
/// already given an action (each gets one, from the first finding that reaches it).
struct Cascade<'a> {
    graph: &'a Graph,
    rules: &'a Rules,
    incoming: &'a Incoming,
    deleted: HashSet<NodeId>,
    touched: HashSet<(NodeId, u32)>,
}

impl Cascade<'_> {
    /// Appends to one finding's compensations the follow-ups of its DELETEs, breadth first.
    fn finding(&mut self, compensations: &mut Vec<Compensation>) {
        let roots: Vec<NodeId> = compensations
            .iter()
            .filter(|c| is_delete(c))
            .filter_map(|c| self.graph.id(&c.url))
            .collect();
        let mut queue: VecDeque<NodeId> = roots.into();
        while let Some(gone) = queue.pop_front() {
            let gone_url = self.graph.url(gone).to_string();
            self.referrers(gone, &gone_url, &mut queue, compensations);
            self.orphans(gone, &gone_url, &mut queue, compensations);
        }
    }

    /// References to the deleted resource: each live referrer gets its link's action.
    fn referrers(
        &mut self,
        gone: NodeId,
        gone_url: &str,
        queue: &mut VecDeque<NodeId>,
        out: &mut Vec<Compensation>,
    ) {
        let (graph, incoming) = (self.graph, self.incoming);
        for &ei in incoming.of(gone) {
            let e = graph.edges[ei as usize];
            if self.deleted.contains(&e.source)
                || !is_live(graph, e.source)
                || !self.touched.insert((e.source, ei))
            {
                continue;
            }
            let c = self.on_broken(e, gone_url, queue);
            out.push(c);
        }
    }

    /// The action of the link `e` once its target `gone_url` is deleted.
    fn on_broken(&mut self, e: Edge, gone_url: &str, queue: &mut VecDeque<NodeId>) -> Compensation {
        let rule = self.rules.link(e.relation);
        let src = self.graph.url(e.source).to_string();
        let why = format!(
            "{} of {src} points at {gone_url}, which this plan deletes",
            rule.name
        );
        match rule.on_broken {
            BrokenAction::Cascade => {
                self.deleted.insert(e.source);
                queue.push_back(e.source);
                delete(Action::Cascade, src, why)
            }
            BrokenAction::SetNull => {
                match set_null_patch(self.graph.pointer(e.pointer), &rule.selector) {
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
        }
    }

    /// Resources the deleted one referenced and that may now have no required referrer:
    /// each one left unreferenced gets its orphan action.
    fn orphans(
        &mut self,
        gone: NodeId,
        gone_url: &str,
        queue: &mut VecDeque<NodeId>,
        out: &mut Vec<Compensation>,
    ) {
        let graph = self.graph;
        // Edges are sorted by source (Graph::finish).
        let from = graph.edges.partition_point(|e| e.source < gone);
        for e in graph.edges[from..].iter().take_while(|e| e.source == gone) {
            if e.relation != NO_RELATION {
                if let Some(c) = self.orphaned(e.target, gone_url, queue) {
                    out.push(c);
                }
            }
        }
    }

    /// The orphan action of `t` if deleting `gone_url` leaves it without a required referrer.
    fn orphaned(
        &mut self,
        t: NodeId,
        gone_url: &str,
        queue: &mut VecDeque<NodeId>,
    ) -> Option<Compensation> {
        let (graph, rules) = (self.graph, self.rules);
        if self.deleted.contains(&t) || !is_live(graph, t) {
            return None;
        }
        let kind = rules.kind(graph.node(t).kind?);
        if kind.must_be_referenced_by.is_empty() {
            return None;
        }
        let still_referenced = self.incoming.of(t).iter().any(|&ei| {
            let e = graph.edges[ei as usize];
            kind.must_be_referenced_by.contains(&e.relation) && !self.deleted.contains(&e.source)
        });
        if still_referenced {
            return None;
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
        Some(match kind.on_orphan {
            OrphanAction::Delete => {
                self.deleted.insert(t);
                queue.push_back(t);
                delete(Action::Delete, t_url, why)
            }
            OrphanAction::Manual => manual(&t_url, format!("{why}; decide by hand")),
        })
    }
}
