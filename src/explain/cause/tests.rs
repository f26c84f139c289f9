//! Causes on hand-built analyses: every case of the table in the module docs, with the exact
//! sentence for the BAC talk's two stories.

use std::path::Path;

use bytes::Bytes;

use super::*;
use crate::analyze::{finding_id, Finding, LinkFinding, OrphanFinding, Summary};
use crate::explain::evidence::Referrers;
use crate::source::Snapshot;
use crate::vocab::Class;

const RULES: &str = r#"
[services.customers]
base_url = "http://127.0.0.1:8081/"
[services.orders]
base_url = "http://127.0.0.1:8082/"

[kinds.customer]
service = "customers"
path = "/customers/{id}"
must_be_referenced_by = ["order.customer"]
timestamp = "/created_at"

[kinds.note]
service = "customers"
path = "/notes/{id}"

[kinds.order]
service = "orders"
path = "/orders/{id}"
timestamp = "/created_at"

[kinds.order.links.customer]
pointer = "/customer_id"
to = "customer"

[kinds.note.links.customer]
pointer = "/customer_id"
to = "customer"
"#;

const C: &str = "http://127.0.0.1:8081/customers/3";
const O: &str = "http://127.0.0.1:8082/orders/3";
const N: &str = "http://127.0.0.1:8081/notes/1";
const TEN: &str = "2026-11-20T10:00:00Z";
const NOON: &str = "2026-11-20T12:00:00Z";

fn rules() -> Rules {
    crate::rules::parse(Path::new("r.toml"), RULES, &|_| None).unwrap()
}

fn ts(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

/// Restore points: customers (service 0), orders (service 1).
fn points(customers: Option<&str>, orders: Option<&str>) -> RestorePoints {
    let mut p = RestorePoints::default();
    p.set(0, customers.map(ts));
    p.set(1, orders.map(ts));
    p
}

fn snap(lines: &[String]) -> Snapshot {
    let mut s = Snapshot::default();
    s.add_text(Path::new("s.ndjson"), Bytes::from(lines.join("\n")))
        .unwrap();
    s
}

fn ok(url: &str, created: &str) -> String {
    format!(r#"{{"url":"{url}","status":200,"body":{{"created_at":"{created}"}}}}"#)
}

fn status(url: &str, status: u16) -> String {
    format!(r#"{{"url":"{url}","status":{status}}}"#)
}

fn broken_from(source: Option<&str>, target: &str, reason: Reason, status: u16) -> Finding {
    let kind = FindingKind::BrokenLink;
    Finding {
        id: finding_id(kind, source, Some("/customer_id"), Some(target)),
        kind,
        body: FindingBody::Link(LinkFinding {
            class: Class::Permanent,
            source: source.map(str::to_string),
            pointer: Some("/customer_id".into()),
            relation: Some("order.customer".into()),
            link: Some(1),
            target: target.into(),
            written: None,
            status: Some(status),
            attempts: 1,
            reason,
            detail: format!("{status}"),
        }),
        compensations: Vec::new(),
    }
}

fn broken() -> Finding {
    broken_from(Some(O), C, Reason::NotFound, 404)
}

fn orphan() -> Finding {
    let kind = FindingKind::Orphan;
    Finding {
        id: finding_id(kind, Some(C), None, None),
        kind,
        body: FindingBody::Orphan(OrphanFinding {
            resource: C.into(),
            of_kind: 0,
            expected_referenced_by: vec!["order.customer".into()],
        }),
        compensations: Vec::new(),
    }
}

fn analysis(findings: Vec<Finding>) -> Analysis {
    Analysis {
        findings,
        warnings: Vec::new(),
        summary: Summary::default(),
        services: Vec::new(),
        complete: true,
        service_edges: Vec::new(),
    }
}

/// The cause of the one finding.
fn cause(f: Finding, points: &RestorePoints, ev: &Evidence<'_>) -> String {
    let id = f.id.clone();
    let causes = explain(&analysis(vec![f]), &rules(), points, ev);
    causes.get(&id).expect("a cause").to_string()
}

#[test]
fn no_restore_point_no_cause() {
    let c = explain(
        &analysis(vec![broken(), orphan()]),
        &rules(),
        &RestorePoints::default(),
        &Evidence::default(),
    );
    assert!(c.is_empty());
}

#[test]
fn broken_link_target_created_in_the_amnesia_interval_by_the_source_timestamp() {
    let now = snap(&[ok(O, "2026-11-20T11:30:00Z")]);
    let ev = Evidence {
        current: Some(&now),
        ..Evidence::default()
    };
    assert_eq!(
        cause(broken(), &points(Some(TEN), Some(NOON)), &ev),
        "customer 3 was created after the customers backup (2026-11-20T10:00Z) and before the \
         orders backup (2026-11-20T12:00Z); the orders service kept order 3, which references it \
         (order 3 was created at 2026-11-20T11:30Z)"
    );
}

#[test]
fn broken_link_target_created_in_the_amnesia_interval_by_its_previous_timestamp() {
    let before = snap(&[ok(C, "2026-11-20T11:00:00Z"), ok(O, "2026-11-20T11:30:00Z")]);
    let ev = Evidence {
        previous: Some(&before),
        ..Evidence::default()
    };
    assert_eq!(
        cause(broken(), &points(Some(TEN), Some(NOON)), &ev),
        "customer 3 was created at 2026-11-20T11:00Z (previous snapshot), after the customers \
         backup (2026-11-20T10:00Z) and before the orders backup (2026-11-20T12:00Z); the orders \
         service kept order 3, which references it"
    );
    // A target created before its service's backup is not explained by it.
    let before = snap(&[ok(C, "2026-11-20T09:00:00Z")]);
    let ev = Evidence {
        previous: Some(&before),
        ..Evidence::default()
    };
    let c = cause(broken(), &points(Some(TEN), Some(NOON)), &ev);
    assert!(
        c.starts_with("unknown (customer 3 was created at 2026-11-20T09:00Z (previous snapshot), before the customers backup"),
        "{c}"
    );
}

#[test]
fn broken_link_source_older_than_the_target_backup_is_unknown() {
    let now = snap(&[ok(O, "2026-11-20T09:00:00Z")]);
    let ev = Evidence {
        current: Some(&now),
        ..Evidence::default()
    };
    let c = cause(broken(), &points(Some(TEN), Some(NOON)), &ev);
    assert!(
        c.starts_with("unknown (order 3 was created at 2026-11-20T09:00Z, before the customers backup (2026-11-20T10:00Z): customer 3 most likely existed"),
        "{c}"
    );
    let now = snap(&[ok(O, "2026-11-20T13:00:00Z")]);
    let ev = Evidence {
        current: Some(&now),
        ..Evidence::default()
    };
    let c = cause(broken(), &points(Some(TEN), Some(NOON)), &ev);
    assert!(
        c.contains("after the orders backup") && c.starts_with("unknown ("),
        "{c}"
    );
}

#[test]
fn broken_link_without_timestamps_is_most_likely_and_says_what_would_confirm_it() {
    let c = cause(
        broken(),
        &points(Some(TEN), Some(NOON)),
        &Evidence::default(),
    );
    assert_eq!(
        c,
        "customer 3 was most likely created after the customers backup (2026-11-20T10:00Z) and \
         before the orders backup (2026-11-20T12:00Z): the customers service was restored to the \
         older point and lost it, while the orders service kept order 3, which references it (no \
         timestamp confirms it: pass --previous-snapshot to read customer 3's; order 3: \
         timestamps are not read during a live crawl (audit its --record snapshot to use them))"
    );
}

#[test]
fn broken_link_equal_points_missing_points_and_same_service() {
    assert_eq!(
        cause(
            broken(),
            &points(Some(TEN), Some(TEN)),
            &Evidence::default()
        ),
        "unknown (both services restored to the same point: this is not explained by the backups)"
    );
    assert_eq!(
        cause(broken(), &points(Some(TEN), None), &Evidence::default()),
        "unknown (no restore point for the orders service: set `restored_from` in the rules or \
         pass --restore-point orders=TIME)"
    );
    let f = broken_from(Some(N), C, Reason::NotFound, 404);
    assert_eq!(
        cause(f, &points(Some(TEN), Some(NOON)), &Evidence::default()),
        "unknown (note 1 and customer 3 are both in the customers service, restored as one: this \
         is not explained by the backups)"
    );
    let seed = broken_from(None, C, Reason::NotFound, 404);
    assert!(
        cause(seed, &points(Some(TEN), Some(NOON)), &Evidence::default())
            .starts_with("unknown (a seed did not answer")
    );
    let other = broken_from(Some(O), C, Reason::ClientError, 400);
    assert!(
        cause(other, &points(Some(TEN), Some(NOON)), &Evidence::default())
            .starts_with("unknown (customer 3 answered 400: that is not a lost resource)")
    );
}

#[test]
fn a_tombstone_or_a_link_broken_before_the_disaster_is_not_the_restore() {
    let gone = broken_from(Some(O), C, Reason::Gone, 410);
    let c = cause(gone, &points(Some(NOON), Some(TEN)), &Evidence::default());
    assert!(
        c.starts_with(
            "not the restore: customer 3 answered 410 Gone, so it was deleted on purpose"
        ),
        "{c}"
    );
    assert!(
        c.contains("(the orders service was restored to an older point"),
        "{c}"
    );
    let before = snap(&[ok(O, "2026-11-20T09:00:00Z"), status(C, 404)]);
    let ev = Evidence {
        previous: Some(&before),
        ..Evidence::default()
    };
    assert_eq!(
        cause(broken(), &points(Some(TEN), Some(NOON)), &ev),
        "not the restore: the previous snapshot already has order 3 referencing customer 3, which \
         answered 404 there"
    );
}

#[test]
fn broken_link_source_service_older_the_target_was_deleted() {
    let c = cause(
        broken(),
        &points(Some(NOON), Some(TEN)),
        &Evidence::default(),
    );
    assert_eq!(
        c,
        "customer 3 was most likely deleted after the orders backup (2026-11-20T10:00Z) and \
         before the customers backup (2026-11-20T12:00Z): the orders service, restored to the \
         older point, lost the change that followed (deleting or updating order 3, which \
         references it) (pass --previous-snapshot to confirm)"
    );
    let before = snap(&[status(O, 410), status(C, 410)]);
    let ev = Evidence {
        previous: Some(&before),
        ..Evidence::default()
    };
    assert_eq!(
        cause(broken(), &points(Some(NOON), Some(TEN)), &ev),
        "order 3 was deleted before the disaster (410 in the previous snapshot), like customer 3 \
         (410): the orders service was restored to an older point (2026-11-20T10:00Z) than \
         customers (2026-11-20T12:00Z) and brought order 3 back, with its reference to customer 3"
    );
    let before = snap(&[ok(C, "2026-11-19T10:00:00Z")]);
    let ev = Evidence {
        previous: Some(&before),
        ..Evidence::default()
    };
    assert!(cause(broken(), &points(Some(NOON), Some(TEN)), &ev)
        .starts_with("unknown (customer 3 answered 2xx in the previous snapshot"));
}

#[test]
fn orphan_created_in_the_referring_services_amnesia_interval() {
    let now = snap(&[ok(C, "2026-11-20T11:00:00Z")]);
    let ev = Evidence {
        current: Some(&now),
        ..Evidence::default()
    };
    assert_eq!(
        cause(orphan(), &points(Some(NOON), Some(TEN)), &ev),
        "customer 3 was created at 2026-11-20T11:00Z, after the orders backup (2026-11-20T10:00Z) \
         and before the customers backup (2026-11-20T12:00Z): the order that referenced it came \
         later and was lost with the orders restore, while the customers service kept customer 3"
    );
    // Older than the referring backup: neither confirmed nor ruled out.
    let now = snap(&[ok(C, "2026-11-19T11:00:00Z")]);
    let ev = Evidence {
        current: Some(&now),
        ..Evidence::default()
    };
    let c = cause(orphan(), &points(Some(NOON), Some(TEN)), &ev);
    assert!(
        c.starts_with(
            "the order that referenced customer 3 was most likely created after the orders backup"
        ),
        "{c}"
    );
    assert!(c.contains("before the orders backup, which neither confirms nor rules it out"));
}

#[test]
fn orphan_whose_lost_referrer_is_in_the_previous_snapshot() {
    let before = snap(&[ok(C, "2026-11-20T09:00:00Z"), ok(O, "2026-11-20T11:30:00Z")]);
    let now = snap(&[ok(C, "2026-11-20T09:00:00Z")]);
    let mut refs = Referrers::default();
    refs.insert(C, O);
    let ev = Evidence {
        current: Some(&now),
        previous: Some(&before),
        previous_referrers: Some(&refs),
    };
    assert_eq!(
        cause(orphan(), &points(Some(NOON), Some(TEN)), &ev),
        "order 3, which referenced customer 3, was created at 2026-11-20T11:30Z (previous \
         snapshot), after the orders backup (2026-11-20T10:00Z); it was lost with the orders \
         restore, while the customers service kept customer 3"
    );
}

#[test]
fn orphan_resurrected_by_an_older_backup() {
    let before = snap(&[status(C, 410)]);
    let ev = Evidence {
        previous: Some(&before),
        ..Evidence::default()
    };
    assert_eq!(
        cause(orphan(), &points(Some(TEN), Some(NOON)), &ev),
        "customer 3 was deleted before the disaster (410 in the previous snapshot) and came back \
         with the customers restore: the customers backup (2026-11-20T10:00Z) is older than the \
         deletion"
    );
    assert_eq!(
        cause(
            orphan(),
            &points(Some(TEN), Some(NOON)),
            &Evidence::default()
        ),
        "customer 3 was either deleted after the customers backup (2026-11-20T10:00Z) and \
         before the orders backup (2026-11-20T12:00Z), with the order that referenced it, and \
         brought back by the customers restore; or the order that referenced customer 3 was \
         created after the orders backup and lost with the orders restore (pass \
         --previous-snapshot to tell which)"
    );
}

#[test]
fn orphan_older_than_its_referrers_backup_alive_before_the_disaster() {
    // The previous snapshot has the customer alive and its order, without a timestamp: not a
    // resurrection; the order was written after the orders backup.
    let before = snap(&[
        ok(C, "2026-11-19T09:00:00Z"),
        format!(r#"{{"url":"{O}","status":200,"body":{{"id":3}}}}"#),
    ]);
    let now = snap(&[ok(C, "2026-11-19T09:00:00Z")]);
    let mut refs = Referrers::default();
    refs.insert(C, O);
    let ev = Evidence {
        current: Some(&now),
        previous: Some(&before),
        previous_referrers: Some(&refs),
    };
    assert_eq!(
        cause(orphan(), &points(Some(TEN), Some(NOON)), &ev),
        "order 3, which referenced customer 3 in the previous snapshot, was most likely created \
         after the orders backup (2026-11-20T12:00Z) and lost with the orders restore, while the \
         customers service (restored from 2026-11-20T10:00Z) kept customer 3 (no timestamp \
         confirms it: order 3 has no date-time at /created_at)"
    );
    // Its order still exists but points elsewhere now: the backups do not explain that.
    let now = snap(&[ok(C, "2026-11-19T09:00:00Z"), ok(O, "2026-11-19T09:00:00Z")]);
    let ev = Evidence {
        current: Some(&now),
        ..ev
    };
    assert!(
        cause(orphan(), &points(Some(TEN), Some(NOON)), &ev).starts_with(
            "unknown (order 3, which referenced customer 3 in the previous snapshot, still exists"
        )
    );
    // Nothing referenced it before the disaster either.
    let none = Referrers::default();
    let ev = Evidence {
        previous_referrers: Some(&none),
        ..ev
    };
    assert_eq!(
        cause(orphan(), &points(Some(TEN), Some(NOON)), &ev),
        "not the restore: the previous snapshot has no order referencing customer 3 either: it \
         was an orphan before the disaster"
    );
}

#[test]
fn orphan_equal_points_and_missing_points() {
    assert_eq!(
        cause(
            orphan(),
            &points(Some(TEN), Some(TEN)),
            &Evidence::default()
        ),
        EQUAL
    );
    assert!(
        cause(orphan(), &points(None, Some(TEN)), &Evidence::default())
            .starts_with("unknown (no restore point for the customers service")
    );
}

#[test]
fn unresolved_links_get_no_cause() {
    let mut f = broken();
    f.kind = FindingKind::Unresolved;
    let c = explain(
        &analysis(vec![f]),
        &rules(),
        &points(Some(TEN), Some(NOON)),
        &Evidence::default(),
    );
    assert!(c.is_empty());
}
