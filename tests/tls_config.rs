//! TLS settings against a real rustls server (the test CA of `support::tls`, certificates made
//! by rcgen): a private CA from the rules' `tls.ca`, each cause of `tls_error` (unknown issuer,
//! expired, name mismatch, no client certificate), mutual TLS, `insecure`; bad PEM files as
//! rules errors; and the same through the binary (`--ca`, `--insecure`, exit codes, a
//! recording that replays `tls_error`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use assert_cmd::Command;
use bacaudit::commands::pipeline::{self, CommonOptions};
use bacaudit::crawl::{Quiet, Stop};
use bacaudit::source::{LiveOptions, LiveSource};
use bacaudit::vocab::FindingKind::{BrokenLink, Unresolved};
use serde_json::Value;
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::tls::{client_identity, pki, server_config, Leaf, TlsFront};
use crate::support::{crawl_with, fast, url, Crawled};

/// A backend whose `/a` is gone (404: a broken seed when reached), behind a TLS front.
async fn world(leaf: Leaf, require_client_cert: bool) -> (MockServer, TlsFront) {
    let server = MockServer::start().await;
    Mock::given(path("/a"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    let front =
        TlsFront::start_with(*server.address(), server_config(leaf, require_client_cert)).await;
    (server, front)
}

/// Writes the test CA (`ca.pem`), a client certificate and key, and a rules file whose one
/// service `api` is at `base` with `tls = {tls}` (no `tls` when empty) on line 6.
fn rules_file(dir: &Path, base: &str, tls: &str) -> PathBuf {
    std::fs::write(dir.join("ca.pem"), &pki().ca_pem).unwrap();
    let (cert, key) = client_identity();
    std::fs::write(dir.join("client.pem"), cert).unwrap();
    std::fs::write(dir.join("client.key"), key).unwrap();
    let tls = if tls.is_empty() {
        String::new()
    } else {
        format!("tls = {tls}")
    };
    let text =
        format!("version = 1\n\n[services.api]\nbase_url = \"{base}/\"\nseeds = [\"/a\"]\n{tls}\n");
    let file = dir.join("rules.toml");
    std::fs::write(&file, text).unwrap();
    file
}

/// Crawls the front with the rules' `tls` and no other trust (retries allowed: a TLS failure
/// must not use them).
async fn crawl(front: &TlsFront, tls: &str) -> Crawled {
    let dir = tempfile::tempdir().unwrap();
    let rules = Arc::new(bacaudit::rules::load(&rules_file(dir.path(), &front.uri, tls)).unwrap());
    let source = Arc::new(LiveSource::new(rules.clone(), LiveOptions::default()).unwrap());
    crawl_with(&rules, source, fast(2), Arc::new(Quiet), Stop::never()).await
}

/// The handshake went through: the seed got the server's own 404, in one request.
async fn assert_reached(c: &Crawled, front: &TlsFront, server: &MockServer) {
    c.assert_seed(
        &url(&front.uri, "/a"),
        BrokenLink,
        "permanent",
        "not_found",
        Some(404),
        1,
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_private_ca_named_by_the_rules_is_trusted() {
    let (server, front) = world(Leaf::Good, false).await;
    let c = crawl(&front, r#"{ ca = "ca.pem" }"#).await;
    assert_reached(&c, &front, &server).await;
}

#[tokio::test]
async fn a_ca_list_is_trusted_too() {
    let (_server, front) = world(Leaf::Good, false).await;
    let c = crawl(&front, r#"{ ca = ["client.pem", "ca.pem"] }"#).await;
    let (f, _) = c.finding(&url(&front.uri, "/a"));
    assert_eq!(f.kind, BrokenLink);
}

/// A TLS failure: `tls_error` in class access, one attempt, the cause first in the detail,
/// nothing reached the backend.
async fn refused(leaf: Leaf, require_client_cert: bool, tls: &str, cause: &str) {
    let (server, front) = world(leaf, require_client_cert).await;
    let c = crawl(&front, tls).await;
    let u = url(&front.uri, "/a");
    c.assert_seed(&u, Unresolved, "access", "tls_error", None, 1);
    let (_, l) = c.finding(&u);
    assert!(
        l.detail.starts_with(&format!("TLS error: {cause} (")),
        "{}",
        l.detail
    );
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_certificate_of_another_ca_is_an_unknown_issuer() {
    refused(
        Leaf::OtherCa,
        false,
        r#"{ ca = "ca.pem" }"#,
        "unknown issuer",
    )
    .await;
}

#[tokio::test]
async fn an_expired_certificate_is_expired() {
    refused(Leaf::Expired, false, r#"{ ca = "ca.pem" }"#, "expired").await;
}

#[tokio::test]
async fn a_certificate_for_another_name_is_a_name_mismatch() {
    refused(
        Leaf::OtherName,
        false,
        r#"{ ca = "ca.pem" }"#,
        "name mismatch",
    )
    .await;
}

#[tokio::test]
async fn a_server_that_requires_a_client_certificate_refuses_none() {
    refused(
        Leaf::Good,
        true,
        r#"{ ca = "ca.pem" }"#,
        "no client certificate",
    )
    .await;
}

#[tokio::test]
async fn a_client_certificate_from_the_rules_is_presented() {
    let (server, front) = world(Leaf::Good, true).await;
    let c = crawl(
        &front,
        r#"{ ca = "ca.pem", cert = "client.pem", key = "client.key" }"#,
    )
    .await;
    assert_reached(&c, &front, &server).await;
}

/// `insecure` reaches a server nobody trusts, and the report says so first.
#[tokio::test]
async fn insecure_accepts_an_unknown_issuer_and_warns_in_the_report() {
    let (_server, front) = world(Leaf::OtherCa, false).await;
    let c = crawl(&front, "{ insecure = true }").await;
    let (f, _) = c.finding(&url(&front.uri, "/a"));
    assert_eq!(f.kind, BrokenLink);

    let dir = tempfile::tempdir().unwrap();
    let rules = rules_file(dir.path(), &front.uri, "{ insecure = true }");
    let out = pipeline::crawl(
        &CommonOptions::new(&rules),
        LiveOptions::default(),
        None,
        Arc::new(Quiet),
        Stop::never(),
    )
    .await
    .unwrap();
    assert_eq!(out.report.summary.broken_link, 1);
    let first = &out.report.warnings[0];
    assert!(
        first.starts_with("TLS certificates were not verified (insecure) for: api;"),
        "{first}"
    );
}

// ---------------------------------------------------------------------------------------------
// Rules errors: the file, the line, the key

fn load_err(tls: &str, files: &[(&str, &str)]) -> (String, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let rules = rules_file(dir.path(), "https://127.0.0.1:1", tls);
    for (name, content) in files {
        std::fs::write(dir.path().join(name), content).unwrap();
    }
    let e = bacaudit::rules::load(&rules).expect_err("refused");
    assert_eq!(e.line, Some(6), "{e}");
    (e.to_string(), dir.keep())
}

#[test]
fn a_bad_or_missing_pem_is_a_rules_error_with_file_line_and_key() {
    let (e, dir) = load_err(
        r#"{ ca = "bad.pem" }"#,
        &[("bad.pem", "not a certificate\n")],
    );
    let want = format!(
        "{}:6: key `services.api.tls.ca`: `{}` holds no PEM certificate",
        dir.join("rules.toml").display(),
        dir.join("bad.pem").display()
    );
    assert!(e.starts_with(&want), "{e}\nwant {want}");

    let (e, dir) = load_err(r#"{ ca = ["ca.pem", "missing.pem"] }"#, &[]);
    let want = format!(
        "key `services.api.tls.ca`: cannot read `{}`: ",
        dir.join("missing.pem").display()
    );
    assert!(e.contains(&want), "{e}");

    let (e, _) = load_err(
        r#"{ cert = "client.pem", key = "bad.key" }"#,
        &[(
            "bad.key",
            "-----BEGIN PRIVATE KEY-----\nS3CR3T\n-----END PRIVATE KEY-----\n",
        )],
    );
    assert!(e.contains("key `services.api.tls.key`: "), "{e}");
    assert!(e.contains("holds no usable private key"), "{e}");
    assert!(!e.contains("S3CR3T"), "the key's content leaked: {e}");

    // A usable key of another certificate.
    let (_, other_key) = client_identity();
    let (e, _) = load_err(
        r#"{ cert = "client.pem", key = "other.key" }"#,
        &[("other.key", other_key.as_str())],
    );
    assert!(e.contains("key `services.api.tls.key`: "), "{e}");
    assert!(
        e.contains("is not the private key of the certificate in"),
        "{e}"
    );

    let (e, _) = load_err(r#"{ cert = "client.pem" }"#, &[]);
    assert!(
        e.contains("key `services.api.tls.cert`: a client certificate needs its private key"),
        "{e}"
    );

    let (e, _) = load_err(r#"{ ca = 3 }"#, &[]);
    assert!(
        e.contains("key `services.api.tls.ca`: must be a path"),
        "{e}"
    );

    let (e, _) = load_err(r#"{ verify = false }"#, &[]);
    assert!(e.contains("unknown key `verify`"), "{e}");
}

#[test]
fn a_client_key_never_shows_in_debug() {
    let dir = tempfile::tempdir().unwrap();
    let rules = rules_file(
        dir.path(),
        "https://127.0.0.1:1",
        r#"{ cert = "client.pem", key = "client.key" }"#,
    );
    let r = bacaudit::rules::load(&rules).unwrap();
    let key = std::fs::read_to_string(dir.path().join("client.key")).unwrap();
    let body = key.lines().nth(1).unwrap();
    let debug = format!("{r:?}");
    assert!(debug.contains("client.key <redacted>"), "{debug}");
    assert!(!debug.contains(body), "{debug}");
}

// ---------------------------------------------------------------------------------------------
// The binary

/// Runs the binary off the runtime's thread (the servers answer meanwhile).
async fn run(args: Vec<String>) -> (i32, String, String) {
    tokio::task::spawn_blocking(move || {
        let out = Command::cargo_bin("bacaudit")
            .expect("binary built")
            .env_remove("SSL_CERT_FILE")
            .env_remove("SSL_CERT_DIR")
            .env_remove("RUST_LOG")
            .args(&args)
            .output()
            .expect("runs");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    })
    .await
    .expect("joined")
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_string()).collect()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[tokio::test]
async fn the_cli_trusts_the_rules_ca_and_the_ca_flag() {
    let (_server, front) = world(Leaf::Good, false).await;
    let dir = tempfile::tempdir().unwrap();
    let with_ca = rules_file(dir.path(), &front.uri, r#"{ ca = "ca.pem" }"#);
    let (code, out, err) = run(args(&["crawl", "-q", "--rules", s(&with_ca)])).await;
    assert_eq!(code, 1, "the broken seed fails the run\n{out}\n{err}");

    let other = tempfile::tempdir().unwrap();
    let without = rules_file(other.path(), &front.uri, "");
    let ca = dir.path().join("ca.pem");
    let (code, out, err) = run(args(&[
        "crawl",
        "-q",
        "--rules",
        s(&without),
        "--ca",
        s(&ca),
    ]))
    .await;
    assert_eq!(code, 1, "{out}\n{err}");

    std::fs::write(dir.path().join("bad.pem"), "nope").unwrap();
    let bad = dir.path().join("bad.pem");
    let (code, _, err) = run(args(&[
        "crawl",
        "-q",
        "--rules",
        s(&without),
        "--ca",
        s(&bad),
    ]))
    .await;
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&format!(
            "--ca: `{}` holds no PEM certificate",
            bad.display()
        )),
        "{err}"
    );
}

/// `tls_error` is exit 3; a recording keeps it and replays it the same.
#[tokio::test]
async fn the_cli_reports_tls_error_as_unresolved_and_records_it() {
    let (_server, front) = world(Leaf::Expired, false).await;
    let dir = tempfile::tempdir().unwrap();
    let rules = rules_file(dir.path(), &front.uri, r#"{ ca = "ca.pem" }"#);
    let rec = dir.path().join("rec.ndjson");
    let (code, out, err) = run(args(&[
        "crawl",
        "-q",
        "--rules",
        s(&rules),
        "--record",
        s(&rec),
        "--format",
        "json",
    ]))
    .await;
    assert_eq!(code, 3, "{out}\n{err}");
    let live: Value = serde_json::from_str(&out).unwrap();
    let f = &live["findings"][0];
    assert_eq!(
        (f["reason"].as_str(), f["class"].as_str()),
        (Some("tls_error"), Some("access"))
    );
    assert_eq!(f["attempts"], 1, "{f:#}");
    assert!(
        f["detail"]
            .as_str()
            .unwrap()
            .starts_with("TLS error: expired ("),
        "{f:#}"
    );
    let line: Value = serde_json::from_str(
        std::fs::read_to_string(&rec)
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(line["error"], "tls_error", "{line}");

    let (code, out, err) = run(args(&[
        "audit",
        "-q",
        "--rules",
        s(&rules),
        "--snapshot",
        s(&rec),
        "--format",
        "json",
    ]))
    .await;
    assert_eq!(code, 3, "{out}\n{err}");
    let replayed: Value = serde_json::from_str(&out).unwrap();
    let g = &replayed["findings"][0];
    assert_eq!(
        (&g["id"], &g["reason"], &g["class"]),
        (&f["id"], &f["reason"], &f["class"])
    );
}

#[tokio::test]
async fn the_cli_refuses_a_bad_pem_in_the_rules_with_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let rules = rules_file(dir.path(), "https://127.0.0.1:1", r#"{ ca = "bad.pem" }"#);
    std::fs::write(
        dir.path().join("bad.pem"),
        "-----BEGIN CERTIFICATE-----\n!!\n",
    )
    .unwrap();
    let (code, out, err) = run(args(&["crawl", "-q", "--rules", s(&rules)])).await;
    assert_eq!(code, 2, "{out}\n{err}");
    let want = format!(
        "{}:6: key `services.api.tls.ca`: `{}` is not a valid PEM file",
        rules.display(),
        dir.path().join("bad.pem").display()
    );
    assert!(err.contains(&want), "{err}\nwant {want}");
}

/// `--insecure` wins over the rules (which verify against the test CA): a server of another
/// CA is reached, the log warns, the report's first warning says so (exit 3: inconclusive).
#[tokio::test]
async fn the_cli_insecure_flag_is_warned_in_the_log_and_the_report() {
    let (_server, front) = world(Leaf::OtherCa, false).await;
    let dir = tempfile::tempdir().unwrap();
    let rules = rules_file(dir.path(), &front.uri, r#"{ ca = "ca.pem" }"#);
    let (code, out, err) = run(args(&[
        "crawl",
        "-q",
        "--insecure",
        "--rules",
        s(&rules),
        "--format",
        "json",
    ]))
    .await;
    assert_eq!(code, 1, "the broken seed was reached\n{out}\n{err}");
    assert!(err.contains("WARN"), "{err}");
    assert!(
        err.contains("TLS certificate verification is OFF for service api"),
        "{err}"
    );
    let r: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(r["summary"]["broken_link"], 1, "{r:#}");
    assert!(
        r["warnings"][0]
            .as_str()
            .unwrap()
            .starts_with("TLS certificates were not verified (insecure) for: api;"),
        "{r:#}"
    );
}

/// A client key reaches no output: an mTLS crawl with `RUST_LOG=trace`, every report format
/// and a recording, and the error about a key of another certificate.
#[tokio::test]
async fn a_client_key_is_written_nowhere() {
    let (_server, front) = world(Leaf::Good, true).await;
    let dir = tempfile::tempdir().unwrap();
    let rules = rules_file(
        dir.path(),
        &front.uri,
        r#"{ ca = "ca.pem", cert = "client.pem", key = "client.key" }"#,
    );
    let key = std::fs::read_to_string(dir.path().join("client.key")).unwrap();
    let secret: Vec<String> = key
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .map(|l| l[..l.len().min(24)].to_string())
        .collect();
    assert!(!secret.is_empty());
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("bacaudit"));
    cmd.arg("crawl").arg("--rules").arg(&rules);
    for ext in ["json", "md", "html", "sarif", "xml", "dot", "mmd", "txt"] {
        cmd.arg("--report").arg(out.join(format!("report.{ext}")));
    }
    cmd.arg("--record")
        .arg(out.join("drill.ndjson"))
        .args(["--format", "json"])
        .env_remove("SSL_CERT_FILE")
        .env("RUST_LOG", "trace");
    let output = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(
        output.status.code(),
        Some(1),
        "the seed's 404 was reached\n{stderr}"
    );
    assert!(stderr.contains("TRACE"), "trace logging is on");

    // A usable key of another certificate: refused, not quoted.
    let (_, other) = client_identity();
    std::fs::write(dir.path().join("client.key"), &other).unwrap();
    let (code, bad_out, bad_err) = run(args(&["crawl", "-q", "--rules", s(&rules)])).await;
    assert_eq!(code, 2, "{bad_err}");
    assert!(
        bad_err.contains("is not the private key of the certificate"),
        "{bad_err}"
    );

    let mut texts = vec![
        (
            "stdout".to_string(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
        ),
        ("stderr".to_string(), stderr),
        ("refusal".to_string(), format!("{bad_out}{bad_err}")),
    ];
    for entry in std::fs::read_dir(&out).unwrap() {
        let path = entry.unwrap().path();
        texts.push((
            path.display().to_string(),
            std::fs::read_to_string(&path).unwrap(),
        ));
    }
    assert_eq!(
        texts.len(),
        3 + 9,
        "every report and the recording were written"
    );
    let other: Vec<&str> = other.lines().filter(|l| !l.starts_with("-----")).collect();
    for (name, text) in &texts {
        for line in secret
            .iter()
            .map(String::as_str)
            .chain(other.iter().copied())
        {
            assert!(!text.contains(line), "{name} holds the client key");
        }
    }
}
