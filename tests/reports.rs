//! Reporters: every format rendered from a hand-written report (`tests/golden/report.json`)
//! and compared byte for byte with `tests/golden/report.<ext>`; SARIF validated against the
//! OASIS schema, JUnit parsed as XML, HTML checked for escaping and self-containment.
//! `BACAUDIT_BLESS=1 cargo test reports::` rewrites the golden files.

use std::path::{Path, PathBuf};

use bacaudit::analyze::finding_id;
use bacaudit::model::{Report, ReportFinding};
use bacaudit::report::{self, Format};
use bacaudit::vocab::FindingKind;

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The hand-written report every golden file is rendered from.
fn golden_report() -> Report {
    serde_json::from_str(&read(&golden_dir().join("report.json"))).expect("report.json parses")
}

/// Compares `actual` with the golden file `name`, or rewrites it under `BACAUDIT_BLESS=1`.
fn check_golden(name: &str, actual: &str) {
    let path = golden_dir().join(name);
    if std::env::var_os("BACAUDIT_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, actual).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run `BACAUDIT_BLESS=1 cargo test reports::` to create it)",
            path.display()
        )
    });
    if expected != actual {
        let line = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| expected.lines().count().min(actual.lines().count()));
        panic!(
            "{} differs from the rendering at line {}:\n  golden: {:?}\n  actual: {:?}\n(run `BACAUDIT_BLESS=1 cargo test reports::` if the change is intended)",
            path.display(),
            line + 1,
            expected.lines().nth(line),
            actual.lines().nth(line)
        );
    }
}

const ALL: [Format; 8] = [
    Format::Table,
    Format::Json,
    Format::Markdown,
    Format::Html,
    Format::Sarif,
    Format::Junit,
    Format::Dot,
    Format::Mermaid,
];

#[test]
fn golden_report_follows_the_contract() {
    let r = golden_report();
    assert_eq!(r.schema, "bacaudit/report/v1");
    // Ids are the stable hash of (kind, source or resource, pointer, target) ...
    for f in &r.findings {
        let kind = f.kind();
        let id = match f {
            ReportFinding::Link(l) => finding_id(
                kind,
                l.source.as_deref(),
                l.pointer.as_deref(),
                Some(&l.target),
            ),
            ReportFinding::Orphan(o) => finding_id(kind, Some(&o.resource), None, None),
        };
        assert_eq!(f.id(), id, "{f:?}");
    }
    // ... findings are sorted by those fields, null first ...
    let key = |f: &ReportFinding| match f {
        ReportFinding::Link(l) => (
            l.kind,
            l.source.clone(),
            l.pointer.clone(),
            Some(l.target.clone()),
        ),
        ReportFinding::Orphan(o) => (o.kind, Some(o.resource.clone()), None, None),
    };
    assert!(r.findings.windows(2).all(|w| key(&w[0]) <= key(&w[1])));
    // ... the summary counts them, and unresolved findings carry no compensations.
    let count = |k: &str| r.findings.iter().filter(|f| f.kind().as_str() == k).count() as u64;
    assert_eq!(r.summary.broken_link, count("broken_link"));
    assert_eq!(r.summary.orphan, count("orphan"));
    assert_eq!(r.summary.unresolved, count("unresolved"));
    assert!(r
        .findings
        .iter()
        .filter(|f| f.kind() == FindingKind::Unresolved)
        .all(|f| f.compensations().is_empty()));
    let refs: u64 = r.service_graph.iter().map(|e| e.references).sum();
    assert_eq!(r.summary.references, refs);
}

#[test]
fn json_round_trips_byte_for_byte() {
    let text = read(&golden_dir().join("report.json"));
    let r: Report = serde_json::from_str(&text).unwrap();
    assert_eq!(report::render_json(&r), text);
}

macro_rules! golden {
    ($($name:ident => $format:expr),* $(,)?) => {$(
        #[test]
        fn $name() {
            let format: Format = $format;
            let r = golden_report();
            let out = report::render(&r, format);
            assert_eq!(out, report::render(&r, format), "rendering is deterministic");
            check_golden(&format!("report.{}", format.extension()), &out);
        }
    )*};
}

golden! {
    golden_table => Format::Table,
    golden_markdown => Format::Markdown,
    golden_html => Format::Html,
    golden_sarif => Format::Sarif,
    golden_junit => Format::Junit,
    golden_dot => Format::Dot,
    golden_mermaid => Format::Mermaid,
}

/// GitLab's code quality report: one CodeClimate issue per finding with the fields GitLab
/// requires, fingerprinted by the finding id (unique, stable).
#[test]
fn golden_codequality() {
    let r = golden_report();
    let out = report::render(&r, Format::CodeQuality);
    check_golden("report.codequality.json", &out);
    let issues: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(issues.len(), r.findings.len());
    for (issue, f) in issues.iter().zip(&r.findings) {
        assert_eq!(issue["fingerprint"], f.id());
        assert!(issue["description"].as_str().is_some_and(|d| !d.is_empty()));
        assert!(issue["check_name"]
            .as_str()
            .unwrap()
            .starts_with("bacaudit/"));
        let severity = issue["severity"].as_str().unwrap();
        assert!(["info", "minor", "major", "critical", "blocker"].contains(&severity));
        assert!(issue["location"]["path"].is_string());
        assert_eq!(issue["location"]["lines"]["begin"], 1);
    }
}

#[test]
fn formats_from_extensions_and_names() {
    for (file, format) in [
        ("a.json", Format::Json),
        ("a.md", Format::Markdown),
        ("a.html", Format::Html),
        ("A.HTML", Format::Html),
        ("a.sarif", Format::Sarif),
        ("a.xml", Format::Junit),
        ("a.dot", Format::Dot),
        ("a.mmd", Format::Mermaid),
        ("a.txt", Format::Table),
    ] {
        assert_eq!(Format::from_path(Path::new(file)), Some(format), "{file}");
    }
    assert_eq!(Format::from_path(Path::new("a.pdf")), None);
    assert_eq!(Format::from_path(Path::new("report")), None);
    for (name, format) in [
        ("table", Format::Table),
        ("json", Format::Json),
        ("markdown", Format::Markdown),
        ("md", Format::Markdown),
        ("html", Format::Html),
        ("sarif", Format::Sarif),
        ("junit", Format::Junit),
        ("dot", Format::Dot),
        ("mermaid", Format::Mermaid),
        ("mmd", Format::Mermaid),
    ] {
        assert_eq!(Format::parse(name), Some(format), "{name}");
    }
    assert_eq!(Format::parse("xml"), None);
    for name in Format::NAMES {
        let f = Format::parse(name).expect("every listed name parses");
        if f == Format::CodeQuality {
            continue; // by name only: its files are .json
        }
        assert_eq!(
            Format::from_path(Path::new(&format!("r.{}", f.extension()))),
            Some(f)
        );
    }
}

#[test]
fn write_file_picks_the_format_from_the_extension() {
    let dir = tempfile::tempdir().unwrap();
    let r = golden_report();
    for format in ALL {
        let path = dir.path().join(format!("audit.{}", format.extension()));
        report::write_file(&path, &r).unwrap();
        assert_eq!(read(&path), report::render(&r, format), "{format:?}");
    }
    assert!(report::write_file(&dir.path().join("audit.pdf"), &r).is_err());
}

fn sarif_validator() -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sarif-schema-2.1.0.json");
    let schema: serde_json::Value = serde_json::from_str(&read(&path)).unwrap();
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the SARIF schema compiles")
}

fn assert_valid_sarif(validator: &jsonschema::Validator, text: &str) {
    let log: serde_json::Value = serde_json::from_str(text).expect("SARIF is JSON");
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "SARIF schema violations:\n{}",
        errors.join("\n")
    );
}

#[test]
fn sarif_is_valid_against_the_oasis_schema() {
    let validator = sarif_validator();
    let r = golden_report();
    assert_valid_sarif(&validator, &report::render_sarif(&r));
    assert_valid_sarif(&validator, &report::render_sarif(&empty_report()));
    let mut incomplete = r.clone();
    incomplete.complete = false;
    assert_valid_sarif(&validator, &report::render_sarif(&incomplete));
    // The schema does reject a broken log: the check is not vacuous.
    let mut log: serde_json::Value = serde_json::from_str(&report::render_sarif(&r)).unwrap();
    log["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(!validator.is_valid(&log));
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct SarifLog {
    version: String,
    runs: Vec<SarifRun>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct SarifRun {
    tool: SarifTool,
    results: Vec<SarifResult>,
    invocations: Vec<SarifInvocation>,
}

#[derive(serde::Deserialize)]
struct SarifTool {
    driver: SarifDriver,
}

#[derive(serde::Deserialize)]
struct SarifDriver {
    name: String,
    version: String,
    rules: Vec<SarifRule>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct SarifRule {
    id: String,
    default_configuration: SarifLevel,
}

#[derive(serde::Deserialize)]
struct SarifLevel {
    level: String,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct SarifInvocation {
    execution_successful: bool,
    #[serde(default)]
    tool_execution_notifications: Vec<serde_json::Value>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: String,
    rule_index: usize,
    level: String,
    message: SarifMessage,
    locations: Vec<serde_json::Value>,
    partial_fingerprints: std::collections::BTreeMap<String, String>,
    properties: serde_json::Value,
}

#[derive(serde::Deserialize)]
struct SarifMessage {
    text: String,
}

#[test]
fn sarif_has_one_result_per_finding_with_rule_level_location_and_fingerprint() {
    let r = golden_report();
    let log: SarifLog = serde_json::from_str(&report::render_sarif(&r)).unwrap();
    assert_eq!(log.version, "2.1.0");
    let run = &log.runs[0];
    assert_eq!(run.tool.driver.name, "bacaudit");
    assert_eq!(run.tool.driver.version, r.tool.version);
    assert_eq!(run.results.len(), r.findings.len());
    assert!(run.invocations[0].execution_successful);
    assert_eq!(
        run.invocations[0].tool_execution_notifications.len(),
        r.warnings.len()
    );
    for (res, f) in run.results.iter().zip(&r.findings) {
        let rule = &run.tool.driver.rules[res.rule_index];
        assert_eq!(rule.id, res.rule_id);
        assert!(res.rule_id.starts_with(&format!("{}/", f.kind())));
        let want = if f.kind() == FindingKind::Unresolved {
            "warning"
        } else {
            "error"
        };
        assert_eq!(res.level, want);
        assert_eq!(rule.default_configuration.level, want);
        assert_eq!(res.partial_fingerprints["bacauditFindingId/v1"], f.id());
        assert!(!res.message.text.is_empty());
        assert_eq!(res.properties["id"], f.id());
        assert_eq!(
            res.properties["compensations"],
            serde_json::to_value(f.compensations()).unwrap()
        );
        let uri = &res.locations[0]["physicalLocation"]["artifactLocation"]["uri"];
        match f {
            ReportFinding::Link(l) => {
                assert_eq!(uri, l.source.as_deref().unwrap_or(&l.target));
                if let Some(p) = &l.pointer {
                    assert_eq!(res.locations[0]["logicalLocations"][0]["name"], *p);
                }
            }
            ReportFinding::Orphan(o) => assert_eq!(uri, &o.resource),
        }
    }
    let ids: Vec<&str> = run.results.iter().map(|r| r.rule_id.as_str()).collect();
    for id in [
        "broken_link/order.customer",
        "broken_link/seed",
        "broken_link/undeclared",
        "orphan/order.customer",
        "unresolved/order.shipment",
    ] {
        assert!(ids.contains(&id), "{id} in {ids:?}");
    }
}

#[test]
fn junit_is_well_formed_xml_with_a_case_per_finding() {
    let r = golden_report();
    let xml = report::render_junit(&r);
    let doc = roxmltree::Document::parse(&xml).expect("JUnit XML parses");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let cases: Vec<_> = root
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(
        cases.len(),
        r.findings.len() + 1,
        "one per finding + summary"
    );
    let failures = root
        .descendants()
        .filter(|n| n.has_tag_name("failure"))
        .count() as u64;
    let skipped = root
        .descendants()
        .filter(|n| n.has_tag_name("skipped"))
        .count() as u64;
    assert_eq!(failures, r.summary.broken_link + r.summary.orphan);
    assert_eq!(skipped, r.summary.unresolved);
    assert_eq!(
        root.attribute("tests"),
        Some(cases.len().to_string().as_str())
    );
    assert_eq!(
        root.attribute("failures"),
        Some(failures.to_string().as_str())
    );
    let suites: Vec<&str> = root
        .children()
        .filter(|n| n.has_tag_name("testsuite"))
        .filter_map(|n| n.attribute("name"))
        .collect();
    assert_eq!(
        suites,
        [
            "bacaudit",
            "order.customer",
            "order.products",
            "order.shipment",
            "shipment.order",
            "seed",
            "undeclared"
        ]
    );
    // Text from the report survives the XML round trip, markup included.
    assert!(root
        .descendants()
        .filter_map(|n| n.text())
        .any(|t| t.contains("<script>alert(\\\"leave at door\\\")</script> & ring `twice`")));
    let mut incomplete = r.clone();
    incomplete.complete = false;
    let xml = report::render_junit(&incomplete);
    let doc = roxmltree::Document::parse(&xml).unwrap();
    assert!(doc.descendants().any(|n| n.has_tag_name("error")));
}

#[test]
fn html_is_self_contained_and_escapes_the_report() {
    let mut r = golden_report();
    if let ReportFinding::Link(l) = &mut r.findings[0] {
        l.detail = "<script>alert('x')</script>\" onmouseover=\"x".into();
    }
    r.warnings.push("<img src=x onerror=alert(1)>".into());
    let html = report::render_html(&r);
    assert!(!html.contains("<script>alert"), "report text is escaped");
    assert!(!html.contains("<img"), "report text is escaped");
    assert!(
        html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot; onmouseover=&quot;x")
    );
    // One script and one style, both inline; nothing that loads from anywhere.
    assert_eq!(html.matches("<script").count(), 1);
    assert!(html.contains("<script>"));
    for needle in [
        "src=\"",
        "<link",
        "@import",
        "url(http",
        "fetch(",
        "XMLHttpRequest",
    ] {
        assert!(!html.contains(needle), "{needle} in the page");
    }
    assert!(html.contains("Content-Security-Policy\" content=\"default-src 'none'"));
    // The SVG graph, the findings table and its rows, the warnings.
    assert!(html.contains("<svg class=\"graph\""));
    let rows = html.matches("<tr id=\"f-").count();
    assert_eq!(rows, r.findings.len());
    assert!(html.contains("Warnings"));
    assert!(html.contains("@media (prefers-color-scheme: dark)"));
    assert!(!html.contains("Incomplete."));
    r.complete = false;
    assert!(report::render_html(&r).contains("Incomplete."));
}

#[test]
fn markdown_groups_by_relation_and_notes_an_incomplete_run() {
    let mut r = golden_report();
    let md = report::render_markdown(&r);
    for heading in [
        "### order.customer (5)",
        "### seeds (1)",
        "### undeclared links (1)",
        "## Warnings",
        "## Links between services",
    ] {
        assert!(md.contains(heading), "{heading}");
    }
    assert!(md.contains("```mermaid"));
    assert!(!md.contains("Incomplete"));
    r.complete = false;
    assert!(report::render_markdown(&r).contains("**Incomplete.**"));
}

#[test]
fn graph_formats_count_orphans_per_service() {
    let r = golden_report();
    let dot = report::render_dot(&r);
    assert!(dot.contains(r#""customers" [label="customers\n120 resources\n2 orphans""#));
    assert!(dot.contains(r##""orders" -> "customers" [label="44 references\n2 broken · 1 unresolved", color="#cf222e""##));
    let mmd = report::render_mermaid(&r);
    assert!(mmd.contains("s0[\"customers<br/>120 resources<br/>2 orphans\"]"));
    assert!(mmd.contains("class s2 unavailable"));
}

#[test]
fn reports_without_base_urls_still_render() {
    let mut r = golden_report();
    for s in &mut r.services {
        s.base_url = None;
    }
    let json = report::render_json(&r);
    assert!(!json.contains("base_url"), "absent base_url is not written");
    assert!(report::render_dot(&r).contains("customers\\n120 resources\"]"));
    assert!(report::render_markdown(&r).contains("2 orphans outside every service's base URL."));
    for format in ALL {
        assert!(!report::render(&r, format).is_empty());
    }
}

fn empty_report() -> Report {
    let mut r = golden_report();
    r.findings.clear();
    r.warnings.clear();
    r.services.clear();
    r.service_graph.clear();
    r.summary = Default::default();
    r
}

#[test]
fn an_empty_report_renders_in_every_format() {
    let r = empty_report();
    for format in ALL {
        let out = report::render(&r, format);
        assert!(!out.is_empty(), "{format:?}");
    }
    assert!(report::render_html(&r).contains("No findings"));
    assert!(report::render_markdown(&r).contains("No findings."));
    roxmltree::Document::parse(&report::render_junit(&r)).unwrap();
}

#[test]
fn causes_show_in_every_human_format() {
    let mut r = golden_report();
    let cause = "customer 3 was created after the customers backup <2026-11-20T10:00Z>";
    for f in &mut r.findings {
        match f {
            ReportFinding::Link(l) if l.kind == FindingKind::BrokenLink => {
                l.cause = Some(cause.into())
            }
            ReportFinding::Orphan(o) => o.cause = Some(cause.into()),
            _ => {}
        }
    }
    let escaped = cause.replace('<', "&lt;").replace('>', "&gt;");
    assert!(report::render(&r, Format::Table).contains(cause));
    assert!(report::render(&r, Format::Markdown).contains("why: customer 3 was created"));
    assert!(report::render(&r, Format::Html).contains(&escaped));
    assert!(report::render(&r, Format::Sarif).contains("Why: customer 3 was created"));
    assert!(report::render(&r, Format::Json).contains("\"cause\": \"customer 3"));
}
