//! Link extraction: arbitrary bytes as a response body (JSON when they parse) and as a `Link`
//! header, fetched from one of a few realistic URLs, under the shop rules or the example rules.
//!
//! Input: byte 0 selects (bits 0-3) the fetched URL, (bits 4-5) the `content-type` header,
//! (bit 6) the rules; the rest is the body, also given whole as the `link` header value.
//!
//! Besides "never panics", it checks what `Extracted` promises: every `links` target is inside
//! a declared service and no `out_of_scope` target is; no link targets its own source; each
//! (source, pointer, target) appears once; sources and targets are canonical; a pointer is an
//! RFC 6901 pointer or `header:link`.
#![no_main]

use std::collections::HashSet;
use std::path::Path;
use std::sync::OnceLock;

use bacaudit::canon;
use bacaudit::extract::{extract, FoundLink, HEADER_POINTER};
use bacaudit::rules::{self, Rules};
use libfuzzer_sys::fuzz_target;
use url::Url;

struct World {
    rules: Rules,
    urls: Vec<Url>,
}

fn world(name: &str, text: &str, urls: &[&str]) -> World {
    let rules = rules::parse(Path::new(name), text, &|_| Some("x".to_string()))
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let urls = urls
        .iter()
        .map(|u| canon::parse_absolute(u).expect("a canonical fetch URL"))
        .collect();
    World { rules, urls }
}

fn worlds() -> &'static [World; 2] {
    static W: OnceLock<[World; 2]> = OnceLock::new();
    W.get_or_init(|| {
        [
            world(
                "rules/shop.toml",
                include_str!("../../rules/shop.toml"),
                &[
                    "http://127.0.0.1:8081/customers",
                    "http://127.0.0.1:8081/customers?page=2",
                    "http://127.0.0.1:8081/customers/3",
                    "http://127.0.0.1:8082/products",
                    "http://127.0.0.1:8082/products/p-0003",
                    "http://127.0.0.1:8083/shipments?page=3",
                    "http://127.0.0.1:8083/shipments/1005",
                    "http://127.0.0.1:8084/orders?page=1",
                    "http://127.0.0.1:8084/orders/5",
                    "http://elsewhere.example/x",
                ],
            ),
            world(
                "rules/example.toml",
                include_str!("../../rules/example.toml"),
                &[
                    "http://127.0.0.1:8081/customers",
                    "http://127.0.0.1:8081/customers/1",
                    "http://127.0.0.1:8082/orders",
                    "http://127.0.0.1:8082/orders?status=open",
                    "http://127.0.0.1:8082/orders/7",
                    "http://127.0.0.1:8083/api/v1/products",
                    "http://127.0.0.1:8083/api/v1/products/sku-1",
                    "http://127.0.0.1:8083/",
                ],
            ),
        ]
    })
}

const CONTENT_TYPES: [Option<&str>; 4] = [
    None,
    Some("application/json"),
    Some("application/hal+json"),
    Some("application/vnd.api+json"),
];

fn check_canonical(what: &str, u: &str, l: &FoundLink) {
    let again = canon::parse_absolute(u);
    assert_eq!(
        again.as_ref().map(Url::as_str),
        Some(u),
        "{what} is not canonical: {l:?}"
    );
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let w = &worlds()[usize::from(sel >> 6 & 1)];
    let url = &w.urls[usize::from(sel & 0x0f) % w.urls.len()];
    let mut headers = vec![(
        "link".to_string(),
        String::from_utf8_lossy(rest).into_owned(),
    )];
    if let Some(ct) = CONTENT_TYPES[usize::from(sel >> 4 & 3)] {
        headers.push(("content-type".to_string(), ct.to_string()));
    }
    let body = bacaudit::json::from_slice(rest).ok();
    // The borrowing reader accepts and reads exactly what serde_json does.
    let serde_body: Option<serde_json::Value> = serde_json::from_slice(rest).ok();
    assert_eq!(body.as_ref().map(|b| b.to_serde()), serde_body);
    let out = extract(&w.rules, url, &headers, body.as_ref());

    let mut seen = HashSet::new();
    for (in_scope, list) in [(true, &out.links), (false, &out.out_of_scope)] {
        for l in list {
            assert_eq!(
                w.rules.service_of_str(&l.target).is_some(),
                in_scope,
                "link in the wrong list (in scope: {in_scope}): {l:?}"
            );
            assert_ne!(l.target, l.source.as_str(), "link to its own source: {l:?}");
            assert!(
                seen.insert((l.source.as_str(), l.pointer.as_str(), l.target.as_str())),
                "duplicate (source, pointer, target): {l:?}"
            );
            check_canonical("target", &l.target, l);
            check_canonical("source", l.source.as_str(), l);
            assert!(
                l.pointer.is_empty() || l.pointer.starts_with('/') || l.pointer == HEADER_POINTER,
                "not a pointer: {l:?}"
            );
            if let Some(r) = l.relation {
                // A relation is a rule of the source's kind.
                let (kind, _) = w
                    .rules
                    .kind_of(&l.source)
                    .unwrap_or_else(|| panic!("relation on a link from no kind: {l:?}"));
                assert!(
                    w.rules.links_of(kind).any(|(id, _)| id == r),
                    "relation not of the source's kind: {l:?}"
                );
            }
        }
    }
});
