//! The recorded snapshot: NDJSON files of exchanges, loaded into an index and replayed as a
//! [`Source`]. A URL not in the snapshot answers 404.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use serde::Deserialize;
use serde_json::value::RawValue;
use url::Url;

use super::{Attempt, Recorded, Response, Source};
use super::{History, SnapshotError};
use crate::canon;
use crate::vocab::Reason;

/// One recorded exchange.
#[derive(Debug, Clone)]
pub struct SnapshotEntry {
    /// The recorded status, or the recorded reason for a fetch that got no answer.
    pub outcome: Result<u16, Reason>,
    /// The status recorded beside an `error` that followed an answer (redirects, cut bodies).
    pub error_status: Option<u16>,
    pub headers: super::Headers,
    /// The body's JSON text (empty when none was recorded).
    pub body: Bytes,
    /// The attempts before the final one and the final failure's detail, when recorded.
    pub history: Option<Arc<History>>,
}

impl SnapshotEntry {
    /// The recorded body, parsed.
    pub fn body_json(&self) -> Option<serde_json::Value> {
        if self.body.is_empty() {
            return None;
        }
        serde_json::from_slice(&self.body).ok()
    }

    /// The recorded body, parsed, its strings borrowed from it.
    pub fn body_value(&self) -> Option<crate::json::Value<'_>> {
        if self.body.is_empty() {
            return None;
        }
        crate::json::from_slice(&self.body).ok()
    }
}

/// A loaded snapshot: canonical URL → last recorded exchange.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub entries: HashMap<String, SnapshotEntry>,
    /// The file or folder it was read from.
    pub path: PathBuf,
    /// Last lines left out because they were cut short (a recording killed mid-line).
    pub cut: Vec<CutLine>,
}

/// The last line of a file, cut short: its JSON ends early and no newline ends it. It is what
/// a recording killed while writing leaves; it is ignored (with a warning), not an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CutLine {
    pub path: PathBuf,
    /// 1-based line number.
    pub line: usize,
    /// Where the cut line starts: the file's complete lines are the bytes before it.
    pub offset: usize,
}

/// One snapshot line as written, its body as `B` (raw JSON text, or parsed).
#[derive(Deserialize)]
struct Line<'a, B> {
    #[serde(borrow)]
    url: Option<std::borrow::Cow<'a, str>>,
    status: Option<serde_json::Value>,
    #[serde(borrow)]
    error: Option<std::borrow::Cow<'a, str>>,
    headers: Option<serde_json::Map<String, serde_json::Value>>,
    body: Option<B>,
    /// Extension: the answer had a body that was not JSON (so it is not recorded).
    #[serde(default)]
    body_not_json: bool,
    /// Extension: the attempts before the final one ([`History`]).
    earlier: Option<serde_json::Value>,
    /// Extension: the final failure's detail ([`History`]).
    #[serde(borrow)]
    detail: Option<std::borrow::Cow<'a, str>>,
}

/// What a replay answers for a body that was recorded as not JSON: not JSON either, so the
/// resource again exists with unknown links.
pub(crate) const NOT_JSON_BODY: &[u8] = b"(a body that was not JSON; not recorded)";

impl Snapshot {
    /// Loads one NDJSON file, or every `*.ndjson` / `*.jsonl` file of a folder in name order.
    pub fn load(path: &Path) -> Result<Snapshot, SnapshotError> {
        let files = snapshot_files(path)?;
        let mut snap = Snapshot {
            path: path.to_path_buf(),
            ..Snapshot::default()
        };
        for file in files {
            let data = std::fs::read(&file).map_err(|source| SnapshotError::Io {
                path: file.clone(),
                source,
            })?;
            snap.add_text(&file, Bytes::from(data))?;
        }
        Ok(snap)
    }

    /// Adds the lines of one file's content (`file` names it in errors). Later lines win.
    ///
    /// A bad line is an error naming the file and line, except a last line that is cut short
    /// (no newline ends it and its JSON ends early): that is left out with a warning and noted
    /// in [`Snapshot::cut`].
    pub fn add_text(&mut self, file: &Path, data: Bytes) -> Result<(), SnapshotError> {
        let mut start = 0usize;
        let mut line_no = 0usize;
        while start < data.len() {
            line_no += 1;
            let end = memchr_newline(&data[start..]).map_or(data.len(), |i| start + i);
            let line = &data[start..end];
            let line_start = start;
            start = end + 1;
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            if end == data.len() && is_cut(line) {
                tracing::warn!(
                    "{}:{line_no}: the last line is cut short (an interrupted recording?): \
                     ignored; `crawl --resume` finishes a recording",
                    file.display()
                );
                self.cut.push(CutLine {
                    path: file.to_path_buf(),
                    line: line_no,
                    offset: line_start,
                });
                break;
            }
            let parsed = parse_line(file, line_no, line)?;
            let body = match parsed.body {
                Some(r) => data.slice(line_start + r.start..line_start + r.end),
                None if parsed.body_not_json => Bytes::from_static(NOT_JSON_BODY),
                None => Bytes::new(),
            };
            self.entries.insert(
                parsed.url,
                SnapshotEntry {
                    outcome: parsed.outcome,
                    error_status: parsed.error_status,
                    headers: parsed.headers.into(),
                    body,
                    history: parsed.history.map(Arc::new),
                },
            );
        }
        Ok(())
    }

    /// The recorded exchange for a canonical URL.
    pub fn get(&self, url: &Url) -> Option<&SnapshotEntry> {
        self.entries.get(url.as_str())
    }
}

/// The detail of a replayed recorded error.
pub(crate) fn recorded_detail(reason: Reason) -> String {
    match reason {
        Reason::Timeout => "timed out (recorded)".into(),
        Reason::ConnectFailed => "connection failed (recorded)".into(),
        Reason::ConnectionReset => "connection reset (recorded)".into(),
        Reason::ServiceUnavailable => {
            "not requested: the service was unavailable (recorded)".into()
        }
        r => format!("{} (recorded)", r.as_str().replace('_', " ")),
    }
}

/// The JSON of a body, if it is JSON. A UTF-8 byte order mark before it is skipped (RFC 8259
/// lets parsers ignore one, and some servers send it): taking such a body for "not JSON" would
/// hide a referring resource's links and make their targets look like orphans.
pub(crate) fn parse_body(body: &[u8]) -> Option<crate::json::Value<'_>> {
    let body = body.strip_prefix(b"\xef\xbb\xbf").unwrap_or(body);
    if body.is_empty() {
        return None;
    }
    crate::json::from_slice(body).ok()
}

/// Whether a line without a newline is a cut one: its JSON ends early (an interrupted
/// recording), as opposed to being wrong.
pub(crate) fn is_cut(line: &[u8]) -> bool {
    serde_json::from_slice::<serde::de::IgnoredAny>(line).is_err_and(|e| e.is_eof())
}

/// One snapshot line, checked.
pub(crate) struct ParsedLine {
    /// The canonical URL.
    pub url: String,
    pub outcome: Result<u16, Reason>,
    pub error_status: Option<u16>,
    pub headers: Vec<(String, String)>,
    /// Where the body's JSON text is in the line (`None`: no body, or `null`).
    pub body: Option<std::ops::Range<usize>>,
    /// The answer's body was not JSON.
    pub body_not_json: bool,
    /// The earlier attempts and the final failure's detail, when the line has them.
    pub history: Option<History>,
}

/// Parses and checks one line; errors name the file and line.
pub(crate) fn parse_line(
    file: &Path,
    line_no: usize,
    line: &[u8],
) -> Result<ParsedLine, SnapshotError> {
    let parsed: Line<'_, &RawValue> =
        serde_json::from_slice(line).map_err(|e| SnapshotError::Line {
            path: file.to_path_buf(),
            line: line_no,
            message: format!("not a JSON object: {e}"),
        })?;
    let (mut checked, body) = check_line(file, line_no, parsed)?;
    checked.body = match body {
        Some(raw) if raw.get() != "null" => {
            let text = raw.get().as_bytes();
            let offset = text.as_ptr() as usize - line.as_ptr() as usize;
            Some(offset..offset + text.len())
        }
        _ => None,
    };
    Ok(checked)
}

/// [`parse_line`] with the body parsed in the same pass (`None` for no body or `null`). `None`
/// when the line is not a well-formed line with a JSON body: [`parse_line`] then tells the
/// error, or the body is JSON text that is no JSON value (a lone surrogate escape). The body's
/// strings borrow from the line.
pub(crate) fn parse_line_with_body<'l>(
    file: &Path,
    line_no: usize,
    line: &'l [u8],
) -> Option<OnePass<'l>> {
    // UTF-8 checked once for the whole line (not string by string), then read by the
    // borrowing reader; anything unusual is left to `parse_line` (and its error message).
    let line = std::str::from_utf8(line).ok()?;
    let mut parsed: Line<'l, crate::json::Value<'l>> = Line {
        url: None,
        status: None,
        error: None,
        headers: None,
        body: None,
        body_not_json: false,
        earlier: None,
        detail: None,
    };
    let mut seen = [false; 8];
    let mut headers = None;
    for (key, value) in crate::json::object_members(line)? {
        use crate::json::Value;
        let field = match &*key {
            "url" => 0,
            "status" => 1,
            "error" => 2,
            "headers" => 3,
            "body" => 4,
            "body_not_json" => 5,
            "earlier" => 6,
            "detail" => 7,
            _ => continue,
        };
        // A field given twice is an error (`parse_line` names it).
        if std::mem::replace(&mut seen[field], true) {
            return None;
        }
        match (field, value) {
            (_, Value::Null) if field != 5 => {}
            (0, Value::String(s)) => parsed.url = Some(s),
            (1, v) => parsed.status = Some(v.to_serde()),
            (2, Value::String(s)) => parsed.error = Some(s),
            (3, Value::Object(m)) if m.values().all(Value::is_string) => headers = Some(m),
            (4, v) => parsed.body = Some(v),
            (5, Value::Bool(b)) => parsed.body_not_json = b,
            (6, v) => parsed.earlier = Some(v.to_serde()),
            (7, Value::String(s)) => parsed.detail = Some(s),
            _ => return None,
        }
    }
    let (line, body) = check_line(file, line_no, parsed).ok()?;
    Some(OnePass {
        line,
        headers,
        body: body.filter(|b| !b.is_null()),
    })
}

/// A line read in one pass ([`parse_line_with_body`]).
pub(crate) struct OnePass<'l> {
    /// The line, checked; its `headers` are left empty.
    pub line: ParsedLine,
    /// The headers as written (every value a string); [`header_pairs`] gives them checked.
    pub headers: Option<crate::json::Map<'l>>,
    /// The body (`None`: no body, or `null`).
    pub body: Option<crate::json::Value<'l>>,
}

/// Headers as [`ParsedLine::headers`] holds them: lower-case names, in the order read.
pub(crate) fn header_pairs(headers: &crate::json::Map<'_>) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(k, v)| {
            (
                k.to_ascii_lowercase(),
                v.as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// The checks of a line after its JSON is read; the body is handed back as it came.
fn check_line<B>(
    file: &Path,
    line_no: usize,
    parsed: Line<'_, B>,
) -> Result<(ParsedLine, Option<B>), SnapshotError> {
    let err = |message: String| SnapshotError::Line {
        path: file.to_path_buf(),
        line: line_no,
        message,
    };
    let Some(raw_url) = parsed.url else {
        return Err(err("missing `url`".into()));
    };
    let url = match canon::already_canonical(&raw_url) {
        Some(u) => u.to_string(),
        None => match canon::parse_absolute(&raw_url) {
            Some(u) => u.into(),
            None => {
                return Err(err(format!(
                    "`url` {raw_url:?} is not an absolute http(s) URL"
                )))
            }
        },
    };
    let status = match &parsed.status {
        None => None,
        Some(s) => match s.as_u64() {
            Some(n @ 100..=599) => Some(n as u16),
            _ => return Err(err(format!("`status` {s} is not an HTTP status (100-599)"))),
        },
    };
    let mut error_status = None;
    let outcome = match (status, parsed.error) {
        (Some(s), Some(e)) => match Reason::parse(&e) {
            Some(r) if r.follows_answer() => {
                error_status = Some(s);
                Err(r)
            }
            _ => {
                return Err(err(format!(
                    "has both `status` and `error` {e:?} (give one; only too_many_redirects, redirect_out_of_scope and body_too_large may keep a status)"
                )))
            }
        },
        (None, None) => {
            return Err(err("needs `status` (a number) or `error` (a reason code)".into()))
        }
        (Some(s), None) => Ok(s),
        (None, Some(e)) => match Reason::parse(&e) {
            Some(r) => Err(r),
            None => {
                return Err(err(format!(
                    "unknown `error` {e:?} (known: {})",
                    Reason::ALL.map(Reason::as_str).join(", ")
                )))
            }
        },
    };
    let history =
        History::from_line(parsed.earlier.as_ref(), parsed.detail.as_deref()).map_err(err)?;
    let mut headers = Vec::new();
    for (name, value) in parsed.headers.into_iter().flatten() {
        let serde_json::Value::String(v) = value else {
            return Err(err(format!("header `{name}` must be a string")));
        };
        headers.push((name.to_ascii_lowercase(), v));
    }
    Ok((
        ParsedLine {
            url,
            outcome,
            error_status,
            headers,
            body: None,
            body_not_json: parsed.body_not_json,
            history,
        },
        parsed.body,
    ))
}

/// The files of a snapshot: the file itself, or a folder's `*.ndjson` / `*.jsonl` files in
/// name order.
pub(crate) fn snapshot_files(path: &Path) -> Result<Vec<PathBuf>, SnapshotError> {
    let io = |source| SnapshotError::Io {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(io)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && matches!(
                    p.extension().and_then(|e| e.to_str()),
                    Some("ndjson" | "jsonl")
                )
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(SnapshotError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(files)
}

fn memchr_newline(s: &[u8]) -> Option<usize> {
    s.iter().position(|&b| b == b'\n')
}

/// A snapshot replayed as a source: recorded answers, instantly, every time.
#[derive(Debug, Clone)]
pub struct SnapshotSource {
    snapshot: std::sync::Arc<Snapshot>,
}

impl SnapshotSource {
    pub fn new(snapshot: std::sync::Arc<Snapshot>) -> Self {
        SnapshotSource { snapshot }
    }
}

/// The answer a recorded exchange replays: its status, headers and body, its recorded error,
/// or 404 for a URL the snapshot does not hold.
pub(crate) fn replay(entry: Option<&SnapshotEntry>) -> Attempt {
    match entry {
        None => Attempt::Answer(Response {
            status: 404,
            headers: Vec::new().into(),
            body: Bytes::new(),
            truncated: false,
        }),
        Some(e) => match e.outcome {
            Ok(status) => Attempt::Answer(Response {
                status,
                headers: e.headers.clone(),
                body: e.body.clone(),
                truncated: false,
            }),
            Err(reason) => Attempt::Failed {
                reason,
                detail: e
                    .history
                    .as_ref()
                    .and_then(|h| h.detail.clone())
                    .unwrap_or_else(|| recorded_detail(reason)),
                status: e.error_status,
            },
        },
    }
}

impl Recorded for Snapshot {
    fn recorded(&self, url: &str) -> Option<SnapshotEntry> {
        self.entries.get(url).cloned()
    }
}

impl Source for SnapshotSource {
    async fn fetch(&self, url: &Url) -> Attempt {
        replay(self.snapshot.get(url))
    }

    fn history(&self, url: &Url) -> Option<Arc<History>> {
        self.snapshot.get(url)?.history.clone()
    }

    fn sleeps(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Snapshot, SnapshotError> {
        let mut s = Snapshot::default();
        s.add_text(Path::new("t.ndjson"), Bytes::from(text.to_string()))?;
        Ok(s)
    }

    #[test]
    fn the_one_pass_reading_of_a_line_agrees_with_the_checked_one() {
        let lines = [
            r#"{"url":"http://127.0.0.1:8081/c/1","status":200,"headers":{"Content-Type":"application/hal+json"},"body":{"id":1,"_links":{"self":{"href":"http://127.0.0.1:8081/c/1"}}}}"#,
            r#"{"body":{"b":"\u00e9\n"},"x":[1,{"y":null}],"status":201,"url":"http:\/\/127.0.0.1:8081\/c\/2"}"#,
            r#"{"url":"http://127.0.0.1:8081/c/3","status":null,"error":"timeout","body":null}"#,
            r#"{"url":"http://127.0.0.1:8081/c/4","status":302,"error":"too_many_redirects"}"#,
            r#"{"url":"http://127.0.0.1:8081/c/5","status":200,"body_not_json":true}"#,
            r#"{"url":"http://127.0.0.1:8081/c/6","status":200,"headers":{"A":"1","a":"2","A":"3"},"body":[]}"#,
            r#"{"url":"http://127.0.0.1:8081/c/7","status":200,"body":{"k":1,"k":2}}"#,
            r#"{"url":"http://127.0.0.1:8081/c/8","status":200,"headers":null,"body_not_json":false}"#,
            r#"{"url":"http://127.0.0.1:8081/c/11","status":404,"earlier":[{"status":503,"retry_after":"1"},{"error":"timeout"}]}"#,
            r#"{"url":"http://127.0.0.1:8081/c/12","error":"timeout","detail":"timed out after 2 s","earlier":null}"#,
            // Each an error, or a line the one pass leaves to the checked reading.
            r#"{"url":"http://127.0.0.1:8081/c/9","url":"http://127.0.0.1:8081/c/10","status":200}"#,
            r#"{"url":"http://127.0.0.1:8081/c/9","status":200,"status":404}"#,
            r#"{"url":"http://127.0.0.1:8081/c/9","status":200,"body_not_json":null}"#,
            r#"{"url":"http://127.0.0.1:8081/c/9","status":200,"headers":{"a":1}}"#,
            r#"{"url":"http://127.0.0.1:8081/c/9","status":200,"headers":[]}"#,
            r#"{"url":9,"status":200}"#,
            r#"{"url":"http://127.0.0.1:8081/c/9","status":"200"}"#,
            r#"{"url":"http://127.0.0.1:8081/c/9","status":200,"error":7}"#,
            r#"{"url":"http://127.0.0.1:8081/c/9","status":200,"body":{"a":"\ud800"}}"#,
            r#"{"url":"http://127.0.0.1:8081/c/9","status":200,"body":{"a":1e400}}"#,
            r#"{"url":"http://127.0.0.1:8081/c/9","status":200} x"#,
            r#"{"url":"http://127.0.0.1:8081/c/9","status":200,"earlier":{"status":503}}"#,
            r#"{"url":"http://127.0.0.1:8081/c/9","status":200,"earlier":[{"status":200}]}"#,
            r#"{"url":"http://127.0.0.1:8081/c/9","error":"timeout","detail":7}"#,
            r#"["url"]"#,
            r#"{"status":200}"#,
        ];
        let mut one_pass = 0;
        for (i, line) in lines.iter().enumerate() {
            let file = Path::new("t.ndjson");
            let checked = parse_line(file, i + 1, line.as_bytes());
            let Some(one) = parse_line_with_body(file, i + 1, line.as_bytes()) else {
                continue;
            };
            let (got, body) = (one.line, one.body);
            assert!(got.headers.is_empty());
            let headers = one.headers.as_ref().map(header_pairs).unwrap_or_default();
            one_pass += 1;
            let want = checked.unwrap_or_else(|e| panic!("{line}: read in one pass, yet {e}"));
            assert_eq!(got.url, want.url, "{line}");
            assert_eq!(got.outcome, want.outcome, "{line}");
            assert_eq!(got.error_status, want.error_status, "{line}");
            assert_eq!(headers, want.headers, "{line}");
            assert_eq!(got.body_not_json, want.body_not_json, "{line}");
            assert_eq!(got.history, want.history, "{line}");
            let want_body = want.body.and_then(|r| parse_body(&line.as_bytes()[r]));
            assert_eq!(body, want_body, "{line}");
        }
        assert_eq!(one_pass, 10);
    }

    #[test]
    fn loads_lines_canonicalizes_and_last_wins() {
        let s = load(concat!(
            r#"{"url":"HTTP://127.0.0.1:80/a#x","status":200,"headers":{"Content-Type":"application/json"},"body":{"id":1}}"#,
            "\n\n",
            r#"{"url":"http://127.0.0.1/b","error":"timeout"}"#,
            "\n",
            r#"{"url":"http://127.0.0.1/a","status":200,"body":{"id": 2}}"#,
        ))
        .unwrap();
        let a = s.get(&Url::parse("http://127.0.0.1/a").unwrap()).unwrap();
        assert_eq!(a.outcome, Ok(200));
        assert_eq!(&a.body[..], br#"{"id": 2}"#);
        let b = s.get(&Url::parse("http://127.0.0.1/b").unwrap()).unwrap();
        assert_eq!(b.outcome, Err(Reason::Timeout));
    }

    #[test]
    fn bad_lines_name_file_and_line() {
        let cases = [
            (
                "{\"url\":\"http://h/a\",\"status\":200}\nnot json",
                2,
                "not a JSON object",
            ),
            (r#"{"status":200}"#, 1, "missing `url`"),
            (r#"{"url":"/a","status":200}"#, 1, "not an absolute"),
            (r#"{"url":"http://h/a"}"#, 1, "needs `status`"),
            (
                r#"{"url":"http://h/a","status":200,"error":"timeout"}"#,
                1,
                "both",
            ),
            (
                r#"{"url":"http://h/a","status":200,"error":"body_too_large"}"#,
                0,
                "",
            ),
            (
                r#"{"url":"http://h/a","status":99}"#,
                1,
                "not an HTTP status",
            ),
            (
                r#"{"url":"http://h/a","error":"boom"}"#,
                1,
                "unknown `error`",
            ),
            (
                r#"{"url":"http://h/a","status":200,"headers":{"x":1}}"#,
                1,
                "header `x`",
            ),
            (
                r#"{"url":"http://h/a","status":404,"earlier":[{"status":503},{"status":200}]}"#,
                1,
                "`earlier[1]`: status 200 did not fail",
            ),
        ];
        for (text, line, frag) in cases {
            if line == 0 {
                assert!(load(text).is_ok(), "{text} is valid");
                continue;
            }
            let e = load(text).unwrap_err().to_string();
            assert!(e.starts_with(&format!("t.ndjson:{line}: ")), "{e}");
            assert!(e.contains(frag), "{e} should contain {frag}");
        }
    }

    #[test]
    fn a_cut_last_line_is_left_out_and_noted() {
        let first = r#"{"url":"http://h/a","status":200,"body":{"id":1}}"#;
        let cut = r#"{"url":"http://h/b","status":200,"body":{"id":"#;
        let s = load(&format!("{first}\n{cut}")).unwrap();
        assert_eq!(s.entries.len(), 1);
        assert_eq!(
            s.cut,
            vec![CutLine {
                path: PathBuf::from("t.ndjson"),
                line: 2,
                offset: first.len() + 1,
            }]
        );
        // A complete last line needs no newline.
        let s = load(&format!("{first}\n{first}")).unwrap();
        assert!(s.cut.is_empty());
        // Cut at any byte, even inside a multi-byte character.
        let line = r#"{"url":"http://h/\u00e9","status":200,"body":{"name":"Zoë"}}"#;
        for end in 1..line.len() {
            let mut data = format!("{first}\n").into_bytes();
            data.extend_from_slice(&line.as_bytes()[..end]);
            let mut snap = Snapshot::default();
            let r = snap.add_text(Path::new("t.ndjson"), Bytes::from(data));
            assert!(r.is_ok(), "cut at byte {end}: {r:?}");
            assert_eq!((snap.entries.len(), snap.cut.len()), (1, 1), "cut at {end}");
        }
    }

    #[test]
    fn a_bad_line_that_is_not_a_cut_last_line_is_an_error() {
        let first = r#"{"url":"http://h/a","status":200}"#;
        let cut = r#"{"url":"http://h/b","sta"#;
        for (text, line) in [
            // Cut, but a newline follows: not what an interrupted writer leaves.
            (format!("{first}\n{cut}\n"), 2),
            // Cut, but not last.
            (format!("{cut}\n{first}"), 1),
            // Last and unended, but not cut short: wrong, not unfinished.
            (format!("{first}\n{{\"url\" 1}}"), 2),
            (format!("{first}\nnull"), 2),
        ] {
            let e = load(&text).unwrap_err().to_string();
            assert!(
                e.starts_with(&format!("t.ndjson:{line}: ")),
                "{text:?}: {e}"
            );
        }
    }
}
