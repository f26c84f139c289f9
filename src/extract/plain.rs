//! Plain JSON: outside the hypermedia structures a string is a link only when it is an
//! absolute `http`/`https` URL; an object with a `url` or `self` URL is a representation.

use crate::json::{Map, Value};

use super::{Rels, SelfAt, SelfLink, Walker};
use crate::canon;

/// Whether `s` starts like an absolute `http`/`https` URL (cheap test before parsing).
pub(super) fn looks_absolute_http(s: &str) -> bool {
    let b = s.trim_start().as_bytes();
    let starts = |p: &[u8]| b.len() > p.len() && b[..p.len()].eq_ignore_ascii_case(p);
    starts(b"http://") || starts(b"https://")
}

/// A string met outside the hypermedia structures.
pub(super) fn string(w: &mut Walker<'_>, s: &str) {
    if !looks_absolute_http(s) || s.contains('{') {
        return;
    }
    if let Some(c) = canon::already_canonical(s.trim()) {
        w.emit(c, Rels::None, None);
    } else if let Some(u) = canon::parse_absolute(s) {
        w.emit(u, Rels::None, None);
    }
}

/// The self link of a plain object: its `self` or `url` member, when an absolute URL.
pub(super) fn self_link<'v>(m: &'v Map<'v>) -> Option<SelfLink<'v>> {
    for (key, at) in [("self", "/self"), ("url", "/url")] {
        if let Some(Value::String(s)) = m.get(key) {
            if looks_absolute_http(s) {
                return Some(SelfLink {
                    href: s,
                    at: SelfAt::at(at),
                    relative_ok: false,
                });
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::extract::testutil::*;

    const PAGE: &str = "http://127.0.0.1:8081/customers";

    #[test]
    fn only_absolute_http_strings_are_links() {
        let r = shop();
        let x = run(
            &r,
            "http://127.0.0.1:8082/orders/1",
            &json!({
                "id": 1,
                "customer": "http://127.0.0.1:8081/customers/3",
                "relative": "/customers/4",
                "mail": "mailto:a@b.c",
                "note": "see http://127.0.0.1:8081/customers/5 for details",
                "deep": [[{"x": "HTTPS://Example.COM:443/a#frag"}]],
                "template": "http://127.0.0.1:8081/customers{?page}",
                "ftp": "ftp://127.0.0.1:8081/customers/6"
            }),
        );
        assert_eq!(
            rows(&r, &x.links),
            vec![row(
                "http://127.0.0.1:8082/orders/1",
                "/customer",
                "http://127.0.0.1:8081/customers/3",
                "-"
            )]
        );
        assert_eq!(rows(&r, &x.out_of_scope)[0].1, "/deep/0/0/x");
        assert_eq!(x.out_of_scope[0].target.as_str(), "https://example.com/a");
        assert_eq!(x.out_of_scope.len(), 1);
    }

    #[test]
    fn drf_page_items_with_url_are_representations() {
        let r = shop();
        let x = run(
            &r,
            PAGE,
            &json!({
                "count": 2,
                "next": "http://127.0.0.1:8081/customers?page=2",
                "previous": null,
                "results": [
                    {"url": "http://127.0.0.1:8081/customers/1", "name": "a",
                     "orders": ["http://127.0.0.1:8082/orders/7"]},
                    {"url": "http://127.0.0.1:8081/customers/2", "name": "b",
                     "homepage": {"url": "https://b.example/", "title": "b's"}}
                ]
            }),
        );
        assert_eq!(
            rows(&r, &x.links),
            vec![
                row(PAGE, "/next", "http://127.0.0.1:8081/customers?page=2", "-"),
                row(
                    PAGE,
                    "/results/0/url",
                    "http://127.0.0.1:8081/customers/1",
                    "-"
                ),
                row(
                    "http://127.0.0.1:8081/customers/1",
                    "/orders/0",
                    "http://127.0.0.1:8082/orders/7",
                    "-"
                ),
                row(
                    PAGE,
                    "/results/1/url",
                    "http://127.0.0.1:8081/customers/2",
                    "-"
                ),
            ]
        );
        // An out-of-scope `url` is a link, not a frame: it stays with the item.
        assert_eq!(
            rows(&r, &x.out_of_scope),
            vec![row(
                "http://127.0.0.1:8081/customers/2",
                "/homepage/url",
                "https://b.example/",
                "-"
            )]
        );
    }

    #[test]
    fn self_member_wins_and_href_objects_are_link_objects() {
        let r = shop();
        let x = run(
            &r,
            PAGE,
            &json!({"items": [
                {"self": "http://127.0.0.1:8081/customers/1",
                 "url": "http://127.0.0.1:8081/customers/1/avatar"},
                {"href": "http://127.0.0.1:8081/customers/2",
                 "url": "http://127.0.0.1:8081/customers/2/avatar"}
            ]}),
        );
        assert_eq!(
            sorted(&r, &x),
            vec![
                row(
                    PAGE,
                    "/items/0/self",
                    "http://127.0.0.1:8081/customers/1",
                    "-"
                ),
                row(
                    PAGE,
                    "/items/1/href",
                    "http://127.0.0.1:8081/customers/2",
                    "-"
                ),
                row(
                    PAGE,
                    "/items/1/url",
                    "http://127.0.0.1:8081/customers/2/avatar",
                    "-"
                ),
                row(
                    "http://127.0.0.1:8081/customers/1",
                    "/url",
                    "http://127.0.0.1:8081/customers/1/avatar",
                    "-"
                ),
            ]
        );
    }

    #[test]
    fn cheap_prefix_test() {
        assert!(looks_absolute_http("http://a"));
        assert!(looks_absolute_http("  HTTPS://a"));
        assert!(!looks_absolute_http("http://"));
        assert!(!looks_absolute_http("httpx://a"));
        assert!(!looks_absolute_http("/a"));
    }
}
