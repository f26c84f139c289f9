//! The crawler: walks from the seeds through a [`Source`](crate::source::Source), fetching each
//! canonical URL once with retries and redirects, extracting links, and building the
//! [`Graph`](crate::graph::Graph).

mod adaptive;
mod engine;
mod fetch;
mod limits;
mod replay;
mod scan;
mod seen;

/// The backoff policy of [`CrawlOptions::retry`] (it lives in the client layer).
pub use crate::http::RetryPolicy;
pub use engine::{crawl, CrawlOptions, Fanout, FetchEvent, Observer, Quiet, Stop};
pub use fetch::MAX_REDIRECTS;
pub use replay::replay;
pub use scan::ScannedSnapshot;
pub use seen::Seen;
