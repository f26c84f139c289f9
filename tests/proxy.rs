//! Forward proxies with a real one: Debian's `tinyproxy`, started here on a loopback port with
//! its own config and log, counting the requests it forwards. Loopback is proxied only when a
//! service's `proxy` key asks (also against `http_proxy` and `NO_PROXY`), and `proxy = "none"`
//! wins over the environment. Every server here is on loopback: how the environment's
//! variables pick a proxy for other hosts (curl's rules, `NO_PROXY` included) is tested on the
//! decision itself, in `src/http/proxy.rs`.

use std::net::{IpAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bacaudit::http::Proxies;
use bacaudit::source::LiveOptions;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{crawl_live, fast};

/// A running tinyproxy; killed on drop.
struct Tinyproxy {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Drop for Tinyproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Tinyproxy {
    /// Starts tinyproxy on a free loopback port (`None` when it is not installed).
    fn start(dir: &Path) -> Option<Tinyproxy> {
        let bin = ["/usr/bin/tinyproxy", "/usr/sbin/tinyproxy"]
            .into_iter()
            .find(|p| Path::new(p).exists())?;
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = dir.join("tinyproxy.log");
        let conf = dir.join("tinyproxy.conf");
        std::fs::write(
            &conf,
            format!(
                "Port {port}\nListen 127.0.0.1\nTimeout 30\nLogFile \"{}\"\nLogLevel Info\n\
                 MaxClients 50\nAllow 127.0.0.1\n",
                log.display()
            ),
        )
        .unwrap();
        let child = Command::new(bin)
            .arg("-d")
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("tinyproxy starts");
        let t = Tinyproxy { child, port, log };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "tinyproxy listens");
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(t)
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The requests it forwarded to `origin` (`http://host:port`), from its log.
    fn forwarded(&self, origin: &str) -> usize {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        log.lines()
            .filter(|l| {
                l.contains("Request (file descriptor") && l.contains(&format!(" {origin}/"))
            })
            .count()
    }
}

async fn server_on(ip: IpAddr) -> MockServer {
    let listener = TcpListener::bind((ip, 0)).unwrap();
    let server = MockServer::builder().listener(listener).start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({})))
        .mount(&server)
        .await;
    server
}

fn live(proxies: Proxies) -> LiveOptions {
    LiveOptions {
        proxies: Some(proxies),
        ..LiveOptions::default()
    }
}

#[tokio::test]
async fn a_real_proxy_forwards_what_the_rules_and_environment_send_it_and_no_proxy_is_respected() {
    let dir = tempfile::tempdir().unwrap();
    let Some(tp) = Tinyproxy::start(dir.path()) else {
        panic!("tinyproxy is not installed (.ci/run installs it: apt-get install -y tinyproxy)");
    };
    let asked = server_on(IpAddr::from([127, 0, 0, 1])).await;
    let loopback = server_on(IpAddr::from([127, 0, 0, 1])).await;
    let none = server_on(IpAddr::from([127, 0, 0, 1])).await;
    let text = format!(
        "[services.asked]\nbase_url = \"{}/\"\nseeds = [\"/a/1\", \"/a/2\"]\nproxy = \"{}\"\n\
         [services.loopback]\nbase_url = \"{}/\"\nseeds = [\"/l/1\"]\n\
         [services.none]\nbase_url = \"{}/\"\nseeds = [\"/n/1\"]\nproxy = \"none\"\n",
        asked.uri(),
        tp.url(),
        loopback.uri(),
        none.uri()
    );
    let rules = Arc::new(bacaudit::rules::parse(Path::new("p.toml"), &text, &|_| None).unwrap());

    // The environment names the proxy for http:// (and HTTPS_PROXY for good measure).
    let proxy = tp.url();
    let env = |name: &str| match name {
        "http_proxy" | "HTTPS_PROXY" => Some(proxy.clone()),
        _ => None,
    };
    let c = crawl_live(&rules, live(Proxies::from_rules(&rules, &env)), fast(0)).await;
    assert!(c.analysis.findings.is_empty(), "{:#?}", c.analysis.findings);
    // Asked explicitly: through the proxy, though on loopback.
    assert_eq!(tp.forwarded(&asked.uri()), 2);
    for r in asked.received_requests().await.unwrap() {
        assert!(r.headers.contains_key("via"), "tinyproxy adds Via");
    }
    // Loopback from the environment, and `none`: direct.
    assert_eq!(tp.forwarded(&loopback.uri()), 0);
    assert_eq!(tp.forwarded(&none.uri()), 0);
    assert_eq!(loopback.received_requests().await.unwrap().len(), 1);
    assert_eq!(none.received_requests().await.unwrap().len(), 1);
    for s in [&loopback, &none] {
        for r in s.received_requests().await.unwrap() {
            assert!(!r.headers.contains_key("via"));
        }
    }
    // NO_PROXY names the asked service's host: the rules' proxy key still wins.
    let env = |name: &str| match name {
        "http_proxy" => Some(proxy.clone()),
        "NO_PROXY" => Some("example.invalid, 127.0.0.1".to_string()),
        _ => None,
    };
    let c = crawl_live(&rules, live(Proxies::from_rules(&rules, &env)), fast(0)).await;
    assert!(c.analysis.findings.is_empty(), "{:#?}", c.analysis.findings);
    assert_eq!(
        tp.forwarded(&asked.uri()),
        4,
        "the rules' proxy wins over NO_PROXY"
    );
    assert_eq!(tp.forwarded(&loopback.uri()), 0);
}
