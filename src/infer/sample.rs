//! What inference reads: every answered exchange of a snapshot or of a live crawl, as
//! [`Samples`] in URL order (so the same world always gives the same proposal).

use std::sync::Mutex;

use bytes::Bytes;
use url::Url;

use crate::crawl::{FetchEvent, Observer};
use crate::source::Snapshot;

/// One answered exchange.
#[derive(Debug, Clone)]
pub struct Sample {
    /// Canonical URL.
    pub url: Url,
    pub status: u16,
    /// Lower-case names.
    pub headers: Vec<(String, String)>,
    /// The body's JSON text (empty when there was none or it was not JSON).
    pub body: Bytes,
}

impl Sample {
    /// Whether the exchange answered 2xx.
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body, parsed (None: no body or not JSON).
    pub fn json(&self) -> Option<serde_json::Value> {
        if self.body.is_empty() {
            return None;
        }
        serde_json::from_slice(&self.body).ok()
    }

    /// The body, parsed for link extraction (strings borrowed from it).
    pub fn value(&self) -> Option<crate::json::Value<'_>> {
        if self.body.is_empty() {
            return None;
        }
        crate::json::from_slice(&self.body).ok()
    }
}

/// The exchanges inference reads, in URL order, and how many were left out because they got no
/// HTTP answer (timeouts, refused connections).
#[derive(Debug, Clone, Default)]
pub struct Samples {
    pub list: Vec<Sample>,
    pub unanswered: usize,
}

impl Samples {
    /// Every recorded exchange of a snapshot (answered ones become samples).
    pub fn from_snapshot(snapshot: &Snapshot) -> Samples {
        let mut out = Samples::default();
        for (url, entry) in &snapshot.entries {
            let (Ok(status), Ok(url)) = (entry.outcome, Url::parse(url)) else {
                out.unanswered += 1;
                continue;
            };
            out.list.push(Sample {
                url,
                status,
                headers: entry.headers.to_vec(),
                body: entry.body.clone(),
            });
        }
        out.sort();
        out
    }

    /// Puts the samples in URL order.
    pub fn sort(&mut self) {
        self.list.sort_by(|a, b| a.url.as_str().cmp(b.url.as_str()));
    }
}

/// A crawl observer that keeps every answered fetch as a [`Sample`] (for `init` from live
/// services).
#[derive(Debug, Default)]
pub struct Collector {
    samples: Mutex<Samples>,
    /// Fetches that got no answer: (URL, what happened).
    failures: Mutex<Vec<(String, String)>>,
}

impl Collector {
    /// What was collected, in URL order.
    pub fn take(&self) -> Samples {
        let mut s = std::mem::take(&mut *self.samples.lock().expect("collector lock"));
        s.sort();
        s
    }

    /// What happened to the first unanswered fetch under `base` (a URL prefix), if any.
    pub fn failure(&self, base: &Url) -> Option<String> {
        self.failures
            .lock()
            .expect("collector lock")
            .iter()
            .find(|(u, _)| u.starts_with(base.as_str()))
            .map(|(u, d)| format!("{u}: {d}"))
    }
}

impl Observer for Collector {
    fn fetched(&self, event: &FetchEvent<'_>) {
        let mut samples = self.samples.lock().expect("collector lock");
        let (Some(response), Ok(url)) = (event.response, Url::parse(event.url)) else {
            samples.unanswered += 1;
            if let Some(f) = &event.outcome.failure {
                self.failures
                    .lock()
                    .expect("collector lock")
                    .push((event.url.to_string(), f.detail.clone()));
            }
            return;
        };
        samples.list.push(Sample {
            url,
            status: response.status,
            headers: response.headers.to_vec(),
            body: if crate::json::from_slice(&response.body).is_ok() {
                response.body.clone()
            } else {
                Bytes::new()
            },
        });
    }
}
