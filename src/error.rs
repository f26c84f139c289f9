//! One error type for the whole tool: each stage's error wrapped, mapped to an exit code.

use crate::http::ClientError;
use crate::model::ReportError;
use crate::rules::RulesError;
use crate::source::SnapshotError;
use crate::vocab::exit;

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
    /// The HTTP client cannot be built (a credential that cannot be sent, a TLS setting).
    #[error(transparent)]
    Client(#[from] ClientError),
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
            Error::Rules(_)
            | Error::Snapshot(_)
            | Error::Report(_)
            | Error::Client(_)
            | Error::Usage(_) => exit::INPUT,
            Error::Other(_) => exit::INPUT,
        }
    }
}
