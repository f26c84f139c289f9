//! `bacaudit demo`: the bundled shop world (rules and snapshot built into the binary) served on
//! ephemeral loopback ports with a flaky products service, crawled live, and reported.
//!
//! Products is also fragile, as a service just restored: each answer takes a few milliseconds
//! more for every request already in flight, and over [`FLAKY_CAPACITY`] in flight it answers
//! 503 at once. The crawl's adaptive concurrency holds it where it stays fast: the demo says
//! how many requests were refused over capacity (none, when the limiter does its job).
//!
//! The crawl finds what `audit` finds in `fixtures/shop/` (8 broken links, 5 orphans,
//! 9 unresolved), with the served ports in the URLs. The recorded timeout is served as a held
//! request and the demo's request timeout is short ([`DemoOptions::timeout`]), so it costs a
//! few seconds and stays a `timeout`, as recorded.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use super::pipeline::{self as run, CommonOptions, RunOutput};
use super::{Output, Session};
use crate::crawl::{Observer, Stop};
use crate::error::Error;
use crate::report::{Format, ReportTarget};
use crate::rules;
use crate::serve::{self, Flaky, Fragility, Load, ServeHandle, ServeOptions};
use crate::source::{LiveOptions, Snapshot};

/// The bundled rules (`rules/shop.toml`).
pub const RULES: &str = include_str!("../../rules/shop.toml");
/// The bundled snapshot (`fixtures/shop/shop.ndjson`).
pub const SNAPSHOT: &[u8] = include_bytes!("../../fixtures/shop/shop.ndjson");
/// Names the bundled files in messages and reports.
pub const RULES_NAME: &str = "rules/shop.toml";
pub const SNAPSHOT_NAME: &str = "fixtures/shop/shop.ndjson";
/// The service that answers 503 now and then.
pub const FLAKY_SERVICE: &str = "products";
/// Requests in flight the flaky service takes; more are refused with 503.
pub const FLAKY_CAPACITY: usize = 24;
/// The flaky service's answers: this long, plus [`FLAKY_SLOWDOWN`] per request in flight.
pub const FLAKY_LATENCY: Duration = Duration::from_millis(4);
pub const FLAKY_SLOWDOWN: Duration = Duration::from_millis(2);
/// Report files the demo writes, when their format exists.
pub const REPORT_FILES: &[&str] = &["report.json", "report.html", "report.md"];
/// The rebased rules the demo crawls with, written beside the reports.
pub const RULES_FILE: &str = "demo-rules.toml";

/// How the demo runs.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Where the reports go; `None`: a new folder in the system's temporary folder (kept).
    pub out: Option<PathBuf>,
    /// Request timeout of the crawl [default: 2 s]: the recorded timeout costs 4 of them.
    pub timeout: Duration,
    /// Share of the products service's URLs that answer 503 once [default: 0.15].
    pub flaky: f64,
    /// Chooses the flaky URLs [default: 2018].
    pub seed: u64,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            out: None,
            timeout: Duration::from_secs(2),
            flaky: 0.15,
            seed: 2018,
        }
    }
}

/// The demo world, served and ready to crawl.
#[derive(Debug)]
pub struct Demo {
    server: ServeHandle,
    out_dir: PathBuf,
    rules_file: PathBuf,
    timeout: Duration,
}

/// What the demo produced.
#[derive(Debug, Clone)]
pub struct DemoOutput {
    /// The crawl's result: its exit code is the demo's.
    pub run: RunOutput,
    pub out_dir: PathBuf,
    /// The report files written.
    pub reports: Vec<PathBuf>,
    /// Requests the flaky service refused over its capacity (503s caused by load).
    pub refused: u64,
}

impl DemoOutput {
    /// `reports written to DIR: report.json, report.html`
    pub fn summary(&self) -> String {
        let files: Vec<String> = self
            .reports
            .iter()
            .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect();
        format!(
            "{FLAKY_SERVICE} (fragile: slower under load, {FLAKY_CAPACITY} requests in flight at \
             most): {} refused over capacity\nreports written to {}: {}",
            self.refused,
            self.out_dir.display(),
            files.join(", ")
        )
    }
}

/// Serves the bundled world (rebased onto ephemeral loopback ports, products flaky) and writes
/// the rebased rules into the output folder.
pub async fn start(opts: &DemoOptions) -> Result<Demo, Error> {
    let rules = rules::parse(Path::new(RULES_NAME), RULES, &|name| {
        std::env::var(name).ok()
    })?;
    let mut snapshot = Snapshot {
        path: PathBuf::from(SNAPSHOT_NAME),
        ..Snapshot::default()
    };
    snapshot.add_text(Path::new(SNAPSHOT_NAME), Bytes::from_static(SNAPSHOT))?;
    let out_dir = out_dir(opts.out.as_deref())?;
    let server = serve::serve(
        &rules,
        Arc::new(snapshot),
        ServeOptions {
            rebase: true,
            flaky: Some(Flaky {
                service: FLAKY_SERVICE.into(),
                fraction: opts.flaky,
                seed: opts.seed,
            }),
            fragility: Fragility {
                per_service: [(
                    FLAKY_SERVICE.to_string(),
                    Load {
                        latency: Some(FLAKY_LATENCY),
                        capacity: Some(FLAKY_CAPACITY),
                        slow_under_load: Some(FLAKY_SLOWDOWN),
                    },
                )]
                .into(),
                ..Fragility::default()
            },
            ..ServeOptions::default()
        },
    )
    .await?;
    let text = server
        .origins()
        .rules_toml(RULES)
        .map_err(|e| Error::Other(format!("{RULES_NAME}: cannot rebase the rules: {e}")))?;
    let rules_file = out_dir.join(RULES_FILE);
    let header = format!(
        "# {RULES_NAME}, moved to the ports `bacaudit demo` served it on (bundled snapshot {SNAPSHOT_NAME}).\n"
    );
    crate::report::write_atomic(&rules_file, format!("{header}{text}").as_bytes())?;
    Ok(Demo {
        server,
        out_dir,
        rules_file,
        timeout: opts.timeout,
    })
}

impl Demo {
    /// The running services (for the `serving …` lines).
    pub fn server(&self) -> &ServeHandle {
        &self.server
    }

    /// Where the reports go.
    pub fn out_dir(&self) -> &Path {
        &self.out_dir
    }

    /// Crawls the served world live, writes the reports, stops serving.
    pub async fn run(self, observer: Arc<dyn Observer>, stop: Stop) -> Result<DemoOutput, Error> {
        let reports: Vec<PathBuf> = REPORT_FILES
            .iter()
            .map(|name| self.out_dir.join(name))
            .filter(|p| Format::from_path(p).is_some())
            .collect();
        let mut opts = CommonOptions::new(&self.rules_file);
        opts.reports = reports
            .iter()
            .filter_map(|p| ReportTarget::file(p).ok())
            .collect();
        let live = LiveOptions {
            timeout: self.timeout,
            ..LiveOptions::default()
        };
        let result = run::crawl(&opts, live, None, observer, stop).await;
        let refused = self.server.refused_over_capacity();
        self.server.shutdown().await;
        Ok(DemoOutput {
            run: result?,
            out_dir: self.out_dir,
            reports,
            refused,
        })
    }
}

/// The given folder (created if missing) or a new one under the system's temporary folder.
fn out_dir(out: Option<&Path>) -> Result<PathBuf, Error> {
    match out {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| {
                Error::Usage(format!("{}: cannot create the folder: {e}", dir.display()))
            })?;
            Ok(dir.to_path_buf())
        }
        None => tempfile::Builder::new()
            .prefix("bacaudit-demo-")
            .tempdir()
            .map(tempfile::TempDir::keep)
            .map_err(|e| Error::Other(format!("cannot create a temporary folder: {e}"))),
    }
}
/// `bacaudit demo`: serve the bundled world, crawl it, print the table, say where the
/// reports are (the table is printed here, before that line); `quiet`: no `serving …` lines.
pub async fn command(opts: &DemoOptions, quiet: bool, session: &Session) -> Result<Output, Error> {
    let stop = (session.stop)();
    let demo = start(opts).await?;
    if !quiet {
        session.console.eprint(&demo.server().banner());
    }
    let out = demo.run(session.observer.clone(), stop).await?;
    session.console.finish();
    session.console.print(&out.run.stdout);
    session.console.eprint(&format!("{}\n", out.summary()));
    Ok(Output {
        exit_code: out.run.exit_code,
        stdout: String::new(),
    })
}
