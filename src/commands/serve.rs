//! `bacaudit serve`: a snapshot served as live services until Ctrl-C or SIGTERM, then a clean
//! stop (exit 0).

use std::sync::Arc;

use super::{seconds, Output, Session};
use crate::cli::ServeCmd;
use crate::error::Error;
use crate::rules;
use crate::serve::{self, Chaos, ServeOptions};
use crate::source::Snapshot;
use crate::vocab::exit;

/// Serves until interrupted; says where each service is served unless `--quiet`.
pub async fn command(s: ServeCmd, session: &Session) -> Result<Output, Error> {
    let opts = ServeOptions {
        hold: seconds("--hold", s.hold)?,
        writable: s.writable,
        chaos: s.chaos.map(|probability| Chaos {
            probability,
            seed: s.chaos_seed,
            max_failures: s.chaos_max,
        }),
        ..ServeOptions::default()
    };
    let rules = rules::load(&s.rules)?;
    let snapshot = Arc::new(Snapshot::load(&s.snapshot)?);
    let interrupted = serve::interrupted();
    let handle = serve::serve(&rules, snapshot, opts).await?;
    if !s.quiet {
        session.console.print(&handle.banner());
    }
    interrupted.await;
    let injected = handle.chaos_injected();
    handle.shutdown().await;
    if s.chaos.is_some() && !s.quiet {
        session
            .console
            .print(&format!("chaos: {injected} requests failed on purpose\n"));
    }
    Ok(Output {
        exit_code: exit::OK,
        stdout: String::new(),
    })
}
