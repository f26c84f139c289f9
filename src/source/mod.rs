//! Where responses come from: the [`Source`] trait, with a live HTTP and a recorded-snapshot
//! implementation. The crawler walks from the seeds through a `Source`; it never reads a
//! snapshot as a list.

mod error;
mod history;
mod live;
mod resume;
pub(crate) mod snapshot;

use std::future::Future;
use std::sync::Arc;

use url::Url;

use crate::vocab::Reason;

pub use crate::http::{Headers, Response, ACCEPT_VALUE};
pub use error::SnapshotError;
pub use history::{Earlier, History};
pub use live::{LiveOptions, LiveSource};
pub use resume::ResumeSource;
pub use snapshot::{CutLine, Snapshot, SnapshotEntry, SnapshotSource};

/// The result of one request.
#[derive(Debug, Clone)]
pub enum Attempt {
    /// An HTTP answer, whatever its status.
    Answer(Response),
    /// No HTTP answer: timeout, refused or reset connection, or a replayed recorded error.
    Failed {
        reason: Reason,
        detail: String,
        /// The status of the answer the failure followed (a replayed redirect or cut body).
        status: Option<u16>,
    },
}

/// Something that holds recorded exchanges by canonical URL: a loaded [`Snapshot`] or an
/// on-disk scanned one (`crawl::ScannedSnapshot`).
pub trait Recorded: Sync + std::fmt::Debug {
    /// The recorded exchange for a canonical URL (its body included).
    fn recorded(&self, url: &str) -> Option<SnapshotEntry>;
}

/// A source of responses: live services or a recording of them.
pub trait Source: Send + Sync + 'static {
    /// Makes one request for `url` (canonical, inside a declared service).
    fn fetch(&self, url: &Url) -> impl Future<Output = Attempt> + Send;

    /// Whether retries wait out their backoff. A replayed snapshot answers instantly, so its
    /// retries do not sleep (attempts still match the live run).
    fn sleeps(&self) -> bool;

    /// Whether a retry after a failed request for `url` waits out its backoff: [`Source::sleeps`]
    /// unless the source answers some URLs live and replays others ([`ResumeSource`]).
    fn sleeps_for(&self, url: &Url) -> bool {
        let _ = url;
        self.sleeps()
    }

    /// What a recording holds of `url`'s fetch beyond its final answer: the crawl answers its
    /// attempt k from the k-th earlier attempt while there is one, then asks [`Source::fetch`].
    /// `None` for a live source.
    fn history(&self, url: &Url) -> Option<Arc<History>> {
        let _ = url;
        None
    }
}
