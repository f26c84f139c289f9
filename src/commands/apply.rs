//! `bacaudit apply`: a report's compensations as an ordered plan — printed (dry run: the
//! requests exactly as they will be sent, as a table and as curl commands) or executed against
//! the declared services in each one's dialect (`patch`, `create`), each finding re-checked
//! right before acting and each effect read back after, every operation journaled with its
//! verification so an interrupted apply resumes where it stopped and a rerun retries only
//! what was not verified.

mod dry_run;
mod perform;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use url::Url;

use crate::error::Error;
use crate::http::{self, RetryPolicy};
use crate::model::{Report, ReportError, ReportFinding};
use crate::plan::{schedule, Operation};
use crate::rules;
use crate::vocab::exit;

pub use perform::ACCEPTED_WAIT;

/// Options of `bacaudit apply`.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    pub report: PathBuf,
    pub rules: PathBuf,
    /// Perform the plan (otherwise print it).
    pub execute: bool,
    /// The journal (default: next to the report, `<report>.journal.ndjson`).
    pub journal: Option<PathBuf>,
    pub timeout: Duration,
    pub retry: RetryPolicy,
    /// Extra CA files and `--insecure` for every service (the rules' `tls` adds to them).
    pub tls: http::TlsOptions,
    /// `--verify-wait`: how long a read-back that does not show the effect yet is repeated
    /// (eventually consistent services). `None`: a 2xx is read back once, a 202 Accepted is
    /// polled up to [`ACCEPTED_WAIT`].
    pub verify_wait: Option<Duration>,
}

/// What `apply` produced.
#[derive(Debug, Clone)]
pub struct ApplyOutput {
    pub exit_code: i32,
    pub stdout: String,
}

/// One journal line: what was done about one operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JournalEntry {
    /// Stable key of the operation (method, URL, body).
    pub key: String,
    pub method: String,
    pub url: String,
    pub findings: Vec<String>,
    pub outcome: Outcome,
    /// The status of the write (or of the re-check, for a skipped operation).
    pub status: Option<u16>,
    pub detail: String,
    /// The request sent: method, URL, content type and `If-Match` (none when skipped).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent: Option<String>,
    /// The read-back after the write.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification: Option<Verification>,
}

/// What became of one operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Sent, and the read-back shows the effect.
    Done,
    /// Not needed any more (the finding no longer holds, or the effect is already there);
    /// nothing was sent.
    Skipped,
    /// The service answered 2xx but the read-back does not show the effect (within
    /// `--verify-wait`): a failure.
    NoEffect,
    /// Accepted (202) or sent, but the effect could not be confirmed within the wait.
    Unverified,
    /// 412 Precondition Failed: the resource changed since it was read; not retried.
    Conflict,
    /// Refused (4xx/5xx), unreachable, or not re-checkable.
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Done => "done",
            Outcome::Skipped => "skipped",
            Outcome::NoEffect => "no_effect",
            Outcome::Unverified => "unverified",
            Outcome::Conflict => "conflict",
            Outcome::Failed => "failed",
        }
    }

    /// Whether a rerun leaves the operation alone (its effect is there).
    pub fn settled(self) -> bool {
        matches!(self, Outcome::Done | Outcome::Skipped)
    }
}

/// The read-back of one write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    /// The effect showed.
    pub verified: bool,
    /// The status of the last read.
    pub status: Option<u16>,
    /// Reads made.
    pub reads: u32,
    /// What the last read showed.
    pub detail: String,
}

/// The journal path for a report.
pub fn default_journal(report: &Path) -> PathBuf {
    let mut name = report.file_name().unwrap_or_default().to_os_string();
    name.push(".journal.ndjson");
    report.with_file_name(name)
}

fn op_key(op: &Operation) -> String {
    let mut h = Sha256::new();
    h.update(op.method.as_str().as_bytes());
    h.update([0x1f]);
    h.update(op.url.as_bytes());
    h.update([0x1f]);
    if let Some(b) = &op.body {
        h.update(b.to_string().as_bytes());
    }
    h.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Plans (and with `execute`, performs) the compensations of a report.
pub async fn apply(opts: &ApplyOptions) -> Result<ApplyOutput, Error> {
    let rules = Arc::new(rules::load(&opts.rules)?);
    let report = Report::read(&opts.report)?;
    let (ops, notes) = schedule(&report.findings);

    // Refuse the whole plan if any URL it would touch or check is outside the rules.
    let mut outside = Vec::new();
    for url in ops
        .iter()
        .map(|o| o.url.as_str())
        .chain(report.findings.iter().map(|f| match f {
            ReportFinding::Link(l) => l.target.as_str(),
            ReportFinding::Orphan(o) => o.resource.as_str(),
        }))
    {
        let inside = Url::parse(url)
            .ok()
            .and_then(|u| rules.service_of(&u))
            .is_some();
        if !inside && !outside.contains(&url) {
            outside.push(url);
        }
    }
    if !outside.is_empty() {
        return Err(Error::Usage(format!(
            "{}: refusing to apply: {} URL(s) are outside every service declared in {}: {}",
            opts.report.display(),
            outside.len(),
            opts.rules.display(),
            outside.join(", ")
        )));
    }

    if !opts.execute {
        return Ok(ApplyOutput {
            exit_code: exit::OK,
            stdout: dry_run::render(&ops, &notes, &rules),
        });
    }

    let journal_path = opts
        .journal
        .clone()
        .unwrap_or_else(|| default_journal(&opts.report));
    let settled = read_journal(&journal_path)?;
    let mut journal = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&journal_path)
        .map_err(|source| ReportError::Write {
            path: journal_path.clone(),
            source,
        })?;
    let client = perform::Client::new(rules.clone(), opts)?;
    client.credentials.start(&client.http).await?;
    let findings: HashMap<&str, &ReportFinding> =
        report.findings.iter().map(|f| (f.id(), f)).collect();

    let mut out = String::new();
    let mut unsettled = 0;
    let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    // One operation at a time, in plan order: no two writes to one resource at once.
    for op in &ops {
        let key = op_key(op);
        if settled.contains(&key) {
            *counts.entry("already journaled").or_default() += 1;
            continue;
        }
        let entry = client.perform(op, &key, &findings).await;
        let _ = writeln!(
            out,
            "{:<8} {:<6} {}  {}",
            entry.outcome.as_str(),
            // The method sent (POST for a create by POST), else the plan's.
            entry
                .sent
                .as_deref()
                .and_then(|s| s.split(' ').next())
                .unwrap_or(&entry.method),
            entry.url,
            entry.detail
        );
        if !entry.outcome.settled() {
            unsettled += 1;
        }
        *counts.entry(entry.outcome.as_str()).or_default() += 1;
        let line = serde_json::to_string(&entry).expect("journal entries serialize");
        journal
            .write_all(format!("{line}\n").as_bytes())
            .and_then(|()| journal.flush())
            .map_err(|source| ReportError::Write {
                path: journal_path.clone(),
                source,
            })?;
    }
    let summary: Vec<String> = counts.iter().map(|(k, v)| format!("{v} {k}")).collect();
    let _ = writeln!(
        out,
        "\n{} operation(s): {}; journal {}",
        ops.len(),
        if summary.is_empty() {
            "nothing to do".to_string()
        } else {
            summary.join(", ")
        },
        journal_path.display()
    );
    if unsettled > 0 {
        let _ = writeln!(
            out,
            "{unsettled} operation(s) not verified done: exit 3; a rerun retries them (the \
             journal keeps the verified ones)"
        );
    }
    for n in &notes {
        let _ = writeln!(out, "manual   {}  {}", n.url, n.reason);
    }
    Ok(ApplyOutput {
        exit_code: if unsettled > 0 {
            exit::INCONCLUSIVE
        } else {
            exit::OK
        },
        stdout: out,
    })
}

fn read_journal(path: &Path) -> Result<HashSet<String>, Error> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HashSet::new()),
        Err(e) => {
            return Err(ReportError::Baseline {
                path: path.to_path_buf(),
                message: format!("cannot read the journal: {e}"),
            }
            .into())
        }
    };
    let mut settled = HashSet::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        // A line cut by a crash is the last one: ignore it, the operation runs again.
        let Ok(e) = serde_json::from_str::<JournalEntry>(line) else {
            if i + 1 == text.lines().count() {
                continue;
            }
            return Err(Error::Usage(format!(
                "{}:{}: not a journal line",
                path.display(),
                i + 1
            )));
        };
        // Only a verified effect (or one no longer needed) is settled: everything else is
        // tried again.
        if e.outcome.settled() {
            settled.insert(e.key);
        } else {
            settled.remove(&e.key);
        }
    }
    Ok(settled)
}
