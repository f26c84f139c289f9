//! The SARIF 2.1.0 log (`.sarif`) for code-scanning UIs: one result per finding, one rule per
//! finding kind and relation (`broken_link/order.customer`), compensations in the result's
//! property bag. Typed serde structs of the part of SARIF used here; the tests validate the
//! output against the OASIS schema.

use std::collections::BTreeMap;

use serde::Serialize;

use super::view::{attempts_text, relation_key, status_text, SEED, UNDECLARED};
use crate::model::{LinkEntry, OrphanEntry, Report, ReportFinding, ReportSummary, SourceInfo};

/// The schema URI of SARIF 2.1.0 (OASIS, errata 01).
pub const SARIF_SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// The key of a finding's id in `partialFingerprints`.
pub const FINGERPRINT_KEY: &str = "bacauditFindingId/v1";

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'a str,
    version: &'a str,
    runs: Vec<Run<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool<'a>,
    invocations: Vec<Invocation>,
    results: Vec<SarifResult<'a>>,
    properties: RunProperties<'a>,
}

/// The run's property bag: what the report says about the run as a whole.
#[derive(Serialize)]
struct RunProperties<'a> {
    schema: &'a str,
    source: &'a SourceInfo,
    complete: bool,
    summary: &'a ReportSummary,
}

#[derive(Serialize)]
struct Tool<'a> {
    driver: Driver<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver<'a> {
    name: &'a str,
    version: &'a str,
    semantic_version: &'a str,
    rules: Vec<Rule>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    id: String,
    name: String,
    short_description: Message,
    full_description: Message,
    default_configuration: Configuration,
    help: Message,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct RuleProperties {
    kind: String,
    relation: String,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct Message {
    text: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_execution_notifications: Vec<Notification>,
}

#[derive(Serialize)]
struct Notification {
    level: &'static str,
    message: Message,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: String,
    rule_index: usize,
    kind: &'static str,
    level: &'static str,
    message: Message,
    locations: Vec<Location>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related_locations: Vec<Location>,
    partial_fingerprints: BTreeMap<&'static str, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    web_request: Option<WebRequest>,
    #[serde(skip_serializing_if = "Option::is_none")]
    web_response: Option<WebResponse>,
    /// The finding as the JSON report has it, compensations included.
    properties: &'a ReportFinding,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<u32>,
    physical_location: PhysicalLocation,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    logical_locations: Vec<LogicalLocation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<Message>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
}

#[derive(Serialize)]
struct ArtifactLocation {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogicalLocation {
    name: String,
    fully_qualified_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
}

#[derive(Serialize)]
struct WebRequest {
    method: &'static str,
    target: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WebResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    status_code: Option<u16>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    no_response_received: bool,
}

/// Renders the report as a SARIF 2.1.0 log (pretty JSON, trailing newline).
pub fn render_sarif(r: &Report) -> String {
    // Rules: one per (kind, relation), in id order.
    let mut rule_ids: BTreeMap<String, (&str, String)> = BTreeMap::new();
    for f in &r.findings {
        let relation = relation_key(f);
        rule_ids
            .entry(rule_id(f.kind().as_str(), &relation))
            .or_insert_with(|| (f.kind().as_str(), relation));
    }
    let index: BTreeMap<&str, usize> = rule_ids
        .keys()
        .enumerate()
        .map(|(i, k)| (k.as_str(), i))
        .collect();
    let rules = rule_ids
        .iter()
        .map(|(id, (kind, relation))| rule(id, kind, relation))
        .collect();
    let results = r
        .findings
        .iter()
        .map(|f| {
            let id = rule_id(f.kind().as_str(), &relation_key(f));
            let rule_index = index[id.as_str()];
            match f {
                ReportFinding::Link(l) => link_result(f, l, id, rule_index),
                ReportFinding::Orphan(o) => orphan_result(f, o, id, rule_index),
            }
        })
        .collect();
    let log = Log {
        schema: SARIF_SCHEMA,
        version: "2.1.0",
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: &r.tool.name,
                    version: &r.tool.version,
                    semantic_version: &r.tool.version,
                    rules,
                },
            },
            invocations: vec![Invocation {
                execution_successful: r.complete,
                tool_execution_notifications: r
                    .warnings
                    .iter()
                    .map(|w| Notification {
                        level: "warning",
                        message: Message { text: w.clone() },
                    })
                    .collect(),
            }],
            results,
            properties: RunProperties {
                schema: &r.schema,
                source: &r.source,
                complete: r.complete,
                summary: &r.summary,
            },
        }],
    };
    let mut s = serde_json::to_string_pretty(&log).expect("a SARIF log always serializes");
    s.push('\n');
    s
}

/// `broken_link/order.customer`, `broken_link/seed`, `unresolved/undeclared`,
/// `orphan/order.customer`.
fn rule_id(kind: &str, relation: &str) -> String {
    format!("{kind}/{relation}")
}

/// `error` for broken links and orphans, `warning` for unresolved links.
fn level(kind: &str) -> &'static str {
    match kind {
        "unresolved" => "warning",
        _ => "error",
    }
}

fn rule(id: &str, kind: &str, relation: &str) -> Rule {
    let (name, short, full, help) = match (kind, relation) {
        ("broken_link", SEED) => (
            "BrokenSeed",
            "A seed does not answer".to_string(),
            "An entry point of a service answered with a permanent error: the service's restore lost it or the rules name a wrong path.".to_string(),
            "Check the service's restore and the seed in the rules file.".to_string(),
        ),
        ("broken_link", _) => (
            "BrokenLink",
            format!("Broken link: {}", describe(relation)),
            format!("A {} reference points at a resource that answers a permanent error (404, 410 or another 4xx): the target was lost, typically because its service was restored from an older backup than the referring one.", describe(relation)),
            "Apply the compensation in the result's properties (cascade, set-null, recreate) or decide by hand.".to_string(),
        ),
        ("orphan", _) => (
            "Orphan",
            format!("Orphan: nothing in {relation} points at it"),
            format!("A resource that must be referenced by {relation} is referenced by nothing: the resources that pointed at it were lost, typically because their service was restored from an older backup."),
            "Apply the compensation in the result's properties (delete) or decide by hand.".to_string(),
        ),
        _ => (
            "UnresolvedLink",
            format!("Unresolved link: {}", describe(relation)),
            format!("A {} reference could not be checked: its target kept failing transiently (timeouts, 5xx, 429), denied access, or its service was unavailable. The audit is inconclusive for it; nothing is repaired on uncertain evidence.", describe(relation)),
            "Re-run the audit once the service is healthy, or check access credentials.".to_string(),
        ),
    };
    Rule {
        id: id.to_string(),
        name: name.to_string(),
        short_description: Message { text: short },
        full_description: Message { text: full },
        default_configuration: Configuration { level: level(kind) },
        help: Message { text: help },
        properties: RuleProperties {
            kind: kind.to_string(),
            relation: relation.to_string(),
        },
    }
}

fn describe(relation: &str) -> String {
    match relation {
        UNDECLARED => "undeclared link (no rule declares it)".to_string(),
        other => other.to_string(),
    }
}

fn location(uri: &str) -> Location {
    Location {
        id: None,
        physical_location: PhysicalLocation {
            artifact_location: ArtifactLocation {
                uri: uri.to_string(),
            },
        },
        logical_locations: Vec::new(),
        message: None,
    }
}

fn link_result<'a>(
    f: &'a ReportFinding,
    l: &LinkEntry,
    rule_id: String,
    rule_index: usize,
) -> SarifResult<'a> {
    let relation = l.relation.as_deref().unwrap_or(UNDECLARED);
    let text = match (&l.source, &l.pointer) {
        (Some(src), Some(ptr)) => format!(
            "{relation}: {src} links at {ptr} to {}, which {} ({}; {})",
            l.target,
            outcome(l),
            l.detail,
            attempts_text(l.attempts)
        ),
        _ => format!(
            "seed {} {} ({}; {})",
            l.target,
            outcome(l),
            l.detail,
            attempts_text(l.attempts)
        ),
    };
    let text = with_cause(text, l.cause.as_deref());
    let mut primary = location(l.source.as_deref().unwrap_or(&l.target));
    if let (Some(src), Some(ptr)) = (&l.source, &l.pointer) {
        primary.logical_locations.push(LogicalLocation {
            name: ptr.clone(),
            fully_qualified_name: format!("{src}#{ptr}"),
            kind: ptr.starts_with('/').then_some("property"),
        });
    }
    let mut related = Vec::new();
    if l.source.is_some() {
        let mut target = location(&l.target);
        target.id = Some(1);
        target.message = Some(Message {
            text: "link target".into(),
        });
        related.push(target);
    }
    let requested = l.attempts > 0;
    SarifResult {
        rule_id,
        rule_index,
        kind: "fail",
        level: level(l.kind.as_str()),
        message: Message { text },
        locations: vec![primary],
        related_locations: related,
        partial_fingerprints: BTreeMap::from([(FINGERPRINT_KEY, l.id.clone())]),
        web_request: requested.then(|| WebRequest {
            method: "GET",
            target: l.target.clone(),
        }),
        web_response: requested.then_some(WebResponse {
            status_code: l.status,
            no_response_received: l.status.is_none(),
        }),
        properties: f,
    }
}

/// "answered 404 not_found", "got no answer (timeout)", "was not requested".
fn outcome(l: &LinkEntry) -> String {
    if l.attempts == 0 {
        format!("was not requested ({})", l.reason)
    } else if l.status.is_some() {
        format!("answered {}", status_text(l))
    } else {
        format!("got {}", status_text(l))
    }
}

/// A result message with the finding's cause (restore points) appended, when there is one.
fn with_cause(text: String, cause: Option<&str>) -> String {
    match cause {
        Some(c) => format!("{text}. Why: {c}"),
        None => text,
    }
}

fn orphan_result<'a>(
    f: &'a ReportFinding,
    o: &OrphanEntry,
    rule_id: String,
    rule_index: usize,
) -> SarifResult<'a> {
    let by = o.expected_referenced_by.join(" or ");
    SarifResult {
        rule_id,
        rule_index,
        kind: "fail",
        level: level(o.kind.as_str()),
        message: Message {
            text: with_cause(
                format!("{} is an orphan: nothing in {by} points at it", o.resource),
                o.cause.as_deref(),
            ),
        },
        locations: vec![location(&o.resource)],
        related_locations: Vec::new(),
        partial_fingerprints: BTreeMap::from([(FINGERPRINT_KEY, o.id.clone())]),
        web_request: None,
        web_response: None,
        properties: f,
    }
}
