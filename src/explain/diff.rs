//! `bacaudit diff BEFORE AFTER`: what a restore lost, brought back and changed, comparing two
//! snapshots URL by URL, grouped per service and kind (with rules) or per origin; with rules,
//! which findings of AFTER those losses explain.
//!
//! Per URL (a URL not recorded answers 404, as when replaying):
//!
//! | BEFORE | AFTER | counted as |
//! |---|---|---|
//! | 2xx | 2xx, same JSON body | unchanged |
//! | 2xx | 2xx, another body | changed |
//! | 2xx | 404, 410 or not recorded | lost |
//! | 2xx | any other failure (5xx, timeout, 401…) | unreachable (cannot tell) |
//! | 404 or 410 | 2xx | resurrected (deleted, and back) |
//! | not recorded | 2xx | added |
//!
//! Anything else (deleted in both, failing in both) is not counted.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::Serialize;
use url::Url;

use super::evidence::Referrers;
use crate::model::ReportFinding;
use crate::rules::Rules;
use crate::source::{Snapshot, SnapshotEntry};
use crate::text::grid;
use crate::vocab::FindingKind;

/// The diff schema name.
pub const SCHEMA: &str = "bacaudit/diff/v1";

/// The comparison of two snapshots (the JSON output of `diff`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diff {
    pub schema: String,
    pub before: String,
    pub after: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rules: Option<String>,
    pub summary: Counts,
    /// Per service and kind (`kind: null` for pages and other URLs of no kind), or per origin
    /// without rules; in name order.
    pub groups: Vec<Group>,
    /// The URLs of each category, sorted.
    pub lost: Vec<String>,
    pub resurrected: Vec<String>,
    pub changed: Vec<String>,
    pub added: Vec<String>,
    pub unreachable: Vec<String>,
    /// With rules: the findings of AFTER that the losses explain.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explained: Option<Explained>,
}

/// How many URLs fell in each category.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub lost: u64,
    pub resurrected: u64,
    pub changed: u64,
    pub added: u64,
    pub unreachable: u64,
    pub unchanged: u64,
}

/// The counts of one group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group {
    #[serde(flatten)]
    pub key: GroupKey,
    #[serde(flatten)]
    pub counts: Counts,
}

/// What a group gathers.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(untagged)]
pub enum GroupKey {
    /// With rules: a declared service (`None`: outside every service) and a kind (`None`:
    /// pages and other URLs of no kind).
    Service {
        service: Option<String>,
        kind: Option<String>,
    },
    /// Without rules: `scheme://host:port`.
    Origin { origin: String },
}

/// The findings of AFTER that the diff explains.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explained {
    /// Broken links and orphans in AFTER.
    pub findings: u64,
    /// How many of them the diff explains.
    pub explained: u64,
    pub items: Vec<ExplainedFinding>,
}

/// One finding of AFTER and the lost (or resurrected) resources that explain it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExplainedFinding {
    pub id: String,
    pub kind: FindingKind,
    /// The source of a broken link, or the orphan.
    pub subject: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// `target_lost` (a broken link to a lost resource), `referrers_lost` (an orphan whose
    /// referrers in BEFORE are lost) or `resurrected` (an orphan deleted in BEFORE).
    pub because: String,
    /// The lost resources (or the resurrected orphan itself).
    pub by: Vec<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Category {
    Lost,
    Resurrected,
    Changed,
    Added,
    Unreachable,
    Unchanged,
}

fn is_ok(e: Option<&SnapshotEntry>) -> bool {
    matches!(e.map(|e| e.outcome), Some(Ok(200..=299)))
}

fn is_deleted(e: Option<&SnapshotEntry>) -> bool {
    matches!(e.map(|e| e.outcome), Some(Ok(404 | 410)))
}

fn same_body(a: &SnapshotEntry, b: &SnapshotEntry) -> bool {
    match (a.body_json(), b.body_json()) {
        (Some(x), Some(y)) => x == y,
        _ => a.body == b.body,
    }
}

fn category(before: Option<&SnapshotEntry>, after: Option<&SnapshotEntry>) -> Option<Category> {
    if is_ok(before) {
        let b = before.expect("ok");
        return Some(match after {
            Some(a) if is_ok(Some(a)) => {
                if same_body(b, a) {
                    Category::Unchanged
                } else {
                    Category::Changed
                }
            }
            None => Category::Lost,
            Some(a) if is_deleted(Some(a)) => Category::Lost,
            Some(_) => Category::Unreachable,
        });
    }
    if is_deleted(before) && is_ok(after) {
        return Some(Category::Resurrected);
    }
    (before.is_none() && is_ok(after)).then_some(Category::Added)
}

/// Compares two snapshots. `rules` groups by service and kind (else by origin).
pub fn diff(before: &Snapshot, after: &Snapshot, rules: Option<&Rules>) -> Diff {
    let urls: BTreeSet<&String> = before.entries.keys().chain(after.entries.keys()).collect();
    let mut groups: BTreeMap<GroupKey, Counts> = BTreeMap::new();
    let mut d = Diff {
        schema: SCHEMA.into(),
        before: before.path.display().to_string(),
        after: after.path.display().to_string(),
        rules: rules.map(|r| r.path.display().to_string()),
        summary: Counts::default(),
        groups: Vec::new(),
        lost: Vec::new(),
        resurrected: Vec::new(),
        changed: Vec::new(),
        added: Vec::new(),
        unreachable: Vec::new(),
        explained: None,
    };
    for url in urls {
        let Some(cat) = category(before.entries.get(url), after.entries.get(url)) else {
            continue;
        };
        let key = group_key(url, rules);
        for counts in [&mut d.summary, groups.entry(key).or_default()] {
            let slot = match cat {
                Category::Lost => &mut counts.lost,
                Category::Resurrected => &mut counts.resurrected,
                Category::Changed => &mut counts.changed,
                Category::Added => &mut counts.added,
                Category::Unreachable => &mut counts.unreachable,
                Category::Unchanged => &mut counts.unchanged,
            };
            *slot += 1;
        }
        let list = match cat {
            Category::Lost => &mut d.lost,
            Category::Resurrected => &mut d.resurrected,
            Category::Changed => &mut d.changed,
            Category::Added => &mut d.added,
            Category::Unreachable => &mut d.unreachable,
            Category::Unchanged => continue,
        };
        list.push(url.clone());
    }
    d.groups = groups
        .into_iter()
        .map(|(key, counts)| Group { key, counts })
        .collect();
    d
}

fn group_key(url: &str, rules: Option<&Rules>) -> GroupKey {
    let parsed = Url::parse(url).ok();
    match rules {
        Some(r) => GroupKey::Service {
            service: parsed
                .as_ref()
                .and_then(|u| r.service_of(u))
                .map(|s| r.service(s).name.clone()),
            kind: parsed
                .as_ref()
                .and_then(|u| r.kind_of(u))
                .map(|(k, _)| r.kind(k).name.clone()),
        },
        None => GroupKey::Origin {
            origin: parsed
                .map(|u| u.origin().ascii_serialization())
                .unwrap_or_default(),
        },
    }
}

/// Which findings of AFTER the diff explains: a broken link whose target is lost; an orphan
/// that was deleted in BEFORE (resurrected) or whose referrers in BEFORE (`referrers`) are
/// lost.
pub fn explain_findings(d: &Diff, findings: &[ReportFinding], referrers: &Referrers) -> Explained {
    let lost: BTreeSet<&str> = d.lost.iter().map(String::as_str).collect();
    let resurrected: BTreeSet<&str> = d.resurrected.iter().map(String::as_str).collect();
    let mut out = Explained {
        findings: 0,
        explained: 0,
        items: Vec::new(),
    };
    for f in findings {
        let item = match f {
            ReportFinding::Link(l) if l.kind == FindingKind::BrokenLink => {
                out.findings += 1;
                lost.contains(l.target.as_str()).then(|| ExplainedFinding {
                    id: l.id.clone(),
                    kind: l.kind,
                    subject: l.source.clone().unwrap_or_default(),
                    target: Some(l.target.clone()),
                    because: "target_lost".into(),
                    by: vec![l.target.clone()],
                })
            }
            ReportFinding::Orphan(o) => {
                out.findings += 1;
                let r = o.resource.as_str();
                if resurrected.contains(r) {
                    Some(ExplainedFinding {
                        id: o.id.clone(),
                        kind: o.kind,
                        subject: o.resource.clone(),
                        target: None,
                        because: "resurrected".into(),
                        by: vec![o.resource.clone()],
                    })
                } else {
                    let by: Vec<String> = referrers
                        .of(r)
                        .filter(|p| lost.contains(p))
                        .map(str::to_string)
                        .collect();
                    (!by.is_empty()).then(|| ExplainedFinding {
                        id: o.id.clone(),
                        kind: o.kind,
                        subject: o.resource.clone(),
                        target: None,
                        because: "referrers_lost".into(),
                        by,
                    })
                }
            }
            ReportFinding::Link(_) => None,
        };
        if let Some(item) = item {
            out.explained += 1;
            out.items.push(item);
        }
    }
    out
}

/// The diff as plain-text tables: counts per group, then the lost, resurrected and
/// unreachable URLs (changed and added ones are counted; `--format json` lists them), then
/// the explained findings.
pub fn render_table(d: &Diff) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "bacaudit diff · before {} · after {}{}\n",
        d.before,
        d.after,
        d.rules
            .as_deref()
            .map(|r| format!(" · rules {r}"))
            .unwrap_or_default()
    );
    let by_service = d.rules.is_some();
    let mut head = if by_service {
        vec!["SERVICE".to_string(), "KIND".into()]
    } else {
        vec!["ORIGIN".to_string()]
    };
    head.extend(
        [
            "LOST",
            "RESURRECTED",
            "CHANGED",
            "ADDED",
            "UNREACHABLE",
            "UNCHANGED",
        ]
        .map(String::from),
    );
    let mut rows = vec![head];
    let nums = |c: &Counts| {
        [
            c.lost,
            c.resurrected,
            c.changed,
            c.added,
            c.unreachable,
            c.unchanged,
        ]
        .map(|n| n.to_string())
    };
    for g in &d.groups {
        let mut row = match &g.key {
            GroupKey::Service { service, kind } => vec![
                service.clone().unwrap_or_else(|| "(outside)".into()),
                kind.clone().unwrap_or_else(|| "(pages)".into()),
            ],
            GroupKey::Origin { origin } => vec![origin.clone()],
        };
        row.extend(nums(&g.counts));
        rows.push(row);
    }
    let mut total = vec!["TOTAL".to_string()];
    if by_service {
        total.push(String::new());
    }
    total.extend(nums(&d.summary));
    rows.push(total);
    let lead = if by_service { 2 } else { 1 };
    let right: Vec<bool> = (0..lead + 6).map(|c| c >= lead).collect();
    out.push_str(&grid(&rows, &right));
    for (title, list) in [
        ("LOST", &d.lost),
        ("RESURRECTED", &d.resurrected),
        ("UNREACHABLE IN AFTER (cannot tell)", &d.unreachable),
    ] {
        if !list.is_empty() {
            let _ = writeln!(out, "\n{title} ({})", list.len());
            for u in list {
                let _ = writeln!(out, "  {u}");
            }
        }
    }
    if let Some(e) = &d.explained {
        let _ = writeln!(
            out,
            "\nFINDINGS OF AFTER EXPLAINED BY THE DIFF: {} of {} broken links and orphans",
            e.explained, e.findings
        );
        for i in &e.items {
            let what = match &i.target {
                Some(t) => format!("{} → {t}", i.subject),
                None => i.subject.clone(),
            };
            let why = match i.because.as_str() {
                "target_lost" => "its target was lost".to_string(),
                "resurrected" => "deleted before, back after the restore".to_string(),
                _ => format!("its referrers were lost: {}", i.by.join(", ")),
            };
            let _ = writeln!(out, "  {:<12} {what}  ({why})", i.kind);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use std::path::Path;

    fn snap(name: &str, lines: &[&str]) -> Snapshot {
        let mut s = Snapshot {
            path: name.into(),
            ..Snapshot::default()
        };
        s.add_text(Path::new(name), Bytes::from(lines.join("\n")))
            .unwrap();
        s
    }

    #[test]
    fn every_category_per_origin() {
        let before = snap(
            "b.ndjson",
            &[
                r#"{"url":"http://h:1/a","status":200,"body":{"x":1, "y":2}}"#,
                r#"{"url":"http://h:1/b","status":200,"body":{"x":1}}"#,
                r#"{"url":"http://h:1/c","status":200,"body":{"x":1}}"#,
                r#"{"url":"http://h:1/d","status":410}"#,
                r#"{"url":"http://h:2/e","status":200}"#,
                r#"{"url":"http://h:2/f","status":200}"#,
                r#"{"url":"http://h:2/g","status":404}"#,
            ],
        );
        let after = snap(
            "a.ndjson",
            &[
                r#"{"url":"http://h:1/a","status":200,"body":{"y":2,"x":1}}"#,
                r#"{"url":"http://h:1/b","status":200,"body":{"x":2}}"#,
                r#"{"url":"http://h:1/d","status":200,"body":{}}"#,
                r#"{"url":"http://h:2/e","error":"timeout"}"#,
                r#"{"url":"http://h:2/f","status":410}"#,
                r#"{"url":"http://h:2/g","status":404}"#,
                r#"{"url":"http://h:2/n","status":201}"#,
            ],
        );
        let d = diff(&before, &after, None);
        assert_eq!(
            d.summary,
            Counts {
                lost: 2,
                resurrected: 1,
                changed: 1,
                added: 1,
                unreachable: 1,
                unchanged: 1,
            }
        );
        assert_eq!(d.lost, ["http://h:1/c", "http://h:2/f"]);
        assert_eq!(d.resurrected, ["http://h:1/d"]);
        assert_eq!(d.groups.len(), 2);
        assert_eq!(
            d.groups[0].key,
            GroupKey::Origin {
                origin: "http://h:1".into()
            }
        );
        assert_eq!(d.groups[0].counts.lost, 1);
        let json = serde_json::to_value(&d).unwrap();
        assert_eq!(json["groups"][1]["origin"], "http://h:2");
        assert_eq!(json["groups"][1]["unreachable"], 1);
        assert!(json.get("rules").is_none() && json.get("explained").is_none());
        let table = render_table(&d);
        assert!(table.contains("ORIGIN"), "{table}");
        assert!(
            table.contains("LOST (2)\n  http://h:1/c\n  http://h:2/f\n"),
            "{table}"
        );
    }
}
