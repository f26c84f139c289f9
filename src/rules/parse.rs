//! TOML → validated [`Rules`]: unknown keys, bad templates, pointers and references are errors
//! with file, line and key.
//!
//! Three steps: `toml` + serde into the raw structs of [`super::raw`] (syntax errors, unknown
//! keys and wrong types, located through [`Located`]); validation of every value against the
//! contract in DESIGN.md ("Rules file", "Rules: precise meaning"), collecting every mistake;
//! compilation into the indexed model. When there are several mistakes the first one in the
//! file is reported.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use toml::Spanned;
use url::Url;

use super::locate::{dotted, line_of, Located};
use super::raw::{RawAuth, RawKind, RawLink, RawRules, RawService};
use super::{
    Auth, BrokenAction, Kind, KindId, LinkId, LinkRule, OrphanAction, PathTemplate, Pointer,
    PointerPattern, Rules, RulesError, Secret, Selector, Service, ServiceId,
};
use crate::canon;
use crate::vocab::Timestamp;

/// The only rules format version there is.
const VERSION: i64 = 1;

/// Ids are `u16`: at most this many services, kinds or links.
const MAX_ITEMS: usize = u16::MAX as usize + 1;

const ON_BROKEN: &[(&str, BrokenAction)] = &[
    ("cascade", BrokenAction::Cascade),
    ("set-null", BrokenAction::SetNull),
    ("recreate", BrokenAction::Recreate),
    ("manual", BrokenAction::Manual),
];

const ON_ORPHAN: &[(&str, OrphanAction)] = &[
    ("delete", OrphanAction::Delete),
    ("manual", OrphanAction::Manual),
];

/// Parses and compiles rules text. `path` is only used in messages and kept in [`Rules::path`];
/// `env` looks up `auth.env` variables (a missing one is an error).
pub fn parse(
    path: &Path,
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Rules, RulesError> {
    let raw: RawRules = toml::from_str(text).map_err(|e| toml_error(path, text, &e))?;
    let mut cx = Cx {
        file: path,
        text,
        errors: Vec::new(),
    };
    let rules = compile(&mut cx, raw, env);
    if let Some(first) = cx.first_error() {
        return Err(first);
    }
    rules.ok_or_else(|| RulesError {
        file: path.to_path_buf(),
        line: None,
        key: None,
        message: "internal error: rules rejected without a reason".into(),
    })
}

/// A `toml` error (syntax, unknown key, wrong type, missing key) as a [`RulesError`].
fn toml_error(file: &Path, text: &str, e: &toml::de::Error) -> RulesError {
    let span = e.span();
    let line = span.as_ref().map(|s| line_of(text, s.start));
    let syntax = text.parse::<toml::Table>().is_err();
    let key = if syntax {
        None
    } else {
        span.as_ref()
            .and_then(|s| Located::parse(text)?.key_at(s))
            .map(|p| dotted(&p))
    };
    let mut message = tidy_message(e.message());
    // `toml` hands a date-time to serde as a one-entry table.
    let value_text = span
        .as_ref()
        .and_then(|s| text.get(s.clone()))
        .unwrap_or("");
    if message.starts_with("invalid type: table")
        && !value_text.trim_start().starts_with(['{', '['])
    {
        message = message.replacen("invalid type: table", "invalid type: date-time", 1);
    }
    RulesError {
        file: file.to_path_buf(),
        line,
        key,
        message: if syntax {
            format!("TOML syntax error: {message}")
        } else {
            message
        },
    }
}

/// One line, lower-case start, and TOML words for serde's (`table`, `array`, `key`).
fn tidy_message(message: &str) -> String {
    let mut m = message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    for (from, to) in [
        ("unknown field", "unknown key"),
        ("missing field", "missing key"),
        ("duplicate field", "duplicate key"),
        ("invalid type: map", "invalid type: table"),
        ("invalid type: sequence", "invalid type: array"),
        ("expected a map", "expected a table"),
        ("expected a sequence", "expected an array"),
        ("expected struct RawRules", "expected a table"),
        ("expected struct RawService", "expected a table"),
        ("expected struct RawAuth", "expected a table"),
        ("expected struct RawKind", "expected a table"),
        ("expected struct RawLink", "expected a table"),
        ("expected i64", "expected an integer"),
        ("expected f64", "expected a number"),
    ] {
        m = m.replace(from, to);
    }
    let mut chars = m.chars();
    match (chars.next(), chars.next()) {
        (Some(a), Some(b)) if a.is_uppercase() && !b.is_uppercase() => {
            a.to_lowercase().chain(m.chars().skip(1)).collect()
        }
        _ => m,
    }
}

/// Validation context: where the text is, and every mistake found so far.
struct Cx<'a> {
    file: &'a Path,
    text: &'a str,
    /// (byte offset for ordering, error)
    errors: Vec<(usize, RulesError)>,
}

impl Cx<'_> {
    fn err(&mut self, span: Option<Range<usize>>, key: String, message: String) {
        let line = span.as_ref().map(|s| line_of(self.text, s.start));
        let order = span.map_or(usize::MAX, |s| s.start);
        self.errors.push((
            order,
            RulesError {
                file: self.file.to_path_buf(),
                line,
                key: Some(key),
                message,
            },
        ));
    }

    fn err_at<T>(&mut self, at: &Spanned<T>, key: String, message: String) {
        self.err(Some(at.span()), key, message);
    }

    /// The mistake that comes first in the file (those without a place last).
    fn first_error(&mut self) -> Option<RulesError> {
        let errors = std::mem::take(&mut self.errors);
        errors.into_iter().min_by_key(|(o, _)| *o).map(|(_, e)| e)
    }

    /// The span of a key, for mistakes about a table as a whole.
    fn key_span(&self, path: &[&str]) -> Option<Range<usize>> {
        Located::parse(self.text)?.key_span(path)
    }
}

/// Service, kind and link names: bare TOML keys, so `kind.link` is never ambiguous.
fn check_name(cx: &mut Cx<'_>, name: &Spanned<String>, key: String, what: &str) {
    let n = name.get_ref();
    let ok = !n.is_empty()
        && n.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !ok {
        cx.err_at(
            name,
            key,
            format!("{what} name `{n}` may only contain ASCII letters, digits, `_` and `-`"),
        );
    }
}

fn known_list<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let v: Vec<&str> = names.into_iter().collect();
    if v.is_empty() {
        "none declared".to_string()
    } else {
        v.join(", ")
    }
}

fn enum_value<T: Copy>(
    cx: &mut Cx<'_>,
    value: Option<&Spanned<String>>,
    allowed: &[(&str, T)],
    default: T,
    key: String,
    what: &str,
) -> T {
    let Some(v) = value else {
        return default;
    };
    if let Some((_, t)) = allowed.iter().find(|(n, _)| *n == v.get_ref()) {
        return *t;
    }
    let names: Vec<&str> = allowed.iter().map(|(n, _)| *n).collect();
    cx.err_at(
        v,
        key,
        format!(
            "unknown {what} `{}` (expected one of: {})",
            v.get_ref(),
            names.join(", ")
        ),
    );
    default
}

fn compile(cx: &mut Cx<'_>, raw: RawRules, env: &dyn Fn(&str) -> Option<String>) -> Option<Rules> {
    if let Some(v) = &raw.version {
        if *v.get_ref() != VERSION {
            cx.err_at(
                v,
                "version".into(),
                format!(
                    "unsupported rules version {} (expected {VERSION})",
                    v.get_ref()
                ),
            );
        }
    }

    let raw_services = raw.services.unwrap_or_default();
    if raw_services.is_empty() {
        // Nothing else can be checked without services: this is the mistake to report.
        let span = cx.key_span(&["services"]);
        cx.err(
            span,
            "services".into(),
            "no services declared (at least one `[services.NAME]` table with a `base_url` is \
             required)"
                .into(),
        );
        return None;
    }
    if raw_services.len() > MAX_ITEMS {
        cx.err(
            None,
            "services".into(),
            format!("too many services (at most {MAX_ITEMS})"),
        );
        return None;
    }
    let services: Vec<Option<Service>> = raw_services
        .iter()
        .map(|(name, rs)| compile_service(cx, name, rs, env))
        .collect();
    check_services_apart(cx, &raw_services, &services);
    let services: Option<Vec<Service>> = services.into_iter().collect();
    let service_names: Vec<&str> = raw_services.keys().map(|k| k.get_ref().as_str()).collect();

    let raw_kinds = raw.kinds.unwrap_or_default();
    if raw_kinds.len() > MAX_ITEMS {
        cx.err(
            None,
            "kinds".into(),
            format!("too many kinds (at most {MAX_ITEMS})"),
        );
        return None;
    }
    let kind_names: Vec<&str> = raw_kinds.keys().map(|k| k.get_ref().as_str()).collect();

    // Links in full-name order; their ids are positions in this list.
    let mut raw_links: Vec<(String, KindId, &Spanned<String>, &RawLink)> = Vec::new();
    for (ki, (kname, rk)) in raw_kinds.iter().enumerate() {
        for (lname, rl) in rk.links.iter().flatten() {
            let full = format!("{}.{}", kname.get_ref(), lname.get_ref());
            raw_links.push((full, ki as KindId, lname, rl));
        }
    }
    raw_links.sort_by(|a, b| a.0.cmp(&b.0));
    if raw_links.len() > MAX_ITEMS {
        cx.err(
            None,
            "kinds".into(),
            format!("too many links (at most {MAX_ITEMS})"),
        );
        return None;
    }
    let link_names: Vec<&str> = raw_links.iter().map(|l| l.0.as_str()).collect();

    let mut links = Vec::with_capacity(raw_links.len());
    for (full, kind, lname, rl) in &raw_links {
        let kname = kind_names.get(usize::from(*kind)).copied().unwrap_or("");
        links.push(compile_link(cx, kname, lname, rl, full, *kind, &kind_names));
    }

    let mut kinds = Vec::with_capacity(raw_kinds.len());
    for (ki, (kname, rk)) in raw_kinds.iter().enumerate() {
        let kind_links: Vec<LinkId> = raw_links
            .iter()
            .enumerate()
            .filter(|(_, l)| usize::from(l.1) == ki)
            .map(|(i, _)| i as LinkId)
            .collect();
        kinds.push(compile_kind(
            cx,
            KindCx {
                name: kname,
                id: ki as KindId,
                raw: rk,
                service_names: &service_names,
                services: services.as_deref(),
                kind_names: &kind_names,
                link_names: &link_names,
                links: &links,
                kind_links,
            },
        ));
    }
    check_kinds_apart(cx, &raw_kinds, &kinds);

    Some(Rules {
        path: cx.file.to_path_buf(),
        services: services?,
        kinds: kinds.into_iter().collect::<Option<Vec<_>>>()?,
        links: links.into_iter().collect::<Option<Vec<_>>>()?,
    })
}

fn compile_service(
    cx: &mut Cx<'_>,
    name: &Spanned<String>,
    rs: &RawService,
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<Service> {
    let n = name.get_ref().as_str();
    let key = |leaf: &str| dotted(&["services", n, leaf]);
    check_name(cx, name, dotted(&["services", n]), "service");

    let base_url = match base_url(rs.base_url.get_ref()) {
        Ok(u) => Some(u),
        Err(m) => {
            cx.err_at(&rs.base_url, key("base_url"), m);
            None
        }
    };

    let mut seeds = Vec::new();
    if let Some(base) = &base_url {
        for s in rs.seeds.iter().flatten() {
            match seed(base, s.get_ref()) {
                Ok(u) => seeds.push(u),
                Err(m) => cx.err_at(s, key("seeds"), m),
            }
        }
    }

    let auth = rs.auth.as_ref().and_then(|a| compile_auth(cx, n, a, env));

    let concurrency = rs.concurrency.as_ref().and_then(|c| {
        let v = *c.get_ref();
        if v < 1 {
            cx.err_at(
                c,
                key("concurrency"),
                format!("must be at least 1 (got {v})"),
            );
            return None;
        }
        match usize::try_from(v) {
            Ok(v) => Some(v),
            Err(_) => {
                cx.err_at(c, key("concurrency"), format!("{v} is too large"));
                None
            }
        }
    });

    let rate_limit = rs.rate_limit.as_ref().and_then(|r| {
        let v = *r.get_ref();
        if v.is_finite() && v > 0.0 {
            Some(v)
        } else {
            cx.err_at(
                r,
                key("rate_limit"),
                format!("must be a number of requests per second greater than 0 (got {v})"),
            );
            None
        }
    });

    let restored_from = rs.restored_from.as_ref().and_then(|r| {
        let parsed = match r.get_ref() {
            toml::Value::Datetime(dt) => {
                Timestamp::from_toml(dt).map_err(|m| format!("date-time `{dt}` {m}"))
            }
            toml::Value::String(s) => Timestamp::parse(s),
            other => Err(format!(
                "must be a date-time like 2026-11-20T10:00:00Z (a TOML date-time or an RFC 3339 \
                 string), not {}",
                other.type_str()
            )),
        };
        parsed
            .map_err(|m| cx.err_at(r, key("restored_from"), m))
            .ok()
    });

    Some(Service {
        name: n.to_string(),
        base_url: base_url?,
        seeds,
        auth,
        concurrency,
        rate_limit,
        restored_from,
    })
}

/// A service's `base_url`: an absolute http(s) URL with a host and nothing that is not a
/// location (no credentials, query or fragment); its path ends with `/`. Canonical.
fn base_url(s: &str) -> Result<Url, String> {
    let u = Url::parse(s).map_err(|e| match e {
        url::ParseError::RelativeUrlWithoutBase => {
            format!("`{s}` is not an absolute URL (expected `http://host[:port]/[path/]`)")
        }
        url::ParseError::EmptyHost => format!("`{s}` has no host"),
        e => format!("`{s}` is not a valid URL: {e}"),
    })?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(format!(
            "`{s}` has scheme `{}` (expected http or https)",
            u.scheme()
        ));
    }
    if u.host_str().is_none_or(str::is_empty) {
        return Err(format!("`{s}` has no host"));
    }
    if !u.username().is_empty() || u.password().is_some() {
        // Not echoed: it holds credentials.
        return Err(
            "must not contain credentials (`user:password@`); use `auth` with an environment \
             variable"
                .into(),
        );
    }
    if u.query().is_some() {
        return Err(format!("`{s}` must not have a query string"));
    }
    if u.fragment().is_some() {
        return Err(format!("`{s}` must not have a fragment"));
    }
    let mut u = u;
    if !u.path().ends_with('/') {
        let p = format!("{}/", u.path());
        u.set_path(&p);
    }
    Ok(canon::canonicalize(&u))
}

fn origin(u: &Url) -> String {
    let mut o = u.clone();
    o.set_path("");
    o.set_query(None);
    o.as_str().trim_end_matches('/').to_string()
}

/// A seed: an absolute path on the service's origin, or a full URL inside the service;
/// either way under the base path. Canonical.
fn seed(base: &Url, s: &str) -> Result<Url, String> {
    let url = if s.starts_with('/') && !s.starts_with("//") {
        base.join(s)
            .map_err(|e| format!("seed `{s}` is not a valid path: {e}"))?
    } else {
        match Url::parse(s) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => {
                if !u.username().is_empty() || u.password().is_some() {
                    return Err("a seed must not contain credentials (`user:password@`)".into());
                }
                u
            }
            _ => {
                return Err(format!(
                    "seed `{s}` must be an absolute path (`/customers`) or a full http(s) URL \
                     inside the service"
                ))
            }
        }
    };
    let url = canon::canonicalize(&url);
    if url.scheme() != base.scheme()
        || url.host_str() != base.host_str()
        || url.port_or_known_default() != base.port_or_known_default()
    {
        return Err(format!(
            "seed `{s}` is not on the service's origin `{}`",
            origin(base)
        ));
    }
    if !url.path().starts_with(base.path()) {
        return Err(format!(
            "seed `{s}` is not under the service's base path `{}`",
            base.path()
        ));
    }
    Ok(url)
}

fn compile_auth(
    cx: &mut Cx<'_>,
    service: &str,
    a: &RawAuth,
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<Auth> {
    let key = |leaf: &str| dotted(&["services", service, "auth", leaf]);
    let header = a.header.get_ref();
    let header_ok = http::HeaderName::from_bytes(header.as_bytes()).is_ok();
    if !header_ok {
        cx.err_at(
            &a.header,
            key("header"),
            format!(
                "`{header}` is not a valid HTTP header name (expected a token such as \
                 `Authorization` or `X-Api-Key`)"
            ),
        );
    }
    let var = a.env.get_ref();
    if var.is_empty() || var.contains(['=', '\0']) {
        cx.err_at(
            &a.env,
            key("env"),
            format!("`{var}` is not a valid environment variable name"),
        );
        return None;
    }
    // The value is a secret: no message below may contain it.
    let Some(value) = env(var) else {
        cx.err_at(
            &a.env,
            key("env"),
            format!(
                "environment variable `{var}` is not set (it must hold the whole `{header}` \
                 header value)"
            ),
        );
        return None;
    };
    if value.is_empty() {
        cx.err_at(
            &a.env,
            key("env"),
            format!("environment variable `{var}` is empty"),
        );
        return None;
    }
    if http::HeaderValue::from_str(&value).is_err() {
        cx.err_at(
            &a.env,
            key("env"),
            format!(
                "environment variable `{var}` does not hold a valid header value (it contains \
                 control characters, line breaks or non-ASCII characters)"
            ),
        );
        return None;
    }
    header_ok.then(|| Auth {
        header: header.clone(),
        env: var.clone(),
        value: Secret::new(value),
    })
}

/// Two services with one base URL would make the second unreachable; a seed under a nested
/// service's base URL belongs to that service.
fn check_services_apart(
    cx: &mut Cx<'_>,
    raw: &BTreeMap<Spanned<String>, RawService>,
    services: &[Option<Service>],
) {
    let mut by_pos: Vec<(&Spanned<String>, &Spanned<String>, &Service)> = raw
        .iter()
        .zip(services)
        .filter_map(|((n, rs), s)| Some((n, &rs.base_url, s.as_ref()?)))
        .collect();
    by_pos.sort_by_key(|(_, b, _)| b.span().start);
    for (i, (name, at, s)) in by_pos.iter().enumerate() {
        if let Some((other, _, _)) = by_pos[..i]
            .iter()
            .find(|(_, _, o)| o.base_url == s.base_url)
        {
            cx.err_at(
                *at,
                dotted(&["services", name.get_ref(), "base_url"]),
                format!(
                    "`{}` is already the base_url of service `{}`",
                    s.base_url,
                    other.get_ref()
                ),
            );
        }
    }
    let Some(all) = services.iter().cloned().collect::<Option<Vec<Service>>>() else {
        return;
    };
    let tmp = Rules {
        path: cx.file.to_path_buf(),
        services: all,
        kinds: Vec::new(),
        links: Vec::new(),
    };
    for (si, (name, rs)) in raw.iter().enumerate() {
        let Some(service) = tmp.services.get(si) else {
            continue;
        };
        // Seeds that failed are not in `service.seeds`: pair the compiled ones by position
        // among the raw seeds that compile.
        let good: Vec<&Spanned<String>> = rs
            .seeds
            .iter()
            .flatten()
            .filter(|s| seed(&service.base_url, s.get_ref()).is_ok())
            .collect();
        for (at, url) in good.into_iter().zip(&service.seeds) {
            if let Some(owner) = owner_elsewhere(&tmp, url, si) {
                cx.err_at(
                    at,
                    dotted(&["services", name.get_ref(), "seeds"]),
                    format!(
                        "seed `{}` lies under the base_url of service `{owner}`, so it belongs \
                         to that service",
                        at.get_ref()
                    ),
                );
            }
        }
    }
}

/// The name of another service that owns `url` (a longer base URL), if any.
fn owner_elsewhere(rules: &Rules, url: &Url, service: usize) -> Option<String> {
    let owner = usize::from(rules.service_of(url)?);
    (owner != service).then(|| rules.services.get(owner).map(|s| s.name.clone()))?
}

struct KindCx<'a> {
    name: &'a Spanned<String>,
    id: KindId,
    raw: &'a RawKind,
    service_names: &'a [&'a str],
    services: Option<&'a [Service]>,
    kind_names: &'a [&'a str],
    link_names: &'a [&'a str],
    links: &'a [Option<LinkRule>],
    kind_links: Vec<LinkId>,
}

fn compile_kind(cx: &mut Cx<'_>, k: KindCx<'_>) -> Option<Kind> {
    let n = k.name.get_ref().as_str();
    let rk = k.raw;
    let key = |leaf: &str| dotted(&["kinds", n, leaf]);
    check_name(cx, k.name, dotted(&["kinds", n]), "kind");

    let service = match k
        .service_names
        .binary_search(&rk.service.get_ref().as_str())
    {
        Ok(i) => Some(i as ServiceId),
        Err(_) => {
            cx.err_at(
                &rk.service,
                key("service"),
                format!(
                    "unknown service `{}` (known: {})",
                    rk.service.get_ref(),
                    known_list(k.service_names.iter().copied())
                ),
            );
            None
        }
    };
    // The service's compiled form, when it and every other service compiled.
    let svc = service.and_then(|s| {
        let all = k.services?;
        Some((s, all, all.get(usize::from(s))?))
    });
    let base = svc.map(|(_, _, this)| &this.base_url);

    let path = match PathTemplate::parse(rk.path.get_ref()) {
        Ok(t) => {
            if let Some(base) = base {
                if let Err(m) = path_in_service(base, rk.path.get_ref(), "path") {
                    cx.err_at(&rk.path, key("path"), m);
                }
            }
            Some(t)
        }
        Err(m) => {
            cx.err_at(&rk.path, key("path"), m);
            None
        }
    };
    if let (Some((s, all, this)), Some(t)) = (svc, &path) {
        let mut url = this.base_url.clone();
        url.set_path(&t.fill("x"));
        if let Some(owner) = owned_by_other(all, &url, s) {
            cx.err_at(
                &rk.path,
                key("path"),
                format!(
                    "path `{}` lies under the base_url of service `{owner}`, so its URLs \
                     belong to that service",
                    rk.path.get_ref()
                ),
            );
        }
    }

    let collection = rk.collection.as_ref().and_then(|c| {
        let p = c.get_ref();
        let problem = if !p.starts_with('/') {
            Some(format!(
                "collection `{p}` must be an absolute path like `/customers`"
            ))
        } else if p.contains("{id}") {
            Some(format!(
                "collection `{p}` must not contain `{{id}}` (it names the list page, not an item)"
            ))
        } else if p.contains('?') {
            Some(format!(
                "collection `{p}` must not have a query string (a collection matches any query)"
            ))
        } else if p.contains('#') {
            Some(format!("collection `{p}` must not have a fragment"))
        } else {
            base.and_then(|b| path_in_service(b, p, "collection").err())
        };
        if let Some(m) = problem {
            cx.err_at(c, key("collection"), m);
            return None;
        }
        if let Some((s, all, this)) = svc {
            let mut url = this.base_url.clone();
            url.set_path(p);
            if let Some(owner) = owned_by_other(all, &url, s) {
                cx.err_at(
                    c,
                    key("collection"),
                    format!(
                        "collection `{p}` lies under the base_url of service `{owner}`, so it \
                         belongs to that service"
                    ),
                );
            }
        }
        Some(canon::normalize_path(p))
    });

    let id_pointer = match &rk.id_pointer {
        None => Pointer::parse("/id").ok(),
        Some(p) => match Pointer::parse(p.get_ref()) {
            Ok(p) => Some(p),
            Err(m) => {
                cx.err_at(p, key("id_pointer"), m);
                None
            }
        },
    };

    let jsonapi_type = rk.jsonapi_type.as_ref().and_then(|t| {
        if t.get_ref().trim().is_empty() {
            cx.err_at(t, key("jsonapi_type"), "must not be empty".into());
            None
        } else {
            Some(t.get_ref().clone())
        }
    });

    let on_orphan = enum_value(
        cx,
        rk.on_orphan.as_ref(),
        ON_ORPHAN,
        OrphanAction::default(),
        key("on_orphan"),
        "on_orphan",
    );

    let mut must_be_referenced_by = Vec::new();
    let mut refs_ok = true;
    for r in rk.must_be_referenced_by.iter().flatten() {
        let name = r.get_ref().as_str();
        let Ok(id) = k.link_names.binary_search(&name) else {
            refs_ok = false;
            let what = if name.contains('.') {
                format!("unknown link `{name}`")
            } else {
                format!("`{name}` is not a link name: expected `kind.link`")
            };
            cx.err_at(
                r,
                key("must_be_referenced_by"),
                format!(
                    "{what} (known: {})",
                    known_list(k.link_names.iter().copied())
                ),
            );
            continue;
        };
        if let Some(Some(link)) = k.links.get(id) {
            if link.to != k.id {
                refs_ok = false;
                cx.err_at(
                    r,
                    key("must_be_referenced_by"),
                    format!(
                        "link `{name}` points at kind `{}`, not at `{n}` (an orphan rule names \
                         links to its own kind)",
                        k.kind_names.get(usize::from(link.to)).unwrap_or(&"?")
                    ),
                );
                continue;
            }
        }
        must_be_referenced_by.push(id as LinkId);
    }
    must_be_referenced_by.sort_unstable();
    must_be_referenced_by.dedup();

    let timestamp = rk.timestamp.as_ref().and_then(|p| {
        let parsed = if p.get_ref().is_empty() {
            Err("JSON pointer is empty (it would name the whole document)".to_string())
        } else {
            Pointer::parse(p.get_ref())
        };
        parsed.map_err(|m| cx.err_at(p, key("timestamp"), m)).ok()
    });

    if !refs_ok {
        return None;
    }
    Some(Kind {
        timestamp,
        name: n.to_string(),
        service: service?,
        path: path?,
        must_be_referenced_by,
        on_orphan,
        jsonapi_type,
        collection,
        id_pointer: id_pointer?,
        links: k.kind_links,
    })
}

/// Whether `p` (a path template or a collection path) is written as canonical URLs spell it
/// and lies under the service's base path.
fn path_in_service(base: &Url, p: &str, what: &str) -> Result<(), String> {
    const MARK: &str = "bacaudit-id-placeholder";
    let sample = p.replace("{id}", MARK);
    let mut url = base.clone();
    url.set_path(&sample);
    let url = canon::canonicalize(&url);
    if url.path() != canon::normalize_path(&sample) {
        return Err(format!(
            "{what} `{p}` is not a normalized URL path (URLs spell it `{}`)",
            url.path().replace(MARK, "{id}")
        ));
    }
    if !url.path().starts_with(base.path()) {
        return Err(format!(
            "{what} `{p}` is not under the service's base path `{}`",
            base.path()
        ));
    }
    Ok(())
}

fn owned_by_other(services: &[Service], url: &Url, service: ServiceId) -> Option<String> {
    let tmp = Rules {
        path: Default::default(),
        services: services.to_vec(),
        kinds: Vec::new(),
        links: Vec::new(),
    };
    owner_elsewhere(&tmp, &canon::canonicalize(url), usize::from(service))
}

/// Two kinds with one JSON:API type, or one template or collection on one service, would
/// make the second one unreachable.
fn check_kinds_apart(
    cx: &mut Cx<'_>,
    raw: &BTreeMap<Spanned<String>, RawKind>,
    kinds: &[Option<Kind>],
) {
    let mut by_pos: Vec<(&str, &RawKind, Option<&Kind>)> = raw
        .iter()
        .zip(kinds)
        .map(|((n, rk), k)| (n.get_ref().as_str(), rk, k.as_ref()))
        .collect();
    by_pos.sort_by_key(|(_, rk, _)| rk.path.span().start);

    let mut types: BTreeMap<&str, &str> = BTreeMap::new();
    let mut typed: Vec<(&str, &Spanned<String>)> = by_pos
        .iter()
        .filter_map(|(n, rk, _)| Some((*n, rk.jsonapi_type.as_ref()?)))
        .collect();
    typed.sort_by_key(|(_, t)| t.span().start);
    for (n, t) in typed {
        if let Some(other) = types.get(t.get_ref().as_str()) {
            cx.err_at(
                t,
                dotted(&["kinds", n, "jsonapi_type"]),
                format!(
                    "jsonapi_type `{}` is already the type of kind `{other}`",
                    t.get_ref()
                ),
            );
        } else {
            types.insert(t.get_ref(), n);
        }
    }

    for (i, (n, rk, k)) in by_pos.iter().enumerate() {
        let Some(k) = k else { continue };
        let earlier = by_pos[..i]
            .iter()
            .filter_map(|(on, _, ok)| Some((*on, (*ok)?)));
        for (other, o) in earlier {
            if o.service == k.service && o.path == k.path {
                cx.err_at(
                    &rk.path,
                    dotted(&["kinds", n, "path"]),
                    format!(
                        "path `{}` is already the path of kind `{other}` on the same service",
                        rk.path.get_ref()
                    ),
                );
                break;
            }
        }
    }

    let mut with_collection: Vec<(&str, &Spanned<String>, &Kind)> = by_pos
        .iter()
        .filter_map(|(n, rk, k)| Some((*n, rk.collection.as_ref()?, (*k)?)))
        .collect();
    with_collection.sort_by_key(|(_, c, _)| c.span().start);
    for (i, (n, c, k)) in with_collection.iter().enumerate() {
        if let Some((other, _, _)) = with_collection[..i]
            .iter()
            .find(|(_, _, o)| o.service == k.service && o.collection == k.collection)
        {
            cx.err_at(
                *c,
                dotted(&["kinds", n, "collection"]),
                format!(
                    "collection `{}` is already the collection of kind `{other}` on the same \
                     service",
                    c.get_ref()
                ),
            );
        }
    }
}

fn compile_link(
    cx: &mut Cx<'_>,
    kind_name: &str,
    name: &Spanned<String>,
    rl: &RawLink,
    full: &str,
    kind: KindId,
    kind_names: &[&str],
) -> Option<LinkRule> {
    let n = name.get_ref().as_str();
    let key = |leaf: &str| dotted(&["kinds", kind_name, "links", n, leaf]);
    check_name(cx, name, dotted(&["kinds", kind_name, "links", n]), "link");

    let selector = match (&rl.pointer, &rl.rel) {
        (Some(_), Some(rel)) => {
            cx.err_at(
                rel,
                key("rel"),
                "a link has either `pointer` or `rel`, not both".into(),
            );
            None
        }
        (None, None) => {
            cx.err_at(
                name,
                dotted(&["kinds", kind_name, "links", n]),
                "a link needs `pointer` (a JSON pointer) or `rel` (a link relation name)".into(),
            );
            None
        }
        (Some(p), None) => match PointerPattern::parse(p.get_ref()) {
            Ok(p) => Some(Selector::Pointer(p)),
            Err(m) => {
                cx.err_at(p, key("pointer"), m);
                None
            }
        },
        (None, Some(r)) => {
            let rel = r.get_ref();
            if rel.is_empty() || rel.chars().any(char::is_whitespace) {
                cx.err_at(
                    r,
                    key("rel"),
                    format!("`{rel}` is not a link relation name (one word, no spaces)"),
                );
                None
            } else {
                Some(Selector::Rel(rel.clone()))
            }
        }
    };

    let to = match kind_names.binary_search(&rl.to.get_ref().as_str()) {
        Ok(i) => Some(i as KindId),
        Err(_) => {
            cx.err_at(
                &rl.to,
                key("to"),
                format!(
                    "unknown kind `{}` (known: {})",
                    rl.to.get_ref(),
                    known_list(kind_names.iter().copied())
                ),
            );
            None
        }
    };

    let on_broken = enum_value(
        cx,
        rl.on_broken.as_ref(),
        ON_BROKEN,
        BrokenAction::default(),
        key("on_broken"),
        "on_broken",
    );

    Some(LinkRule {
        name: full.to_string(),
        kind,
        selector: selector?,
        to: to?,
        on_broken,
    })
}

#[cfg(test)]
mod tests;
