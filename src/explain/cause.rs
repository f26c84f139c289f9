//! The cause of each broken link and orphan, read from the restore points and the resources'
//! timestamps: a stage after analysis (Analysis + rules + restore points + evidence → one
//! sentence per finding id).
//!
//! The BAC theorem's cases, for a reference from S (service A, restored to `ra`) to T
//! (service B, restored to `rb`):
//!
//! | finding | restore points | what happened | confirmed by |
//! |---|---|---|---|
//! | broken link | `rb < ra` | T was created in B's amnesia interval (`rb`, `ra`]: lost with B, S kept by A | T's timestamp in the previous snapshot, or S's timestamp |
//! | broken link | `ra < rb` | T was deleted in (`ra`, `rb`]: A lost the change that followed | T (and S) deleted in the previous snapshot |
//! | orphan | `ra < rb` | the referrer was created after `ra`: lost with A, T kept by B | T's timestamp in (`ra`, `rb`], or the lost referrer's timestamp in the previous snapshot |
//! | orphan | `rb < ra` | either T was deleted after `rb` with its referrers and B's restore brought it back, or the referrer was created after `ra` and lost | T deleted in the previous snapshot (the first), or T alive there and its lost referrer's timestamp (the second) |
//! | either | `ra == rb` | not explained by the backups | — |
//!
//! Before any of these, the previous snapshot may show that the finding predates the disaster
//! (the link was already broken, the orphan already unreferenced): `not the restore`.
//!
//! Sentences come in four forms: an explanation the data confirms (no prefix); `… most
//! likely …` (or `… either … or …`) when only the restore points suggest it (the note in
//! brackets says which timestamp or snapshot would confirm it); `not the restore: …` when the data shows another cause (a 410
//! tombstone, a link already broken before the disaster); `unknown (…)` when the data cannot
//! tell or contradicts the backups.

mod orphan;

use std::collections::BTreeMap;

use url::Url;

use super::evidence::{presence, stamp, Evidence, Presence, Stamp};
use super::RestorePoints;
use crate::analyze::{Analysis, FindingBody, LinkFinding};
use crate::rules::{Rules, ServiceId};
use crate::vocab::FindingKind;
use crate::vocab::Reason;
use crate::vocab::Timestamp;

/// The cause of each explained finding, by finding id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Causes {
    by_id: BTreeMap<String, String>,
}

impl Causes {
    /// The cause of a finding.
    pub fn get(&self, id: &str) -> Option<&str> {
        self.by_id.get(id).map(String::as_str)
    }
    /// (finding id, cause) in id order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.by_id.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
    pub fn len(&self) -> usize {
        self.by_id.len()
    }
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

/// Gives every broken link and orphan a cause. Nothing when no service has a restore point
/// (the report then stays exactly as it was). Unresolved links get none: they are not data
/// loss.
pub fn explain(
    analysis: &Analysis,
    rules: &Rules,
    points: &RestorePoints,
    evidence: &Evidence<'_>,
) -> Causes {
    let mut causes = Causes::default();
    if points.is_empty() {
        return causes;
    }
    let cx = Cx {
        rules,
        points,
        ev: evidence,
    };
    for f in &analysis.findings {
        let cause = match (&f.body, f.kind) {
            (FindingBody::Link(l), FindingKind::BrokenLink) => cx.broken(l),
            (FindingBody::Orphan(o), FindingKind::Orphan) => cx.orphan(o),
            _ => continue,
        };
        causes.by_id.insert(f.id.clone(), cause);
    }
    causes
}

const EQUAL: &str =
    "unknown (both services restored to the same point: this is not explained by the backups)";

struct Cx<'a> {
    rules: &'a Rules,
    points: &'a RestorePoints,
    ev: &'a Evidence<'a>,
}

fn t(at: Timestamp) -> String {
    at.short()
}

impl Cx<'_> {
    /// `customer 3` for a URL of a declared kind, else the URL.
    fn label(&self, url: &str) -> String {
        Url::parse(url)
            .ok()
            .and_then(|u| self.rules.kind_of(&u))
            .map(|(k, id)| format!("{} {id}", self.rules.kind(k).name))
            .unwrap_or_else(|| url.to_string())
    }

    fn service_of(&self, url: &str) -> Option<ServiceId> {
        Url::parse(url).ok().and_then(|u| self.rules.service_of(&u))
    }

    fn name(&self, s: ServiceId) -> &str {
        &self.rules.service(s).name
    }

    /// `created` when the kind's timestamp pointer names a creation time, else
    /// `last updated`.
    fn verb(&self, url: &str) -> &'static str {
        let created = Url::parse(url)
            .ok()
            .and_then(|u| self.rules.kind_of(&u))
            .and_then(|(k, _)| self.rules.kind(k).timestamp.as_ref())
            .and_then(|p| p.tokens.last())
            .is_some_and(|tok| tok.to_ascii_lowercase().contains("creat"));
        if created {
            "created"
        } else {
            "last updated"
        }
    }

    fn no_point(&self, services: &[ServiceId]) -> String {
        let mut missing: Vec<&str> = services
            .iter()
            .filter(|&&s| self.points.get(s).is_none())
            .map(|&s| self.name(s))
            .collect();
        missing.dedup();
        let which = match missing.as_slice() {
            [one] => format!("the {one} service"),
            more => format!("the {} services", more.join(" and ")),
        };
        format!(
            "unknown (no restore point for {which}: set `restored_from` in the rules or pass \
             --restore-point {}=TIME)",
            missing.first().copied().unwrap_or("SERVICE")
        )
    }

    fn broken(&self, l: &LinkFinding) -> String {
        let Some(source) = l.source.as_deref() else {
            return "unknown (a seed did not answer: restore points explain references between \
                    resources, not a missing entry point)"
                .into();
        };
        let target = l.target.as_str();
        let (sl, tl) = (self.label(source), self.label(target));
        if !matches!(l.reason, Reason::NotFound | Reason::Gone) {
            return format!(
                "unknown ({tl} answered {}: that is not a lost resource)",
                l.detail
            );
        }
        let (Some(a), Some(b)) = (self.service_of(source), self.service_of(target)) else {
            return "unknown (the link leaves the declared services)".into();
        };
        if a == b {
            return format!(
                "unknown ({sl} and {tl} are both in the {} service, restored as one: this is not \
                 explained by the backups)",
                self.name(a)
            );
        }
        if let Some(prev) = self.ev.previous {
            if let (Presence::Ok, Presence::Deleted(st)) =
                (presence(prev, source), presence(prev, target))
            {
                return format!(
                    "not the restore: the previous snapshot already has {sl} referencing {tl}, \
                     which answered {st} there"
                );
            }
        }
        let (ra, rb) = (self.points.get(a), self.points.get(b));
        if l.reason == Reason::Gone {
            return self.tombstone(&sl, &tl, (a, ra), (b, rb));
        }
        let (Some(ra), Some(rb)) = (ra, rb) else {
            return self.no_point(&[a, b]);
        };
        let link = Link {
            source,
            target,
            sl,
            tl,
            a,
            b,
            ra,
            rb,
        };
        if ra == rb {
            EQUAL.into()
        } else if rb < ra {
            self.lost_target(&link)
        } else {
            self.stale_source(&link)
        }
    }

    /// A 410 Gone target `tl` of `sl`: deleted on purpose; the source's service `a` may have
    /// lost the change that followed when it was restored to the older point.
    fn tombstone(
        &self,
        sl: &str,
        tl: &str,
        (a, ra): (ServiceId, Option<Timestamp>),
        (b, rb): (ServiceId, Option<Timestamp>),
    ) -> String {
        let mut s = format!(
            "not the restore: {tl} answered 410 Gone, so it was deleted on purpose (a \
             tombstone), not lost in a restore; {sl} still references it"
        );
        if let (Some(ra), Some(rb)) = (ra, rb) {
            if ra < rb {
                s.push_str(&format!(
                    " (the {} service was restored to an older point ({}) than {} ({}) and \
                     may have lost the change that followed the deletion)",
                    self.name(a),
                    t(ra),
                    self.name(b),
                    t(rb)
                ));
            }
        }
        s
    }

    /// `rb < ra`: the target's service is the older one; the target was created in between.
    fn lost_target(&self, k: &Link<'_>) -> String {
        let (an, bn) = (self.name(k.a), self.name(k.b));
        let (ra, rb) = (t(k.ra), t(k.rb));
        let (sl, tl) = (&k.sl, &k.tl);
        let prev = self
            .ev
            .previous
            .map(|p| stamp(self.rules, Some(p), k.target));
        if let Some(tt) = prev.as_ref().and_then(Stamp::at) {
            return self.lost_target_at(k, tt);
        }
        let src = stamp(self.rules, self.ev.current, k.source);
        if let Some(ts) = src.at() {
            return self.lost_target_by_source(k, ts);
        }
        let mut notes = Vec::new();
        match &prev {
            None => notes.push(format!("pass --previous-snapshot to read {tl}'s")),
            Some(p) => notes.extend(p.missing(self.rules, tl, "the previous snapshot")),
        }
        notes.extend(src.missing(self.rules, sl, "the snapshot"));
        format!(
            "{tl} was most likely created after the {bn} backup ({rb}) and before the {an} \
             backup ({ra}): the {bn} service was restored to the older point and lost it, while \
             the {an} service kept {sl}, which references it (no timestamp confirms it: {})",
            notes.join("; ")
        )
    }

    /// `rb < ra`, and the target's timestamp `tt` in the previous snapshot.
    fn lost_target_at(&self, k: &Link<'_>, tt: Timestamp) -> String {
        let (an, bn) = (self.name(k.a), self.name(k.b));
        let (ra, rb) = (t(k.ra), t(k.rb));
        let (sl, tl) = (&k.sl, &k.tl);
        let verb = self.verb(k.target);
        let at = t(tt);
        if tt > k.rb && tt <= k.ra {
            format!(
                "{tl} was {verb} at {at} (previous snapshot), after the {bn} backup ({rb}) \
                 and before the {an} backup ({ra}); the {an} service kept {sl}, which \
                 references it"
            )
        } else if tt <= k.rb {
            format!(
                "unknown ({tl} was {verb} at {at} (previous snapshot), before the {bn} \
                 backup ({rb}): that backup should hold it; it was deleted, or the backup is \
                 incomplete)"
            )
        } else {
            format!(
                "unknown ({tl} was {verb} at {at} (previous snapshot), after both backups: \
                 {sl}, which references it, should have been lost with the {an} restore too, \
                 unless it was written after the restore)"
            )
        }
    }

    /// `rb < ra`, and the source's timestamp `ts` in the audited snapshot.
    fn lost_target_by_source(&self, k: &Link<'_>, ts: Timestamp) -> String {
        let (an, bn) = (self.name(k.a), self.name(k.b));
        let (ra, rb) = (t(k.ra), t(k.rb));
        let (sl, tl) = (&k.sl, &k.tl);
        let verb = self.verb(k.source);
        let at = t(ts);
        if ts > k.rb && ts <= k.ra {
            let was = if verb == "created" {
                "was"
            } else {
                "was most likely"
            };
            format!(
                "{tl} {was} created after the {bn} backup ({rb}) and before the {an} backup \
                 ({ra}); the {an} service kept {sl}, which references it ({sl} was {verb} \
                 at {at})"
            )
        } else if ts <= k.rb {
            format!(
                "unknown ({sl} was {verb} at {at}, before the {bn} backup ({rb}): {tl} most \
                 likely existed when that backup was taken, so the restore does not explain \
                 its loss; it was deleted, or the backup is incomplete)"
            )
        } else {
            format!(
                "unknown ({sl} was {verb} at {at}, after the {an} backup ({ra}): it was \
                 written after the restore, so the backups do not tell when {tl} was lost)"
            )
        }
    }

    /// `ra < rb`: the source's service is the older one; the target was deleted in between and
    /// the source's service lost the change that followed.
    fn stale_source(&self, k: &Link<'_>) -> String {
        let (an, bn) = (self.name(k.a), self.name(k.b));
        let (ra, rb) = (t(k.ra), t(k.rb));
        let (sl, tl) = (&k.sl, &k.tl);
        let Some(prev) = self.ev.previous else {
            return format!(
                "{tl} was most likely deleted after the {an} backup ({ra}) and before the {bn} \
                 backup ({rb}): the {an} service, restored to the older point, lost the change \
                 that followed (deleting or updating {sl}, which references it) (pass \
                 --previous-snapshot to confirm)"
            );
        };
        match (presence(prev, k.source), presence(prev, k.target)) {
            (Presence::Deleted(ss), Presence::Deleted(ts)) => format!(
                "{sl} was deleted before the disaster ({ss} in the previous snapshot), like {tl} \
                 ({ts}): the {an} service was restored to an older point ({ra}) than {bn} ({rb}) \
                 and brought {sl} back, with its reference to {tl}"
            ),
            (_, Presence::Deleted(ts)) => format!(
                "{tl} was deleted before the disaster ({ts} in the previous snapshot), most \
                 likely after the {an} backup ({ra}): the {an} service, restored to an older \
                 point than {bn} ({rb}), lost the change that followed (deleting or updating \
                 {sl}, which references it)"
            ),
            (_, Presence::Ok) => format!(
                "unknown ({tl} answered 2xx in the previous snapshot, and the {bn} service was \
                 restored to a later point ({rb}) than {an} ({ra}): the backups do not explain \
                 its loss)"
            ),
            (_, Presence::Unknown) => format!(
                "{tl} was most likely deleted after the {an} backup ({ra}) and before the {bn} \
                 backup ({rb}): the {an} service, restored to the older point, lost the change \
                 that followed (deleting or updating {sl}, which references it) (the previous \
                 snapshot does not record {tl})"
            ),
        }
    }
}

/// One broken reference between two services with known restore points.
struct Link<'a> {
    source: &'a str,
    target: &'a str,
    sl: String,
    tl: String,
    a: ServiceId,
    b: ServiceId,
    ra: Timestamp,
    rb: Timestamp,
}

#[cfg(test)]
mod tests;
