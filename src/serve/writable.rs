//! `serve --writable`: PUT, POST to a collection, PATCH (RFC 6902 JSON Patch, or RFC 7396 JSON
//! Merge Patch as `application/merge-patch+json` or a partial `application/json` object) and
//! DELETE applied in memory, so a drill can run `apply --execute` in any of its dialects
//! against the served world and crawl it again. A DELETE also takes the deleted resource out
//! of every list that names it, as a real service would. A written resource answers with a
//! strong ETag, and a write whose `If-Match` names another one answers 412.

use std::collections::HashMap;
use std::sync::Mutex;

use bytes::Bytes;
use http::header::{HeaderMap, HeaderValue, CONTENT_TYPE, ETAG, LOCATION};
use http::StatusCode;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::answers::{problem, Answer, Answers, Reply};
use super::rebase::OriginMap;

/// The writes made to a served world: URL → its new representation, or `None` once deleted.
#[derive(Debug)]
pub(crate) struct Writes {
    state: Mutex<HashMap<String, Option<Reply>>>,
    /// Recorded → served origins: bodies name the served URLs.
    origins: OriginMap,
}

fn json_reply(status: StatusCode, body: Bytes) -> Reply {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Ok(v) = HeaderValue::from_str(&etag(&body)) {
        headers.insert(ETAG, v);
    }
    Reply {
        status,
        headers,
        body,
    }
}

/// The strong ETag of a written representation: a hash of its bytes.
fn etag(body: &[u8]) -> String {
    let h = Sha256::digest(body);
    let hex: String = h[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// A write's `If-Match` against the current representation: `Some(412)` when it names
/// another one (`*` matches any existing representation).
fn precondition(if_match: Option<&str>, current: Option<&Reply>) -> Option<Reply> {
    let wanted = if_match?;
    let now = current.and_then(|r| r.headers.get(ETAG)?.to_str().ok().map(str::to_string));
    let matches = wanted.split(',').map(str::trim).any(|w| {
        (w == "*" && current.is_some())
            || now
                .as_deref()
                .is_some_and(|n| n == w && !w.starts_with("W/"))
    });
    (!matches).then(|| {
        problem(
            StatusCode::PRECONDITION_FAILED,
            "If-Match does not name the current representation",
        )
    })
}

/// The kind of body a PATCH carries.
enum PatchBody {
    /// RFC 6902.
    JsonPatch(json_patch::Patch),
    /// RFC 7396 (also a partial `application/json` object).
    Merge(Value),
}

impl PatchBody {
    fn parse(content_type: Option<&str>, body: &[u8]) -> Result<PatchBody, Box<Reply>> {
        let media = content_type
            .and_then(|c| c.split(';').next())
            .map(|c| c.trim().to_ascii_lowercase());
        match media.as_deref() {
            Some("application/json-patch+json") => serde_json::from_slice(body)
                .map(PatchBody::JsonPatch)
                .map_err(|e| {
                    Box::new(problem(
                        StatusCode::BAD_REQUEST,
                        &format!("not a JSON Patch: {e}"),
                    ))
                }),
            Some("application/merge-patch+json" | "application/json") => {
                match serde_json::from_slice::<Value>(body) {
                    Ok(v @ Value::Object(_)) => Ok(PatchBody::Merge(v)),
                    Ok(_) => Err(Box::new(problem(
                        StatusCode::BAD_REQUEST,
                        "a merge patch must be a JSON object",
                    ))),
                    Err(e) => Err(Box::new(problem(
                        StatusCode::BAD_REQUEST,
                        &format!("not JSON: {e}"),
                    ))),
                }
            }
            _ => Err(Box::new(problem(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "PATCH takes application/json-patch+json (RFC 6902), \
                 application/merge-patch+json (RFC 7396) or a partial application/json object",
            ))),
        }
    }

    /// Applies the patch to `doc`; `Err` says why it does not apply.
    fn apply(&self, doc: &mut Value) -> Result<(), String> {
        match self {
            PatchBody::JsonPatch(ops) => json_patch::patch(doc, ops).map_err(|e| e.to_string()),
            PatchBody::Merge(m) => {
                json_patch::merge(doc, m);
                Ok(())
            }
        }
    }
}

impl Writes {
    pub fn new(origins: OriginMap) -> Writes {
        Writes {
            state: Mutex::new(HashMap::new()),
            origins,
        }
    }

    /// The written state of a URL: `Some(None)` deleted, `Some(Some(reply))` written,
    /// `None` untouched (answer as recorded).
    pub fn get(&self, url: &str) -> Option<Option<Reply>> {
        self.state.lock().expect("writes lock").get(url).cloned()
    }

    /// The current 2xx representation of a URL, written or recorded.
    fn current(
        &self,
        state: &HashMap<String, Option<Reply>>,
        answers: &Answers,
        url: &str,
    ) -> Option<Reply> {
        match state.get(url) {
            Some(written) => written.clone(),
            None => match answers.by_url.get(url).map(|s| &s.answer) {
                Some(Answer::Reply(r)) if r.status.is_success() => Some(r.clone()),
                _ => None,
            },
        }
    }

    /// PUT: stores the body (JSON) as the resource's representation.
    pub fn put(&self, answers: &Answers, url: &str, body: &[u8], if_match: Option<&str>) -> Reply {
        let Ok(new) = serde_json::from_slice::<Value>(body) else {
            return problem(StatusCode::BAD_REQUEST, "the body of a PUT must be JSON");
        };
        let mut state = self.state.lock().expect("writes lock");
        let current = self.current(&state, answers, url);
        if let Some(refused) = precondition(if_match, current.as_ref()) {
            return refused;
        }
        let existed = current.is_some();
        state.insert(
            url.to_string(),
            Some(json_reply(StatusCode::OK, Bytes::copy_from_slice(body))),
        );
        // Lists that embed the resource show the change too (the difference, as a JSON Patch).
        let old = current.and_then(|r| serde_json::from_slice::<Value>(&r.body).ok());
        if let Some(old) = old {
            let change = PatchBody::JsonPatch(json_patch::diff(&old, &new));
            let served = self.origins.apply(url).into_owned();
            self.rewrite_all(&mut state, answers, |doc| {
                relist(doc, &served, &change) | relist(doc, url, &change)
            });
        }
        let status = if existed {
            StatusCode::OK
        } else {
            StatusCode::CREATED
        };
        json_reply(status, Bytes::copy_from_slice(body))
    }

    /// POST to a collection: the body (JSON with an `id`) becomes the item under it
    /// (`/customers` + id 7 → `/customers/7`, `/customers/` → `/customers/7/`); 201 with its
    /// `Location`, 409 when it exists.
    pub fn post(&self, answers: &Answers, url: &str, body: &[u8]) -> Reply {
        let id = match serde_json::from_slice::<Value>(body) {
            Ok(v) => match v.get("id") {
                Some(Value::String(s)) if !s.is_empty() => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => {
                    return problem(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "a POST to a collection takes a JSON object with its `id`",
                    )
                }
            },
            Err(_) => return problem(StatusCode::BAD_REQUEST, "the body of a POST must be JSON"),
        };
        let base = url.split_once('?').map_or(url, |(b, _)| b);
        let enc = percent_encoding::utf8_percent_encode(&id, crate::canon::SEGMENT).to_string();
        let item = match base.strip_suffix('/') {
            Some(b) => format!("{b}/{enc}/"),
            None => format!("{base}/{enc}"),
        };
        let mut state = self.state.lock().expect("writes lock");
        if self.current(&state, answers, &item).is_some() {
            return problem(StatusCode::CONFLICT, &format!("{item} exists"));
        }
        let reply = json_reply(StatusCode::OK, Bytes::copy_from_slice(body));
        state.insert(item.clone(), Some(reply));
        let mut created = json_reply(StatusCode::CREATED, Bytes::copy_from_slice(body));
        let location = self.origins.apply(&item).into_owned();
        if let Ok(v) = HeaderValue::from_str(&location) {
            created.headers.insert(LOCATION, v);
        }
        created
    }

    /// PATCH: applies a JSON Patch or a merge patch to the current representation.
    pub fn patch(
        &self,
        answers: &Answers,
        url: &str,
        content_type: Option<&str>,
        body: &[u8],
        if_match: Option<&str>,
    ) -> Reply {
        let ops = match PatchBody::parse(content_type, body) {
            Ok(p) => p,
            Err(refused) => return *refused,
        };
        let mut state = self.state.lock().expect("writes lock");
        let Some(current) = self.current(&state, answers, url) else {
            return problem(StatusCode::NOT_FOUND, &format!("{url} does not exist"));
        };
        if let Some(refused) = precondition(if_match, Some(&current)) {
            return refused;
        }
        let mut doc: Value = match serde_json::from_slice(&current.body) {
            Ok(v) => v,
            Err(_) => {
                return problem(
                    StatusCode::CONFLICT,
                    "the resource has no JSON body to patch",
                )
            }
        };
        if let Err(e) = ops.apply(&mut doc) {
            return problem(
                StatusCode::UNPROCESSABLE_ENTITY,
                &format!("the patch does not apply: {e}"),
            );
        }
        let bytes = Bytes::from(serde_json::to_vec(&doc).expect("serializes"));
        state.insert(
            url.to_string(),
            Some(json_reply(StatusCode::OK, bytes.clone())),
        );
        // Lists that embed the resource show the patched representation too.
        let served = self.origins.apply(url).into_owned();
        self.rewrite_all(&mut state, answers, |doc| {
            relist(doc, &served, &ops) | relist(doc, url, &ops)
        });
        json_reply(StatusCode::OK, bytes)
    }

    /// Rewrites every current 2xx JSON representation with `f` (true when it changed it).
    fn rewrite_all(
        &self,
        state: &mut HashMap<String, Option<Reply>>,
        answers: &Answers,
        mut f: impl FnMut(&mut Value) -> bool,
    ) {
        let urls: std::collections::BTreeSet<String> =
            answers.by_url.keys().chain(state.keys()).cloned().collect();
        for other in urls {
            let Some(reply) = self.current(state, answers, &other) else {
                continue;
            };
            let Ok(mut doc) = serde_json::from_slice::<Value>(&reply.body) else {
                continue;
            };
            if f(&mut doc) {
                let body = Bytes::from(serde_json::to_vec(&doc).expect("serializes"));
                state.insert(other, Some(Reply { body, ..reply }));
            }
        }
    }

    /// DELETE: the resource is gone (404 from now on), and lists stop naming it.
    pub fn delete(&self, answers: &Answers, url: &str, if_match: Option<&str>) -> Reply {
        let mut state = self.state.lock().expect("writes lock");
        let Some(current) = self.current(&state, answers, url) else {
            return problem(StatusCode::NOT_FOUND, &format!("{url} does not exist"));
        };
        if let Some(refused) = precondition(if_match, Some(&current)) {
            return refused;
        }
        state.insert(url.to_string(), None);
        // Every representation with an array element that denotes the deleted URL loses it.
        let served = self.origins.apply(url).into_owned();
        self.rewrite_all(&mut state, answers, |doc| {
            unlist(doc, &served) | unlist(doc, url)
        });
        Reply {
            status: StatusCode::NO_CONTENT,
            headers: HeaderMap::new(),
            body: Bytes::new(),
        }
    }
}

/// Whether a JSON value denotes `url`: the URL itself, or an object whose self link is it.
fn denotes(v: &Value, url: &str) -> bool {
    let is = |v: Option<&Value>| v.and_then(Value::as_str).is_some_and(|s| s == url);
    match v {
        Value::String(s) => s == url,
        Value::Object(m) => {
            is(m.get("href"))
                || is(m.get("url"))
                || is(m.get("self"))
                || is(m.get("@id"))
                || is(v.pointer("/_links/self/href"))
                || is(v.pointer("/links/self"))
        }
        _ => false,
    }
}

/// Applies `ops` to every embedded representation (an array element object that denotes
/// `url` and is more than a bare link) in `doc`; true if any changed.
fn relist(doc: &mut Value, url: &str, ops: &PatchBody) -> bool {
    match doc {
        Value::Array(items) => {
            let mut changed = false;
            for v in items.iter_mut() {
                let representation = v.as_object().is_some_and(|m| m.len() > 2);
                if representation && denotes(v, url) {
                    let mut copy = v.clone();
                    if ops.apply(&mut copy).is_ok() && copy != *v {
                        *v = copy;
                        changed = true;
                    }
                } else {
                    changed |= relist(v, url, ops);
                }
            }
            changed
        }
        Value::Object(m) => {
            let mut changed = false;
            for v in m.values_mut() {
                changed |= relist(v, url, ops);
            }
            changed
        }
        _ => false,
    }
}

/// Removes, everywhere in `doc`, the array elements that denote `url`; true if any was removed.
fn unlist(doc: &mut Value, url: &str) -> bool {
    match doc {
        Value::Array(items) => {
            let before = items.len();
            items.retain(|v| !denotes(v, url));
            let mut changed = items.len() != before;
            for v in items.iter_mut() {
                changed |= unlist(v, url);
            }
            changed
        }
        Value::Object(m) => {
            let mut changed = false;
            for v in m.values_mut() {
                changed |= unlist(v, url);
            }
            changed
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unlisting_removes_denoting_elements_only() {
        let mut doc = json!({
            "results": [{"url": "http://h/o/1"}, {"url": "http://h/o/2"}],
            "_links": {"item": [{"href": "http://h/o/1"}], "customer": {"href": "http://h/o/1"}},
            "entities": [{"rel": ["item"], "href": "http://h/o/1"}],
            "data": [{"type": "o", "id": "1", "links": {"self": "http://h/o/1"}}],
            "ids": ["http://h/o/1", "http://h/o/3"]
        });
        assert!(unlist(&mut doc, "http://h/o/1"));
        assert_eq!(
            doc,
            json!({
                "results": [{"url": "http://h/o/2"}],
                "_links": {"item": [], "customer": {"href": "http://h/o/1"}},
                "entities": [],
                "data": [],
                "ids": ["http://h/o/3"]
            })
        );
        assert!(!unlist(&mut doc, "http://h/o/9"));
    }

    #[test]
    fn relisting_patches_embedded_representations_not_bare_links() {
        let ops = PatchBody::JsonPatch(
            serde_json::from_value(json!([{"op":"replace","path":"/c","value":null}])).unwrap(),
        );
        let mut doc = json!({
            "results": [{"url": "http://h/o/1", "id": 1, "c": 7}, {"url": "http://h/o/2", "id": 2, "c": 8}],
            "links": [{"href": "http://h/o/1"}]
        });
        assert!(relist(&mut doc, "http://h/o/1", &ops));
        assert_eq!(doc["results"][0]["c"], json!(null));
        assert_eq!(doc["results"][1]["c"], json!(8));
        assert_eq!(doc["links"][0], json!({"href": "http://h/o/1"}));
    }

    #[test]
    fn if_match_names_the_current_strong_etag() {
        let current = json_reply(StatusCode::OK, Bytes::from_static(b"{\"id\":1}"));
        let tag = etag(b"{\"id\":1}");
        assert!(precondition(None, Some(&current)).is_none());
        assert!(precondition(Some(&tag), Some(&current)).is_none());
        assert!(precondition(Some("*"), Some(&current)).is_none());
        let refused = precondition(Some("\"other\""), Some(&current)).unwrap();
        assert_eq!(refused.status, StatusCode::PRECONDITION_FAILED);
        assert!(precondition(Some(&format!("W/{tag}")), Some(&current)).is_some());
        assert!(precondition(Some("*"), None).is_some());
    }

    #[test]
    fn patch_bodies_by_media_type() {
        let mut doc = json!({"a": 1, "b": {"c": 2}});
        let merge = PatchBody::parse(Some("application/json; charset=utf-8"), b"{\"a\":null}")
            .unwrap_or_else(|_| panic!("a partial object"));
        merge.apply(&mut doc).unwrap();
        assert_eq!(doc, json!({"b": {"c": 2}}));
        let ops = br#"[{"op":"replace","path":"/b/c","value":null}]"#;
        let patch = PatchBody::parse(Some("application/json-patch+json"), ops)
            .unwrap_or_else(|_| panic!("a JSON Patch"));
        patch.apply(&mut doc).unwrap();
        assert_eq!(doc, json!({"b": {"c": null}}));
        let refused = PatchBody::parse(Some("text/plain"), b"x").err().unwrap();
        assert_eq!(refused.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }
}
