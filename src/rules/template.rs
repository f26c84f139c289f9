//! A kind's `path` template: where `{id}` sits in a URL (inside one path segment, or in one
//! query parameter's value), how a URL is matched to an id and how an id is filled in.
//!
//! Matching rules (rules/example.toml says the same to users):
//! - The template is compared with the canonical URL's path (and query) as text: everything
//!   but `{id}` must be there as written (once normalized the way URLs are spelled).
//! - In a path segment (`/customers/{id}`, `/products/{id}.json`, `/Customers({id})`,
//!   `/item-{id}`), the id is the non-empty text between the literal parts, inside that one
//!   segment: it never holds a `/` as written. A URL with a query string is no item of such a
//!   kind (`/customers?page=2` is a page, not a customer).
//! - In a query value (`/customers?id=eq.{id}`), the path must be equal, and the query string
//!   must be the template's, parameters in the same order, with the id (non-empty, no `&` as
//!   written) in place of `{id}`. `+` is a plus sign, not a space.
//! - The matched text is percent-decoded; filling percent-encodes what a segment (or a query
//!   value) cannot hold as is, so `a b/c` fills as `a%20b%2Fc` and matches back as `a b/c`.
//! - Quotes: when the template writes `'{id}'` (an OData string key, `/Customers('{id}')`), a
//!   `'` inside the id is written twice: `O'Neil` fills as `Customers('O''Neil')`, and a single
//!   `'` inside the quotes matches nothing.
//! - When the literal text after `{id}` also occurs inside an id (`{id}.json` and the id
//!   `a.json`), the id is the longest text that leaves the literal suffix at the end.

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, CONTROLS};
use url::Url;

use crate::canon;

/// Characters percent-encoded when an id is filled into a query parameter's value: those a
/// query cannot hold, those that would end the value (`&`, `#`) or change its meaning (`+`,
/// `=`, `%`), and `'` (which URL parsers encode in a query anyway).
const QUERY_VALUE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'%')
    .add(b'&')
    .add(b'+')
    .add(b'=')
    .add(b'\'')
    .add(b'\\')
    .add(b'^')
    .add(b'|')
    .add(b'[')
    .add(b']');

/// Where `{id}` sits in a [`PathTemplate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdPlace {
    /// In one path segment; the URL has no query string.
    Segment,
    /// In one query parameter's value.
    Query,
}

/// A path template with exactly one `{id}` (see the module doc for the matching rules).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathTemplate {
    /// Canonical text before `{id}`: the path up to it (`/customers/`, `/Customers('`), or
    /// the path, `?` and query up to it (`/customers?id=eq.`).
    pub prefix: String,
    /// Canonical text after `{id}` (often empty; `.json`, `')`, `/view`, `&select=*`).
    pub suffix: String,
    pub place: IdPlace,
    /// The id is written between `'` quotes, a `'` in it doubled (OData string keys).
    pub quoted: bool,
}

/// A placeholder for `{id}` while the template is normalized as a URL.
const MARK: &str = "bacaudit-id-placeholder";

impl PathTemplate {
    /// Parses a template; errors name what is wrong.
    pub fn parse(s: &str) -> Result<PathTemplate, String> {
        if !s.starts_with('/') {
            return Err(format!("path `{s}` must start with `/`"));
        }
        let n = s.matches("{id}").count();
        if n != 1 {
            return Err(format!(
                "path `{s}` must contain exactly one `{{id}}` (found {n})"
            ));
        }
        if s.replacen("{id}", "", 1).contains(['{', '}']) {
            return Err(format!("path `{s}` has a placeholder other than `{{id}}`"));
        }
        if s.contains('#') {
            return Err(format!("path `{s}` must not have a fragment"));
        }
        let (path, query) = match s.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (s, None),
        };
        let place = match query {
            None => IdPlace::Segment,
            Some(q) if q.contains("{id}") => {
                let before = &q[..q.find("{id}").expect("one {id}")];
                let param = before.rsplit('&').next().unwrap_or(before);
                if !param.contains('=') {
                    return Err(format!(
                        "path `{s}`: `{{id}}` in the query must be in a parameter's value \
                         (`?id=eq.{{id}}`)"
                    ));
                }
                IdPlace::Query
            }
            Some(_) => {
                return Err(format!(
                    "path `{s}` must not have a query string unless `{{id}}` is in it \
                     (a kind's URLs have no query; `/customers?id=eq.{{id}}` puts the id in one)"
                ))
            }
        };
        let (prefix, suffix) = normalized(path, query).ok_or_else(|| {
            format!("path `{s}` is not a URL path and query (it cannot be parsed as one)")
        })?;
        let quoted = (prefix.ends_with('\'') && suffix.starts_with('\''))
            || (prefix.ends_with("%27") && suffix.starts_with("%27"));
        Ok(PathTemplate {
            prefix,
            suffix,
            place,
            quoted,
        })
    }

    /// The path part of the template (without any query), with `{id}` in place.
    pub fn path_pattern(&self) -> String {
        let whole = format!("{}{{id}}{}", self.prefix, self.suffix);
        match whole.split_once('?') {
            Some((p, _)) => p.to_string(),
            None => whole,
        }
    }

    /// The id's text as it is in `path_and_query` (a canonical path, then `?` and the query
    /// if the URL has one), when the template matches it.
    fn raw_id<'p>(&self, path_and_query: &'p str) -> Option<&'p str> {
        let has_query = path_and_query.contains('?');
        if has_query != (self.place == IdPlace::Query) {
            return None;
        }
        let rest = path_and_query.strip_prefix(self.prefix.as_str())?;
        let raw = rest.strip_suffix(self.suffix.as_str())?;
        let stop: &[char] = match self.place {
            IdPlace::Segment => &['/'],
            IdPlace::Query => &['&', '#'],
        };
        (!raw.is_empty() && !raw.contains(stop)).then_some(raw)
    }

    /// Whether this template matches a canonical path (with `?` and its query, if any).
    pub fn matches(&self, path_and_query: &str) -> bool {
        self.raw_id(path_and_query)
            .is_some_and(|raw| !self.quoted || quotes_doubled(raw))
    }

    /// The id this template matches in a canonical path (with `?` and its query, if any),
    /// percent-decoded and with doubled quotes undone.
    pub fn match_path(&self, path_and_query: &str) -> Option<String> {
        let decoded = percent_decode_str(self.raw_id(path_and_query)?)
            .decode_utf8_lossy()
            .into_owned();
        if !self.quoted {
            return Some(decoded);
        }
        quotes_doubled(&decoded).then(|| decoded.replace("''", "'"))
    }

    /// The path (and query) for `id`, percent-encoded for where it goes.
    pub fn fill(&self, id: &str) -> String {
        let id = if self.quoted {
            std::borrow::Cow::Owned(id.replace('\'', "''"))
        } else {
            std::borrow::Cow::Borrowed(id)
        };
        let set = match self.place {
            IdPlace::Segment => canon::SEGMENT,
            IdPlace::Query => QUERY_VALUE,
        };
        let enc = utf8_percent_encode(&id, set);
        format!("{}{}{}", self.prefix, enc, self.suffix)
    }

    /// The canonical URL for `id` on `base`'s origin.
    pub fn fill_url(&self, base: &Url, id: &str) -> Url {
        let filled = self.fill(id);
        let mut url = base.clone();
        match filled.split_once('?') {
            Some((path, query)) => {
                url.set_path(path);
                url.set_query(Some(query));
            }
            None => {
                url.set_path(&filled);
                url.set_query(None);
            }
        }
        canon::canonicalize(&url)
    }
}

/// Whether every `'` in `s` is one of a pair (`''`).
fn quotes_doubled(s: &str) -> bool {
    s.split("''").all(|part| !part.contains('\''))
}

/// The template's text before and after `{id}`, spelled as canonical URLs spell it.
fn normalized(path: &str, query: Option<&str>) -> Option<(String, String)> {
    let mut url = Url::parse("http://template.invalid/").ok()?;
    url.set_path(&path.replace("{id}", MARK));
    url.set_query(query.map(|q| q.replace("{id}", MARK)).as_deref());
    let url = canon::canonicalize(&url);
    let whole = match url.query() {
        Some(q) => format!("{}?{q}", canon::normalize_path(url.path())),
        None => canon::normalize_path(url.path()),
    };
    let (p, s) = whole.split_once(MARK)?;
    Some((p.to_string(), s.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> PathTemplate {
        PathTemplate::parse(s).unwrap()
    }

    #[test]
    fn whole_segment_matches_one_segment_and_fills_encoded() {
        let t = t("/customers/{id}");
        assert_eq!(t.match_path("/customers/3").as_deref(), Some("3"));
        assert_eq!(t.match_path("/customers/a%20b").as_deref(), Some("a b"));
        assert_eq!(t.match_path("/customers/"), None);
        assert_eq!(t.match_path("/customers/3/x"), None);
        assert_eq!(t.match_path("/customers/3?x=1"), None);
        assert_eq!(t.fill("a b/c"), "/customers/a%20b%2Fc");
        assert!(PathTemplate::parse("/customers").is_err());
        assert!(PathTemplate::parse("/customers/{id}/{id}").is_err());
        assert!(PathTemplate::parse("/customers/{ids}").is_err());
    }

    #[test]
    fn id_inside_a_segment() {
        let json = t("/shop/products/{id}.json");
        assert_eq!(
            json.match_path("/shop/products/3.json").as_deref(),
            Some("3")
        );
        assert_eq!(
            json.match_path("/shop/products/a.json.json").as_deref(),
            Some("a.json")
        );
        assert_eq!(json.match_path("/shop/products/.json"), None);
        assert_eq!(json.match_path("/shop/products/3"), None);
        assert_eq!(json.match_path("/shop/products/a/b.json"), None);
        assert_eq!(json.fill("a/b"), "/shop/products/a%2Fb.json");

        let item = t("/item-{id}");
        assert_eq!(item.match_path("/item-7").as_deref(), Some("7"));
        assert_eq!(item.match_path("/item-"), None);

        let odata = t("/Customers({id})");
        assert_eq!(odata.match_path("/Customers(3)").as_deref(), Some("3"));
        assert!(!odata.quoted);
    }

    #[test]
    fn odata_quoted_keys_double_their_quotes() {
        let q = t("/odata/Customers('{id}')");
        assert!(q.quoted);
        assert_eq!(
            q.match_path("/odata/Customers('ALFKI')").as_deref(),
            Some("ALFKI")
        );
        assert_eq!(
            q.match_path("/odata/Customers('O''Neil')").as_deref(),
            Some("O'Neil")
        );
        assert_eq!(q.match_path("/odata/Customers('O'Neil')"), None);
        assert!(!q.matches("/odata/Customers('O'Neil')"));
        assert_eq!(q.fill("O'Neil"), "/odata/Customers('O''Neil')");
        assert_eq!(q.fill("a b"), "/odata/Customers('a%20b')");
        let base = Url::parse("http://h/").unwrap();
        let u = q.fill_url(&base, "O'Neil");
        assert_eq!(u.as_str(), "http://h/odata/Customers('O''Neil')");
        assert_eq!(q.match_path(u.path()).as_deref(), Some("O'Neil"));
    }

    #[test]
    fn id_in_a_query_value() {
        let q = t("/customers?id=eq.{id}");
        assert_eq!(q.place, IdPlace::Query);
        assert_eq!(q.match_path("/customers?id=eq.3").as_deref(), Some("3"));
        assert_eq!(
            q.match_path("/customers?id=eq.a%26b").as_deref(),
            Some("a&b")
        );
        assert_eq!(q.match_path("/customers?id=eq."), None);
        assert_eq!(q.match_path("/customers?id=eq.3&x=1"), None);
        assert_eq!(q.match_path("/customers"), None);
        assert_eq!(q.match_path("/customers/3"), None);
        assert_eq!(q.match_path("/customers?id=gt.3"), None);
        assert_eq!(q.fill("a&b c+'"), "/customers?id=eq.a%26b%20c%2B%27");
        let base = Url::parse("http://h:3000/").unwrap();
        let u = q.fill_url(&base, "a&b c+'");
        let pq = format!("{}?{}", u.path(), u.query().unwrap());
        assert_eq!(q.match_path(&pq).as_deref(), Some("a&b c+'"));
        assert_eq!(q.path_pattern(), "/customers");

        let more = t("/rows?select=*&id=eq.{id}&limit=1");
        assert_eq!(
            more.match_path("/rows?select=*&id=eq.x&limit=1").as_deref(),
            Some("x")
        );
        assert!(PathTemplate::parse("/customers?{id}").is_err());
        assert!(PathTemplate::parse("/customers?a=1&{id}").is_err());
        assert!(PathTemplate::parse("/customers/{id}?x=1").is_err());
        assert!(PathTemplate::parse("/customers/{id}#x").is_err());
    }
}
