//! URL canonicalization: one resource is one URL however it was spelled.
//!
//! Canonical form (DESIGN.md): scheme and host lower-case, default port dropped, fragment
//! dropped, dot segments resolved, percent-encoding normalized (unreserved characters decoded,
//! other escapes upper-case hex), an empty path is `/`, the query kept as is.

use percent_encoding::{AsciiSet, CONTROLS};
use url::Url;

/// Characters percent-encoded when an id is filled into one path segment.
pub const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'`')
    .add(b'?')
    .add(b'{')
    .add(b'}')
    .add(b'/')
    .add(b'%')
    .add(b'\\')
    .add(b'^')
    .add(b'|')
    .add(b'[')
    .add(b']');

/// Canonicalizes an already parsed URL.
pub fn canonicalize(url: &Url) -> Url {
    let mut u = url.clone();
    u.set_fragment(None);
    // Credentials in a URL are never sent nor reported.
    if !u.username().is_empty() || u.password().is_some() {
        let _ = u.set_username("");
        let _ = u.set_password(None);
    }
    let path = u.path();
    if path.contains('%') {
        let p = normalize_path(path);
        u.set_path(&p);
    }
    if u.host_str()
        .is_some_and(|h| h.ends_with('.') && h.len() > 1)
    {
        let h = u
            .host_str()
            .unwrap_or_default()
            .trim_end_matches('.')
            .to_string();
        let _ = u.set_host(Some(&h));
    }
    u
}

/// Parses `href` relative to `base` and canonicalizes it. Only `http` and `https` URLs are
/// accepted; anything else (`mailto:`, `file:`, `data:`, garbage) is `None`.
pub fn resolve(base: &Url, href: &str) -> Option<Url> {
    let href = href.trim();
    if href.is_empty() {
        return None;
    }
    let u = base.join(href).ok()?;
    matches!(u.scheme(), "http" | "https").then(|| canonicalize(&u))
}

/// Parses an absolute `http`/`https` URL and canonicalizes it.
pub fn parse_absolute(s: &str) -> Option<Url> {
    let u = Url::parse(s.trim()).ok()?;
    (matches!(u.scheme(), "http" | "https") && u.host_str().is_some()).then(|| canonicalize(&u))
}

/// Normalizes percent-encoding in a path: escapes of unreserved characters
/// (`A-Z a-z 0-9 - . _ ~`) are decoded, other escapes get upper-case hex, a `%` that starts
/// no escape becomes `%25`.
pub fn normalize_path(path: &str) -> String {
    let b = path.as_bytes();
    let mut out = String::with_capacity(path.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                let c = h * 16 + l;
                if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~') {
                    out.push(c as char);
                } else {
                    out.push('%');
                    out.push(b[i + 1].to_ascii_uppercase() as char);
                    out.push(b[i + 2].to_ascii_uppercase() as char);
                }
                i += 3;
                continue;
            }
        }
        // A `%` that starts no escape is a literal percent sign: escape it, or a decoded
        // character after it could complete a new escape (`%4%41` → `%4A` → `J`).
        if b[i] == b'%' {
            out.push_str("%25");
            i += 1;
            continue;
        }
        // Paths from `Url` are ASCII; keep any other byte sequence intact.
        let ch = path[i..].chars().next().expect("in bounds");
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> String {
        parse_absolute(s).unwrap().to_string()
    }

    #[test]
    fn same_resource_same_url() {
        assert_eq!(
            c("HTTP://Example.COM:80/a/b#frag"),
            "http://example.com/a/b"
        );
        assert_eq!(c("https://h:443"), "https://h/");
        assert_eq!(c("http://h/a/./b/../c"), "http://h/a/c");
        assert_eq!(c("http://h/%7Euser/%41%2f%2F"), "http://h/~user/A%2F%2F");
        assert_eq!(c("http://h/x?B=%41&a=1"), "http://h/x?B=%41&a=1");
        assert_eq!(c("http://h./x"), "http://h/x");
        assert_eq!(c("http://user:secret@h/x"), "http://h/x");
        assert_eq!(
            c("http://127.0.0.1:8081/customers/1"),
            "http://127.0.0.1:8081/customers/1"
        );
    }

    /// Found by `fuzz/` (target `canon`): a stray `%` followed by an escape of a hex digit
    /// became a new escape, so canonicalizing twice changed the URL again.
    #[test]
    fn canonical_form_is_a_fixed_point() {
        assert_eq!(c("http://h/%4%41"), "http://h/%254A");
        assert_eq!(c("http://h/100%"), "http://h/100%25");
        for s in [
            "http://h/%4%41",
            "http://h/%%341",
            "http://h/%",
            "http://h/a%2e/%2E%2e/b",
            "http://h/%25%34%31",
        ] {
            let once = c(s);
            assert_eq!(c(&once), once, "{s}");
        }
    }

    #[test]
    fn resolves_relative_and_rejects_other_schemes() {
        let base = Url::parse("http://h:81/orders/3").unwrap();
        assert_eq!(
            resolve(&base, "/customers/3").unwrap().as_str(),
            "http://h:81/customers/3"
        );
        assert_eq!(
            resolve(&base, "4").unwrap().as_str(),
            "http://h:81/orders/4"
        );
        assert!(resolve(&base, "mailto:a@b").is_none());
        assert!(resolve(&base, "file:///etc/passwd").is_none());
        assert!(resolve(&base, "data:text/plain,hi").is_none());
        assert!(resolve(&base, "").is_none());
    }
}
