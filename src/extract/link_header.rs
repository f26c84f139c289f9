//! RFC 8288 `Link` headers: `<uri>; param=value; rel="a b", <uri2>; …`, with quoted strings
//! that may hold commas and semicolons. Links come from the fetched resource, at
//! [`HEADER_POINTER`]; their relation types are compared case-insensitively.
//!
//! Servers do not all write the `<>` (datasette sends `Link: http://…/3.json; rel="alternate"`):
//! a link-value that starts with an absolute `http`/`https` URL or a `/` path is read up to
//! the first `;`, `,`, space or `<>"`, and [`notes`] says so, so the crawl can warn once per service.
//! A header with nothing readable in it is a note too.

use std::borrow::Cow;

use super::{Rels, Walker, HEADER_POINTER};

/// One link-value of a `Link` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct LinkValue<'s> {
    /// The URI-Reference between `<` and `>`, as written.
    pub target: &'s str,
    /// The first `rel` parameter (space-separated relation types), if any.
    pub rel: Option<Cow<'s, str>>,
    /// Written between `<` and `>`, as RFC 8288 requires.
    pub bracketed: bool,
}

/// Something about a `Link` header worth telling the user (the crawl turns it into a report
/// warning, once per service).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// A link-value without `<>`, read as the URL it starts with.
    UnbracketedLink {
        /// The header value (cut to [`NOTE_MAX`] bytes).
        header: String,
        /// The URL read from it, as written.
        target: String,
    },
    /// A `Link` header in which no link-value could be read.
    UnreadableLinkHeader {
        /// The header value (cut to [`NOTE_MAX`] bytes).
        header: String,
    },
}

/// The most of a header value a [`Note`] keeps.
pub const NOTE_MAX: usize = 200;

impl Note {
    /// Which of the kinds of note this is (0 or 1): one warning per service and kind.
    pub fn kind_index(&self) -> usize {
        match self {
            Note::UnbracketedLink { .. } => 0,
            Note::UnreadableLinkHeader { .. } => 1,
        }
    }

    /// The warning for service `service`, whose resource `url` sent the header.
    pub fn warning(&self, service: &str, url: &str) -> String {
        match self {
            Note::UnbracketedLink { header, target } => format!(
                "service {service} sends `Link` headers without the `<>` RFC 8288 requires \
                 (first at {url}: `Link: {header}`): the URL each starts with was read as \
                 the link (`{target}` there), up to the first `;`, `,` or space; the audit is \
                 marked inconclusive because such a URL may have been cut short"
            ),
            Note::UnreadableLinkHeader { header } => format!(
                "service {service} sends a `Link` header with no link that can be read \
                 (first at {url}: `Link: {header}`): links it may hold were not followed"
            ),
        }
    }
}

/// The notes about the `Link` headers of one response: at most one of each kind.
pub fn notes(headers: &[(String, String)]) -> Vec<Note> {
    let mut out: Vec<Note> = Vec::new();
    for (name, value) in headers {
        if !name.eq_ignore_ascii_case("link") {
            continue;
        }
        let values = parse(value);
        let note = if values.is_empty() && !value.trim().trim_matches(',').trim().is_empty() {
            Some(Note::UnreadableLinkHeader { header: cut(value) })
        } else {
            values
                .iter()
                .find(|l| !l.bracketed)
                .map(|l| Note::UnbracketedLink {
                    header: cut(value),
                    target: l.target.to_string(),
                })
        };
        if let Some(n) = note {
            if !out.iter().any(|o| o.kind_index() == n.kind_index()) {
                out.push(n);
            }
        }
    }
    out
}

/// `s` cut to at most [`NOTE_MAX`] bytes (on a character boundary), `…` marking a cut.
fn cut(s: &str) -> String {
    if s.len() <= NOTE_MAX {
        return s.to_string();
    }
    let mut end = NOTE_MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// Whether an unbracketed link-value starts like a URL: absolute `http`/`https`, or a path.
fn starts_like_url(rest: &str) -> bool {
    rest.starts_with('/') || super::plain::looks_absolute_http(rest)
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
        let (target, bracketed) = if b[i] == b'<' {
            let Some(len) = s[i + 1..].find('>') else {
                break;
            };
            let target = s[i + 1..i + 1 + len].trim();
            i += len + 2;
            (target, true)
        } else if starts_like_url(&s[i..]) {
            let start = i;
            // `<`, `>` and `"` are no URL characters: they end it too.
            while i < b.len() && !matches!(b[i], b';' | b',' | b'<' | b'>' | b'"') && !is_ws(b[i]) {
                i += 1;
            }
            (&s[start..i], false)
        } else {
            i = skip_to_comma(b, i);
            continue;
        };
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
        out.push(LinkValue {
            target,
            rel,
            bracketed,
        });
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
            bracketed: true,
        }
    }

    #[test]
    fn unbracketed_urls_are_read_with_a_note() {
        let h = r#"http://127.0.0.1:8081/customers/3.json; rel="alternate"; type="application/json+datasette""#;
        let got = parse(h);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].target, "http://127.0.0.1:8081/customers/3.json");
        assert_eq!(got[0].rel.as_deref(), Some("alternate"));
        assert!(!got[0].bracketed);
        let mixed = parse("</a>; rel=next, /b;rel=prev, junk; rel=x, <c>");
        let targets: Vec<_> = mixed.iter().map(|l| (l.target, l.bracketed)).collect();
        assert_eq!(targets, [("/a", true), ("/b", false), ("c", true)]);

        let headers = |v: &[&str]| -> Vec<(String, String)> {
            v.iter()
                .map(|v| ("link".to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(
            notes(&headers(&[h, "/x; rel=y", "</z>"])),
            vec![Note::UnbracketedLink {
                header: h.to_string(),
                target: "http://127.0.0.1:8081/customers/3.json".into()
            }]
        );
        assert_eq!(
            notes(&headers(&["garbage", "<ok>", "also garbage; rel=x"])),
            vec![Note::UnreadableLinkHeader {
                header: "garbage".into()
            }]
        );
        assert!(notes(&headers(&["<ok>; rel=next", "", " , "])).is_empty());
        let long = format!("junk {}", "é".repeat(300));
        let Note::UnreadableLinkHeader { header } = &notes(&headers(&[&long]))[0] else {
            panic!("a note")
        };
        assert!(header.len() <= NOTE_MAX + '…'.len_utf8() && header.ends_with('…'));
        let w = notes(&headers(&[h]))[0].warning("ds", "http://127.0.0.1:8081/customers/3");
        assert!(w.contains("service ds") && w.contains("http://127.0.0.1:8081/customers/3:"));
        assert!(w.contains(h));
    }

    #[test]
    fn unbracketed_links_are_followed() {
        let r = shop();
        let x = run_with(
            &r,
            ORDER,
            &[(
                "link",
                "http://127.0.0.1:8081/customers/3; rel=\"alternate\"",
            )],
            None,
        );
        assert_eq!(
            rows(&r, &x.links),
            vec![row(
                ORDER,
                "header:link",
                "http://127.0.0.1:8081/customers/3",
                "-"
            )]
        );
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
