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
    resolve_among(base, [], href)
}

/// [`resolve`], faster when `href` is an absolute URL already in canonical form on the origin
/// of `base` or of one of `origins` (the declared services' base URLs): its path is joined
/// onto that URL, which skips parsing the host again (IDNA and IP-address formatting were
/// most of the cost of a link). The result is the same URL either way.
pub fn resolve_among<'u>(
    base: &'u Url,
    origins: impl IntoIterator<Item = &'u Url>,
    href: &str,
) -> Option<Url> {
    let href = href.trim();
    if href.is_empty() {
        return None;
    }
    let canonical = already_canonical(href).is_some();
    if canonical {
        if let Some(u) = std::iter::once(base)
            .chain(origins)
            .find_map(|o| join_on_origin(o, href))
        {
            return Some(u);
        }
    }
    let u = base.join(href).ok()?;
    if !matches!(u.scheme(), "http" | "https") {
        return None;
    }
    // Most joined URLs are canonical already: no second copy then. An absolute canonical
    // `href` joins to itself: it is not checked twice.
    Some(if canonical || already_canonical(u.as_str()).is_some() {
        u
    } else {
        canonicalize(&u)
    })
}

/// A canonical URL string (as its canonical form), parsed without parsing its host when it
/// is on the origin of one of `origins`.
pub fn parse_canonical<'u>(s: &str, origins: impl IntoIterator<Item = &'u Url>) -> Option<Url> {
    if let Some(s) = already_canonical(s) {
        if let Some(u) = origins.into_iter().find_map(|o| join_on_origin(o, s)) {
            return Some(u);
        }
    }
    parse_absolute(s)
}

/// `s` (canonical) as a `Url`, made by joining its path and query onto `origin` when `s`
/// starts with the origin of `origin`; `None` otherwise.
fn join_on_origin(origin: &Url, s: &str) -> Option<Url> {
    let prefix = &origin[..url::Position::BeforePath];
    let rest = s.strip_prefix(prefix)?;
    if !rest.starts_with('/') || rest.starts_with("//") {
        return None;
    }
    let u = origin.join(rest).ok()?;
    (u.as_str() == s).then_some(u)
}

/// Parses an absolute `http`/`https` URL and canonicalizes it.
pub fn parse_absolute(s: &str) -> Option<Url> {
    let u = Url::parse(s.trim()).ok()?;
    (matches!(u.scheme(), "http" | "https") && u.host_str().is_some()).then(|| canonicalize(&u))
}

/// `Some(s)` when `s` is certainly an absolute http(s) URL already in canonical form, checked
/// without parsing (snapshot lines and recorded links almost always are). `None` means "not
/// sure": parse it with [`parse_absolute`]. Conservative on purpose: anything unusual (IP
/// literals other than a plain dotted quad, IDNs, percent-escapes in the path, userinfo,
/// fragments, default ports, dot segments) takes the slow path.
pub fn already_canonical(s: &str) -> Option<&str> {
    // One pass over the bytes, no allocation: this runs on every link of every response and
    // on every line of a snapshot. Each byte is looked at once (host, port, path, query).
    let b = s.as_bytes();
    let (rest, default_port): (&[u8], &[u8]) = if let Some(r) = b.strip_prefix(b"http://") {
        (r, b"80")
    } else if let Some(r) = b.strip_prefix(b"https://") {
        (r, b"443")
    } else {
        return None;
    };
    // Host: labels of [a-z0-9-], none empty (no leading, trailing or doubled dot), no IDN
    // (`xn--`) or hex (`0x`) label; when the last label is all digits the host reads as an
    // IPv4 address, and only a plain dotted quad is already canonical.
    let mut i = 0;
    let mut labels = 0usize;
    let mut quad = true;
    let mut label_start = 0;
    let mut digits = true;
    let mut value = 0u32;
    let end_of_host = loop {
        let c = *rest.get(i)?;
        match c {
            b'a'..=b'z' | b'-' => digits = false,
            b'0'..=b'9' => value = value.saturating_mul(10).saturating_add(u32::from(c - b'0')),
            b'.' | b':' | b'/' => {
                let label = &rest[label_start..i];
                if label.is_empty() || label.starts_with(b"xn--") || label.starts_with(b"0x") {
                    return None;
                }
                labels += 1;
                quad = quad
                    && digits
                    && label.len() <= 3
                    && (label.len() == 1 || label[0] != b'0')
                    && value <= 255;
                if c != b'.' {
                    break c;
                }
                label_start = i + 1;
                digits = true;
                value = 0;
            }
            _ => return None,
        }
        i += 1;
    };
    // `digits` is the last label's.
    if digits && !(quad && labels == 4) {
        return None;
    }
    i += 1;
    if end_of_host == b':' {
        // Port: 1 to 65535, no leading zero, not the scheme's default; then the path.
        let port_start = i;
        let mut port = 0u32;
        loop {
            match *rest.get(i)? {
                c @ b'0'..=b'9' if i - port_start < 5 => port = port * 10 + u32::from(c - b'0'),
                b'/' => break,
                _ => return None,
            }
            i += 1;
        }
        let p = &rest[port_start..i];
        if p.is_empty() || p[0] == b'0' || port > 65535 || p == default_port {
            return None;
        }
        i += 1;
    }
    // Path (after its first `/`): URL characters, no `.` or `..` segment; then the query.
    let path = &rest[i..];
    let mut j = 0;
    while let Some(&c) = path.get(j) {
        match PATH_CLASS[usize::from(c)] {
            PLAIN => {}
            // A segment of dots alone: it starts the path or follows a `/`, and ends it or
            // the path.
            DOT if j == 0 || path[j - 1] == b'/' => {
                let after = |k: usize| matches!(path.get(k), None | Some(b'/' | b'?'));
                if after(j + 1) || (path.get(j + 1) == Some(&b'.') && after(j + 2)) {
                    return None;
                }
            }
            DOT => {}
            QUERY => break,
            _ => return None,
        }
        j += 1;
    }
    if !path[j..]
        .iter()
        .all(|&c| PATH_CLASS[usize::from(c)] != OTHER)
    {
        return None;
    }
    Some(s)
}

/// How [`already_canonical`] reads a byte of a path or query: [`URL_CHAR`] bytes are
/// `PLAIN` or `DOT`, `?` is `QUERY` (a query may hold more), anything else `OTHER`.
const OTHER: u8 = 0;
const PLAIN: u8 = 1;
const DOT: u8 = 2;
const QUERY: u8 = 3;
const PATH_CLASS: [u8; 256] = {
    let mut t = [OTHER; 256];
    let mut c = 0;
    while c < 256 {
        t[c] = if c == b'.' as usize {
            DOT
        } else if c == b'?' as usize {
            QUERY
        } else if URL_CHAR[c] {
            PLAIN
        } else {
            OTHER
        };
        c += 1;
    }
    t
};

/// Bytes a canonical path or query holds as they are: unreserved characters, sub-delimiters,
/// `/`, `:` and `@`.
const URL_CHAR: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'/'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b':'
                    | b'@'
            );
        c += 1;
    }
    t
};

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

    /// The check as it was before it became one pass (several passes over the bytes): the
    /// one-pass [`already_canonical`] must answer exactly as it does.
    fn reference(s: &str) -> Option<&str> {
        let b = s.as_bytes();
        let (rest, default_port): (&[u8], &[u8]) = if let Some(r) = b.strip_prefix(b"http://") {
            (r, b"80")
        } else if let Some(r) = b.strip_prefix(b"https://") {
            (r, b"443")
        } else {
            return None;
        };
        let slash = rest.iter().position(|&c| c == b'/')?;
        let (authority, path_query) = rest.split_at(slash);
        let (host, port) = match authority.iter().position(|&c| c == b':') {
            Some(i) => (&authority[..i], Some(&authority[i + 1..])),
            None => (authority, None),
        };
        if let Some(p) = port {
            let ok = !p.is_empty()
                && p.len() <= 5
                && p.iter().all(u8::is_ascii_digit)
                && p[0] != b'0'
                && p.iter().fold(0u32, |n, &d| n * 10 + u32::from(d - b'0')) <= 65535
                && p != default_port;
            if !ok {
                return None;
            }
        }
        // Host: labels of [a-z0-9-], none empty (no leading, trailing or doubled dot), no IDN
        // (`xn--`) or hex (`0x`) label; when the last label is all digits the host reads as an
        // IPv4 address, and only a plain dotted quad is already canonical.
        if host.is_empty() {
            return None;
        }
        let mut labels = 0usize;
        let mut quad = true;
        let mut last_digits = false;
        for label in host.split(|&c| c == b'.') {
            labels += 1;
            if label.is_empty()
                || !label
                    .iter()
                    .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
                || label.starts_with(b"xn--")
                || label.starts_with(b"0x")
            {
                return None;
            }
            last_digits = label.iter().all(u8::is_ascii_digit);
            quad = quad
                && last_digits
                && label.len() <= 3
                && (label.len() == 1 || label[0] != b'0')
                && label
                    .iter()
                    .fold(0u32, |n, &d| n * 10 + u32::from(d - b'0'))
                    <= 255;
        }
        if last_digits && !(quad && labels == 4) {
            return None;
        }
        let (path, query) = match path_query.iter().position(|&c| c == b'?') {
            Some(i) => (&path_query[..i], Some(&path_query[i + 1..])),
            None => (path_query, None),
        };
        if !path.iter().all(|&c| URL_CHAR[usize::from(c)])
            || path
                .split(|&c| c == b'/')
                .any(|seg| seg == b"." || seg == b"..")
        {
            return None;
        }
        if let Some(q) = query {
            if !q.iter().all(|&c| c == b'?' || URL_CHAR[usize::from(c)]) {
                return None;
            }
        }
        Some(s)
    }

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
    fn the_fast_check_never_disagrees_with_the_parser() {
        let cases = [
            "http://127.0.0.1:8081/customers/1",
            "http://127.0.0.1:8081/customers?page=2&x=a.b",
            "https://api.example.com/a/b-c_d~e/f;g=h",
            "http://h/",
            "http://h",
            "HTTP://h/",
            "http://H/",
            "http://h:80/",
            "https://h:443/",
            "http://h:080/",
            "http://h:65536/",
            "http://h:/",
            "http://h./x",
            "http://a..b/x",
            "http://127.1/x",
            "http://127.0.0.01/x",
            "http://256.0.0.1/x",
            "http://1.2.3.4.5/x",
            "http://a.1/x",
            "http://0x7f.0.0.1/x",
            "http://xn--nxasmq6b/x",
            "http://user:pw@h/x",
            "http://[::1]:8080/x",
            "http://h/a/./b",
            "http://h/a/../b",
            "http://h/a%41",
            "http://h/a b",
            "http://h/a#frag",
            "http://h/a?b=%41",
            "http://h/a?b='c'",
            "http://h/a?b=c d",
            "http://h/a\\b",
            "http://h/ä",
            "http://h/a|b",
            "ftp://h/x",
        ];
        for c in cases {
            if let Some(fast) = already_canonical(c) {
                let slow = parse_absolute(c).map(String::from);
                assert_eq!(slow.as_deref(), Some(fast), "{c}");
            }
        }
        assert!(already_canonical("http://127.0.0.1:8081/customers/1").is_some());
        assert!(already_canonical("http://h/x?page=2").is_some());
        assert!(already_canonical("http://h").is_none());
        assert!(already_canonical("http://h:80/").is_none());
    }

    #[test]
    fn the_fast_check_agrees_on_generated_urls() {
        // Deterministic pseudo-random URLs from pieces that stress every rule of the check.
        let schemes = ["http://", "https://", "HTTP://", "http:/"];
        let hosts = [
            "h",
            "127.0.0.1",
            "1.2.3",
            "a.b.c",
            "A.b",
            "x-y.z",
            "0.0.0.0",
            "h.",
            "ex.1",
            "xn--a",
        ];
        let ports = ["", ":80", ":443", ":8081", ":0", ":08", ":99999", ":"];
        let paths = [
            "/", "/a", "/a/b", "/%2e", "/./", "/a/..", "/~x", "/a;b", "/a b", "/ä", "//x",
            "/a:b@c", "",
        ];
        let queries = [
            "", "?", "?a=1", "?a=%41", "?a='", "?a=b&c=d", "?a b", "?a#f", "?a?b", "#f",
        ];
        let mut n: u64 = 0x9e3779b97f4a7c15;
        let mut next = |len: usize| {
            n ^= n << 13;
            n ^= n >> 7;
            n ^= n << 17;
            (n % len as u64) as usize
        };
        let mut fast = 0;
        for _ in 0..20_000 {
            let url = format!(
                "{}{}{}{}{}",
                schemes[next(schemes.len())],
                hosts[next(hosts.len())],
                ports[next(ports.len())],
                paths[next(paths.len())],
                queries[next(queries.len())]
            );
            if let Some(f) = already_canonical(&url) {
                fast += 1;
                assert_eq!(
                    parse_absolute(&url).map(String::from).as_deref(),
                    Some(f),
                    "{url}"
                );
            }
        }
        assert!(fast > 200, "the fast path is taken ({fast})");
    }

    #[test]
    fn the_one_pass_check_answers_as_the_reference() {
        // Every string of up to 5 characters from an alphabet of the bytes the check tells
        // apart, after each scheme: host, port, path, dot segment and query edges alike.
        let alphabet = b"a0159.:/?-x%#A";
        let mut strings = vec![String::new()];
        let mut last = vec![String::new()];
        for _ in 0..5 {
            let mut longer = Vec::with_capacity(last.len() * alphabet.len());
            for s in &last {
                for &c in alphabet {
                    let mut t = s.clone();
                    t.push(char::from(c));
                    longer.push(t);
                }
            }
            strings.extend(longer.iter().cloned());
            last = longer;
        }
        let mut fast = 0;
        for scheme in ["http://", "https://", "http:/", "ftp://"] {
            for s in &strings {
                let url = format!("{scheme}{s}");
                assert_eq!(already_canonical(&url), reference(&url), "{url}");
                fast += usize::from(already_canonical(&url).is_some());
            }
        }
        assert!(fast > 1_000, "{fast}");
        // Longer pieces: quads, ports at the bounds, IDN and hex labels, dot segments.
        let hosts = [
            "h",
            "1.2.3.4",
            "01.2.3.4",
            "1.2.3.256",
            "255.255.255.255",
            "1.2.3",
            "1.2.3.4.5",
            "a.1",
            "1.a",
            "xn--a.b",
            "a.xn--b",
            "0x1.2.3.4",
            "a.0x",
            "ab-c.d-e",
            "-a",
            "a.",
            ".a",
            "a..b",
            "4294967296",
            "1.2.3.0004",
            "00.1.2.3",
        ];
        let ports = [
            "", ":", ":0", ":1", ":80", ":443", ":8080", ":65535", ":65536", ":99999", ":123456",
            ":080", ":8a", ":-1",
        ];
        let paths = [
            "", "/", "/.", "/..", "/...", "/.a", "/a.", "/a/.", "/a/..", "/a/./b", "/./", "/../",
            "/a/...", "/..a", "//", "/a%41", "/~a_b", "/a@b:c", "/a b", "/ä", "/a#f",
        ];
        let queries = [
            "", "?", "?.", "?/./", "?a=%41", "?a?b", "?a#b", "?a b", "?é", "?x=/..",
        ];
        for scheme in ["http://", "https://"] {
            for h in hosts {
                for p in ports {
                    for path in paths {
                        for q in queries {
                            let url = format!("{scheme}{h}{p}{path}{q}");
                            assert_eq!(already_canonical(&url), reference(&url), "{url}");
                        }
                    }
                }
            }
        }
        // What the fast answer says is what the parser says.
        for h in hosts {
            for p in ports {
                for path in paths {
                    let url = format!("http://{h}{p}{path}?q=1");
                    if let Some(f) = already_canonical(&url) {
                        let slow = parse_absolute(&url).map(String::from);
                        assert_eq!(slow.as_deref(), Some(f), "{url}");
                    }
                }
            }
        }
    }

    #[test]
    fn the_origin_shortcut_gives_the_same_urls() {
        let origins: Vec<Url> = [
            "http://127.0.0.1:8081/",
            "http://h/api/",
            "https://a.b:8443/",
        ]
        .iter()
        .map(|s| Url::parse(s).unwrap())
        .collect();
        let base = Url::parse("http://127.0.0.1:8082/orders/3?x=1").unwrap();
        let hrefs = [
            "http://127.0.0.1:8081/customers/1",
            "http://127.0.0.1:8082/orders/4?page=2",
            "http://127.0.0.1:8082//x",
            "http://127.0.0.1:80811/customers/1",
            "http://h/x",
            "http://h/api/x?a=b",
            "http://h:80/x",
            "https://a.b:8443/",
            "https://a.b:8443/a;b=c/d:e@f",
            "http://H/x",
            "http://h/a/../b",
            "http://h/%41",
            "http://u@h/x",
            "/customers/3",
            "//h/x",
            "x?y",
            " http://h/x ",
        ];
        for h in hrefs {
            let slow = base.join(h.trim()).ok().map(|u| canonicalize(&u));
            let fast = resolve_among(&base, &origins, h);
            assert_eq!(fast, slow, "{h}");
            assert_eq!(resolve(&base, h), slow, "{h}");
            if let Some(abs) = parse_absolute(h) {
                assert_eq!(
                    parse_canonical(abs.as_str(), &origins).as_ref(),
                    Some(&abs),
                    "{h}"
                );
            }
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
