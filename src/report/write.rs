//! Report files on disk: written whole or not at all (a temporary file, then a rename), and a
//! CI job summary appended to within its size limit.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::{render, render_markdown_within, Destination, Format, ReportTarget};
use crate::model::{Report, ReportError};

/// Writes every report of `targets` (those to stdout are the caller's), or none of the files:
/// each is rendered into a temporary file beside it first, and only when all are written are
/// they renamed into place. A failure (a missing folder, a full disk) removes the temporary
/// files and leaves the previous reports as they were. Job summaries are appended last, once
/// every file is in place.
pub fn write_reports(targets: &[ReportTarget], report: &Report) -> Result<(), ReportError> {
    let mut staged: Vec<(PathBuf, PathBuf)> = Vec::new();
    let unstage = |staged: &[(PathBuf, PathBuf)]| {
        for (tmp, _) in staged {
            let _ = std::fs::remove_file(tmp);
        }
    };
    for (i, target) in targets.iter().enumerate() {
        let Destination::File(path) = &target.dest else {
            continue;
        };
        let tmp = temporary(path, i);
        if let Err(source) = std::fs::write(&tmp, render(report, target.format)) {
            let _ = std::fs::remove_file(&tmp);
            unstage(&staged);
            return Err(write_error(path, source));
        }
        staged.push((tmp, path.clone()));
    }
    for (k, (tmp, path)) in staged.iter().enumerate() {
        if let Err(source) = std::fs::rename(tmp, path) {
            unstage(&staged[k..]);
            return Err(write_error(path, source));
        }
    }
    for target in targets {
        if let Destination::JobSummary { path, limit } = &target.dest {
            append_summary(path, *limit, report)?;
        }
    }
    Ok(())
}

/// Appends the Markdown report to a job summary, cut to what is left of `limit` after what
/// earlier steps of the job wrote there.
fn append_summary(path: &Path, limit: usize, report: &Report) -> Result<(), ReportError> {
    let used = std::fs::metadata(path).map_or(0, |m| m.len() as usize);
    let text = render_markdown_within(report, limit.saturating_sub(used));
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| write_error(path, e))?;
    file.write_all(text.as_bytes())
        .map_err(|e| write_error(path, e))
}

/// Writes a report file atomically (temporary file, then rename): a crash never leaves half a
/// report.
pub fn write_file(path: &Path, report: &Report) -> Result<(), ReportError> {
    let format = Format::from_path(path).ok_or_else(|| ReportError::UnknownFormat {
        path: path.to_path_buf(),
    })?;
    write_atomic(path, render(report, format).as_bytes())
}

/// Writes bytes to `path` through a temporary file in the same folder and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    let tmp = temporary(path, 0);
    std::fs::write(&tmp, bytes).map_err(|e| {
        // A write that failed partway (a full disk) leaves no partial file behind.
        let _ = std::fs::remove_file(&tmp);
        write_error(path, e)
    })?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        write_error(path, e)
    })
}

/// A hidden temporary file beside `path`, unique per process and per report of a run.
fn temporary(path: &Path, i: usize) -> PathBuf {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    dir.join(format!(".{name}.tmp-{}-{i}", std::process::id()))
}

fn write_error(path: &Path, source: std::io::Error) -> ReportError {
    ReportError::Write {
        path: path.to_path_buf(),
        source,
    }
}
