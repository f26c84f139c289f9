//! Cross-format tests of the walker: frames, dedup, scope, order, depth and robustness.

use std::collections::HashSet;

use serde_json::{json, Value};

use super::testutil::*;
use super::*;

const ORDER: &str = "http://127.0.0.1:8082/orders/1";
const C3: &str = "http://127.0.0.1:8081/customers/3";

#[test]
fn rule_pointer_and_hypermedia_link_are_one_reference() {
    let r = shop_builder()
        .pointer_link("order", "customer", "/_links/customer/href", "customer")
        .pointer_link("order", "buyer", "/buyer", "customer")
        .build();
    let body = json!({
        "_links": {"self": {"href": ORDER}, "customer": {"href": "/customers/3"}},
        "buyer": C3,
        "_templates": {"default": {"method": "PUT", "target": "http://127.0.0.1:8082/x"}}
    });
    let x = run(&r, "http://127.0.0.1:8081/customers/3/orders/1", &body);
    // (fetched on the customers service so that `/customers/3` resolves to C3)
    let src = "http://127.0.0.1:8081/customers/3/orders/1";
    assert!(r.kind_of(&Url::parse(src).unwrap()).is_none());
    assert_eq!(
        rows(&r, &x.links),
        vec![
            row(src, "/_links/customer/href", C3, "-"),
            row(src, "/_links/self/href", ORDER, "-"),
            row(src, "/buyer", C3, "-"),
        ]
    );
    let x = run(&r, ORDER, &body);
    assert_eq!(
        rows(&r, &x.links),
        vec![
            row(
                ORDER,
                "/_links/customer/href",
                "http://127.0.0.1:8082/customers/3",
                "order.customer"
            ),
            row(ORDER, "/buyer", C3, "order.buyer"),
        ]
    );
}

#[test]
fn embedded_self_equal_to_the_resource_is_not_a_new_source() {
    let r = shop();
    let body = json!({
        "_embedded": {
            "me": {"_links": {"self": {"href": "/orders/1"},
                              "customer": {"href": C3}}},
            "other": {"_links": {"self": {"href": "https://elsewhere.example/o/1"},
                                 "products": {"href": "http://127.0.0.1:8083/products/1"}}},
            "loop": {"_links": {"self": {"href": C3}},
                     "_embedded": {"back": {"_links": {"self": {"href": "/orders/1"},
                                                       "customer": {"href": C3}}}}}
        }
    });
    let x = run(&r, ORDER, &body);
    assert_eq!(
        rows(&r, &x.links),
        vec![
            // `loop` is customer 3; inside it, `back` is the order again (its own frame, the
            // same reference as the one read at the top: reported once).
            row(ORDER, "/_embedded/loop/_links/self/href", C3, "-"),
            row(C3, "/_embedded/back/_links/self/href", ORDER, "-"),
            row(ORDER, "/_links/customer/href", C3, "order.customer"),
            // `me` is the order itself: its links stay with it, pointers from the root.
            row(
                ORDER,
                "/_embedded/me/_links/customer/href",
                C3,
                "order.customer"
            ),
            // `other` has an out-of-scope self: not a frame, its links stay with the order.
            row(
                ORDER,
                "/_embedded/other/_links/products/href",
                "http://127.0.0.1:8083/products/1",
                "order.products"
            ),
        ]
    );
    assert_eq!(
        rows(&r, &x.out_of_scope),
        vec![row(
            ORDER,
            "/_embedded/other/_links/self/href",
            "https://elsewhere.example/o/1",
            "-"
        )]
    );
}

#[test]
fn pointers_are_escaped() {
    let r = shop();
    let body = json!({"a/b": {"c~d": "http://127.0.0.1:8081/customers/1"},
                      "_links": {"x:y/z": {"href": "/orders/2"}}});
    let x = run(&r, ORDER, &body);
    let p: Vec<_> = x.links.iter().map(|l| l.pointer.as_str()).collect();
    assert_eq!(p, vec!["/_links/x:y~1z/href", "/a~1b/c~0d"]);
}

#[test]
fn scalar_and_missing_bodies() {
    let r = shop();
    let x = run(&r, ORDER, &json!(C3));
    assert_eq!(rows(&r, &x.links), vec![row(ORDER, "", C3, "-")]);
    assert_eq!(run(&r, ORDER, &json!(null)), Extracted::default());
    assert_eq!(run_with(&r, ORDER, &[], None), Extracted::default());
}

fn nested(depth: usize, leaf: Value) -> Value {
    let mut v = leaf;
    for _ in 0..depth {
        v = json!([v]);
    }
    v
}

#[test]
fn depth_is_bounded() {
    let r = shop();
    assert_eq!(run(&r, ORDER, &nested(200, json!(C3))).links.len(), 1);
    assert!(run(&r, ORDER, &nested(MAX_DEPTH + 10, json!(C3)))
        .links
        .is_empty());
    let mut deep = json!({"_links": {"customer": {"href": C3}}});
    for _ in 0..MAX_DEPTH + 10 {
        deep = json!({"_embedded": {"x": deep}});
    }
    assert!(run(&r, ORDER, &deep).links.is_empty());
}

#[test]
fn huge_collection_is_linear() {
    let r = shop_builder()
        .collection("order", "/orders")
        .pointer_link("order", "customer", "/customer_id", "customer")
        .build();
    let n = 50_000;
    let body = Value::Array(
        (0..n)
            .map(|i| json!({"id": i, "customer_id": i % 100, "same": C3}))
            .collect(),
    );
    let x = run(&r, "http://127.0.0.1:8082/orders", &body);
    // Per element: the page's reference, the rule link, the plain URL.
    assert_eq!(x.links.len(), 3 * n);
}

/// A tiny deterministic generator of hostile JSON made of hypermedia-looking pieces.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'s>(&mut self, xs: &[&'s str]) -> &'s str {
        xs[(self.next() % xs.len() as u64) as usize]
    }
    fn value(&mut self, depth: usize) -> Value {
        const KEYS: &[&str] = &[
            "_links",
            "_embedded",
            "self",
            "href",
            "templated",
            "links",
            "data",
            "included",
            "relationships",
            "related",
            "type",
            "id",
            "lid",
            "attributes",
            "entities",
            "actions",
            "name",
            "rel",
            "properties",
            "collection",
            "items",
            "queries",
            "@id",
            "@context",
            "url",
            "results",
            "customer_id",
            "a/b~",
            "",
            "0",
        ];
        const STRS: &[&str] = &[
            "http://127.0.0.1:8081/customers/3",
            "/orders/2",
            "orders",
            "customers",
            "products",
            "self",
            "next customer",
            "_:b0",
            "",
            "  ",
            "https://x.example/a#b",
            "mailto:a@b",
            "http://",
            "http://[::1",
            "/orders{?x}",
            "%zz",
            "\u{0}\u{7f}é",
            "//127.0.0.1:8083/products/1",
            "urn:x:1",
            "3",
            "ftp://h/x",
            "HTTP://H:80/",
        ];
        match self.next() % if depth > 6 { 4 } else { 7 } {
            0 => Value::Null,
            1 => json!(self.next() % 3 == 0),
            2 => json!((self.next() % 1000) as i64 - 10),
            3 => json!(self.pick(STRS)),
            4 | 5 => Value::Object(
                (0..self.next() % 6)
                    .map(|_| (self.pick(KEYS).to_string(), self.value(depth + 1)))
                    .collect(),
            ),
            _ => Value::Array(
                (0..self.next() % 5)
                    .map(|_| self.value(depth + 1))
                    .collect(),
            ),
        }
    }
}

#[test]
fn arbitrary_input_never_panics_and_keeps_invariants() {
    let r = shop_builder()
        .collection("order", "/orders")
        .rel_link("order", "customer", "customer", "customer")
        .pointer_link("order", "lines", "/items/*/customer_id", "customer")
        .pointer_link("order", "x", "/data/relationships/*", "product")
        .build();
    let urls = [
        ORDER,
        "http://127.0.0.1:8082/orders?page=2",
        C3,
        "http://other.example/",
    ];
    let headers = [
        "<http://127.0.0.1:8081/customers/3>; rel=\"customer next\", <\"",
        "<<>>;;,,<a>;rel=",
        "</orders/3>; rel=customer; title=\"a,b\\\"",
        "",
    ];
    let mut g = Gen(0x9E37_79B9_7F4A_7C15);
    for i in 0..3000 {
        let body = g.value(0);
        let url = urls[i % urls.len()];
        let h = [("link", headers[i % headers.len()])];
        let x = run_with(&r, url, &h, Some(&body));
        assert_eq!(x, run_with(&r, url, &h, Some(&body)), "deterministic");
        let mut seen = HashSet::new();
        for l in x.links.iter().chain(&x.out_of_scope) {
            assert_ne!(l.source.as_str(), l.target, "{body}");
            assert!(
                seen.insert((&l.source, &l.pointer, &l.target)),
                "dup in {body}"
            );
            assert!(
                l.pointer.is_empty() || l.pointer.starts_with('/') || l.pointer == HEADER_POINTER
            );
            // The target text is a canonical URL, whether it was parsed or taken as written.
            let parsed = crate::canon::parse_absolute(&l.target).expect("an http(s) URL");
            assert_eq!(parsed.as_str(), l.target, "{body}");
            assert!(matches!(parsed.scheme(), "http" | "https"));
        }
        let service = |l: &FoundLink| r.service_of(&Url::parse(&l.target).unwrap());
        assert!(x.links.iter().all(|l| service(l).is_some()));
        assert!(x.out_of_scope.iter().all(|l| service(l).is_none()));
    }
}
