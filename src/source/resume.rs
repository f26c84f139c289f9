//! `crawl --resume`: a recording of an interrupted crawl replayed for the URLs it holds, every
//! other URL fetched live. Replayed answers come at once and their retries do not sleep, so a
//! resumed crawl makes no request the recording already answered and ends with the findings of
//! an uninterrupted one.

use std::sync::Arc;

use url::Url;

use super::{Attempt, History, Snapshot, SnapshotSource, Source};

/// Answers a URL from the recording when it holds one, else from `live`. A URL the interrupted
/// crawl never fetched is simply absent from the recording: it is fetched live, never taken
/// for a 404.
pub struct ResumeSource<L> {
    recorded: Arc<Snapshot>,
    replay: SnapshotSource,
    live: L,
}

impl<L: Source> ResumeSource<L> {
    pub fn new(recorded: Arc<Snapshot>, live: L) -> Self {
        ResumeSource {
            replay: SnapshotSource::new(recorded.clone()),
            recorded,
            live,
        }
    }

    /// Whether the recording answers `url` (canonical).
    pub fn replays(&self, url: &Url) -> bool {
        self.recorded.get(url).is_some()
    }
}

impl<L: Source> Source for ResumeSource<L> {
    async fn fetch(&self, url: &Url) -> Attempt {
        if self.replays(url) {
            self.replay.fetch(url).await
        } else {
            self.live.fetch(url).await
        }
    }

    fn sleeps(&self) -> bool {
        self.live.sleeps()
    }

    fn sleeps_for(&self, url: &Url) -> bool {
        !self.replays(url) && self.live.sleeps_for(url)
    }

    fn history(&self, url: &Url) -> Option<Arc<History>> {
        if self.replays(url) {
            self.replay.history(url)
        } else {
            self.live.history(url)
        }
    }
}
