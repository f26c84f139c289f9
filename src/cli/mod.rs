//! The command line: [`args`] is what clap parses (the help text), `options` checks the
//! values and builds the library's options from them, and [`run`] calls the command.

pub mod args;
mod manual;
mod options;

use crate::commands::apply::{self, ApplyOptions};
use crate::commands::demo::{self, DemoOptions};
use crate::commands::explain::{self, DiffOptions};
use crate::commands::init::{self, InitOptions};
use crate::commands::pipeline::{self, CommonOptions, RunOutput};
use crate::commands::{baseline, serve, Output, Session};
use crate::crawl::CrawlOptions;
use crate::error::Error;
use crate::http::RetryPolicy;
use crate::serve::{Chaos, Fragility, ServeOptions};
use crate::source::LiveOptions;

pub use args::*;
pub use options::{common_options, explain_format, seconds, tls_options};

/// Runs one parsed command.
pub async fn run(command: Command, session: &Session) -> Result<Output, Error> {
    match command {
        Command::Audit(a) => audit(a, session).await,
        Command::Crawl(c) => crawl(c, session).await,
        Command::Apply(a) => apply_plan(a).await,
        Command::Baseline(b) => baseline::command(&b.report, b.output.as_deref()),
        Command::Diff(d) => diff(d).await,
        Command::Whatif(w) => whatif(w).await,
        Command::Clusters(c) => clusters(c).await,
        Command::Serve(s) => serve_snapshot(s, session).await,
        Command::Init(i) => init_rules(i, session).await,
        Command::Completions(c) => Ok(manual::completions(c.shell)),
        Command::Man(m) => manual::man(m),
        Command::Demo(d) => {
            let opts = DemoOptions {
                out: d.out,
                timeout: seconds("--timeout", d.timeout)?,
                ..DemoOptions::default()
            };
            demo::command(&opts, d.quiet, session).await
        }
    }
}

async fn audit(a: AuditCmd, session: &Session) -> Result<Output, Error> {
    let opts = common_options(&a.common, &a.limits)?;
    let stop = (session.stop)();
    pipeline::audit(&opts, &a.snapshot, session.observer.clone(), stop)
        .await
        .map(RunOutput::into_output)
}

/// `crawl`, and `crawl --resume`.
async fn crawl(c: CrawlCmd, session: &Session) -> Result<Output, Error> {
    let mut opts = common_options(&c.common, &c.limits)?;
    opts.crawl.adaptive = !c.fixed_concurrency;
    let live = LiveOptions {
        timeout: seconds("--timeout", c.timeout)?,
        max_body: c.max_body,
        tls: tls_options(&c.tls)?,
        // The rules' `proxy` keys and the environment, read when the source is built.
        proxies: None,
    };
    let stop = (session.stop)();
    let observer = session.observer.clone();
    match &c.resume {
        Some(recording) => pipeline::resume(&opts, live, recording, observer, stop).await,
        None => pipeline::crawl(&opts, live, c.record.as_deref(), observer, stop).await,
    }
    .map(RunOutput::into_output)
}

async fn init_rules(i: InitCmd, session: &Session) -> Result<Output, Error> {
    let crawl = CrawlOptions {
        concurrency: i.limits.concurrency.max(1),
        retry: RetryPolicy {
            retries: i.limits.retries,
            ..RetryPolicy::default()
        },
        max_resources: i.limits.max_resources,
        max_depth: i.limits.max_depth,
        ..CrawlOptions::default()
    };
    let opts = InitOptions {
        snapshot: i.snapshot,
        services: i.services,
        rules: i.rules,
        out: i.out,
        force: i.force,
        openapi: i.openapi,
        live: LiveOptions {
            timeout: seconds("--timeout", i.timeout)?,
            tls: tls_options(&i.tls)?,
            ..LiveOptions::default()
        },
        crawl,
    };
    init::command(&opts, i.quiet, session).await
}

async fn apply_plan(a: ApplyCmd) -> Result<Output, Error> {
    let out = apply::apply(&ApplyOptions {
        report: a.report,
        rules: a.rules,
        execute: a.execute,
        journal: a.journal,
        timeout: seconds("--timeout", a.timeout)?,
        retry: RetryPolicy {
            retries: a.retries,
            ..RetryPolicy::default()
        },
        tls: tls_options(&a.tls)?,
        verify_wait: a
            .verify_wait
            .map(|w| seconds("--verify-wait", w))
            .transpose()?,
    })
    .await?;
    Ok(Output {
        exit_code: out.exit_code,
        stdout: out.stdout,
    })
}

async fn diff(d: DiffCmd) -> Result<Output, Error> {
    explain::diff(&DiffOptions {
        before: d.before,
        after: d.after,
        rules: d.rules,
        format: explain_format(&d.format)?,
        crawl: CrawlOptions::default(),
    })
    .await
}

async fn whatif(w: WhatifCmd) -> Result<Output, Error> {
    let mut opts = CommonOptions::new(&w.rules);
    opts.format = explain_format(&w.format)?;
    opts.previous_snapshot = w.previous_snapshot;
    opts.explain.restore_points = w.restore_points;
    explain::whatif(&opts, &w.snapshot).await
}

async fn clusters(c: ClustersCmd) -> Result<Output, Error> {
    let mut opts = CommonOptions::new(&c.rules);
    opts.format = explain_format(&c.format)?;
    opts.explain.threshold = c.threshold;
    opts.explain.finding_weight = c.finding_weight;
    explain::clusters(&opts, &c.snapshot).await
}

async fn serve_snapshot(s: ServeCmd, session: &Session) -> Result<Output, Error> {
    let opts = ServeOptions {
        hold: seconds("--hold", s.hold)?,
        writable: s.writable,
        chaos: s.chaos.map(|probability| Chaos {
            probability,
            seed: s.chaos_seed,
            max_failures: s.chaos_max,
        }),
        fragility: fragility(&s)?,
        ..ServeOptions::default()
    };
    serve::command(&s.rules, &s.snapshot, opts, s.quiet, session).await
}

/// `serve --latency`, `--capacity` and `--slow-under-load`.
fn fragility(s: &ServeCmd) -> Result<Fragility, Error> {
    let mut f = Fragility::default();
    let ms = |v: &str| {
        v.parse::<f64>()
            .ok()
            .filter(|ms| ms.is_finite() && *ms >= 0.0)
            .map(|ms| std::time::Duration::from_secs_f64(ms / 1000.0))
    };
    for arg in &s.latency {
        f.parse_into("--latency", arg, ms, |l, v| l.latency = Some(v))?;
    }
    for arg in &s.slow_under_load {
        f.parse_into("--slow-under-load", arg, ms, |l, v| {
            l.slow_under_load = Some(v)
        })?;
    }
    let count = |v: &str| v.parse::<usize>().ok().filter(|n| *n > 0);
    for arg in &s.capacity {
        f.parse_into("--capacity", arg, count, |l, v| l.capacity = Some(v))?;
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use super::*;
    use crate::explain::ExplainOptions;
    use crate::gate::Gate;

    fn parse(args: &[&str]) -> Command {
        let mut argv = vec!["bacaudit"];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv).expect("parses").command
    }

    /// What the command line gives when nothing is set is what the library does by default.
    #[test]
    fn defaults_are_the_librarys() {
        let Command::Crawl(c) = parse(&["crawl", "--rules", "r.toml"]) else {
            panic!("crawl")
        };
        let opts = common_options(&c.common, &c.limits).unwrap();
        let library = CommonOptions::new("r.toml");
        assert_eq!(format!("{opts:?}"), format!("{library:?}"));
        let live = LiveOptions::default();
        assert_eq!(seconds("--timeout", c.timeout).unwrap(), live.timeout);
        assert_eq!(c.max_body, live.max_body);

        let Command::Apply(a) = parse(&["apply", "r.json", "--rules", "r.toml"]) else {
            panic!("apply")
        };
        assert_eq!(seconds("--timeout", a.timeout).unwrap(), live.timeout);
        assert_eq!(a.retries, RetryPolicy::default().retries);

        let Command::Clusters(c) = parse(&["clusters", "--rules", "r", "--snapshot", "s"]) else {
            panic!("clusters")
        };
        let explain = ExplainOptions::default();
        assert_eq!(c.threshold, explain.threshold);
        assert_eq!(c.finding_weight, explain.finding_weight);
        assert_eq!(
            explain_format(&c.format).unwrap(),
            CommonOptions::new("r").format
        );

        let Command::Serve(s) = parse(&["serve", "--rules", "r", "--snapshot", "s"]) else {
            panic!("serve")
        };
        assert_eq!(
            seconds("--hold", s.hold).unwrap(),
            ServeOptions::default().hold
        );
        assert_eq!(s.chaos_seed, Chaos::DEFAULT_SEED);
        assert_eq!(s.chaos_max, Chaos::DEFAULT_MAX_FAILURES);

        let Command::Demo(d) = parse(&["demo"]) else {
            panic!("demo")
        };
        assert_eq!(
            seconds("--timeout", d.timeout).unwrap(),
            DemoOptions::default().timeout
        );
        assert_eq!(Gate::default().fail_on_list(), "broken_link,orphan");
    }

    /// Every option's help names its default at most once.
    #[test]
    fn help_names_each_default_once() {
        let mut cli = Cli::command();
        for sub in cli.get_subcommands_mut() {
            let help = sub.render_help().to_string();
            for line in help.lines() {
                assert!(
                    line.matches("[default:").count() <= 1,
                    "`{}` help: {line}",
                    sub.get_name()
                );
            }
        }
    }
}
