//! Analysis: the reference graph turned into findings — broken links, orphans, unresolved
//! links — with the summary counts and warnings of the report.

mod findings;
mod orphans;

use sha2::{Digest, Sha256};

use crate::rules::{KindId, LinkId};
use crate::vocab::{Action, Class, FindingKind, Method, Reason};

pub use findings::analyze;

/// A reference whose target did not end 2xx (`broken_link` or `unresolved`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkFinding {
    pub class: Class,
    /// The referring resource; `None` for a seed.
    pub source: Option<String>,
    pub pointer: Option<String>,
    /// `kind.link`, `seed`, or `None` for a link no rule declares.
    pub relation: Option<String>,
    /// The link rule, when one matched.
    pub link: Option<LinkId>,
    /// The target as fetched (under its service's `base_url`).
    pub target: String,
    /// The target in its alias form when its service has aliases (the report's `target`;
    /// `target` is then the report's `fetched`).
    pub written: Option<String>,
    pub status: Option<u16>,
    pub attempts: u32,
    pub reason: Reason,
    pub detail: String,
}

/// A resource nothing required points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrphanFinding {
    pub resource: String,
    /// The resource's kind.
    pub of_kind: KindId,
    pub expected_referenced_by: Vec<String>,
}

/// What a finding is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FindingBody {
    Link(LinkFinding),
    Orphan(OrphanFinding),
}

/// A compensating operation (DESIGN.md: `{action, method, url, content_type, body, reason}`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Compensation {
    pub action: Action,
    pub method: Option<Method>,
    pub url: String,
    pub content_type: Option<String>,
    pub body: Option<serde_json::Value>,
    pub reason: String,
}

/// One finding of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Stable hash of (kind, source or resource, pointer, target).
    pub id: String,
    pub kind: FindingKind,
    pub body: FindingBody,
    /// Filled by the planner.
    pub compensations: Vec<Compensation>,
}

impl Finding {
    /// The sort key: (kind, source or resource, pointer, target), `None` first.
    pub fn key(&self) -> (FindingKind, Option<&str>, Option<&str>, Option<&str>) {
        match &self.body {
            FindingBody::Link(l) => (
                self.kind,
                l.source.as_deref(),
                l.pointer.as_deref(),
                Some(l.target.as_str()),
            ),
            FindingBody::Orphan(o) => (self.kind, Some(o.resource.as_str()), None, None),
        }
    }

    /// The source of a link finding or the orphan resource.
    pub fn subject(&self) -> Option<&str> {
        self.key().1
    }
}

/// The stable id of a finding: the first 16 hex digits of a SHA-256 over its key.
pub fn finding_id(
    kind: FindingKind,
    subject: Option<&str>,
    pointer: Option<&str>,
    target: Option<&str>,
) -> String {
    let mut h = Sha256::new();
    h.update(kind.as_str());
    for part in [subject, pointer, target] {
        h.update([0x1f]);
        match part {
            None => h.update([0x00]),
            Some(s) => h.update(s.as_bytes()),
        }
    }
    let digest = h.finalize();
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut id = String::with_capacity(16);
    for &b in &digest[..8] {
        id.push(char::from(HEX[usize::from(b >> 4)]));
        id.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    id
}

/// Counts of the report's `summary` (serialized as is: the field order is the schema's).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Summary {
    pub resources: u64,
    pub references: u64,
    pub cross_service_references: u64,
    pub broken_link: u64,
    pub orphan: u64,
    pub unresolved: u64,
    pub requests: u64,
    pub retries: u64,
    pub out_of_scope: u64,
}

/// One entry of the report's `services`.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceSummary {
    pub name: String,
    /// The service's canonical `base_url`.
    pub base_url: String,
    pub unavailable: bool,
    pub resources: u64,
    pub requests: u64,
    pub failures: u64,
    /// What a live crawl saw of its load (none for an audit).
    pub load: Option<crate::graph::ServiceLoad>,
}

/// Everything analysis found in a graph.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub findings: Vec<Finding>,
    pub warnings: Vec<String>,
    pub summary: Summary,
    pub services: Vec<ServiceSummary>,
    /// False when the crawl was interrupted.
    pub complete: bool,
    /// Cross-service reference counts: (source service, target service) → (references,
    /// broken links, unresolved), by service index.
    pub service_edges: Vec<ServiceEdge>,
}

/// Reference counts between two services.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceEdge {
    pub from: String,
    pub to: String,
    pub references: u64,
    pub broken_link: u64,
    pub unresolved: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finding_ids_are_sixteen_lower_hex_digits_of_the_hash() {
        let parts = [
            (
                FindingKind::BrokenLink,
                Some("http://h/a"),
                Some("/x"),
                Some("http://h/b"),
            ),
            (FindingKind::Orphan, Some("http://h/c"), None, None),
            (FindingKind::Unresolved, None, None, Some("http://h/")),
        ];
        for (kind, subject, pointer, target) in parts {
            let mut h = Sha256::new();
            h.update(kind.as_str());
            for part in [subject, pointer, target] {
                h.update([0x1f]);
                h.update(part.map_or(&[0u8][..], str::as_bytes));
            }
            let expected: String = h.finalize()[..8]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            assert_eq!(finding_id(kind, subject, pointer, target), expected);
        }
        assert_eq!(
            finding_id(FindingKind::Orphan, Some("http://h/c"), None, None).len(),
            16
        );
    }
}
