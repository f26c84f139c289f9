//! The snapshot reader: arbitrary bytes as one NDJSON file → `Snapshot::add_text` returns Ok or
//! an error, never panics. Every key loaded (also before an error) is a canonical URL
//! (`canon::parse_absolute(k) == k`), and every recorded body is a slice holding valid JSON text.
#![no_main]

use std::path::Path;

use bacaudit::canon;
use bacaudit::source::Snapshot;
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use serde_json::value::RawValue;

fuzz_target!(|data: &[u8]| {
    let mut snap = Snapshot::default();
    let res = snap.add_text(Path::new("fuzz.ndjson"), Bytes::copy_from_slice(data));
    if let Err(e) = &res {
        let _ = e.to_string();
    }
    for (k, e) in &snap.entries {
        let again = canon::parse_absolute(k);
        assert_eq!(
            again.as_ref().map(|u| u.as_str()),
            Some(k.as_str()),
            "key is not canonical"
        );
        if !e.body.is_empty() {
            // Valid JSON text, not necessarily a `serde_json::Value`: a lone surrogate escape
            // (`"\udddd"`) is JSON but no Rust string, so `body_json()` is None for it, as the
            // crawl's parse is for the same bytes from a live service.
            assert!(
                serde_json::from_slice::<&RawValue>(&e.body).is_ok(),
                "recorded body is not the JSON of the line: {:?}",
                String::from_utf8_lossy(&e.body)
            );
            let _ = e.body_json();
        }
    }
});
