//! Why a snapshot cannot be read: the file, the line and what is wrong.

use std::path::PathBuf;

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
