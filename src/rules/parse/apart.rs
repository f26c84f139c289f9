//! Checks across tables: no two services or kinds may claim the same URLs, type or collection,
//! and a seed must belong to its own service.

use std::collections::BTreeMap;

use toml::Spanned;

use super::cx::Cx;
use super::service::{base_url, owner_elsewhere, seed};
use crate::rules::locate::dotted;
use crate::rules::raw::{RawKind, RawService};
use crate::rules::{Kind, Rules, Service};

/// Two services with one base URL would make the second unreachable; a seed under a nested
/// service's base URL belongs to that service.
pub(super) fn check_services_apart(
    cx: &mut Cx<'_>,
    raw: &BTreeMap<Spanned<String>, RawService>,
    services: &[Option<Service>],
) {
    base_urls_apart(cx, raw, services);
    aliases_apart(cx, raw, services);
    let Some(all) = services.iter().cloned().collect::<Option<Vec<Service>>>() else {
        return;
    };
    let tmp = Rules {
        path: cx.file.to_path_buf(),
        services: all,
        kinds: Vec::new(),
        links: Vec::new(),
    };
    seeds_at_home(cx, raw, &tmp);
}

/// No base URL is the base URL of an earlier service (in file order).
fn base_urls_apart(
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
}

/// An alias names one service: it is no other service's base URL, and no other service's
/// alias (a link under it could not say which service it belongs to).
fn aliases_apart(
    cx: &mut Cx<'_>,
    raw: &BTreeMap<Spanned<String>, RawService>,
    services: &[Option<Service>],
) {
    let named: Vec<(&str, &Service)> = raw
        .keys()
        .zip(services)
        .filter_map(|(n, s)| Some((n.get_ref().as_str(), s.as_ref()?)))
        .collect();
    for (name, rs) in raw {
        for alias in rs.aliases.iter().flatten() {
            let Ok(url) = base_url(alias.get_ref()) else {
                continue;
            };
            let key = dotted(&["services", name.get_ref(), "aliases"]);
            let others = named.iter().filter(|(n, _)| *n != name.get_ref());
            if let Some((other, _)) = others.clone().find(|(_, o)| o.base_url == url) {
                cx.err_at(
                    alias,
                    key,
                    format!("alias `{url}` is the base_url of service `{other}`"),
                );
            } else if let Some((other, _)) = others
                .clone()
                .find(|(n, o)| *n < name.get_ref().as_str() && o.aliases.contains(&url))
            {
                cx.err_at(
                    alias,
                    key,
                    format!("alias `{url}` is also an alias of service `{other}`"),
                );
            }
        }
    }
}

/// Every seed belongs to its own service, not to one with a longer base URL. `tmp` holds every
/// service, compiled.
fn seeds_at_home(cx: &mut Cx<'_>, raw: &BTreeMap<Spanned<String>, RawService>, tmp: &Rules) {
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
            if let Some(owner) = owner_elsewhere(tmp, url, si) {
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

/// A kind in file order (by the position of its `path`): name, raw table, compiled form.
type ByPos<'a> = Vec<(&'a str, &'a RawKind, Option<&'a Kind>)>;

/// Two kinds with one JSON:API type, or one template or collection on one service, would
/// make the second one unreachable.
pub(super) fn check_kinds_apart(
    cx: &mut Cx<'_>,
    raw: &BTreeMap<Spanned<String>, RawKind>,
    kinds: &[Option<Kind>],
) {
    let mut by_pos: ByPos<'_> = raw
        .iter()
        .zip(kinds)
        .map(|((n, rk), k)| (n.get_ref().as_str(), rk, k.as_ref()))
        .collect();
    by_pos.sort_by_key(|(_, rk, _)| rk.path.span().start);
    types_apart(cx, &by_pos);
    paths_apart(cx, &by_pos);
    collections_apart(cx, &by_pos);
}

/// No `jsonapi_type` is the type of an earlier kind.
fn types_apart(cx: &mut Cx<'_>, by_pos: &ByPos<'_>) {
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
}

/// No path template is the template of an earlier kind on the same service.
fn paths_apart(cx: &mut Cx<'_>, by_pos: &ByPos<'_>) {
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
}

/// No collection is the collection of an earlier kind on the same service.
fn collections_apart(cx: &mut Cx<'_>, by_pos: &ByPos<'_>) {
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
