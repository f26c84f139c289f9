//! The `clusters` section of the report: which services to back up together, level by level
//! (computed by `explain::clusters`, rendered by `report`).

use serde::{Deserialize, Serialize};

/// The clustering of one audit (the `clusters` section of the JSON report).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Clusters {
    pub threshold: f64,
    pub finding_weight: u64,
    /// Cross-service weight when every service is backed up on its own.
    pub total_weight: u64,
    /// Index in `levels` of the recommendation.
    pub recommended: usize,
    /// The recommended groups (each sorted; groups in order of their first service).
    pub groups: Vec<Vec<String>>,
    /// Service pairs split across the recommended groups: what an independent restore of the
    /// groups still exposes, and what it cost in this audit.
    pub remaining: Vec<PairCost>,
    /// Every step of the clustering, from one group per service.
    pub levels: Vec<Level>,
}

/// One step of the clustering.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Level {
    pub groups: Vec<Vec<String>>,
    /// The two groups merged into one to reach this level (absent on the first level).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged: Option<Vec<Vec<String>>>,
    pub cross_references: u64,
    pub cross_broken_link: u64,
    pub cross_orphan: u64,
    pub cross_weight: u64,
    /// `cross_weight / total_weight`, rounded to 4 decimals (0 when nothing crosses).
    pub share: f64,
}

/// References and findings between two services (both directions).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairCost {
    /// The two services, in name order.
    pub services: Vec<String>,
    pub references: u64,
    pub broken_link: u64,
    pub orphan: u64,
}
