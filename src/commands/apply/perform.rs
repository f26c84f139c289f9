//! One operation of `apply --execute`: re-check that it is still needed, send it in its
//! service's dialect (with `If-Match` where the service gives a strong ETag), then read the
//! resource back until the effect shows or the bound passes. Only a verified effect is
//! `done`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use ::http::header::{HeaderMap, HeaderValue, IF_MATCH};
use serde_json::Value;
use url::Url;

use super::{ApplyOptions, JournalEntry, Outcome, Verification};
use crate::error::Error;
use crate::http::{
    self, ClientOptions, Credentials, Failure, Method, Next, RetryPolicy, Retryable,
};
use crate::model::ReportFinding;
use crate::plan::request::{self, Body, Request, Verb, JSON, JSON_PATCH, MERGE_PATCH};
use crate::plan::Operation;
use crate::rules::{self, PatchDialect, Pointer, Rules};
use crate::vocab::{self, FindingKind};

/// How long a 202 Accepted is polled for its effect when `--verify-wait` is not given.
pub const ACCEPTED_WAIT: Duration = Duration::from_secs(10);
/// The first pause between two read-backs; it doubles up to [`MAX_POLL`].
const FIRST_POLL: Duration = Duration::from_millis(100);
const MAX_POLL: Duration = Duration::from_secs(2);

/// The HTTP side of `apply`: the shared client layer, with the crawler's per-service
/// credentials (OAuth2 tokens renewed alike) and retry loop, writes included.
pub(super) struct Client {
    pub http: http::Client,
    pub credentials: Credentials,
    rules: Arc<Rules>,
    retry: RetryPolicy,
    /// `--verify-wait`: how long a read-back without the effect is repeated.
    verify_wait: Option<Duration>,
}

pub(super) struct Answer {
    status: u16,
    headers: http::Headers,
    body: bytes::Bytes,
    /// The body was longer than the cap and cut there.
    truncated: bool,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// One request of `apply` as the shared retry loop drives it.
struct Exchange<'a> {
    client: &'a http::Client,
    credentials: &'a Credentials,
    service: rules::ServiceId,
    method: &'a Method,
    url: &'a Url,
    body: Option<(&'a str, &'a bytes::Bytes)>,
    extra: &'a HeaderMap,
}

impl Retryable for Exchange<'_> {
    type Output = Result<http::Response, Failure>;

    async fn attempt(&mut self, _attempt: u32) -> Self::Output {
        self.credentials
            .send_with(
                self.client,
                self.service,
                self.method,
                self.url,
                self.body,
                self.extra,
            )
            .await
    }

    fn next(&self, out: &Self::Output, _attempt: u32) -> Next {
        http::next_of(out)
    }
}

/// What the read-back must show.
enum Expect<'a> {
    /// The resource answers 404 or 410.
    Gone,
    /// The resource answers 2xx.
    Exists,
    /// The JSON Patch planned against `before` shows in the representation.
    Effect { ops: &'a [Value], before: &'a Value },
}

impl Client {
    pub(super) fn new(rules: Arc<Rules>, opts: &ApplyOptions) -> Result<Client, Error> {
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
            verify_wait: opts.verify_wait,
        })
    }

    /// One request with the crawler's retry policy; `Err` is a sentence for the journal.
    async fn send(
        &self,
        method: Method,
        url: &str,
        body: Option<(&str, &Value)>,
        extra: &HeaderMap,
    ) -> Result<Answer, String> {
        let parsed = Url::parse(url).map_err(|e| format!("bad URL: {e}"))?;
        let service = self
            .rules
            .service_of(&parsed)
            .ok_or_else(|| format!("{url} is outside every declared service"))?;
        let bytes = body.map(|(_, b)| bytes::Bytes::from(b.to_string()));
        let mut job = Exchange {
            client: &self.http,
            credentials: &self.credentials,
            service,
            method: &method,
            url: &parsed,
            body: body.map(|(ct, _)| ct).zip(bytes.as_ref()),
            extra,
        };
        let (result, attempts) = http::retry(&self.retry, &mut job).await;
        let transient = http::next_of(&result) != Next::Done;
        match result {
            Ok(resp) if transient => Err(format!("{} after {attempts} attempts", resp.status)),
            Ok(resp) => Ok(Answer {
                status: resp.status,
                headers: resp.headers,
                body: resp.body,
                truncated: resp.truncated,
            }),
            Err(failure) => Err(format!("{failure} after {attempts} attempts")),
        }
    }

    async fn get(&self, url: &str) -> Result<Answer, String> {
        self.send(Method::GET, url, None, &HeaderMap::new()).await
    }

    /// Re-checks, performs and verifies one operation.
    pub(super) async fn perform(
        &self,
        op: &Operation,
        key: &str,
        findings: &HashMap<&str, &ReportFinding>,
    ) -> JournalEntry {
        let entry = |outcome: Outcome, status: Option<u16>, detail: String| JournalEntry {
            key: key.to_string(),
            method: op.method.to_string(),
            url: op.url.clone(),
            findings: op.findings.clone(),
            outcome,
            status,
            detail,
            sent: None,
            verification: None,
        };
        // A broken link that answers again no longer holds: nothing of its repair is done.
        for id in &op.findings {
            if let Some(ReportFinding::Link(l)) = findings.get(id.as_str()) {
                if l.kind == FindingKind::BrokenLink && l.source.is_some() {
                    match self.get(&l.target).await {
                        Ok(a) if a.ok() => {
                            return entry(
                                Outcome::Skipped,
                                None,
                                format!(
                                    "finding {id} no longer holds: {} answers {}",
                                    l.target, a.status
                                ),
                            )
                        }
                        Ok(_) => {}
                        Err(e) => {
                            return entry(
                                Outcome::Failed,
                                None,
                                format!("cannot re-check {}: {e}", l.target),
                            )
                        }
                    }
                }
            }
        }
        let current = match self.get(&op.url).await {
            Ok(a) => a,
            Err(e) => {
                return entry(
                    Outcome::Failed,
                    None,
                    format!("cannot re-check {}: {e}", op.url),
                )
            }
        };
        let exists = current.ok();
        let skip = |why: &str| entry(Outcome::Skipped, Some(current.status), why.into());
        // The operation as it still needs doing, and the document it was planned against.
        let (todo, before) = match op.method {
            vocab::Method::Delete if !exists => return skip("already gone"),
            vocab::Method::Put if exists => return skip("already exists"),
            vocab::Method::Patch if !exists => return skip("the resource is gone"),
            vocab::Method::Patch => {
                if current.truncated {
                    return entry(
                        Outcome::Failed,
                        Some(current.status),
                        format!(
                            "cannot re-check: the body is over {} bytes",
                            ClientOptions::default().max_body
                        ),
                    );
                }
                let doc: Value = serde_json::from_slice(&current.body).unwrap_or(Value::Null);
                // The references this patch removes, where the report found them.
                let refs: Vec<(&str, &str)> = op
                    .findings
                    .iter()
                    .filter_map(|id| match findings.get(id.as_str()) {
                        Some(ReportFinding::Link(l)) => {
                            Some((l.pointer.as_deref()?, l.target.as_str()))
                        }
                        _ => None,
                    })
                    .collect();
                let still = still_applicable(op.body.as_ref(), &doc, &refs);
                if still.is_empty() {
                    return skip("the references are already removed");
                }
                let todo = Operation {
                    body: Some(Value::Array(still)),
                    ..op.clone()
                };
                (todo, Some(doc))
            }
            vocab::Method::Delete | vocab::Method::Put => (op.clone(), None),
        };

        let (configured, _) = request::dialects(&self.rules, &op.url);
        let (dialect, media, note) = pick_dialect(configured, current.header("accept-patch"));
        let req = match request::request(&todo, &self.rules, dialect, before.as_ref()) {
            Ok(r) => r,
            Err(e) => return entry(Outcome::Failed, Some(current.status), e),
        };
        let content_type = media.or(req.content_type);
        let mut extra = HeaderMap::new();
        let etag = current
            .header("etag")
            .filter(|e| exists && !e.starts_with("W/"));
        if let Some(v) = etag.and_then(|e| HeaderValue::from_str(e).ok()) {
            extra.insert(IF_MATCH, v);
        }
        let sent = format!(
            "{} {}{}{}",
            req.verb,
            req.url,
            content_type.map(|c| format!(" ({c})")).unwrap_or_default(),
            etag.map(|e| format!(" If-Match {e}")).unwrap_or_default()
        );
        let done = |outcome: Outcome, status: Option<u16>, detail: String| {
            let mut e = entry(outcome, status, detail);
            e.sent = Some(sent.clone());
            e
        };
        let body = match &req.body {
            Body::Json(b) => Some(b),
            Body::None => None,
            Body::FromCurrent { .. } => {
                return done(
                    Outcome::Failed,
                    None,
                    "internal: a body was not made from the representation read".into(),
                )
            }
        };
        let answer = match self
            .send(
                verb_method(req.verb),
                &req.url,
                content_type.zip(body),
                &extra,
            )
            .await
        {
            Ok(a) => a,
            Err(e) => return done(Outcome::Failed, None, e),
        };
        let prefix = note.map(|n| format!("{n}; ")).unwrap_or_default();
        if answer.status == 412 {
            return done(
                Outcome::Conflict,
                Some(412),
                format!(
                    "{prefix}412 Precondition Failed: {} changed since it was read (If-Match {}); \
                     not retried: crawl again and plan anew",
                    op.url,
                    etag.unwrap_or("-")
                ),
            );
        }
        if !answer.ok() {
            return done(
                Outcome::Failed,
                Some(answer.status),
                format!(
                    "{prefix}{} answered {}{}",
                    req.verb,
                    answer.status,
                    refusal_hint(
                        &self.rules,
                        &req,
                        content_type,
                        answer.status,
                        op.method == vocab::Method::Put
                    )
                ),
            );
        }
        let accepted = answer.status == 202;
        let expect = match (&todo.method, &before) {
            (vocab::Method::Delete, _) => Expect::Gone,
            (vocab::Method::Put, _) => Expect::Exists,
            (vocab::Method::Patch, Some(doc)) => Expect::Effect {
                ops: match &todo.body {
                    Some(Value::Array(ops)) => ops,
                    _ => &[],
                },
                before: doc,
            },
            (vocab::Method::Patch, None) => Expect::Exists,
        };
        let created_elsewhere = (req.verb == Verb::Post)
            .then(|| answer.header("location"))
            .flatten()
            .and_then(|l| Url::parse(&req.url).ok()?.join(l).ok())
            .filter(|l| l.as_str() != op.url)
            .map(|l| format!("; the service says it created {l}"))
            .unwrap_or_default();
        let (outcome, verification) = self.verify(&op.url, &expect, accepted).await;
        let detail = match outcome {
            Outcome::Done => format!(
                "{prefix}{} {}, verified: {}",
                req.verb, answer.status, verification.detail
            ),
            Outcome::Unverified if accepted => format!(
                "{prefix}{} 202 Accepted, but the effect did not show within the wait: {}",
                req.verb, verification.detail
            ),
            _ => format!(
                "{prefix}{} {} changed nothing: {}{created_elsewhere}",
                req.verb, answer.status, verification.detail
            ),
        };
        let mut e = done(outcome, Some(answer.status), detail);
        e.verification = Some(verification);
        e
    }

    /// Reads `url` back until it shows `expect` or the bound passes (`--verify-wait`; for a
    /// 202 Accepted at least [`ACCEPTED_WAIT`] unless given). Bounded: at most one read per
    /// pause, the pauses doubling from 100 ms up to 2 s.
    async fn verify(
        &self,
        url: &str,
        expect: &Expect<'_>,
        accepted: bool,
    ) -> (Outcome, Verification) {
        let wait = match (self.verify_wait, accepted) {
            (Some(w), _) => w,
            (None, true) => ACCEPTED_WAIT,
            (None, false) => Duration::ZERO,
        };
        let deadline = tokio::time::Instant::now() + wait;
        let mut pause = FIRST_POLL;
        let mut reads = 0u32;
        loop {
            reads += 1;
            let read = self.get(url).await;
            let status = read.as_ref().ok().map(|a| a.status);
            let (verdict, could_read) = match &read {
                Ok(a) => (shows(a, expect), true),
                Err(e) => (Err(format!("cannot read it back: {e}")), false),
            };
            let verification = |verified: bool, detail: String| Verification {
                verified,
                status,
                reads,
                detail,
            };
            match verdict {
                Ok(what) => return (Outcome::Done, verification(true, what)),
                Err(why) => {
                    let now = tokio::time::Instant::now();
                    if now + pause > deadline {
                        let outcome = if accepted || !could_read {
                            Outcome::Unverified
                        } else {
                            Outcome::NoEffect
                        };
                        return (outcome, verification(false, why));
                    }
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(MAX_POLL);
                }
            }
        }
    }
}

/// Whether a read-back shows what is expected: `Ok` says what it showed, `Err` what it
/// showed instead.
fn shows(a: &Answer, expect: &Expect<'_>) -> Result<String, String> {
    match expect {
        Expect::Gone if matches!(a.status, 404 | 410) => Ok(format!("it answers {}", a.status)),
        Expect::Gone => Err(format!("it still answers {}", a.status)),
        Expect::Exists if a.ok() => Ok(format!("it answers {}", a.status)),
        Expect::Exists => Err(format!("it answers {}", a.status)),
        Expect::Effect { .. } if matches!(a.status, 404 | 410) => {
            Ok(format!("the resource is gone ({})", a.status))
        }
        Expect::Effect { .. } if !a.ok() => Err(format!("it answers {}", a.status)),
        Expect::Effect { ops, before } => {
            let after: Value = serde_json::from_slice(&a.body)
                .map_err(|_| "the read-back is not JSON".to_string())?;
            request::shows_effect(ops, before, &after)
                .map(|()| "the reference is gone".to_string())
                .map_err(|why| format!("read back {why}"))
        }
    }
}

fn verb_method(v: Verb) -> Method {
    match v {
        Verb::Put => Method::PUT,
        Verb::Post => Method::POST,
        Verb::Patch => Method::PATCH,
        Verb::Delete => Method::DELETE,
    }
}

/// The media types an `Accept-Patch` header lists (parameters dropped, lower-case).
fn accepted_types(header: &str) -> Vec<String> {
    header
        .split(',')
        .map(|t| {
            t.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .filter(|t| !t.is_empty())
        .collect()
}

/// The patch dialect to send in, given the service's `Accept-Patch` (RFC 5789): the rules'
/// dialect when the header is absent or lists its media type; else the other format the header
/// lists, said in the note; else the rules' dialect with a warning in the note. The media type
/// is set when it differs from the dialect's default (`application/merge-patch+json` asked for).
pub(super) fn pick_dialect(
    configured: PatchDialect,
    accept_patch: Option<&str>,
) -> (PatchDialect, Option<&'static str>, Option<String>) {
    let Some(header) = accept_patch else {
        return (configured, None, None);
    };
    let types = accepted_types(header);
    let has = |t: &str| types.iter().any(|x| x == t);
    let switched = |d: PatchDialect, media: Option<&'static str>| {
        let note = format!(
            "the service's Accept-Patch ({header}) does not list {}: sent {}",
            configured.as_str(),
            d.as_str()
        );
        (d, media, Some(note))
    };
    match configured {
        PatchDialect::Put => (configured, None, None),
        PatchDialect::JsonPatch if has(JSON_PATCH) => (configured, None, None),
        PatchDialect::MergePatch if has(MERGE_PATCH) => (configured, Some(MERGE_PATCH), None),
        PatchDialect::MergePatch if has(JSON) => (configured, None, None),
        PatchDialect::JsonPatch if has(MERGE_PATCH) => {
            switched(PatchDialect::MergePatch, Some(MERGE_PATCH))
        }
        PatchDialect::JsonPatch if has(JSON) => switched(PatchDialect::MergePatch, None),
        PatchDialect::MergePatch if has(JSON_PATCH) => switched(PatchDialect::JsonPatch, None),
        _ => (
            configured,
            None,
            Some(format!(
                "warning: the service's Accept-Patch ({header}) lists no patch format bacaudit \
                 speaks; sent {} as the rules say",
                configured.as_str()
            )),
        ),
    }
}

/// What to change when a service refuses a write (415 and 405 say the dialect is wrong).
fn refusal_hint(
    rules: &Rules,
    req: &Request,
    content_type: Option<&str>,
    status: u16,
    creating: bool,
) -> String {
    let service = Url::parse(&req.url)
        .ok()
        .and_then(|u| rules.service_of(&u))
        .map(|s| rules.service(s).name.clone())
        .unwrap_or_default();
    match (status, req.verb) {
        (415, Verb::Patch) => format!(
            ": the service does not take {}; set `patch = \"merge-patch\"` (or \"put\") in \
             [services.{service}]",
            content_type.unwrap_or("that body")
        ),
        (404 | 405, Verb::Put) if creating => format!(
            ": the service does not create by PUT; set `create = \"post\"` in [services.{service}]"
        ),
        (405, Verb::Patch) => format!(
            ": the service does not take PATCH; set `patch = \"put\"` in [services.{service}]"
        ),
        _ => String::new(),
    }
}

/// The operations of a JSON Patch that still change `doc`: a `replace` whose value is not
/// already that value, a `remove` whose path exists — and, for the removal of an array element
/// that a finding of `refs` (pointer, target) located, only while the link at that pointer
/// still names the target (an earlier removal shifts the elements after it: removing index 1
/// again would remove another link).
pub(super) fn still_applicable(
    patch: Option<&Value>,
    doc: &Value,
    refs: &[(&str, &str)],
) -> Vec<Value> {
    let Some(Value::Array(ops)) = patch else {
        return Vec::new();
    };
    let json = crate::json::Value::from(doc);
    ops.iter()
        .filter(|op| {
            let Some(path) = op.get("path").and_then(Value::as_str) else {
                return false;
            };
            let Ok(p) = Pointer::parse(path) else {
                return false;
            };
            match (op.get("op").and_then(Value::as_str), p.get(&json)) {
                (Some("replace"), Some(v)) => {
                    Some(v) != op.get("value").map(crate::json::Value::from).as_ref()
                }
                (Some("remove"), Some(_)) => refs
                    .iter()
                    .filter(|(at, _)| *at == path || at.starts_with(&format!("{path}/")))
                    .all(|(at, target)| doc.pointer(at).is_some_and(|v| names(v, target))),
                _ => false,
            }
        })
        .cloned()
        .collect()
}

/// Whether a link value names `target`: the URL itself, a URL ending with its path, or its
/// last path segment as an id.
fn names(v: &Value, target: &str) -> bool {
    let Ok(t) = Url::parse(target) else {
        return false;
    };
    let path = t.path();
    let id = path.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    match v {
        Value::String(s) => {
            s == target
                || (!path.is_empty()
                    && s.split(['?', '#'])
                        .next()
                        .is_some_and(|p| p.ends_with(path)))
                || s == id
        }
        Value::Number(n) => n.to_string() == id,
        Value::Object(m) => ["href", "@id", "id"]
            .iter()
            .any(|k| m.get(*k).is_some_and(|x| names(x, target))),
        _ => false,
    }
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
            still_applicable(Some(&patch), &doc, &[]),
            vec![
                json!({"op":"replace","path":"/a","value":null}),
                json!({"op":"remove","path":"/l/1"})
            ]
        );
    }

    #[test]
    fn an_array_removal_is_dropped_once_the_element_moved() {
        let patch = json!([{"op":"remove","path":"/_links/products/1"}]);
        let refs = [("/_links/products/1/href", "http://h/products/7")];
        let before =
            json!({"_links": {"products": [{"href": "/products/1"}, {"href": "/products/7"}]}});
        assert_eq!(still_applicable(Some(&patch), &before, &refs).len(), 1);
        // Already removed; what is at index 1 now is another link.
        let after =
            json!({"_links": {"products": [{"href": "/products/1"}, {"href": "/products/2"}]}});
        assert!(still_applicable(Some(&patch), &after, &refs).is_empty());
        let jsonapi =
            json!({"data": [{"type": "products", "id": "1"}, {"type": "products", "id": "7"}]});
        let patch = json!([{"op":"remove","path":"/data/1"}]);
        assert_eq!(
            still_applicable(
                Some(&patch),
                &jsonapi,
                &[("/data/1", "http://h/products/7")]
            )
            .len(),
            1
        );
    }

    #[test]
    fn accept_patch_picks_or_warns() {
        use PatchDialect::*;
        assert_eq!(pick_dialect(JsonPatch, None), (JsonPatch, None, None));
        assert_eq!(
            pick_dialect(
                JsonPatch,
                Some("application/json-patch+json; charset=utf-8")
            ),
            (JsonPatch, None, None)
        );
        assert_eq!(
            pick_dialect(MergePatch, Some("application/merge-patch+json")),
            (MergePatch, Some(MERGE_PATCH), None)
        );
        let (d, m, note) = pick_dialect(JsonPatch, Some("application/merge-patch+json"));
        assert_eq!((d, m), (MergePatch, Some(MERGE_PATCH)));
        assert!(note.unwrap().contains("does not list json-patch"));
        let (d, _, note) = pick_dialect(MergePatch, Some("text/x-diff"));
        assert_eq!(d, MergePatch);
        assert!(note.unwrap().starts_with("warning"));
        assert_eq!(pick_dialect(Put, Some("text/x-diff")), (Put, None, None));
    }
}
