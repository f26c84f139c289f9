//! One `[kinds.KIND.links.NAME]` table: how the link is found (`pointer` or `rel`), the kind it
//! points at and what to do when it is broken, compiled into a [`LinkRule`].

use toml::Spanned;

use super::cx::{check_name, enum_value, known_list, Cx};
use crate::rules::locate::dotted;
use crate::rules::raw::RawLink;
use crate::rules::{BrokenAction, KindId, LinkRule, PointerPattern, Selector};

const ON_BROKEN: &[(&str, BrokenAction)] = &[
    ("cascade", BrokenAction::Cascade),
    ("set-null", BrokenAction::SetNull),
    ("recreate", BrokenAction::Recreate),
    ("manual", BrokenAction::Manual),
];

pub(super) fn compile_link(
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

    let selector = selector(cx, kind_name, name, rl);

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

/// How the link is found: exactly one of `pointer` (a JSON pointer pattern) and `rel` (one word).
fn selector(
    cx: &mut Cx<'_>,
    kind_name: &str,
    name: &Spanned<String>,
    rl: &RawLink,
) -> Option<Selector> {
    let n = name.get_ref().as_str();
    let key = |leaf: &str| dotted(&["kinds", kind_name, "links", n, leaf]);
    match (&rl.pointer, &rl.rel) {
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
    }
}
