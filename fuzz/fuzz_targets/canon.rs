//! URL canonicalization: for `u = resolve(base, arbitrary)` (and `parse_absolute(arbitrary)`),
//! canonicalizing again changes nothing, and the canonical text parses back to itself (what
//! snapshot keys and link targets rely on).
//!
//! Input: byte 0 selects the base URL, the rest (UTF-8) is the href.
#![no_main]

use std::sync::OnceLock;

use bacaudit::canon;
use libfuzzer_sys::fuzz_target;
use url::Url;

fn bases() -> &'static [Url] {
    static B: OnceLock<Vec<Url>> = OnceLock::new();
    B.get_or_init(|| {
        [
            "http://127.0.0.1:8081/customers/3",
            "http://127.0.0.1:8083/api/v1/products?page=2",
            "https://example.com/a/b/",
            "http://[::1]:8080/x",
        ]
        .iter()
        .map(|s| Url::parse(s).unwrap())
        .collect()
    })
}

fn check(u: &Url, input: &str) {
    let again = canon::canonicalize(u);
    assert_eq!(
        again.as_str(),
        u.as_str(),
        "canonicalize is not idempotent for {input:?}"
    );
    let reparsed = canon::parse_absolute(u.as_str());
    assert_eq!(
        reparsed.as_ref().map(Url::as_str),
        Some(u.as_str()),
        "canonical URL does not parse back to itself for {input:?}"
    );
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let Ok(href) = std::str::from_utf8(rest) else {
        return;
    };
    let base = &bases()[usize::from(sel) % bases().len()];
    if let Some(u) = canon::resolve(base, href) {
        check(&u, href);
    }
    if let Some(u) = canon::parse_absolute(href) {
        check(&u, href);
    }
});
