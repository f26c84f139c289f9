//! The snapshot as an on-disk index, for large audits: each line's URL (as a 128-bit hash),
//! status, headers and where its body lies in the file; bodies are read from the file when
//! the crawl asks for them. Memory stays ~60 bytes per URL however large the bodies are, and
//! both cores parse the file.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use rustc_hash::FxBuildHasher;
use url::Url;

use super::snapshot::{is_cut, parse_line, snapshot_files, SnapshotEntry, NOT_JSON_BODY};
use super::{Attempt, Recorded, Source};
use crate::crawl::Reason;
use crate::error::SnapshotError;

type Headers = Arc<[(String, String)]>;

#[derive(Debug, Clone, Copy)]
struct Entry {
    outcome: Result<u16, Reason>,
    error_status: Option<u16>,
    /// Index into the shared header sets.
    headers: u32,
    file: u16,
    /// The body was recorded as not JSON.
    not_json: bool,
    len: u32,
    offset: u64,
}

/// A snapshot indexed on disk.
#[derive(Debug)]
pub struct SnapshotIndex {
    files: Vec<File>,
    paths: Vec<PathBuf>,
    map: HashMap<u128, Entry, FxBuildHasher>,
    header_sets: Vec<Headers>,
}

fn key(url: &str) -> u128 {
    xxhash_rust::xxh3::xxh3_128(url.as_bytes())
}

/// What one thread read from one byte range of a file.
struct Chunk {
    entries: Vec<(u128, Entry)>,
    header_sets: Vec<Vec<(String, String)>>,
    lines: usize,
    /// The first bad line: (line number within the chunk, error).
    error: Option<(usize, SnapshotError)>,
}

impl SnapshotIndex {
    /// Indexes one NDJSON file or a folder of them (later lines win, as in
    /// [`Snapshot::load`](super::Snapshot::load)); errors name the file and line.
    pub fn open(path: &Path) -> Result<SnapshotIndex, SnapshotError> {
        let paths = snapshot_files(path)?;
        let mut index = SnapshotIndex {
            files: Vec::new(),
            paths: paths.clone(),
            map: HashMap::with_hasher(FxBuildHasher),
            header_sets: Vec::new(),
        };
        let mut header_ids: HashMap<Vec<(String, String)>, u32> = HashMap::new();
        for (fi, file_path) in paths.iter().enumerate() {
            let io = |source| SnapshotError::Io {
                path: file_path.clone(),
                source,
            };
            let file = File::open(file_path).map_err(io)?;
            let size = file.metadata().map_err(io)?.len();
            let bounds = split_at_lines(&file, size).map_err(io)?;
            let chunks: Vec<std::io::Result<Chunk>> = std::thread::scope(|scope| {
                let handles: Vec<_> = bounds
                    .windows(2)
                    .map(|w| {
                        let (start, end) = (w[0], w[1]);
                        let file_path = file_path.as_path();
                        scope.spawn(move || read_chunk(file_path, fi as u16, start, end))
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().expect("index thread panicked"))
                    .collect()
            });
            let mut lines_before = 0;
            for chunk in chunks {
                let chunk = chunk.map_err(io)?;
                if let Some((line, e)) = chunk.error {
                    return Err(match e {
                        SnapshotError::Line { path, message, .. } => SnapshotError::Line {
                            path,
                            line: lines_before + line,
                            message,
                        },
                        other => other,
                    });
                }
                let remap: Vec<u32> = chunk
                    .header_sets
                    .into_iter()
                    .map(|set| {
                        let next = index.header_sets.len() as u32;
                        *header_ids.entry(set.clone()).or_insert_with(|| {
                            index.header_sets.push(set.into());
                            next
                        })
                    })
                    .collect();
                for (k, mut e) in chunk.entries {
                    e.headers = remap[e.headers as usize];
                    index.map.insert(k, e);
                }
                lines_before += chunk.lines;
            }
            index.files.push(file);
        }
        Ok(index)
    }

    /// Number of distinct URLs.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The recorded exchange for a canonical URL, its body read from the file.
    pub fn get(&self, url: &str) -> Option<SnapshotEntry> {
        let e = self.map.get(&key(url))?;
        let body = match self.read_body(e) {
            Ok(b) => b,
            Err(err) => {
                tracing::error!(
                    file = %self.paths[e.file as usize].display(),
                    "cannot read a recorded body: {err}"
                );
                Bytes::new()
            }
        };
        Some(SnapshotEntry {
            outcome: e.outcome,
            error_status: e.error_status,
            headers: self.header_sets[e.headers as usize].clone(),
            body,
        })
    }

    fn read_body(&self, e: &Entry) -> std::io::Result<Bytes> {
        if e.not_json {
            return Ok(Bytes::from_static(NOT_JSON_BODY));
        }
        if e.len == 0 {
            return Ok(Bytes::new());
        }
        let mut buf = vec![0u8; e.len as usize];
        read_exact_at(&self.files[e.file as usize], &mut buf, e.offset)?;
        Ok(Bytes::from(buf))
    }
}

#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(not(unix))]
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    let mut f = file.try_clone()?;
    f.seek(SeekFrom::Start(offset))?;
    f.read_exact(buf)
}

/// Byte offsets splitting a file into one range per core, each starting at a line start.
fn split_at_lines(file: &File, size: u64) -> std::io::Result<Vec<u64>> {
    let parts = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    let parts = if size < 4 << 20 { 1 } else { parts.min(8) };
    let mut bounds = vec![0u64];
    let mut f = file.try_clone()?;
    for i in 1..parts {
        let guess = size * i / parts;
        if guess <= *bounds.last().expect("non-empty") {
            continue;
        }
        f.seek(SeekFrom::Start(guess))?;
        let mut reader = BufReader::new(&mut f);
        let mut skipped = Vec::new();
        let n = reader.read_until(b'\n', &mut skipped)? as u64;
        let at = guess + n;
        if at < size {
            bounds.push(at);
        }
    }
    bounds.push(size);
    Ok(bounds)
}

fn read_chunk(path: &Path, file: u16, start: u64, end: u64) -> std::io::Result<Chunk> {
    let mut f = File::open(path)?;
    f.seek(SeekFrom::Start(start))?;
    let mut reader = BufReader::with_capacity(1 << 20, f.take(end - start));
    let mut chunk = Chunk {
        entries: Vec::new(),
        header_sets: Vec::new(),
        lines: 0,
        error: None,
    };
    let mut header_ids: HashMap<Vec<(String, String)>, u32> = HashMap::new();
    let mut line = Vec::with_capacity(4096);
    let mut offset = start;
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line)?;
        if n == 0 {
            break;
        }
        chunk.lines += 1;
        let line_start = offset;
        offset += n as u64;
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        if text.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if !line.ends_with(b"\n") && is_cut(text) {
            tracing::warn!(
                "{}:{}: the last line is cut short (an interrupted recording?): ignored; \
                 `crawl --resume` finishes a recording",
                path.display(),
                chunk.lines
            );
            break;
        }
        let parsed = match parse_line(path, chunk.lines, text) {
            Ok(p) => p,
            Err(e) => {
                chunk.error = Some((chunk.lines, e));
                return Ok(chunk);
            }
        };
        let next = chunk.header_sets.len() as u32;
        let headers = *header_ids.entry(parsed.headers).or_insert_with_key(|h| {
            chunk.header_sets.push(h.clone());
            next
        });
        let not_json = parsed.body_not_json && parsed.body.is_none();
        let (body_offset, len) = match parsed.body {
            Some(r) => (line_start + r.start as u64, (r.end - r.start) as u32),
            None => (0, 0),
        };
        chunk.entries.push((
            key(&parsed.url),
            Entry {
                outcome: parsed.outcome,
                error_status: parsed.error_status,
                headers,
                file,
                not_json,
                len,
                offset: body_offset,
            },
        ));
    }
    Ok(chunk)
}

impl Recorded for SnapshotIndex {
    fn recorded(&self, url: &str) -> Option<SnapshotEntry> {
        self.get(url)
    }
}

/// A snapshot index replayed as a source (see [`SnapshotSource`](super::SnapshotSource)).
#[derive(Debug, Clone)]
pub struct IndexSource {
    index: Arc<SnapshotIndex>,
}

impl IndexSource {
    pub fn new(index: Arc<SnapshotIndex>) -> Self {
        IndexSource { index }
    }
}

impl Source for IndexSource {
    async fn fetch(&self, url: &Url) -> Attempt {
        super::snapshot::replay(self.index.get(url.as_str()).as_ref())
    }

    fn sleeps(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Snapshot;
    use std::io::Write;

    #[test]
    fn the_index_answers_what_the_loaded_snapshot_answers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.ndjson");
        let mut f = File::create(&path).unwrap();
        for i in 0..30_000 {
            writeln!(
                f,
                r#"{{"url":"http://127.0.0.1:8081/c/{i}","status":200,"headers":{{"content-type":"application/json"}},"body":{{"id":{i},"s":"{}"}}}}"#,
                "x".repeat(i % 300)
            )
            .unwrap();
        }
        writeln!(
            f,
            r#"{{"url":"HTTP://127.0.0.1:8081/c/7#x","error":"timeout"}}"#
        )
        .unwrap();
        writeln!(f).unwrap();
        writeln!(
            f,
            r#"{{"url":"http://127.0.0.1:8081/z","status":302,"error":"redirect_out_of_scope"}}"#
        )
        .unwrap();
        drop(f);
        let index = SnapshotIndex::open(&path).unwrap();
        let snap = Snapshot::load(&path).unwrap();
        assert_eq!(index.len(), snap.entries.len());
        for (url, want) in &snap.entries {
            let got = index.get(url).unwrap();
            assert_eq!(got.outcome, want.outcome, "{url}");
            assert_eq!(got.error_status, want.error_status, "{url}");
            assert_eq!(got.headers, want.headers, "{url}");
            assert_eq!(got.body, want.body, "{url}");
        }
        assert_eq!(
            index.get("http://127.0.0.1:8081/c/7").unwrap().outcome,
            Err(Reason::Timeout)
        );
        assert!(index.get("http://127.0.0.1:8081/nope").is_none());
    }

    #[test]
    fn a_bad_line_names_its_absolute_line_number() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.ndjson");
        let mut f = File::create(&path).unwrap();
        for i in 0..60_000 {
            writeln!(
                f,
                r#"{{"url":"http://h/{i}","status":200,"body":{{"pad":"{}"}}}}"#,
                "y".repeat(80)
            )
            .unwrap();
        }
        writeln!(f, "{{not json").unwrap();
        drop(f);
        let e = SnapshotIndex::open(&path).unwrap_err().to_string();
        assert!(e.contains("s.ndjson:60001:"), "{e}");
    }
}
