//! The executable plan: every finding's compensations merged into one ordered list of HTTP
//! operations so that none undoes another (no PATCH on a resource a DELETE removes, one
//! JSON Patch per resource with array removals from the back, no PUT nothing needs).

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::analyze::Compensation;
use crate::model::ReportFinding;
use crate::vocab::{Action, Method};

/// One HTTP request of the plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Operation {
    pub method: Method,
    pub url: String,
    pub content_type: Option<String>,
    pub body: Option<Value>,
    /// The actions merged into this request (`cascade`, `set-null`, …).
    pub actions: Vec<Action>,
    /// Ids of the findings this request repairs.
    pub findings: Vec<String>,
    pub reasons: Vec<String>,
}

/// What a person must do: compensations without a method, and operations dropped because
/// another one supersedes them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Note {
    pub url: String,
    pub findings: Vec<String>,
    pub reason: String,
}

/// The merged, ordered plan of a report's findings: PUTs (recreate) first, then PATCHes, then
/// DELETEs, each group by URL.
pub fn schedule(findings: &[ReportFinding]) -> (Vec<Operation>, Vec<Note>) {
    let mut puts: BTreeMap<String, Operation> = BTreeMap::new();
    let mut patches: BTreeMap<String, Operation> = BTreeMap::new();
    let mut deletes: BTreeMap<String, Operation> = BTreeMap::new();
    let mut notes = Vec::new();
    // The sources whose findings asked for each PUT.
    let mut put_sources: BTreeMap<String, BTreeSet<Option<String>>> = BTreeMap::new();
    for f in findings {
        let source = match f {
            ReportFinding::Link(l) => l.source.clone(),
            ReportFinding::Orphan(_) => None,
        };
        for c in f.compensations() {
            let Some(method) = c.method else {
                notes.push(Note {
                    url: c.url.clone(),
                    findings: vec![f.id().to_string()],
                    reason: c.reason.clone(),
                });
                continue;
            };
            let group = match method {
                Method::Put => {
                    put_sources
                        .entry(c.url.clone())
                        .or_default()
                        .insert(source.clone());
                    &mut puts
                }
                Method::Patch => &mut patches,
                Method::Delete => &mut deletes,
            };
            merge(group, f.id(), method, c);
        }
    }
    // A DELETE supersedes every PATCH and PUT of the same resource.
    for (url, op) in std::mem::take(&mut patches) {
        if deletes.contains_key(&url) {
            notes.push(superseded(&op, "PATCH"));
        } else {
            patches.insert(url, op);
        }
    }
    for (url, op) in std::mem::take(&mut puts) {
        let needed_by_survivor = put_sources.get(&url).is_some_and(|sources| {
            sources
                .iter()
                .any(|s| s.as_ref().is_none_or(|s| !deletes.contains_key(s)))
        });
        if deletes.contains_key(&url) || !needed_by_survivor {
            notes.push(superseded(&op, "PUT"));
        } else {
            puts.insert(url, op);
        }
    }
    let mut ops: Vec<Operation> = puts.into_values().collect();
    ops.extend(patches.into_values().map(|mut op| {
        if let Some(Value::Array(list)) = &mut op.body {
            order_patch(list);
        }
        op
    }));
    ops.extend(deletes.into_values());
    (ops, notes)
}

fn superseded(op: &Operation, what: &str) -> Note {
    Note {
        url: op.url.clone(),
        findings: op.findings.clone(),
        reason: format!(
            "{what} {} dropped: the plan deletes the resource (or everything that needed it)",
            op.url
        ),
    }
}

fn merge(group: &mut BTreeMap<String, Operation>, id: &str, method: Method, c: &Compensation) {
    let op = group.entry(c.url.clone()).or_insert_with(|| Operation {
        method,
        url: c.url.clone(),
        content_type: c.content_type.clone(),
        body: if method == Method::Patch {
            Some(Value::Array(Vec::new()))
        } else {
            c.body.clone()
        },
        actions: Vec::new(),
        findings: Vec::new(),
        reasons: Vec::new(),
    });
    if !op.actions.contains(&c.action) {
        op.actions.push(c.action);
    }
    if !op.findings.iter().any(|f| f == id) {
        op.findings.push(id.to_string());
    }
    if !op.reasons.contains(&c.reason) {
        op.reasons.push(c.reason.clone());
    }
    if let (Some(Value::Array(into)), Some(Value::Array(add))) = (&mut op.body, &c.body) {
        if op.method == Method::Patch {
            for o in add {
                if !into.contains(o) {
                    into.push(o.clone());
                }
            }
        }
    }
}

/// Orders a merged JSON Patch: `replace` operations first, then `remove`s from the deepest
/// and highest array index down, so no removal shifts the target of another.
fn order_patch(ops: &mut [Value]) {
    ops.sort_by(|a, b| {
        let op = |v: &Value| {
            v.get("op")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let path = |v: &Value| {
            v.get("path")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        match (op(a) == "remove", op(b) == "remove") {
            (false, true) => Ordering::Less,
            (true, false) => Ordering::Greater,
            (false, false) => path(a).cmp(&path(b)),
            (true, true) => compare_paths(&path(b), &path(a)),
        }
    });
}

/// Compares JSON pointers token by token, array indices numerically.
fn compare_paths(a: &str, b: &str) -> Ordering {
    let mut ta = a.split('/');
    let mut tb = b.split('/');
    loop {
        match (ta.next(), tb.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let c = match (x.parse::<u64>(), y.parse::<u64>()) {
                    (Ok(i), Ok(j)) => i.cmp(&j),
                    _ => x.cmp(y),
                };
                if c != Ordering::Equal {
                    return c;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{LinkEntry, OrphanEntry};
    use crate::vocab::{Class, FindingKind, Reason};
    use serde_json::json;

    fn comp(action: &str, method: Option<&str>, url: &str, body: Option<Value>) -> Compensation {
        Compensation {
            action: Action::parse(action).unwrap(),
            method: method.map(|m| Method::parse(m).unwrap()),
            url: url.into(),
            content_type: None,
            body,
            reason: format!("{action} {url}"),
        }
    }

    fn link(id: &str, source: &str, comps: Vec<Compensation>) -> ReportFinding {
        ReportFinding::Link(LinkEntry {
            id: id.into(),
            kind: FindingKind::BrokenLink,
            class: Class::Permanent,
            source: Some(source.into()),
            pointer: Some("/x".into()),
            relation: Some("a.b".into()),
            target: "http://h/t".into(),
            fetched: None,
            status: Some(404),
            attempts: 1,
            reason: Reason::NotFound,
            detail: "404 Not Found".into(),
            cause: None,
            compensations: comps,
        })
    }

    #[test]
    fn delete_supersedes_patch_and_patches_merge_back_to_front() {
        let findings = vec![
            link(
                "1",
                "http://h/o/1",
                vec![comp("cascade", Some("DELETE"), "http://h/o/1", None)],
            ),
            link(
                "2",
                "http://h/o/1",
                vec![comp(
                    "set-null",
                    Some("PATCH"),
                    "http://h/o/1",
                    Some(json!([{"op":"remove","path":"/l/1"}])),
                )],
            ),
            link(
                "3",
                "http://h/o/2",
                vec![comp(
                    "set-null",
                    Some("PATCH"),
                    "http://h/o/2",
                    Some(json!([{"op":"remove","path":"/l/2"}])),
                )],
            ),
            link(
                "4",
                "http://h/o/2",
                vec![comp(
                    "set-null",
                    Some("PATCH"),
                    "http://h/o/2",
                    Some(json!([{"op":"remove","path":"/l/10"}])),
                )],
            ),
            link(
                "5",
                "http://h/o/2",
                vec![comp(
                    "set-null",
                    Some("PATCH"),
                    "http://h/o/2",
                    Some(json!([{"op":"replace","path":"/c","value":null}])),
                )],
            ),
            ReportFinding::Orphan(OrphanEntry {
                id: "6".into(),
                kind: FindingKind::Orphan,
                resource: "http://h/c/9".into(),
                expected_referenced_by: vec!["o.c".into()],
                cause: None,
                compensations: vec![comp("manual", None, "http://h/c/9", None)],
            }),
        ];
        let (ops, notes) = schedule(&findings);
        assert_eq!(ops.len(), 2);
        assert_eq!(ops[0].method, Method::Patch);
        assert_eq!(ops[0].url, "http://h/o/2");
        assert_eq!(
            ops[0].body,
            Some(json!([
                {"op":"replace","path":"/c","value":null},
                {"op":"remove","path":"/l/10"},
                {"op":"remove","path":"/l/2"}
            ]))
        );
        assert_eq!(ops[0].findings, vec!["3", "4", "5"]);
        assert_eq!(ops[1].method, Method::Delete);
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(notes
            .iter()
            .any(|n| n.reason.contains("PATCH http://h/o/1 dropped")));
    }

    #[test]
    fn put_only_when_a_surviving_source_needs_it() {
        let findings = vec![
            link(
                "1",
                "http://h/o/1",
                vec![comp("cascade", Some("DELETE"), "http://h/o/1", None)],
            ),
            link(
                "2",
                "http://h/o/1",
                vec![comp(
                    "recreate",
                    Some("PUT"),
                    "http://h/s/1",
                    Some(json!({"id":"1"})),
                )],
            ),
            link(
                "3",
                "http://h/o/2",
                vec![comp(
                    "recreate",
                    Some("PUT"),
                    "http://h/s/2",
                    Some(json!({"id":"2"})),
                )],
            ),
        ];
        let (ops, _) = schedule(&findings);
        let urls: Vec<&str> = ops.iter().map(|o| o.url.as_str()).collect();
        assert_eq!(urls, vec!["http://h/s/2", "http://h/o/1"]);
    }
}
