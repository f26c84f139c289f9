//! The reference graph: interned URLs (u32 ids), compact edges, and what each fetch ended as.

use std::sync::Arc;

use crate::intern::Interner;
use crate::rules::{KindId, LinkId, Rules, ServiceId};
use crate::vocab::{Class, Reason};

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
    /// How each service took the load of a live crawl (indexed by `ServiceId`); empty for
    /// an audit of a snapshot.
    pub service_load: Vec<Option<ServiceLoad>>,
}

/// The concurrency a live crawl reached with one service and the latency it saw.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ServiceLoad {
    /// The highest number of requests in flight allowed (adaptive), or the configured one.
    pub peak_limit: usize,
    /// Latency of its answers in milliseconds: median and 99th percentile.
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// The cross-service reference graph a crawl produced.
#[derive(Debug, Clone)]
pub struct Graph {
    /// Every URL, by node id. Shared with a scanned snapshot the graph was replayed from (it
    /// holds every URL of the snapshot already; see [`Graph::adopt`]).
    urls: Arc<Interner>,
    /// Per id, whether the URL is not (yet) a node: a URL of an adopted interner the crawl has
    /// not reached. Empty when every URL is a node. [`Graph::finish`] drops absent URLs.
    absent: Vec<bool>,
    /// Nodes that are not absent.
    present: usize,
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
    /// What the crawl noticed about the services' answers that the report should say (a
    /// `Link` header without `<>`, once per service).
    pub warnings: Vec<String>,
    /// Per fetched node, the value its body held at its kind's `timestamp` pointer (live
    /// crawls; an audit reads timestamps from its snapshot).
    pub stamps: rustc_hash::FxHashMap<NodeId, serde_json::Value>,
}

impl Graph {
    pub fn new(services: usize) -> Graph {
        Graph {
            urls: Arc::new(Interner::new()),
            absent: Vec::new(),
            present: 0,
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
            warnings: Vec::new(),
            stamps: Default::default(),
        }
    }

    /// Interns a canonical URL; returns its id and whether it is new.
    pub fn intern(&mut self, url: &str, service: Option<ServiceId>, depth: u32) -> (NodeId, bool) {
        self.intern_hashed(url, crate::intern::hash(url), service, depth)
    }

    /// A graph over `urls` (a scanned snapshot's), none of which is a node yet: interning one
    /// of them makes it a node without copying or hashing it again.
    pub fn adopt(services: usize, urls: Arc<Interner>) -> Graph {
        let n = urls.len();
        let mut g = Graph::new(services);
        g.nodes = vec![Graph::new_node(None, 0); n];
        g.absent = vec![true; n];
        g.urls = urls;
        g
    }

    fn new_node(service: Option<ServiceId>, depth: u32) -> Node {
        Node {
            service,
            kind: None,
            depth,
            unreadable: false,
            state: NodeState::Pending,
        }
    }

    /// Whether `id` is a URL of the adopted interner that is not a node (yet).
    pub fn is_absent(&self, id: NodeId) -> bool {
        self.absent.get(id as usize).copied().unwrap_or(false)
    }

    /// Makes the absent URL `id` a node.
    pub fn activate(&mut self, id: NodeId, service: Option<ServiceId>, depth: u32) {
        debug_assert!(self.is_absent(id));
        self.absent[id as usize] = false;
        self.present += 1;
        self.nodes[id as usize] = Graph::new_node(service, depth);
    }

    /// [`Graph::intern`] for a URL whose [`hash`](crate::intern::hash) is known.
    pub fn intern_hashed(
        &mut self,
        url: &str,
        hash: u64,
        service: Option<ServiceId>,
        depth: u32,
    ) -> (NodeId, bool) {
        if let Some(i) = self.urls.get_hashed(url, hash) {
            if !self.is_absent(i) {
                return (i, false);
            }
            self.activate(i, service, depth);
            return (i, true);
        }
        // A new URL: the interner is shared only while a replay reads it, and a replay interns
        // no URL its snapshot lacks once its seeds are in.
        let (i, _) = Arc::make_mut(&mut self.urls).intern_hashed(url, hash);
        self.nodes.push(Graph::new_node(service, depth));
        if !self.absent.is_empty() {
            self.absent.push(false);
        }
        self.present += 1;
        (i, true)
    }

    /// The id of a URL already in the graph.
    pub fn id(&self, url: &str) -> Option<NodeId> {
        self.urls.get(url).filter(|&i| !self.is_absent(i))
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
        if self.absent.is_empty() {
            self.nodes.len()
        } else {
            self.present
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops the absent URLs of an adopted interner: node ids are renumbered (in order) and the
    /// reached URLs copied into an interner of their own.
    fn drop_absent(&mut self) {
        if self.absent.is_empty() {
            return;
        }
        if self.present == self.nodes.len() {
            self.absent = Vec::new();
            return;
        }
        let mut new_id = vec![NodeId::MAX; self.nodes.len()];
        let bytes =
            (self.urls.bytes() as f64 * self.present as f64 / self.nodes.len() as f64) as usize;
        let mut urls = Interner::with_capacity(self.present, bytes);
        let mut nodes = Vec::with_capacity(self.present);
        for (i, node) in std::mem::take(&mut self.nodes).into_iter().enumerate() {
            if self.absent[i] {
                continue;
            }
            let id = i as NodeId;
            new_id[i] = urls.intern(self.urls.resolve(id)).0;
            nodes.push(node);
        }
        for e in self.edges.iter_mut().chain(self.out_of_scope.iter_mut()) {
            e.source = new_id[e.source as usize];
            e.target = new_id[e.target as usize];
        }
        for s in &mut self.seeds {
            *s = new_id[*s as usize];
        }
        self.stamps = std::mem::take(&mut self.stamps)
            .into_iter()
            .map(|(id, v)| (new_id[id as usize], v))
            .collect();
        self.nodes = nodes;
        self.urls = Arc::new(urls);
        self.absent = Vec::new();
    }

    /// Sorts and deduplicates edges: one reference per (source, pointer, target); when the same
    /// reference was seen with and without a relation, the relation wins. URLs an adopted
    /// interner held but the crawl never reached are dropped.
    pub fn finish(&mut self) {
        self.drop_absent();
        for edges in [&mut self.edges, &mut self.out_of_scope] {
            sort_edges(edges);
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

/// Sorts `edges` as `sort_unstable` would, by radix on the source: edges are bucketed in place
/// by the high bits of their source, each bucket (small enough to stay in cache) by the low
/// bits, and then each source's few edges are sorted. Equal edges are identical, so the order
/// is the same. On the 1M audit a comparison sort of 2.6 M edges was a third of the replay's
/// instructions; a one-level bucketing by source was linear but slower still, every swap a
/// cache miss.
fn sort_edges(edges: &mut [Edge]) {
    let nodes = edges
        .iter()
        .map(|e| e.source as usize + 1)
        .max()
        .unwrap_or(0);
    // Small lists, or few edges over many sources: counting would cost more than it saves.
    if edges.len() < 64 || edges.len() < nodes / 4 {
        edges.sort_unstable();
        return;
    }
    // At most 2^LOW_BITS buckets per level: their write cursors stay in cache.
    const LOW_BITS: u32 = 10;
    let bits = usize::BITS - (nodes - 1).leading_zeros();
    let shift = bits.saturating_sub(LOW_BITS);
    let (mut start, mut next) = (Vec::new(), Vec::new());
    let high = (nodes - 1) >> shift;
    bucket_by(
        edges,
        high + 1,
        |e| (e.source >> shift) as usize,
        &mut start,
        &mut next,
    );
    if shift == 0 {
        sort_buckets(edges, &start);
        return;
    }
    // The buckets' own sorts are independent: the upper half of the edges is sorted on a second
    // thread when there are enough of them to pay for it.
    let split = if edges.len() >= PARALLEL_EDGES {
        start.partition_point(|&s| (s as usize) < edges.len() / 2)
    } else {
        start.len() - 1
    };
    let (low_edges, high_edges) = edges.split_at_mut(start[split] as usize);
    let (low, high) = (&start[..=split], &start[split..]);
    std::thread::scope(|scope| {
        if high.len() > 1 {
            scope.spawn(|| sort_parts(high_edges, high, shift, high[0]));
        }
        sort_parts(low_edges, low, shift, 0);
    });
}

/// Edges from which [`sort_edges`] uses a second thread.
const PARALLEL_EDGES: usize = 1 << 16;

/// Sorts each part `bounds[i]..bounds[i + 1]` (offsets from `base`, the start of `edges`) of
/// edges sharing the high bits of their source: bucketed by the low `shift` bits, then each
/// source's edges sorted.
fn sort_parts(edges: &mut [Edge], bounds: &[u32], shift: u32, base: u32) {
    let (mut start, mut next) = (Vec::new(), Vec::new());
    let mask = (1u32 << shift) - 1;
    for w in bounds.windows(2) {
        let part = &mut edges[(w[0] - base) as usize..(w[1] - base) as usize];
        if part.len() < 64 {
            part.sort_unstable();
            continue;
        }
        bucket_by(
            part,
            1 << shift,
            |e| (e.source & mask) as usize,
            &mut start,
            &mut next,
        );
        sort_buckets(part, &start);
    }
}

/// Reorders `edges` in place so that bucket `b` of `key` (below `buckets`) holds its edges at
/// `start[b]..start[b + 1]` (an American flag sort: one count, then one pass of swaps).
fn bucket_by(
    edges: &mut [Edge],
    buckets: usize,
    key: impl Fn(&Edge) -> usize,
    start: &mut Vec<u32>,
    next: &mut Vec<u32>,
) {
    start.clear();
    start.resize(buckets + 1, 0);
    for e in edges.iter() {
        start[key(e) + 1] += 1;
    }
    for b in 0..buckets {
        start[b + 1] += start[b];
    }
    next.clear();
    next.extend_from_slice(start);
    for b in 0..buckets {
        let end = start[b + 1];
        while next[b] < end {
            let i = next[b] as usize;
            let home = key(&edges[i]);
            if home == b {
                next[b] += 1;
            } else {
                // Put edge `i` in its bucket, and look again at what it displaced.
                let j = next[home] as usize;
                next[home] += 1;
                edges.swap(i, j);
            }
        }
    }
}

/// Sorts each bucket `start[b]..start[b + 1]` of `edges` (all of one source).
fn sort_buckets(edges: &mut [Edge], start: &[u32]) {
    for w in start.windows(2) {
        let bucket = &mut edges[w[0] as usize..w[1] as usize];
        // A response's links often come in order already.
        if bucket.len() > 1 && !bucket.is_sorted() {
            bucket.sort();
        }
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

    #[test]
    fn the_bucket_sort_of_edges_agrees_with_a_comparison_sort() {
        // Deterministic pseudo-random edges, many per source, duplicates included.
        let mut n: u64 = 0x2545f4914f6cdd1d;
        let mut next = |m: u64| {
            n ^= n << 13;
            n ^= n >> 7;
            n ^= n << 17;
            (n % m) as u32
        };
        for (count, nodes) in [
            (0, 0),
            (10, 5),
            (63, 2),
            (64, 2),
            (1000, 50),
            (5000, 1000),
            (5000, 1024),
            (5000, 1025),
            (20000, 3000),
            (40000, 5000),
            // Past `PARALLEL_EDGES`: the upper half is sorted on a second thread.
            (PARALLEL_EDGES * 2, 30_000),
        ] {
            let edges: Vec<Edge> = (0..count)
                .map(|_| Edge {
                    source: next(nodes as u64),
                    pointer: next(4),
                    target: next(nodes as u64),
                    relation: [NO_RELATION, 0, 1][next(3) as usize],
                })
                .collect();
            let mut expected = edges.clone();
            expected.sort_unstable();
            let mut sorted = edges;
            sort_edges(&mut sorted);
            assert_eq!(sorted, expected, "{count} edges over {nodes} nodes");
        }
    }
}
