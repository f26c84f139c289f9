//! Where a report goes: `--report PATH` (the format from the extension) or
//! `--report FORMAT:PATH` (any path, `-` for stdout). Markdown written to a CI job summary
//! (the file GitHub names in `$GITHUB_STEP_SUMMARY`) is appended to, as GitHub expects, and
//! kept within its size limit.

use std::path::{Path, PathBuf};

use super::Format;
use crate::model::ReportError;

/// GitHub's limit for one step's job summary (1 MiB); a larger summary is not shown at all.
pub const JOB_SUMMARY_LIMIT: usize = 1024 * 1024;

/// One `--report`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportTarget {
    pub format: Format,
    pub dest: Destination,
}

/// Where a report's bytes go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// Replaced atomically (a temporary file, then a rename).
    File(PathBuf),
    /// Standard output, instead of the `--format` rendering.
    Stdout,
    /// A job summary: appended to, the Markdown cut to what is left of `limit` bytes.
    JobSummary { path: PathBuf, limit: usize },
}

impl ReportTarget {
    /// A file whose format follows its extension.
    pub fn file(path: &Path) -> Result<ReportTarget, ReportError> {
        let format = Format::from_path(path).ok_or_else(|| ReportError::UnknownFormat {
            path: path.to_path_buf(),
        })?;
        Ok(ReportTarget {
            format,
            dest: Destination::File(path.to_path_buf()),
        })
    }

    /// Reads a `--report` value. `FORMAT:PATH` when the text before the first `:` is a word of
    /// two or more letters or digits (so `C:\reports\a.json` stays a path); `-` as PATH is
    /// stdout. `job_summary` is the CI's job summary file (`$GITHUB_STEP_SUMMARY`): a Markdown
    /// report to that very path is appended to.
    pub fn parse(arg: &Path, job_summary: Option<&Path>) -> Result<ReportTarget, ReportError> {
        let Some((name, rest)) = arg.to_str().and_then(split_format) else {
            let target = ReportTarget::file(arg)?;
            return Ok(target.into_job_summary(job_summary));
        };
        let format = Format::parse(name).ok_or_else(|| ReportError::UnknownFormatName {
            arg: arg.display().to_string(),
            name: name.to_string(),
            known: Format::NAMES.join(", "),
        })?;
        let dest = match rest {
            "-" => Destination::Stdout,
            "" => {
                return Err(ReportError::NoPath {
                    arg: arg.display().to_string(),
                })
            }
            path => Destination::File(PathBuf::from(path)),
        };
        Ok(ReportTarget { format, dest }.into_job_summary(job_summary))
    }

    /// Markdown to the job summary file is appended to it, within GitHub's limit.
    fn into_job_summary(self, job_summary: Option<&Path>) -> ReportTarget {
        match (&self.dest, job_summary) {
            (Destination::File(path), Some(summary))
                if self.format == Format::Markdown && same_file(path, summary) =>
            {
                ReportTarget {
                    dest: Destination::JobSummary {
                        path: path.clone(),
                        limit: JOB_SUMMARY_LIMIT,
                    },
                    ..self
                }
            }
            _ => self,
        }
    }
}

/// `("md", "out")` from `md:out`; `None` when the text before `:` is not a format word.
fn split_format(arg: &str) -> Option<(&str, &str)> {
    let (name, rest) = arg.split_once(':')?;
    let word = name.len() >= 2 && name.bytes().all(|b| b.is_ascii_alphanumeric());
    word.then_some((name, rest))
}

/// The same file, also when one is written relative and the other absolute.
fn same_file(a: &Path, b: &Path) -> bool {
    if a == b {
        return true;
    }
    match (std::path::absolute(a), std::path::absolute(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<ReportTarget, ReportError> {
        ReportTarget::parse(Path::new(s), Some(Path::new("/run/summary_abc")))
    }

    #[test]
    fn a_format_prefix_wins_over_the_extension_and_dash_is_stdout() {
        let t = parse("md:/run/out.txt").unwrap();
        assert_eq!(t.format, Format::Markdown);
        assert_eq!(t.dest, Destination::File("/run/out.txt".into()));
        assert_eq!(parse("sarif:-").unwrap().dest, Destination::Stdout);
        assert_eq!(
            parse("junit:a:b.xml").unwrap().dest,
            Destination::File("a:b.xml".into())
        );
        assert_eq!(parse("report.json").unwrap().format, Format::Json);
    }

    #[test]
    fn a_drive_letter_is_a_path_not_a_format() {
        let err = parse("C:out.bin").unwrap_err().to_string();
        assert!(err.contains("unknown report format"), "{err}");
        assert_eq!(parse("C:out.json").unwrap().format, Format::Json);
    }

    #[test]
    fn an_unknown_format_name_or_a_missing_path_is_an_error_naming_it() {
        let err = parse("xlsx:out").unwrap_err().to_string();
        assert!(err.contains("xlsx") && err.contains("markdown"), "{err}");
        let err = parse("md:").unwrap_err().to_string();
        assert!(err.contains("md:") && err.contains("no path"), "{err}");
    }

    #[test]
    fn markdown_to_the_job_summary_appends_other_formats_do_not() {
        let t = parse("md:/run/summary_abc").unwrap();
        assert_eq!(
            t.dest,
            Destination::JobSummary {
                path: "/run/summary_abc".into(),
                limit: JOB_SUMMARY_LIMIT
            }
        );
        let t = parse("json:/run/summary_abc").unwrap();
        assert_eq!(t.dest, Destination::File("/run/summary_abc".into()));
        let t = ReportTarget::parse(Path::new("md:/run/summary_abc"), None).unwrap();
        assert_eq!(t.dest, Destination::File("/run/summary_abc".into()));
    }
}
