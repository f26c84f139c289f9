//! One `[kinds.NAME]` table: its service, path template, collection, id and timestamp pointers,
//! JSON:API type and orphan rule, each checked and compiled into a [`Kind`].

use toml::Spanned;
use url::Url;

use super::cx::{check_name, enum_value, known_list, Cx};
use super::service::owner_elsewhere;
use crate::canon;
use crate::rules::locate::dotted;
use crate::rules::raw::RawKind;
use crate::rules::{
    Kind, KindId, LinkId, LinkRule, OrphanAction, PathTemplate, Pointer, Rules, Service, ServiceId,
};

const ON_ORPHAN: &[(&str, OrphanAction)] = &[
    ("delete", OrphanAction::Delete),
    ("manual", OrphanAction::Manual),
];

/// What compiling a kind needs to know about the rest of the file.
pub(super) struct KindCx<'a> {
    pub(super) name: &'a Spanned<String>,
    pub(super) id: KindId,
    pub(super) raw: &'a RawKind,
    pub(super) service_names: &'a [&'a str],
    pub(super) services: Option<&'a [Service]>,
    pub(super) kind_names: &'a [&'a str],
    pub(super) link_names: &'a [&'a str],
    pub(super) links: &'a [Option<LinkRule>],
    pub(super) kind_links: Vec<LinkId>,
}

/// The kind's service as compiled: its id, every service, and the service itself (only when it
/// and every other service compiled).
type Placed<'a> = Option<(ServiceId, &'a [Service], &'a Service)>;

/// The dotted key of `leaf` in kind `kind`.
fn key(kind: &str, leaf: &str) -> String {
    dotted(&["kinds", kind, leaf])
}

pub(super) fn compile_kind(cx: &mut Cx<'_>, k: KindCx<'_>) -> Option<Kind> {
    let n = k.name.get_ref().as_str();
    let rk = k.raw;
    check_name(cx, k.name, dotted(&["kinds", n]), "kind");

    let service = kind_service(cx, &k);
    // The service's compiled form, when it and every other service compiled.
    let svc: Placed<'_> = service.and_then(|s| {
        let all = k.services?;
        Some((s, all, all.get(usize::from(s))?))
    });
    let path = kind_path(cx, n, &rk.path, svc);
    let collection = rk
        .collection
        .as_ref()
        .and_then(|c| kind_collection(cx, n, c, svc));
    let id_pointer = id_pointer(cx, n, rk.id_pointer.as_ref());
    let items_pointer = rk.items_pointer.as_ref().and_then(|p| {
        if collection.is_none() && rk.collection.is_none() {
            cx.err_at(
                p,
                key(n, "items_pointer"),
                "needs `collection` (it says where a collection page keeps its list)".into(),
            );
            return None;
        }
        Pointer::parse(p.get_ref())
            .map_err(|m| cx.err_at(p, key(n, "items_pointer"), m))
            .ok()
    });
    let jsonapi_type = rk.jsonapi_type.as_ref().and_then(|t| {
        if t.get_ref().trim().is_empty() {
            cx.err_at(t, key(n, "jsonapi_type"), "must not be empty".into());
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
        key(n, "on_orphan"),
        "on_orphan",
    );
    let must_be_referenced_by = must_be_referenced_by(cx, &k);
    let timestamp = rk.timestamp.as_ref().and_then(|p| timestamp(cx, n, p));

    Some(Kind {
        timestamp,
        name: n.to_string(),
        service: service?,
        path: path?,
        must_be_referenced_by: must_be_referenced_by?,
        on_orphan,
        jsonapi_type,
        collection,
        id_pointer: id_pointer?,
        items_pointer,
        links: k.kind_links,
    })
}

/// `service`: one of the declared services.
fn kind_service(cx: &mut Cx<'_>, k: &KindCx<'_>) -> Option<ServiceId> {
    let rk = k.raw;
    match k
        .service_names
        .binary_search(&rk.service.get_ref().as_str())
    {
        Ok(i) => Some(i as ServiceId),
        Err(_) => {
            cx.err_at(
                &rk.service,
                key(k.name.get_ref(), "service"),
                format!(
                    "unknown service `{}` (known: {})",
                    rk.service.get_ref(),
                    known_list(k.service_names.iter().copied())
                ),
            );
            None
        }
    }
}

/// `path`: a template under the service's base path that no other service's base URL claims.
fn kind_path(
    cx: &mut Cx<'_>,
    n: &str,
    raw: &Spanned<String>,
    svc: Placed<'_>,
) -> Option<PathTemplate> {
    let base = svc.map(|(_, _, this)| &this.base_url);
    let path = match PathTemplate::parse(raw.get_ref()) {
        Ok(t) => {
            if let Some(base) = base {
                // The query (with `{id}` in it) is compared as written; the path must lie
                // in the service.
                let path_part = raw.get_ref().split('?').next().unwrap_or_default();
                if let Err(m) = path_in_service(base, path_part, "path") {
                    cx.err_at(raw, key(n, "path"), m);
                }
            }
            Some(t)
        }
        Err(m) => {
            cx.err_at(raw, key(n, "path"), m);
            None
        }
    };
    if let (Some((s, all, this)), Some(t)) = (svc, &path) {
        let url = t.fill_url(&this.base_url, "x");
        if let Some(owner) = owned_by_other(all, &url, s) {
            cx.err_at(
                raw,
                key(n, "path"),
                format!(
                    "path `{}` lies under the base_url of service `{owner}`, so its URLs \
                     belong to that service",
                    raw.get_ref()
                ),
            );
        }
    }
    path
}

/// `collection`: the list page's path, under the service and claimed by no other service.
fn kind_collection(
    cx: &mut Cx<'_>,
    n: &str,
    c: &Spanned<String>,
    svc: Placed<'_>,
) -> Option<String> {
    let p = c.get_ref();
    let base = svc.map(|(_, _, this)| &this.base_url);
    if let Some(m) = collection_problem(p, base) {
        cx.err_at(c, key(n, "collection"), m);
        return None;
    }
    if let Some((s, all, this)) = svc {
        let mut url = this.base_url.clone();
        url.set_path(p);
        if let Some(owner) = owned_by_other(all, &url, s) {
            cx.err_at(
                c,
                key(n, "collection"),
                format!(
                    "collection `{p}` lies under the base_url of service `{owner}`, so it \
                     belongs to that service"
                ),
            );
        }
    }
    Some(canon::normalize_path(p))
}

/// What is wrong with collection path `p` on its own (and under `base`, when known).
fn collection_problem(p: &str, base: Option<&Url>) -> Option<String> {
    if !p.starts_with('/') {
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
    }
}

/// `id_pointer`: a JSON pointer, `/id` when not given.
fn id_pointer(cx: &mut Cx<'_>, n: &str, raw: Option<&Spanned<String>>) -> Option<Pointer> {
    match raw {
        None => Pointer::parse("/id").ok(),
        Some(p) => match Pointer::parse(p.get_ref()) {
            Ok(p) => Some(p),
            Err(m) => {
                cx.err_at(p, key(n, "id_pointer"), m);
                None
            }
        },
    }
}

/// `must_be_referenced_by`: links (`kind.link`) that point at this kind, sorted and unique;
/// `None` when any of them is wrong.
fn must_be_referenced_by(cx: &mut Cx<'_>, k: &KindCx<'_>) -> Option<Vec<LinkId>> {
    let n = k.name.get_ref().as_str();
    let mut must_be_referenced_by = Vec::new();
    let mut refs_ok = true;
    for r in k.raw.must_be_referenced_by.iter().flatten() {
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
                key(n, "must_be_referenced_by"),
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
                    key(n, "must_be_referenced_by"),
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
    refs_ok.then_some(must_be_referenced_by)
}

/// `timestamp`: a JSON pointer to something inside the item (not the whole document).
fn timestamp(cx: &mut Cx<'_>, n: &str, p: &Spanned<String>) -> Option<Pointer> {
    let parsed = if p.get_ref().is_empty() {
        Err("JSON pointer is empty (it would name the whole document)".to_string())
    } else {
        Pointer::parse(p.get_ref())
    };
    parsed
        .map_err(|m| cx.err_at(p, key(n, "timestamp"), m))
        .ok()
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
