//! The listeners: one per distinct recorded origin (services that share a host and port share
//! it), each answering from the prepared [`Answers`](super::answers::Answers) over HTTP/1.1
//! (hyper), until the handle shuts them down.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use indexmap::IndexMap;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use url::{Host, Url};

use super::answers::{problem, Answer, Answers, Chaos, ChaosState, Flaky, Reply, Strike};
use super::fragile::{Admit, FragileState, Fragility};
use super::rebase::OriginMap;
use super::writable::Writes;
use crate::canon;
use crate::error::Error;
use crate::http::{classify_status, Verdict};
use crate::rules::{Rules, ServiceId};
use crate::source::Snapshot;
use crate::vocab::Class;

/// How a snapshot is served.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Bind every service on `127.0.0.1:0` (an ephemeral port) instead of its base URL, and
    /// move every URL in bodies and headers to the served origins. [`ServeHandle::rules`] then
    /// points at them.
    pub rebase: bool,
    /// How long a recorded `timeout` holds its request before closing the connection
    /// unanswered (the client normally gives up first) [default: 60 s].
    pub hold: Duration,
    /// Make some first requests to one service answer 503 once.
    pub flaky: Option<Flaky>,
    /// Fail any request at random (503 or a closed connection), a bounded number of times
    /// per URL.
    pub chaos: Option<Chaos>,
    /// Accept PUT, PATCH (JSON Patch) and DELETE, applied in memory.
    pub writable: bool,
    /// Slow answers, a capacity, slowing down under load (none by default).
    pub fragility: Fragility,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            rebase: false,
            hold: Duration::from_secs(60),
            flaky: None,
            chaos: None,
            writable: false,
            fragility: Fragility::default(),
        }
    }
}

/// One service as served.
#[derive(Debug, Clone)]
pub struct ServedService {
    pub name: String,
    /// The base URL it is served at (the recorded one unless rebased).
    pub base_url: Url,
    /// The address its listener is bound to.
    pub addr: SocketAddr,
    /// Snapshot URLs inside the service.
    pub urls: usize,
}

/// Running listeners. [`ServeHandle::shutdown`] stops them; dropping the handle stops them too
/// (without waiting).
pub struct ServeHandle {
    services: Vec<ServedService>,
    rules: Rules,
    origins: OriginMap,
    stop: watch::Sender<bool>,
    listeners: JoinSet<()>,
    chaos: Option<Arc<ChaosState>>,
    fragile: Option<Arc<FragileState>>,
}

impl std::fmt::Debug for ServeHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeHandle")
            .field("services", &self.services)
            .field("origins", &self.origins)
            .finish_non_exhaustive()
    }
}

impl ServeHandle {
    /// The services, in rules order.
    pub fn services(&self) -> &[ServedService] {
        &self.services
    }

    /// The rules, with base URLs and seeds at the served origins (unchanged unless rebased).
    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// Recorded → served origins (empty unless rebased).
    pub fn origins(&self) -> &OriginMap {
        &self.origins
    }

    /// Requests chaos failed so far (0 without chaos).
    pub fn chaos_injected(&self) -> u64 {
        self.chaos.as_ref().map_or(0, |c| c.injected())
    }

    /// Requests refused with 503 over a service's capacity so far (0 without one).
    pub fn refused_over_capacity(&self) -> u64 {
        self.fragile.as_ref().map_or(0, |f| f.refused())
    }

    /// The distinct bound addresses, in rules order.
    pub fn addrs(&self) -> Vec<SocketAddr> {
        let mut out: Vec<SocketAddr> = Vec::new();
        for s in &self.services {
            if !out.contains(&s.addr) {
                out.push(s.addr);
            }
        }
        out
    }

    /// One line per service: `serving customers at http://127.0.0.1:8081/ (407 URLs)`.
    pub fn banner(&self) -> String {
        self.services
            .iter()
            .map(|s| {
                format!(
                    "serving {} at {} ({} URL{})\n",
                    s.name,
                    s.base_url,
                    s.urls,
                    if s.urls == 1 { "" } else { "s" }
                )
            })
            .collect()
    }

    /// Stops accepting, ends held requests, lets answers in progress finish (at most 5 s),
    /// and waits for the listeners to end.
    pub async fn shutdown(mut self) {
        self.stop.send_replace(true);
        while self.listeners.join_next().await.is_some() {}
    }
}

/// Serves `snapshot` as the live services of `rules`: one listener per distinct recorded
/// origin, every request looked up as `<origin><path>?<query>` (canonical) in the snapshot.
///
/// Errors (exit code 2): a port already in use or an address that cannot be bound (naming
/// the services and the address), an `https` base URL without rebasing, an unknown flaky
/// service.
pub async fn serve(
    rules: &Rules,
    snapshot: Arc<Snapshot>,
    opts: ServeOptions,
) -> Result<ServeHandle, Error> {
    let flaky = match &opts.flaky {
        None => None,
        Some(f) => Some((f, flaky_service(rules, f)?)),
    };
    let chaos = chaos_state(opts.chaos.as_ref())?;
    let sites = sites(rules, opts.rebase)?;
    let bound = bind_all(rules, &sites, opts.rebase).await?;
    let (addrs, origins) = addresses(&bound, opts.rebase)?;
    let answers = Arc::new(Answers::build(&snapshot, rules, &origins, flaky, opts.hold));
    let writes = opts
        .writable
        .then(|| Arc::new(Writes::new(origins.clone())));
    drop(snapshot);
    let served_rules = origins.rules(rules);
    let fragile = match opts.fragility.is_set() {
        // Requests are looked up under the recorded origins: so is their service.
        true => Some(Arc::new(FragileState::new(&opts.fragility, rules)?)),
        false => None,
    };
    let services = served_services(rules, &served_rules, &addrs, &answers);
    let shared = Shared {
        answers,
        writes,
        chaos: chaos.clone(),
        fragile: fragile.clone(),
    };
    let (stop, listeners) = listen(bound, &shared);
    Ok(ServeHandle {
        services,
        rules: served_rules,
        origins,
        stop,
        listeners,
        chaos,
        fragile,
    })
}

/// The service a flaky option names, checked with its fraction.
fn flaky_service(rules: &Rules, f: &Flaky) -> Result<ServiceId, Error> {
    let id = rules
        .services
        .iter()
        .position(|s| s.name == f.service)
        .ok_or_else(|| {
            Error::Usage(format!(
                "flaky service `{}` is not in the rules (known: {})",
                f.service,
                names(rules.services.iter().map(|s| s.name.as_str()))
            ))
        })?;
    if !(0.0..=1.0).contains(&f.fraction) {
        return Err(Error::Usage(format!(
            "flaky fraction {} must be between 0 and 1",
            f.fraction
        )));
    }
    Ok(id as ServiceId)
}

/// The chaos shared by every listener, its probability checked.
fn chaos_state(chaos: Option<&Chaos>) -> Result<Option<Arc<ChaosState>>, Error> {
    if let Some(c) = chaos {
        if !(0.0..=1.0).contains(&c.probability) {
            return Err(Error::Usage(format!(
                "chaos probability {} must be between 0 and 1",
                c.probability
            )));
        }
    }
    Ok(chaos.cloned().map(|c| Arc::new(ChaosState::new(c))))
}

/// Services by recorded origin, in rules order. Without rebasing, every base URL must be
/// plain http.
fn sites(rules: &Rules, rebase: bool) -> Result<IndexMap<String, Vec<ServiceId>>, Error> {
    let mut sites: IndexMap<String, Vec<ServiceId>> = IndexMap::new();
    for (i, s) in rules.services.iter().enumerate() {
        if !rebase && s.base_url.scheme() != "http" {
            return Err(Error::Usage(format!(
                "service {}: cannot serve {} (serve speaks plain http; rebasing serves it on a loopback http port)",
                s.name, s.base_url
            )));
        }
        sites
            .entry(s.base_url.origin().ascii_serialization())
            .or_default()
            .push(i as ServiceId);
    }
    Ok(sites)
}

/// One listener per recorded origin: everything is bound before anything is served.
async fn bind_all(
    rules: &Rules,
    sites: &IndexMap<String, Vec<ServiceId>>,
    rebase: bool,
) -> Result<Vec<(String, TcpListener)>, Error> {
    let mut bound: Vec<(String, TcpListener)> = Vec::new();
    for (origin, ids) in sites {
        let service_names = names(ids.iter().map(|&i| rules.service(i).name.as_str()));
        let base = &rules.service(ids[0]).base_url;
        bound.push((origin.clone(), bind(base, &service_names, rebase).await?));
    }
    Ok(bound)
}

/// The bound address per recorded origin, and the recorded → served origins (empty unless
/// rebased).
fn addresses(
    bound: &[(String, TcpListener)],
    rebase: bool,
) -> Result<(BTreeMap<String, SocketAddr>, OriginMap), Error> {
    let mut pairs = Vec::new();
    let mut addrs: BTreeMap<String, SocketAddr> = BTreeMap::new();
    for (origin, listener) in bound {
        let addr = listener
            .local_addr()
            .map_err(|e| Error::Other(format!("cannot read the bound address: {e}")))?;
        addrs.insert(origin.clone(), addr);
        if rebase {
            pairs.push((origin.clone(), format!("http://{addr}")));
        }
    }
    Ok((addrs, OriginMap::new(pairs)))
}

/// The services as served, in rules order.
fn served_services(
    rules: &Rules,
    served_rules: &Rules,
    addrs: &BTreeMap<String, SocketAddr>,
    answers: &Answers,
) -> Vec<ServedService> {
    served_rules
        .services
        .iter()
        .enumerate()
        .map(|(i, s)| ServedService {
            name: s.name.clone(),
            base_url: s.base_url.clone(),
            addr: addrs[&rules.services[i].base_url.origin().ascii_serialization()],
            urls: answers.per_service[i],
        })
        .collect()
}

/// What every listener shares.
struct Shared {
    answers: Arc<Answers>,
    writes: Option<Arc<Writes>>,
    chaos: Option<Arc<ChaosState>>,
    fragile: Option<Arc<FragileState>>,
}

/// Starts accepting on every bound listener; the sender stops them all.
fn listen(
    bound: Vec<(String, TcpListener)>,
    shared: &Shared,
) -> (watch::Sender<bool>, JoinSet<()>) {
    let (stop, stopped) = watch::channel(false);
    let mut listeners = JoinSet::new();
    for (origin, listener) in bound {
        let site = Arc::new(Site {
            origin,
            answers: shared.answers.clone(),
            writes: shared.writes.clone(),
            chaos: shared.chaos.clone(),
            fragile: shared.fragile.clone(),
        });
        listeners.spawn(accept_loop(listener, site, stopped.clone()));
    }
    (stop, listeners)
}

/// Binds the listener for one recorded origin: its host and port, or an ephemeral loopback
/// port when rebasing. Errors name the services and the address.
async fn bind(base: &Url, service_names: &str, rebase: bool) -> Result<TcpListener, Error> {
    let port = base.port_or_known_default().unwrap_or(80);
    let (shown, result) = if rebase {
        (
            format!("{}:0", Ipv4Addr::LOCALHOST),
            TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await,
        )
    } else {
        let result = match base.host() {
            Some(Host::Ipv4(a)) => TcpListener::bind((a, port)).await,
            Some(Host::Ipv6(a)) => TcpListener::bind((a, port)).await,
            Some(Host::Domain(d)) => TcpListener::bind((d, port)).await,
            None => Err(std::io::Error::other("the base URL has no host")),
        };
        (
            format!("{}:{port}", base.host_str().unwrap_or_default()),
            result,
        )
    };
    result.map_err(|e| Error::Other(format!("cannot serve {service_names} at {shown}: {e}")))
}

/// Resolves on Ctrl-C or, on Unix, SIGTERM. The handlers are installed when this is called
/// (not when first polled), so call it before the work it should interrupt. Needs a runtime.
pub fn interrupted() -> impl std::future::Future<Output = ()> + Send {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let int = signal(SignalKind::interrupt());
        let term = signal(SignalKind::terminate());
        async move {
            match (int, term) {
                (Ok(mut int), Ok(mut term)) => {
                    tokio::select! {
                        _ = int.recv() => {}
                        _ = term.recv() => {}
                    }
                }
                _ => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// `a`, `a and b`, `a, b and c`.
fn names<'a>(it: impl Iterator<Item = &'a str>) -> String {
    let v: Vec<&str> = it.collect();
    match v.as_slice() {
        [] => String::new(),
        [one] => (*one).to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// One listener's view: the recorded origin its requests are looked up under.
struct Site {
    origin: String,
    answers: Arc<Answers>,
    /// Shared by every listener of a writable world.
    writes: Option<Arc<Writes>>,
    /// Shared by every listener.
    chaos: Option<Arc<ChaosState>>,
    /// Shared by every listener.
    fragile: Option<Arc<FragileState>>,
}

/// The error that makes hyper close a connection without answering.
#[derive(Debug)]
struct Unanswered;

impl std::fmt::Display for Unanswered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("closed without an answer (as recorded)")
    }
}

impl std::error::Error for Unanswered {}

/// Resolves when `stopped` says stop (or its sender is gone).
async fn until_stopped(stopped: &mut watch::Receiver<bool>) {
    let _ = stopped.wait_for(|s| *s).await;
}

async fn accept_loop(listener: TcpListener, site: Arc<Site>, mut stopped: watch::Receiver<bool>) {
    let for_connections = stopped.clone();
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            () = until_stopped(&mut stopped) => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(connection(stream, site.clone(), for_connections.clone()));
                }
                Err(e) => {
                    // Out of file descriptors and the like: wait a little rather than spin.
                    tracing::warn!(origin = %site.origin, "cannot accept a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    // Connections see the same signal: idle ones close, answers in progress finish.
    let drained = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(Duration::from_secs(5), drained)
        .await
        .is_err()
    {
        connections.shutdown().await;
    }
}

async fn connection(stream: TcpStream, site: Arc<Site>, mut stopped: watch::Receiver<bool>) {
    let _ = stream.set_nodelay(true);
    let held = stopped.clone();
    let service = service_fn(move |req| {
        let site = site.clone();
        let held = held.clone();
        async move { site.respond(req, held).await }
    });
    let conn = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        result = conn.as_mut() => {
            if let Err(e) = result {
                tracing::debug!("connection ended: {e}");
            }
        }
        () = until_stopped(&mut stopped) => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

impl Site {
    async fn respond(
        &self,
        req: Request<Incoming>,
        mut stopped: watch::Receiver<bool>,
    ) -> Result<Response<Full<Bytes>>, Unanswered> {
        // A fragile service: refused over capacity, or in flight (and slow) until answered.
        let _in_flight = match self.fragile.as_ref().zip(self.url_of(&req)) {
            Some((fragile, url)) => match fragile.admit_url(&url) {
                Some(Admit::Refuse) => {
                    return Ok(response(problem(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "over capacity: too many requests in flight, try again later",
                    )))
                }
                Some(Admit::Answer { delay, _guard }) => {
                    tokio::select! {
                        () = tokio::time::sleep(delay) => {}
                        () = until_stopped(&mut stopped) => {}
                    }
                    Some(_guard)
                }
                None => None,
            },
            None => None,
        };
        if let Some(writes) = &self.writes {
            let url = self.url_of(&req);
            match (req.method().clone(), url) {
                (Method::GET | Method::HEAD, Some(url)) => match writes.get(url.as_str()) {
                    Some(Some(reply)) => return Ok(response(reply)),
                    Some(None) => {
                        return Ok(response(problem(
                            StatusCode::NOT_FOUND,
                            &format!("{url} was deleted"),
                        )))
                    }
                    None => {}
                },
                (
                    method @ (Method::PUT | Method::POST | Method::PATCH | Method::DELETE),
                    Some(url),
                ) => {
                    return Ok(response(self.write(writes, method, &url, req).await));
                }
                _ => {}
            }
        }
        self.read(&req, &mut stopped).await
    }

    fn url_of(&self, req: &Request<Incoming>) -> Option<url::Url> {
        let target = req.uri().path_and_query().map_or("/", |p| p.as_str());
        canon::parse_absolute(&format!("{}{target}", self.origin))
    }

    /// A write to a writable world.
    async fn write(
        &self,
        writes: &Writes,
        method: Method,
        url: &url::Url,
        req: Request<Incoming>,
    ) -> Reply {
        let content_type = req
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let if_match = req
            .headers()
            .get(http::header::IF_MATCH)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let if_match = if_match.as_deref();
        let limited = http_body_util::Limited::new(req.into_body(), 8 * 1024 * 1024);
        let Ok(body) = http_body_util::BodyExt::collect(limited).await else {
            return problem(
                StatusCode::PAYLOAD_TOO_LARGE,
                "the request body is unreadable or over 8 MiB",
            );
        };
        let body = body.to_bytes();
        match method {
            Method::PUT => writes.put(&self.answers, url.as_str(), &body, if_match),
            Method::POST => writes.post(&self.answers, url.as_str(), &body),
            Method::PATCH => writes.patch(
                &self.answers,
                url.as_str(),
                content_type.as_deref(),
                &body,
                if_match,
            ),
            _ => writes.delete(&self.answers, url.as_str(), if_match),
        }
    }

    async fn read(
        &self,
        req: &Request<Incoming>,
        stopped: &mut watch::Receiver<bool>,
    ) -> Result<Response<Full<Bytes>>, Unanswered> {
        if req.method() != Method::GET && req.method() != Method::HEAD {
            let mut reply = problem(
                StatusCode::METHOD_NOT_ALLOWED,
                "a served snapshot answers GET and HEAD only (serve --writable takes PUT, POST, PATCH and DELETE)",
            );
            reply.headers.insert(
                http::header::ALLOW,
                http::HeaderValue::from_static("GET, HEAD"),
            );
            return Ok(response(reply));
        }
        let target = req.uri().path_and_query().map_or("/", |p| p.as_str());
        let url = canon::parse_absolute(&format!("{}{target}", self.origin));
        let served = url
            .as_ref()
            .and_then(|u| self.answers.by_url.get(u.as_str()));
        // A recorded history first: the earlier attempts in request order, then the answer.
        if let Some(earlier) = served.and_then(|s| s.earlier_now()) {
            return self.deliver(earlier, stopped).await;
        }
        if let (Some(chaos), Some(u)) = (&self.chaos, &url) {
            // A recorded transient failure stays what it was; anything final may fail first.
            let final_answer = match served.map(|s| &s.answer) {
                None => true,
                Some(Answer::Reply(r)) => match classify_status(r.status.as_u16()) {
                    Verdict::Failed(reason) => reason.class() != Class::Transient,
                    Verdict::Ok | Verdict::Redirect => true,
                },
                Some(Answer::Hold | Answer::Close) => false,
            };
            match final_answer.then(|| chaos.strike(u.as_str())).flatten() {
                Some(Strike::Unavailable) => {
                    return Ok(response(problem(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "chaos: this request fails on purpose, try again",
                    )))
                }
                Some(Strike::Close) => return Err(Unanswered),
                None => {}
            }
        }
        let Some(served) = served else {
            let shown = url.map_or_else(|| target.to_string(), String::from);
            return Ok(response(problem(
                StatusCode::NOT_FOUND,
                &format!("{shown} is not in the snapshot"),
            )));
        };
        if served.fails_now() {
            return Ok(response(problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "flaky on purpose: the first request fails, try again",
            )));
        }
        self.deliver(&served.answer, stopped).await
    }

    /// Answers, closes or holds the request as `answer` says.
    async fn deliver(
        &self,
        answer: &Answer,
        stopped: &mut watch::Receiver<bool>,
    ) -> Result<Response<Full<Bytes>>, Unanswered> {
        match answer {
            Answer::Reply(reply) => Ok(response(reply.clone())),
            Answer::Close => Err(Unanswered),
            Answer::Hold => {
                tokio::select! {
                    () = tokio::time::sleep(self.answers.hold) => {}
                    () = until_stopped(stopped) => {}
                }
                Err(Unanswered)
            }
        }
    }
}

fn response(reply: Reply) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(reply.body));
    *resp.status_mut() = reply.status;
    *resp.headers_mut() = reply.headers;
    resp
}

#[cfg(test)]
mod tests {
    use super::names;

    #[test]
    fn names_read_as_a_list() {
        assert_eq!(names([].into_iter()), "");
        assert_eq!(names(["a"].into_iter()), "a");
        assert_eq!(names(["a", "b"].into_iter()), "a and b");
        assert_eq!(names(["a", "b", "c"].into_iter()), "a, b and c");
    }
}
