//! A service's `aliases`: the other base URLs its links are written under (the production
//! names a restored drill's data still holds), each checked like a `base_url`; and its `proxy`.

use toml::Spanned;
use url::Url;

use super::cx::Cx;
use super::service::base_url;
use crate::rules::locate::dotted;
use crate::rules::ProxyRule;

/// Compiles `aliases = ["https://customers.prod.example.com/"]`: canonical base URLs, each
/// different from the service's own `base_url` and written once.
pub(super) fn compile_aliases(
    cx: &mut Cx<'_>,
    service: &str,
    base: &Url,
    raw: &[Spanned<String>],
) -> Vec<Url> {
    let key = dotted(&["services", service, "aliases"]);
    let mut out: Vec<Url> = Vec::new();
    for a in raw {
        match base_url(a.get_ref()) {
            Ok(u) if u == *base => cx.err_at(
                a,
                key.clone(),
                format!("alias `{}` is the service's own base_url", a.get_ref()),
            ),
            Ok(u) if out.contains(&u) => cx.err_at(
                a,
                key.clone(),
                format!("alias `{}` is written twice", a.get_ref()),
            ),
            Ok(u) => out.push(u),
            Err(m) => cx.err_at(a, key.clone(), m),
        }
    }
    out
}

/// `proxy = "http://127.0.0.1:3128"` (an http or https proxy URL, credentials allowed, no
/// path) or `"none"`.
pub(super) fn compile_proxy(
    cx: &mut Cx<'_>,
    service: &str,
    raw: &Spanned<String>,
) -> Option<ProxyRule> {
    let key = dotted(&["services", service, "proxy"]);
    let s = raw.get_ref().trim();
    if s.eq_ignore_ascii_case("none") {
        return Some(ProxyRule::Direct);
    }
    match Url::parse(s) {
        Ok(u)
            if matches!(u.scheme(), "http" | "https")
                && u.host_str().is_some_and(|h| !h.is_empty())
                && matches!(u.path(), "" | "/")
                && u.query().is_none() =>
        {
            Some(ProxyRule::Via(u))
        }
        // Not echoed: a proxy URL may hold credentials.
        _ => {
            cx.err_at(
                raw,
                key,
                "must be `none` or a proxy URL like `http://127.0.0.1:3128` (http or https, \
                 no path)"
                    .into(),
            );
            None
        }
    }
}
