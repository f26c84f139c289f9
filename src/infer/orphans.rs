//! Orphan rules: a kind every one of whose items the sample's links point at is proposed
//! `must_be_referenced_by` those links, as a proposal to confirm (a product may well exist
//! unreferenced); one that held for nearly all is written commented out.

use std::collections::BTreeSet;

use super::model::{count, OrphanP, Proposal};

/// Share of a kind's items that must be referenced for a commented-out proposal.
const NEARLY: f64 = 0.9;

pub fn propose(p: &mut Proposal) {
    for t in 0..p.kinds.len() {
        let incoming: Vec<usize> = (0..p.links.len())
            .filter(|&l| p.links[l].active && p.links[l].to == t && p.links[l].kind != t)
            .collect();
        let items = &p.kinds[t].ids;
        if incoming.is_empty() || items.len() < 2 {
            continue;
        }
        let referenced: BTreeSet<&String> = incoming
            .iter()
            .flat_map(|&l| p.links[l].referenced.iter())
            .filter(|id| items.contains(*id))
            .collect();
        let held = referenced.len();
        let total = items.len();
        let names: Vec<String> = incoming.iter().map(|&l| p.link_name(&p.links[l])).collect();
        let kname = &p.kinds[t].name;
        let evidence = if held == total {
            format!(
                "every one of the {} {kname} items in the sample is referenced by {}: a \
                 proposal to confirm (may a {kname} exist that nothing references?)",
                count(total),
                names.join(" or ")
            )
        } else {
            format!(
                "{} of {} {kname} items are referenced by {} ({} are not: orphans already, or \
                 a {kname} may exist unreferenced)",
                count(held),
                count(total),
                names.join(" or "),
                count(total - held)
            )
        };
        if held == total || held as f64 >= NEARLY * total as f64 {
            p.kinds[t].orphan = Some(OrphanP {
                links: names,
                active: held == total,
                evidence,
            });
        }
    }
}
