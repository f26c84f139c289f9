//! The compiled rules: services, kinds and link rules as matchers and templates, ready for the crawl.

use std::fmt;
use std::path::PathBuf;

use url::Url;

use super::{AuthForm, OAuth2, PathTemplate};
use crate::json::Value;
use crate::rules::ServiceTls;
use crate::vocab::Timestamp;

/// Index of a service in [`Rules::services`].
pub type ServiceId = u16;
/// Index of a kind in [`Rules::kinds`].
pub type KindId = u16;
/// Index of a link rule in [`Rules::links`].
pub type LinkId = u16;

/// A validated, compiled rules file.
#[derive(Debug, Clone)]
pub struct Rules {
    /// The file the rules were read from (as given on the command line).
    pub path: PathBuf,
    /// Services in name order.
    pub services: Vec<Service>,
    /// Kinds in name order.
    pub kinds: Vec<Kind>,
    /// Link rules in name order (`kind.link`).
    pub links: Vec<LinkRule>,
}

/// One declared service.
#[derive(Clone)]
pub struct Service {
    pub name: String,
    /// The canonical base URL; its path always ends with `/`.
    pub base_url: Url,
    /// Canonical seed URLs, in the order written.
    pub seeds: Vec<Url>,
    /// A static header (`header`, `bearer_env` or `basic_*_env`).
    pub auth: Option<Auth>,
    /// OAuth2 client credentials (`auth = { oauth2 = … }`); never set together with `auth`.
    pub oauth2: Option<OAuth2>,
    /// In-flight requests to this service (None: only the global limit applies); with
    /// `adaptive`, the most the adaptive limit may reach.
    pub concurrency: Option<usize>,
    /// Whether a live crawl adapts its concurrency to what it answers (`adaptive`, default
    /// true).
    pub adaptive: bool,
    /// Requests per second to this service (None: unlimited).
    pub rate_limit: Option<f64>,
    /// When the backup this service was restored from was taken (`restored_from`).
    pub restored_from: Option<Timestamp>,
    /// How `https://` requests to it are verified (`tls`; None: the defaults).
    pub tls: Option<ServiceTls>,
    /// Canonical base URLs that links to this service may be written under (its production
    /// names); fetched under `base_url`. Empty for most services.
    pub aliases: Vec<Url>,
    /// Extra headers sent to this service only (`Accept` replaces the default one).
    pub headers: Vec<Header>,
    /// The `proxy` key: `None` leaves it to the environment (`HTTPS_PROXY`, `NO_PROXY`, …).
    pub proxy: Option<ProxyRule>,
    /// How `apply` changes part of a resource (`patch`, default `json-patch`).
    pub patch: PatchDialect,
    /// How `apply` puts a lost resource back (`create`, default `put`).
    pub create: CreateDialect,
}

impl Service {
    /// A service with the defaults every key has when the rules leave it out (no seeds, no
    /// auth, adaptive, no limits). `base_url` must already be canonical.
    pub fn new(name: impl Into<String>, base_url: Url) -> Service {
        Service {
            name: name.into(),
            base_url,
            seeds: Vec::new(),
            auth: None,
            oauth2: None,
            concurrency: None,
            adaptive: true,
            rate_limit: None,
            restored_from: None,
            tls: None,
            aliases: Vec::new(),
            headers: Vec::new(),
            proxy: None,
            patch: PatchDialect::default(),
            create: CreateDialect::default(),
        }
    }
}

/// A service's `patch` key: the request that removes a reference from one of its resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PatchDialect {
    /// `PATCH` with an RFC 6902 JSON Patch (`application/json-patch+json`).
    #[default]
    JsonPatch,
    /// `PATCH` with a partial JSON object (RFC 7396 JSON Merge Patch semantics), sent as
    /// `application/json` — what DRF, json-server, Rails and most frameworks parse — or as
    /// `application/merge-patch+json` where the service's `Accept-Patch` asks for it.
    MergePatch,
    /// Read the resource, change it, `PUT` the whole representation back (`If-Match` with the
    /// ETag read, when the service sends a strong one).
    Put,
}

impl PatchDialect {
    pub const ALL: [(&'static str, PatchDialect); 3] = [
        ("json-patch", PatchDialect::JsonPatch),
        ("merge-patch", PatchDialect::MergePatch),
        ("put", PatchDialect::Put),
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PatchDialect::JsonPatch => "json-patch",
            PatchDialect::MergePatch => "merge-patch",
            PatchDialect::Put => "put",
        }
    }
}

/// A service's `create` key: the request that puts a lost resource back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CreateDialect {
    /// `PUT` of the representation to the resource's own URL.
    #[default]
    Put,
    /// `POST` of the representation to its kind's collection (`collection`, else the item
    /// URL's parent).
    Post,
}

impl CreateDialect {
    pub const ALL: [(&'static str, CreateDialect); 2] =
        [("put", CreateDialect::Put), ("post", CreateDialect::Post)];

    pub fn as_str(self) -> &'static str {
        match self {
            CreateDialect::Put => "put",
            CreateDialect::Post => "post",
        }
    }
}

/// A service's `proxy` key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProxyRule {
    /// `"none"`: never through a proxy, whatever the environment says.
    Direct,
    /// Through this forward proxy (loopback services included: the rules asked for it).
    Via(Url),
}

/// A header of one service's `headers`. A value read from the environment is a secret.
#[derive(Clone)]
pub struct Header {
    pub name: String,
    /// The environment variable the value came from, if any (safe to print).
    pub env: Option<String>,
    pub value: Secret,
}

impl fmt::Debug for Header {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.env {
            Some(env) => write!(
                f,
                "Header {{ name: {:?}, env: {env:?}, value: <redacted> }}",
                self.name
            ),
            None => write!(
                f,
                "Header {{ name: {:?}, value: {:?} }}",
                self.name,
                self.value.expose()
            ),
        }
    }
}

impl fmt::Debug for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Service")
            .field("name", &self.name)
            .field("base_url", &self.base_url.as_str())
            .field(
                "seeds",
                &self.seeds.iter().map(Url::as_str).collect::<Vec<_>>(),
            )
            .field("auth", &self.auth)
            .field("oauth2", &self.oauth2)
            .field("concurrency", &self.concurrency)
            .field("adaptive", &self.adaptive)
            .field("rate_limit", &self.rate_limit)
            .field("restored_from", &self.restored_from)
            .field("tls", &self.tls)
            .field(
                "aliases",
                &self.aliases.iter().map(Url::as_str).collect::<Vec<_>>(),
            )
            .field("headers", &self.headers)
            .field("proxy", &self.proxy)
            .finish()
    }
}

/// A header sent to one service only. The value is a secret: it never appears in `Debug`.
#[derive(Clone)]
pub struct Auth {
    pub header: String,
    /// Name of the environment variable the value came from (safe to print).
    pub env: String,
    pub value: Secret,
    /// How the value was written in the rules.
    pub form: AuthForm,
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Auth {{ header: {:?}, env: {:?}, value: <redacted>, form: {:?} }}",
            self.header, self.env, self.form
        )
    }
}

impl Service {
    /// The service's static secrets (header value, basic password, OAuth2 client secret), for
    /// keeping them out of what is written. Tokens fetched later are not among them.
    pub fn secrets(&self) -> Vec<&str> {
        let mut out = Vec::new();
        if let Some(a) = &self.auth {
            out.push(a.value.expose());
            if let AuthForm::Basic { password, .. } = &a.form {
                out.push(password.expose());
            }
        }
        if let Some(o) = &self.oauth2 {
            out.push(o.client_secret.expose());
        }
        out
    }
}

/// A secret string whose `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Secret(value)
    }
    /// The secret itself: only for putting it on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// A kind of resource: which URLs of which service are, say, customers.
#[derive(Debug, Clone)]
pub struct Kind {
    pub name: String,
    pub service: ServiceId,
    /// The item path template (`/customers/{id}`).
    pub path: PathTemplate,
    /// Link rules (ids into [`Rules::links`]) whose references keep a resource of this kind
    /// from being an orphan. Empty: no orphan rule.
    pub must_be_referenced_by: Vec<LinkId>,
    pub on_orphan: OrphanAction,
    /// JSON:API `type` of this kind.
    pub jsonapi_type: Option<String>,
    /// Path of a list page of this kind (`/customers`), matched with any query string.
    pub collection: Option<String>,
    /// Where a listed record keeps its id (default `/id`).
    pub id_pointer: Pointer,
    /// Where a `collection` page keeps its list (`items_pointer`); None: the body itself if
    /// it is an array, else the first array among the usual places.
    pub items_pointer: Option<Pointer>,
    /// The link rules declared on this kind (ids into [`Rules::links`]).
    pub links: Vec<LinkId>,
    /// Where an item's body keeps the RFC 3339 time it was written (`timestamp`).
    pub timestamp: Option<Pointer>,
}

impl Kind {
    /// A kind with the defaults every key has when the rules leave it out: no orphan rule,
    /// no collection, ids at `/id`, no links.
    pub fn new(name: impl Into<String>, service: ServiceId, path: PathTemplate) -> Kind {
        Kind {
            name: name.into(),
            service,
            path,
            must_be_referenced_by: Vec::new(),
            on_orphan: OrphanAction::default(),
            jsonapi_type: None,
            collection: None,
            id_pointer: Pointer {
                tokens: vec!["id".to_string()],
            },
            items_pointer: None,
            links: Vec::new(),
            timestamp: None,
        }
    }
}

/// One declared link: `order.customer`.
#[derive(Debug, Clone)]
pub struct LinkRule {
    /// Full name, `kind.link`.
    pub name: String,
    /// The kind the link is declared on (the source of the reference).
    pub kind: KindId,
    pub selector: Selector,
    /// The kind the link must point at.
    pub to: KindId,
    pub on_broken: BrokenAction,
}

/// How a link rule finds its links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// A JSON pointer, possibly with `*` segments matching every array element.
    Pointer(PointerPattern),
    /// A hypermedia link relation name.
    Rel(String),
}

/// What to do about a broken link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BrokenAction {
    Cascade,
    SetNull,
    Recreate,
    #[default]
    Manual,
}

impl BrokenAction {
    pub fn as_str(self) -> &'static str {
        match self {
            BrokenAction::Cascade => "cascade",
            BrokenAction::SetNull => "set-null",
            BrokenAction::Recreate => "recreate",
            BrokenAction::Manual => "manual",
        }
    }
}

/// What to do about an orphan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OrphanAction {
    Delete,
    #[default]
    Manual,
}

impl OrphanAction {
    pub fn as_str(self) -> &'static str {
        match self {
            OrphanAction::Delete => "delete",
            OrphanAction::Manual => "manual",
        }
    }
}

/// An RFC 6901 JSON pointer, parsed into unescaped reference tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pointer {
    pub tokens: Vec<String>,
}

impl Pointer {
    /// Parses an RFC 6901 pointer (`""` is the whole document). Errors name what is wrong.
    pub fn parse(s: &str) -> Result<Pointer, String> {
        if s.is_empty() {
            return Ok(Pointer { tokens: Vec::new() });
        }
        let Some(rest) = s.strip_prefix('/') else {
            return Err(format!("JSON pointer `{s}` must start with `/`"));
        };
        let mut tokens = Vec::new();
        for raw in rest.split('/') {
            tokens.push(unescape_token(raw).ok_or_else(|| {
                format!("JSON pointer `{s}` has a bad escape (`~` must be followed by 0 or 1)")
            })?);
        }
        Ok(Pointer { tokens })
    }

    /// Resolves the pointer in `value`.
    pub fn get<'v, 'j>(&self, value: &'v Value<'j>) -> Option<&'v Value<'j>> {
        let mut v = value;
        for t in &self.tokens {
            v = match v {
                Value::Object(m) => m.get(t)?,
                Value::Array(a) => a.get(parse_index(t)?)?,
                _ => return None,
            };
        }
        Some(v)
    }
}

impl fmt::Display for Pointer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for t in &self.tokens {
            f.write_str("/")?;
            f.write_str(&escape_token(t))?;
        }
        Ok(())
    }
}

/// A JSON pointer whose `*` tokens match every element of an array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointerPattern {
    /// `None` is a `*` token.
    pub tokens: Vec<Option<String>>,
    /// The pattern as written in the rules.
    pub source: String,
}

impl PointerPattern {
    /// Parses a pointer pattern; `*` as a whole token is the wildcard.
    pub fn parse(s: &str) -> Result<PointerPattern, String> {
        if s.is_empty() {
            return Err("JSON pointer is empty (it would name the whole document)".into());
        }
        let p = Pointer::parse(s)?;
        let raw_tokens: Vec<&str> = s[1..].split('/').collect();
        let tokens = p
            .tokens
            .into_iter()
            .zip(raw_tokens)
            .map(|(t, raw)| if raw == "*" { None } else { Some(t) })
            .collect();
        Ok(PointerPattern {
            tokens,
            source: s.to_string(),
        })
    }

    /// Every concrete pointer (escaped, RFC 6901) in `value` that the pattern matches, with the
    /// value found there, in document order.
    pub fn matches<'v, 'j>(&self, value: &'v Value<'j>) -> Vec<(String, &'v Value<'j>)> {
        let mut out = Vec::new();
        let mut prefix = String::new();
        walk_pattern(&self.tokens, value, &mut prefix, &mut out);
        out
    }

    /// Whether a concrete, escaped pointer is one this pattern matches (ignoring the document).
    pub fn matches_pointer(&self, pointer: &str) -> bool {
        let Ok(p) = Pointer::parse(pointer) else {
            return false;
        };
        p.tokens.len() == self.tokens.len()
            && p.tokens.iter().zip(&self.tokens).all(|(t, pat)| match pat {
                None => parse_index(t).is_some(),
                Some(s) => s == t,
            })
    }
}

fn walk_pattern<'v, 'j>(
    tokens: &[Option<String>],
    value: &'v Value<'j>,
    prefix: &mut String,
    out: &mut Vec<(String, &'v Value<'j>)>,
) {
    let Some((first, rest)) = tokens.split_first() else {
        out.push((prefix.clone(), value));
        return;
    };
    let len = prefix.len();
    match (first, value) {
        (None, Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                prefix.push('/');
                prefix.push_str(&i.to_string());
                walk_pattern(rest, item, prefix, out);
                prefix.truncate(len);
            }
        }
        (Some(t), Value::Object(m)) => {
            if let Some(v) = m.get(t) {
                prefix.push('/');
                prefix.push_str(&escape_token(t));
                walk_pattern(rest, v, prefix, out);
                prefix.truncate(len);
            }
        }
        (Some(t), Value::Array(items)) => {
            if let Some(v) = parse_index(t).and_then(|i| items.get(i)) {
                prefix.push('/');
                prefix.push_str(t);
                walk_pattern(rest, v, prefix, out);
                prefix.truncate(len);
            }
        }
        _ => {}
    }
}

fn parse_index(t: &str) -> Option<usize> {
    if t == "0" || (!t.starts_with('0') && !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit())) {
        t.parse().ok()
    } else {
        None
    }
}

fn unescape_token(raw: &str) -> Option<String> {
    if !raw.contains('~') {
        return Some(raw.to_string());
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '~' {
            match chars.next() {
                Some('0') => out.push('~'),
                Some('1') => out.push('/'),
                _ => return None,
            }
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// Escapes one reference token for a JSON pointer (`~` → `~0`, `/` → `~1`).
pub fn escape_token(t: &str) -> std::borrow::Cow<'_, str> {
    if t.bytes().any(|b| b == b'~' || b == b'/') {
        std::borrow::Cow::Owned(t.replace('~', "~0").replace('/', "~1"))
    } else {
        std::borrow::Cow::Borrowed(t)
    }
}

/// The path of a canonical URL, then `?` and its query if it has one.
fn path_and_query(url: &Url) -> std::borrow::Cow<'_, str> {
    match url.query() {
        Some(q) => std::borrow::Cow::Owned(format!("{}?{q}", url.path())),
        None => std::borrow::Cow::Borrowed(url.path()),
    }
}

impl Rules {
    pub fn service(&self, id: ServiceId) -> &Service {
        &self.services[id as usize]
    }
    pub fn kind(&self, id: KindId) -> &Kind {
        &self.kinds[id as usize]
    }
    pub fn link(&self, id: LinkId) -> &LinkRule {
        &self.links[id as usize]
    }

    /// The service a canonical URL belongs to: same origin as its `base_url` and a path under
    /// the base path. The longest base path wins when services nest.
    pub fn service_of(&self, url: &Url) -> Option<ServiceId> {
        let mut best: Option<(usize, ServiceId)> = None;
        for (i, s) in self.services.iter().enumerate() {
            if s.base_url.scheme() == url.scheme()
                && s.base_url.host_str() == url.host_str()
                && s.base_url.port_or_known_default() == url.port_or_known_default()
                && url.path().starts_with(s.base_url.path())
            {
                let len = s.base_url.path().len();
                if best.is_none_or(|(l, _)| len > l) {
                    best = Some((len, i as ServiceId));
                }
            }
        }
        best.map(|(_, i)| i)
    }

    /// [`Rules::service_of`] for the text of a canonical URL (as `Url` serializes it), without
    /// parsing it. Also gives the path, for [`Rules::kind_id_of_str`].
    pub fn service_of_str<'u>(&self, url: &'u str) -> Option<(ServiceId, &'u str)> {
        let mut best: Option<(usize, ServiceId, &str)> = None;
        for (i, s) in self.services.iter().enumerate() {
            // A base URL is origin and path (no query, no fragment): the URL must start with
            // it whole, and what follows the origin is the path and query.
            let base = s.base_url.as_str();
            let base_path = s.base_url.path().len();
            if url.starts_with(base) && best.is_none_or(|(l, _, _)| base_path > l) {
                best = Some((base_path, i as ServiceId, &url[base.len() - base_path..]));
            }
        }
        best.map(|(_, i, rest)| (i, rest))
    }

    /// [`Rules::kind_id_of`] for the text of a canonical URL.
    pub fn kind_id_of_str(&self, url: &str) -> Option<KindId> {
        self.service_and_kind_of_str(url).1
    }

    /// [`Rules::service_of_str`] and [`Rules::kind_id_of_str`], the service matched once.
    pub fn service_and_kind_of_str(&self, url: &str) -> (Option<ServiceId>, Option<KindId>) {
        match self.service_of_str(url) {
            // `rest` is the path and any query: the template says whether a query belongs.
            Some((service, rest)) => (Some(service), self.kind_in(service, rest)),
            None => (None, None),
        }
    }

    /// The kind of `service` whose path template matches `path_and_query`.
    fn kind_in(&self, service: ServiceId, path_and_query: &str) -> Option<KindId> {
        self.kinds
            .iter()
            .position(|k| k.service == service && k.path.matches(path_and_query))
            .map(|i| i as KindId)
    }

    /// The kind of a canonical URL and the (decoded) id it names: its service matches, and
    /// its path (and query: none unless the template has `{id}` in one) match the kind's
    /// template.
    pub fn kind_of(&self, url: &Url) -> Option<(KindId, String)> {
        let service = self.service_of(url)?;
        let pq = path_and_query(url);
        self.kinds.iter().enumerate().find_map(|(i, k)| {
            if k.service != service {
                return None;
            }
            k.path.match_path(&pq).map(|id| (i as KindId, id))
        })
    }

    /// The kind of a canonical URL, as [`Rules::kind_of`] without decoding the id.
    pub fn kind_id_of(&self, url: &Url) -> Option<KindId> {
        self.kind_in(self.service_of(url)?, &path_and_query(url))
    }

    /// The kind whose `collection` page this canonical URL is (any query string, unless the
    /// URL is an item of a kind: `/customers?id=eq.3` with an `{id}` in the query).
    pub fn collection_of(&self, url: &Url) -> Option<KindId> {
        let service = self.service_of(url)?;
        if url.query().is_some() && self.kind_in(service, &path_and_query(url)).is_some() {
            return None;
        }
        self.kinds.iter().enumerate().find_map(|(i, k)| {
            (k.service == service && k.collection.as_deref() == Some(url.path()))
                .then_some(i as KindId)
        })
    }

    /// [`Rules::collection_of`] for a canonical URL given as text.
    pub fn collection_of_str(&self, url: &str) -> Option<KindId> {
        let (service, rest) = self.service_of_str(url)?;
        let path = match rest.split_once('?') {
            Some(_) if self.kind_in(service, rest).is_some() => return None,
            Some((path, _)) => path,
            None => rest,
        };
        self.kinds.iter().enumerate().find_map(|(i, k)| {
            (k.service == service && k.collection.as_deref() == Some(path)).then_some(i as KindId)
        })
    }

    /// The kind whose JSON:API `type` is `t`.
    pub fn kind_by_jsonapi_type(&self, t: &str) -> Option<KindId> {
        self.kinds
            .iter()
            .position(|k| k.jsonapi_type.as_deref() == Some(t))
            .map(|i| i as KindId)
    }

    /// The canonical URL of the resource of `kind` with `id`.
    pub fn fill(&self, kind: KindId, id: &str) -> Url {
        let k = self.kind(kind);
        k.path.fill_url(&self.service(k.service).base_url, id)
    }

    /// Link rules declared on `kind`.
    pub fn links_of(&self, kind: KindId) -> impl Iterator<Item = (LinkId, &LinkRule)> {
        self.kind(kind).links.iter().map(|&l| (l, self.link(l)))
    }

    /// Link rules that some kind names in `must_be_referenced_by`.
    pub fn is_referring_link(&self, link: LinkId) -> bool {
        self.kinds
            .iter()
            .any(|k| k.must_be_referenced_by.contains(&link))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pointer_round_trips_escapes() {
        let p = Pointer::parse("/a~1b/c~0d/0").unwrap();
        assert_eq!(p.tokens, vec!["a/b", "c~d", "0"]);
        assert_eq!(p.to_string(), "/a~1b/c~0d/0");
        assert!(Pointer::parse("a/b").is_err());
        assert!(Pointer::parse("/a~2").is_err());
    }

    #[test]
    fn pattern_star_matches_every_element() {
        let p = PointerPattern::parse("/items/*/product_id").unwrap();
        let v = json!({"items": [{"product_id": 1}, {"x": 2}, {"product_id": "p3"}]});
        let v = Value::from(&v);
        let m: Vec<_> = p
            .matches(&v)
            .into_iter()
            .map(|(at, v)| (at, v.to_serde()))
            .collect();
        assert_eq!(
            m,
            vec![
                ("/items/0/product_id".to_string(), json!(1)),
                ("/items/2/product_id".to_string(), json!("p3")),
            ]
        );
        assert!(p.matches_pointer("/items/7/product_id"));
        assert!(!p.matches_pointer("/items/x/product_id"));
    }

    #[test]
    fn service_and_kind_from_the_text_agree_with_the_parsed_url() {
        let rules = crate::rules::parse(
            std::path::Path::new("t.toml"),
            r#"
version = 1
[services.a]
base_url = "http://127.0.0.1:8081/"
seeds = ["/"]
[services.nested]
base_url = "http://127.0.0.1:8081/api/v2/"
seeds = ["/api/v2/x"]
[services.b]
base_url = "https://svc.example/"
seeds = ["/"]
[services.c]
base_url = "http://[::1]:9000/base/"
seeds = ["/base/"]
[kinds.item]
service = "a"
path = "/items/{id}"
[kinds.thing]
service = "nested"
path = "/api/v2/things/{id}/detail"
[kinds.doc]
service = "b"
path = "/docs/{id}"
[kinds.c]
service = "c"
path = "/base/c/{id}"
"#,
            &|_| None,
        )
        .unwrap();
        let urls = [
            "http://127.0.0.1:8081/items/1",
            "http://127.0.0.1:8081/items/1?x=2",
            "http://127.0.0.1:8081/items/",
            "http://127.0.0.1:8081/items/a/b",
            "http://127.0.0.1:8081/items/%2F",
            "http://127.0.0.1:8081/api/v2/things/7/detail",
            "http://127.0.0.1:8081/api/v2/things/7/detail?",
            "http://127.0.0.1:8081/api/v2",
            "http://127.0.0.1:8081/api/v2/",
            "http://127.0.0.1:18081/items/1",
            "http://127.0.0.1:8082/items/1",
            "http://127.0.0.1/items/1",
            "https://127.0.0.1:8081/items/1",
            "https://svc.example/docs/x",
            "https://svc.example.evil/docs/x",
            "https://svc.example:8443/docs/x",
            "http://svc.example/docs/x",
            "http://[::1]:9000/base/c/1",
            "http://[::1]:9000/base",
            "http://[::1]:9000/basement/c/1",
            "http://elsewhere/items/1",
        ];
        for u in urls {
            let parsed = Url::parse(u).unwrap();
            assert_eq!(parsed.as_str(), u, "test URLs are canonical");
            assert_eq!(
                rules.service_of_str(u).map(|(s, _)| s),
                rules.service_of(&parsed),
                "{u}"
            );
            assert_eq!(rules.kind_id_of_str(u), rules.kind_id_of(&parsed), "{u}");
        }
        let thing = rules.kind_id_of_str("http://127.0.0.1:8081/api/v2/things/7/detail");
        assert_eq!(thing.map(|k| rules.kind(k).name.as_str()), Some("thing"));
    }
}
