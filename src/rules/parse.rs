//! TOML → validated [`Rules`]: unknown keys, bad templates, pointers and references are errors
//! with file, line and key.
//!
//! Three steps: `toml` + serde into the raw structs of [`super::raw`] (syntax errors, unknown
//! keys and wrong types, located through [`Located`](super::locate::Located)); validation of every value against the
//! contract in DESIGN.md ("Rules file", "Rules: precise meaning"), collecting every mistake;
//! compilation into the indexed model. When there are several mistakes the first one in the
//! file is reported.

mod alias;
mod apart;
mod auth;
mod cx;
mod headers;
mod kind;
mod link;
mod message;
mod service;
mod tls;

use std::collections::BTreeMap;
use std::path::Path;

use toml::Spanned;

use super::raw::{RawKind, RawLink, RawRules, RawService};
use super::{KindId, LinkId, Rules, RulesError, Service};
use apart::{check_kinds_apart, check_services_apart};
use cx::Cx;
use kind::{compile_kind, KindCx};
use link::compile_link;
use message::toml_error;
use service::compile_service;

/// The only rules format version there is.
const VERSION: i64 = 1;

/// Ids are `u16`: at most this many services, kinds or links.
const MAX_ITEMS: usize = u16::MAX as usize + 1;

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

/// The links of every kind in full-name order (`kind.link`): full name, kind, name, table.
type RawLinks<'a> = Vec<(String, KindId, &'a Spanned<String>, &'a RawLink)>;

fn compile(cx: &mut Cx<'_>, raw: RawRules, env: &dyn Fn(&str) -> Option<String>) -> Option<Rules> {
    check_version(cx, raw.version.as_ref());

    let raw_services = raw.services.unwrap_or_default();
    if !services_declared(cx, &raw_services) {
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
    if too_many(cx, raw_kinds.len(), "kinds", "kinds") {
        return None;
    }
    let kind_names: Vec<&str> = raw_kinds.keys().map(|k| k.get_ref().as_str()).collect();

    // Links in full-name order; their ids are positions in this list.
    let raw_links = raw_links(&raw_kinds);
    if too_many(cx, raw_links.len(), "kinds", "links") {
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
                kind_links: links_of_kind(&raw_links, ki),
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

/// `version`, when given, is the one there is.
fn check_version(cx: &mut Cx<'_>, version: Option<&Spanned<i64>>) {
    if let Some(v) = version {
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
}

/// At least one service and not too many: nothing else can be checked otherwise.
fn services_declared(cx: &mut Cx<'_>, raw: &BTreeMap<Spanned<String>, RawService>) -> bool {
    if raw.is_empty() {
        // Nothing else can be checked without services: this is the mistake to report.
        let span = cx.key_span(&["services"]);
        cx.err(
            span,
            "services".into(),
            "no services declared (at least one `[services.NAME]` table with a `base_url` is \
             required)"
                .into(),
        );
        return false;
    }
    !too_many(cx, raw.len(), "services", "services")
}

/// Whether there are more `what` (services, kinds or links) than ids can number; if so, says so.
fn too_many(cx: &mut Cx<'_>, n: usize, key: &str, what: &str) -> bool {
    if n <= MAX_ITEMS {
        return false;
    }
    cx.err(
        None,
        key.into(),
        format!("too many {what} (at most {MAX_ITEMS})"),
    );
    true
}

/// Every kind's links, sorted by full name.
fn raw_links(raw_kinds: &BTreeMap<Spanned<String>, RawKind>) -> RawLinks<'_> {
    let mut raw_links: RawLinks<'_> = Vec::new();
    for (ki, (kname, rk)) in raw_kinds.iter().enumerate() {
        for (lname, rl) in rk.links.iter().flatten() {
            let full = format!("{}.{}", kname.get_ref(), lname.get_ref());
            raw_links.push((full, ki as KindId, lname, rl));
        }
    }
    raw_links.sort_by(|a, b| a.0.cmp(&b.0));
    raw_links
}

/// The ids of kind `ki`'s links.
fn links_of_kind(raw_links: &RawLinks<'_>, ki: usize) -> Vec<LinkId> {
    raw_links
        .iter()
        .enumerate()
        .filter(|(_, l)| usize::from(l.1) == ki)
        .map(|(i, _)| i as LinkId)
        .collect()
}

#[cfg(test)]
mod tests;
