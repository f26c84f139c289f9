//! RFC 8288 `Link` headers: `<uri>; param=value; rel="a b", <uri2>; …`, with quoted strings
//! that may hold commas and semicolons. Links come from the fetched resource, at
//! [`HEADER_POINTER`]; their relation types are compared case-insensitively.

use std::borrow::Cow;

use super::{Rels, Walker, HEADER_POINTER};

/// One link-value of a `Link` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct LinkValue<'s> {
    /// The URI-Reference between `<` and `>`, as written.
    pub target: &'s str,
    /// The first `rel` parameter (space-separated relation types), if any.
    pub rel: Option<Cow<'s, str>>,
}

/// Adds the links of every `Link` header, in order.
pub(super) fn extract(w: &mut Walker<'_>, headers: &[(String, String)]) {
    for (name, value) in headers {
        if !name.eq_ignore_ascii_case("link") {
            continue;
        }
        for l in parse(value) {
            if l.target.contains('{') {
                continue;
            }
            if let Some(target) = w.resolve_fetched(l.target) {
                let rels = Rels::Header(l.rel.as_deref().unwrap_or(""));
                w.emit_at(0, HEADER_POINTER, target, rels, None);
            }
        }
    }
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Parses a `Link` header value leniently: malformed parts are skipped up to the next
/// link-value; it never fails.
pub(super) fn parse(s: &str) -> Vec<LinkValue<'_>> {
    let b = s.as_bytes();
    let skip_ws = |mut i: usize| {
        while i < b.len() && is_ws(b[i]) {
            i += 1;
        }
        i
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && (b[i] == b',' || is_ws(b[i])) {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        if b[i] != b'<' {
            i = skip_to_comma(b, i);
            continue;
        }
        let Some(len) = s[i + 1..].find('>') else {
            break;
        };
        let target = s[i + 1..i + 1 + len].trim();
        i += len + 2;
        let mut rel = None;
        loop {
            i = skip_ws(i);
            if i >= b.len() || b[i] == b',' {
                break;
            }
            if b[i] != b';' {
                // Not a parameter: drop the rest of this link-value.
                i = skip_to_comma(b, i);
                break;
            }
            i = skip_ws(i + 1);
            let start = i;
            while i < b.len() && !matches!(b[i], b'=' | b';' | b',') && !is_ws(b[i]) {
                i += 1;
            }
            let name = &s[start..i];
            i = skip_ws(i);
            let mut value = Cow::Borrowed("");
            if i < b.len() && b[i] == b'=' {
                i = skip_ws(i + 1);
                if i < b.len() && b[i] == b'"' {
                    let (v, next) = quoted(s, i);
                    value = v;
                    i = next;
                } else {
                    let start = i;
                    while i < b.len() && !matches!(b[i], b';' | b',') && !is_ws(b[i]) {
                        i += 1;
                    }
                    value = Cow::Borrowed(&s[start..i]);
                }
            }
            // Only the first `rel` counts (RFC 8288 §3.3).
            if rel.is_none() && name.eq_ignore_ascii_case("rel") {
                rel = Some(value);
            }
        }
        out.push(LinkValue { target, rel });
    }
    out
}

/// Index of the next `,` outside a quoted string (or the end).
fn skip_to_comma(b: &[u8], mut i: usize) -> usize {
    let mut quoted = false;
    while i < b.len() {
        match b[i] {
            b'"' => quoted = !quoted,
            b'\\' if quoted => i += 1,
            b',' if !quoted => return i,
            _ => {}
        }
        i += 1;
    }
    b.len()
}

/// A quoted-string starting at `s[i] == '"'`: its unescaped content and the index after it.
fn quoted(s: &str, i: usize) -> (Cow<'_, str>, usize) {
    let body = &s[i + 1..];
    let mut owned: Option<String> = None;
    let mut chars = body.char_indices();
    while let Some((j, c)) = chars.next() {
        match c {
            '"' => {
                let v = owned.map_or(Cow::Borrowed(&body[..j]), Cow::Owned);
                return (v, i + 1 + j + 1);
            }
            '\\' => {
                let o = owned.get_or_insert_with(|| body[..j].to_string());
                if let Some((_, e)) = chars.next() {
                    o.push(e);
                }
            }
            c => {
                if let Some(o) = owned.as_mut() {
                    o.push(c);
                }
            }
        }
    }
    // Unterminated: everything to the end.
    (owned.map_or(Cow::Borrowed(body), Cow::Owned), s.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::testutil::*;

    const ORDER: &str = "http://127.0.0.1:8082/orders/1";

    fn lv<'s>(target: &'s str, rel: Option<&'s str>) -> LinkValue<'s> {
        LinkValue {
            target,
            rel: rel.map(Cow::Borrowed),
        }
    }

    #[test]
    fn parses_quoted_commas_params_and_rel_lists() {
        let h = r#"<http://127.0.0.1:8082/orders?page=2>; rel="next"; title="a, b; \"c\"", </orders?page=1> ;REL = "prev first" ; rel=ignored,<x,y>;rel=up"#;
        let got = parse(h);
        assert_eq!(
            got,
            vec![
                lv("http://127.0.0.1:8082/orders?page=2", Some("next")),
                lv("/orders?page=1", Some("prev first")),
                lv("x,y", Some("up")),
            ]
        );
    }

    #[test]
    fn survives_garbage() {
        for h in [
            "",
            ",,,",
            "garbage",
            "<",
            "<a",
            "<a>;",
            "<a>; rel=\"x",
            "<a>;;;=",
            "\"<a>\"",
            "<a> junk, <b>",
            "<é>; rel=\"\\é",
            "<a>; rel=\"x\\",
            ";rel=next",
            "<a>;rel",
        ] {
            let _ = parse(h);
        }
        // Generated strings over the delimiters and a multi-byte character.
        let alphabet = [
            '<', '>', ';', ',', '"', '\\', '=', ' ', 'r', 'e', 'l', 'é', '/',
        ];
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        for _ in 0..5000 {
            let mut h = String::new();
            for _ in 0..seed % 24 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                h.push(alphabet[(seed % alphabet.len() as u64) as usize]);
            }
            for l in parse(&h) {
                assert!(!l.target.contains('>'));
            }
        }
        assert_eq!(parse("<a> junk, <b>"), vec![lv("a", None), lv("b", None)]);
        assert_eq!(parse("<a>; rel=\"x\\"), vec![lv("a", Some("x"))]);
        assert_eq!(parse("junk \"q,\" , <b>"), vec![lv("b", None)]);
    }

    #[test]
    fn header_links_come_last_with_relations() {
        let r = shop();
        let body = serde_json::json!({"customer": "http://127.0.0.1:8081/customers/3"});
        let x = run_with(
            &r,
            ORDER,
            &[
                ("content-type", "application/json"),
                (
                    "link",
                    r#"<http://127.0.0.1:8081/customers/3>; rel="Customer related", </orders/1>; rel="self""#,
                ),
                (
                    "link",
                    "<https://docs.example/order>; rel=describedby, <mailto:a@b>, </o{?p}>",
                ),
            ],
            Some(&body),
        );
        let c3 = "http://127.0.0.1:8081/customers/3";
        assert_eq!(
            rows(&r, &x.links),
            vec![
                row(ORDER, "/customer", c3, "-"),
                row(ORDER, "header:link", c3, "order.customer"),
            ]
        );
        assert_eq!(
            rows(&r, &x.out_of_scope),
            vec![row(ORDER, "header:link", "https://docs.example/order", "-")]
        );
        // No body at all: the header still counts.
        let x = run_with(&r, ORDER, &[("link", "</orders/2>; rel=next")], None);
        assert_eq!(
            rows(&r, &x.links),
            vec![row(
                ORDER,
                "header:link",
                "http://127.0.0.1:8082/orders/2",
                "-"
            )]
        );
    }
}
