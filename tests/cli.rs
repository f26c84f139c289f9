//! The real binary on the bundled fixtures: findings, summaries, exit codes, errors.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn bacaudit() -> Command {
    let mut c = Command::cargo_bin("bacaudit").expect("binary built");
    c.current_dir(root());
    c
}

/// Runs `audit` with a JSON report; returns (exit code, report, stdout, stderr).
fn audit(rules: &str, snapshot: &str, extra: &[&str]) -> (i32, Value, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let out = bacaudit()
        .args([
            "audit",
            "--rules",
            rules,
            "--snapshot",
            snapshot,
            "--report",
        ])
        .arg(&report)
        .args(extra)
        .output()
        .unwrap();
    let code = out.status.code().expect("exited");
    let json = std::fs::read_to_string(&report)
        .map(|t| serde_json::from_str(&t).expect("report is JSON"))
        .unwrap_or(Value::Null);
    (
        code,
        json,
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The fields of a finding that the fixtures' expected files list.
fn essential(f: &Value) -> Value {
    let mut m = serde_json::Map::new();
    for k in [
        "kind", "source", "pointer", "target", "relation", "status", "reason", "resource",
    ] {
        if let Some(v) = f.get(k) {
            m.insert(k.into(), v.clone());
        }
    }
    Value::Object(m)
}

fn check_against(expected: &Value, code: i32, report: &Value) {
    assert_eq!(
        code,
        expected["exit_code"].as_i64().unwrap() as i32,
        "exit code"
    );
    assert_eq!(report["schema"], "bacaudit/report/v1");
    assert_eq!(report["complete"], expected["complete"]);
    assert_eq!(report["summary"], expected["summary"], "summary");
    // `base_url` is an extension of v1 the expected files predate.
    let services: Vec<Value> = report["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let mut s = s.clone();
            assert!(s["base_url"]
                .as_str()
                .unwrap()
                .starts_with("http://127.0.0.1:"));
            s.as_object_mut().unwrap().remove("base_url");
            s
        })
        .collect();
    assert_eq!(Value::Array(services), expected["services"], "services");
    let got: Vec<Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(essential)
        .collect();
    let want: Vec<Value> = expected["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(essential)
        .collect();
    assert_eq!(got, want, "findings");
}

fn expected(path: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(root().join(path)).unwrap()).unwrap()
}

#[test]
fn bac_talk_independent_backup_is_one_broken_link() {
    let (code, report, stdout, _) = audit(
        "rules/bac-talk.toml",
        "fixtures/bac-talk/independent-backup.ndjson",
        &[],
    );
    check_against(
        &expected("fixtures/bac-talk/expected.json")["snapshots"]["independent-backup.ndjson"],
        code,
        &report,
    );
    let f = &report["findings"][0];
    assert_eq!(f["class"], "permanent");
    assert_eq!(f["attempts"], 1);
    assert_eq!(f["detail"], "404 Not Found");
    assert_eq!(
        f["compensations"],
        serde_json::json!([{"action":"cascade","method":"DELETE","url":"http://127.0.0.1:8082/orders/3",
            "content_type":null,"body":null,
            "reason":"order.customer points at a customer that no longer exists"}])
    );
    assert!(stdout.contains("broken_link"), "{stdout}");
    assert!(
        stdout.contains("http://127.0.0.1:8082/orders/3"),
        "{stdout}"
    );
}

#[test]
fn bac_talk_orphan_state_is_one_orphan() {
    let (code, report, _, _) = audit(
        "rules/bac-talk.toml",
        "fixtures/bac-talk/orphan-state.ndjson",
        &[],
    );
    check_against(
        &expected("fixtures/bac-talk/expected.json")["snapshots"]["orphan-state.ndjson"],
        code,
        &report,
    );
    assert_eq!(
        report["findings"][0]["expected_referenced_by"],
        serde_json::json!(["order.customer"])
    );
    assert_eq!(
        report["findings"][0]["compensations"][0]["method"],
        "DELETE"
    );
}

#[test]
fn bac_talk_synchronized_backup_is_consistent() {
    let (code, report, _, _) = audit(
        "rules/bac-talk.toml",
        "fixtures/bac-talk/synchronized-backup.ndjson",
        &[],
    );
    check_against(
        &expected("fixtures/bac-talk/expected.json")["snapshots"]["synchronized-backup.ndjson"],
        code,
        &report,
    );
    assert_eq!(code, 0);
}

#[test]
fn shop_world_matches_its_ground_truth() {
    let (code, report, _, _) = audit("rules/shop.toml", "fixtures/shop/shop.ndjson", &[]);
    check_against(&expected("fixtures/shop/expected.json"), code, &report);
}

#[test]
fn two_audits_give_byte_identical_findings() {
    let (_, a, _, _) = audit("rules/shop.toml", "fixtures/shop/shop.ndjson", &[]);
    let (_, b, _, _) = audit("rules/shop.toml", "fixtures/shop/shop.ndjson", &[]);
    assert_eq!(
        serde_json::to_string(&a["findings"]).unwrap(),
        serde_json::to_string(&b["findings"]).unwrap()
    );
    let ids: Vec<&str> = a["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(ids.len(), unique.len(), "ids are unique");
}

#[test]
fn baseline_accepts_known_findings() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.json");
    let out = bacaudit()
        .args([
            "audit",
            "--rules",
            "rules/bac-talk.toml",
            "--snapshot",
            "fixtures/bac-talk/independent-backup.ndjson",
            "--report",
        ])
        .arg(&base)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let (code, _, _, _) = audit(
        "rules/bac-talk.toml",
        "fixtures/bac-talk/independent-backup.ndjson",
        &["--baseline", base.to_str().unwrap()],
    );
    assert_eq!(code, 0);
    // A baseline of another world does not hide this one's broken link.
    let (code, _, _, _) = audit(
        "rules/bac-talk.toml",
        "fixtures/bac-talk/orphan-state.ndjson",
        &["--baseline", base.to_str().unwrap()],
    );
    assert_eq!(code, 1);
}

#[test]
fn fail_on_chooses_what_fails() {
    let (code, _, _, _) = audit(
        "rules/bac-talk.toml",
        "fixtures/bac-talk/orphan-state.ndjson",
        &["--fail-on", "broken_link"],
    );
    // The orphan no longer fails the run, and nothing is inconclusive.
    assert_eq!(code, 0);
    let (code, _, _, _) = audit(
        "rules/shop.toml",
        "fixtures/shop/shop.ndjson",
        &["--fail-on", "none"],
    );
    // Unresolved links remain: inconclusive.
    assert_eq!(code, 3);
    let (code, _, _, stderr) = audit(
        "rules/shop.toml",
        "fixtures/shop/shop.ndjson",
        &["--fail-on", "broken"],
    );
    assert_eq!(code, 2);
    assert!(stderr.contains("`broken`"), "{stderr}");
}

#[test]
fn json_to_stdout_is_the_report() {
    let out = bacaudit()
        .args([
            "audit",
            "--rules",
            "rules/bac-talk.toml",
            "--snapshot",
            "fixtures/bac-talk/independent-backup.ndjson",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    assert_eq!(v["summary"]["broken_link"], 1);
    assert_eq!(v["source"]["mode"], "audit");
    assert_eq!(
        v["source"]["snapshot"],
        "fixtures/bac-talk/independent-backup.ndjson"
    );
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn bad_rules_exit_2_naming_file_and_line_and_write_no_report() {
    let dir = tempfile::tempdir().unwrap();
    let rules = write(
        dir.path(),
        "bad.toml",
        "[services.a]\nbase_url = \"http://127.0.0.1:9/\"\n\n[kinds.x]\nservice = \"a\"\npath = \"/x/{id}\"\n[kinds.x.links.y]\npointer = \"/y\"\nto = \"custmer\"\n",
    );
    let report = dir.path().join("r.json");
    let out = bacaudit()
        .args([
            "audit",
            "--snapshot",
            "fixtures/bac-talk/independent-backup.ndjson",
            "--rules",
        ])
        .arg(&rules)
        .arg("--report")
        .arg(&report)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml:9:"), "{err}");
    assert!(err.contains("custmer"), "{err}");
    assert!(!report.exists(), "no report on exit 2");
}

#[test]
fn bad_snapshot_line_exits_2_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let snap = write(
        dir.path(),
        "snap.ndjson",
        "{\"url\":\"http://127.0.0.1:8081/customers\",\"status\":200,\"body\":[]}\n{\"url\":\"http://127.0.0.1:8081/customers/1\",\"status\":200,\"body\":{\"id\":1}\n",
    );
    let out = bacaudit()
        .args(["audit", "--rules", "rules/bac-talk.toml", "--snapshot"])
        .arg(&snap)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("snap.ndjson:2:"), "{err}");
}

#[test]
fn missing_files_exit_2() {
    let out = bacaudit()
        .args([
            "audit",
            "--rules",
            "rules/nope.toml",
            "--snapshot",
            "fixtures/shop/shop.ndjson",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("rules/nope.toml"));
    let out = bacaudit()
        .args([
            "audit",
            "--rules",
            "rules/shop.toml",
            "--snapshot",
            "fixtures/nope.ndjson",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("fixtures/nope.ndjson"));
    let out = bacaudit()
        .args([
            "audit",
            "--rules",
            "rules/shop.toml",
            "--snapshot",
            "fixtures/shop/shop.ndjson",
            "--report",
            "x.pdf",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn cascades_follow_through_to_what_references_the_deleted() {
    let (_, report, _, _) = audit("rules/shop.toml", "fixtures/shop/shop.ndjson", &[]);
    let f = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["source"] == "http://127.0.0.1:8084/orders/212")
        .expect("the broken order.customer of orders/212");
    let comps: Vec<(String, String)> = f["compensations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["method"].as_str().unwrap_or("").to_string(),
                c["url"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        comps,
        vec![
            (
                "DELETE".to_string(),
                "http://127.0.0.1:8084/orders/212".to_string()
            ),
            // shipment.order cascades: the shipment of the deleted order goes too.
            (
                "DELETE".to_string(),
                "http://127.0.0.1:8083/shipments/1212".to_string()
            ),
        ]
    );
}

#[test]
fn help_shows_the_library_defaults() {
    let out = bacaudit().args(["crawl", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    let crawl = bacaudit::crawl::CrawlOptions::default();
    let live = bacaudit::source::LiveOptions::default();
    for want in [
        format!("[default: {}]", crawl.concurrency),
        format!("[default: {}]", crawl.retry.retries),
        format!("[default: {}]", live.timeout.as_secs()),
        format!("[default: {}]", live.max_body),
    ] {
        assert!(help.contains(&want), "`crawl --help` lacks {want}:\n{help}");
    }
}

#[test]
fn a_referrer_whose_body_is_not_json_makes_orphan_claims_inconclusive() {
    // Orders restored older: customer 3 would be an orphan, but order 2 answered with a body
    // that is not JSON (recorded as `body_not_json`): its links are unknown, so no orphan is
    // claimed and the audit is inconclusive.
    let dir = tempfile::tempdir().unwrap();
    let text =
        std::fs::read_to_string(root().join("fixtures/bac-talk/orphan-state.ndjson")).unwrap();
    let lines: Vec<String> = text
        .lines()
        .map(|l| {
            if l.contains("\"url\":\"http://127.0.0.1:8082/orders/2\"") {
                r#"{"url":"http://127.0.0.1:8082/orders/2","status":200,"headers":{"content-type":"text/html"},"body_not_json":true}"#.to_string()
            } else {
                l.to_string()
            }
        })
        .collect();
    let snap = write(dir.path(), "snap.ndjson", &(lines.join("\n") + "\n"));
    let (code, report, _, _) = audit("rules/bac-talk.toml", snap.to_str().unwrap(), &[]);
    assert_eq!(code, 3, "{report}");
    assert_eq!(report["summary"]["orphan"], 0);
    let warnings = report["warnings"].to_string();
    assert!(warnings.contains("not JSON"), "{warnings}");
}
