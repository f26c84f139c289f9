//! The request an operation is sent as: the plan's JSON Patch, PUT or DELETE turned into what
//! the target service speaks (its rules' `patch` and `create` dialects). Built by one function,
//! [`request`], for the dry-run table, the curl commands and `apply --execute` alike, so what
//! the plan shows is what is sent.

use std::fmt;

use serde_json::{Map, Value};
use url::Url;

use super::Operation;
use crate::rules::{CreateDialect, PatchDialect, Pointer, Rules};
use crate::vocab::Method;

/// The media type of an RFC 6902 JSON Patch.
pub const JSON_PATCH: &str = "application/json-patch+json";
/// The media type of an RFC 7396 JSON Merge Patch.
pub const MERGE_PATCH: &str = "application/merge-patch+json";
/// Plain JSON: a whole representation, or the partial object most frameworks take on PATCH.
pub const JSON: &str = "application/json";

/// The HTTP method of a request (a plan's methods, and POST to a collection).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Put,
    Post,
    Patch,
    Delete,
}

impl Verb {
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Put => "PUT",
            Verb::Post => "POST",
            Verb::Patch => "PATCH",
            Verb::Delete => "DELETE",
        }
    }
}

impl fmt::Display for Verb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// What a request carries.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    None,
    Json(Value),
    /// Made from the resource's current representation, read right before sending: `jq` is
    /// the filter that makes it (shown by a dry run, which reads nothing).
    FromCurrent {
        jq: String,
    },
}

/// One request, exactly as `apply` sends it (`If-Match` aside: it carries the ETag read
/// right before).
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub verb: Verb,
    pub url: String,
    pub content_type: Option<&'static str>,
    pub body: Body,
}

/// The patch dialect and create dialect of the service `url` belongs to (the defaults
/// outside every service).
pub fn dialects(rules: &Rules, url: &str) -> (PatchDialect, CreateDialect) {
    Url::parse(url)
        .ok()
        .and_then(|u| rules.service_of(&u))
        .map(|s| {
            let s = rules.service(s);
            (s.patch, s.create)
        })
        .unwrap_or_default()
}

/// The request that performs `op`. `patch` is the dialect to patch in (the service's, or the
/// one its `Accept-Patch` asked for); `current` is the resource's current representation
/// when it was read (`apply`), `None` for a dry run. `Err` is a sentence: the JSON Patch does
/// not apply to `current`.
pub fn request(
    op: &Operation,
    rules: &Rules,
    patch: PatchDialect,
    current: Option<&Value>,
) -> Result<Request, String> {
    let (_, create) = dialects(rules, &op.url);
    let json = |verb, url: String, body: Option<&Value>| Request {
        verb,
        url,
        content_type: Some(JSON),
        body: body.cloned().map_or(Body::None, Body::Json),
    };
    Ok(match op.method {
        Method::Delete => Request {
            verb: Verb::Delete,
            url: op.url.clone(),
            content_type: None,
            body: Body::None,
        },
        Method::Put => match create {
            CreateDialect::Put => json(Verb::Put, op.url.clone(), op.body.as_ref()),
            CreateDialect::Post => {
                json(Verb::Post, collection_of(rules, &op.url), op.body.as_ref())
            }
        },
        Method::Patch => {
            let ops = match &op.body {
                Some(Value::Array(ops)) => ops.as_slice(),
                _ => &[],
            };
            let patched = match current {
                Some(doc) => Some(apply_patch(doc, ops)?),
                None => None,
            };
            let body = match (patch, &patched) {
                (PatchDialect::JsonPatch, _) => Body::Json(Value::Array(ops.to_vec())),
                (PatchDialect::Put, Some(new)) => Body::Json(new.clone()),
                (PatchDialect::Put, None) => Body::FromCurrent { jq: jq_filter(ops) },
                (PatchDialect::MergePatch, _) => match merge_patch(ops, patched.as_ref()) {
                    Some(doc) => Body::Json(doc),
                    None => Body::FromCurrent {
                        jq: jq_merge_filter(ops),
                    },
                },
            };
            let (verb, content_type) = match patch {
                PatchDialect::JsonPatch => (Verb::Patch, JSON_PATCH),
                PatchDialect::MergePatch => (Verb::Patch, JSON),
                PatchDialect::Put => (Verb::Put, JSON),
            };
            Request {
                verb,
                url: op.url.clone(),
                content_type: Some(content_type),
                body,
            }
        }
    })
}

/// Where a lost resource is POSTed: its kind's `collection`, else its URL's parent (with the
/// item path's trailing slash, if it has one: `/customers/7/` → `/customers/`).
pub fn collection_of(rules: &Rules, url: &str) -> String {
    let Ok(parsed) = Url::parse(url) else {
        return url.to_string();
    };
    let collection = rules
        .kind_of(&parsed)
        .and_then(|(k, _)| rules.kind(k).collection.clone());
    let path = collection.unwrap_or_else(|| {
        let p = parsed.path();
        let slash = p.ends_with('/') && p.len() > 1;
        let trimmed = p.strip_suffix('/').unwrap_or(p);
        let parent = &trimmed[..trimmed.rfind('/').map_or(0, |i| i + 1)];
        if slash || parent.len() <= 1 {
            parent.to_string()
        } else {
            parent.trim_end_matches('/').to_string()
        }
    });
    let mut u = parsed;
    u.set_path(&path);
    u.set_query(None);
    u.to_string()
}

/// `doc` with the JSON Patch `ops` applied.
pub fn apply_patch(doc: &Value, ops: &[Value]) -> Result<Value, String> {
    let patch: json_patch::Patch = serde_json::from_value(Value::Array(ops.to_vec()))
        .map_err(|e| format!("not a JSON Patch: {e}"))?;
    let mut new = doc.clone();
    json_patch::patch(&mut new, &patch)
        .map_err(|e| format!("the patch does not apply to the current representation: {e}"))?;
    Ok(new)
}

/// A pointer's tokens, with all-digit tokens taken as array indices (numbers for jq).
fn tokens(path: &str) -> Vec<String> {
    Pointer::parse(path).map(|p| p.tokens).unwrap_or_default()
}

fn is_index(token: &str) -> bool {
    !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit())
}

/// A jq path (`["a",1]`) of pointer tokens.
fn jq_path(tokens: &[String]) -> String {
    let parts: Vec<String> = tokens
        .iter()
        .map(|t| {
            if is_index(t) {
                t.clone()
            } else {
                Value::String(t.clone()).to_string()
            }
        })
        .collect();
    format!("[{}]", parts.join(","))
}

/// The jq filter that applies a JSON Patch of `replace` and `remove` operations.
fn jq_filter(ops: &[Value]) -> String {
    let steps: Vec<String> = ops
        .iter()
        .filter_map(|op| {
            let path = jq_path(&tokens(op.get("path")?.as_str()?));
            match op.get("op")?.as_str()? {
                "replace" => Some(format!(
                    "setpath({path}; {})",
                    op.get("value").unwrap_or(&Value::Null)
                )),
                "remove" => Some(format!("delpaths([{path}])")),
                _ => None,
            }
        })
        .collect();
    if steps.is_empty() {
        ".".into()
    } else {
        steps.join(" | ")
    }
}

/// Where a merge patch sets each operation's effect: the path up to its first array index
/// (a merge patch replaces arrays whole), and whether that is the whole path.
fn leaves(ops: &[Value]) -> Vec<(Vec<String>, bool)> {
    let mut out: Vec<(Vec<String>, bool)> = Vec::new();
    for op in ops {
        let Some(path) = op.get("path").and_then(Value::as_str) else {
            continue;
        };
        let t = tokens(path);
        let cut = t.iter().position(|x| is_index(x)).unwrap_or(t.len());
        let leaf = (t[..cut].to_vec(), cut == t.len());
        if !leaf.0.is_empty() && !out.contains(&leaf) {
            out.push(leaf);
        }
    }
    out
}

/// The merge patch (RFC 7396) with the effect of `ops`: each leaf set to its value in the
/// patched document (`null` where the member is gone). `None` when a leaf holds an array and
/// the patched document is not known (a dry run).
fn merge_patch(ops: &[Value], patched: Option<&Value>) -> Option<Value> {
    let mut doc = Value::Object(Map::new());
    for (leaf, whole) in leaves(ops) {
        let value = match patched {
            Some(new) => get(new, &leaf).cloned().unwrap_or(Value::Null),
            None if whole => ops
                .iter()
                .find(|op| op.get("path").and_then(Value::as_str).map(tokens) == Some(leaf.clone()))
                .and_then(|op| op.get("value"))
                .cloned()
                .unwrap_or(Value::Null),
            None => return None,
        };
        set(&mut doc, &leaf, value);
    }
    Some(doc)
}

/// The jq filter that makes the merge patch of `ops` from the current representation.
fn jq_merge_filter(ops: &[Value]) -> String {
    let sets: Vec<String> = leaves(ops)
        .iter()
        .map(|(leaf, _)| {
            let p = jq_path(leaf);
            format!("setpath({p}; $n | getpath({p}))")
        })
        .collect();
    format!("({}) as $n | {{}} | {}", jq_filter(ops), sets.join(" | "))
}

fn get<'a>(doc: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(doc, |v, t| match v {
        Value::Object(m) => m.get(t),
        Value::Array(a) => a.get(t.parse::<usize>().ok()?),
        _ => None,
    })
}

/// Sets `path` (object members only) in `doc`, making the objects on the way.
fn set(doc: &mut Value, path: &[String], value: Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut at = doc;
    for t in parents {
        if !at.is_object() {
            *at = Value::Object(Map::new());
        }
        at = at
            .as_object_mut()
            .expect("an object")
            .entry(t.clone())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    if !at.is_object() {
        *at = Value::Object(Map::new());
    }
    at.as_object_mut()
        .expect("an object")
        .insert(last.clone(), value);
}

/// Whether the read-back `after` shows the effect of the JSON Patch `ops` planned against
/// `before`: each `replace … null` path is null or absent, each removed member is absent,
/// and each array an element was removed from is as the patch left it (or gone). `Err`
/// names the first path that still holds the reference.
pub fn shows_effect(ops: &[Value], before: &Value, after: &Value) -> Result<(), String> {
    let expected = apply_patch(before, ops).ok();
    for op in ops {
        let Some(path) = op.get("path").and_then(Value::as_str) else {
            continue;
        };
        let t = tokens(path);
        let removes_element = op.get("op").and_then(Value::as_str) == Some("remove")
            && t.last().is_some_and(|x| is_index(x));
        if removes_element {
            let parent = &t[..t.len() - 1];
            let now = get(after, parent);
            let want = expected.as_ref().and_then(|e| get(e, parent));
            if now.is_some_and(|n| !n.is_null() && Some(n) != want) {
                return Err(format!(
                    "{path}: the array still holds {}",
                    excerpt(now.unwrap_or(&Value::Null))
                ));
            }
        } else if let Some(v) = get(after, &t).filter(|v| !v.is_null()) {
            return Err(format!("{path} is still {}", excerpt(v)));
        }
    }
    Ok(())
}

/// A short rendering of a JSON value for a message.
pub fn excerpt(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 120 {
        format!("{}…", s.chars().take(120).collect::<String>())
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Service;
    use crate::vocab::Action;
    use serde_json::json;

    fn rules(patch: PatchDialect, create: CreateDialect, base: &str) -> Rules {
        Rules {
            path: "t.toml".into(),
            services: vec![Service {
                patch,
                create,
                ..Service::new("shop", Url::parse(base).unwrap())
            }],
            kinds: Vec::new(),
            links: Vec::new(),
        }
    }

    fn op(method: Method, url: &str, body: Option<Value>) -> Operation {
        Operation {
            method,
            url: url.into(),
            content_type: None,
            body,
            actions: vec![Action::SetNull],
            findings: vec!["f".into()],
            reasons: Vec::new(),
        }
    }

    #[test]
    fn merge_patch_sets_members_and_replaces_arrays_whole() {
        let r = rules(PatchDialect::MergePatch, CreateDialect::Put, "http://h/");
        let ops = json!([
            {"op":"replace","path":"/customer_id","value":null},
            {"op":"remove","path":"/_links/customer"},
            {"op":"remove","path":"/_links/products/1"}
        ]);
        let o = op(Method::Patch, "http://h/orders/1", Some(ops));
        let dry = request(&o, &r, PatchDialect::MergePatch, None).unwrap();
        assert_eq!(dry.verb, Verb::Patch);
        assert_eq!(dry.content_type, Some(JSON));
        let Body::FromCurrent { jq } = &dry.body else {
            panic!("{dry:?}")
        };
        assert_eq!(
            jq,
            "(setpath([\"customer_id\"]; null) | delpaths([[\"_links\",\"customer\"]]) | \
             delpaths([[\"_links\",\"products\",1]])) as $n | {} | \
             setpath([\"customer_id\"]; $n | getpath([\"customer_id\"])) | \
             setpath([\"_links\",\"customer\"]; $n | getpath([\"_links\",\"customer\"])) | \
             setpath([\"_links\",\"products\"]; $n | getpath([\"_links\",\"products\"]))"
        );
        let current = json!({"customer_id": 3, "_links": {"customer": {"href": "/c/3"},
            "products": [{"href": "/p/1"}, {"href": "/p/2"}]}});
        let sent = request(&o, &r, PatchDialect::MergePatch, Some(&current)).unwrap();
        assert_eq!(
            sent.body,
            Body::Json(json!({"customer_id": null, "_links": {"customer": null,
                "products": [{"href": "/p/1"}]}}))
        );
    }

    #[test]
    fn a_plain_merge_patch_needs_no_read() {
        let r = rules(PatchDialect::MergePatch, CreateDialect::Put, "http://h/");
        let o = op(
            Method::Patch,
            "http://h/orders/1",
            Some(json!([{"op":"replace","path":"/customer_id","value":null}])),
        );
        let dry = request(&o, &r, PatchDialect::MergePatch, None).unwrap();
        assert_eq!(dry.body, Body::Json(json!({"customer_id": null})));
    }

    #[test]
    fn put_dialect_sends_the_whole_patched_representation() {
        let r = rules(PatchDialect::Put, CreateDialect::Put, "http://h/");
        let o = op(
            Method::Patch,
            "http://h/orders/1",
            Some(json!([{"op":"replace","path":"/customer_id","value":null}])),
        );
        let dry = request(&o, &r, PatchDialect::Put, None).unwrap();
        assert_eq!(
            dry.body,
            Body::FromCurrent {
                jq: "setpath([\"customer_id\"]; null)".into()
            }
        );
        let sent = request(
            &o,
            &r,
            PatchDialect::Put,
            Some(&json!({"id": 1, "customer_id": 3})),
        )
        .unwrap();
        assert_eq!(sent.verb, Verb::Put);
        assert_eq!(sent.body, Body::Json(json!({"id": 1, "customer_id": null})));
        let err = request(&o, &r, PatchDialect::Put, Some(&json!([1]))).unwrap_err();
        assert!(err.contains("does not apply"), "{err}");
    }

    #[test]
    fn create_by_post_goes_to_the_collection() {
        let r = rules(
            PatchDialect::JsonPatch,
            CreateDialect::Post,
            "http://h/api/",
        );
        let o = op(
            Method::Put,
            "http://h/api/products/7/",
            Some(json!({"id": "7"})),
        );
        let sent = request(&o, &r, PatchDialect::JsonPatch, None).unwrap();
        assert_eq!(sent.verb, Verb::Post);
        assert_eq!(sent.url, "http://h/api/products/");
        assert_eq!(
            collection_of(&r, "http://h/api/products/7"),
            "http://h/api/products"
        );
        let put = rules(PatchDialect::JsonPatch, CreateDialect::Put, "http://h/");
        let sent = request(&o, &put, PatchDialect::JsonPatch, None).unwrap();
        assert_eq!(
            (sent.verb, sent.url.as_str()),
            (Verb::Put, "http://h/api/products/7/")
        );
    }

    #[test]
    fn effects_are_checked_on_the_read_back() {
        let ops = json!([
            {"op":"replace","path":"/c","value":null},
            {"op":"remove","path":"/l/1"}
        ]);
        let ops = ops.as_array().unwrap();
        let before = json!({"c": 3, "l": ["a", "b", "x"]});
        assert!(shows_effect(ops, &before, &json!({"c": null, "l": ["a", "x"]})).is_ok());
        assert!(shows_effect(ops, &before, &json!({"l": ["a", "x"]})).is_ok());
        let err = shows_effect(ops, &before, &before).unwrap_err();
        assert_eq!(err, "/c is still 3");
        let err =
            shows_effect(ops, &before, &json!({"c": null, "l": ["a", "b", "x"]})).unwrap_err();
        assert!(err.starts_with("/l/1: the array still holds"), "{err}");
    }
}
