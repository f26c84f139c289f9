//! Where responses come from: the [`Source`] trait, with a live HTTP and a recorded-snapshot
//! implementation. The crawler walks from the seeds through a `Source`; it never reads a
//! snapshot as a list.

mod error;
mod h1;
mod live;
mod resume;
pub(crate) mod snapshot;

use std::future::Future;

use bytes::Bytes;
use url::Url;

use crate::vocab::Reason;

pub use error::SnapshotError;
pub use live::{auth_headers, LiveOptions, LiveSource, ACCEPT_VALUE};
pub use resume::ResumeSource;
pub use snapshot::{CutLine, Snapshot, SnapshotEntry, SnapshotSource};

/// A response's headers: lower-case names and values, cheap to clone.
pub type Headers = std::sync::Arc<[(String, String)]>;

/// A response's headers as a source keeps them: lower-case names in the order first seen, a
/// repeated header's values joined with `, `, the headers `skip` names left out.
pub(crate) fn header_list(
    map: &http::HeaderMap,
    skip: impl Fn(&http::HeaderName) -> bool,
) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = Vec::with_capacity(map.keys_len());
    for (name, value) in map {
        if skip(name) {
            continue;
        }
        let v = String::from_utf8_lossy(value.as_bytes());
        match headers.iter_mut().find(|(n, _)| n == name.as_str()) {
            Some((_, existing)) => {
                existing.push_str(", ");
                existing.push_str(&v);
            }
            None => headers.push((name.as_str().to_string(), v.into_owned())),
        }
    }
    headers
}

/// One HTTP answer (a single request: redirects are followed by the crawler, not the source).
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    /// Lower-case header names; a repeated header joined with `, ` (shared: a replayed
    /// snapshot hands out the same header set for every URL that recorded it).
    pub headers: Headers,
    /// The raw body (JSON text for a snapshot).
    pub body: Bytes,
    /// The body was cut at the configured cap.
    pub truncated: bool,
}

impl Response {
    /// The value of a header (lower-case name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

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
/// on-disk scanned one ([`ScannedSnapshot`](crate::crawl::ScannedSnapshot)).
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
}
