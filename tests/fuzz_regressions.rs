//! Inputs found by the fuzz targets of `fuzz/` (docs/fuzzing.md), kept as tests. The crash
//! inputs themselves are in `fuzz/seeds/TARGET/regression-*`.

use std::path::Path;

use bacaudit::canon;
use bacaudit::source::Snapshot;
use bytes::Bytes;

/// Target `snapshot`: a body holding a lone surrogate escape (`"\udddd"`) is JSON text the
/// loader accepts (the line's syntax is valid) but no `serde_json::Value` (no Rust string holds
/// it). The recorded bytes are kept exactly and `body_json()` is None, as the crawl's parse of
/// the same bytes from a live service is: the resource is read as having no JSON body.
#[test]
fn snapshot_body_with_lone_surrogate_is_kept_verbatim_and_reads_as_no_json() {
    let line = br#"{"url":"HTTP://127.0.0.1:8081/a/%7e/../b#f","status":200,"body":{"a":"\udddd","b":"\u15e9"}}"#;
    let mut snap = Snapshot::default();
    snap.add_text(Path::new("t.ndjson"), Bytes::from_static(line))
        .unwrap();
    let key = "http://127.0.0.1:8081/a/b";
    assert_eq!(snap.entries.keys().collect::<Vec<_>>(), [key]);
    assert_eq!(canon::parse_absolute(key).unwrap().as_str(), key);
    let e = &snap.entries[key];
    assert_eq!(&e.body[..], br#"{"a":"\udddd","b":"\u15e9"}"#);
    assert!(e.body_json().is_none());
}

/// Target `canon`: `/%4%41` canonicalized to `/%4A`, which canonicalized again to `/J` (the
/// unit test is `canon::tests::canonical_form_is_a_fixed_point`); through `resolve` here.
#[test]
fn canonical_url_of_a_stray_percent_is_a_fixed_point() {
    let base = url::Url::parse("http://127.0.0.1:8081/customers/3").unwrap();
    let u = canon::resolve(&base, "/%4%41#z").unwrap();
    assert_eq!(u.as_str(), "http://127.0.0.1:8081/%254A");
    assert_eq!(canon::canonicalize(&u), u);
    assert_eq!(canon::parse_absolute(u.as_str()).unwrap(), u);
}
