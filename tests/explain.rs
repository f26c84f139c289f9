//! Explain why, through the real binary: the cause of every finding on the BAC talk worlds
//! with restore points, and `diff`, `whatif` and `clusters` on the shop, checked against hand
//! counts (the derivations are in the comments and in fixtures/shop-restore/gen_before.py).

use std::path::PathBuf;

use assert_cmd::Command;
use serde_json::{json, Value};

const RULES: &str = "rules/bac-talk-restore.toml";
const INDEPENDENT: &str = "fixtures/bac-talk-restore/independent-backup.ndjson";
const ORPHAN_STATE: &str = "fixtures/bac-talk-restore/orphan-state.ndjson";
const SYNCHRONIZED: &str = "fixtures/bac-talk-restore/synchronized-backup.ndjson";
const BEFORE: &str = "fixtures/bac-talk-restore/before.ndjson";
/// The orphan-state world was restored the other way round: customers from 12:00, orders
/// from 10:00.
const SWAPPED: &[&str] = &[
    "--restore-point",
    "customers=2026-11-20T12:00:00Z",
    "--restore-point",
    "orders=2026-11-20T10:00:00Z",
];

const SHOP_RULES: &str = "rules/shop.toml";
const SHOP_RESTORE_RULES: &str = "rules/shop-restore.toml";
const SHOP: &str = "fixtures/shop/shop.ndjson";
const SHOP_BEFORE: &str = "fixtures/shop-restore/before.ndjson";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the binary; returns (exit code, stdout, stderr).
fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("bacaudit")
        .expect("binary built")
        .current_dir(root())
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().expect("exited"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs a command with `--format json`; returns (exit code, parsed stdout).
fn json_of(args: &[&str]) -> (i32, Value) {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let (code, stdout, stderr) = run(&all);
    let v = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {stdout}\nstderr: {stderr}"));
    (code, v)
}

/// `audit` with a JSON report on stdout.
fn audit(rules: &str, snapshot: &str, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["audit", "--rules", rules, "--snapshot", snapshot];
    args.extend(extra);
    json_of(&args)
}

/// (kind, subject, cause) of every finding, in report order.
fn causes(report: &Value) -> Vec<(String, String, Option<String>)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["kind"].as_str().unwrap().to_string(),
                f.get("source")
                    .or(f.get("resource"))
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                f.get("cause").and_then(Value::as_str).map(str::to_string),
            )
        })
        .collect()
}

fn c(kind: &str, subject: &str, cause: &str) -> (String, String, Option<String>) {
    (kind.into(), subject.into(), Some(cause.into()))
}

#[test]
fn independent_backup_every_finding_has_its_cause() {
    // customers from the 10:00 backup, orders from 12:00 (the rules' restore points).
    let (code, report) = audit(RULES, INDEPENDENT, &[]);
    assert_eq!(code, 1);
    assert_eq!(
        causes(&report),
        vec![
            c(
                "broken_link",
                "http://127.0.0.1:8082/orders/3",
                "customer 3 was created after the customers backup (2026-11-20T10:00Z) and \
                 before the orders backup (2026-11-20T12:00Z); the orders service kept order 3, \
                 which references it (order 3 was created at 2026-11-20T11:30Z)"
            ),
            c(
                "orphan",
                "http://127.0.0.1:8081/customers/4",
                "customer 4 was either deleted after the customers backup (2026-11-20T10:00Z) \
                 and before the orders backup (2026-11-20T12:00Z), with the order that referenced \
                 it, and brought back by the customers restore; or the order that referenced \
                 customer 4 was created after the orders backup and lost with the orders restore \
                 (pass --previous-snapshot to tell which)"
            ),
        ]
    );
    // The previous snapshot confirms both: the lost customer's own timestamp, and the
    // erased customer's tombstone.
    let (_, report) = audit(RULES, INDEPENDENT, &["--previous-snapshot", BEFORE]);
    assert_eq!(
        causes(&report),
        vec![
            c(
                "broken_link",
                "http://127.0.0.1:8082/orders/3",
                "customer 3 was created at 2026-11-20T11:00Z (previous snapshot), after the \
                 customers backup (2026-11-20T10:00Z) and before the orders backup \
                 (2026-11-20T12:00Z); the orders service kept order 3, which references it"
            ),
            c(
                "orphan",
                "http://127.0.0.1:8081/customers/4",
                "customer 4 was deleted before the disaster (410 in the previous snapshot) and \
                 came back with the customers restore: the customers backup (2026-11-20T10:00Z) \
                 is older than the deletion"
            ),
        ]
    );
}

#[test]
fn orphan_state_every_finding_has_its_cause() {
    let (code, report) = audit(RULES, ORPHAN_STATE, SWAPPED);
    assert_eq!(code, 1);
    assert_eq!(
        causes(&report),
        vec![
            c(
                "broken_link",
                "http://127.0.0.1:8082/orders/4",
                "customer 4 was most likely deleted after the orders backup (2026-11-20T10:00Z) \
                 and before the customers backup (2026-11-20T12:00Z): the orders service, \
                 restored to the older point, lost the change that followed (deleting or \
                 updating order 4, which references it) (pass --previous-snapshot to confirm)"
            ),
            c(
                "orphan",
                "http://127.0.0.1:8081/customers/3",
                "customer 3 was created at 2026-11-20T11:00Z, after the orders backup \
                 (2026-11-20T10:00Z) and before the customers backup (2026-11-20T12:00Z): the \
                 order that referenced it came later and was lost with the orders restore, \
                 while the customers service kept customer 3"
            ),
        ]
    );
    let mut extra = SWAPPED.to_vec();
    extra.extend(["--previous-snapshot", BEFORE]);
    let (_, report) = audit(RULES, ORPHAN_STATE, &extra);
    assert_eq!(
        causes(&report),
        vec![
            c(
                "broken_link",
                "http://127.0.0.1:8082/orders/4",
                "order 4 was deleted before the disaster (410 in the previous snapshot), like \
                 customer 4 (410): the orders service was restored to an older point \
                 (2026-11-20T10:00Z) than customers (2026-11-20T12:00Z) and brought order 4 \
                 back, with its reference to customer 4"
            ),
            c(
                "orphan",
                "http://127.0.0.1:8081/customers/3",
                "order 3, which referenced customer 3, was created at 2026-11-20T11:30Z \
                 (previous snapshot), after the orders backup (2026-11-20T10:00Z); it was lost \
                 with the orders restore, while the customers service kept customer 3"
            ),
        ]
    );
}

#[test]
fn equal_restore_points_explain_nothing() {
    let equal = "unknown (both services restored to the same point: this is not explained by \
                 the backups)";
    let (_, report) = audit(
        RULES,
        INDEPENDENT,
        &["--restore-point", "orders=2026-11-20T10:00:00Z"],
    );
    assert_eq!(
        causes(&report),
        vec![
            c("broken_link", "http://127.0.0.1:8082/orders/3", equal),
            c("orphan", "http://127.0.0.1:8081/customers/4", equal),
        ]
    );
    let (code, report) = audit(
        RULES,
        SYNCHRONIZED,
        &["--restore-point", "customers=2026-11-20T12:00:00Z"],
    );
    assert_eq!(code, 0);
    assert_eq!(report["findings"], json!([]));
}

#[test]
fn without_restore_points_the_report_is_unchanged() {
    // The same rules without `restored_from`: no `cause` anywhere, and otherwise the very
    // report the restore points give.
    let dir = tempfile::tempdir().unwrap();
    let plain_rules = dir.path().join("plain.toml");
    let text: String = std::fs::read_to_string(root().join(RULES))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("restored_from"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&plain_rules, text).unwrap();
    let (_, stdout, _) = run(&[
        "audit",
        "--rules",
        plain_rules.to_str().unwrap(),
        "--snapshot",
        INDEPENDENT,
        "--format",
        "json",
    ]);
    assert!(!stdout.contains("\"cause\"") && !stdout.contains("\"clusters\""));
    let mut plain: Value = serde_json::from_str(&stdout).unwrap();
    let (_, mut with) = audit(RULES, INDEPENDENT, &[]);
    for f in with["findings"].as_array_mut().unwrap() {
        assert!(f.as_object_mut().unwrap().remove("cause").is_some());
    }
    plain["source"]["rules"] = json!(RULES);
    assert_eq!(plain, with);
}

#[test]
fn bad_restore_points_exit_2_naming_the_argument_or_the_key() {
    let (code, _, stderr) = run(&[
        "audit",
        "--rules",
        RULES,
        "--snapshot",
        INDEPENDENT,
        "--restore-point",
        "custmers=2026-11-20T10:00:00Z",
    ]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains(
            "--restore-point `custmers=2026-11-20T10:00:00Z`: unknown service `custmers` (known: \
             customers, orders)"
        ),
        "{stderr}"
    );
    let (code, _, stderr) = run(&[
        "whatif",
        "--rules",
        RULES,
        "--snapshot",
        INDEPENDENT,
        "--restore-point",
        "orders=noon",
    ]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("--restore-point `orders=noon`: `noon` is not an RFC 3339 date-time"),
        "{stderr}"
    );
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    let text = std::fs::read_to_string(root().join(RULES))
        .unwrap()
        .replace(
            "restored_from = 2026-11-20T10:00:00Z",
            "restored_from = 2026-11-20T10:00:00",
        );
    std::fs::write(&bad, text).unwrap();
    let (code, _, stderr) = run(&[
        "audit",
        "--rules",
        bad.to_str().unwrap(),
        "--snapshot",
        INDEPENDENT,
    ]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains(
            "bad.toml:18: key `services.customers.restored_from`: date-time \
             `2026-11-20T10:00:00` has no offset"
        ),
        "{stderr}"
    );
}

#[test]
fn shop_causes_with_the_previous_snapshot() {
    let (_, report) = audit(
        SHOP_RESTORE_RULES,
        SHOP,
        &["--previous-snapshot", SHOP_BEFORE],
    );
    let got = causes(&report);
    let of = |subject: &str| {
        got.iter()
            .find(|(_, s, _)| s.ends_with(subject))
            .and_then(|(_, _, c)| c.clone())
            .unwrap_or_else(|| panic!("no finding for {subject}"))
    };
    // Tombstones that predate the disaster (customer 57, product p-0150).
    for s in ["/orders/212", "/orders/305"] {
        assert!(of(s).starts_with("not the restore: the previous snapshot already has"));
    }
    // Targets created after their (Dec 1) backup, sources kept by the Dec 31 orders backup.
    for (s, t) in [
        ("/orders/683", "customer 401"),
        ("/orders/690", "product p-0201"),
        ("/orders/697", "customer 401"),
        ("/orders/698", "product p-0202"),
        ("/orders/699", "shipment 1699"),
        ("/orders/700", "shipment 1700"),
    ] {
        assert!(
            of(s).starts_with(&format!("{t} was created after the")),
            "{s}: {}",
            of(s)
        );
    }
    // Orphans: the orders 701..703 of Dec 31 were lost; customers 291 and 366 came back.
    for (s, o) in [
        ("/customers/14", "order 701"),
        ("/customers/88", "order 702"),
        ("/customers/203", "order 703"),
    ] {
        assert!(
            of(s).starts_with(&format!("{o}, which referenced")),
            "{s}: {}",
            of(s)
        );
    }
    for s in ["/customers/291", "/customers/366"] {
        assert!(of(s).contains("was deleted before the disaster (410 in the previous snapshot)"));
    }
    // Unresolved links get no cause.
    assert!(got
        .iter()
        .filter(|(k, _, _)| k == "unresolved")
        .all(|(_, _, c)| c.is_none()));
    assert_eq!(got.iter().filter(|(_, _, c)| c.is_some()).count(), 13);
}

#[test]
fn shop_diff_against_hand_counts() {
    let (code, d) = json_of(&["diff", SHOP_BEFORE, SHOP, "--rules", SHOP_RULES]);
    assert_eq!(code, 0);
    assert_eq!(d["schema"], "bacaudit/diff/v1");
    // The table in gen_before.py's docstring, row by row.
    assert_eq!(
        d["summary"],
        json!({"lost": 14, "resurrected": 2, "changed": 42, "added": 0, "unreachable": 4,
               "unchanged": 1988})
    );
    let rows: Vec<Value> = d["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            json!([
                g["service"],
                g["kind"],
                g["lost"],
                g["resurrected"],
                g["changed"],
                g["unreachable"],
                g["unchanged"]
            ])
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            json!(["customers", null, 0, 0, 8, 0, 0]),
            json!(["customers", "customer", 1, 2, 1, 0, 396]),
            json!(["orders", null, 1, 0, 14, 0, 0]),
            json!(["orders", "order", 3, 0, 1, 0, 699]),
            json!(["products", null, 1, 0, 4, 0, 0]),
            json!(["products", "product", 2, 0, 0, 3, 196]),
            json!(["shipments", null, 1, 0, 14, 0, 0]),
            json!(["shipments", "shipment", 5, 0, 0, 1, 697]),
        ]
    );
    assert_eq!(
        d["resurrected"],
        json!([
            "http://127.0.0.1:8081/customers/291",
            "http://127.0.0.1:8081/customers/366"
        ])
    );
    assert_eq!(d["changed"].as_array().unwrap().len(), 42);
    // 13 broken links and orphans in AFTER; 11 explained: 6 broken links to lost targets
    // (customer 401 twice, p-0201, p-0202, shipments 1699 and 1700), 3 orphans whose only
    // orders (701..703) were lost, 2 resurrected customers. Not explained: the tombstones of
    // customer 57 and product p-0150, which predate the disaster.
    let e = &d["explained"];
    assert_eq!(
        (e["findings"].as_u64(), e["explained"].as_u64()),
        (Some(13), Some(11))
    );
    let mut because: Vec<&str> = e["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["because"].as_str().unwrap())
        .collect();
    because.sort_unstable();
    assert_eq!(
        because,
        [
            "referrers_lost",
            "referrers_lost",
            "referrers_lost",
            "resurrected",
            "resurrected",
            "target_lost",
            "target_lost",
            "target_lost",
            "target_lost",
            "target_lost",
            "target_lost"
        ]
    );
    let c14 = e["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["subject"] == "http://127.0.0.1:8081/customers/14")
        .unwrap();
    assert_eq!(c14["by"], json!(["http://127.0.0.1:8084/orders/701"]));

    // Without rules: per origin, same totals.
    let (_, d) = json_of(&["diff", SHOP_BEFORE, SHOP]);
    assert_eq!(d["summary"]["lost"], 14);
    assert!(d.get("explained").is_none());
    let origins: Vec<(&str, u64)> = d["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["origin"].as_str().unwrap(), g["lost"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        origins,
        [
            ("http://127.0.0.1:8081", 1),
            ("http://127.0.0.1:8082", 3),
            ("http://127.0.0.1:8083", 6),
            ("http://127.0.0.1:8084", 4)
        ]
    );
    let (_, table, _) = run(&["diff", SHOP_BEFORE, SHOP, "--rules", SHOP_RULES]);
    assert!(
        table.contains("TOTAL                  14            2       42"),
        "{table}"
    );
}

#[test]
fn bac_talk_diff_lost_and_resurrected() {
    let (_, d) = json_of(&["diff", BEFORE, INDEPENDENT, "--rules", RULES]);
    assert_eq!(d["lost"], json!(["http://127.0.0.1:8081/customers/3"]));
    assert_eq!(
        d["resurrected"],
        json!(["http://127.0.0.1:8081/customers/4"])
    );
    // The customers list changed (C/3 out, C/4 in); C/1, C/2, the orders list and O/1..O/3
    // did not.
    assert_eq!(d["summary"]["changed"], 1);
    assert_eq!(d["summary"]["unchanged"], 6);
    assert_eq!(d["explained"]["explained"], 2);
}

#[test]
fn shop_whatif_against_hand_counts() {
    let (code, w) = json_of(&["whatif", "--rules", SHOP_RULES, "--snapshot", SHOP]);
    assert_eq!(code, 0);
    assert_eq!(w["schema"], "bacaudit/whatif/v1");
    // The plan: DELETE orders 212, 683, 697 (cascade), the shipments 1212, 1683, 1697 that
    // point back at them (follow-up cascades), the 5 orphan customers; PATCH orders 305, 690,
    // 698 (set-null); PUT shipments 1699 and 1700 (recreate: placeholders, no previous
    // snapshot).
    let comp = &w["compensate"];
    assert_eq!(comp["operations"], 16);
    assert_eq!(
        comp["by_method"],
        json!({"DELETE": 11, "PATCH": 3, "PUT": 2})
    );
    assert_eq!(
        comp["by_action"],
        json!({"cascade": 6, "delete": 5, "recreate": 2, "set-null": 3})
    );
    assert_eq!(
        [
            &comp["deleted"],
            &comp["patched"],
            &comp["recreated"],
            &comp["placeholders"],
            &comp["follow_ups"],
            &comp["manual"]
        ],
        [
            &json!(11),
            &json!(3),
            &json!(2),
            &json!(2),
            &json!(3),
            &json!(0)
        ]
    );
    assert_eq!(comp["left"], json!({"broken_link": 0, "orphan": 0}));
    // No restore points in rules/shop.toml: the trim cannot be priced, and says why.
    assert_eq!(w["trim"]["possible"], false);
    assert_eq!(w["trim"]["missing"].as_array().unwrap().len(), 4);
    assert_eq!(w["trim"]["lost"], Value::Null);
    assert_eq!(
        w["accept"],
        json!({"broken_link": 8, "orphan": 5, "unresolved": 9})
    );

    // With the restore points of rules/shop-restore.toml (orders Dec 31, the rest Dec 1)
    // and order timestamps: trimming orders to Dec 1 loses the December orders, 643..700
    // (gen_shop.py: month = 1 + (id-1)*12//700), 58 of them; it removes the 6 broken links
    // whose source is one of them (683, 690, 697, 698, 699, 700) and breaks the
    // shipment.order links of shipments 1643..1698 (1699 and 1700 are lost already): 56. No
    // customer is left without an order: each has one among the first 400.
    let (_, w) = json_of(&[
        "whatif",
        "--rules",
        SHOP_RESTORE_RULES,
        "--snapshot",
        SHOP,
        "--previous-snapshot",
        SHOP_BEFORE,
    ]);
    let t = &w["trim"];
    assert_eq!(t["possible"], true);
    assert_eq!(t["oldest"], "2024-12-01T00:00:00Z");
    assert_eq!(t["lost"], 58);
    assert_eq!(t["uncounted"], 0);
    assert_eq!(t["missing"], json!([]));
    assert_eq!(
        t["services"],
        json!([{"service": "orders", "restored_from": "2024-12-31T00:00:00Z", "lost": 58,
                "uncounted": 0}])
    );
    assert_eq!(t["removed"], json!({"broken_link": 6, "orphan": 0}));
    assert_eq!(t["created"], json!({"broken_link": 56, "orphan": 0}));
    assert_eq!(t["left"], json!({"broken_link": 58, "orphan": 5}));
    // The previous snapshot holds both lost shipments: no placeholder.
    assert_eq!(w["compensate"]["placeholders"], 0);
    assert_eq!(w["compensate"]["recreated"], 2);

    // Products restored to a later point than the oldest, but without timestamps: its 196
    // items that answered 2xx (199 listed, 3 answering 503) cannot be counted, and it says so.
    let (_, w) = json_of(&[
        "whatif",
        "--rules",
        SHOP_RESTORE_RULES,
        "--snapshot",
        SHOP,
        "--restore-point",
        "products=2024-12-15T00:00:00Z",
    ]);
    assert_eq!(w["trim"]["lost"], 58);
    assert_eq!(w["trim"]["uncounted"], 196);
    assert_eq!(
        w["trim"]["missing"],
        json!([
            "kind `product` has no `timestamp`: 196 resource(s) of service products not counted"
        ])
    );

    let (_, table, _) = run(&["whatif", "--rules", SHOP_RESTORE_RULES, "--snapshot", SHOP]);
    assert!(table.contains("STRATEGY"), "{table}");
    assert!(
        table.contains("restore 1 service(s) again, to 2024-12-01T00:00Z"),
        "{table}"
    );
}

#[test]
fn shop_clusters_against_hand_counts() {
    // Cross-service references (report service_graph): orders↔customers 700, orders↔products
    // 1383, orders↔shipments 700 + 697 = 1397; findings add 1 each: customers↔orders 3 broken
    // + 5 orphans, products↔orders 3, shipments↔orders 2. Total weight 3480 + 13 = 3493.
    // Merges: orders+shipments (1399), then +products (1386), then +customers (708).
    let (code, c) = json_of(&["clusters", "--rules", SHOP_RULES, "--snapshot", SHOP]);
    assert_eq!(code, 0);
    assert_eq!(c["schema"], "bacaudit/clusters/v1");
    assert_eq!(c["total_weight"], 3493);
    let levels: Vec<Value> = c["levels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            json!([
                l["groups"].as_array().unwrap().len(),
                l["cross_references"],
                l["cross_weight"],
                l["share"]
            ])
        })
        .collect();
    assert_eq!(
        levels,
        vec![
            json!([4, 3480, 3493, 1.0]),
            json!([3, 2083, 2094, 0.5995]),
            json!([2, 700, 708, 0.2027]),
            json!([1, 0, 0, 0.0]),
        ]
    );
    assert_eq!(c["recommended"], 2);
    assert_eq!(
        c["groups"],
        json!([["customers"], ["orders", "products", "shipments"]])
    );
    assert_eq!(
        c["remaining"],
        json!([{"services": ["customers", "orders"], "references": 700, "broken_link": 3,
                "orphan": 5}])
    );
    // A stricter threshold recommends one group for everything.
    let (_, c) = json_of(&[
        "clusters",
        "--rules",
        SHOP_RULES,
        "--snapshot",
        SHOP,
        "--threshold",
        "0.1",
    ]);
    assert_eq!(c["recommended"], 3);
    let (code, _, stderr) = run(&[
        "clusters",
        "--rules",
        SHOP_RULES,
        "--snapshot",
        SHOP,
        "--threshold",
        "2",
    ]);
    assert_eq!(code, 2, "{stderr}");
    // The same section in the audit report with --clusters.
    let (_, report) = audit(SHOP_RULES, SHOP, &["--clusters"]);
    assert_eq!(report["clusters"]["recommended"], 2);
    assert_eq!(report["clusters"]["total_weight"], 3493);
}

#[test]
fn explain_commands_reject_unknown_formats() {
    let (code, _, stderr) = run(&["diff", BEFORE, INDEPENDENT, "--format", "sarif"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("unknown --format `sarif` (known: table, json)"),
        "{stderr}"
    );
}

#[test]
fn the_restore_drill_page_shows_real_output() {
    // docs/restore-drill.md: every ```console block that starts with `$ bacaudit …` shows the
    // exact stdout of that command line (run through `sh` when it has a pipe).
    let page = std::fs::read_to_string(root().join("docs/restore-drill.md")).unwrap();
    let bin = assert_cmd::cargo::cargo_bin("bacaudit");
    let mut checked = 0;
    for block in page.split("```console\n").skip(1) {
        let block = &block[..block.find("```").expect("closed block")];
        let (first, want) = block.split_once('\n').unwrap();
        let Some(args) = first.strip_prefix("$ bacaudit ") else {
            continue;
        };
        let out = if args.contains('|') {
            std::process::Command::new("sh")
                .arg("-c")
                .arg(format!("'{}' {args}", bin.display()))
                .current_dir(root())
                .output()
                .unwrap()
        } else {
            std::process::Command::new(&bin)
                .args(args.split_whitespace())
                .current_dir(root())
                .output()
                .unwrap()
        };
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            want,
            "docs/restore-drill.md: `bacaudit {args}`"
        );
        checked += 1;
    }
    assert_eq!(checked, 9, "blocks checked");
}

/// A live crawl (of the independent-backup world served on loopback) reads the timestamps of
/// what it fetches: its causes are those of an audit of its `--record`ing.
#[tokio::test]
async fn a_live_crawl_explains_with_restore_points_and_its_recording_with_timestamps() {
    use bacaudit::commands::pipeline::{self as run, CommonOptions};
    use bacaudit::crawl::{Quiet, Stop};
    use bacaudit::serve::{self, ServeOptions};
    use bacaudit::source::{LiveOptions, Snapshot};
    use std::sync::Arc;
    use std::time::Duration;

    let rules = bacaudit::rules::load(&root().join(RULES)).unwrap();
    let snap = Arc::new(Snapshot::load(&root().join(INDEPENDENT)).unwrap());
    let opts = ServeOptions {
        rebase: true,
        ..ServeOptions::default()
    };
    let h = serve::serve(&rules, snap, opts).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let rules_file = dir.path().join("rules.toml");
    let text = std::fs::read_to_string(root().join(RULES)).unwrap();
    std::fs::write(&rules_file, h.origins().rules_toml(&text).unwrap()).unwrap();
    let record = dir.path().join("drill.ndjson");
    let live = LiveOptions {
        timeout: Duration::from_secs(5),
        ..LiveOptions::default()
    };
    let crawled = tokio::time::timeout(
        Duration::from_secs(60),
        run::crawl(
            &CommonOptions::new(&rules_file),
            live,
            Some(&record),
            Arc::new(Quiet),
            Stop::never(),
        ),
    )
    .await
    .expect("the crawl ends")
    .unwrap();
    tokio::time::timeout(Duration::from_secs(30), h.shutdown())
        .await
        .expect("shutdown ends");
    let live_causes: Vec<&str> = crawled
        .report
        .findings
        .iter()
        .filter_map(|f| f.cause())
        .collect();
    assert_eq!(live_causes.len(), 2);
    let audited = run::audit(
        &CommonOptions::new(&rules_file),
        &record,
        Arc::new(Quiet),
        Stop::never(),
    )
    .await
    .unwrap();
    let recorded = audited.report.findings[0].cause().unwrap();
    assert!(
        recorded.starts_with("customer 3 was created after the customers backup")
            && recorded.ends_with("(order 3 was created at 2026-11-20T11:30Z)"),
        "{recorded}"
    );
    let audited_causes: Vec<&str> = audited
        .report
        .findings
        .iter()
        .filter_map(|f| f.cause())
        .collect();
    assert_eq!(live_causes, audited_causes);
}
