//! One `[services.NAME]` table: its base URL, seeds, auth, limits and restore time, each
//! checked and compiled into a [`Service`].

use toml::Spanned;
use url::Url;

use super::auth::compile_auth;
use super::cx::{check_name, enum_value, Cx};
use super::tls::compile_tls;
use crate::canon;
use crate::rules::locate::dotted;
use crate::rules::raw::RawService;
use crate::rules::{CreateDialect, PatchDialect, Rules, Service};
use crate::vocab::Timestamp;

pub(super) fn compile_service(
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

    let (auth, oauth2) = rs
        .auth
        .as_ref()
        .map_or((None, None), |a| compile_auth(cx, n, a, env));
    let concurrency = rs
        .concurrency
        .as_ref()
        .and_then(|c| concurrency(cx, c, key("concurrency")));
    let rate_limit = rs
        .rate_limit
        .as_ref()
        .and_then(|r| rate_limit(cx, r, key("rate_limit")));
    let restored_from = rs
        .restored_from
        .as_ref()
        .and_then(|r| restored_from(cx, r, key("restored_from")));
    let tls = rs.tls.as_ref().and_then(|t| compile_tls(cx, n, t));

    let aliases = match (&rs.aliases, &base_url) {
        (Some(a), Some(base)) => super::alias::compile_aliases(cx, n, base, a),
        _ => Vec::new(),
    };

    let headers = rs.headers.as_ref().map_or_else(Vec::new, |h| {
        super::headers::compile_headers(cx, n, h, auth.as_ref(), env)
    });

    let proxy = rs
        .proxy
        .as_ref()
        .and_then(|p| super::alias::compile_proxy(cx, n, p));

    let patch = enum_value(
        cx,
        rs.patch.as_ref(),
        &PatchDialect::ALL,
        PatchDialect::default(),
        key("patch"),
        "patch dialect",
    );
    let create = enum_value(
        cx,
        rs.create.as_ref(),
        &CreateDialect::ALL,
        CreateDialect::default(),
        key("create"),
        "create dialect",
    );

    Some(Service {
        name: n.to_string(),
        base_url: base_url?,
        seeds,
        auth,
        oauth2,
        concurrency,
        adaptive: rs.adaptive.unwrap_or(true),
        rate_limit,
        restored_from,
        tls,
        aliases,
        headers,
        proxy,
        patch,
        create,
    })
}

/// `concurrency`: a whole number of at least 1.
fn concurrency(cx: &mut Cx<'_>, c: &Spanned<i64>, key: String) -> Option<usize> {
    let v = *c.get_ref();
    if v < 1 {
        cx.err_at(c, key, format!("must be at least 1 (got {v})"));
        return None;
    }
    match usize::try_from(v) {
        Ok(v) => Some(v),
        Err(_) => {
            cx.err_at(c, key, format!("{v} is too large"));
            None
        }
    }
}

/// `rate_limit`: requests per second, a finite number greater than 0.
fn rate_limit(cx: &mut Cx<'_>, r: &Spanned<f64>, key: String) -> Option<f64> {
    let v = *r.get_ref();
    if v.is_finite() && v > 0.0 {
        Some(v)
    } else {
        cx.err_at(
            r,
            key,
            format!("must be a number of requests per second greater than 0 (got {v})"),
        );
        None
    }
}

/// `restored_from`: a TOML date-time or an RFC 3339 string.
fn restored_from(cx: &mut Cx<'_>, r: &Spanned<toml::Value>, key: String) -> Option<Timestamp> {
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
    parsed.map_err(|m| cx.err_at(r, key, m)).ok()
}

/// A service's `base_url`: an absolute http(s) URL with a host and nothing that is not a
/// location (no credentials, query or fragment); its path ends with `/`. Canonical.
pub(super) fn base_url(s: &str) -> Result<Url, String> {
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
pub(super) fn seed(base: &Url, s: &str) -> Result<Url, String> {
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

/// The name of another service that owns `url` (a longer base URL), if any.
pub(super) fn owner_elsewhere(rules: &Rules, url: &Url, service: usize) -> Option<String> {
    let owner = usize::from(rules.service_of(url)?);
    (owner != service).then(|| rules.services.get(owner).map(|s| s.name.clone()))?
}
