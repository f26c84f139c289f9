//! The rules parser: arbitrary UTF-8 text → `rules::parse` returns rules or an error, never
//! panics (every `auth.env` variable is set, to `x`).
//!
//! On success the compiled rules are exercised a little (a URL made for every kind must belong
//! to that kind's service); on failure the error must display and name a line of the text.
#![no_main]

use std::path::Path;

use bacaudit::rules;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match rules::parse(Path::new("fuzz.toml"), text, &|_| Some("x".to_string())) {
        Ok(r) => {
            for s in &r.services {
                let _ = r.service_of(&s.base_url);
            }
            for k in 0..r.kinds.len() {
                let k = k as rules::KindId;
                for id in ["1", "p-0003", "a/b?c#d%", ""] {
                    let u = r.fill(k, id);
                    let _ = r.kind_of(&u);
                    let _ = r.collection_of(&u);
                }
                let _ = r.links_of(k).count();
            }
        }
        Err(e) => {
            let _ = e.to_string();
            if let Some(line) = e.line {
                assert!(
                    line >= 1 && line <= text.split('\n').count(),
                    "line {line} outside the text: {e}"
                );
            }
        }
    }
});
