//! The commands, on top of every stage: each loads and checks its inputs, strings the stages
//! together (rules → source → crawl → graph → analysis → plan → explain → report → gate) and
//! says what to print and how the process exits. [`run`] dispatches a parsed command line.
//!
//! Nothing here draws on the terminal: text goes through the [`Console`] the process gives,
//! and the final stdout comes back in [`Output`].

pub mod apply;
mod baseline;
pub mod demo;
pub mod explain;
mod options;
pub mod pipeline;
mod serve;

use std::sync::Arc;

use crate::cli::{ApplyCmd, Command};
use crate::crawl::RetryPolicy;
use crate::crawl::{Observer, Stop};
use crate::error::Error;

pub use options::{common_options, explain_format, seconds};

/// What a command prints on stdout and how the process exits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub exit_code: i32,
    pub stdout: String,
}

/// The terminal as the process sets it up: the progress bar, stdout and stderr.
pub trait Console: Send + Sync {
    /// The progress bar is done: clear it before anything is printed.
    fn finish(&self);
    /// Text for stdout, printed at once (a banner while serving).
    fn print(&self, text: &str);
    /// Text for stderr.
    fn eprint(&self, text: &str);
}

/// What only the process can give a command.
pub struct Session {
    /// Watches the crawl (the progress bar).
    pub observer: Arc<dyn Observer>,
    pub console: Arc<dyn Console>,
    /// Starts listening for Ctrl-C / SIGTERM; called right before a run that can be
    /// interrupted (the run then writes the report of what it gathered).
    pub stop: Box<dyn Fn() -> Stop + Send + Sync>,
}

/// Runs one parsed command.
pub async fn run(command: Command, session: &Session) -> Result<Output, Error> {
    match command {
        Command::Audit(a) => pipeline::audit_command(a, session).await,
        Command::Crawl(c) => pipeline::crawl_command(c, session).await,
        Command::Apply(a) => apply_command(a).await,
        Command::Baseline(b) => baseline::command(&b),
        Command::Diff(d) => explain::diff_command(d).await,
        Command::Whatif(w) => explain::whatif_command(w).await,
        Command::Clusters(c) => explain::clusters_command(c).await,
        Command::Serve(s) => serve::command(s, session).await,
        Command::Demo(d) => demo::command(d, session).await,
    }
}

/// `bacaudit apply` from its command line.
async fn apply_command(a: ApplyCmd) -> Result<Output, Error> {
    let out = apply::apply(&apply::ApplyOptions {
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
    Ok(Output {
        exit_code: out.exit_code,
        stdout: out.stdout,
    })
}
