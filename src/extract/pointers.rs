//! Rule pointers: for a representation whose resource has a kind, each of the kind's
//! `pointer` link rules is matched against the representation. A value found there that is an
//! absolute URL or starts with `/` is a URL (relative ones resolve against the resource's
//! URL); another non-empty string or a number is an id filled into the target kind's path;
//! anything else is no link.

use std::borrow::Cow;
use std::fmt::Write as _;

use crate::json::Value;
use url::Url;

use super::{plain, Rels, Walker};
use crate::canon;
use crate::rules::{escape_token, KindId, LinkId, Rules, Selector};

/// An id: a non-empty (trimmed) string or a number.
pub(super) fn id_of<'v>(v: &'v Value<'v>) -> Option<Cow<'v, str>> {
    match v {
        Value::String(s) => {
            let s = s.trim();
            (!s.is_empty()).then_some(Cow::Borrowed(s))
        }
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        _ => None,
    }
}

/// The target of a rule-pointer value in a resource at `source` (see the module doc).
pub(super) fn target_of(rules: &Rules, source: &Url, to: KindId, v: &Value<'_>) -> Option<Url> {
    if let Value::String(s) = v {
        let t = s.trim();
        if t.starts_with('/') {
            return canon::resolve(source, t);
        }
        if plain::looks_absolute_http(t) {
            return canon::parse_absolute(t);
        }
        if t.contains("://") {
            // An absolute URL of another scheme: not an id, and not followed.
            return None;
        }
    }
    Some(rules.fill(to, &id_of(v)?))
}

/// Runs the pointer rules of frame `frame`'s kind on its representation `v`.
pub(super) fn apply(w: &mut Walker<'_>, v: &Value<'_>, frame: usize) {
    let rules = w.rules;
    let (kind, prefix) = {
        let f = &w.frames[frame];
        (f.kind, f.prefix)
    };
    let Some(kind) = kind else {
        return;
    };
    let has_pointer_rules = rules
        .links_of(kind)
        .any(|(_, l)| matches!(l.selector, Selector::Pointer(_)));
    if !has_pointer_rules {
        return;
    }
    let source = w.sink.source_url(w.frames[frame].source).into_owned();
    let mut path = String::new();
    for (id, rule) in rules.links_of(kind) {
        let Selector::Pointer(p) = &rule.selector else {
            continue;
        };
        // The pattern is written against the resource's own document; an embedded
        // representation sits at `prefix` there.
        let Some(rest) = strip_prefix(&p.tokens, prefix.1) else {
            continue;
        };
        path.clear();
        path.push_str(prefix.0);
        let mut m = Match {
            w: &mut *w,
            rules,
            source: &source,
            rule: id,
            to: rule.to,
            frame,
        };
        m.walk(rest, v, &mut path);
    }
}

fn strip_prefix<'p>(tokens: &'p [Option<String>], prefix: &[&str]) -> Option<&'p [Option<String>]> {
    if tokens.len() < prefix.len() {
        return None;
    }
    let (head, rest) = tokens.split_at(prefix.len());
    head.iter()
        .zip(prefix)
        .all(|(t, p)| match t {
            Some(t) => t == p,
            None => index(p).is_some(),
        })
        .then_some(rest)
}

/// An array index token (RFC 6901: no leading zeros).
fn index(t: &str) -> Option<usize> {
    if t == "0" || (!t.starts_with('0') && !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit())) {
        t.parse().ok()
    } else {
        None
    }
}

struct Match<'w, 'a, 'x> {
    w: &'w mut Walker<'a>,
    rules: &'x Rules,
    source: &'x Url,
    rule: LinkId,
    to: KindId,
    frame: usize,
}

impl Match<'_, '_, '_> {
    fn walk(&mut self, tokens: &[Option<String>], v: &Value<'_>, path: &mut String) {
        let Some((first, rest)) = tokens.split_first() else {
            if let Some(t) = target_of(self.rules, self.source, self.to, v) {
                self.w
                    .emit_at(self.frame, path, t, Rels::None, Some(self.rule));
            }
            return;
        };
        let len = path.len();
        match (first, v) {
            (None, Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    let _ = write!(path, "/{i}");
                    self.walk(rest, item, path);
                    path.truncate(len);
                }
            }
            (Some(t), Value::Object(m)) => {
                if let Some(item) = m.get(t) {
                    path.push('/');
                    path.push_str(&escape_token(t));
                    self.walk(rest, item, path);
                    path.truncate(len);
                }
            }
            (Some(t), Value::Array(items)) => {
                if let Some(item) = index(t).and_then(|i| items.get(i)) {
                    path.push('/');
                    path.push_str(t);
                    self.walk(rest, item, path);
                    path.truncate(len);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::extract::testutil::*;

    const ORDER: &str = "http://127.0.0.1:8082/orders/1";

    fn rules() -> Rules {
        shop_builder()
            .pointer_link("order", "customer", "/customer_id", "customer")
            .pointer_link("order", "lines", "/lines/*/product", "product")
            .pointer_link("order", "seller", "/data/attributes/seller", "customer")
            .pointer_link("order", "odd", "/a~1b/*/c~0d", "customer")
            .build()
    }

    #[test]
    fn values_are_urls_ids_or_nothing() {
        let r = rules();
        let src = Url::parse(ORDER).unwrap();
        let t =
            |v: serde_json::Value| target_of(&r, &src, 0, &Value::from(&v)).map(|u| u.to_string());
        let c = |s: &str| Some(format!("http://127.0.0.1:8081/customers/{s}"));
        assert_eq!(t(json!(3)), c("3"));
        assert_eq!(t(json!("a b/c")), c("a%20b%2Fc"));
        assert_eq!(t(json!(" 7 ")), c("7"));
        assert_eq!(
            t(json!("/customers/9")),
            Some("http://127.0.0.1:8082/customers/9".into())
        );
        assert_eq!(t(json!("http://127.0.0.1:8081/customers/4")), c("4"));
        assert_eq!(t(json!("urn:cust:5")), c("urn:cust:5"));
        for none in [
            json!(null),
            json!(""),
            json!("  "),
            json!(true),
            json!({}),
            json!([1]),
        ] {
            assert_eq!(t(none), None);
        }
        assert_eq!(t(json!("ftp://127.0.0.1:8081/customers/4")), None);
    }

    #[test]
    fn rules_match_concrete_pointers_with_relations() {
        let r = rules();
        let body = json!({
            "id": 1,
            "customer_id": 3,
            "lines": [{"product": "p1"}, {"product": null}, {"qty": 1},
                      {"product": "http://127.0.0.1:8083/products/p4"}],
            "note": "",
            "a/b": [{"c~d": 4}]
        });
        let x = run(&r, ORDER, &body);
        assert_eq!(
            rows(&r, &x.links),
            vec![
                // Found by the plain scan first, then named by the rule: one reference.
                row(
                    ORDER,
                    "/lines/3/product",
                    "http://127.0.0.1:8083/products/p4",
                    "order.lines"
                ),
                row(
                    ORDER,
                    "/customer_id",
                    "http://127.0.0.1:8081/customers/3",
                    "order.customer"
                ),
                row(
                    ORDER,
                    "/lines/0/product",
                    "http://127.0.0.1:8083/products/p1",
                    "order.lines"
                ),
                row(
                    ORDER,
                    "/a~1b/0/c~0d",
                    "http://127.0.0.1:8081/customers/4",
                    "order.odd"
                ),
            ]
        );
    }

    #[test]
    fn embedded_jsonapi_resource_matches_its_own_document_pointer() {
        let r = rules();
        let page = "http://127.0.0.1:8082/orders";
        let body = json!({"data": [
            {"type": "orders", "id": "1", "attributes": {"seller": "5"}}
        ]});
        let x = run(&r, page, &body);
        assert_eq!(
            rows(&r, &x.links),
            vec![
                row(page, "/data/0/id", ORDER, "-"),
                row(
                    ORDER,
                    "/data/attributes/seller",
                    "http://127.0.0.1:8081/customers/5",
                    "order.seller"
                ),
            ]
        );
        let single = json!({"data": {"type": "orders", "id": "1", "attributes": {"seller": 5}}});
        assert_eq!(
            rows(&r, &run(&r, ORDER, &single).links),
            rows(&r, &x.links)[1..]
        );
    }

    #[test]
    fn prefix_is_stripped_only_when_it_matches() {
        let toks = |s: &str| crate::rules::PointerPattern::parse(s).unwrap().tokens;
        let cj = ["collection", "items", "0"];
        assert_eq!(
            strip_prefix(&toks("/collection/items/*/x"), &cj).map(<[_]>::len),
            Some(1)
        );
        assert_eq!(
            strip_prefix(&toks("/collection/items/0/x"), &cj).map(<[_]>::len),
            Some(1)
        );
        assert_eq!(strip_prefix(&toks("/collection/items/1/x"), &cj), None);
        assert_eq!(strip_prefix(&toks("/x"), &["data"]), None);
        assert_eq!(strip_prefix(&toks("/x"), &[]).map(<[_]>::len), Some(1));
    }
}
