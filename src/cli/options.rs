//! Command-line arguments turned into the library's options, checked (exit code 2 on a bad
//! value) before any work starts.

use std::path::PathBuf;
use std::time::Duration;

use super::args::{CommonArgs, LimitArgs, TlsArgs};
use crate::commands::pipeline::CommonOptions;
use crate::crawl::CrawlOptions;
use crate::error::Error;
use crate::explain::ExplainOptions;
use crate::gate::parse_fail_on;
use crate::http::{RetryPolicy, TlsOptions};
use crate::report::{Destination, Format, ReportTarget};

/// The options of `audit` and `crawl`.
pub fn common_options(args: &CommonArgs, limits: &LimitArgs) -> Result<CommonOptions, Error> {
    let format = Format::parse(&args.format).ok_or_else(|| {
        Error::Usage(format!(
            "unknown --format `{}` (known: {})",
            args.format,
            Format::NAMES.join(", ")
        ))
    })?;
    let (format, reports) = report_targets(&args.reports, format)?;
    Ok(CommonOptions {
        rules: args.rules.clone(),
        reports,
        format,
        fail_on: parse_fail_on(&args.fail_on).map_err(Error::Usage)?,
        baseline: args.baseline.clone(),
        max_broken: args.max_broken,
        max_orphans: args.max_orphans,
        previous_snapshot: args.previous_snapshot.clone(),
        crawl: CrawlOptions {
            concurrency: limits.concurrency.max(1),
            retry: RetryPolicy {
                retries: limits.retries,
                ..RetryPolicy::default()
            },
            max_resources: limits.max_resources,
            max_depth: limits.max_depth,
            ..CrawlOptions::default()
        },
        explain: ExplainOptions {
            restore_points: args.restore_points.clone(),
            clusters: args.clusters,
            ..ExplainOptions::default()
        },
    })
}

/// The `--report` values read (`GITHUB_STEP_SUMMARY` names the job summary to append to); one
/// to stdout (`FORMAT:-`) takes the place of `--format`.
fn report_targets(
    args: &[PathBuf],
    mut format: Format,
) -> Result<(Format, Vec<ReportTarget>), Error> {
    let summary = std::env::var_os("GITHUB_STEP_SUMMARY").map(PathBuf::from);
    let mut targets = Vec::with_capacity(args.len());
    let mut to_stdout = None;
    for arg in args {
        let target = ReportTarget::parse(arg, summary.as_deref())?;
        if target.dest != Destination::Stdout {
            targets.push(target);
        } else if let Some(first) = to_stdout.replace(arg) {
            return Err(Error::Usage(format!(
                "--report {} and --report {}: only one report can go to stdout",
                first.display(),
                arg.display()
            )));
        } else {
            format = target.format;
        }
    }
    Ok((format, targets))
}

/// A `--format` of the explain commands (table or json).
pub fn explain_format(format: &str) -> Result<Format, Error> {
    match Format::parse(format) {
        Some(f @ (Format::Table | Format::Json)) => Ok(f),
        _ => Err(Error::Usage(format!(
            "unknown --format `{format}` (known: table, json)"
        ))),
    }
}

/// Seconds from the command line as a duration (`--timeout`, `--hold`).
pub fn seconds(flag: &str, secs: f64) -> Result<Duration, Error> {
    if secs > 0.0 && secs.is_finite() {
        Ok(Duration::from_secs_f64(secs))
    } else {
        Err(Error::Usage(format!(
            "{flag} {secs} must be a positive number of seconds"
        )))
    }
}

/// `--ca` and `--insecure`: each CA file read and checked (a bad one is exit 2, naming it).
pub fn tls_options(args: &TlsArgs) -> Result<TlsOptions, Error> {
    let mut extra_roots_pem = Vec::with_capacity(args.ca.len());
    for path in &args.ca {
        let file = crate::rules::read_ca(path).map_err(|m| Error::Usage(format!("--ca: {m}")))?;
        extra_roots_pem.push(file.pem);
    }
    Ok(TlsOptions {
        extra_roots_pem,
        insecure: args.insecure,
    })
}
