//! `bacaudit whatif`: the BAC paper's three ways out of an inconsistent restore, priced on
//! this data — every number counted from the graph, the report and the snapshot.
//!
//! 1. **compensate**: run the plan (`plan::schedule` of the report's compensations): HTTP
//!    operations by method and action, resources deleted, placeholders created, what is left
//!    for a person.
//! 2. **trim**: restore every service again, to the oldest restore point: the resources written
//!    after it (their `timestamp`) in services restored to a later point are lost in addition;
//!    the findings whose subject they are disappear, and references to them from what remains
//!    break. Needs every restore point, and timestamps on the trimmed kinds.
//! 3. **accept**: leave the inconsistency: the broken links and orphans stay.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt::Write as _;

use serde::Serialize;

use super::evidence::{stamp, Stamp};
use super::RestorePoints;
use crate::graph::{Graph, NodeId, NodeState, NO_RELATION};
use crate::model::{Report, ReportFinding};
use crate::plan;
use crate::rules::{KindId, Rules};
use crate::source::Snapshot;
use crate::text::grid;
use crate::vocab::{FindingKind, Timestamp};

/// The what-if schema name.
pub const SCHEMA: &str = "bacaudit/whatif/v1";

/// The three strategies, priced (the JSON output of `whatif`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WhatIf {
    pub schema: String,
    pub rules: String,
    pub snapshot: String,
    pub previous_snapshot: Option<String>,
    pub restore_points: Vec<ServicePoint>,
    pub compensate: Compensate,
    pub trim: Trim,
    pub accept: Accept,
}

/// A service and when its backup was taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServicePoint {
    pub service: String,
    pub restored_from: Option<Timestamp>,
}

/// Broken links and orphans.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FindingCounts {
    pub broken_link: u64,
    pub orphan: u64,
}

/// Strategy 1: the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Compensate {
    /// HTTP requests of the merged plan.
    pub operations: u64,
    /// Requests by method (`DELETE`, `PATCH`, `PUT`).
    pub by_method: BTreeMap<String, u64>,
    /// Compensations by action, before merging (`cascade`, `delete`, `set-null`, `recreate`,
    /// `manual`).
    pub by_action: BTreeMap<String, u64>,
    /// Resources the plan deletes.
    pub deleted: u64,
    /// Resources the plan patches.
    pub patched: u64,
    /// Resources the plan puts back: from the previous snapshot or as placeholders.
    pub recreated: u64,
    pub placeholders: u64,
    /// Compensations that follow from the plan's own deletions (cascades of cascades,
    /// resources left unreferenced).
    pub follow_ups: u64,
    /// Compensations no request performs: a person must decide.
    pub manual: u64,
    /// Findings no request repairs (only manual compensations, or none).
    pub left: FindingCounts,
}

/// Strategy 2: everything back to the oldest restore point.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Trim {
    /// Whether every service has a restore point (else nothing is counted).
    pub possible: bool,
    /// What is missing for an exact count (restore points, timestamps).
    pub missing: Vec<String>,
    pub oldest: Option<Timestamp>,
    /// Resources written after the oldest restore point, lost in addition.
    pub lost: Option<u64>,
    /// Resources that would be trimmed but have no timestamp (not counted in `lost`).
    pub uncounted: Option<u64>,
    /// Per service restored to a later point: lost and uncounted resources.
    pub services: Vec<TrimService>,
    /// Findings whose subject (a broken link's source, the orphan) is trimmed away.
    pub removed: Option<FindingCounts>,
    /// Findings the trim creates: references from what remains to trimmed resources, and
    /// resources left without any required referrer.
    pub created: Option<FindingCounts>,
    /// Findings after the trim.
    pub left: Option<FindingCounts>,
}

/// The trim of one service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrimService {
    pub service: String,
    pub restored_from: Timestamp,
    pub lost: u64,
    pub uncounted: u64,
}

/// Strategy 3: the findings as they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Accept {
    pub broken_link: u64,
    pub orphan: u64,
    /// Not data loss (transient), listed for completeness.
    pub unresolved: u64,
}

/// Prices the three strategies for a planned report of `graph`, crawled from `snapshot`.
pub fn whatif(
    report: &Report,
    graph: &Graph,
    rules: &Rules,
    points: &RestorePoints,
    snapshot: &Snapshot,
    previous: Option<&str>,
) -> WhatIf {
    let restore_points = rules
        .services
        .iter()
        .enumerate()
        .map(|(i, s)| ServicePoint {
            service: s.name.clone(),
            restored_from: points.get(i as u16),
        })
        .collect();
    let accept = Accept {
        broken_link: report.summary.broken_link,
        orphan: report.summary.orphan,
        unresolved: report.summary.unresolved,
    };
    WhatIf {
        schema: SCHEMA.into(),
        rules: report.source.rules.clone(),
        snapshot: snapshot.path.display().to_string(),
        previous_snapshot: previous.map(str::to_string),
        restore_points,
        compensate: compensate(report),
        trim: trim(report, graph, rules, points, snapshot),
        accept,
    }
}

fn compensate(report: &Report) -> Compensate {
    let (ops, _notes) = plan::schedule(&report.findings);
    let mut c = Compensate {
        operations: ops.len() as u64,
        by_method: BTreeMap::new(),
        by_action: BTreeMap::new(),
        deleted: 0,
        patched: 0,
        recreated: 0,
        placeholders: 0,
        follow_ups: 0,
        manual: 0,
        left: FindingCounts::default(),
    };
    for op in &ops {
        *c.by_method.entry(op.method.to_string()).or_default() += 1;
        match op.method.as_str() {
            "DELETE" => c.deleted += 1,
            "PATCH" => c.patched += 1,
            "PUT" => {
                c.recreated += 1;
                let placeholder = op
                    .body
                    .as_ref()
                    .and_then(|b| b.get("placeholder"))
                    .is_some_and(|p| p == &serde_json::Value::Bool(true));
                if placeholder {
                    c.placeholders += 1;
                }
            }
            _ => {}
        }
    }
    for f in &report.findings {
        let comps = f.compensations();
        for comp in comps {
            *c.by_action.entry(comp.action.to_string()).or_default() += 1;
            if comp.method.is_none() {
                c.manual += 1;
            }
        }
        // The planner answers a finding with one compensation; the rest follow from its
        // own deletions.
        c.follow_ups += comps.len().saturating_sub(1) as u64;
        if comps.iter().all(|comp| comp.method.is_none()) {
            match f.kind() {
                FindingKind::BrokenLink => c.left.broken_link += 1,
                FindingKind::Orphan => c.left.orphan += 1,
                _ => {}
            }
        }
    }
    c
}

fn trim(
    report: &Report,
    graph: &Graph,
    rules: &Rules,
    points: &RestorePoints,
    snapshot: &Snapshot,
) -> Trim {
    let mut t = Trim {
        possible: false,
        missing: Vec::new(),
        oldest: None,
        lost: None,
        uncounted: None,
        services: Vec::new(),
        removed: None,
        created: None,
        left: None,
    };
    let missing = points.missing(rules);
    let Some(oldest) = points.oldest().filter(|_| missing.is_empty()) else {
        t.missing = missing
            .iter()
            .map(|s| {
                format!("no restore point for service {s} (`restored_from` or --restore-point)")
            })
            .collect();
        return t;
    };
    t.possible = true;
    t.oldest = Some(oldest);

    let cut = trimmed(graph, rules, points, snapshot, oldest);
    t.missing.extend(uncounted_notes(rules, &cut.no_stamp));
    let per_service = &cut.per_service;
    t.services = per_service
        .iter()
        .map(|(&s, &(lost, uncounted))| TrimService {
            service: rules.service(s).name.clone(),
            restored_from: points.get(s).expect("trimmed services have one"),
            lost,
            uncounted,
        })
        .collect();
    t.lost = Some(per_service.values().map(|v| v.0).sum());
    t.uncounted = Some(per_service.values().map(|v| v.1).sum());

    let (removed, orphans) = removed(report, graph, &cut.trimmed);
    let created = created(graph, rules, &cut.trimmed, &orphans);
    t.left = Some(FindingCounts {
        broken_link: report.summary.broken_link - removed.broken_link + created.broken_link,
        orphan: report.summary.orphan - removed.orphan + created.orphan,
    });
    t.removed = Some(removed);
    t.created = Some(created);
    t
}

/// What a trim to the oldest restore point cuts away.
struct Cut {
    /// The resources it removes.
    trimmed: HashSet<NodeId>,
    /// Per service restored to a later point: (removed, without timestamp).
    per_service: BTreeMap<u16, (u64, u64)>,
    /// Per kind: resources without a timestamp, not counted.
    no_stamp: BTreeMap<KindId, u64>,
}

/// Which resources the trim removes: those written after `oldest` in services restored to a
/// later point.
fn trimmed(
    graph: &Graph,
    rules: &Rules,
    points: &RestorePoints,
    snapshot: &Snapshot,
    oldest: Timestamp,
) -> Cut {
    let mut trimmed: HashSet<NodeId> = HashSet::new();
    let mut per_service: BTreeMap<u16, (u64, u64)> = BTreeMap::new();
    let mut no_stamp: BTreeMap<KindId, u64> = BTreeMap::new();
    for (i, node) in graph.nodes.iter().enumerate() {
        let (Some(s), Some(k)) = (node.service, node.kind) else {
            continue;
        };
        if !matches!(&node.state, NodeState::Done(o) if o.is_ok()) {
            continue;
        }
        if points.get(s).is_none_or(|p| p <= oldest) {
            continue;
        }
        let entry = per_service.entry(s).or_default();
        match stamp(rules, Some(snapshot), graph.url(i as NodeId)) {
            Stamp::At(at) if at > oldest => {
                entry.0 += 1;
                trimmed.insert(i as NodeId);
            }
            Stamp::At(_) => {}
            _ => {
                entry.1 += 1;
                *no_stamp.entry(k).or_default() += 1;
            }
        }
    }
    Cut {
        trimmed,
        per_service,
        no_stamp,
    }
}

/// Why some resources are not counted: per kind, its missing `timestamp` or date-times.
fn uncounted_notes(rules: &Rules, no_stamp: &BTreeMap<KindId, u64>) -> Vec<String> {
    let mut notes = Vec::new();
    for (k, n) in no_stamp {
        let kind = rules.kind(*k);
        let what = match &kind.timestamp {
            None => format!("kind `{}` has no `timestamp`", kind.name),
            Some(p) => format!("some `{}` resources have no date-time at {p}", kind.name),
        };
        notes.push(format!(
            "{what}: {n} resource(s) of service {} not counted",
            rules.service(kind.service).name
        ));
    }
    notes
}

/// Findings removed: their subject is trimmed. Also every orphan's URL.
fn removed<'r>(
    report: &'r Report,
    graph: &Graph,
    trimmed: &HashSet<NodeId>,
) -> (FindingCounts, BTreeSet<&'r str>) {
    let gone = |url: &str| graph.id(url).is_some_and(|id| trimmed.contains(&id));
    let mut removed = FindingCounts::default();
    let mut orphans: BTreeSet<&str> = BTreeSet::new();
    for f in &report.findings {
        match f {
            ReportFinding::Link(l) if l.kind == FindingKind::BrokenLink => {
                if l.source.as_deref().is_some_and(gone) {
                    removed.broken_link += 1;
                }
            }
            ReportFinding::Orphan(o) => {
                orphans.insert(&o.resource);
                if gone(&o.resource) {
                    removed.orphan += 1;
                }
            }
            ReportFinding::Link(_) => {}
        }
    }
    (removed, orphans)
}

/// Findings created: declared references from what remains to what is trimmed, and
/// resources of an orphan rule whose every required referrer is trimmed (and that are not
/// orphans already).
fn created(
    graph: &Graph,
    rules: &Rules,
    trimmed: &HashSet<NodeId>,
    orphans: &BTreeSet<&str>,
) -> FindingCounts {
    let live = |id: NodeId| matches!(&graph.node(id).state, NodeState::Done(o) if o.is_ok());
    let mut created = FindingCounts::default();
    for e in &graph.edges {
        if e.relation != NO_RELATION
            && trimmed.contains(&e.target)
            && !trimmed.contains(&e.source)
            && live(e.source)
        {
            created.broken_link += 1;
        }
    }
    let mut referrers: BTreeMap<NodeId, (u64, u64)> = BTreeMap::new();
    for e in &graph.edges {
        let Some(k) = graph.node(e.target).kind else {
            continue;
        };
        if rules.kind(k).must_be_referenced_by.contains(&e.relation) && live(e.source) {
            let r = referrers.entry(e.target).or_default();
            r.0 += 1;
            if trimmed.contains(&e.source) {
                r.1 += 1;
            }
        }
    }
    for (&target, &(all, cut)) in &referrers {
        if all > 0
            && all == cut
            && live(target)
            && !trimmed.contains(&target)
            && !orphans.contains(graph.url(target))
        {
            created.orphan += 1;
        }
    }
    created
}

/// The three strategies in one table, then what each number is made of.
pub fn render_table(w: &WhatIf) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "bacaudit whatif · rules {} · snapshot {}{}\n",
        w.rules,
        w.snapshot,
        w.previous_snapshot
            .as_deref()
            .map(|p| format!(" · previous {p}"))
            .unwrap_or_default()
    );
    out.push_str(&grid(&strategy_rows(w), &[false, false, true, true, true]));
    compensate_line(&mut out, &w.compensate);
    trim_lines(&mut out, &w.trim);
    let a = &w.accept;
    let _ = writeln!(
        out,
        "accept: {} and {} stay ({} not data loss)",
        count(a.broken_link, "broken link"),
        count(a.orphan, "orphan"),
        if a.unresolved == 1 {
            "1 unresolved link is".to_string()
        } else {
            format!("{} unresolved links are", a.unresolved)
        }
    );
    out
}

/// The table: one row per strategy with what it changes, loses and leaves.
fn strategy_rows(w: &WhatIf) -> Vec<Vec<String>> {
    let c = &w.compensate;
    let t = &w.trim;
    let a = &w.accept;
    let opt = |v: Option<u64>| v.map_or_else(|| "?".to_string(), |n| n.to_string());
    let methods: Vec<String> = c
        .by_method
        .iter()
        .map(|(m, n)| format!("{n} {m}"))
        .collect();
    let mut rows = vec![vec![
        "STRATEGY".to_string(),
        "CHANGES".into(),
        "RESOURCES LOST".into(),
        "BROKEN LINKS LEFT".into(),
        "ORPHANS LEFT".into(),
    ]];
    rows.push(vec![
        "compensate".into(),
        format!(
            "{} requests ({}); {} placeholders",
            c.operations,
            if methods.is_empty() {
                "none".to_string()
            } else {
                methods.join(", ")
            },
            c.placeholders
        ),
        format!("{} deleted", c.deleted),
        c.left.broken_link.to_string(),
        c.left.orphan.to_string(),
    ]);
    rows.push(vec![
        "trim".into(),
        match t.oldest {
            Some(o) => format!(
                "restore {} service(s) again, to {}",
                t.services.len(),
                o.short()
            ),
            None => "not possible: restore points missing".into(),
        },
        match (t.lost, t.uncounted) {
            (Some(l), Some(u)) if u > 0 => format!("{l} + {u} without timestamp"),
            (l, _) => opt(l),
        },
        opt(t.left.map(|l| l.broken_link)),
        opt(t.left.map(|l| l.orphan)),
    ]);
    rows.push(vec![
        "accept".into(),
        "none".into(),
        "0".into(),
        a.broken_link.to_string(),
        a.orphan.to_string(),
    ]);
    rows
}

/// What the compensations are made of.
fn compensate_line(out: &mut String, c: &Compensate) {
    let actions: Vec<String> = c
        .by_action
        .iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect();
    let _ = writeln!(
        out,
        "\ncompensate: {} compensations ({}), {} of them follow-ups of the plan's own \
         deletions; {} deleted, {} patched, {} recreated ({} as placeholders); {} manual",
        c.by_action.values().sum::<u64>(),
        actions.join(", "),
        c.follow_ups,
        c.deleted,
        c.patched,
        c.recreated,
        c.placeholders,
        c.manual
    );
}

/// What the trim loses per service and what it removes and creates, or why it cannot be
/// counted.
fn trim_lines(out: &mut String, t: &Trim) {
    match (t.oldest, t.removed, t.created) {
        (Some(oldest), Some(r), Some(cr)) => {
            let svcs: Vec<String> = t
                .services
                .iter()
                .map(|s| {
                    format!(
                        "{} (restored from {}): {} lost{}",
                        s.service,
                        s.restored_from.short(),
                        s.lost,
                        if s.uncounted > 0 {
                            format!(", {} without timestamp", s.uncounted)
                        } else {
                            String::new()
                        }
                    )
                })
                .collect();
            let _ = writeln!(
                out,
                "trim to {}: {}; removes {} and {}, creates {} and {}",
                oldest.short(),
                if svcs.is_empty() {
                    "every service is already there".to_string()
                } else {
                    svcs.join("; ")
                },
                count(r.broken_link, "broken link"),
                count(r.orphan, "orphan"),
                count(cr.broken_link, "broken link"),
                count(cr.orphan, "orphan")
            );
        }
        _ => {
            let _ = writeln!(out, "trim: not possible");
        }
    }
    for m in &t.missing {
        let _ = writeln!(out, "  - {m}");
    }
}

/// `1 orphan`, `2 orphans`.
fn count(n: u64, what: &str) -> String {
    if n == 1 {
        format!("{n} {what}")
    } else {
        format!("{n} {what}s")
    }
}
