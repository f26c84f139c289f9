//! What a body looks like: a list page and its elements, a representation's own URL, the
//! scalar members of an item, and names (singular kind names, name hints).

use std::borrow::Cow;

use crate::rules::escape_token;
use serde_json::Value;

/// Members that hold hypermedia controls or metadata, never an id link of the data.
const CONTROLS: &[&str] = &[
    "_links",
    "_embedded",
    "_templates",
    "links",
    "entities",
    "actions",
    "class",
    "rel",
    "href",
    "@context",
    "@id",
    "@type",
    "type",
    "relationships",
    "meta",
    "self",
    "url",
];

/// The list a page holds, as DESIGN.md's `collection` reads it: the body if it is an array,
/// else the first array at `/results`, `/data`, `/items`, `/_embedded/*`,
/// `/collection/items` or `/entities`, with the pointer to it.
pub fn list(body: &Value) -> Option<(String, &[Value])> {
    if let Some(a) = body.as_array() {
        return Some((String::new(), a.as_slice()));
    }
    let obj = body.as_object()?;
    for key in ["results", "data", "items"] {
        if let Some(a) = obj.get(key).and_then(Value::as_array) {
            return Some((format!("/{key}"), a.as_slice()));
        }
    }
    if let Some(emb) = obj.get("_embedded").and_then(Value::as_object) {
        for (k, v) in emb {
            if let Some(a) = v.as_array() {
                return Some((format!("/_embedded/{}", escape_token(k)), a.as_slice()));
            }
        }
    }
    if let Some(a) = body
        .get("collection")
        .and_then(|c| c.get("items"))
        .and_then(Value::as_array)
    {
        return Some(("/collection/items".into(), a.as_slice()));
    }
    obj.get("entities")
        .and_then(Value::as_array)
        .map(|a| ("/entities".into(), a.as_slice()))
}

/// Whether a body is a list page rather than one resource: a bare array; a DRF `results`,
/// HAL `_embedded`, JSON:API `data` or Collection+JSON `items` list; an `items` or Siren
/// `entities` list beside paging members (`next`, `count`, `total`, `page`, …, or a Siren
/// `collection` class); or a HAL `_links.item(s)` array. An order's `items` of line items,
/// with no paging beside them, is not a page.
pub fn is_page(body: &Value) -> bool {
    let Some((ptr, _)) = list(body) else {
        let links = body.get("_links");
        return ["item", "items"]
            .iter()
            .any(|k| links.and_then(|l| l.get(k)).is_some_and(Value::is_array));
    };
    match ptr.as_str() {
        "/items" | "/entities" => paging(body),
        _ => true,
    }
}

/// Whether an object carries paging members.
fn paging(body: &Value) -> bool {
    // Not `total` or `count` alone: an order has a total.
    const PAGING: &[&str] = &[
        "next",
        "previous",
        "prev",
        "page",
        "page_size",
        "per_page",
        "total_pages",
        "totalCount",
        "total_count",
        "offset",
        "cursor",
    ];
    let has = |o: Option<&Value>| {
        o.and_then(Value::as_object)
            .is_some_and(|m| PAGING.iter().any(|k| m.contains_key(*k)))
    };
    has(Some(body))
        || has(body.get("properties"))
        || has(body.get("_links"))
        || has(body.get("links"))
        || has(body.get("meta"))
        || body
            .get("class")
            .and_then(Value::as_array)
            .is_some_and(|c| c.iter().any(|x| x.as_str() == Some("collection")))
}

/// The URL a listed element names itself by (`url`, `self`, HAL/JSON:API `self`, Siren
/// `href`, JSON-LD `@id`), if any.
pub fn self_url(el: &Value) -> Option<&str> {
    el.get("url")
        .and_then(Value::as_str)
        .or_else(|| el.get("self").and_then(Value::as_str))
        .or_else(|| {
            el.get("_links")
                .and_then(|l| l.get("self"))
                .and_then(|s| s.get("href"))
                .and_then(Value::as_str)
        })
        .or_else(|| {
            el.get("links")
                .and_then(|l| l.get("self"))
                .and_then(|s| s.as_str().or_else(|| s.get("href").and_then(Value::as_str)))
        })
        .or_else(|| el.get("href").and_then(Value::as_str))
        .or_else(|| el.get("@id").and_then(Value::as_str))
}

/// A scalar as an id would be written into a path (`17`, `p-0003`), if it could be one.
pub fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => {
            let plausible = !s.is_empty()
                && s.len() <= 128
                && !s.chars().any(char::is_whitespace)
                && !s.contains("://")
                && !s.starts_with('/');
            plausible.then(|| s.to_string())
        }
        Value::Number(n) => {
            let t = n.to_string();
            t.bytes()
                .all(|b| b.is_ascii_digit() || b == b'-')
                .then_some(t)
        }
        _ => None,
    }
}

/// Every scalar leaf of an item body outside its hypermedia controls, with its pointer
/// pattern (array indices as `*`): `(pattern, value)`.
pub fn leaves(body: &Value) -> Vec<(String, &Value)> {
    let mut out = Vec::new();
    walk(body, &mut String::new(), 0, &mut out);
    out
}

fn walk<'v>(v: &'v Value, prefix: &mut String, depth: usize, out: &mut Vec<(String, &'v Value)>) {
    if depth > 16 {
        return;
    }
    let len = prefix.len();
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                if CONTROLS.contains(&k.as_str()) {
                    continue;
                }
                prefix.push('/');
                prefix.push_str(&escape_token(k));
                walk(child, prefix, depth + 1, out);
                prefix.truncate(len);
            }
        }
        Value::Array(items) => {
            prefix.push_str("/*");
            for item in items {
                walk(item, prefix, depth + 1, out);
            }
            prefix.truncate(len);
        }
        Value::Null | Value::Bool(_) => {}
        _ => out.push((prefix.clone(), v)),
    }
}

/// The singular of an English plural, as far as kind names go (`customers` → `customer`,
/// `categories` → `category`, `addresses` → `address`).
pub fn singular(word: &str) -> String {
    let w = word.to_ascii_lowercase();
    if let Some(stem) = w.strip_suffix("ies") {
        return format!("{stem}y");
    }
    for end in ["sses", "xes", "ches", "shes", "zes"] {
        if w.ends_with(end) {
            return w[..w.len() - 2].to_string();
        }
    }
    if w.ends_with("ses") && w.len() > 4 {
        return w[..w.len() - 2].to_string();
    }
    match w.strip_suffix('s') {
        Some(stem) if !stem.ends_with(['s', 'u']) && !stem.is_empty() => stem.to_string(),
        _ => w,
    }
}

/// A name the rules accept (ASCII letters, digits, `_`, `-`), never empty.
pub fn sanitize(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    let s = s.trim_matches('_').to_string();
    if s.is_empty() {
        "x".into()
    } else {
        s
    }
}

/// What a member name says it refers to: `customer_id`, `customerId`, `customer`,
/// `customer_ids`, `customerUrl` → `customer`.
pub fn hint(name: &str) -> Cow<'_, str> {
    let lower: String = name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let mut stem = lower.as_str();
    for end in ["ids", "id", "uuid", "urls", "url", "href", "ref", "key"] {
        if let Some(s) = stem.strip_suffix(end) {
            if !s.is_empty() {
                stem = s;
                break;
            }
        }
    }
    Cow::Owned(singular(stem))
}

/// Whether a member name hints at a kind (its name, or a 3+ letter abbreviation of it).
pub fn hints_at(member: &str, kind: &str) -> bool {
    let h = hint(member);
    let k: String = kind
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    !h.is_empty() && (h == k || (h.len() >= 3 && k.starts_with(h.as_ref())))
}

/// The last named token of a pointer pattern (`/items/*/product_id` → `product_id`).
pub fn member_name(pattern: &str) -> &str {
    pattern
        .rsplit('/')
        .find(|t| *t != "*" && !t.is_empty())
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(singular("customers"), "customer");
        assert_eq!(singular("categories"), "category");
        assert_eq!(singular("addresses"), "address");
        assert_eq!(singular("boxes"), "box");
        assert_eq!(singular("status"), "status");
        assert_eq!(sanitize("Line Items"), "line_items");
        for m in [
            "customer_id",
            "customerId",
            "customer",
            "customers",
            "CustomerIds",
            "cust_id",
        ] {
            assert!(hints_at(m, "customer"), "{m}");
        }
        assert!(!hints_at("qty", "customer"));
        assert!(!hints_at("order_id", "customer"));
        assert_eq!(member_name("/items/*/product_id"), "product_id");
    }

    #[test]
    fn leaves_skip_controls() {
        let v: Value = serde_json::from_str(
            r#"{"id":1,"_links":{"self":{"href":"x"}},"items":[{"product_id":"p-1","qty":2}],"ok":true}"#,
        )
        .unwrap();
        let l: Vec<String> = leaves(&v).into_iter().map(|(p, _)| p).collect();
        assert_eq!(l, ["/id", "/items/*/product_id", "/items/*/qty"]);
        assert!(is_page(&serde_json::json!([])));
    }
}
