//! The `bacaudit` binary: parse arguments, build the runtime, call the library, map the
//! outcome to an exit code. The progress bar and Ctrl-C / SIGTERM handling of `crawl` and
//! `audit` live here too.

mod cli;
mod progress;

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use bacaudit::crawl::{CrawlOptions, RetryPolicy, Stop};
use bacaudit::demo::{self, DemoOptions};
use bacaudit::explain::{commands, ExplainOptions};
use bacaudit::gate::parse_fail_on;
use bacaudit::report::Format;
use bacaudit::run::{self, CommonOptions, RunOutput};
use bacaudit::serve::{self, ServeOptions};
use bacaudit::source::{LiveOptions, Snapshot};
use bacaudit::{exit, Error};
use clap::Parser;
use progress::Progress;
use std::time::Duration;
use tokio::sync::watch;

/// mimalloc: the live crawl allocates and frees many small objects per response on every
/// worker thread (measured: 25.1 -> 22.3 us of CPU per request, and the 1M audit 5.1 -> 4.7
/// cpu-s). Freed memory goes back to the system at once (purge delay 0): with mimalloc's
/// default delay the 1M audit peaked at 380 MB instead of 265 MB.
/// `mi_option_purge_delay` (mimalloc.h; libmimalloc-sys names no constant for it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // SAFETY: sets a process-wide allocator option; no other thread runs yet.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) };
    // No transparent huge pages: mimalloc asks for them, and every page the audit's scan
    // frees and takes again was then zeroed 2 MB at a time (measured on the 1M audit: peak
    // 260 -> 245 MB, 0.1-0.2 s less system time).
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: a process-wide flag for future memory mappings; it touches no memory.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
    let cli = cli::Cli::parse();
    let progress = Progress::new(quiet(&cli.command));
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(progress.log_writer())
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
    let result = runtime.block_on(dispatch(cli.command, progress.clone()));
    progress.finish();
    let code = match result {
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

/// Whether the command was asked not to draw a progress bar (only `crawl` and `audit` have one).
fn quiet(command: &cli::Command) -> bool {
    match command {
        cli::Command::Crawl(c) => c.common.quiet,
        cli::Command::Audit(a) => a.common.quiet,
        _ => true,
    }
}

/// Runs a command; returns its exit code and what to print on stdout.
async fn dispatch(command: cli::Command, progress: Arc<Progress>) -> Result<(i32, String), Error> {
    match command {
        cli::Command::Audit(a) => {
            let opts = common(&a.common, &a.limits)?;
            let stop = stop_on_signals(progress.clone());
            run::audit(&opts, &a.snapshot, progress, stop)
                .await
                .map(output)
        }
        cli::Command::Crawl(c) => {
            let opts = common(&c.common, &c.limits)?;
            let live = LiveOptions {
                timeout: seconds("--timeout", c.timeout)?,
                max_body: c.max_body,
                ..LiveOptions::default()
            };
            let stop = stop_on_signals(progress.clone());
            match &c.resume {
                Some(recording) => run::resume(&opts, live, recording, progress, stop).await,
                None => run::crawl(&opts, live, c.record.as_deref(), progress, stop).await,
            }
            .map(output)
        }
        cli::Command::Apply(a) => {
            let out = bacaudit::apply::apply(&bacaudit::apply::ApplyOptions {
                report: a.report,
                rules: a.rules,
                execute: a.execute,
                journal: a.journal,
                timeout: seconds("--timeout", a.timeout)?,
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
        cli::Command::Demo(d) => demo(d, progress).await.map(|code| (code, String::new())),
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
        writable: s.writable,
        chaos: s.chaos.map(|probability| serve::Chaos {
            probability,
            seed: s.chaos_seed,
            max_failures: s.chaos_max,
        }),
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
    let injected = handle.chaos_injected();
    handle.shutdown().await;
    if s.chaos.is_some() && !s.quiet {
        print_stdout(&format!("chaos: {injected} requests failed on purpose\n"));
    }
    Ok(exit::OK)
}

/// `bacaudit demo`: serve the bundled world, crawl it, print the table, say where the reports
/// are (the table is printed here, before that line).
async fn demo(d: cli::DemoCmd, progress: Arc<Progress>) -> Result<i32, Error> {
    let opts = DemoOptions {
        out: d.out,
        timeout: seconds("--timeout", d.timeout)?,
        ..DemoOptions::default()
    };
    let stop = stop_on_signals(progress.clone());
    let demo = demo::start(&opts).await?;
    if !d.quiet {
        eprint!("{}", demo.server().banner());
    }
    let out = demo.run(progress.clone(), stop).await?;
    progress.finish();
    print_stdout(&out.run.stdout);
    eprintln!("{}", out.summary());
    Ok(out.run.exit_code)
}

/// Ctrl-C or SIGTERM: the first asks the crawl to stop (it keeps what it gathered, the reports
/// are written with `"complete": false` and the exit code is 130); the second exits at once.
fn stop_on_signals(progress: Arc<Progress>) -> Stop {
    // Listen before the run starts: from here on a signal can no longer kill the process
    // before the partial report is written.
    let mut signals = match Signals::new() {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!("cannot listen for Ctrl-C / SIGTERM: {e}");
            return Stop::never();
        }
    };
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        signals.next().await;
        tx.send_replace(true);
        progress.note(
            "interrupted: stopping the crawl and writing the report of what was gathered \
             (press Ctrl-C again to quit at once)",
        );
        signals.next().await;
        progress.finish();
        std::process::exit(exit::INTERRUPTED);
    });
    Stop::new(rx)
}

/// The signals that interrupt a run: Ctrl-C (SIGINT) and, on Unix, SIGTERM.
struct Signals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    #[cfg(unix)]
    fn new() -> std::io::Result<Signals> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Signals {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    #[cfg(not(unix))]
    fn new() -> std::io::Result<Signals> {
        Ok(Signals {})
    }

    /// Waits for the next signal (never returns if the listeners are gone).
    async fn next(&mut self) {
        #[cfg(unix)]
        {
            let got = tokio::select! {
                s = self.interrupt.recv() => s,
                s = self.terminate.recv() => s,
            };
            if got.is_none() {
                std::future::pending::<()>().await;
            }
        }
        #[cfg(not(unix))]
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
