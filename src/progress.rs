//! The progress bar on stderr (indicatif): URLs discovered and fetched, failures, the fetch rate
//! the retries waiting out their backoff, and the services whose adaptive concurrency limit is
//! lowest (with their smoothed latency). Drawn only for a person at a terminal: hidden with
//! `-q` or when stderr is not a terminal. Logs go through it so they never tear the bar.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bacaudit::commands::Console;
use bacaudit::crawl::{FetchEvent, Observer};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

const TEMPLATE: &str = "{spinner} {elapsed:>4} [{bar:30}] {pos}/{len} fetched · {rate} · {msg}";

/// A crawl's progress: an [`Observer`] drawing one line on stderr.
pub struct Progress {
    bar: ProgressBar,
    /// Whether the bar is drawn (a terminal, not `-q`).
    drawn: bool,
    started: AtomicBool,
    failed: AtomicU64,
    retrying: AtomicI64,
    /// Each service's current concurrency limit and smoothed latency, once it changed.
    limits: Mutex<BTreeMap<String, (usize, Duration)>>,
}

/// Services shown with their limit: the most constrained ones.
const LIMITS_SHOWN: usize = 3;

impl Progress {
    /// A bar drawn on stderr when it is a terminal and `quiet` is off; hidden otherwise.
    pub fn new(quiet: bool) -> Arc<Progress> {
        let drawn = !quiet && std::io::stderr().is_terminal();
        let target = if drawn {
            ProgressDrawTarget::stderr_with_hz(10)
        } else {
            ProgressDrawTarget::hidden()
        };
        Arc::new(Progress::with_target(target, drawn))
    }

    fn with_target(target: ProgressDrawTarget, drawn: bool) -> Progress {
        let style = ProgressStyle::with_template(TEMPLATE)
            .expect("valid template")
            .with_key("rate", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{:.1}/s", s.per_sec());
            })
            .progress_chars("=> ");
        let bar = ProgressBar::with_draw_target(Some(0), target).with_style(style);
        let p = Progress {
            bar,
            drawn,
            started: AtomicBool::new(false),
            failed: AtomicU64::new(0),
            retrying: AtomicI64::new(0),
            limits: Mutex::default(),
        };
        p.update_message();
        p
    }

    /// Removes the bar (before the summary is printed).
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }

    /// Prints a line on stderr above the bar.
    pub fn note(&self, line: &str) {
        self.bar.suspend(|| {
            let _ = writeln!(std::io::stderr().lock(), "{line}");
        });
    }

    /// A `tracing` writer whose lines are printed above the bar.
    pub fn log_writer(&self) -> LogWriter {
        LogWriter {
            bar: self.bar.clone(),
        }
    }

    fn update_message(&self) {
        let failed = self.failed.load(Ordering::Relaxed);
        let retrying = self.retrying.load(Ordering::Relaxed).max(0);
        let mut message = format!("{failed} failed · {retrying} retrying");
        message.push_str(&self.limits_text());
        self.bar.set_message(message);
    }

    /// ` · limit orders 6 (31 ms), customers 12 (8 ms)`: the lowest limits first.
    fn limits_text(&self) -> String {
        let limits = self.limits.lock().unwrap_or_else(|e| e.into_inner());
        let mut by_limit: Vec<_> = limits.iter().collect();
        by_limit.sort_by_key(|(name, (limit, _))| (*limit, *name));
        let shown: Vec<String> = by_limit
            .iter()
            .take(LIMITS_SHOWN)
            .map(|(name, (limit, latency))| format!("{name} {limit} ({} ms)", latency.as_millis()))
            .collect();
        if shown.is_empty() {
            return String::new();
        }
        let more = by_limit.len().saturating_sub(LIMITS_SHOWN);
        let more = if more > 0 {
            format!(" +{more}")
        } else {
            String::new()
        };
        format!(" · limit {}{more}", shown.join(", "))
    }
}

impl Console for Progress {
    fn finish(&self) {
        Progress::finish(self);
    }
    fn print(&self, text: &str) {
        print_stdout(text);
    }
    fn eprint(&self, text: &str) {
        eprint!("{text}");
    }
}

/// Prints to stdout; a closed pipe (`| head`) ends quietly.
pub fn print_stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("error: cannot write to stdout: {e}");
        }
    }
}

impl Observer for Progress {
    fn discovered(&self, total: u64) {
        if !self.started.swap(true, Ordering::Relaxed) && self.drawn {
            // Tick even while nothing completes, so the rate and the clock stay live.
            self.bar.enable_steady_tick(Duration::from_millis(200));
        }
        self.bar.set_length(total);
    }

    fn fetched(&self, event: &FetchEvent<'_>) {
        // A hidden bar is not kept up to date: each step takes a lock and reads the clock,
        // a tenth of a million-URL replay.
        if !self.drawn {
            return;
        }
        self.bar.inc(1);
        if !event.outcome.is_ok() {
            self.failed.fetch_add(1, Ordering::Relaxed);
            self.update_message();
        }
    }

    fn retrying(&self, delta: i64) {
        self.retrying.fetch_add(delta, Ordering::Relaxed);
        self.update_message();
    }

    fn limit_changed(&self, service: &str, limit: usize, latency: Duration) {
        if !self.drawn {
            return;
        }
        self.limits
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(service.to_string(), (limit, latency));
        self.update_message();
    }
}

/// Makes a writer per log event; each event is printed whole above the bar.
pub struct LogWriter {
    bar: ProgressBar,
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogWriter {
    type Writer = LogLine;

    fn make_writer(&'a self) -> LogLine {
        LogLine {
            bar: self.bar.clone(),
            buf: Vec::new(),
        }
    }
}

/// One log event, buffered, written to stderr with the bar suspended when dropped.
pub struct LogLine {
    bar: ProgressBar,
    buf: Vec<u8>,
}

impl Write for LogLine {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if !self.buf.is_empty() {
            let buf = std::mem::take(&mut self.buf);
            self.bar
                .suspend(|| std::io::stderr().lock().write_all(&buf))?;
        }
        Ok(())
    }
}

impl Drop for LogLine {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bacaudit::graph::{Failure, Outcome};
    use bacaudit::vocab::{Class, Reason};

    fn event<'a>(url: &'a str, outcome: &'a Outcome) -> FetchEvent<'a> {
        FetchEvent {
            url,
            outcome,
            response: None,
            redirect: None,
            body: None,
            earlier: &[],
            detail: None,
        }
    }

    #[test]
    fn counts_discovered_fetched_failed_and_retrying() {
        // Counted as when drawn (the target is hidden only so that the test draws nothing).
        let p = Progress::with_target(ProgressDrawTarget::hidden(), true);
        let ok = Outcome {
            status: Some(200),
            attempts: 1,
            failure: None,
        };
        let broken = Outcome {
            status: Some(404),
            attempts: 1,
            failure: Some(Box::new(Failure {
                reason: Reason::NotFound,
                class: Class::Permanent,
                detail: "404 Not Found".into(),
            })),
        };
        p.discovered(3);
        p.fetched(&event("http://h/a", &ok));
        p.retrying(1);
        p.retrying(1);
        assert_eq!(p.bar.message(), "0 failed · 2 retrying");
        p.retrying(-1);
        p.discovered(5);
        p.fetched(&event("http://h/b", &broken));
        assert_eq!(p.bar.length(), Some(5));
        assert_eq!(p.bar.position(), 2);
        assert_eq!(p.bar.message(), "1 failed · 1 retrying");
        p.finish();
        assert!(p.bar.is_finished());
    }

    #[test]
    fn shows_the_lowest_limits_with_their_latency() {
        let p = Progress::with_target(ProgressDrawTarget::hidden(), true);
        let ms = Duration::from_millis;
        p.limit_changed("customers", 12, ms(8));
        p.limit_changed("orders", 6, ms(31));
        assert_eq!(
            p.bar.message(),
            "0 failed · 0 retrying · limit orders 6 (31 ms), customers 12 (8 ms)"
        );
        p.limit_changed("products", 40, ms(2));
        p.limit_changed("payments", 3, ms(120));
        p.limit_changed("orders", 9, ms(20));
        assert_eq!(
            p.bar.message(),
            "0 failed · 0 retrying · limit payments 3 (120 ms), orders 9 (20 ms), \
             customers 12 (8 ms) +1"
        );
    }

    #[test]
    fn a_hidden_bar_does_not_count() {
        let p = Progress::with_target(ProgressDrawTarget::hidden(), false);
        let ok = Outcome {
            status: Some(200),
            attempts: 1,
            failure: None,
        };
        p.fetched(&event("http://h/a", &ok));
        assert_eq!(p.bar.position(), 0);
    }

    #[test]
    fn quiet_or_not_a_terminal_is_hidden() {
        assert!(Progress::new(true).bar.is_hidden());
        // Under `cargo test` stderr is captured or piped: never a terminal here unless a
        // person runs the tests in one, where the bar is expected.
        if !std::io::stderr().is_terminal() {
            assert!(Progress::new(false).bar.is_hidden());
        }
    }
}
