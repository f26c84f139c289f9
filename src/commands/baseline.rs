//! `bacaudit baseline`: a report's findings written down as accepted (for `--baseline`).

use std::path::Path;

use super::Output;
use crate::error::Error;
use crate::gate::baseline_file;
use crate::report::write_atomic;
use crate::vocab::exit;

/// Writes the baseline of a report to `-o FILE`, or returns it for stdout.
pub fn command(report: &Path, output: Option<&Path>) -> Result<Output, Error> {
    let text = baseline_file(report)?;
    let stdout = match output {
        Some(path) => {
            write_atomic(path, text.as_bytes())?;
            String::new()
        }
        None => text,
    };
    Ok(Output {
        exit_code: exit::OK,
        stdout,
    })
}
