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

/// The live crawl reads an empty answer the same way (the recorded one replays it).
#[tokio::test]
async fn a_live_empty_answer_is_not_found_and_records_as_it_came() {
    use wiremock::matchers::{method, path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let db = MockServer::start().await;
    let rows = |v: serde_json::Value| ResponseTemplate::new(200).set_body_json(v);
    for (q, body) in [
        ("eq.1", serde_json::json!([{"id": 1, "customer_id": 7}])),
        ("eq.7", serde_json::json!([])),
    ] {
        let p = if q == "eq.1" { "/orders" } else { "/customers" };
        Mock::given(method("GET"))
            .and(path(p))
            .and(query_param("id", q))
            .respond_with(rows(body))
            .mount(&db)
            .await;
    }
    Mock::given(method("GET"))
        .and(path("/orders"))
        .respond_with(rows(serde_json::json!([{"id": 1, "customer_id": 7}])))
        .mount(&db)
        .await;
    let b = db.uri();
    let rules = format!(
        "[services.db]\nbase_url = \"{b}/\"\nseeds = [\"/orders\"]\n\
         [kinds.customer]\nservice = \"db\"\npath = \"/customers?id=eq.{{id}}\"\n\
         [kinds.order]\nservice = \"db\"\npath = \"/orders?id=eq.{{id}}\"\ncollection = \"/orders\"\n\
         [kinds.order.links.customer]\npointer = \"/customer_id\"\nto = \"customer\"\n"
    );
    let dir = tempfile::tempdir().unwrap();
    let rules_path = dir.path().join("rules.toml");
    std::fs::write(&rules_path, rules).unwrap();
    let record = dir.path().join("drill.ndjson");
    let rules_arg = rules_path.to_str().unwrap();
    let (code, live, stderr) = tokio::task::spawn_blocking({
        let record = record.clone();
        let rules_arg = rules_arg.to_string();
        move || {
            run(&[
                "crawl",
                "--rules",
                &rules_arg,
                "--record",
                record.to_str().unwrap(),
            ])
        }
    })
    .await
    .unwrap();
    assert_eq!(code, 1, "{stderr}");
    let want = vec![(
        "broken_link".to_string(),
        format!("{b}/orders?id=eq.1"),
        format!("{b}/customers?id=eq.7"),
        "not_found".to_string(),
    )];
    assert_eq!(findings(&live), want);
    let (code, replayed, stderr) = run(&[
        "audit",
        "--rules",
        rules_arg,
        "--snapshot",
        record.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(replayed["findings"], live["findings"]);
}
