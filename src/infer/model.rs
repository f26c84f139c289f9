//! The proposal as inference builds it: services, kinds and links, each with the evidence
//! that chose it (written as comments by the `write` module).

use std::collections::BTreeSet;

use url::Url;

use super::template::Template;

/// A proposed service.
#[derive(Debug, Clone)]
pub struct ServiceP {
    pub name: String,
    /// Canonical; its path ends with `/`.
    pub base_url: Url,
    /// Paths (or full URLs) as the rules write them.
    pub seeds: Vec<String>,
    pub evidence: String,
    /// The service's table as the user wrote it (from a partial rules file), written instead
    /// of `base_url` and `seeds`.
    pub table: Option<String>,
}

/// A proposed kind.
#[derive(Debug, Clone)]
pub struct KindP {
    pub name: String,
    /// Index into [`Proposal::services`].
    pub service: usize,
    pub template: Template,
    /// The rules `path`.
    pub path: String,
    pub evidence: Vec<String>,
    /// Indices of the samples fetched at its item URLs (2xx).
    pub items: Vec<usize>,
    /// Its ids as a link would fill them into `path` (item URLs and listed records).
    pub ids: BTreeSet<String>,
    /// Listed records (sample index, pointer to the element) when it has a `collection`.
    pub listed: Vec<(usize, String)>,
    pub collection: Option<CollectionP>,
    /// `(type, evidence)`.
    pub jsonapi_type: Option<(String, String)>,
    /// `(pointer, evidence)`; other candidates go in `timestamp_alt`.
    pub timestamp: Option<(String, String)>,
    pub timestamp_alt: Vec<(String, String)>,
    pub orphan: Option<OrphanP>,
}

/// A kind's list page of bare records.
#[derive(Debug, Clone)]
pub struct CollectionP {
    pub path: String,
    pub id_pointer: String,
    pub evidence: String,
}

/// A proposed orphan rule: `must_be_referenced_by` on a kind.
#[derive(Debug, Clone)]
pub struct OrphanP {
    /// Full link names (`order.customer`).
    pub links: Vec<String>,
    /// Written as a key (else commented out).
    pub active: bool,
    pub evidence: String,
}

/// How a link rule finds its links.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Sel {
    Pointer(String),
    Rel(String),
}

/// A proposed link rule.
#[derive(Debug, Clone)]
pub struct LinkP {
    /// Index of the kind it is declared on.
    pub kind: usize,
    pub name: String,
    pub selector: Sel,
    /// Index of the kind it points at.
    pub to: usize,
    /// Written as a table (else commented out: the evidence cannot decide).
    pub active: bool,
    pub evidence: String,
    /// The ids of the target kind the sample's links point at.
    pub referenced: BTreeSet<String>,
}

/// Everything proposed, and what was seen but not understood.
#[derive(Debug, Clone, Default)]
pub struct Proposal {
    pub services: Vec<ServiceP>,
    pub kinds: Vec<KindP>,
    pub links: Vec<LinkP>,
    /// Things seen but not turned into rules, each a sentence (written at the end).
    pub notes: Vec<String>,
    /// Where the evidence came from (`snapshot fixtures/shop/`).
    pub source: String,
    /// Answered exchanges read.
    pub samples: usize,
}

impl Proposal {
    /// `kind.link`.
    pub fn link_name(&self, l: &LinkP) -> String {
        format!("{}.{}", self.kinds[l.kind].name, l.name)
    }
}

/// `1234567` → `1,234,567`.
pub fn count(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}
