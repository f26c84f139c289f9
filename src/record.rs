//! `--record`: every fetch's final outcome written as a snapshot line as the crawl goes, so an
//! interrupted crawl still leaves a valid snapshot.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde_json::{json, Map, Value};

use crate::crawl::{FetchEvent, Observer};

/// Response headers worth recording (and safe: no cookies, no echoed credentials).
const KEPT_HEADERS: &[&str] = &[
    "content-type",
    "link",
    "location",
    "retry-after",
    "etag",
    "last-modified",
];

/// Writes snapshot lines to a file, one per fetched URL, flushed line by line.
pub struct Recorder {
    path: PathBuf,
    out: Mutex<RecorderState>,
}

struct RecorderState {
    file: BufWriter<File>,
    error: Option<std::io::Error>,
}

impl Recorder {
    /// Creates (truncates) the recording file.
    pub fn create(path: &Path) -> std::io::Result<Recorder> {
        Ok(Recorder {
            path: path.to_path_buf(),
            out: Mutex::new(RecorderState {
                file: BufWriter::new(File::create(path)?),
                error: None,
            }),
        })
    }

    /// The first write error, if any (checked when the crawl ends).
    pub fn finish(&self) -> Result<(), (PathBuf, std::io::Error)> {
        let mut st = self.out.lock().expect("recorder lock");
        if let Some(e) = st.error.take() {
            return Err((self.path.clone(), e));
        }
        st.file.flush().map_err(|e| (self.path.clone(), e))
    }

    /// The snapshot line for one final outcome.
    pub fn line(event: &FetchEvent<'_>) -> Value {
        let mut m = Map::new();
        m.insert("url".into(), json!(event.url));
        let failure = event.outcome.failure.as_deref();
        // Failures that come after an answer keep its status beside the error code, so a
        // replay gives the same finding (an extension of the contract's "status or error").
        if let Some(f) = failure.filter(|f| f.reason.follows_answer() || event.response.is_none()) {
            if let Some(status) = event.outcome.status.filter(|_| f.reason.follows_answer()) {
                m.insert("status".into(), json!(status));
            }
            m.insert("error".into(), json!(f.reason.as_str()));
            return Value::Object(m);
        }
        m.insert("status".into(), json!(event.outcome.status.unwrap_or(200)));
        if let Some(r) = event.response {
            let headers: Map<String, Value> = r
                .headers
                .iter()
                .filter(|(n, _)| KEPT_HEADERS.contains(&n.as_str()))
                .map(|(n, v)| (n.clone(), json!(v)))
                .collect();
            if !headers.is_empty() {
                m.insert("headers".into(), Value::Object(headers));
            }
        }
        if let Some(b) = event.body {
            m.insert("body".into(), b.clone());
        }
        Value::Object(m)
    }
}

impl Observer for Recorder {
    fn fetched(&self, event: &FetchEvent<'_>) {
        let line = Recorder::line(event);
        let mut st = self.out.lock().expect("recorder lock");
        if st.error.is_some() {
            return;
        }
        let res = serde_json::to_writer(&mut st.file, &line)
            .map_err(std::io::Error::from)
            .and_then(|()| st.file.write_all(b"\n"))
            .and_then(|()| st.file.flush());
        if let Err(e) = res {
            st.error = Some(e);
        }
    }
}
