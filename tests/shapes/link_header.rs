//! `Link` headers as servers send them: without `<>` (read, with one warning per service
//! naming the URL and the header) or unreadable (a warning too).

use super::run;

/// Writes a snapshot of one service whose answers carry `link` headers, and its rules.
fn world(dir: &std::path::Path, links: &[(&str, &str)]) -> (String, String) {
    let base = "http://127.0.0.1:8091";
    let mut lines = String::new();
    for (path, link) in links {
        lines.push_str(
            &serde_json::json!({
                "url": format!("{base}{path}"),
                "status": 200,
                "headers": {"content-type": "text/html", "link": link},
            })
            .to_string(),
        );
        lines.push('\n');
    }
    for id in 1..=3 {
        lines.push_str(&format!(
            "{{\"url\":\"{base}/rows/{id}.json\",\"status\":200,\"body\":{{\"id\":{id}}}}}\n"
        ));
    }
    let snapshot = dir.join("world.ndjson");
    std::fs::write(&snapshot, lines).unwrap();
    let rules = dir.join("rules.toml");
    let seeds: Vec<String> = links.iter().map(|(p, _)| format!("{p:?}")).collect();
    std::fs::write(
        &rules,
        format!(
            "[services.html]\nbase_url = \"{base}/\"\nseeds = [{}]\n\
             [kinds.row]\nservice = \"html\"\npath = \"/rows/{{id}}.json\"\n",
            seeds.join(", ")
        ),
    )
    .unwrap();
    (
        rules.to_str().unwrap().to_string(),
        snapshot.to_str().unwrap().to_string(),
    )
}

#[test]
fn unbracketed_links_are_followed_with_one_warning_per_service() {
    let dir = tempfile::tempdir().unwrap();
    let (rules, snapshot) = world(
        dir.path(),
        &[
            (
                "/rows/1",
                "http://127.0.0.1:8091/rows/1.json; rel=\"alternate\"; type=\"application/json+datasette\"",
            ),
            ("/rows/2", "http://127.0.0.1:8091/rows/2.json; rel=\"alternate\""),
            ("/rows/3", "</rows/3.json>; rel=\"alternate\""),
        ],
    );
    let (code, report, stderr) = run(&["audit", "--rules", &rules, "--snapshot", &snapshot]);
    // Read, but the audit is inconclusive: such a URL may have been cut short.
    assert_eq!(code, 3, "{stderr}");
    assert_eq!(report["summary"]["resources"], 6, "{report}");
    assert_eq!(report["summary"]["references"], 3);
    let warnings = report["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let w = warnings[0].as_str().unwrap();
    assert!(
        w.starts_with("service html sends `Link` headers without the `<>`"),
        "{w}"
    );
    assert!(w.contains("first at http://127.0.0.1:8091/rows/1:"), "{w}");
    assert!(
        w.contains("`Link: http://127.0.0.1:8091/rows/1.json; rel=\"alternate\"; type=\"application/json+datasette\"`"),
        "{w}"
    );
}

#[test]
fn a_header_with_nothing_readable_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let (rules, snapshot) = world(
        dir.path(),
        &[
            ("/rows/1", "rows/1.json alternate"),
            ("/rows/2", "</rows/2.json>"),
        ],
    );
    let (code, report, stderr) = run(&["audit", "--rules", &rules, "--snapshot", &snapshot]);
    assert_eq!(code, 3, "{stderr}");
    let warnings = report["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let w = warnings[0].as_str().unwrap();
    assert!(
        w.contains("sends a `Link` header with no link that can be read")
            && w.contains("http://127.0.0.1:8091/rows/1")
            && w.contains("`Link: rows/1.json alternate`"),
        "{w}"
    );
}
