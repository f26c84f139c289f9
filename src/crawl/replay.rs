//! The crawl of a scanned snapshot: the same walk from the seeds as [`crawl`](super::crawl)
//! (same queues, limits, breaker, redirects and retries), done in one thread over the links
//! the scan extracted ahead, one URL at a time.

use std::sync::Arc;

use url::Url;

use super::adaptive::AdaptiveLimit;
use super::engine::{CrawlOptions, Done, Observer, State, Stop};
use super::fetch::Fetcher;
use super::scan::{Link, ScannedSnapshot, NONE};
use crate::graph::{Edge, Graph, NodeId, Outcome};
use crate::source::{Attempt, History, Response, Source};

/// Crawls `scan` from every service's seeds, as [`crawl`](super::crawl) would over the same
/// snapshot, and returns the reference graph. Recorded rate limits are not waited for: a
/// replay answers at once.
pub fn replay(
    scan: Arc<ScannedSnapshot>,
    opts: &CrawlOptions,
    rules: Arc<crate::rules::Rules>,
    observer: Arc<dyn Observer>,
    stop: &Stop,
) -> Graph {
    let mut st = State::new(rules.clone(), opts, observer.clone());
    // The scan interned every URL of the snapshot (and the seeds): the graph's node ids are
    // the scan's URL ids, and no URL is hashed or copied again.
    st.g = Graph::adopt(rules.services.len(), scan.urls());
    let (links, out_of_scope) = scan.link_counts();
    st.g.edges.reserve_exact(links);
    st.g.out_of_scope.reserve_exact(out_of_scope);
    st.seed();
    let fetcher = Fetcher {
        source: Arc::new(ScanSource { scan: scan.clone() }),
        rules: rules.clone(),
        policy: opts.retry,
        pacers: Arc::new(rules.services.iter().map(|_| None).collect()),
        // A snapshot answers without load: every service's limit stays fixed.
        load: Arc::new(
            rules
                .services
                .iter()
                .map(|_| AdaptiveLimit::fixed(usize::MAX))
                .collect(),
        ),
        observer,
    };
    let mut r = Replay {
        told: st.g.len(),
        st,
        pointer_of: vec![NONE; scan.pointer_count()],
        scan: &scan,
    };

    let mut next_service = 0usize;
    let mut done = 0u64;
    let mut stopped = false;
    while let Some(id) = r.st.next_to_fetch(&mut next_service) {
        if done % 1024 == 0 && stop.is_set() {
            // Counted as dispatched but not fetched: the URL stays pending.
            stopped = true;
            break;
        }
        done += 1;
        r.fetch(id, &fetcher);
        if done % DISCOVERED_EVERY == 0 {
            r.tell_discovered();
        }
    }
    r.tell_discovered();
    r.st.finish(stopped || stop.is_set())
}

/// Fetches between two [`Observer::discovered`] calls: a replay fetches a URL in well under a
/// microsecond, and a progress bar's length set per fetch cost ~650 instructions each
/// (a mutex, the clock, an estimate); it is drawn at 10 Hz at most anyway.
const DISCOVERED_EVERY: u64 = 256;

struct Replay<'s> {
    st: State,
    scan: &'s ScannedSnapshot,
    /// Scan pointer id → graph pointer id.
    pointer_of: Vec<u32>,
    /// The URL count observers were last told.
    told: usize,
}

impl Replay<'_> {
    fn fetch(&mut self, id: NodeId, fetcher: &Fetcher<ScanSource>) {
        let scan = self.scan;
        // Node ids are scan URL ids (the seeds too).
        let rec = scan.rec(id);
        // Most URLs answered 2xx at once: no redirect, nothing to retry.
        if let Some((rec, status)) = rec.and_then(|r| Some((r, r.ok_status()?))) {
            let service = self.st.g.nodes[id as usize].service.expect("in scope");
            self.st.record(
                id,
                Done {
                    outcome: Outcome {
                        status: Some(status),
                        attempts: 1,
                        failure: None,
                    },
                    requests: &[(service, 1)],
                    response: None,
                    redirect: None,
                    body: None,
                    skipped: false,
                    unreadable: rec.unreadable,
                    earlier: &[],
                    detail: None,
                },
            );
            let (links, out) = scan.links_of(rec);
            self.add_links(id, links, out);
            return;
        }
        // Anything else goes through the crawl's own fetch: redirects, retries, statuses.
        let url = Url::parse(self.st.g.url(id)).expect("canonical");
        let fetched = futures::executor::block_on(fetcher.fetch(&url));
        let ok = fetched.outcome.is_ok();
        let final_rec = ok
            .then(|| scan.id(fetched.final_url.as_str()))
            .flatten()
            .and_then(|f| scan.rec(f));
        let unreadable = final_rec.is_some_and(|r| r.unreadable);
        self.st.record(id, Done::of(&fetched, None, unreadable));
        if let Some(rec) = final_rec {
            let (links, out) = scan.links_of(rec);
            self.add_links(id, links, out);
        }
    }

    /// Tells observers how many URLs are known, when that changed since they were last told.
    fn tell_discovered(&mut self) {
        let len = self.st.g.len();
        if len != self.told {
            self.told = len;
            self.st.observer.discovered(len as u64);
        }
    }

    /// The node of a scan URL found in the response of a node at `depth`.
    fn node(&mut self, id: NodeId, depth: u32) -> Option<NodeId> {
        if !self.st.g.is_absent(id) {
            self.st.reached(id, depth);
            return Some(id);
        }
        let meta = self.scan.meta(id);
        self.st.admit_with(meta.service, meta.kind, |g| {
            g.activate(id, meta.service, depth);
            id
        })
    }

    fn pointer(&mut self, p: u32) -> u32 {
        let known = self.pointer_of[p as usize];
        if known != NONE {
            return known;
        }
        let id = self.st.g.intern_pointer(self.scan.pointer(p));
        self.pointer_of[p as usize] = id;
        id
    }

    /// Adds the references of the response of node `id` (as the crawl loop's `complete`).
    fn add_links(&mut self, id: NodeId, links: &[Link], out_of_scope: &[Link]) {
        let depth = self.st.g.nodes[id as usize].depth;
        let mut last: Option<(u32, Option<NodeId>)> = None;
        for l in links {
            let source = match last {
                Some((s, node)) if s == l.source => node,
                _ => {
                    let node = self.node(l.source, depth);
                    last = Some((l.source, node));
                    node
                }
            };
            let (Some(source), Some(target)) = (source, self.node(l.target, depth + 1)) else {
                continue;
            };
            let pointer = self.pointer(l.pointer);
            self.st.g.edges.push(Edge {
                source,
                pointer,
                target,
                relation: l.relation,
            });
        }
        for l in out_of_scope {
            let Some(source) = self.node(l.source, depth) else {
                continue;
            };
            let target = if self.st.g.is_absent(l.target) {
                let t = l.target;
                let made = self.st.admit_out_of_scope_with(id, |g| {
                    g.activate(t, None, depth + 1);
                    t
                });
                let Some(t) = made else { continue };
                t
            } else {
                l.target
            };
            let pointer = self.pointer(l.pointer);
            self.st.g.out_of_scope.push(Edge {
                source,
                pointer,
                target,
                relation: l.relation,
            });
        }
    }
}

/// The scanned snapshot as a source, for the fetches that are not a plain 2xx: statuses,
/// headers (`Location`, `Retry-After`) and recorded errors. Bodies are not read: the scan
/// already extracted their links.
struct ScanSource {
    scan: Arc<ScannedSnapshot>,
}

impl Source for ScanSource {
    async fn fetch(&self, url: &Url) -> Attempt {
        let Some(rec) = self.scan.id(url.as_str()).and_then(|id| self.scan.rec(id)) else {
            return crate::source::snapshot::replay(None);
        };
        match rec.outcome {
            Ok(status) => Attempt::Answer(Response {
                status,
                headers: self.scan.headers(rec),
                body: bytes::Bytes::new(),
                truncated: false,
            }),
            Err(reason) => Attempt::Failed {
                reason,
                detail: self
                    .scan
                    .history(rec)
                    .and_then(|h| h.detail.clone())
                    .unwrap_or_else(|| crate::source::snapshot::recorded_detail(reason)),
                status: rec.error_status,
            },
        }
    }

    fn history(&self, url: &Url) -> Option<Arc<History>> {
        let rec = self
            .scan
            .id(url.as_str())
            .and_then(|id| self.scan.rec(id))?;
        self.scan.history(rec)
    }

    fn sleeps(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    use super::*;
    use crate::crawl::{crawl, Quiet, RetryPolicy};
    use crate::graph::NodeState;
    use crate::rules::Rules;
    use crate::source::{Snapshot, SnapshotSource};

    /// Everything a graph says, keyed by URL (node ids depend on the order of discovery).
    fn normal(g: &Graph) -> Vec<String> {
        let mut out = vec![format!(
            "stats {} {} {:?} cut {:?} unavailable {:?} complete {} seeds {:?}",
            g.stats.requests,
            g.stats.retries,
            g.stats.service_requests,
            g.cut_services,
            g.unavailable,
            g.complete,
            g.seeds.iter().map(|&s| g.url(s)).collect::<Vec<_>>(),
        )];
        let nodes: BTreeSet<String> = (0..g.len() as NodeId)
            .map(|id| {
                let n = g.node(id);
                let state = match &n.state {
                    NodeState::Done(o) => format!("{o:?}"),
                    other => format!("{other:?}"),
                };
                format!(
                    "node {} {:?} {:?} depth {} unreadable {} {state}",
                    g.url(id),
                    n.service,
                    n.kind,
                    n.depth,
                    n.unreadable
                )
            })
            .collect();
        let edges = |edges: &[Edge], tag: &str| -> BTreeSet<String> {
            edges
                .iter()
                .map(|e| {
                    format!(
                        "{tag} {} {} {} {}",
                        g.url(e.source),
                        g.pointer(e.pointer),
                        g.url(e.target),
                        e.relation
                    )
                })
                .collect()
        };
        out.extend(nodes);
        out.extend(edges(&g.edges, "edge"));
        out.extend(edges(&g.out_of_scope, "out"));
        out
    }

    fn both(rules: Rules, snapshot: &Path, opts: CrawlOptions) -> (Vec<String>, Vec<String>) {
        let rules = Arc::new(rules);
        // One fetch at a time: the crawl loop then visits URLs in the replay's order, so even
        // order-dependent outcomes (breaker, depth, resource limits) must agree.
        let opts = CrawlOptions {
            concurrency: 1,
            ..opts
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let snap = Arc::new(Snapshot::load(snapshot).unwrap());
        let crawled = rt.block_on(crawl(
            rules.clone(),
            Arc::new(SnapshotSource::new(snap)),
            opts.clone(),
            Arc::new(Quiet),
            Stop::never(),
        ));
        let scan = ScannedSnapshot::open(snapshot, &rules, &Stop::never())
            .unwrap()
            .unwrap();
        let replayed = replay(
            Arc::new(scan),
            &opts,
            rules,
            Arc::new(Quiet),
            &Stop::never(),
        );
        (normal(&crawled), normal(&replayed))
    }

    fn assert_same(rules: Rules, snapshot: &Path, opts: CrawlOptions) {
        let (crawled, replayed) = both(rules, snapshot, opts);
        assert!(crawled.len() > 2, "{crawled:?}");
        for (c, r) in crawled.iter().zip(&replayed) {
            assert_eq!(c, r, "{}", snapshot.display());
        }
        assert_eq!(crawled.len(), replayed.len(), "{}", snapshot.display());
    }

    #[test]
    fn the_replay_builds_the_crawls_graph_on_every_fixture() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let cases = [
            ("bac-talk", "bac-talk/independent-backup.ndjson"),
            ("bac-talk", "bac-talk/orphan-state.ndjson"),
            ("bac-talk", "bac-talk/synchronized-backup.ndjson"),
            (
                "bac-talk-restore",
                "bac-talk-restore/independent-backup.ndjson",
            ),
            ("bac-talk-restore", "bac-talk-restore/before.ndjson"),
            ("shop", "shop/shop.ndjson"),
            ("shop-restore", "shop-restore/before.ndjson"),
        ];
        for (rules, snapshot) in cases {
            let rules = crate::rules::load(&root.join(format!("rules/{rules}.toml"))).unwrap();
            let path = root.join("fixtures").join(snapshot);
            assert_same(rules.clone(), &path, CrawlOptions::default());
            for depth in [0, 1, 2] {
                let opts = CrawlOptions {
                    max_depth: Some(depth),
                    ..CrawlOptions::default()
                };
                assert_same(rules.clone(), &path, opts);
            }
            for max in [1, 5, 40] {
                let opts = CrawlOptions {
                    max_resources: Some(max),
                    ..CrawlOptions::default()
                };
                assert_same(rules.clone(), &path, opts);
            }
        }
    }

    #[test]
    fn the_replay_agrees_on_redirects_retries_breakers_and_odd_bodies() {
        let rules = crate::rules::parse(
            Path::new("t.toml"),
            r#"
version = 1
[services.a]
base_url = "http://127.0.0.1:9001/"
seeds = ["/a", "/missing-seed"]
[services.b]
base_url = "http://127.0.0.1:9002/"
seeds = ["/b"]
[kinds.item]
service = "a"
path = "/items/{id}"
must_be_referenced_by = ["thing.item"]
[kinds.thing]
service = "b"
path = "/things/{id}"
[kinds.thing.links.item]
rel = "item"
to = "item"
"#,
            &|_| None,
        )
        .unwrap();
        let mut lines: Vec<String> = Vec::new();
        let hal = |url: &str, links: &[(&str, &str)]| {
            let l: Vec<String> = links
                .iter()
                .map(|(rel, href)| format!(r#""{rel}":{{"href":"{href}"}}"#))
                .collect();
            format!(
                r#"{{"url":"{url}","status":200,"headers":{{"content-type":"application/hal+json"}},"body":{{"_links":{{"self":{{"href":"{url}"}},{}}}}}}}"#,
                l.join(",")
            )
        };
        let a = "http://127.0.0.1:9001";
        let b = "http://127.0.0.1:9002";
        lines.push(hal(
            &format!("{a}/a"),
            &[
                ("r1", "/redirect-1"),
                ("r2", "/redirect-chain-0"),
                ("r3", "/redirect-out"),
                ("r4", "/flaky"),
                ("r5", "/gone"),
                ("r6", "/not-json"),
                ("r7", "/null-body"),
                ("r8", "/items/1"),
                ("r9", "/items/2?x=1"),
                ("ext", "http://elsewhere.example/x"),
                ("rel", "items/3"),
                ("dup", "/dup"),
            ],
        ));
        lines.push(format!(
            r#"{{"url":"{a}/redirect-1","status":301,"headers":{{"location":"/items/4"}}}}"#
        ));
        for i in 0..7 {
            lines.push(format!(
                r#"{{"url":"{a}/redirect-chain-{i}","status":302,"headers":{{"location":"/redirect-chain-{}"}}}}"#,
                i + 1
            ));
        }
        lines.push(format!(
            r#"{{"url":"{a}/redirect-out","status":302,"headers":{{"location":"http://elsewhere.example/"}}}}"#
        ));
        lines.push(format!(
            r#"{{"url":"{a}/flaky","status":503,"headers":{{"retry-after":"1"}}}}"#
        ));
        lines.push(format!(r#"{{"url":"{a}/gone","status":410}}"#));
        lines.push(format!(
            r#"{{"url":"{a}/not-json","status":200,"body_not_json":true}}"#
        ));
        lines.push(format!(
            r#"{{"url":"{a}/null-body","status":200,"body":null}}"#
        ));
        lines.push(format!(
            r#"{{"url":"{a}/items/1","status":200,"headers":{{"link":"<{b}/things/9>; rel=\"item\""}},"body":{{"id":1}}}}"#
        ));
        lines.push(hal(&format!("{a}/items/4"), &[("up", "/a")]));
        lines.push(format!(r#"{{"url":"{a}/dup","status":404}}"#));
        lines.push(hal(&format!("{a}/dup"), &[("x", "/items/5")]));
        lines.push(format!(r#"{{"url":"{a}/items/5","error":"timeout"}}"#));
        // Service b: ten timeouts in a row open its breaker; the rest are skipped.
        let things: Vec<(String, String)> = (0..30)
            .map(|i| (format!("t{i}"), format!("{b}/things/{i}")))
            .collect();
        let refs: Vec<(&str, &str)> = things
            .iter()
            .map(|(r, h)| (r.as_str(), h.as_str()))
            .collect();
        lines.push(hal(&format!("{b}/b"), &refs));
        for i in 0..30 {
            if (3..15).contains(&i) {
                lines.push(format!(r#"{{"url":"{b}/things/{i}","error":"timeout"}}"#));
            } else {
                lines.push(hal(
                    &format!("{b}/things/{i}"),
                    &[("item", &format!("{a}/items/{}", i % 4))],
                ));
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.ndjson");
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        for opts in [
            CrawlOptions::default(),
            CrawlOptions {
                retry: RetryPolicy {
                    retries: 0,
                    ..RetryPolicy::default()
                },
                ..CrawlOptions::default()
            },
            CrawlOptions {
                breaker_threshold: 3,
                ..CrawlOptions::default()
            },
            CrawlOptions {
                max_depth: Some(1),
                ..CrawlOptions::default()
            },
            CrawlOptions {
                max_resources: Some(10),
                ..CrawlOptions::default()
            },
        ] {
            let (crawled, replayed) = both(rules.clone(), &path, opts.clone());
            assert!(crawled.iter().any(|l| l.contains("TooManyRedirects")));
            assert!(crawled.iter().any(|l| l.contains("unreadable true")));
            assert_eq!(crawled, replayed, "{opts:?}");
        }
    }
}
