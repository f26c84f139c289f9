//! What clap parses: commands and options (derive). Doc comments are the help text; each
//! default is the library's own (`Default` impls and constants), written nowhere else, and
//! clap prints it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::commands::demo::DemoOptions;
use crate::crawl::CrawlOptions;
use crate::explain::ExplainOptions;
use crate::gate::Gate;
use crate::http::RetryPolicy;
use crate::report::Format;
use crate::serve::{Chaos, ServeOptions};
use crate::source::LiveOptions;

/// Audit the link integrity of microservices restored from backups: broken links, orphans,
/// and the compensating operations that repair them.
#[derive(Debug, Parser)]
#[command(name = "bacaudit", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Crawl the live services from their seeds and audit what they answer.
    Crawl(CrawlCmd),
    /// Audit a recorded snapshot (offline, for CI).
    Audit(AuditCmd),
    /// Serve a snapshot as live services on their base URLs (drills, demos, tests).
    Serve(ServeCmd),
    /// Run the bundled scenario end to end: serve a restored shop, crawl it, report.
    Demo(DemoCmd),
    /// Propose a rules file from what the services show (a snapshot or a live crawl).
    Init(InitCmd),
    /// Print (or with --execute, perform) the compensating operations of a report.
    Apply(ApplyCmd),
    /// Write a baseline file accepting every finding of a report.
    Baseline(BaselineCmd),
    /// Compare two snapshots: resources lost, resurrected and changed by a restore.
    Diff(DiffCmd),
    /// Price the ways out of an inconsistent restore: compensate, trim to the oldest backup,
    /// or accept.
    Whatif(WhatifCmd),
    /// Suggest which services to back up together (synchronized backups).
    Clusters(ClustersCmd),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions(CompletionsCmd),
    /// Print the manual page (roff: `bacaudit man | man -l -`), or write every page.
    Man(ManCmd),
}

#[derive(Debug, Args)]
pub struct ManCmd {
    /// The page of this subcommand (bacaudit-audit(1), …) instead of bacaudit(1).
    #[arg(value_name = "SUBCOMMAND", conflicts_with = "dir")]
    pub subcommand: Option<String>,
    /// Write bacaudit.1 and a bacaudit-SUBCOMMAND.1 for each subcommand into DIR (for
    /// packaging: `man/man1`).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CompletionsCmd {
    /// The shell: bash, zsh, fish, powershell or elvish.
    #[arg(value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct DiffCmd {
    /// The snapshot from before the disaster (the last good state).
    #[arg(value_name = "BEFORE")]
    pub before: PathBuf,
    /// The snapshot after the restore.
    #[arg(value_name = "AFTER")]
    pub after: PathBuf,
    /// Group by service and kind, and say which findings of AFTER the losses explain
    /// (without it: group by origin).
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
    /// What to print on stdout: table or json.
    #[arg(long, value_name = "F", default_value_t = Format::Table.name().into())]
    pub format: String,
    /// Accepted like on every command (this one shows no progress).
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct WhatifCmd {
    /// The rules file (TOML); `restored_from` gives the restore points.
    #[arg(long, value_name = "FILE", env = "BACAUDIT_RULES")]
    pub rules: PathBuf,
    /// The snapshot after the restore.
    #[arg(long, value_name = "PATH")]
    pub snapshot: PathBuf,
    /// The last good snapshot: `recreate` puts back its representations instead of
    /// placeholders.
    #[arg(long, value_name = "PATH")]
    pub previous_snapshot: Option<PathBuf>,
    /// When SERVICE's backup was taken (RFC 3339); overrides the rules. May repeat.
    #[arg(long = "restore-point", value_name = "SERVICE=TIME")]
    pub restore_points: Vec<String>,
    /// What to print on stdout: table or json.
    #[arg(long, value_name = "F", default_value_t = Format::Table.name().into())]
    pub format: String,
    /// Accepted like on every command (this one shows no progress).
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct ClustersCmd {
    /// The rules file (TOML).
    #[arg(long, value_name = "FILE", env = "BACAUDIT_RULES")]
    pub rules: PathBuf,
    /// The snapshot whose references (and findings) weigh the pairs of services.
    #[arg(long, value_name = "PATH")]
    pub snapshot: PathBuf,
    /// Recommend the first level whose cross-group weight is at most this share of the total.
    #[arg(long, value_name = "SHARE", default_value_t = ExplainOptions::default().threshold)]
    pub threshold: f64,
    /// Weight a broken link or orphan adds to its pair of services, on top of its reference.
    #[arg(long, value_name = "N", default_value_t = ExplainOptions::default().finding_weight)]
    pub finding_weight: u64,
    /// What to print on stdout: table or json.
    #[arg(long, value_name = "F", default_value_t = Format::Table.name().into())]
    pub format: String,
    /// Accepted like on every command (this one shows no progress).
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct ApplyCmd {
    /// The JSON report whose compensations to apply.
    #[arg(value_name = "REPORT.json")]
    pub report: PathBuf,
    /// The rules file: scope and credentials of the services.
    #[arg(long, value_name = "FILE", env = "BACAUDIT_RULES")]
    pub rules: PathBuf,
    /// Perform the plan; without it, the plan is only printed (dry run).
    #[arg(long)]
    pub execute: bool,
    /// The journal of performed operations [default: REPORT.json.journal.ndjson].
    #[arg(long, value_name = "FILE")]
    pub journal: Option<PathBuf>,
    /// Seconds before a request times out.
    #[arg(long, value_name = "SECS", env = "BACAUDIT_TIMEOUT", default_value_t = LiveOptions::default().timeout.as_secs_f64())]
    pub timeout: f64,
    /// Retries of a transient failure.
    #[arg(long, value_name = "N", env = "BACAUDIT_RETRIES", default_value_t = RetryPolicy::default().retries)]
    pub retries: u32,
    /// Seconds to keep reading a resource back until a write's effect shows (for eventually
    /// consistent services); past it the operation is `no_effect` (or `unverified` after a
    /// 202). [default: one read after a 2xx; up to 10 s of polling after a 202 Accepted]
    #[arg(long, value_name = "SECS")]
    pub verify_wait: Option<f64>,
    #[command(flatten)]
    pub tls: TlsArgs,
    /// No output but errors.
    #[arg(short, long)]
    pub quiet: bool,
}

/// How `https://` servers are verified, for every service (on top of the rules' `tls`).
#[derive(Debug, Args)]
pub struct TlsArgs {
    /// Trust the CA certificates of this PEM file for every service, besides the bundled roots
    /// and the system's (`SSL_CERT_FILE`). May repeat.
    #[arg(long = "ca", value_name = "FILE")]
    pub ca: Vec<PathBuf>,
    /// Verify no TLS certificate of any service (wins over the rules; warned in the log and
    /// the report). For throwaway drill environments only.
    #[arg(long)]
    pub insecure: bool,
}

#[derive(Debug, Args)]
pub struct BaselineCmd {
    /// The JSON report whose findings are accepted.
    #[arg(value_name = "REPORT.json")]
    pub report: PathBuf,
    /// Where to write the baseline [default: stdout].
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// No output but errors.
    #[arg(short, long)]
    pub quiet: bool,
}

/// Options of every auditing command.
#[derive(Debug, Args)]
pub struct CommonArgs {
    /// The rules file (TOML).
    #[arg(long, value_name = "FILE", env = "BACAUDIT_RULES")]
    pub rules: PathBuf,
    /// Write a report; the format follows the extension (.json, .md, .html, .sarif, .xml,
    /// .dot, .mmd), or is named: `FORMAT:PATH` (`md:$GITHUB_STEP_SUMMARY` appends the job
    /// summary, within its 1 MiB; `sarif:-` prints on stdout instead of --format). May repeat.
    #[arg(long = "report", value_name = "[FORMAT:]PATH")]
    pub reports: Vec<PathBuf>,
    /// What to print on stdout.
    #[arg(long, value_name = "F", default_value_t = Format::Table.name().into())]
    pub format: String,
    /// Finding kinds that fail the run (comma-separated; `none` for nothing).
    #[arg(long, value_name = "LIST", env = "BACAUDIT_FAIL_ON", default_value_t = Gate::default().fail_on_list())]
    pub fail_on: String,
    /// A previous report (or baseline file): findings whose id it holds do not fail the run.
    #[arg(long, value_name = "REPORT.json", env = "BACAUDIT_BASELINE")]
    pub baseline: Option<PathBuf>,
    /// Broken links tolerated before the run fails.
    #[arg(long, value_name = "N", default_value_t = Gate::default().max_broken)]
    pub max_broken: u64,
    /// Orphans tolerated before the run fails.
    #[arg(long, value_name = "N", default_value_t = Gate::default().max_orphans)]
    pub max_orphans: u64,
    /// The last good snapshot (before the disaster): `recreate` puts back its representations.
    #[arg(long, value_name = "PATH")]
    pub previous_snapshot: Option<PathBuf>,
    /// When SERVICE's backup was taken (RFC 3339, `orders=2026-11-20T12:00:00Z`): each broken
    /// link and orphan gets a `cause`. Overrides the rules' `restored_from`. May repeat.
    #[arg(long = "restore-point", value_name = "SERVICE=TIME")]
    pub restore_points: Vec<String>,
    /// Add the backup clusters (which services to back up together) to the report.
    #[arg(long)]
    pub clusters: bool,
    /// No progress bar.
    #[arg(short, long)]
    pub quiet: bool,
}

/// Bounds of a crawl.
#[derive(Debug, Args)]
pub struct LimitArgs {
    /// Requests in flight at once, over all services.
    #[arg(long, value_name = "N", env = "BACAUDIT_CONCURRENCY", default_value_t = CrawlOptions::default().concurrency)]
    pub concurrency: usize,
    /// Retries of a transient failure (timeouts, 429, 5xx).
    #[arg(long, value_name = "N", env = "BACAUDIT_RETRIES", default_value_t = RetryPolicy::default().retries)]
    pub retries: u32,
    /// Fetch at most this many URLs (and keep at most this many): links to further new URLs
    /// are cut, with a warning [default: 1000000 for crawl, so a world that makes up URLs
    /// forever still ends; none for audit, a snapshot is finite].
    #[arg(long, value_name = "N")]
    pub max_resources: Option<usize>,
    /// Do not fetch URLs more than this many links away from a seed [default: none; each page
    /// of a paginated list is one link deeper].
    #[arg(long, value_name = "N")]
    pub max_depth: Option<u32>,
}

#[derive(Debug, Args)]
pub struct CrawlCmd {
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
    /// Record every fetch's final outcome as a snapshot (NDJSON), streaming, with the attempts
    /// before it (`earlier`: status or error, and Retry-After) and a failure's `detail`, so
    /// `audit` of FILE gives this crawl's report again (the run fields aside: README).
    /// `--resume FILE` appends to it.
    #[arg(long, value_name = "FILE", conflicts_with = "resume")]
    pub record: Option<PathBuf>,
    /// Continue a crawl whose `--record FILE` was interrupted: what FILE holds is replayed (no
    /// request), the rest is fetched live and appended to FILE (created if missing).
    #[arg(long, value_name = "FILE")]
    pub resume: Option<PathBuf>,
    /// Seconds before a request times out.
    #[arg(long, value_name = "SECS", env = "BACAUDIT_TIMEOUT", default_value_t = LiveOptions::default().timeout.as_secs_f64())]
    pub timeout: f64,
    /// Largest response body read, in bytes; a larger one is cut and reported.
    #[arg(long, value_name = "BYTES", default_value_t = LiveOptions::default().max_body)]
    pub max_body: usize,
    /// Send every service as many requests at once as its `concurrency` (and --concurrency)
    /// allows, from the start, instead of finding what it can take from its latency, 429s and
    /// 503s (adaptive, the default; `adaptive = false` pins one service).
    #[arg(long)]
    pub fixed_concurrency: bool,
    #[command(flatten)]
    pub tls: TlsArgs,
}

#[derive(Debug, Args)]
pub struct AuditCmd {
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
    /// The recorded snapshot: an NDJSON file or a folder of them.
    #[arg(long, value_name = "PATH")]
    pub snapshot: PathBuf,
}

#[derive(Debug, Args)]
pub struct ServeCmd {
    /// The rules file: each service is served on its base URL's host and port.
    #[arg(long, value_name = "FILE", env = "BACAUDIT_RULES")]
    pub rules: PathBuf,
    /// The snapshot to serve: an NDJSON file or a folder of them.
    #[arg(long, value_name = "PATH")]
    pub snapshot: PathBuf,
    /// Seconds a recorded `timeout` holds its request before closing the connection
    /// unanswered.
    #[arg(long, value_name = "SECS", default_value_t = ServeOptions::default().hold.as_secs_f64())]
    pub hold: f64,
    /// Accept PUT, POST (to a collection), PATCH (JSON Patch, JSON Merge Patch or a partial
    /// JSON object) and DELETE and apply them in memory, so `apply --execute` can be rehearsed
    /// against the served world in any patch or create dialect (a DELETE also unlists the
    /// resource from the pages that list it; If-Match is honoured).
    #[arg(long)]
    pub writable: bool,
    /// Fail each request at random with this probability (0 to 1): a 503 or a connection
    /// closed unanswered, at most --chaos-max times per URL, never a recorded 503, timeout or
    /// reset (soak tests: a crawler retrying more than --chaos-max times finds the true world).
    #[arg(long, value_name = "P")]
    pub chaos: Option<f64>,
    /// The seed of --chaos: the same seed fails the same requests.
    #[arg(long, value_name = "N", default_value_t = Chaos::DEFAULT_SEED)]
    pub chaos_seed: u64,
    /// Failures at most per URL with --chaos.
    #[arg(long, value_name = "N", default_value_t = Chaos::DEFAULT_MAX_FAILURES)]
    pub chaos_max: u32,
    /// Milliseconds each answer takes (±20 % jitter): MS for every service, SERVICE=MS for
    /// one (wins). May repeat.
    #[arg(long, value_name = "[SERVICE=]MS")]
    pub latency: Vec<String>,
    /// Requests in flight a service takes at most; more are answered 503 at once, as a
    /// saturated server: N for every service, SERVICE=N for one (wins). May repeat.
    #[arg(long, value_name = "[SERVICE=]N")]
    pub capacity: Vec<String>,
    /// Milliseconds each answer takes longer per request already in flight to its service,
    /// as a server that queues under load: MS or SERVICE=MS. May repeat.
    #[arg(long, value_name = "[SERVICE=]MS")]
    pub slow_under_load: Vec<String>,
    /// No `serving …` lines; only errors.
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct InitCmd {
    /// Read the evidence from this snapshot (an NDJSON file or a folder of them); best one
    /// from before a disaster, where the relationships still hold.
    #[arg(long, value_name = "PATH")]
    pub snapshot: Option<PathBuf>,
    /// Crawl this service live from this seed URL (its base URL is the seed's folder). May
    /// repeat, also for more seeds of one service.
    #[arg(long = "service", value_name = "NAME=URL")]
    pub services: Vec<String>,
    /// A partial rules file: its services are crawled (or, with --snapshot, named) and kept.
    #[arg(long, value_name = "PARTIAL.toml")]
    pub rules: Option<PathBuf>,
    /// Write the proposed rules here [default: stdout]; an existing file needs --force.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Overwrite --out if it exists.
    #[arg(long)]
    pub force: bool,
    /// An OpenAPI 3 spec (JSON or YAML) of service NAME, read beside the data: what it
    /// declares confirms what the data shows, or is written commented out. May repeat.
    #[arg(long, value_name = "NAME=FILE")]
    pub openapi: Vec<String>,
    #[command(flatten)]
    pub limits: LimitArgs,
    /// Seconds before a request times out.
    #[arg(long, value_name = "SECS", env = "BACAUDIT_TIMEOUT", default_value_t = LiveOptions::default().timeout.as_secs_f64())]
    pub timeout: f64,
    #[command(flatten)]
    pub tls: TlsArgs,
    /// No progress bar and no summary.
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct DemoCmd {
    /// Where to write the demo's reports and rebased rules [default: a new temporary folder].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Seconds before a request times out: the bundled world's recorded timeout costs 4 of
    /// them.
    #[arg(long, value_name = "SECS", default_value_t = DemoOptions::default().timeout.as_secs_f64())]
    pub timeout: f64,
    /// No progress bar and no `serving …` lines.
    #[arg(short, long)]
    pub quiet: bool,
}
