//! PostgREST addresses a row by a query (`/customers?id=eq.3`) and answers `[]` for no row:
//! a recorded snapshot in PostgREST's documented shape (fixtures/postgrest; PostgREST itself
//! needs PostgreSQL, which the test machines do not run).

use super::{compensations, findings, run};

const RULES: &str = "rules/postgrest.toml";
const SNAPSHOT: &str = "fixtures/postgrest/postgrest.ndjson";
const DB: &str = "http://127.0.0.1:3000";

#[test]
fn an_empty_answer_to_a_row_query_is_a_broken_link_repaired_at_the_row() {
    let (code, report, stderr) = run(&["audit", "--rules", RULES, "--snapshot", SNAPSHOT]);
    assert_eq!(code, 1, "{stderr}");
    let s = |x: &str| x.to_string();
    assert_eq!(
        findings(&report),
        vec![
            (
                s("broken_link"),
                format!("{DB}/orders?id=eq.2"),
                format!("{DB}/customers?id=eq.3"),
                s("not_found"),
            ),
            (s("orphan"), format!("{DB}/customers?id=eq.4"), s(""), s(""),),
        ]
    );
    let broken = &report["findings"][0];
    assert_eq!(broken["status"], 200);
    assert_eq!(broken["pointer"], "/customer_id");
    assert!(broken["detail"].as_str().unwrap().contains("empty list"));
    assert_eq!(
        compensations(&report),
        vec![
            (s("DELETE"), format!("{DB}/orders?id=eq.2")),
            (s("DELETE"), format!("{DB}/customers?id=eq.4")),
        ]
    );
    // Tables and rows: 2 tables, 3 orders, 3 customers (the lost one is no resource).
    assert_eq!(report["summary"]["resources"], 8);
    assert!(report["warnings"].as_array().unwrap().is_empty());
}
