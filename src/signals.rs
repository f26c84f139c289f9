//! Ctrl-C and SIGTERM for the process: the first asks the run to stop and write the report of
//! what it gathered, the second exits at once (exit code 130).

use std::sync::Arc;

use bacaudit::crawl::Stop;
use bacaudit::exit;
use tokio::sync::watch;

use crate::progress::Progress;

/// Ctrl-C or SIGTERM: the first asks the crawl to stop (it keeps what it gathered, the reports
/// are written with `"complete": false` and the exit code is 130); the second exits at once.
pub fn stop_on_signals(progress: Arc<Progress>) -> Stop {
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
