//! Backup clusters: which services to back up together (synchronized backups), from the
//! cross-service reference graph, by deterministic agglomerative clustering.
//!
//! Each pair of services weighs its references in both directions, plus `finding_weight` for
//! each broken link or orphan between them (a reference that broke in this restore counts
//! again). Starting from one group per service, the two groups with the most weight between
//! them merge (ties: the alphabetically first pair), until one group is left or no weight
//! crosses groups any more. Every step is a level; the recommended level is the first whose
//! remaining cross-group weight is at most `threshold` of the total: the most independent
//! backups that leave little exposed.

use std::collections::BTreeMap;

use url::Url;

use crate::analyze::{Analysis, FindingBody};
use crate::model::{Clusters, Level, PairCost};
use crate::rules::Rules;
use crate::vocab::FindingKind;

/// Default share of the cross-service weight a recommendation may leave between groups.
pub const DEFAULT_THRESHOLD: f64 = 0.25;
/// Default weight a finding adds to its pair of services.
pub const DEFAULT_FINDING_WEIGHT: u64 = 1;

/// Counts between services, by unordered pair of names (from the analysis).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PairCounts {
    /// Every declared service, in name order.
    pub services: Vec<String>,
    pub pairs: BTreeMap<(String, String), PairCost>,
}

impl PairCounts {
    /// Cross-service references and broken links from the analysis' service edges; an orphan
    /// counts for the pair (its service, each other service holding a kind that must
    /// reference it).
    pub fn from_analysis(analysis: &Analysis, rules: &Rules) -> PairCounts {
        let mut counts = PairCounts {
            services: rules.services.iter().map(|s| s.name.clone()).collect(),
            pairs: BTreeMap::new(),
        };
        counts.services.sort();
        for e in &analysis.service_edges {
            if e.from != e.to {
                let p = counts.pair(&e.from, &e.to);
                p.references += e.references;
                p.broken_link += e.broken_link;
            }
        }
        for f in &analysis.findings {
            let (FindingBody::Orphan(o), FindingKind::Orphan) = (&f.body, f.kind) else {
                continue;
            };
            let Some(b) = Url::parse(&o.resource)
                .ok()
                .and_then(|u| rules.service_of(&u))
            else {
                continue;
            };
            let mut referring: Vec<u16> = rules
                .kind(o.of_kind)
                .must_be_referenced_by
                .iter()
                .map(|&l| rules.kind(rules.link(l).kind).service)
                .filter(|&a| a != b)
                .collect();
            referring.sort_unstable();
            referring.dedup();
            for a in referring {
                let (an, bn) = (rules.service(a).name.clone(), rules.service(b).name.clone());
                counts.pair(&an, &bn).orphan += 1;
            }
        }
        counts
    }

    /// The counts of a pair (created empty).
    pub fn pair(&mut self, a: &str, b: &str) -> &mut PairCost {
        let key = if a <= b {
            (a.to_string(), b.to_string())
        } else {
            (b.to_string(), a.to_string())
        };
        self.pairs.entry(key.clone()).or_insert_with(|| PairCost {
            services: vec![key.0, key.1],
            ..PairCost::default()
        })
    }
}

fn weight(p: &PairCost, finding_weight: u64) -> u64 {
    p.references + finding_weight * (p.broken_link + p.orphan)
}

/// Clusters the services of one audit.
pub fn cluster(counts: &PairCounts, threshold: f64, finding_weight: u64) -> Clusters {
    let total_weight: u64 = counts
        .pairs
        .values()
        .map(|p| weight(p, finding_weight))
        .sum();
    let mut groups: Vec<Vec<String>> = counts.services.iter().map(|s| vec![s.clone()]).collect();
    let mut levels = vec![level(counts, &groups, None, total_weight, finding_weight)];
    while groups.len() > 1 {
        let mut best: Option<(u64, usize, usize)> = None;
        for i in 0..groups.len() {
            for j in i + 1..groups.len() {
                let w: u64 = between(counts, &groups[i], &groups[j])
                    .map(|p| weight(p, finding_weight))
                    .sum();
                if best.is_none_or(|(bw, _, _)| w > bw) {
                    best = Some((w, i, j));
                }
            }
        }
        let Some((_, i, j)) = best.filter(|(w, _, _)| *w > 0) else {
            break;
        };
        let merged = vec![groups[i].clone(), groups[j].clone()];
        let second = groups.remove(j);
        let mut first = groups.remove(i);
        first.extend(second);
        first.sort();
        groups.push(first);
        groups.sort();
        levels.push(level(
            counts,
            &groups,
            Some(merged),
            total_weight,
            finding_weight,
        ));
    }
    let recommended = levels
        .iter()
        .position(|l| l.share <= threshold)
        .unwrap_or(levels.len() - 1);
    let chosen = &levels[recommended].groups;
    let remaining = cross_pairs(counts, chosen).cloned().collect();
    Clusters {
        threshold,
        finding_weight,
        total_weight,
        recommended,
        groups: chosen.clone(),
        remaining,
        levels,
    }
}

/// The pairs with one service in `a` and the other in `b`.
fn between<'c>(
    counts: &'c PairCounts,
    a: &'c [String],
    b: &'c [String],
) -> impl Iterator<Item = &'c PairCost> {
    counts.pairs.iter().filter_map(move |((x, y), p)| {
        let split = (a.contains(x) && b.contains(y)) || (a.contains(y) && b.contains(x));
        split.then_some(p)
    })
}

/// The pairs split across `groups`.
fn cross_pairs<'c>(
    counts: &'c PairCounts,
    groups: &'c [Vec<String>],
) -> impl Iterator<Item = &'c PairCost> {
    let group_of = move |s: &str| groups.iter().position(|g| g.iter().any(|n| n == s));
    counts
        .pairs
        .iter()
        .filter(move |((x, y), _)| group_of(x) != group_of(y))
        .map(|(_, p)| p)
}

fn level(
    counts: &PairCounts,
    groups: &[Vec<String>],
    merged: Option<Vec<Vec<String>>>,
    total_weight: u64,
    finding_weight: u64,
) -> Level {
    let mut l = Level {
        groups: groups.to_vec(),
        merged,
        cross_references: 0,
        cross_broken_link: 0,
        cross_orphan: 0,
        cross_weight: 0,
        share: 0.0,
    };
    for p in cross_pairs(counts, groups) {
        l.cross_references += p.references;
        l.cross_broken_link += p.broken_link;
        l.cross_orphan += p.orphan;
        l.cross_weight += weight(p, finding_weight);
    }
    if total_weight > 0 {
        l.share = (l.cross_weight as f64 / total_weight as f64 * 10_000.0).round() / 10_000.0;
    }
    l
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shop's shape: orders refer to everything, shipments back to orders.
    fn shop() -> PairCounts {
        let mut c = PairCounts {
            services: ["customers", "orders", "products", "shipments"]
                .map(String::from)
                .to_vec(),
            pairs: BTreeMap::new(),
        };
        *c.pair("orders", "customers") = PairCost {
            services: vec!["customers".into(), "orders".into()],
            references: 700,
            broken_link: 3,
            orphan: 5,
        };
        c.pair("orders", "products").references = 1383;
        c.pair("orders", "products").broken_link = 3;
        c.pair("shipments", "orders").references = 1397;
        c.pair("shipments", "orders").broken_link = 2;
        c
    }

    #[test]
    fn merges_heaviest_pairs_first_and_recommends_the_first_level_under_the_threshold() {
        let c = cluster(&shop(), 0.25, 1);
        assert_eq!(c.total_weight, 3480 + 13);
        let merged: Vec<Option<Vec<Vec<String>>>> =
            c.levels.iter().map(|l| l.merged.clone()).collect();
        let g = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            merged,
            vec![
                None,
                Some(vec![g(&["orders"]), g(&["shipments"])]),
                Some(vec![g(&["orders", "shipments"]), g(&["products"])]),
                Some(vec![
                    g(&["customers"]),
                    g(&["orders", "products", "shipments"])
                ]),
            ]
        );
        let shares: Vec<f64> = c.levels.iter().map(|l| l.share).collect();
        assert_eq!(shares, vec![1.0, 0.5995, 0.2027, 0.0]);
        assert_eq!(c.recommended, 2);
        assert_eq!(
            c.groups,
            vec![g(&["customers"]), g(&["orders", "products", "shipments"])]
        );
        assert_eq!(c.remaining.len(), 1);
        assert_eq!(c.remaining[0].references, 700);
        assert_eq!(c.levels[2].cross_orphan, 5);
    }

    #[test]
    fn independent_services_stay_apart_and_ties_are_alphabetical() {
        let mut c = PairCounts {
            services: ["a", "b", "c", "d"].map(String::from).to_vec(),
            pairs: BTreeMap::new(),
        };
        c.pair("a", "b").references = 5;
        c.pair("c", "d").references = 5;
        let r = cluster(&c, 0.0, 1);
        assert_eq!(r.levels.len(), 3);
        assert_eq!(
            r.levels[1].merged,
            Some(vec![vec!["a".to_string()], vec!["b".to_string()]])
        );
        assert_eq!(r.groups, vec![vec!["a", "b"], vec!["c", "d"]]);
        assert_eq!(r.levels[r.recommended].share, 0.0);
        let none = cluster(
            &PairCounts {
                services: vec!["x".into()],
                pairs: BTreeMap::new(),
            },
            0.25,
            1,
        );
        assert_eq!(none.recommended, 0);
        assert_eq!(none.total_weight, 0);
    }
}
