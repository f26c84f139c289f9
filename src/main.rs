//! The `bacaudit` binary: parse arguments, build the runtime, call the library, map the
//! outcome to an exit code.

mod cli;

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use bacaudit::crawl::{CrawlOptions, Quiet, RetryPolicy, Stop};
use bacaudit::demo::{self, DemoOptions};
use bacaudit::explain::{commands, ExplainOptions};
use bacaudit::gate::parse_fail_on;
use bacaudit::report::Format;
use bacaudit::run::{self, CommonOptions, RunOutput};
use bacaudit::serve::{self, ServeOptions};
use bacaudit::source::{LiveOptions, Snapshot};
use bacaudit::{exit, Error};
use clap::Parser;
use std::time::Duration;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::INPUT as u8);
        }
    };
    let code = match runtime.block_on(dispatch(cli.command)) {
        Ok((code, stdout)) => {
            print_stdout(&stdout);
            code
        }
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    };
    ExitCode::from(code as u8)
}

/// Prints to stdout; a closed pipe (`| head`) ends quietly.
fn print_stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("error: cannot write to stdout: {e}");
        }
    }
}

fn common(args: &cli::CommonArgs, limits: &cli::LimitArgs) -> Result<CommonOptions, Error> {
    let format = Format::parse(&args.format).ok_or_else(|| {
        Error::Usage(format!(
            "unknown --format `{}` (known: {})",
            args.format,
            Format::NAMES.join(", ")
        ))
    })?;
    Ok(CommonOptions {
        rules: args.rules.clone(),
        reports: args.reports.clone(),
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

/// A `--format` of the explain commands (table or json).
fn explain_format(format: &str) -> Result<Format, Error> {
    match Format::parse(format) {
        Some(f @ (Format::Table | Format::Json)) => Ok(f),
        _ => Err(Error::Usage(format!(
            "unknown --format `{format}` (known: table, json)"
        ))),
    }
}

fn output(out: RunOutput) -> (i32, String) {
    (out.exit_code, out.stdout)
}

/// Runs a command; returns its exit code and what to print on stdout.
async fn dispatch(command: cli::Command) -> Result<(i32, String), Error> {
    match command {
        cli::Command::Audit(a) => {
            let opts = common(&a.common, &a.limits)?;
            run::audit(&opts, &a.snapshot, Arc::new(Quiet), Stop::never())
                .await
                .map(output)
        }
        cli::Command::Crawl(c) => {
            let opts = common(&c.common, &c.limits)?;
            if !(c.timeout > 0.0 && c.timeout.is_finite()) {
                return Err(Error::Usage(format!(
                    "--timeout {} must be a positive number of seconds",
                    c.timeout
                )));
            }
            let live = LiveOptions {
                timeout: Duration::from_secs_f64(c.timeout),
                max_body: c.max_body,
            };
            run::crawl(
                &opts,
                live,
                c.record.as_deref(),
                Arc::new(Quiet),
                Stop::never(),
            )
            .await
            .map(output)
        }
        cli::Command::Apply(a) => {
            if !(a.timeout > 0.0 && a.timeout.is_finite()) {
                return Err(Error::Usage(format!(
                    "--timeout {} must be a positive number of seconds",
                    a.timeout
                )));
            }
            let out = bacaudit::apply::apply(&bacaudit::apply::ApplyOptions {
                report: a.report,
                rules: a.rules,
                execute: a.execute,
                journal: a.journal,
                timeout: Duration::from_secs_f64(a.timeout),
                retry: RetryPolicy {
                    retries: a.retries,
                    ..RetryPolicy::default()
                },
            })
            .await?;
            Ok((out.exit_code, out.stdout))
        }
        cli::Command::Baseline(b) => {
            let text = bacaudit::gate::baseline_file(&b.report)?;
            match &b.output {
                Some(path) => {
                    bacaudit::report::write_atomic(path, text.as_bytes())?;
                    Ok((exit::OK, String::new()))
                }
                None => Ok((exit::OK, text)),
            }
        }
        cli::Command::Diff(d) => {
            let out = commands::diff(&commands::DiffOptions {
                before: d.before,
                after: d.after,
                rules: d.rules,
                format: explain_format(&d.format)?,
                crawl: CrawlOptions::default(),
            })
            .await?;
            Ok((out.exit_code, out.stdout))
        }
        cli::Command::Whatif(w) => {
            let mut opts = CommonOptions::new(&w.rules);
            opts.format = explain_format(&w.format)?;
            opts.previous_snapshot = w.previous_snapshot;
            opts.explain.restore_points = w.restore_points;
            let out = commands::whatif(&opts, &w.snapshot).await?;
            Ok((out.exit_code, out.stdout))
        }
        cli::Command::Clusters(c) => {
            let mut opts = CommonOptions::new(&c.rules);
            opts.format = explain_format(&c.format)?;
            opts.explain.threshold = c.threshold;
            opts.explain.finding_weight = c.finding_weight;
            let out = commands::clusters(&opts, &c.snapshot).await?;
            Ok((out.exit_code, out.stdout))
        }
        cli::Command::Serve(s) => serve(s).await.map(|code| (code, String::new())),
        cli::Command::Demo(d) => demo(d).await.map(|code| (code, String::new())),
    }
}

/// Seconds from the command line as a duration (`--timeout`, `--hold`).
fn seconds(flag: &str, secs: f64) -> Result<Duration, Error> {
    if secs > 0.0 && secs.is_finite() {
        Ok(Duration::from_secs_f64(secs))
    } else {
        Err(Error::Usage(format!(
            "{flag} {secs} must be a positive number of seconds"
        )))
    }
}

/// `bacaudit serve`: print where each service is served, serve until Ctrl-C or SIGTERM, then
/// stop cleanly (exit 0).
async fn serve(s: cli::ServeCmd) -> Result<i32, Error> {
    let opts = ServeOptions {
        hold: seconds("--hold", s.hold)?,
        ..ServeOptions::default()
    };
    let rules = bacaudit::rules::load(&s.rules)?;
    let snapshot = Arc::new(Snapshot::load(&s.snapshot)?);
    let interrupted = serve::interrupted();
    let handle = serve::serve(&rules, snapshot, opts).await?;
    if !s.quiet {
        print_stdout(&handle.banner());
    }
    interrupted.await;
    handle.shutdown().await;
    Ok(exit::OK)
}

/// `bacaudit demo`: serve the bundled world, crawl it, print the table, say where the reports
/// are (the table is printed here, before that line).
async fn demo(d: cli::DemoCmd) -> Result<i32, Error> {
    let opts = DemoOptions {
        out: d.out,
        timeout: seconds("--timeout", d.timeout)?,
        ..DemoOptions::default()
    };
    let stop = demo::stop_on_signal();
    let demo = demo::start(&opts).await?;
    if !d.quiet {
        eprint!("{}", demo.server().banner());
    }
    let out = demo.run(Arc::new(Quiet), stop).await?;
    print_stdout(&out.run.stdout);
    eprintln!("{}", out.summary());
    Ok(out.run.exit_code)
}
