//! `serve --writable`: PUT, PATCH (RFC 6902 JSON Patch) and DELETE applied in memory, so a
//! drill can run `apply --execute` against the served world and crawl it again. A DELETE also
//! takes the deleted resource out of every list that names it, as a real service would.

use std::collections::HashMap;
use std::sync::Mutex;

use bytes::Bytes;
use http::header::{HeaderMap, HeaderValue, CONTENT_TYPE};
use http::StatusCode;
use serde_json::Value;

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
    Reply {
        status,
        headers,
        body,
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
    pub fn put(&self, answers: &Answers, url: &str, body: &[u8]) -> Reply {
        if serde_json::from_slice::<Value>(body).is_err() {
            return problem(StatusCode::BAD_REQUEST, "the body of a PUT must be JSON");
        }
        let mut state = self.state.lock().expect("writes lock");
        let existed = self.current(&state, answers, url).is_some();
        state.insert(
            url.to_string(),
            Some(json_reply(StatusCode::OK, Bytes::copy_from_slice(body))),
        );
        let status = if existed {
            StatusCode::OK
        } else {
            StatusCode::CREATED
        };
        json_reply(status, Bytes::copy_from_slice(body))
    }

    /// PATCH: applies an RFC 6902 JSON Patch to the current representation.
    pub fn patch(
        &self,
        answers: &Answers,
        url: &str,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Reply {
        if !content_type.is_some_and(|c| c.starts_with("application/json-patch+json")) {
            return problem(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "PATCH takes application/json-patch+json (RFC 6902)",
            );
        }
        let ops: json_patch::Patch = match serde_json::from_slice(body) {
            Ok(p) => p,
            Err(e) => return problem(StatusCode::BAD_REQUEST, &format!("not a JSON Patch: {e}")),
        };
        let mut state = self.state.lock().expect("writes lock");
        let Some(current) = self.current(&state, answers, url) else {
            return problem(StatusCode::NOT_FOUND, &format!("{url} does not exist"));
        };
        let mut doc: Value = match serde_json::from_slice(&current.body) {
            Ok(v) => v,
            Err(_) => {
                return problem(
                    StatusCode::CONFLICT,
                    "the resource has no JSON body to patch",
                )
            }
        };
        if let Err(e) = json_patch::patch(&mut doc, &ops) {
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
    pub fn delete(&self, answers: &Answers, url: &str) -> Reply {
        let mut state = self.state.lock().expect("writes lock");
        if self.current(&state, answers, url).is_none() {
            return problem(StatusCode::NOT_FOUND, &format!("{url} does not exist"));
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
fn relist(doc: &mut Value, url: &str, ops: &json_patch::Patch) -> bool {
    match doc {
        Value::Array(items) => {
            let mut changed = false;
            for v in items.iter_mut() {
                let representation = v.as_object().is_some_and(|m| m.len() > 2);
                if representation && denotes(v, url) {
                    let mut copy = v.clone();
                    if json_patch::patch(&mut copy, ops).is_ok() && copy != *v {
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
        let ops: json_patch::Patch =
            serde_json::from_value(json!([{"op":"replace","path":"/c","value":null}])).unwrap();
        let mut doc = json!({
            "results": [{"url": "http://h/o/1", "id": 1, "c": 7}, {"url": "http://h/o/2", "id": 2, "c": 8}],
            "links": [{"href": "http://h/o/1"}]
        });
        assert!(relist(&mut doc, "http://h/o/1", &ops));
        assert_eq!(doc["results"][0]["c"], json!(null));
        assert_eq!(doc["results"][1]["c"], json!(8));
        assert_eq!(doc["links"][0], json!({"href": "http://h/o/1"}));
    }
}
