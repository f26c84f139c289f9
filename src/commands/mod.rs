//! The commands, on top of every stage: each loads and checks its inputs, strings the stages
//! together (rules → source → crawl → graph → analysis → plan → explain → report → gate) and
//! says what to print and how the process exits. They know nothing of the command line:
//! `cli` turns arguments into their options.
//!
//! Nothing here draws on the terminal: text goes through the [`Console`] the process gives,
//! and the final stdout comes back in [`Output`].

pub mod apply;
pub mod baseline;
pub mod demo;
pub mod explain;
pub mod init;
pub mod pipeline;
pub mod serve;

use std::sync::Arc;

use crate::crawl::{Observer, Stop};

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
