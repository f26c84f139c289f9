//! `bacaudit serve`: a snapshot served as live services until Ctrl-C or SIGTERM, then a clean
//! stop (exit 0).

use std::sync::Arc;

use std::path::Path;

use super::{Output, Session};
use crate::error::Error;
use crate::rules;
use crate::serve::{self, ServeOptions};
use crate::source::Snapshot;
use crate::vocab::exit;

/// Serves until interrupted; says where each service is served unless `--quiet`.
pub async fn command(
    rules: &Path,
    snapshot: &Path,
    opts: ServeOptions,
    quiet: bool,
    session: &Session,
) -> Result<Output, Error> {
    let chaos = opts.chaos.is_some();
    let capacity = opts.fragility.is_set();
    let rules = rules::load(rules)?;
    let snapshot = Arc::new(Snapshot::load(snapshot)?);
    let interrupted = serve::interrupted();
    let handle = serve::serve(&rules, snapshot, opts).await?;
    if !quiet {
        session.console.print(&handle.banner());
    }
    interrupted.await;
    let injected = handle.chaos_injected();
    let refused = handle.refused_over_capacity();
    handle.shutdown().await;
    if chaos && !quiet {
        session
            .console
            .print(&format!("chaos: {injected} requests failed on purpose\n"));
    }
    if capacity && !quiet {
        session
            .console
            .print(&format!("capacity: {refused} requests refused with 503\n"));
    }
    Ok(Output {
        exit_code: exit::OK,
        stdout: String::new(),
    })
}
