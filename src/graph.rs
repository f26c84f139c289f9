//! The reference graph: interned URLs (u32 ids), compact edges, and what each fetch ended as.

use crate::crawl::{Class, Reason};
use crate::intern::Interner;
use crate::rules::{KindId, LinkId, Rules, ServiceId};

/// Index of an interned URL.
pub type NodeId = u32;

/// No link rule matched (`relation: null`).
pub const NO_RELATION: LinkId = LinkId::MAX;

/// What became of one URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeState {
    /// Seen as a link target, not (yet) fetched.
    Pending,
    /// Not fetched because `--max-depth` or `--max-resources` cut it.
    Cut,
    /// Fetched: the final outcome after retries and redirects.
    Done(Outcome),
}

/// The final outcome of a fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The last HTTP status, if any answer came.
    pub status: Option<u16>,
    /// Requests made for this URL (retries included, redirect hops not counted twice).
    pub attempts: u32,
    /// `None` when the fetch ended 2xx.
    pub failure: Option<Box<Failure>>,
}

/// Why a fetch did not end 2xx.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub reason: Reason,
    pub class: Class,
    /// A human sentence (`503 Service Unavailable after 4 attempts`). Never holds secrets.
    pub detail: String,
}

impl Outcome {
    pub fn is_ok(&self) -> bool {
        self.failure.is_none()
    }
}

/// One URL of the graph.
#[derive(Debug, Clone)]
pub struct Node {
    /// The declared service the URL belongs to; `None` for out-of-scope URLs.
    pub service: Option<ServiceId>,
    /// The kind the URL matches (set by the crawler when it interns the URL).
    pub kind: Option<KindId>,
    pub depth: u32,
    /// It answered 2xx with a body that is not JSON: it exists, but its links are unknown.
    pub unreadable: bool,
    pub state: NodeState,
}

/// One reference: `source` links to `target` at `pointer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Edge {
    pub source: NodeId,
    /// Interned pointer (see [`Graph::pointer`]).
    pub pointer: u32,
    pub target: NodeId,
    /// The matching link rule, or [`NO_RELATION`].
    pub relation: LinkId,
}

/// Counters of the requests a crawl made.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Requests made (attempts, retries and redirect hops included).
    pub requests: u64,
    /// Attempts beyond the first for a URL.
    pub retries: u64,
    /// Requests per service (indexed by `ServiceId`).
    pub service_requests: Vec<u64>,
}

/// The cross-service reference graph a crawl produced.
#[derive(Debug, Clone)]
pub struct Graph {
    urls: Interner,
    pointers: Interner,
    pub nodes: Vec<Node>,
    /// In-scope references, sorted and deduplicated by [`Graph::finish`].
    pub edges: Vec<Edge>,
    /// References to URLs outside every declared service.
    pub out_of_scope: Vec<Edge>,
    /// Seed URLs, in rules order.
    pub seeds: Vec<NodeId>,
    pub stats: Stats,
    /// Services with URLs not fetched because of `--max-depth` / `--max-resources`.
    pub cut_services: Vec<bool>,
    /// Services whose circuit breaker opened.
    pub unavailable: Vec<bool>,
    /// False when the crawl was interrupted.
    pub complete: bool,
}

impl Graph {
    pub fn new(services: usize) -> Graph {
        Graph {
            urls: Interner::new(),
            pointers: Interner::new(),
            nodes: Vec::new(),
            edges: Vec::new(),
            out_of_scope: Vec::new(),
            seeds: Vec::new(),
            stats: Stats {
                service_requests: vec![0; services],
                ..Stats::default()
            },
            cut_services: vec![false; services],
            unavailable: vec![false; services],
            complete: true,
        }
    }

    /// Interns a canonical URL; returns its id and whether it is new.
    pub fn intern(&mut self, url: &str, service: Option<ServiceId>, depth: u32) -> (NodeId, bool) {
        self.intern_hashed(url, crate::intern::hash(url), service, depth)
    }

    /// Makes room for `nodes` more URLs of `bytes` bytes in all.
    pub fn reserve(&mut self, nodes: usize, bytes: usize) {
        self.urls.reserve(nodes, bytes);
        self.nodes.reserve(nodes);
    }

    /// [`Graph::intern`] for a URL whose [`hash`](crate::intern::hash) is known.
    pub fn intern_hashed(
        &mut self,
        url: &str,
        hash: u64,
        service: Option<ServiceId>,
        depth: u32,
    ) -> (NodeId, bool) {
        let (i, new) = self.urls.intern_hashed(url, hash);
        if !new {
            return (i, false);
        }
        self.nodes.push(Node {
            service,
            kind: None,
            depth,
            unreadable: false,
            state: NodeState::Pending,
        });
        (i, true)
    }

    /// The id of a URL already in the graph.
    pub fn id(&self, url: &str) -> Option<NodeId> {
        self.urls.get(url)
    }

    /// The URL of a node.
    pub fn url(&self, id: NodeId) -> &str {
        self.urls.resolve(id)
    }

    /// The node for an id.
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id as usize]
    }

    /// Interns a pointer.
    pub fn intern_pointer(&mut self, pointer: &str) -> u32 {
        self.pointers.intern(pointer).0
    }

    /// The pointer text of an edge.
    pub fn pointer(&self, id: u32) -> &str {
        self.pointers.resolve(id)
    }

    /// Number of URLs in the graph.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Sorts and deduplicates edges: one reference per (source, pointer, target); when the same
    /// reference was seen with and without a relation, the relation wins.
    pub fn finish(&mut self) {
        for edges in [&mut self.edges, &mut self.out_of_scope] {
            edges.sort_unstable();
            edges.dedup_by(|next, kept| {
                let same = next.source == kept.source
                    && next.pointer == kept.pointer
                    && next.target == kept.target;
                if same && kept.relation == NO_RELATION {
                    kept.relation = next.relation;
                }
                same
            });
        }
    }

    /// The outcome of a node, if it was fetched.
    pub fn outcome(&self, id: NodeId) -> Option<&Outcome> {
        match &self.nodes[id as usize].state {
            NodeState::Done(o) => Some(o),
            _ => None,
        }
    }

    /// Per-service counts: (2xx URLs, URLs that did not end 2xx).
    pub fn service_counts(&self, rules: &Rules) -> Vec<(u64, u64)> {
        let mut counts = vec![(0u64, 0u64); rules.services.len()];
        for n in &self.nodes {
            let (Some(s), NodeState::Done(o)) = (n.service, &n.state) else {
                continue;
            };
            if o.is_ok() {
                counts[s as usize].0 += 1;
            } else {
                counts[s as usize].1 += 1;
            }
        }
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interning_is_stable_and_edges_dedup_keeping_relation() {
        let mut g = Graph::new(1);
        let (a, new_a) = g.intern("http://h/a", Some(0), 0);
        let (b, _) = g.intern("http://h/b", Some(0), 1);
        let (a2, new_a2) = g.intern("http://h/a", Some(0), 3);
        assert!(new_a && !new_a2);
        assert_eq!(a, a2);
        assert_eq!(g.url(b), "http://h/b");
        let p = g.intern_pointer("/x");
        assert_eq!(g.intern_pointer("/x"), p);
        g.edges.push(Edge {
            source: a,
            pointer: p,
            target: b,
            relation: NO_RELATION,
        });
        g.edges.push(Edge {
            source: a,
            pointer: p,
            target: b,
            relation: 4,
        });
        g.edges.push(Edge {
            source: a,
            pointer: p,
            target: b,
            relation: NO_RELATION,
        });
        g.finish();
        assert_eq!(g.edges.len(), 1);
        assert_eq!(g.edges[0].relation, 4);
    }
}
