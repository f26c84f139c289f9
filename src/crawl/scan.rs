//! A snapshot read ahead of its replay: every line parsed and its links extracted once, on
//! every core, into interned URLs and compact link lists. The replay then walks from the
//! seeds over integers alone, and bodies stay on disk (read back only for the explain stage).

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::engine::Stop;
use crate::extract;
use crate::http::{classify_status, Verdict};
use crate::intern::{Interner, Pending};
use crate::rules::{KindId, LinkId, Rules, ServiceId};
use crate::source::snapshot::{
    header_pairs, is_cut, parse_body, parse_line, parse_line_with_body, snapshot_files, ParsedLine,
    SnapshotEntry, NOT_JSON_BODY,
};
use crate::source::SnapshotError;
use crate::source::{Headers, History, Recorded};
use crate::vocab::Reason;

/// No record / no node.
pub(super) const NONE: u32 = u32::MAX;

/// What the rules say about a URL.
#[derive(Debug, Clone, Copy)]
pub(super) struct Meta {
    pub service: Option<ServiceId>,
    pub kind: Option<KindId>,
}

/// One reference found in a recorded 2xx body (ids into the scan's interners).
#[derive(Debug, Clone, Copy)]
pub(super) struct Link {
    pub source: u32,
    pub pointer: u32,
    pub target: u32,
    pub relation: LinkId,
}

/// The recorded exchange of one URL (the last line that names it).
#[derive(Debug, Clone)]
pub(super) struct Rec {
    pub outcome: Result<u16, Reason>,
    pub error_status: Option<u16>,
    headers: u32,
    file: u16,
    /// The body was recorded as not JSON.
    not_json: bool,
    /// A 2xx whose body is not JSON: the resource exists, its links are unknown.
    pub unreadable: bool,
    /// Its [`History`] in [`ScannedSnapshot::histories`], or [`NONE`] (most lines).
    history: u32,
    /// Where the line is in its file (its body is read back from it on demand).
    len: u32,
    offset: u64,
    /// In-scope references, then out-of-scope ones, in [`ScannedSnapshot::links`].
    links: Range<u32>,
    out_of_scope: Range<u32>,
}

impl Rec {
    /// The status of a plain 2xx answer (no redirect to follow, nothing to retry, no earlier
    /// attempts to replay).
    pub fn ok_status(&self) -> Option<u16> {
        plain_ok(self.outcome).filter(|_| self.history == NONE)
    }
}

/// The status of a recorded outcome that is a plain 2xx answer.
fn plain_ok(outcome: Result<u16, Reason>) -> Option<u16> {
    outcome.ok().filter(|&s| classify_status(s) == Verdict::Ok)
}

/// A snapshot, scanned: every URL interned once, each line's outcome and extracted links.
#[derive(Debug, Default)]
pub struct ScannedSnapshot {
    files: Vec<File>,
    paths: Vec<PathBuf>,
    /// Every URL: the recorded ones, every link target and every seed.
    urls: Arc<Interner>,
    meta: Vec<Meta>,
    pointers: Interner,
    /// Per URL id: its record in `recs`, or [`NONE`].
    rec_of: Vec<u32>,
    recs: Vec<Rec>,
    links: Vec<Link>,
    header_sets: Vec<Headers>,
    /// The histories of the lines that have one.
    histories: Vec<Arc<History>>,
}

/// What one thread read from one byte range of a file. Its buffers go back to the readers
/// once merged ([`Chunk::reset`]): fresh ones for every range were a third of the scan's page
/// faults.
#[derive(Default)]
struct Chunk {
    /// Every URL of the chunk as it came (recorded, source, target): interned when merged.
    urls: Pending,
    pointers: Interner,
    /// (URL index in `urls`, record), in line order.
    recs: Vec<(u32, Rec)>,
    links: Vec<Link>,
    header_sets: Vec<Vec<(String, String)>>,
    /// The histories of the chunk's lines that have one (`Rec::history` indexes it).
    histories: Vec<Arc<History>>,
    lines: usize,
    /// The first bad line: (line number within the chunk, error).
    error: Option<(usize, SnapshotError)>,
    stopped: bool,
}

impl Chunk {
    /// Empties the chunk, keeping its buffers' room.
    fn reset(&mut self) {
        self.urls.clear();
        self.pointers = Interner::new();
        self.recs.clear();
        self.links.clear();
        self.header_sets.clear();
        self.histories.clear();
        self.lines = 0;
        self.error = None;
        self.stopped = false;
    }
}

impl ScannedSnapshot {
    /// Scans one NDJSON file or a folder of them (later lines win, as in
    /// [`Snapshot::load`](crate::source::Snapshot::load)); errors name the file and line.
    /// `None` when `stop` was set during the scan.
    pub fn open(
        path: &Path,
        rules: &Rules,
        stop: &Stop,
    ) -> Result<Option<ScannedSnapshot>, SnapshotError> {
        let paths = snapshot_files(path)?;
        let mut scan = ScannedSnapshot {
            files: Vec::new(),
            paths: paths.clone(),
            urls: Arc::new(Interner::new()),
            meta: Vec::new(),
            pointers: Interner::new(),
            rec_of: Vec::new(),
            recs: Vec::new(),
            links: Vec::new(),
            header_sets: Vec::new(),
            histories: Vec::new(),
        };
        let mut header_ids: FxHashMap<Vec<(String, String)>, u32> = FxHashMap::default();
        for (fi, file_path) in paths.iter().enumerate() {
            let Some(file) = scan.scan_file(fi, file_path, rules, stop, &mut header_ids)? else {
                return Ok(None);
            };
            scan.files.push(file);
        }
        scan.add_seeds(rules);
        scan.shrink_to_fit();
        Ok(Some(scan))
    }

    /// Scans one file: its ranges read on every core, merged here in file order. The file, to
    /// read bodies back from; `None` when `stop` was set.
    fn scan_file(
        &mut self,
        fi: usize,
        file_path: &PathBuf,
        rules: &Rules,
        stop: &Stop,
        header_ids: &mut FxHashMap<Vec<(String, String)>, u32>,
    ) -> Result<Option<File>, SnapshotError> {
        let io = |source| SnapshotError::Io {
            path: file_path.clone(),
            source,
        };
        let file = File::open(file_path).map_err(io)?;
        let size = file.metadata().map_err(io)?.len();
        // Many more ranges than cores, taken by whichever thread is free: ranges of
        // orders (many links) cost more than ranges of customers, and the last ranges
        // finish close together (32 per core: the 1M scan took 0.96-0.98 s against
        // 1.01-1.06 s with 16). The calling thread merges them in file order as they come,
        // while the others read on.
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let parts = if size < 1 << 20 {
            1
        } else {
            (cores * 32).min(256)
        };
        let bounds = split_at_lines(&file, size, parts).map_err(io)?;
        let next = std::sync::atomic::AtomicUsize::new(0);
        let abort = std::sync::atomic::AtomicBool::new(false);
        // Merged chunks, emptied, for the readers to fill again.
        let pool = std::sync::Mutex::new(Vec::<Chunk>::new());
        let ranges = Ranges {
            next: &next,
            abort: &abort,
            bounds: &bounds,
            pool: &pool,
            path: file_path.as_path(),
            file: fi as u16,
            rules,
            stop,
        };
        let (tx, rx) = std::sync::mpsc::channel::<(usize, std::io::Result<Chunk>)>();
        let merged: Result<bool, SnapshotError> = std::thread::scope(|scope| {
            for _ in 0..cores.min(ranges.count()) {
                let tx = tx.clone();
                scope.spawn(move || ranges.read(&tx));
            }
            drop(tx);
            self.merge_in_order(rx, &ranges, cores, header_ids, &io)
        });
        Ok(merged?.then_some(file))
    }

    /// Merges the chunks in file order as the readers send them; `false` when `stop` was set.
    /// The first error stops every reader.
    fn merge_in_order(
        &mut self,
        rx: std::sync::mpsc::Receiver<(usize, std::io::Result<Chunk>)>,
        ranges: &Ranges<'_>,
        cores: usize,
        header_ids: &mut FxHashMap<Vec<(String, String)>, u32>,
        io: &dyn Fn(std::io::Error) -> SnapshotError,
    ) -> Result<bool, SnapshotError> {
        let abort = ranges.abort;
        let stop_all = || abort.store(true, std::sync::atomic::Ordering::Relaxed);
        let mut waiting: std::collections::BTreeMap<usize, std::io::Result<Chunk>> =
            Default::default();
        let mut lines_before = 0;
        let mut want = 0;
        let mut merge_time = std::time::Duration::ZERO;
        for (i, chunk) in rx {
            waiting.insert(i, chunk);
            while let Some(chunk) = waiting.remove(&want) {
                want += 1;
                let mut chunk = match chunk {
                    Ok(c) => c,
                    Err(e) => {
                        stop_all();
                        return Err(io(e));
                    }
                };
                if let Some((line, e)) = chunk.error {
                    stop_all();
                    return Err(after_lines(e, lines_before + line));
                }
                if chunk.stopped {
                    stop_all();
                    return Ok(false);
                }
                lines_before += chunk.lines;
                let t = std::time::Instant::now();
                self.merge(&mut chunk, ranges.rules, header_ids);
                let mut pool = ranges.pool.lock().expect("not poisoned");
                if pool.len() < cores {
                    pool.push(chunk);
                }
                merge_time += t.elapsed();
                if want % 8 == 0 {
                    release_free_memory();
                }
            }
        }
        tracing::debug!("merging the ranges took {merge_time:?} (on this thread)");
        Ok(true)
    }

    /// The seeds too, so that the replay's graph never adds a URL to the shared interner.
    fn add_seeds(&mut self, rules: &Rules) {
        let urls = Arc::get_mut(&mut self.urls).expect("not shared yet");
        for service in &rules.services {
            for seed in &service.seeds {
                if urls.intern(seed.as_str()).1 {
                    self.meta.push(Meta {
                        service: rules.service_of(seed),
                        kind: rules.kind_id_of(seed),
                    });
                }
            }
        }
        self.rec_of.resize(urls.len(), NONE);
    }

    /// Vectors grown by doubling can hold twice what they need: a third of the scan's
    /// memory on the 1M snapshot.
    fn shrink_to_fit(&mut self) {
        let urls = Arc::get_mut(&mut self.urls).expect("not shared yet");
        urls.shrink_to_fit();
        self.links.shrink_to_fit();
        self.recs.shrink_to_fit();
        self.meta.shrink_to_fit();
        self.rec_of.shrink_to_fit();
        release_free_memory();
        tracing::debug!(
            urls = self.urls.len(),
            url_bytes = self.urls.bytes(),
            recs = self.recs.capacity() * std::mem::size_of::<Rec>(),
            links = self.links.capacity() * std::mem::size_of::<Link>(),
            meta = self.meta.capacity() * std::mem::size_of::<Meta>(),
            "scan sizes"
        );
    }

    /// Adds one chunk's URLs, pointers, records and links (its records win over earlier ones).
    fn merge(
        &mut self,
        chunk: &mut Chunk,
        rules: &Rules,
        header_ids: &mut FxHashMap<Vec<(String, String)>, u32>,
    ) {
        let Chunk {
            urls,
            pointers,
            recs,
            links,
            header_sets,
            histories,
            ..
        } = chunk;
        let header_remap: Vec<u32> = header_sets
            .drain(..)
            .map(|set| {
                let next = self.header_sets.len() as u32;
                *header_ids.entry(set).or_insert_with_key(|set| {
                    self.header_sets.push(set.clone().into());
                    next
                })
            })
            .collect();
        let all = Arc::get_mut(&mut self.urls).expect("not shared while scanning");
        // What the rules say about a URL, worked out once per URL of the whole snapshot (a
        // URL is new to many chunks).
        let meta = &mut self.meta;
        let url_remap = all.intern_pending(urls, |_, url| {
            let (service, kind) = rules.service_and_kind_of_str(url);
            meta.push(Meta { service, kind });
        });
        let pointer_remap: Vec<u32> = (0..pointers.len() as u32)
            .map(|i| self.pointers.intern(pointers.resolve(i)).0)
            .collect();
        self.rec_of.resize(self.urls.len(), NONE);
        let base = self.links.len() as u32;
        self.links.extend(links.drain(..).map(|l| Link {
            source: url_remap[l.source as usize],
            pointer: pointer_remap[l.pointer as usize],
            target: url_remap[l.target as usize],
            relation: l.relation,
        }));
        let shift = |r: &Range<u32>| r.start + base..r.end + base;
        for (url, mut rec) in recs.drain(..) {
            rec.headers = header_remap[rec.headers as usize];
            rec.links = shift(&rec.links);
            rec.out_of_scope = shift(&rec.out_of_scope);
            if rec.history != NONE {
                self.histories.push(histories[rec.history as usize].clone());
                rec.history = self.histories.len() as u32 - 1;
            }
            let url = url_remap[url as usize] as usize;
            if self.rec_of[url] == NONE {
                self.rec_of[url] = self.recs.len() as u32;
                self.recs.push(rec);
            } else {
                // A later line for the same URL wins (its earlier links stay unused).
                self.recs[self.rec_of[url] as usize] = rec;
            }
        }
    }

    /// Number of distinct URLs recorded.
    pub fn len(&self) -> usize {
        self.recs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.recs.is_empty()
    }

    /// The id of a canonical URL seen in the snapshot (recorded or linked to).
    pub(super) fn id(&self, url: &str) -> Option<u32> {
        self.urls.get(url)
    }

    /// Every URL of the snapshot, shared.
    pub(super) fn urls(&self) -> Arc<Interner> {
        self.urls.clone()
    }

    pub(super) fn meta(&self, id: u32) -> Meta {
        self.meta[id as usize]
    }

    pub(super) fn pointer(&self, id: u32) -> &str {
        self.pointers.resolve(id)
    }

    pub(super) fn pointer_count(&self) -> usize {
        self.pointers.len()
    }

    /// The record of a URL id.
    pub(super) fn rec(&self, id: u32) -> Option<&Rec> {
        match self.rec_of.get(id as usize) {
            Some(&r) if r != NONE => Some(&self.recs[r as usize]),
            _ => None,
        }
    }

    /// In-scope and out-of-scope references over all records (what a replay can add at most).
    pub(super) fn link_counts(&self) -> (usize, usize) {
        self.recs.iter().fold((0, 0), |(a, b), r| {
            (a + r.links.len(), b + r.out_of_scope.len())
        })
    }

    /// Frees the link lists (once a replay has put them in its graph): `ScannedSnapshot::links_of`
    /// gives nothing afterwards.
    pub fn drop_links(&mut self) {
        self.links = Vec::new();
        for r in &mut self.recs {
            r.links = 0..0;
            r.out_of_scope = 0..0;
        }
    }

    /// A record's in-scope and out-of-scope references.
    pub(super) fn links_of(&self, rec: &Rec) -> (&[Link], &[Link]) {
        let at = |r: &Range<u32>| &self.links[r.start as usize..r.end as usize];
        (at(&rec.links), at(&rec.out_of_scope))
    }

    pub(super) fn headers(&self, rec: &Rec) -> Headers {
        self.header_sets[rec.headers as usize].clone()
    }

    /// A record's earlier attempts and recorded detail, if it has any.
    pub(super) fn history(&self, rec: &Rec) -> Option<Arc<History>> {
        (rec.history != NONE).then(|| self.histories[rec.history as usize].clone())
    }

    fn read_body(&self, rec: &Rec) -> std::io::Result<bytes::Bytes> {
        if rec.not_json {
            return Ok(bytes::Bytes::from_static(NOT_JSON_BODY));
        }
        let mut line = vec![0u8; rec.len as usize];
        let path = &self.paths[rec.file as usize];
        read_exact_at(&self.files[rec.file as usize], &mut line, rec.offset)?;
        // The line was read and checked by the scan; it reads the same again unless the file
        // changed meanwhile.
        let parsed = parse_line(path, 0, &line).map_err(std::io::Error::other)?;
        Ok(match parsed.body {
            Some(r) => bytes::Bytes::from(line).slice(r),
            None => bytes::Bytes::new(),
        })
    }
}

impl Recorded for ScannedSnapshot {
    fn recorded(&self, url: &str) -> Option<SnapshotEntry> {
        let rec = self.rec(self.id(url)?)?;
        let body = match self.read_body(rec) {
            Ok(b) => b,
            Err(err) => {
                tracing::error!(
                    file = %self.paths[rec.file as usize].display(),
                    "cannot read a recorded body: {err}"
                );
                bytes::Bytes::new()
            }
        };
        Some(SnapshotEntry {
            outcome: rec.outcome,
            error_status: rec.error_status,
            headers: self.headers(rec),
            body,
            history: self.history(rec),
        })
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

/// Hands memory freed by the scan threads back to the system. glibc keeps each thread's freed
/// blocks in that thread's arena: the chunks' parsed bodies and local interners, 60 MB on the
/// 1M snapshot, would otherwise stay resident through the replay and the reports.
fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free memory of glibc's arenas; it is thread-safe.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Byte offsets splitting a file into `parts` ranges (fewer for a small file), each starting
/// at a line start.
fn split_at_lines(file: &File, size: u64, parts: usize) -> std::io::Result<Vec<u64>> {
    let parts = parts as u64;
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

/// Whether headers as written are `set` (lower-case names, in the same order).
fn same_headers(set: &[(String, String)], written: &crate::json::Map<'_>) -> bool {
    set.len() == written.len()
        && set
            .iter()
            .zip(written.iter())
            .all(|((name, value), (k, v))| {
                name.eq_ignore_ascii_case(k) && v.as_str() == Some(value.as_str())
            })
}

/// The lines of a byte range of a file, read in large blocks into one buffer and handed out
/// in place (no copy per line).
struct Lines<'b> {
    file: File,
    buf: &'b mut Vec<u8>,
    /// `buf[done..filled]` is read and not handed out yet.
    done: usize,
    filled: usize,
    /// Bytes of the range not read yet.
    left: u64,
    /// The range.
    start: u64,
    end: u64,
}

impl<'b> Lines<'b> {
    const BLOCK: usize = 4 << 20;

    fn new(mut file: File, start: u64, end: u64, buf: &'b mut Vec<u8>) -> std::io::Result<Self> {
        file.seek(SeekFrom::Start(start))?;
        if buf.len() < Self::BLOCK {
            buf.resize(Self::BLOCK, 0);
        }
        Ok(Lines {
            file,
            buf,
            done: 0,
            filled: 0,
            left: end - start,
            start,
            end,
        })
    }

    /// The next line with its `\n` (the last one may have none); `None` at the range's end.
    fn next_line(&mut self) -> std::io::Result<Option<&[u8]>> {
        loop {
            if let Some(i) = memchr::memchr(b'\n', &self.buf[self.done..self.filled]) {
                let line = self.done..self.done + i + 1;
                self.done = line.end;
                return Ok(Some(&self.buf[line]));
            }
            if self.left == 0 {
                // A last line without its newline.
                let line = self.done..self.filled;
                self.done = self.filled;
                return Ok((!line.is_empty()).then(|| &self.buf[line]));
            }
            // Keep the partial line, and make room for a line longer than the buffer.
            self.buf.copy_within(self.done..self.filled, 0);
            self.filled -= self.done;
            self.done = 0;
            if self.filled == self.buf.len() {
                self.buf.resize(self.buf.len() * 2, 0);
            }
            let room = (self.buf.len() - self.filled).min(self.left as usize);
            let n = self
                .file
                .read(&mut self.buf[self.filled..self.filled + room])?;
            if n == 0 {
                // The file is shorter than it was when split: what is there is all there is.
                self.left = 0;
            }
            self.filled += n;
            self.left -= n as u64;
        }
    }
}

/// Reads a range's lines into `chunk` (emptied first; its buffers are reused).
fn read_chunk(
    path: &Path,
    file: u16,
    mut lines: Lines<'_>,
    rules: &Rules,
    stop: &Stop,
    mut chunk: Chunk,
) -> std::io::Result<Chunk> {
    let (start, end) = (lines.start, lines.end);
    chunk.reset();
    let mut r = ChunkReader {
        urls: std::mem::take(&mut chunk.urls),
        pointers: std::mem::take(&mut chunk.pointers),
        header_ids: FxHashMap::default(),
        scratch: extract::Scratch::default(),
        out_of_scope: Vec::new(),
        last_headers: None,
    };
    let mut offset = start;
    while let Some(line) = lines.next_line()? {
        let n = line.len();
        chunk.lines += 1;
        if chunk.lines == 256 {
            r.reserve_ahead(&mut chunk, offset - start, end - offset);
        }
        if chunk.lines % 4096 == 0 && stop.is_set() {
            chunk.stopped = true;
            break;
        }
        let line_start = offset;
        offset += n as u64;
        let text = line.strip_suffix(b"\n").unwrap_or(line);
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
        let read = match read_line(path, chunk.lines, text) {
            Ok(read) => read,
            Err(e) => {
                chunk.error = Some((chunk.lines, e));
                break;
            }
        };
        r.record(
            &mut chunk,
            rules,
            read,
            (file, line_start, text.len() as u32),
        );
    }
    chunk.urls = r.urls;
    chunk.pointers = r.pointers;
    Ok(chunk)
}

/// One line: its record, its body and its headers as written. One pass reads the line and its
/// body; a line it cannot read goes through the two-pass reading, which tells the error (or
/// finds a body that is no JSON value).
#[inline]
fn read_line<'l>(
    path: &Path,
    line_no: usize,
    text: &'l [u8],
) -> Result<ReadLine<'l>, SnapshotError> {
    match parse_line_with_body(path, line_no, text) {
        Some(one) => Ok(ReadLine {
            parsed: one.line,
            body: one.body,
            headers: one.headers,
        }),
        None => {
            let p = parse_line(path, line_no, text)?;
            let body = p.body.clone().and_then(|r| parse_body(&text[r]));
            Ok(ReadLine {
                parsed: p,
                body,
                headers: None,
            })
        }
    }
}

/// One snapshot line, read.
struct ReadLine<'l> {
    parsed: ParsedLine,
    /// The body, when it is JSON.
    body: Option<crate::json::Value<'l>>,
    /// The headers as written, when the one-pass reading read the line.
    headers: Option<crate::json::Map<'l>>,
}

/// The working state of one range's reading, beside the [`Chunk`] it fills.
struct ChunkReader {
    urls: Pending,
    pointers: Interner,
    /// The chunk's header sets, by value: their ids in `Chunk::header_sets`.
    header_ids: FxHashMap<Vec<(String, String)>, u32>,
    scratch: extract::Scratch,
    /// One response's out-of-scope links, appended after its in-scope ones.
    out_of_scope: Vec<Link>,
    /// The header set of the line before, when it was read as written.
    last_headers: Option<u32>,
}

impl ChunkReader {
    /// Adds one line's record to `chunk`, and the links of its body when it is a plain 2xx.
    /// `at`: the file, and the line's offset and length in it.
    #[inline]
    fn record(
        &mut self,
        chunk: &mut Chunk,
        rules: &Rules,
        read: ReadLine<'_>,
        at: (u16, u64, u32),
    ) {
        let (file, line_start, len) = at;
        let ReadLine {
            mut parsed,
            body,
            headers: written_headers,
        } = read;
        let headers = self.header_id(
            &mut chunk.header_sets,
            &mut parsed,
            written_headers.as_ref(),
        );
        // The two-pass reading found a body that is no JSON value.
        let unparsed = parsed.body.is_some() && body.is_none();
        let not_json = parsed.body_not_json && body.is_none() && !unparsed;
        // Canonical already (`parse_line` made it so): parsed only if a relative link needs it.
        let url = parsed.url.as_str();
        let id = self.urls.push(url);
        let history = match parsed.history.take() {
            Some(h) => {
                chunk.histories.push(Arc::new(h));
                chunk.histories.len() as u32 - 1
            }
            None => NONE,
        };
        let mut rec = Rec {
            outcome: parsed.outcome,
            error_status: parsed.error_status,
            headers,
            history,
            file,
            not_json,
            unreadable: false,
            len,
            offset: line_start,
            links: 0..0,
            out_of_scope: 0..0,
        };
        if plain_ok(parsed.outcome).is_some() {
            // What the crawl does with the answer (`engine.rs`): the same body bytes, the
            // same extraction against the same URL.
            rec.unreadable = not_json || unparsed;
            let header_set = &chunk.header_sets[headers as usize];
            let found = self.extract(
                rules,
                (url, id),
                header_set,
                body.as_ref(),
                &mut chunk.links,
            );
            (rec.links, rec.out_of_scope) = found;
        }
        chunk.recs.push((id, rec));
    }

    /// Sizes the URL list for the whole chunk from its first lines (`read` bytes of them,
    /// `left` to go), rather than grow it (and move it) twenty times. With a margin: an
    /// estimate just short would double the buffer at the very end, and room never written
    /// costs no memory.
    fn reserve_ahead(&mut self, chunk: &mut Chunk, read: u64, left: u64) {
        let read = read.max(1) as f64;
        let left = left as f64 / read;
        let more = |n: usize| (n as f64 * left * 1.25) as usize + 64;
        self.urls
            .reserve(more(self.urls.len()), more(self.urls.bytes()));
        chunk.links.reserve(more(chunk.links.len()));
        chunk.recs.reserve(more(chunk.recs.len()));
    }

    /// The id of a line's header set in `header_sets`. Lines mostly repeat the headers of the
    /// line before: compared as written, they need no strings made.
    #[inline]
    fn header_id(
        &mut self,
        header_sets: &mut Vec<Vec<(String, String)>>,
        parsed: &mut ParsedLine,
        written_headers: Option<&crate::json::Map<'_>>,
    ) -> u32 {
        match (self.last_headers, written_headers) {
            (Some(id), Some(h)) if same_headers(&header_sets[id as usize], h) => id,
            _ => {
                if let Some(h) = written_headers {
                    parsed.headers = header_pairs(h);
                }
                let next = header_sets.len() as u32;
                let id = *self
                    .header_ids
                    .entry(std::mem::take(&mut parsed.headers))
                    .or_insert_with_key(|h| {
                        header_sets.push(h.clone());
                        next
                    });
                self.last_headers = written_headers.is_some().then_some(id);
                id
            }
        }
    }

    /// Extracts the links of a 2xx answer from `url` (listed as `id`) into `links`: its
    /// in-scope links, then its out-of-scope ones, as two ranges of `links`.
    #[inline]
    fn extract(
        &mut self,
        rules: &Rules,
        (url, id): (&str, u32),
        header_set: &[(String, String)],
        body: Option<&crate::json::Value<'_>>,
        links: &mut Vec<Link>,
    ) -> (Range<u32>, Range<u32>) {
        let from = links.len() as u32;
        let (urls, pointers, out_of_scope) =
            (&mut self.urls, &mut self.pointers, &mut self.out_of_scope);
        out_of_scope.clear();
        // A response's links mostly share their source: intern it once per run.
        let mut last: Option<(*const str, u32)> = None;
        extract::extract_with(rules, url, header_set, body, &mut self.scratch, |l| {
            let source = match last {
                Some((u, id)) if std::ptr::eq(u, l.source) => id,
                _ => {
                    // Mostly the fetched URL itself, listed already.
                    let id = if l.source == url {
                        id
                    } else {
                        urls.push(l.source)
                    };
                    last = Some((l.source, id));
                    id
                }
            };
            let link = Link {
                source,
                pointer: pointers.intern(l.pointer).0,
                target: urls.push(l.target),
                relation: l.relation.unwrap_or(crate::graph::NO_RELATION),
            };
            if l.in_scope {
                links.push(link);
            } else {
                out_of_scope.push(link);
            }
        });
        let mid = links.len() as u32;
        links.extend_from_slice(out_of_scope);
        (from..mid, mid..links.len() as u32)
    }
}

/// A file's ranges, shared by the threads that read them: the next one to take, the bounds,
/// and the emptied chunks to fill again.
#[derive(Clone, Copy)]
struct Ranges<'a> {
    next: &'a std::sync::atomic::AtomicUsize,
    /// Set on the first error (or stop): the readers take no more ranges.
    abort: &'a std::sync::atomic::AtomicBool,
    bounds: &'a [u64],
    pool: &'a std::sync::Mutex<Vec<Chunk>>,
    path: &'a Path,
    file: u16,
    rules: &'a Rules,
    stop: &'a Stop,
}

impl Ranges<'_> {
    fn count(&self) -> usize {
        self.bounds.len() - 1
    }

    /// One reader thread: takes ranges until none is left, sending each one's chunk (with its
    /// index) to the merging thread.
    fn read(&self, tx: &std::sync::mpsc::Sender<(usize, std::io::Result<Chunk>)>) {
        // One read buffer per thread, for all its ranges.
        let mut buf = Vec::new();
        loop {
            let i = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if i >= self.count() || self.abort.load(std::sync::atomic::Ordering::Relaxed) {
                break;
            }
            let (start, end) = (self.bounds[i], self.bounds[i + 1]);
            let chunk = File::open(self.path).and_then(|f| {
                let lines = Lines::new(f, start, end, &mut buf)?;
                let reuse = self.pool.lock().expect("not poisoned").pop();
                let chunk = reuse.unwrap_or_default();
                read_chunk(self.path, self.file, lines, self.rules, self.stop, chunk)
            });
            if tx.send((i, chunk)).is_err() {
                break;
            }
        }
    }
}

/// A chunk's bad line error, numbered in the whole file (`line`).
fn after_lines(e: SnapshotError, line: usize) -> SnapshotError {
    match e {
        SnapshotError::Line { path, message, .. } => SnapshotError::Line {
            path,
            line,
            message,
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Snapshot;
    use std::io::Write;

    fn rules() -> Rules {
        crate::rules::parse(
            Path::new("t.toml"),
            "version = 1\n[services.c]\nbase_url = \"http://127.0.0.1:8081/\"\nseeds = [\"/c\"]\n",
            &|_| None,
        )
        .unwrap()
    }

    #[test]
    fn a_record_stays_small() {
        // A million records: the history index fits in what was padding.
        assert_eq!(std::mem::size_of::<Rec>(), 48);
    }

    #[test]
    fn the_scan_records_what_the_loaded_snapshot_holds() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.ndjson");
        let mut f = File::create(&path).unwrap();
        for i in 0..30_000 {
            writeln!(
                f,
                r#"{{"url":"http://127.0.0.1:8081/c/{i}","status":200,"headers":{{"Content-Type":"application/json"}},"body":{{"id":{i},"s":"{}","up":"http://127.0.0.1:8081/c"}}}}"#,
                "x".repeat(i % 300)
            )
            .unwrap();
        }
        let lines = [
            r#"{"url":"HTTP://127.0.0.1:8081/c/7#x","error":"timeout"}"#,
            "",
            r#"{"url":"http://127.0.0.1:8081/z","status":302,"error":"redirect_out_of_scope"}"#,
            r#"{"url":"http://127.0.0.1:8081/html","status":200,"body_not_json":true}"#,
            r#"{"url":"http://127.0.0.1:8081/null","status":200,"body":null}"#,
            r#"{"url":"http://127.0.0.1:8081/surrogate","status":200,"body":{"a":"\ud800","b":"http://127.0.0.1:8081/c/1"}}"#,
            // Headers that differ from the line before, by a member, a value or only case.
            r#"{"url":"http://127.0.0.1:8081/h1","status":200,"headers":{"Content-Type":"application/json","X-A":"1"},"body":{}}"#,
            r#"{"url":"http://127.0.0.1:8081/h2","status":200,"headers":{"CONTENT-TYPE":"application/json"},"body":{}}"#,
            r#"{"url":"http://127.0.0.1:8081/h3","status":200,"headers":{"content-type":"text/plain"},"body":{}}"#,
            r#"{"url":"http://127.0.0.1:8081/h4","status":200,"headers":{"content-type":"text/plain"},"body":{}}"#,
            r#"{"url":"http://127.0.0.1:8081/h5","status":200,"headers":{},"body":{}}"#,
            r#"{"url":"http://127.0.0.1:8081/h6","status":200,"headers":{"Content-Type":"application/json"},"body":{}}"#,
        ];
        for l in lines {
            writeln!(f, "{l}").unwrap();
        }
        drop(f);
        let scan = ScannedSnapshot::open(&path, &rules(), &Stop::never())
            .unwrap()
            .unwrap();
        let snap = Snapshot::load(&path).unwrap();
        assert_eq!(scan.len(), snap.entries.len());
        for (url, want) in &snap.entries {
            let got = scan.recorded(url).unwrap();
            assert_eq!(got.outcome, want.outcome, "{url}");
            assert_eq!(got.error_status, want.error_status, "{url}");
            assert_eq!(got.headers, want.headers, "{url}");
            assert_eq!(got.body, want.body, "{url}");
        }
        let rec = |u: &str| scan.rec(scan.id(u).unwrap()).unwrap().clone();
        assert_eq!(
            rec("http://127.0.0.1:8081/c/7").outcome,
            Err(Reason::Timeout)
        );
        // Links read in one pass, and a body that is JSON text but no JSON value (a lone
        // surrogate) is there with unknown links, as in the crawl.
        let c5 = rec("http://127.0.0.1:8081/c/5");
        assert_eq!(scan.links_of(&c5).0.len(), 1);
        assert!(!c5.unreadable);
        for u in ["html", "surrogate"] {
            let r = rec(&format!("http://127.0.0.1:8081/{u}"));
            assert!(r.unreadable, "{u}");
            assert!(scan.links_of(&r).0.is_empty(), "{u}");
        }
        assert!(!rec("http://127.0.0.1:8081/null").unreadable);
        assert!(scan.recorded("http://127.0.0.1:8081/nope").is_none());
    }

    #[test]
    fn lines_longer_than_the_read_block_and_a_last_line_without_newline_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.ndjson");
        let big = "z".repeat(Lines::BLOCK + Lines::BLOCK / 2);
        let text = format!(
            "{}\n{}\n{}",
            r#"{"url":"http://127.0.0.1:8081/c/1","status":200,"body":{"up":"http://127.0.0.1:8081/c/2"}}"#,
            format_args!(
                r#"{{"url":"http://127.0.0.1:8081/c/2","status":200,"body":{{"pad":"{big}","c":"http://127.0.0.1:8081/c/3"}}}}"#
            ),
            r#"{"url":"http://127.0.0.1:8081/c/3","status":404}"#,
        );
        std::fs::write(&path, &text).unwrap();
        let mut buf = Vec::new();
        let mut lines =
            Lines::new(File::open(&path).unwrap(), 0, text.len() as u64, &mut buf).unwrap();
        let mut got = Vec::new();
        while let Some(l) = lines.next_line().unwrap() {
            got.push(l.to_vec());
        }
        let want: Vec<Vec<u8>> = text
            .split_inclusive('\n')
            .map(|l| l.as_bytes().to_vec())
            .collect();
        assert_eq!(got, want);
        let scan = ScannedSnapshot::open(&path, &rules(), &Stop::never())
            .unwrap()
            .unwrap();
        let rec = |u: &str| scan.rec(scan.id(u).unwrap()).unwrap().clone();
        assert_eq!(scan.links_of(&rec("http://127.0.0.1:8081/c/2")).0.len(), 1);
        assert_eq!(rec("http://127.0.0.1:8081/c/3").outcome, Ok(404));
        let body = format!(r#"{{"pad":"{big}","c":"http://127.0.0.1:8081/c/3"}}"#);
        assert_eq!(
            scan.recorded("http://127.0.0.1:8081/c/2").unwrap().body,
            body.as_bytes()
        );
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
        let e = ScannedSnapshot::open(&path, &rules(), &Stop::never())
            .unwrap_err()
            .to_string();
        assert!(e.contains("s.ndjson:60001:"), "{e}");
    }
}
