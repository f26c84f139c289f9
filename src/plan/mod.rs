//! The compensation planner: each finding's rule action turned into the operation that would
//! repair it (method, URL, JSON Patch or body), the operations merged into one ordered plan
//! ([`schedule`]), and each operation turned into the request its service speaks
//! ([`request`]).

use serde_json::{json, Value};

mod cascade;
pub mod request;
mod schedule;

pub use schedule::{schedule, Note, Operation};

use crate::analyze::{Analysis, Compensation, FindingBody, LinkFinding, OrphanFinding};
use crate::extract::HEADER_POINTER;
use crate::graph::Graph;
use crate::rules::{BrokenAction, OrphanAction, Pointer, Rules, Selector};
use crate::source::Snapshot;
use crate::vocab::{Action, Method};

/// Fills every finding's compensations. `previous` is the last good snapshot, whose
/// representations `recreate` puts back. A deletion's consequences are planned too: whatever
/// still references a deleted resource through a declared link gets that link's action
/// (a cascade goes on cascading), and a resource left unreferenced by the deletions gets its
/// orphan action — attached to the finding whose deletion causes it, once.
pub fn plan(
    mut analysis: Analysis,
    graph: &Graph,
    rules: &Rules,
    previous: Option<&Snapshot>,
) -> Analysis {
    for f in &mut analysis.findings {
        f.compensations = match &f.body {
            FindingBody::Link(l) if f.kind == crate::vocab::FindingKind::BrokenLink => {
                broken(l, rules, previous)
            }
            FindingBody::Link(_) => Vec::new(),
            FindingBody::Orphan(o) => vec![orphan(o, rules)],
        };
    }
    cascade::follow_up(&mut analysis, graph, rules);
    analysis
}

fn broken(l: &LinkFinding, rules: &Rules, previous: Option<&Snapshot>) -> Vec<Compensation> {
    let Some(source) = &l.source else {
        return vec![manual(
            &l.target,
            format!(
                "seed {} did not answer ({}); check the service's restore",
                l.target, l.detail
            ),
        )];
    };
    let pointer = l.pointer.as_deref().unwrap_or_default();
    let Some(link_id) = l.link else {
        return vec![manual(
            source,
            format!(
                "{source} links at {pointer} to {} ({}); no rule says what to do",
                l.target, l.detail
            ),
        )];
    };
    let rule = rules.link(link_id);
    let to = &rules.kind(rule.to).name;
    let why = format!("{} points at a {to} that no longer exists", rule.name);
    match rule.on_broken {
        BrokenAction::Cascade => vec![Compensation {
            action: Action::Cascade,
            method: Some(Method::Delete),
            url: source.clone(),
            content_type: None,
            body: None,
            reason: why,
        }],
        BrokenAction::SetNull => match set_null_patch(pointer, &rule.selector) {
            Some(patch) => vec![Compensation {
                action: Action::SetNull,
                method: Some(Method::Patch),
                url: source.clone(),
                content_type: Some("application/json-patch+json".into()),
                body: Some(patch),
                reason: why,
            }],
            None => vec![manual(
                source,
                format!("{why}; the link is in a `Link` header, which no JSON Patch can remove"),
            )],
        },
        BrokenAction::Recreate => {
            let body = previous
                .and_then(|p| {
                    let url = url::Url::parse(&l.target).ok()?;
                    let e = p.get(&url)?;
                    matches!(e.outcome, Ok(200..=299))
                        .then(|| e.body_json())
                        .flatten()
                })
                .map(|b| {
                    (
                        b,
                        "its last known representation from the previous snapshot",
                    )
                })
                .unwrap_or_else(|| {
                    let id = url::Url::parse(&l.target)
                        .ok()
                        .and_then(|u| rules.kind_of(&u))
                        .map(|(_, id)| id)
                        .unwrap_or_default();
                    (
                        json!({"id": id, "placeholder": true}),
                        "a placeholder (no previous snapshot holds it)",
                    )
                });
            vec![Compensation {
                action: Action::Recreate,
                method: Some(Method::Put),
                url: l.target.clone(),
                content_type: Some("application/json".into()),
                body: Some(body.0),
                reason: format!("{why}; recreate it with {}", body.1),
            }]
        }
        BrokenAction::Manual => vec![manual(source, format!("{why}; decide by hand"))],
    }
}

fn orphan(o: &OrphanFinding, rules: &Rules) -> Compensation {
    let kind = rules.kind(o.of_kind);
    let why = format!(
        "no {} references this {}",
        o.expected_referenced_by.join(" or "),
        kind.name
    );
    match kind.on_orphan {
        OrphanAction::Delete => Compensation {
            action: Action::Delete,
            method: Some(Method::Delete),
            url: o.resource.clone(),
            content_type: None,
            body: None,
            reason: why,
        },
        OrphanAction::Manual => manual(&o.resource, format!("{why}; decide by hand")),
    }
}

pub(crate) fn manual(url: &str, reason: String) -> Compensation {
    Compensation {
        action: Action::Manual,
        method: None,
        url: url.to_string(),
        content_type: None,
        body: None,
        reason,
    }
}

/// The RFC 6902 patch that removes a reference: `replace … null` for a value named by a rule
/// pointer, `remove` of the link object for a hypermedia link (`/_links/customer`,
/// `/_links/products/1`), `None` for a `Link` header.
pub(crate) fn set_null_patch(pointer: &str, selector: &Selector) -> Option<Value> {
    if pointer == HEADER_POINTER {
        return None;
    }
    if matches!(selector, Selector::Pointer(_)) {
        return Some(json!([{"op": "replace", "path": pointer, "value": null}]));
    }
    let p = Pointer::parse(pointer).ok()?;
    let tokens = &p.tokens;
    let last = tokens.last()?;
    if last == "href" || last == "@id" {
        let parent: String = pointer[..pointer.len() - last.len() - 1].to_string();
        return Some(json!([{"op": "remove", "path": parent}]));
    }
    if last.bytes().all(|b| b.is_ascii_digit()) {
        return Some(json!([{"op": "remove", "path": pointer}]));
    }
    Some(json!([{"op": "replace", "path": pointer, "value": null}]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::PointerPattern;

    #[test]
    fn set_null_patches() {
        let ptr = Selector::Pointer(PointerPattern::parse("/customer_id").unwrap());
        let rel = Selector::Rel("customer".into());
        assert_eq!(
            set_null_patch("/customer_id", &ptr).unwrap(),
            json!([{"op":"replace","path":"/customer_id","value":null}])
        );
        assert_eq!(
            set_null_patch("/_links/customer/href", &rel).unwrap(),
            json!([{"op":"remove","path":"/_links/customer"}])
        );
        assert_eq!(
            set_null_patch("/_links/products/1/href", &rel).unwrap(),
            json!([{"op":"remove","path":"/_links/products/1"}])
        );
        assert_eq!(
            set_null_patch("/data/relationships/products/data/1", &rel).unwrap(),
            json!([{"op":"remove","path":"/data/relationships/products/data/1"}])
        );
        assert_eq!(
            set_null_patch("/data/relationships/customer/data", &rel).unwrap(),
            json!([{"op":"replace","path":"/data/relationships/customer/data","value":null}])
        );
        assert!(set_null_patch(HEADER_POINTER, &rel).is_none());
    }
}
