//! `bacaudit apply`: a report's compensations as an ordered plan — printed (dry run, table and
//! curl commands) or executed against the declared services, each finding re-checked right
//! before acting, every request journaled so an interrupted apply resumes where it stopped.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use url::Url;

use crate::error::Error;
use crate::http::{
    self, ClientOptions, Credentials, Failure, Method, Next, RetryPolicy, Retryable,
};
use crate::model::{Report, ReportError, ReportFinding};
use crate::plan::{schedule, Note, Operation};
use crate::rules::{self, Pointer, Rules};
use crate::vocab::{self, exit, FindingKind};

/// Options of `bacaudit apply`.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    pub report: PathBuf,
    pub rules: PathBuf,
    /// Perform the plan (otherwise print it).
    pub execute: bool,
    /// The journal (default: next to the report, `<report>.journal.ndjson`).
    pub journal: Option<PathBuf>,
    pub timeout: Duration,
    pub retry: RetryPolicy,
    /// Extra CA files and `--insecure` for every service (the rules' `tls` adds to them).
    pub tls: http::TlsOptions,
}

/// What `apply` produced.
#[derive(Debug, Clone)]
pub struct ApplyOutput {
    pub exit_code: i32,
    pub stdout: String,
}

/// One journal line: what was done about one operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JournalEntry {
    /// Stable key of the operation (method, URL, body).
    pub key: String,
    pub method: String,
    pub url: String,
    pub findings: Vec<String>,
    /// `done`, `skipped` (no longer needed) or `failed`.
    pub outcome: String,
    pub status: Option<u16>,
    pub detail: String,
}

/// The journal path for a report.
pub fn default_journal(report: &Path) -> PathBuf {
    let mut name = report.file_name().unwrap_or_default().to_os_string();
    name.push(".journal.ndjson");
    report.with_file_name(name)
}

fn op_key(op: &Operation) -> String {
    let mut h = Sha256::new();
    h.update(op.method.as_str().as_bytes());
    h.update([0x1f]);
    h.update(op.url.as_bytes());
    h.update([0x1f]);
    if let Some(b) = &op.body {
        h.update(b.to_string().as_bytes());
    }
    h.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Plans (and with `execute`, performs) the compensations of a report.
pub async fn apply(opts: &ApplyOptions) -> Result<ApplyOutput, Error> {
    let rules = Arc::new(rules::load(&opts.rules)?);
    let report = Report::read(&opts.report)?;
    let (ops, notes) = schedule(&report.findings);

    // Refuse the whole plan if any URL it would touch or check is outside the rules.
    let mut outside = Vec::new();
    for url in ops
        .iter()
        .map(|o| o.url.as_str())
        .chain(report.findings.iter().map(|f| match f {
            ReportFinding::Link(l) => l.target.as_str(),
            ReportFinding::Orphan(o) => o.resource.as_str(),
        }))
    {
        let inside = Url::parse(url)
            .ok()
            .and_then(|u| rules.service_of(&u))
            .is_some();
        if !inside && !outside.contains(&url) {
            outside.push(url);
        }
    }
    if !outside.is_empty() {
        return Err(Error::Usage(format!(
            "{}: refusing to apply: {} URL(s) are outside every service declared in {}: {}",
            opts.report.display(),
            outside.len(),
            opts.rules.display(),
            outside.join(", ")
        )));
    }

    if !opts.execute {
        return Ok(ApplyOutput {
            exit_code: exit::OK,
            stdout: dry_run(&ops, &notes, &rules),
        });
    }

    let journal_path = opts
        .journal
        .clone()
        .unwrap_or_else(|| default_journal(&opts.report));
    let settled = read_journal(&journal_path)?;
    let mut journal = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&journal_path)
        .map_err(|source| ReportError::Write {
            path: journal_path.clone(),
            source,
        })?;
    let client = Client::new(rules.clone(), opts)?;
    client.credentials.start(&client.http).await?;
    let findings: HashMap<&str, &ReportFinding> =
        report.findings.iter().map(|f| (f.id(), f)).collect();

    let mut out = String::new();
    let mut failed = 0;
    let mut counts: HashMap<&'static str, usize> = HashMap::new();
    for op in &ops {
        let key = op_key(op);
        if settled.contains(&key) {
            *counts.entry("already journaled").or_default() += 1;
            continue;
        }
        let entry = client.perform(op, &key, &findings).await;
        let _ = writeln!(
            out,
            "{:<8} {:<6} {}  {}",
            entry.outcome, entry.method, entry.url, entry.detail
        );
        if entry.outcome == "failed" {
            failed += 1;
        }
        *counts
            .entry(match entry.outcome.as_str() {
                "done" => "done",
                "skipped" => "skipped",
                _ => "failed",
            })
            .or_default() += 1;
        let line = serde_json::to_string(&entry).expect("journal entries serialize");
        journal
            .write_all(format!("{line}\n").as_bytes())
            .and_then(|()| journal.flush())
            .map_err(|source| ReportError::Write {
                path: journal_path.clone(),
                source,
            })?;
    }
    let mut summary: Vec<String> = counts.iter().map(|(k, v)| format!("{v} {k}")).collect();
    summary.sort();
    let _ = writeln!(
        out,
        "\n{} operation(s): {}; journal {}",
        ops.len(),
        if summary.is_empty() {
            "nothing to do".to_string()
        } else {
            summary.join(", ")
        },
        journal_path.display()
    );
    for n in &notes {
        let _ = writeln!(out, "manual   {}  {}", n.url, n.reason);
    }
    Ok(ApplyOutput {
        exit_code: if failed > 0 {
            exit::INCONCLUSIVE
        } else {
            exit::OK
        },
        stdout: out,
    })
}

fn read_journal(path: &Path) -> Result<HashSet<String>, Error> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HashSet::new()),
        Err(e) => {
            return Err(ReportError::Baseline {
                path: path.to_path_buf(),
                message: format!("cannot read the journal: {e}"),
            }
            .into())
        }
    };
    let mut settled = HashSet::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        // A line cut by a crash is the last one: ignore it, the operation runs again.
        let Ok(e) = serde_json::from_str::<JournalEntry>(line) else {
            if i + 1 == text.lines().count() {
                continue;
            }
            return Err(Error::Usage(format!(
                "{}:{}: not a journal line",
                path.display(),
                i + 1
            )));
        };
        if e.outcome != "failed" {
            settled.insert(e.key);
        }
    }
    Ok(settled)
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

fn dry_run(ops: &[Operation], notes: &[Note], rules: &Rules) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "PLAN ({} operations; dry run: nothing was sent)",
        ops.len()
    );
    for (i, op) in ops.iter().enumerate() {
        let _ = writeln!(
            out,
            "{:>3}. {:<6} {}  [{}] repairs {} finding(s)",
            i + 1,
            op.method,
            op.url,
            op.actions
                .iter()
                .map(|a| a.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            op.findings.len()
        );
    }
    if !notes.is_empty() {
        let _ = writeln!(out, "\nFOR A PERSON ({})", notes.len());
        for n in notes {
            let _ = writeln!(out, "  - {}: {}", n.url, n.reason);
        }
    }
    let _ = writeln!(out, "\nAS CURL COMMANDS");
    for op in ops {
        let mut cmd = format!("curl -fsS -X {} {}", op.method, shell_quote(&op.url));
        let service = Url::parse(&op.url).ok().and_then(|u| rules.service_of(&u));
        if let Some(s) = service.map(|s| rules.service(s)) {
            cmd.push_str(&curl_auth(s));
        }
        if let Some(ct) = &op.content_type {
            let _ = write!(cmd, " -H {}", shell_quote(&format!("Content-Type: {ct}")));
        }
        if let Some(b) = &op.body {
            let _ = write!(cmd, " --data {}", shell_quote(&b.to_string()));
        }
        let _ = writeln!(out, "{cmd}");
    }
    let _ = writeln!(out, "\nRun again with --execute to perform it.");
    out
}

/// The curl options that send a service's credentials, from the variables they are read from
/// (never their values).
fn curl_auth(s: &rules::Service) -> String {
    if let Some(auth) = &s.auth {
        return match &auth.form {
            rules::AuthForm::Header => format!(" -H \"{}: ${}\"", auth.header, auth.env),
            rules::AuthForm::Bearer => format!(" -H \"Authorization: Bearer ${}\"", auth.env),
            rules::AuthForm::Basic {
                user_env,
                password_env,
                ..
            } => format!(" -u \"${user_env}:${password_env}\""),
        };
    }
    match &s.oauth2 {
        // The token is fetched when the plan is executed; by hand, get one first.
        Some(o) => format!(
            " -H \"Authorization: Bearer $TOKEN\"  # TOKEN from {} (client ${})",
            o.token_url, o.client_id_env
        ),
        None => String::new(),
    }
}

/// The HTTP side of `apply`: the shared client layer, with the crawler's per-service
/// credentials (OAuth2 tokens renewed alike) and retry loop, writes included.
struct Client {
    http: http::Client,
    rules: Arc<Rules>,
    credentials: Credentials,
    retry: RetryPolicy,
}

struct Answer {
    status: u16,
    body: bytes::Bytes,
    /// The body was longer than the cap and cut there.
    truncated: bool,
}

/// One request of `apply` as the shared retry loop drives it.
struct Exchange<'a> {
    client: &'a http::Client,
    credentials: &'a Credentials,
    service: rules::ServiceId,
    method: &'a Method,
    url: &'a Url,
    body: Option<(&'a str, &'a bytes::Bytes)>,
}

impl Retryable for Exchange<'_> {
    type Output = Result<http::Response, Failure>;

    async fn attempt(&mut self, _attempt: u32) -> Self::Output {
        self.credentials
            .send(self.client, self.service, self.method, self.url, self.body)
            .await
    }

    fn next(&self, out: &Self::Output, _attempt: u32) -> Next {
        http::next_of(out)
    }
}

impl Client {
    fn new(rules: Arc<Rules>, opts: &ApplyOptions) -> Result<Client, Error> {
        // Bodies are capped as in the crawl: a re-check of a larger one fails rather than
        // reading without bound.
        let options = ClientOptions {
            timeout: opts.timeout,
            tls: opts.tls.clone(),
            proxies: Some(http::Proxies::from_process(&rules)),
            ..ClientOptions::default()
        };
        Ok(Client {
            http: http::Client::for_services(&options, &rules)?,
            credentials: Credentials::new(&rules)?,
            rules,
            retry: opts.retry,
        })
    }

    /// One request with the crawler's retry policy; `Err` is a sentence for the journal.
    async fn send(
        &self,
        method: Method,
        url: &str,
        content_type: Option<&str>,
        body: Option<&Value>,
    ) -> Result<Answer, String> {
        let parsed = Url::parse(url).map_err(|e| format!("bad URL: {e}"))?;
        let service = self
            .rules
            .service_of(&parsed)
            .ok_or_else(|| format!("{url} is outside every declared service"))?;
        let body = body.map(|b| bytes::Bytes::from(b.to_string()));
        let mut job = Exchange {
            client: &self.http,
            credentials: &self.credentials,
            service,
            method: &method,
            url: &parsed,
            body: content_type.zip(body.as_ref()),
        };
        let (result, attempts) = http::retry(&self.retry, &mut job).await;
        let transient = http::next_of(&result) != Next::Done;
        match result {
            Ok(resp) if transient => Err(format!("{} after {attempts} attempts", resp.status)),
            Ok(resp) => Ok(Answer {
                status: resp.status,
                body: resp.body,
                truncated: resp.truncated,
            }),
            Err(failure) => Err(format!("{failure} after {attempts} attempts")),
        }
    }

    async fn status_of(&self, url: &str) -> Result<u16, String> {
        self.send(Method::GET, url, None, None)
            .await
            .map(|a| a.status)
    }

    /// Re-checks and performs one operation.
    async fn perform(
        &self,
        op: &Operation,
        key: &str,
        findings: &HashMap<&str, &ReportFinding>,
    ) -> JournalEntry {
        let entry = |outcome: &str, status: Option<u16>, detail: String| JournalEntry {
            key: key.to_string(),
            method: op.method.to_string(),
            url: op.url.clone(),
            findings: op.findings.clone(),
            outcome: outcome.into(),
            status,
            detail,
        };
        // A broken link that answers again no longer holds: nothing of its repair is done.
        for id in &op.findings {
            if let Some(ReportFinding::Link(l)) = findings.get(id.as_str()) {
                if l.kind == FindingKind::BrokenLink && l.source.is_some() {
                    match self.status_of(&l.target).await {
                        Ok(s) if (200..300).contains(&s) => {
                            return entry(
                                "skipped",
                                None,
                                format!("finding {id} no longer holds: {} answers {s}", l.target),
                            )
                        }
                        Ok(_) => {}
                        Err(e) => {
                            return entry(
                                "failed",
                                None,
                                format!("cannot re-check {}: {e}", l.target),
                            )
                        }
                    }
                }
            }
        }
        let current = match self.send(Method::GET, &op.url, None, None).await {
            Ok(a) => a,
            Err(e) => return entry("failed", None, format!("cannot re-check {}: {e}", op.url)),
        };
        let exists = (200..300).contains(&current.status);
        let (method, body) = match op.method {
            vocab::Method::Delete if !exists => {
                return entry("skipped", Some(current.status), "already gone".into())
            }
            vocab::Method::Put if exists => {
                return entry("skipped", Some(current.status), "already exists".into())
            }
            vocab::Method::Patch if !exists => {
                return entry(
                    "skipped",
                    Some(current.status),
                    "the resource is gone".into(),
                )
            }
            vocab::Method::Patch => {
                if current.truncated {
                    return entry(
                        "failed",
                        Some(current.status),
                        format!(
                            "cannot re-check: the body is over {} bytes",
                            ClientOptions::default().max_body
                        ),
                    );
                }
                let doc: Value = serde_json::from_slice(&current.body).unwrap_or(Value::Null);
                let still = still_applicable(op.body.as_ref(), &doc);
                if still.is_empty() {
                    return entry(
                        "skipped",
                        Some(current.status),
                        "the references are already removed".into(),
                    );
                }
                (Method::PATCH, Some(Value::Array(still)))
            }
            vocab::Method::Delete => (Method::DELETE, None),
            vocab::Method::Put => (Method::PUT, op.body.clone()),
        };
        match self
            .send(method, &op.url, op.content_type.as_deref(), body.as_ref())
            .await
        {
            Ok(a) if (200..300).contains(&a.status) => entry(
                "done",
                Some(a.status),
                format!("{} {}", op.method, a.status),
            ),
            Ok(a) => entry(
                "failed",
                Some(a.status),
                format!("{} answered {}", op.method, a.status),
            ),
            Err(e) => entry("failed", None, e),
        }
    }
}

/// The operations of a JSON Patch that still change `doc`: a `replace` whose value is not
/// already that value, a `remove` whose path exists.
fn still_applicable(patch: Option<&Value>, doc: &Value) -> Vec<Value> {
    let Some(Value::Array(ops)) = patch else {
        return Vec::new();
    };
    let doc = crate::json::Value::from(doc);
    ops.iter()
        .filter(|op| {
            let Some(path) = op.get("path").and_then(Value::as_str) else {
                return false;
            };
            let Ok(p) = Pointer::parse(path) else {
                return false;
            };
            match (op.get("op").and_then(Value::as_str), p.get(&doc)) {
                (Some("replace"), Some(v)) => {
                    Some(v) != op.get("value").map(crate::json::Value::from).as_ref()
                }
                (Some("remove"), Some(_)) => true,
                _ => false,
            }
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn patches_that_no_longer_change_anything_are_dropped() {
        let patch = json!([
            {"op":"replace","path":"/a","value":null},
            {"op":"replace","path":"/b","value":null},
            {"op":"remove","path":"/l/1"},
            {"op":"remove","path":"/l/5"}
        ]);
        let doc = json!({"a": 3, "b": null, "l": [1, 2]});
        assert_eq!(
            still_applicable(Some(&patch), &doc),
            vec![
                json!({"op":"replace","path":"/a","value":null}),
                json!({"op":"remove","path":"/l/1"})
            ]
        );
    }

    #[test]
    fn shell_quoting_survives_quotes() {
        assert_eq!(shell_quote("a'b"), "'a'\\''b'");
    }
}
