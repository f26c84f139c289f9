//! A service's `aliases`: the other base URLs its links are written under (the production
//! names a restored drill's data still holds), each checked like a `base_url`.

use toml::Spanned;
use url::Url;

use super::cx::Cx;
use super::service::base_url;
use crate::rules::locate::dotted;

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
