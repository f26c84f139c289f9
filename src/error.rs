//! One error type for the whole tool, wrapping each stage's error, and the exit codes.

use std::path::PathBuf;

use crate::rules::RulesError;

/// Exit codes (DESIGN.md "CLI — contract").
pub mod exit {
    /// Nothing failing.
    pub const OK: i32 = 0;
    /// Failing findings (per `--fail-on`, baseline excluded).
    pub const FINDINGS: i32 = 1;
    /// Usage, rules or input error: nothing audited.
    pub const INPUT: i32 = 2;
    /// Nothing failing, but some links unresolved or orphan checks skipped.
    pub const INCONCLUSIVE: i32 = 3;
    /// Interrupted by Ctrl-C or SIGTERM; the partial report was written.
    pub const INTERRUPTED: i32 = 130;
}

/// A snapshot that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("{}: cannot read snapshot: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}:{line}: {message}", path.display())]
    Line {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{}: no snapshot files (*.ndjson, *.jsonl) in this folder", path.display())]
    Empty { path: PathBuf },
}

/// A report that cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{}: cannot write report: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: unknown report format (use .json, .md, .html, .sarif, .xml, .dot or .mmd)", path.display())]
    UnknownFormat { path: PathBuf },
    #[error("{}: cannot read baseline: {message}", path.display())]
    Baseline { path: PathBuf, message: String },
}

/// Everything that stops bacaudit from doing its job. A broken link is never an `Error`: it is
/// a finding.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Rules(#[from] RulesError),
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    #[error(transparent)]
    Report(#[from] ReportError),
    /// Bad command-line usage that clap could not catch.
    #[error("{0}")]
    Usage(String),
    /// Anything else the tool could not do (starting a server, building the HTTP client).
    #[error("{0}")]
    Other(String),
}

impl Error {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Rules(_) | Error::Snapshot(_) | Error::Report(_) | Error::Usage(_) => {
                exit::INPUT
            }
            Error::Other(_) => exit::INPUT,
        }
    }
}
