//! Shapes real servers use (issue 19): ids inside a path segment or in the query, rows under
//! any member, OData control information, `Link` headers as sent. Real datasette and OData
//! servers on loopback (installed by scripts/test.sh), a recorded PostgREST snapshot, and
//! recorded worlds for the `Link` header warnings.

mod datasette;
mod link_header;
mod odata;
mod postgrest;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs bacaudit with `args` and a JSON report; returns (exit code, report, stderr).
fn run(args: &[&str]) -> (i32, Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let out = assert_cmd::Command::cargo_bin("bacaudit")
        .unwrap()
        .current_dir(root())
        .args(args)
        .arg("-q")
        .arg("--report")
        .arg(&report)
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    let json = std::fs::read_to_string(&report)
        .map(|t| serde_json::from_str(&t).expect("report is JSON"))
        .unwrap_or(Value::Null);
    (
        out.status.code().expect("exited"),
        json,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Crawls the services of a rules text (written to a temporary file).
fn crawl(rules: &str) -> (i32, Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rules.toml");
    std::fs::write(&path, rules).unwrap();
    run(&["crawl", "--rules", path.to_str().unwrap(), "--retries", "0"])
}

/// The findings of a report as (kind, source or resource, target or "", reason or "").
fn findings(report: &Value) -> Vec<(String, String, String, String)> {
    let s = |f: &Value, k: &str| f[k].as_str().unwrap_or_default().to_string();
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let source = if f["kind"] == "orphan" {
                s(f, "resource")
            } else {
                s(f, "source")
            };
            (s(f, "kind"), source, s(f, "target"), s(f, "reason"))
        })
        .collect()
}

/// The (method, url) of each finding's compensations, in report order.
fn compensations(report: &Value) -> Vec<(String, String)> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .flat_map(|f| f["compensations"].as_array().cloned().unwrap_or_default())
        .map(|c| {
            (
                c["method"].as_str().unwrap_or("-").to_string(),
                c["url"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// A test server process, ended (and reaped) when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `cmd` and waits (at most 90 s: datasette takes seconds on a busy machine) for a
/// line of its stdout or stderr where `find` sees the base URL.
fn start(mut cmd: Command, find: fn(&str) -> Option<String>) -> Server {
    let child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the server starts");
    // Owned by a `Server` at once: ended on every way out, a panic included.
    let mut server = Server {
        child,
        base: String::new(),
    };
    let (tx, rx) = mpsc::channel();
    let out = server.child.stdout.take().unwrap();
    let err = server.child.stderr.take().unwrap();
    for stream in [
        Box::new(out) as Box<dyn std::io::Read + Send>,
        Box::new(err) as Box<dyn std::io::Read + Send>,
    ] {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                if let Some(base) = find(&line) {
                    server.base = base;
                    return server;
                }
                seen.push(line);
            }
            Err(_) => {
                panic!(
                    "the server did not say where it listens; it said:\n{}",
                    seen.join("\n")
                );
            }
        }
    }
}

/// Whether `program` runs at all (`--version`); a test that needs it says loudly that it is
/// skipped when it does not, and fails instead under CI (`CI` set: scripts/test.sh installed
/// it, or should have).
#[expect(clippy::print_stderr, reason = "a skipped test says so")]
fn available(program: &Path, what: &str) -> bool {
    let ok = Command::new(program).arg("--version").output().is_ok();
    assert!(
        ok || std::env::var_os("CI").is_none(),
        "{} cannot run under CI: scripts/test.sh should have installed it",
        program.display()
    );
    if !ok {
        eprintln!(
            "SKIPPED: {} cannot run, so the real {what} test cannot either; scripts/test.sh \
             installs it",
            program.display()
        );
    }
    ok
}
