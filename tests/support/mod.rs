//! Test helpers: rules built from the public model (no TOML parser needed), a crawl runner,
//! wiremock responders that script and time their answers, raw TCP misbehavers, a scripted
//! in-memory `Source` for tests on tokio's paused clock, and a TLS front ([`tls`]) that puts
//! any of these servers behind `https://`.

#![allow(dead_code)] // each test module uses its own part of the helpers

pub mod tls;
pub mod world;

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bacaudit::analyze::{self, Analysis, Finding, FindingBody, LinkFinding};
use bacaudit::canon;
use bacaudit::crawl::{self, CrawlOptions, FetchEvent, Observer, Quiet, RetryPolicy, Stop};
use bacaudit::graph::{Graph, NodeState, Outcome};
use bacaudit::rules::{
    Auth, AuthForm, BrokenAction, Kind, LinkRule, OrphanAction, PathTemplate, PointerPattern,
    Rules, Secret, Selector, Service,
};
use bacaudit::source::{Attempt, LiveOptions, LiveSource, Response, Source};
use bacaudit::vocab::FindingKind;
use url::Url;
use wiremock::{Request, Respond, ResponseTemplate};

// ---------------------------------------------------------------------------------------------
// Rules without the parser

/// Builds a [`Rules`] from the public model structs. Names are sorted and cross references
/// resolved by [`RulesBuilder::build`], as the parser does.
#[derive(Default)]
pub struct RulesBuilder {
    services: Vec<Service>,
    kinds: Vec<KindSpec>,
    links: Vec<LinkSpec>,
}

struct KindSpec {
    name: String,
    service: String,
    path: String,
    collection: Option<String>,
    must_be_referenced_by: Vec<String>,
    on_orphan: OrphanAction,
}

struct LinkSpec {
    kind: String,
    name: String,
    selector: Selector,
    to: String,
    on_broken: BrokenAction,
}

/// A service's base URL from a server's URI (`http://127.0.0.1:PORT` → `…/`).
pub fn base_url(uri: &str) -> Url {
    let mut u = Url::parse(uri).expect("server uri");
    if !u.path().ends_with('/') {
        let p = format!("{}/", u.path());
        u.set_path(&p);
    }
    canon::canonicalize(&u)
}

/// The canonical URL of `path` on a server.
pub fn url(uri: &str, path: &str) -> String {
    canon::resolve(&base_url(uri), path)
        .expect("valid path")
        .to_string()
}

impl RulesBuilder {
    pub fn new() -> Self {
        RulesBuilder::default()
    }

    /// A service on `uri` (a server's root) with seeds given as paths.
    pub fn service(mut self, name: &str, uri: &str, seeds: &[&str]) -> Self {
        let base = base_url(uri);
        self.services.push(Service {
            seeds: seeds
                .iter()
                .map(|s| canon::resolve(&base, s).expect("seed path"))
                .collect(),
            ..Service::new(name, base.clone())
        });
        self
    }

    fn svc(&mut self, name: &str) -> &mut Service {
        self.services
            .iter_mut()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("no service {name}"))
    }

    /// Sends `header: value` to this service only.
    pub fn auth(mut self, service: &str, header: &str, value: &str) -> Self {
        self.svc(service).auth = Some(Auth {
            header: header.into(),
            env: format!("{}_TOKEN", service.to_uppercase()),
            value: Secret::new(value.into()),
            form: AuthForm::Header,
        });
        self
    }

    pub fn concurrency(mut self, service: &str, n: usize) -> Self {
        self.svc(service).concurrency = Some(n);
        self
    }

    pub fn rate_limit(mut self, service: &str, per_second: f64) -> Self {
        self.svc(service).rate_limit = Some(per_second);
        self
    }

    /// A kind `name` on `service` with an item path template (`/customers/{id}`).
    pub fn kind(mut self, name: &str, service: &str, path: &str) -> Self {
        self.kinds.push(KindSpec {
            name: name.into(),
            service: service.into(),
            path: path.into(),
            collection: None,
            must_be_referenced_by: Vec::new(),
            on_orphan: OrphanAction::Manual,
        });
        self
    }

    fn kind_spec(&mut self, name: &str) -> &mut KindSpec {
        self.kinds
            .iter_mut()
            .find(|k| k.name == name)
            .unwrap_or_else(|| panic!("no kind {name}"))
    }

    pub fn collection(mut self, kind: &str, path: &str) -> Self {
        self.kind_spec(kind).collection = Some(path.into());
        self
    }

    /// The orphan rule: `kind` must be referenced by these `kind.link` names.
    pub fn must_be_referenced_by(mut self, kind: &str, links: &[&str], on: OrphanAction) -> Self {
        let k = self.kind_spec(kind);
        k.must_be_referenced_by = links.iter().map(|s| s.to_string()).collect();
        k.on_orphan = on;
        self
    }

    /// The link `kind.name` found at a JSON pointer pattern.
    pub fn pointer_link(
        mut self,
        kind: &str,
        name: &str,
        pointer: &str,
        to: &str,
        on_broken: BrokenAction,
    ) -> Self {
        self.links.push(LinkSpec {
            kind: kind.into(),
            name: name.into(),
            selector: Selector::Pointer(PointerPattern::parse(pointer).expect("pointer")),
            to: to.into(),
            on_broken,
        });
        self
    }

    /// The link `kind.name` found by a hypermedia relation.
    pub fn rel_link(mut self, kind: &str, name: &str, rel: &str, to: &str) -> Self {
        self.links.push(LinkSpec {
            kind: kind.into(),
            name: name.into(),
            selector: Selector::Rel(rel.into()),
            to: to.into(),
            on_broken: BrokenAction::Manual,
        });
        self
    }

    pub fn build(mut self) -> Rules {
        self.services.sort_by(|a, b| a.name.cmp(&b.name));
        self.kinds.sort_by(|a, b| a.name.cmp(&b.name));
        self.links
            .sort_by(|a, b| (&a.kind, &a.name).cmp(&(&b.kind, &b.name)));
        let service_id = |name: &str| {
            self.services
                .iter()
                .position(|s| s.name == name)
                .unwrap_or_else(|| panic!("no service {name}")) as u16
        };
        let kind_id = |name: &str| {
            self.kinds
                .iter()
                .position(|k| k.name == name)
                .unwrap_or_else(|| panic!("no kind {name}")) as u16
        };
        let link_names: Vec<String> = self
            .links
            .iter()
            .map(|l| format!("{}.{}", l.kind, l.name))
            .collect();
        let link_id = |name: &str| {
            link_names
                .iter()
                .position(|l| l == name)
                .unwrap_or_else(|| panic!("no link {name}")) as u16
        };
        let links = self
            .links
            .iter()
            .zip(&link_names)
            .map(|(l, name)| LinkRule {
                name: name.clone(),
                kind: kind_id(&l.kind),
                selector: l.selector.clone(),
                to: kind_id(&l.to),
                on_broken: l.on_broken,
            })
            .collect::<Vec<_>>();
        let kinds = self
            .kinds
            .iter()
            .enumerate()
            .map(|(i, k)| Kind {
                must_be_referenced_by: k.must_be_referenced_by.iter().map(|l| link_id(l)).collect(),
                on_orphan: k.on_orphan,
                collection: k.collection.clone(),
                links: links
                    .iter()
                    .enumerate()
                    .filter(|(_, l)| l.kind as usize == i)
                    .map(|(j, _)| j as u16)
                    .collect(),
                ..Kind::new(
                    k.name.clone(),
                    service_id(&k.service),
                    PathTemplate::parse(&k.path).expect("path template"),
                )
            })
            .collect();
        Rules {
            path: PathBuf::from("tests/live.toml"),
            services: self.services,
            kinds,
            links,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Running a crawl

/// Crawl options for tests: fast retries (1 ms backoff), breaker at the default.
pub fn fast(retries: u32) -> CrawlOptions {
    CrawlOptions {
        retry: RetryPolicy {
            retries,
            base: Duration::from_millis(1),
            max_backoff: Duration::from_millis(2),
            ..RetryPolicy::default()
        },
        ..CrawlOptions::default()
    }
}

/// The graph and its analysis.
pub struct Crawled {
    pub graph: Graph,
    pub analysis: Analysis,
}

/// Crawls live through a [`LiveSource`] (trusting the test CA) and analyzes, bounded to 60 s.
pub async fn crawl_live(rules: &Arc<Rules>, live: LiveOptions, opts: CrawlOptions) -> Crawled {
    crawl_live_with(rules, live, opts, Arc::new(Quiet), Stop::never()).await
}

pub async fn crawl_live_with(
    rules: &Arc<Rules>,
    live: LiveOptions,
    opts: CrawlOptions,
    observer: Arc<dyn Observer>,
    stop: Stop,
) -> Crawled {
    let live = tls::trusting(live);
    let source = Arc::new(LiveSource::new(rules.clone(), live).expect("client"));
    crawl_with(rules, source, opts, observer, stop).await
}

/// Crawls through any source and analyzes, bounded to 60 s (of the clock in force).
pub async fn crawl_with<S: Source>(
    rules: &Arc<Rules>,
    source: Arc<S>,
    opts: CrawlOptions,
    observer: Arc<dyn Observer>,
    stop: Stop,
) -> Crawled {
    let graph = tokio::time::timeout(
        Duration::from_secs(60),
        crawl::crawl(rules.clone(), source, opts, observer, stop),
    )
    .await
    .expect("the crawl ends");
    let analysis = analyze::analyze(&graph, rules);
    Crawled { graph, analysis }
}

impl Crawled {
    /// The final outcome of a URL (panics when it was not fetched).
    pub fn outcome(&self, url: &str) -> &Outcome {
        let id = self
            .graph
            .id(url)
            .unwrap_or_else(|| panic!("{url} is not in the graph"));
        match &self.graph.node(id).state {
            NodeState::Done(o) => o,
            s => panic!("{url} was not fetched: {s:?}"),
        }
    }

    /// The link finding whose target is `url`.
    pub fn finding(&self, url: &str) -> (&Finding, &LinkFinding) {
        self.analysis
            .findings
            .iter()
            .find_map(|f| match &f.body {
                FindingBody::Link(l) if l.target == url => Some((f, l)),
                _ => None,
            })
            .unwrap_or_else(|| {
                panic!(
                    "no finding for {url}; findings: {:#?}",
                    self.analysis.findings
                )
            })
    }

    /// Asserts the seed `url` ended as a finding of `kind` with this class, reason, status
    /// and attempts (`relation: "seed"`, no source, no pointer).
    pub fn assert_seed(
        &self,
        url: &str,
        kind: FindingKind,
        class: &str,
        reason: &str,
        status: Option<u16>,
        attempts: u32,
    ) {
        let (f, l) = self.finding(url);
        let got = (
            f.kind,
            l.class.as_str(),
            l.reason.as_str(),
            l.status,
            l.attempts,
        );
        assert_eq!(
            got,
            (kind, class, reason, status, attempts),
            "finding for {url}: {l:#?}"
        );
        assert_eq!(l.relation.as_deref(), Some("seed"));
        assert_eq!((l.source.as_deref(), l.pointer.as_deref()), (None, None));
        let o = self.outcome(url);
        assert_eq!(
            (o.status, o.attempts),
            (status, attempts),
            "outcome of {url}"
        );
    }

    /// The reason code of a link finding.
    pub fn finding_reason(&self, f: &Finding) -> &'static str {
        match &f.body {
            FindingBody::Link(l) => l.reason.as_str(),
            FindingBody::Orphan(_) => "orphan",
        }
    }

    pub fn count(&self, kind: FindingKind) -> usize {
        self.analysis
            .findings
            .iter()
            .filter(|f| f.kind == kind)
            .count()
    }
}

// ---------------------------------------------------------------------------------------------
// wiremock helpers

/// Answers with each template in turn (the last one repeats) and notes when each request came.
#[derive(Clone)]
pub struct Script {
    responses: Arc<Vec<ResponseTemplate>>,
    next: Arc<AtomicUsize>,
    pub times: Arc<Mutex<Vec<Instant>>>,
}

impl Script {
    pub fn new(responses: Vec<ResponseTemplate>) -> Script {
        assert!(!responses.is_empty());
        Script {
            responses: Arc::new(responses),
            next: Arc::new(AtomicUsize::new(0)),
            times: Arc::default(),
        }
    }

    pub fn times(&self) -> Vec<Instant> {
        self.times.lock().unwrap().clone()
    }
}

impl Respond for Script {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        self.times.lock().unwrap().push(Instant::now());
        let i = self.next.fetch_add(1, Ordering::SeqCst);
        self.responses[i.min(self.responses.len() - 1)].clone()
    }
}

/// A resource that a DELETE removes, as a real service would: [`Deletable::get`] answers
/// `before` until the `n`th request to [`Deletable::delete`] (a script whose `n`th answer is
/// the success), then 404 — so `apply`'s read-back sees the effect.
#[derive(Clone)]
pub struct Deletable {
    deletes: Arc<AtomicUsize>,
    succeeds_at: usize,
}

impl Deletable {
    pub fn new(succeeds_at: usize) -> Deletable {
        Deletable {
            deletes: Arc::default(),
            succeeds_at,
        }
    }

    pub fn gone(&self) -> bool {
        self.deletes.load(Ordering::SeqCst) >= self.succeeds_at
    }

    /// The GET responder: `before` until deleted, then 404.
    pub fn get(&self, before: impl Respond) -> impl Respond {
        let me = self.clone();
        move |r: &Request| {
            if me.gone() {
                ResponseTemplate::new(404)
            } else {
                before.respond(r)
            }
        }
    }

    /// The DELETE responder: `inner`, counting the requests.
    pub fn delete(&self, inner: impl Respond) -> impl Respond {
        let me = self.clone();
        move |r: &Request| {
            me.deletes.fetch_add(1, Ordering::SeqCst);
            inner.respond(r)
        }
    }
}

/// A redirect to `location`.
pub fn redirect(status: u16, location: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).insert_header("location", location)
}

/// The paths a wiremock server received, in order.
pub async fn paths(server: &wiremock::MockServer) -> Vec<String> {
    server
        .received_requests()
        .await
        .expect("recording on")
        .iter()
        .map(|r| r.url.path().to_string())
        .collect()
}

/// A port on 127.0.0.1 with nothing listening (bound, then released).
pub fn dead_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// A server that accepts connections and closes them without a complete answer; counts them.
pub struct Hangup {
    pub uri: String,
    pub accepted: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Hangup {
    /// Closes each connection as soon as it is accepted.
    pub async fn start() -> Hangup {
        Hangup::replying(None).await
    }

    /// Reads each request's head, writes `reply` (say, a head promising more body than it
    /// sends), then closes.
    pub async fn replying(reply: Option<&'static [u8]>) -> Hangup {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let l = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let uri = format!("http://{}", l.local_addr().expect("addr"));
        let accepted = Arc::new(AtomicUsize::new(0));
        let n = accepted.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut sock, _)) = l.accept().await {
                n.fetch_add(1, Ordering::SeqCst);
                let Some(reply) = reply else {
                    drop(sock);
                    continue;
                };
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match sock.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(k) => head.extend_from_slice(&buf[..k]),
                        }
                    }
                    let _ = sock.write_all(reply).await;
                    let _ = sock.shutdown().await;
                });
            }
        });
        Hangup {
            uri,
            accepted,
            task,
        }
    }
}

impl Drop for Hangup {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// An HTTP server (hyper) that answers 404 to everything after holding each request until
/// `hold` requests are in flight together (or 5 s passed), and notes the most ever in flight.
pub struct Gauge {
    pub uri: String,
    pub max_inflight: Arc<AtomicUsize>,
    pub served: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Gauge {
    pub async fn start(hold: usize) -> Gauge {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let uri = format!("http://{}", l.local_addr().expect("addr"));
        let inflight = Arc::new(AtomicUsize::new(0));
        let max_inflight = Arc::new(AtomicUsize::new(0));
        let served = Arc::new(AtomicUsize::new(0));
        let changed = Arc::new(tokio::sync::Notify::new());
        let (i, m, s, c) = (
            inflight.clone(),
            max_inflight.clone(),
            served.clone(),
            changed.clone(),
        );
        let task = tokio::spawn(async move {
            while let Ok((sock, _)) = l.accept().await {
                let (i, m, s, c) = (i.clone(), m.clone(), s.clone(), c.clone());
                let service = hyper::service::service_fn(move |_req| {
                    let (inflight, max, served, changed) =
                        (i.clone(), m.clone(), s.clone(), c.clone());
                    async move {
                        let now = inflight.fetch_add(1, Ordering::SeqCst) + 1;
                        max.fetch_max(now, Ordering::SeqCst);
                        changed.notify_waiters();
                        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
                        loop {
                            let notified = changed.notified();
                            if inflight.load(Ordering::SeqCst) >= hold {
                                break;
                            }
                            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                                break;
                            }
                        }
                        // Let the others see the full house before anyone leaves.
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        inflight.fetch_sub(1, Ordering::SeqCst);
                        served.fetch_add(1, Ordering::SeqCst);
                        let resp = hyper::Response::builder()
                            .status(404)
                            .body(http_body_util::Empty::<bytes::Bytes>::new())
                            .expect("response");
                        Ok::<_, std::convert::Infallible>(resp)
                    }
                });
                tokio::spawn(async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(sock), service)
                        .await;
                });
            }
        });
        Gauge {
            uri,
            max_inflight,
            served,
            task,
        }
    }
}

impl Drop for Gauge {
    fn drop(&mut self) {
        self.task.abort();
    }
}

// ---------------------------------------------------------------------------------------------
// Observers

/// Counts final outcomes; calls `on_fetched(n)` after each (from the crawl loop).
pub struct Counter<F: Fn(usize) + Send + Sync> {
    pub fetched: AtomicUsize,
    pub urls: Mutex<Vec<String>>,
    on_fetched: F,
}

impl<F: Fn(usize) + Send + Sync> Counter<F> {
    pub fn new(on_fetched: F) -> Counter<F> {
        Counter {
            fetched: AtomicUsize::new(0),
            urls: Mutex::default(),
            on_fetched,
        }
    }
}

impl<F: Fn(usize) + Send + Sync> Observer for Counter<F> {
    fn fetched(&self, event: &FetchEvent<'_>) {
        self.urls.lock().unwrap().push(event.url.to_string());
        let n = self.fetched.fetch_add(1, Ordering::SeqCst) + 1;
        (self.on_fetched)(n);
    }
}

// ---------------------------------------------------------------------------------------------
// A scripted in-memory source (no sockets: exact on tokio's paused clock)

/// Answers each URL from a script (the last step repeats), optionally after a delay, and logs
/// when each request was made on tokio's clock. Unknown URLs answer 404.
#[derive(Default)]
pub struct Scripted {
    script: Mutex<HashMap<String, VecDeque<Attempt>>>,
    pub delay: Duration,
    pub log: Mutex<Vec<(String, tokio::time::Instant)>>,
    inflight: AtomicUsize,
    pub max_inflight: AtomicUsize,
}

/// An answer with a status and headers, no body.
pub fn answer(status: u16, headers: &[(&str, &str)]) -> Attempt {
    Attempt::Answer(Response {
        status,
        headers: headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
        body: bytes::Bytes::new(),
        truncated: false,
    })
}

impl Scripted {
    pub fn new(delay: Duration) -> Scripted {
        Scripted {
            delay,
            ..Scripted::default()
        }
    }

    pub fn on(self, url: &str, steps: Vec<Attempt>) -> Scripted {
        self.script
            .lock()
            .unwrap()
            .insert(url.to_string(), steps.into());
        self
    }

    pub fn log(&self) -> Vec<(String, tokio::time::Instant)> {
        self.log.lock().unwrap().clone()
    }
}

impl Source for Scripted {
    async fn fetch(&self, url: &Url) -> Attempt {
        self.log
            .lock()
            .unwrap()
            .push((url.to_string(), tokio::time::Instant::now()));
        let now = self.inflight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_inflight.fetch_max(now, Ordering::SeqCst);
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        self.inflight.fetch_sub(1, Ordering::SeqCst);
        let mut script = self.script.lock().unwrap();
        match script.get_mut(url.as_str()) {
            Some(steps) if steps.len() > 1 => steps.pop_front().expect("non-empty"),
            Some(steps) => steps.front().cloned().expect("non-empty"),
            None => answer(404, &[]),
        }
    }

    fn sleeps(&self) -> bool {
        true
    }
}

// ---------------------------------------------------------------------------------------------
// Reports compared across runs

/// The report fields about the run itself rather than the world (README, "Recordings replay to
/// the live report"): `source` (mode, snapshot path) and, per service, the adaptive
/// concurrency's peak limit and the latencies measured. Removed, two reports of one world are
/// byte for byte the same.
pub const RUN_FIELDS: &[&str] = &[
    "/source",
    "/services/*/concurrency_limit",
    "/services/*/latency_p50_ms",
    "/services/*/latency_p99_ms",
];

/// `report` without its [`RUN_FIELDS`].
pub fn without_run_fields(report: &serde_json::Value) -> serde_json::Value {
    let mut r = report.clone();
    if let Some(m) = r.as_object_mut() {
        m.remove("source");
    }
    for s in r["services"].as_array_mut().into_iter().flatten() {
        if let Some(m) = s.as_object_mut() {
            for key in ["concurrency_limit", "latency_p50_ms", "latency_p99_ms"] {
                m.remove(key);
            }
        }
    }
    r
}
