//! What a crawl saw, answered as a recording: each fetched URL's outcome and the timestamp its
//! body held, so the explain stage can date the resources of a live crawl as it dates those of
//! an audited snapshot.

use bytes::Bytes;
use serde_json::{Map, Value};

use crate::graph::Graph;
use crate::rules::Rules;
use crate::source::{Recorded, SnapshotEntry};

/// A crawled graph seen as a recording (see the module doc).
#[derive(Debug)]
pub struct Seen<'g> {
    graph: &'g Graph,
    rules: &'g Rules,
}

impl<'g> Seen<'g> {
    pub fn new(graph: &'g Graph, rules: &'g Rules) -> Seen<'g> {
        Seen { graph, rules }
    }
}

impl Recorded for Seen<'_> {
    /// The outcome as a snapshot line would give it (a 404 is status 404; a transient failure
    /// with no answer is its reason); the body holds only the value at the kind's `timestamp`
    /// pointer, where the pointer finds it.
    fn recorded(&self, url: &str) -> Option<SnapshotEntry> {
        let id = self.graph.id(url)?;
        let o = self.graph.outcome(id)?;
        let (outcome, error_status) = match (o.status, o.failure.as_deref()) {
            (Some(s), None) => (Ok(s), None),
            (Some(s), Some(f)) if f.reason.follows_answer() => (Err(f.reason), Some(s)),
            (Some(s), Some(_)) => (Ok(s), None),
            (None, Some(f)) => (Err(f.reason), None),
            (None, None) => return None,
        };
        let body = self
            .graph
            .stamps
            .get(&id)
            .and_then(|stamp| {
                let kind = self.graph.node(id).kind?;
                let pointer = self.rules.kind(kind).timestamp.as_ref()?;
                let value = pointer.tokens.iter().rev().fold(stamp.clone(), |v, t| {
                    Value::Object(Map::from_iter([(t.clone(), v)]))
                });
                serde_json::to_vec(&value).ok()
            })
            .map(Bytes::from)
            .unwrap_or_default();
        Some(SnapshotEntry {
            outcome,
            error_status,
            headers: Vec::new().into(),
            body,
            history: None,
        })
    }
}
