//! Credentials beyond a static header: bearer and basic auth from the environment, and OAuth2
//! client credentials — against a real authorization server (`oauth2-mock-server`, run with
//! the machine's node from `tests/oauth2/`, installed by `.ci/run`) and against wiremock token
//! endpoints for the failures (down at start, wrong secret, 401 then renewal, short expiry, a
//! failure mid-crawl). Every credential kind is checked to reach its own service only and to be
//! written nowhere, `RUST_LOG=trace` included.

use std::io::{BufRead, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bacaudit::crawl::CrawlOptions;
use bacaudit::rules::{BrokenAction, ClientAuth, OAuth2, Rules, Secret};
use bacaudit::vocab::FindingKind;
use base64::Engine as _;
use serde_json::{json, Value};
use url::Url;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::support::{crawl_live, fast, url, Deletable, RulesBuilder};

const CLIENT_ID: &str = "bacaudit-drill";
const CLIENT_SECRET: &str = "cs-SECRET-client-91f2";

/// The `Authorization` header of a request, if any.
fn authorization(req: &Request) -> Option<String> {
    req.headers
        .get("authorization")
        .map(|v| v.to_str().unwrap_or_default().to_string())
}

/// A wiremock token endpoint: issues `tok-OAUTH-SECRET-<n>` (n from 1) living `expires_in`
/// seconds, and from the `fail_from`-th request on answers 500.
struct TokenEndpoint {
    issued: Arc<Mutex<Vec<(String, Instant)>>>,
    expires_in: f64,
    fail_from: Option<usize>,
    calls: Arc<AtomicUsize>,
}

impl TokenEndpoint {
    fn new(expires_in: f64) -> TokenEndpoint {
        TokenEndpoint {
            issued: Arc::default(),
            expires_in,
            fail_from: None,
            calls: Arc::default(),
        }
    }
}

impl Respond for TokenEndpoint {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        if self.fail_from.is_some_and(|f| n >= f) {
            return ResponseTemplate::new(500);
        }
        let basic = base64::engine::general_purpose::STANDARD
            .encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"));
        let body = String::from_utf8_lossy(&req.body);
        if authorization(req) != Some(format!("Basic {basic}"))
            || !body.contains("grant_type=client_credentials")
        {
            return ResponseTemplate::new(401).set_body_json(json!({
                "error": "invalid_client",
                // A server that echoes what it got: the message must not pass it on.
                "error_description": format!("bad credentials {}", authorization(req).unwrap_or_default()),
            }));
        }
        let token = format!("tok-OAUTH-SECRET-{n}");
        self.issued
            .lock()
            .unwrap()
            .push((token.clone(), Instant::now()));
        ResponseTemplate::new(200).set_body_json(json!({
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
        }))
    }
}

/// A service that answers `/p/N` with a link to `/p/N+1` (up to `last`) to a token issued by
/// the endpoint less than `lifetime` ago, 401 otherwise; it counts the 401s.
struct Guarded {
    issued: Arc<Mutex<Vec<(String, Instant)>>>,
    lifetime: Duration,
    /// Tokens refused no matter what (`tok-OAUTH-SECRET-1`: "revoked").
    refused: Vec<String>,
    last: usize,
    unauthorized: Arc<AtomicUsize>,
}

impl Respond for Guarded {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let token = authorization(req)
            .and_then(|a| a.strip_prefix("Bearer ").map(str::to_string))
            .unwrap_or_default();
        let fresh = self
            .issued
            .lock()
            .unwrap()
            .iter()
            .any(|(t, at)| *t == token && at.elapsed() < self.lifetime);
        if !fresh || self.refused.contains(&token) {
            self.unauthorized.fetch_add(1, Ordering::SeqCst);
            return ResponseTemplate::new(401);
        }
        let n: usize = req
            .url
            .path()
            .rsplit('/')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let next = (n < self.last).then(|| format!("/p/{}", n + 1));
        ResponseTemplate::new(200).set_body_json(json!({ "id": n, "next": next }))
    }
}

fn oauth2(token_url: &str) -> OAuth2 {
    OAuth2 {
        token_url: Url::parse(token_url).unwrap(),
        client_id_env: "DRILL_CLIENT_ID".into(),
        client_secret_env: "DRILL_CLIENT_SECRET".into(),
        client_id: Secret::new(CLIENT_ID.into()),
        client_secret: Secret::new(CLIENT_SECRET.into()),
        scope: None,
        audience: None,
        client_auth: ClientAuth::ClientSecretBasic,
    }
}

/// One service `api` on `uri` with seeds, `/p/{id}` pages linking on, guarded by OAuth2.
fn api_rules(uri: &str, seeds: &[&str], token_url: &str) -> Arc<Rules> {
    let mut rules = RulesBuilder::new()
        .service("api", uri, seeds)
        .kind("page", "api", "/p/{id}")
        .pointer_link("page", "next", "/next", "page", BrokenAction::Manual)
        .build();
    rules.services[0].oauth2 = Some(oauth2(token_url));
    Arc::new(rules)
}

async fn token_endpoint(responder: TokenEndpoint) -> MockServer {
    let idp = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(responder)
        .mount(&idp)
        .await;
    idp
}

#[tokio::test]
async fn a_401_renews_the_token_once_and_the_request_is_retried_once() {
    let endpoint = TokenEndpoint::new(3600.0);
    let (issued, calls) = (endpoint.issued.clone(), endpoint.calls.clone());
    let idp = token_endpoint(endpoint).await;
    let api = MockServer::start().await;
    let unauthorized = Arc::new(AtomicUsize::new(0));
    Mock::given(method("GET"))
        .respond_with(Guarded {
            issued: issued.clone(),
            lifetime: Duration::from_secs(3600),
            // The first token is revoked server-side before it expires.
            refused: vec!["tok-OAUTH-SECRET-1".into()],
            last: 0,
            unauthorized: unauthorized.clone(),
        })
        .mount(&api)
        .await;
    let seeds: Vec<String> = (1..=6).map(|i| format!("/p/{i}")).collect();
    let seeds: Vec<&str> = seeds.iter().map(String::as_str).collect();
    let rules = api_rules(&api.uri(), &seeds, &format!("{}/token", idp.uri()));
    // All six in flight at once with the first token (an adaptive limit would start at 4).
    let opts = CrawlOptions {
        adaptive: false,
        ..fast(0)
    };
    let c = crawl_live(&rules, Default::default(), opts).await;
    for s in &seeds {
        let o = c.outcome(&url(&api.uri(), s));
        assert!(o.is_ok(), "{s}: {o:?}");
        assert_eq!(
            o.attempts, 1,
            "the retry after the renewal is not an attempt"
        );
    }
    // Six requests refused with the first token, one renewal for all of them, six retries.
    assert_eq!(calls.load(Ordering::SeqCst), 2, "exactly one refresh");
    assert_eq!(unauthorized.load(Ordering::SeqCst), 6);
    assert_eq!(api.received_requests().await.unwrap().len(), 12);
}

#[tokio::test]
async fn a_401_to_a_renewed_token_stands_without_another_renewal() {
    let endpoint = TokenEndpoint::new(3600.0);
    let (issued, calls) = (endpoint.issued.clone(), endpoint.calls.clone());
    let idp = token_endpoint(endpoint).await;
    let api = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(Guarded {
            issued,
            lifetime: Duration::from_secs(3600),
            refused: (1..10).map(|n| format!("tok-OAUTH-SECRET-{n}")).collect(),
            last: 0,
            unauthorized: Arc::default(),
        })
        .mount(&api)
        .await;
    let rules = api_rules(
        &api.uri(),
        &["/p/1", "/p/2"],
        &format!("{}/token", idp.uri()),
    );
    let c = crawl_live(&rules, Default::default(), fast(2)).await;
    for s in ["/p/1", "/p/2"] {
        c.assert_seed(
            &url(&api.uri(), s),
            FindingKind::Unresolved,
            "access",
            "access_denied",
            Some(401),
            1,
        );
    }
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "one renewal, not one per 401"
    );
}

#[tokio::test]
async fn a_short_lived_token_is_renewed_before_it_expires() {
    // Tokens live 1 s; the crawl walks a chain of pages for about 2.5 s.
    let endpoint = TokenEndpoint::new(1.0);
    let (issued, calls) = (endpoint.issued.clone(), endpoint.calls.clone());
    let idp = token_endpoint(endpoint).await;
    let api = MockServer::start().await;
    let unauthorized = Arc::new(AtomicUsize::new(0));
    Mock::given(method("GET"))
        .respond_with(DelayedGuard(
            Guarded {
                issued,
                lifetime: Duration::from_secs(1),
                refused: Vec::new(),
                last: 10,
                unauthorized: unauthorized.clone(),
            },
            Duration::from_millis(250),
        ))
        .mount(&api)
        .await;
    let rules = api_rules(&api.uri(), &["/p/1"], &format!("{}/token", idp.uri()));
    let c = crawl_live(&rules, Default::default(), fast(0)).await;
    for n in 1..=10 {
        let o = c.outcome(&url(&api.uri(), &format!("/p/{n}")));
        assert!(o.is_ok(), "/p/{n}: {o:?}");
    }
    assert_eq!(
        unauthorized.load(Ordering::SeqCst),
        0,
        "never sent an expired token"
    );
    let n = calls.load(Ordering::SeqCst);
    assert!(
        (3..=6).contains(&n),
        "renewed ahead of each expiry: {n} tokens"
    );
}

/// [`Guarded`] answering after a delay (the token is checked when the request arrives).
struct DelayedGuard(Guarded, Duration);

impl Respond for DelayedGuard {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        self.0.respond(req).set_delay(self.1)
    }
}

#[tokio::test]
async fn a_token_endpoint_failing_mid_crawl_leaves_links_unresolved_auth_failed() {
    let mut endpoint = TokenEndpoint::new(1.0);
    endpoint.fail_from = Some(2);
    let issued = endpoint.issued.clone();
    let idp = token_endpoint(endpoint).await;
    let api = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(DelayedGuard(
            Guarded {
                issued,
                lifetime: Duration::from_secs(1),
                refused: Vec::new(),
                last: 10,
                unauthorized: Arc::default(),
            },
            Duration::from_millis(300),
        ))
        .mount(&api)
        .await;
    let rules = api_rules(&api.uri(), &["/p/1"], &format!("{}/token", idp.uri()));
    let c = crawl_live(&rules, Default::default(), fast(3)).await;
    assert!(c.outcome(&url(&api.uri(), "/p/1")).is_ok());
    // The first page past the token's life is not requested: no token can be had.
    let failed = (2..=10)
        .map(|n| url(&api.uri(), &format!("/p/{n}")))
        .find(|u| !c.outcome(u).is_ok())
        .expect("a page after the token expired");
    let (f, l) = c.finding(&failed);
    assert_eq!(
        (f.kind, l.class.as_str(), l.reason.as_str(), l.attempts),
        (FindingKind::Unresolved, "access", "auth_failed", 1),
        "{l:#?}"
    );
    assert!(
        l.detail.contains("no OAuth2 token for service api"),
        "{}",
        l.detail
    );
    assert!(l.detail.contains("/token"), "{}", l.detail);
    assert!(l.detail.contains("answered 500"), "{}", l.detail);
}

// ---------------------------------------------------------------------------------------------
// The real binary: exit codes, messages and every output

fn bacaudit() -> Command {
    Command::new(assert_cmd::cargo::cargo_bin("bacaudit"))
}

/// Runs `cmd` off the runtime (the servers answer meanwhile).
async fn run(mut cmd: Command) -> std::process::Output {
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

/// `bacaudit crawl --rules RULES` with the drill's client id, `secret`, and `RUST_LOG=trace`.
async fn crawl_traced(rules: &Path, secret: &str) -> std::process::Output {
    let mut cmd = bacaudit();
    cmd.args(["crawl", "--rules"])
        .arg(rules)
        .env("DRILL_CLIENT_ID", CLIENT_ID)
        .env("DRILL_CLIENT_SECRET", secret)
        .env("RUST_LOG", "trace");
    run(cmd).await
}

fn write_rules(dir: &Path, text: &str) -> PathBuf {
    let p = dir.join("rules.toml");
    std::fs::write(&p, text).unwrap();
    p
}

fn oauth2_rules(service_uri: &str, token_url: &str, extra: &str) -> String {
    format!(
        "[services.api]\nbase_url = \"{service_uri}/\"\nseeds = [\"/p/1\"]\n\
         auth = {{ oauth2 = {{ token_url = \"{token_url}\", client_id_env = \"DRILL_CLIENT_ID\", \
         client_secret_env = \"DRILL_CLIENT_SECRET\"{extra} }} }}\n"
    )
}

#[tokio::test]
async fn a_token_endpoint_down_at_start_exits_2_before_crawling() {
    let api = MockServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let token_url = format!("http://127.0.0.1:{}/token", crate::support::dead_port());
    let rules = write_rules(dir.path(), &oauth2_rules(&api.uri(), &token_url, ""));
    let out = crawl_traced(&rules, CLIENT_SECRET).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("service api: cannot get an OAuth2 token: token endpoint")
            && stderr.contains(&token_url)
            && stderr.contains("connection failed"),
        "{stderr}"
    );
    assert!(!stderr.contains(CLIENT_SECRET), "{stderr}");
    assert!(
        api.received_requests().await.unwrap().is_empty(),
        "nothing crawled"
    );
}

#[tokio::test]
async fn a_wrong_client_secret_exits_2_with_the_answer_but_not_the_secret() {
    let idp = token_endpoint(TokenEndpoint::new(60.0)).await;
    let api = MockServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let token_url = format!("{}/token", idp.uri());
    let rules = write_rules(dir.path(), &oauth2_rules(&api.uri(), &token_url, ""));
    let wrong = "cs-SECRET-wrong-5e0a";
    let out = crawl_traced(&rules, wrong).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("service api: cannot get an OAuth2 token")
            && stderr.contains("answered 401: invalid_client"),
        "{stderr}"
    );
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{wrong}"));
    for leak in [wrong, basic.as_str()] {
        assert!(!stderr.contains(leak), "{stderr}");
        assert!(!String::from_utf8_lossy(&out.stdout).contains(leak));
    }
    assert!(
        api.received_requests().await.unwrap().is_empty(),
        "nothing crawled"
    );
}

/// Bearer, basic and OAuth2 services linking to each other and to an open one, echoing what
/// they were sent: each gets its own credential only, and no report, recording, stdout or
/// stderr (`RUST_LOG=trace`) holds any secret.
#[tokio::test]
async fn every_credential_kind_reaches_its_service_only_and_is_written_nowhere() {
    const BEARER: &str = "tok-BEARER-SECRET-33ab";
    const USER: &str = "drill-user";
    const PASSWORD: &str = "pw-BASIC-SECRET-77cd";
    let idp = token_endpoint(TokenEndpoint::new(3600.0)).await;
    let open = MockServer::start().await;
    let mut servers = Vec::new();
    for _ in 0..3 {
        servers.push(MockServer::start().await);
    }
    let uris: Vec<String> = servers.iter().map(MockServer::uri).collect();
    let open_uri = open.uri();
    for (i, s) in servers.iter().enumerate() {
        let others: Vec<String> = uris
            .iter()
            .chain([&open_uri])
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, u)| format!("{u}/echo"))
            .collect();
        // A redirect to the open service: the next hop carries no credential.
        Mock::given(method("GET"))
            .and(path("/hop"))
            .respond_with(
                ResponseTemplate::new(302)
                    .insert_header("location", format!("{open_uri}/landing").as_str()),
            )
            .with_priority(1)
            .mount(s)
            .await;
        Mock::given(method("GET"))
            .respond_with(move |req: &Request| {
                let auth = authorization(req).unwrap_or_default();
                let credential = auth.rsplit(' ').next().unwrap_or_default().to_string();
                ResponseTemplate::new(200).set_body_json(json!({
                    "you_sent": auth,
                    "note": format!("credential {credential} accepted"),
                    "others": others,
                }))
            })
            .mount(s)
            .await;
    }
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"open": true})))
        .mount(&open)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let rules = write_rules(
        dir.path(),
        &format!(
            "[services.bearer]\nbase_url = \"{}/\"\nseeds = [\"/echo\", \"/hop\"]\nauth = {{ bearer_env = \"T_BEARER\" }}\n\n\
             [services.basic]\nbase_url = \"{}/\"\nseeds = [\"/echo\", \"/hop\"]\n\
             auth = {{ basic_user_env = \"T_USER\", basic_password_env = \"T_PASSWORD\" }}\n\n\
             [services.oauth]\nbase_url = \"{}/\"\nseeds = [\"/echo\", \"/hop\"]\n\
             auth = {{ oauth2 = {{ token_url = \"{}/token\", client_id_env = \"T_CLIENT\", \
             client_secret_env = \"T_CLIENT_SECRET\", scope = \"read\" }} }}\n\n\
             [services.open]\nbase_url = \"{}/\"\nseeds = [\"/echo\"]\n",
            uris[0],
            uris[1],
            uris[2],
            idp.uri(),
            open_uri
        ),
    );
    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let mut cmd = bacaudit();
    cmd.args(["crawl", "--rules"]).arg(&rules);
    for ext in ["json", "md", "html", "sarif", "xml", "dot", "mmd", "txt"] {
        cmd.arg("--report")
            .arg(out_dir.join(format!("report.{ext}")));
    }
    cmd.arg("--record")
        .arg(out_dir.join("drill.ndjson"))
        .args(["--format", "json"])
        .env("T_BEARER", BEARER)
        .env("T_USER", USER)
        .env("T_PASSWORD", PASSWORD)
        .env("T_CLIENT", CLIENT_ID)
        .env("T_CLIENT_SECRET", CLIENT_SECRET)
        .env("RUST_LOG", "trace");
    let output = run(cmd).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("TRACE"), "trace logging is on");
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    let leaks = [
        "BEARER-SECRET",
        "BASIC-SECRET",
        basic.as_str(),
        CLIENT_SECRET,
        "OAUTH-SECRET",
    ];
    let mut texts = vec![
        ("stdout".to_string(), output.stdout.clone()),
        ("stderr".to_string(), output.stderr.clone()),
    ];
    for entry in std::fs::read_dir(&out_dir).unwrap() {
        let path = entry.unwrap().path();
        texts.push((path.display().to_string(), std::fs::read(&path).unwrap()));
    }
    assert_eq!(texts.len(), 2 + 9);
    for (name, bytes) in &texts {
        let text = String::from_utf8_lossy(bytes);
        for leak in leaks {
            assert!(!text.contains(leak), "{name} holds {leak}");
        }
    }
    let recording = std::fs::read_to_string(out_dir.join("drill.ndjson")).unwrap();
    assert!(
        recording.matches("credential REDACTED accepted").count() == 3,
        "{recording}"
    );
    // Each service got its own credential on every request, and nothing else.
    let expect = [
        format!("Bearer {BEARER}"),
        format!("Basic {basic}"),
        "Bearer tok-OAUTH-SECRET-1".to_string(),
    ];
    for (server, want) in servers.iter().zip(&expect) {
        let seen = server.received_requests().await.unwrap();
        assert!(!seen.is_empty());
        for r in &seen {
            assert_eq!(
                authorization(r).as_deref(),
                Some(want.as_str()),
                "{}",
                r.url
            );
        }
    }
    let reached = open.received_requests().await.unwrap();
    assert!(
        reached
            .iter()
            .filter(|r| r.url.path() == "/landing")
            .count()
            >= 3,
        "every redirect followed"
    );
    for r in reached {
        assert_eq!(authorization(&r), None, "{}", r.url);
    }
}

// ---------------------------------------------------------------------------------------------
// A real authorization server

/// `oauth2-mock-server` on an ephemeral loopback port (killed when dropped), and the tokens it
/// issued.
struct RealIdp {
    child: Child,
    issuer: String,
    issued: Arc<Mutex<Vec<String>>>,
}

impl Drop for RealIdp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the real server; None (the test is skipped, said loudly) only when node is absent.
#[expect(clippy::print_stderr, reason = "a skipped test says so")]
fn real_idp() -> Option<RealIdp> {
    if Command::new("node").arg("--version").output().is_err() {
        eprintln!(
            "SKIPPED: node is not installed, so the real OAuth2 server (tests/oauth2) cannot run; \
             .ci/run installs it and runs this test"
        );
        return None;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oauth2");
    assert!(
        dir.join("node_modules/oauth2-mock-server").is_dir(),
        "tests/oauth2/node_modules is missing: run `npm ci` in tests/oauth2 (.ci/run does)"
    );
    let mut child = Command::new("node")
        .arg("server.mjs")
        .current_dir(&dir)
        .env("OAUTH2_CLIENT_ID", CLIENT_ID)
        .env("OAUTH2_CLIENT_SECRET", CLIENT_SECRET)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines
        .next()
        .expect("the server says where it listens")
        .unwrap();
    let issuer = serde_json::from_str::<Value>(&first).unwrap()["issuer"]
        .as_str()
        .unwrap()
        .replace("localhost", "127.0.0.1");
    let issued = Arc::new(Mutex::new(Vec::new()));
    let sink = issued.clone();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str::<Value>(&line) {
                if let Some(t) = v["issued"].as_str() {
                    sink.lock().unwrap().push(t.to_string());
                }
            }
        }
    });
    // Keep stdin open: the server exits when it closes.
    let _ = child.stdin.as_mut().unwrap().flush();
    Some(RealIdp {
        child,
        issuer,
        issued,
    })
}

fn jwt_claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test]
async fn a_token_from_a_real_oauth2_server_reaches_its_service_only() {
    let Some(idp) = real_idp() else { return };
    let api = MockServer::start().await;
    let open = MockServer::start().await;
    let open_uri = open.uri();
    let api_uri = api.uri();
    Mock::given(method("GET"))
        .respond_with(move |req: &Request| {
            if authorization(req).is_some_and(|a| a.starts_with("Bearer ey")) {
                let n: u32 = req
                    .url
                    .path()
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .parse()
                    .unwrap_or(0);
                let next = (n < 3).then(|| format!("{api_uri}/p/{}", n + 1));
                ResponseTemplate::new(200).set_body_json(json!({
                    "id": n, "related": next, "elsewhere": format!("{open_uri}/open/{n}"),
                }))
            } else {
                ResponseTemplate::new(401)
            }
        })
        .mount(&api)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"open": true})))
        .mount(&open)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{}\n[services.open]\nbase_url = \"{}/\"\n",
        oauth2_rules(
            &api.uri(),
            &format!("{}/token", idp.issuer),
            ", scope = \"orders:read\", audience = \"orders-api\""
        ),
        open.uri()
    );
    let rules_path = write_rules(dir.path(), &text);
    let report = dir.path().join("report.json");
    let recording = dir.path().join("drill.ndjson");
    let mut cmd = bacaudit();
    cmd.args(["crawl", "--rules"])
        .arg(&rules_path)
        .arg("--report")
        .arg(&report)
        .arg("--record")
        .arg(&recording)
        .env("DRILL_CLIENT_ID", CLIENT_ID)
        .env("DRILL_CLIENT_SECRET", CLIENT_SECRET)
        .env("RUST_LOG", "trace");
    let out = run(cmd).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let issued = idp.issued.lock().unwrap().clone();
    assert_eq!(issued.len(), 1, "one token for the whole crawl");
    let token = &issued[0];
    // A JWT signed by that server, for the audience and scope asked.
    let claims = jwt_claims(token);
    assert_eq!(
        claims["iss"]
            .as_str()
            .map(|s| s.replace("localhost", "127.0.0.1")),
        Some(idp.issuer.clone())
    );
    assert_eq!(claims["aud"], "orders-api");
    assert_eq!(claims["scope"], "orders:read");
    let seen = api.received_requests().await.unwrap();
    assert_eq!(
        seen.len(),
        3,
        "/p/1 to /p/3: {}",
        std::fs::read_to_string(&report).unwrap()
    );
    for r in &seen {
        assert_eq!(
            authorization(r),
            Some(format!("Bearer {token}")),
            "{}",
            r.url
        );
    }
    let others = open.received_requests().await.unwrap();
    assert_eq!(others.len(), 3);
    for r in &others {
        assert_eq!(authorization(r), None, "{}", r.url);
    }
    let signature = token.rsplit('.').next().unwrap();
    for (name, text) in [
        ("stdout", String::from_utf8_lossy(&out.stdout).into_owned()),
        ("stderr", stderr.into_owned()),
        ("report", std::fs::read_to_string(&report).unwrap()),
        ("recording", std::fs::read_to_string(&recording).unwrap()),
    ] {
        assert!(!text.contains(signature), "{name} holds the token");
        assert!(
            !text.contains(CLIENT_SECRET),
            "{name} holds the client secret"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// apply: the same credentials

/// A service of the apply test: answers `status` to a request with a token of the endpoint,
/// 401 to anything else.
fn with_token(status: u16, body: Value) -> impl Respond {
    move |req: &Request| {
        if authorization(req).is_some_and(|a| a.starts_with("Bearer tok-OAUTH-SECRET-")) {
            ResponseTemplate::new(status).set_body_json(body.clone())
        } else {
            ResponseTemplate::new(401)
        }
    }
}

#[tokio::test]
async fn apply_sends_the_oauth2_token_and_stops_at_exit_2_without_one() {
    let endpoint = TokenEndpoint::new(3600.0);
    let calls = endpoint.calls.clone();
    let idp = token_endpoint(endpoint).await;
    let customers = MockServer::start().await;
    let orders = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(with_token(404, json!({})))
        .mount(&customers)
        .await;
    // The order is gone once deleted, as apply reads back.
    let order = Deletable::new(1);
    Mock::given(method("GET"))
        .respond_with(order.get(with_token(200, json!({"id": 3, "customer_id": 3}))))
        .mount(&orders)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(order.delete(with_token(204, json!({}))))
        .mount(&orders)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (c, o) = (customers.address(), orders.address());
    let rehost = |s: &str| {
        s.replace("127.0.0.1:8081", &c.to_string())
            .replace("127.0.0.1:8082", &o.to_string())
    };
    // The bac-talk report (order 3 points at a lost customer: delete it), moved to the mocks.
    let mut audit = bacaudit();
    audit
        .args(["audit", "--rules"])
        .arg(root.join("rules/bac-talk.toml"))
        .arg("--snapshot")
        .arg(root.join("fixtures/bac-talk/independent-backup.ndjson"))
        .arg("--report")
        .arg(dir.path().join("orig.json"));
    assert_eq!(run(audit).await.status.code(), Some(1));
    let report = dir.path().join("r.json");
    std::fs::write(
        &report,
        rehost(&std::fs::read_to_string(dir.path().join("orig.json")).unwrap()),
    )
    .unwrap();
    let auth = format!(
        "auth = {{ oauth2 = {{ token_url = \"{}/token\", client_id_env = \"A_ID\", \
         client_secret_env = \"A_SECRET\" }} }}",
        idp.uri()
    );
    let rules_text = rehost(&std::fs::read_to_string(root.join("rules/bac-talk.toml")).unwrap())
        .replace(
            "seeds = [\"/customers\"]",
            &format!("seeds = [\"/customers\"]\n{auth}"),
        )
        .replace(
            "seeds = [\"/orders\"]",
            &format!("seeds = [\"/orders\"]\n{auth}"),
        );
    let rules = write_rules(dir.path(), &rules_text);
    let apply = |secret: &str| {
        let mut cmd = bacaudit();
        cmd.args(["apply", "--execute", "--retries", "0", "--rules"])
            .arg(&rules)
            .arg(&report)
            .env("A_ID", CLIENT_ID)
            .env("A_SECRET", secret)
            .env("RUST_LOG", "trace");
        cmd
    };
    // A wrong secret: exit 2 before any request to a service.
    let out = run(apply("cs-SECRET-wrong")).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cannot get an OAuth2 token"), "{stderr}");
    assert!(!stderr.contains("cs-SECRET-wrong"), "{stderr}");
    assert!(orders.received_requests().await.unwrap().is_empty());
    // The right one: a token per service, on every request of the plan.
    let out = run(apply(CLIENT_SECRET)).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("done"), "{stdout}");
    let sent = orders.received_requests().await.unwrap();
    assert!(
        sent.iter().any(|r| r.method.as_str() == "DELETE"),
        "{stdout}"
    );
    for server in [&orders, &customers] {
        let seen = server.received_requests().await.unwrap();
        let tokens: std::collections::BTreeSet<_> = seen.iter().map(authorization).collect();
        assert_eq!(tokens.len(), 1, "one token per service: {tokens:?}");
        assert!(tokens.iter().all(|t| t.is_some()));
    }
    assert_eq!(
        calls.load(Ordering::SeqCst),
        3,
        "the wrong secret's try, then one token per service"
    );
    assert!(!stderr.contains("OAUTH-SECRET") && !stderr.contains(CLIENT_SECRET));
    assert!(!stdout.contains("OAUTH-SECRET"));
}

/// A token endpoint that is briefly unavailable (503) is tried again with backoff, as any
/// request: the crawl gets its token and goes on.
#[tokio::test]
async fn a_token_endpoint_503_once_is_retried_and_the_crawl_goes_on() {
    let endpoint = TokenEndpoint::new(3600.0);
    let calls = endpoint.calls.clone();
    let idp = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&idp)
        .await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(endpoint)
        .mount(&idp)
        .await;
    let api = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({})))
        .mount(&api)
        .await;
    let rules = api_rules(&api.uri(), &["/p/1"], &format!("{}/token", idp.uri()));
    let c = crawl_live(&rules, Default::default(), fast(0)).await;
    assert!(c.outcome(&url(&api.uri(), "/p/1")).is_ok());
    assert_eq!(calls.load(Ordering::SeqCst), 1, "one token issued");
    assert_eq!(
        idp.received_requests().await.unwrap().len(),
        2,
        "503, then the token"
    );
    let sent = api.received_requests().await.unwrap();
    assert_eq!(sent.len(), 1);
    assert!(
        authorization(&sent[0]).is_some_and(|a| a.starts_with("Bearer ")),
        "{:?}",
        authorization(&sent[0])
    );
}
