//! `--record`: every fetch's final outcome written as a snapshot line as the crawl goes, so an
//! interrupted crawl still leaves a valid snapshot; `--resume` appends to such a recording.
//!
//! Each line is written whole and flushed before the next, so a crawl killed at any point
//! leaves complete lines and at most one cut last line (which loading ignores, and resuming
//! cuts off before appending).

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::{json, Map, Value};

use crate::crawl::{FetchEvent, Observer};
use crate::http::IssuedTokens;
use crate::rules::Rules;
use crate::source::Snapshot;

/// What an echoed credential is replaced with in a recording.
pub const REDACTED: &str = "REDACTED";

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
    /// The recording being resumed: its URLs are replayed, not recorded again.
    resumed: Option<Arc<Snapshot>>,
    /// Credentials to keep out of the recording, longest first (see [`Recorder::redacting`]).
    secrets: Vec<String>,
    /// OAuth2 tokens issued during the crawl, kept out too.
    tokens: Option<IssuedTokens>,
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
            resumed: None,
            secrets: Vec::new(),
            tokens: None,
        })
    }

    /// Appends to the recording `recorded` was loaded from (creating it if need be): its cut
    /// last line, if any, is cut off first, and a last line without its newline gets one. The
    /// URLs it holds are not recorded again (a resumed crawl replays them).
    pub fn resume(path: &Path, recorded: Arc<Snapshot>) -> std::io::Result<Recorder> {
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)?;
        if let Some(cut) = recorded.cut.iter().find(|c| c.path == path) {
            file.set_len(cut.offset as u64)?;
        }
        let len = file.metadata()?.len();
        if len > 0 {
            let mut last = [0u8];
            file.seek(SeekFrom::Start(len - 1))?;
            file.read_exact(&mut last)?;
            if last[0] != b'\n' {
                file.write_all(b"\n")?;
            }
        }
        Ok(Recorder {
            path: path.to_path_buf(),
            out: Mutex::new(RecorderState {
                file: BufWriter::new(file),
                error: None,
            }),
            resumed: Some(recorded),
            secrets: Vec::new(),
            tokens: None,
        })
    }

    /// Keeps the rules' credentials out of the recording: a service that echoes the `auth`
    /// value it was sent (in a body, a kept header, even a link) gets it replaced by
    /// [`REDACTED`] wherever it appears in a line. For a value of the form `Scheme credential`
    /// (`Bearer <token>`) the credential alone is redacted too. Values shorter than 4
    /// characters are not looked for (they would match ordinary text).
    pub fn redacting(mut self, rules: &Rules) -> Recorder {
        let mut secrets: Vec<String> = Vec::new();
        for value in rules.services.iter().flat_map(|s| s.secrets()) {
            let value = value.trim();
            secrets.push(value.to_string());
            if let Some((_, credential)) = value.rsplit_once(' ') {
                if credential.len() >= 8 {
                    secrets.push(credential.to_string());
                }
            }
        }
        secrets.retain(|s| s.chars().count() >= 4);
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        self.secrets = secrets;
        self
    }

    /// Also keeps out the OAuth2 tokens handed out during the crawl (as they are issued).
    pub fn redacting_tokens(mut self, tokens: Option<IssuedTokens>) -> Recorder {
        self.tokens = tokens;
        self
    }

    /// The static secrets and every token issued so far, longest first.
    fn with_tokens(&self, tokens: &IssuedTokens) -> Vec<String> {
        let mut all = self.secrets.clone();
        all.extend(tokens.all().iter().map(|t| t.expose().to_string()));
        all.retain(|s| s.chars().count() >= 4);
        all.sort_by_key(|s| std::cmp::Reverse(s.len()));
        all.dedup();
        all
    }

    /// Replaces every one of `secrets` in the strings and keys of `v`.
    fn redact(secrets: &[String], v: &mut Value) {
        let clean = |s: &str| -> Option<String> {
            secrets
                .iter()
                .any(|secret| s.contains(secret.as_str()))
                .then(|| {
                    secrets.iter().fold(s.to_string(), |s, secret| {
                        s.replace(secret.as_str(), REDACTED)
                    })
                })
        };
        match v {
            Value::String(s) => {
                if let Some(c) = clean(s) {
                    *s = c;
                }
            }
            Value::Array(a) => a.iter_mut().for_each(|e| Recorder::redact(secrets, e)),
            Value::Object(m) => {
                if m.keys().any(|k| clean(k).is_some()) {
                    *m = std::mem::take(m)
                        .into_iter()
                        .map(|(k, v)| (clean(&k).unwrap_or(k), v))
                        .collect();
                }
                m.values_mut().for_each(|e| Recorder::redact(secrets, e));
            }
            _ => {}
        }
    }

    /// The first write error, if any (checked when the crawl ends).
    pub fn finish(&self) -> Result<(), (PathBuf, std::io::Error)> {
        let mut st = self.out.lock().expect("recorder lock");
        if let Some(e) = st.error.take() {
            return Err((self.path.clone(), e));
        }
        st.file.flush().map_err(|e| (self.path.clone(), e))
    }

    /// The snapshot lines for one final outcome: one, or for a 2xx answer that came through
    /// redirects, the redirect (straight to the URL that answered) and that URL's answer, so a
    /// replay follows it and reads the body at the URL it came from (relative links resolve
    /// the same, links belong to the same resource).
    pub fn lines(event: &FetchEvent<'_>) -> Vec<Value> {
        match event.redirect {
            Some((status, to)) if event.outcome.is_ok() => {
                let mut redirect =
                    json!({"url": event.url, "status": status, "headers": {"location": to}});
                Recorder::add_earlier(&mut redirect, event);
                let answer = Recorder::line(&FetchEvent {
                    url: to,
                    redirect: None,
                    earlier: &[],
                    ..*event
                });
                vec![redirect, answer]
            }
            _ => vec![Recorder::line(event)],
        }
    }

    /// The attempts before the final one, when there were any (an extension of the format:
    /// a replay answers them first, so its attempts, requests and retries are the live ones).
    fn add_earlier(line: &mut Value, event: &FetchEvent<'_>) {
        if event.earlier.is_empty() {
            return;
        }
        let earlier = event.earlier.iter().map(|e| e.to_json()).collect();
        if let Value::Object(m) = line {
            m.insert("earlier".into(), Value::Array(earlier));
        }
    }

    /// The snapshot line for one final outcome (redirects not shown: see [`Recorder::lines`]).
    pub fn line(event: &FetchEvent<'_>) -> Value {
        let mut line = Recorder::final_line(event);
        Recorder::add_earlier(&mut line, event);
        line
    }

    /// [`Recorder::line`] without the earlier attempts.
    fn final_line(event: &FetchEvent<'_>) -> Value {
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
            // The error's own words (a timeout's limit, where a redirect went), so a replay
            // says what the live crawl said.
            let detail = event.detail.unwrap_or(&f.detail);
            m.insert("detail".into(), json!(detail));
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
        match (event.body, event.response) {
            (Some(b), _) => {
                m.insert("body".into(), b.clone());
            }
            // An extension of the format: a body that was not JSON is not recorded, but that
            // there was one is (a replay must not take the resource for one without links).
            (None, Some(r)) if !r.body.iter().all(u8::is_ascii_whitespace) => {
                m.insert("body_not_json".into(), Value::Bool(true));
            }
            _ => {}
        }
        Value::Object(m)
    }
}

impl Observer for Recorder {
    fn fetched(&self, event: &FetchEvent<'_>) {
        if self
            .resumed
            .as_ref()
            .is_some_and(|r| r.entries.contains_key(event.url))
        {
            return;
        }
        let mut lines = Recorder::lines(event);
        let live;
        let secrets = match &self.tokens {
            Some(tokens) => {
                live = self.with_tokens(tokens);
                &live
            }
            None => &self.secrets,
        };
        if !secrets.is_empty() {
            lines.iter_mut().for_each(|l| Recorder::redact(secrets, l));
        }
        let mut st = self.out.lock().expect("recorder lock");
        if st.error.is_some() {
            return;
        }
        let mut res = Ok(());
        for line in &lines {
            res = res
                .and_then(|()| {
                    serde_json::to_writer(&mut st.file, line).map_err(std::io::Error::from)
                })
                .and_then(|()| st.file.write_all(b"\n"));
        }
        if let Err(e) = res.and_then(|()| st.file.flush()) {
            st.error = Some(e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::Outcome;
    use crate::source::Response;

    fn line_for(body: &[u8], parsed: Option<&Value>) -> Value {
        let outcome = Outcome {
            status: Some(200),
            attempts: 1,
            failure: None,
        };
        let response = Response {
            status: 200,
            headers: vec![("content-type".to_string(), "text/html".to_string())].into(),
            body: bytes::Bytes::copy_from_slice(body),
            truncated: false,
        };
        Recorder::line(&FetchEvent {
            url: "http://h/a",
            outcome: &outcome,
            response: Some(&response),
            redirect: None,
            body: parsed,
            earlier: &[],
            detail: None,
        })
    }

    #[test]
    fn a_body_that_is_not_json_is_marked_not_dropped() {
        assert_eq!(
            line_for(b"<html>hi</html>", None),
            json!({"url":"http://h/a","status":200,"headers":{"content-type":"text/html"},"body_not_json":true})
        );
        assert_eq!(
            line_for(b"  ", None),
            json!({"url":"http://h/a","status":200,"headers":{"content-type":"text/html"}})
        );
        assert_eq!(
            line_for(b"{\"a\":1}", Some(&json!({"a": 1})))["body"],
            json!({"a": 1})
        );
    }
}
