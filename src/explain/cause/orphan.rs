//! The cause of an orphan: the previous snapshot first (deleted before the disaster, or
//! unreferenced already), then the lost referrer's timestamp, then the orphan's own, then what
//! the restore points alone suggest.

use super::{t, Cx, EQUAL};
use crate::analyze::OrphanFinding;
use crate::explain::evidence::{presence, stamp, Presence};
use crate::explain::Referrers;
use crate::rules::ServiceId;
use crate::source::Snapshot;
use crate::vocab::Timestamp;

/// An orphan outside the services that must reference it.
struct Orphan<'a> {
    /// Its URL and label (`customer 3`).
    r: &'a str,
    rl: String,
    /// Its service and that service's name.
    b: ServiceId,
    bn: &'a str,
    /// The other services whose kinds must reference it, sorted.
    referring: Vec<ServiceId>,
    /// Those kinds' names (`order or invoice`).
    ref_kind: String,
    /// What the previous snapshot says about the orphan itself.
    before: Option<Presence>,
    /// References in the previous snapshot (when there is one).
    referrers: Option<&'a Referrers>,
}

/// The backups that tell the story: the restore point of the referring service with the
/// oldest one (`an`, `ra`), and the orphan's own service's (`rb`).
#[derive(Clone, Copy)]
struct Points<'a> {
    an: &'a str,
    ra: Timestamp,
    rb: Timestamp,
}

/// What the lost referrer tells when it does not decide the cause on its own: its label, and
/// notes on which timestamps are missing.
struct Trail {
    referrer: Option<String>,
    notes: Vec<String>,
}

impl Cx<'_> {
    pub(super) fn orphan(&self, o: &OrphanFinding) -> String {
        let k = match self.orphan_facts(o) {
            Ok(k) => k,
            Err(cause) => return cause,
        };
        if let Some(cause) = self.orphan_before(&k) {
            return cause;
        }
        let p = match self.orphan_points(&k) {
            Ok(p) => p,
            Err(cause) => return cause,
        };
        let trail = match self.lost_referrer(&k) {
            Ok(trail) => trail,
            Err(cause) => return cause,
        };
        if p.ra == p.rb {
            return EQUAL.into();
        }
        self.orphan_story(&k, p, trail)
    }

    /// The orphan's service and the services that must reference it; a cause when there is no
    /// other service to blame.
    fn orphan_facts<'a>(&'a self, o: &'a OrphanFinding) -> Result<Orphan<'a>, String> {
        let r = o.resource.as_str();
        let rl = self.label(r);
        let Some(b) = self.service_of(r) else {
            return Err("unknown (the resource is outside the declared services)".into());
        };
        let bn = self.name(b);
        let kind = self.rules.kind(o.of_kind);
        let mut referring: Vec<ServiceId> = kind
            .must_be_referenced_by
            .iter()
            .map(|&l| self.rules.kind(self.rules.link(l).kind).service)
            .filter(|&s| s != b)
            .collect();
        referring.sort_unstable();
        referring.dedup();
        let mut ref_kinds: Vec<&str> = kind
            .must_be_referenced_by
            .iter()
            .map(|&l| self.rules.kind(self.rules.link(l).kind).name.as_str())
            .collect();
        ref_kinds.dedup();
        let ref_kind = ref_kinds.join(" or ");
        if referring.is_empty() {
            return Err(format!(
                "unknown ({rl} and the {ref_kind} that must reference it are in the {bn} \
                 service, restored as one: this is not explained by the backups)"
            ));
        }
        let before = self.ev.previous.map(|p| presence(p, r));
        let referrers = self
            .ev
            .previous_referrers
            .filter(|_| self.ev.previous.is_some());
        Ok(Orphan {
            r,
            rl,
            b,
            bn,
            referring,
            ref_kind,
            before,
            referrers,
        })
    }

    /// When the previous snapshot shows the orphan predates the disaster: deleted (and brought
    /// back), or already unreferenced.
    fn orphan_before(&self, k: &Orphan<'_>) -> Option<String> {
        let (rl, bn) = (&k.rl, k.bn);
        if let Some(Presence::Deleted(st)) = k.before {
            let when = self
                .points
                .get(k.b)
                .map(|rb| format!(" ({})", t(rb)))
                .unwrap_or_default();
            return Some(format!(
                "{rl} was deleted before the disaster ({st} in the previous snapshot) and \
                 came back with the {bn} restore: the {bn} backup{when} is older than the \
                 deletion"
            ));
        }
        if let (Some(Presence::Ok), Some(refs)) = (k.before, k.referrers) {
            if refs.of(k.r).next().is_none() {
                let ref_kind = &k.ref_kind;
                return Some(format!(
                    "not the restore: the previous snapshot has no {ref_kind} referencing {rl} \
                     either: it was an orphan before the disaster"
                ));
            }
        }
        None
    }

    /// The restore points of the orphan's service and of the referring service that lost the
    /// most; a cause (`no_point`) when one is missing.
    fn orphan_points(&self, k: &Orphan<'_>) -> Result<Points<'_>, String> {
        let mut all = k.referring.clone();
        all.push(k.b);
        let Some(rb) = self.points.get(k.b) else {
            return Err(self.no_point(&all));
        };
        if k.referring.iter().any(|&s| self.points.get(s).is_none()) {
            return Err(self.no_point(&all));
        }
        // The referring service with the oldest backup lost the most.
        let a = *k
            .referring
            .iter()
            .min_by_key(|&&s| (self.points.get(s), s))
            .expect("not empty");
        let ra = self.points.get(a).expect("checked");
        Ok(Points {
            an: self.name(a),
            ra,
            rb,
        })
    }

    /// What referred to the orphan before the disaster and is gone now: a cause when its
    /// timestamp (or its survival) decides it, else what it tells.
    fn lost_referrer(&self, k: &Orphan<'_>) -> Result<Trail, String> {
        let (r, rl) = (k.r, &k.rl);
        let mut trail = Trail {
            referrer: None,
            notes: Vec::new(),
        };
        let (Some(prev), Some(refs)) = (self.ev.previous, k.referrers) else {
            let ref_kind = &k.ref_kind;
            trail.notes.push(format!(
                "pass --previous-snapshot to find the {ref_kind} that referenced {rl}"
            ));
            return Ok(trail);
        };
        let lost: Vec<&str> = refs
            .of(r)
            .filter(|p| {
                self.ev
                    .current
                    .is_none_or(|c| presence(c, p) != Presence::Ok)
            })
            .collect();
        for p in &lost {
            if let Some(cause) = self.stamped_referrer(k, prev, p) {
                return Err(cause);
            }
        }
        match lost.first() {
            Some(p) => {
                let pl = self.label(p);
                trail.notes.extend(stamp(self.rules, Some(prev), p).missing(
                    self.rules,
                    &pl,
                    "the previous snapshot",
                ));
                trail.referrer = Some(pl);
            }
            None => {
                if let Some(p) = refs.of(r).next() {
                    return Err(format!(
                        "unknown ({}, which referenced {rl} in the previous snapshot, still \
                         exists but no longer references it: the backups do not explain that)",
                        self.label(p)
                    ));
                }
            }
        }
        Ok(trail)
    }

    /// The cause told by lost referrer `p`'s timestamp in the previous snapshot, when it has
    /// one and a known service with a restore point.
    fn stamped_referrer(&self, k: &Orphan<'_>, prev: &Snapshot, p: &str) -> Option<String> {
        let (rl, bn) = (&k.rl, k.bn);
        let tp = stamp(self.rules, Some(prev), p).at()?;
        let pa = self.service_of(p)?;
        let rpa = self.points.get(pa)?;
        let (pl, pan, verb) = (self.label(p), self.name(pa), self.verb(p));
        Some(if tp > rpa {
            format!(
                "{pl}, which referenced {rl}, was {verb} at {} (previous snapshot), after the \
                 {pan} backup ({}); it was lost with the {pan} restore, while the {bn} service \
                 kept {rl}",
                t(tp),
                t(rpa)
            )
        } else {
            format!(
                "unknown ({pl}, which referenced {rl}, was {verb} at {} (previous snapshot), \
                 before the {pan} backup ({}): that backup should hold it; it was deleted or \
                 changed, or the backup is incomplete)",
                t(tp),
                t(rpa)
            )
        })
    }

    /// The cause from the orphan's own timestamp and the order of the backups (`ra != rb`).
    fn orphan_story(&self, k: &Orphan<'_>, p: Points<'_>, mut trail: Trail) -> String {
        let (rl, bn, an, ref_kind) = (&k.rl, k.bn, p.an, &k.ref_kind);
        let (ra, rb) = (p.ra, p.rb);
        let own = stamp(self.rules, self.ev.current, k.r);
        let verb = self.verb(k.r);
        if let Some(tr) = own.at() {
            if tr > rb {
                return format!(
                    "unknown ({rl} was {verb} at {}, after the {bn} backup ({}): it was written \
                     after the restore)",
                    t(tr),
                    t(rb)
                );
            }
        }
        // Two stories fit an orphan: its referrer was written after the referring service's
        // backup and lost (possible whatever the order of the backups), or, when the orphan's
        // service is the older one, the orphan was deleted with its referrer after its backup
        // and the restore brought it back. The previous snapshot rules the second out when it
        // has the orphan alive.
        let resurrection_possible = rb < ra && k.before != Some(Presence::Ok);
        if ra < rb {
            if let Some(tr) = own.at() {
                if tr > ra {
                    let came = if verb == "created" {
                        "came"
                    } else {
                        "most likely came"
                    };
                    let what = match &trail.referrer {
                        Some(p) => format!("{p}, which referenced it,"),
                        None => format!("the {ref_kind} that referenced it"),
                    };
                    return format!(
                        "{rl} was {verb} at {}, after the {an} backup ({}) and before the {bn} \
                         backup ({}): {what} {came} later and was lost with the {an} restore, \
                         while the {bn} service kept {rl}",
                        t(tr),
                        t(ra),
                        t(rb)
                    );
                }
                trail.notes.push(format!(
                    "{rl} was {verb} at {}, before the {an} backup, which neither confirms nor \
                     rules it out",
                    t(tr)
                ));
            } else {
                trail
                    .notes
                    .extend(own.missing(self.rules, rl, "the snapshot"));
            }
        }
        self.orphan_guess(k, p, &trail, resurrection_possible)
    }

    /// What the restore points alone suggest: the referrer was created after `ra` and lost,
    /// or (when `resurrection_possible`) that or the orphan was deleted and brought back.
    fn orphan_guess(
        &self,
        k: &Orphan<'_>,
        p: Points<'_>,
        trail: &Trail,
        resurrection_possible: bool,
    ) -> String {
        let (rl, bn, an, ref_kind) = (&k.rl, k.bn, p.an, &k.ref_kind);
        let (ra, rb) = (p.ra, p.rb);
        let who = match &trail.referrer {
            Some(p) => format!("{p}, which referenced {rl} in the previous snapshot,"),
            None => format!("the {ref_kind} that referenced {rl}"),
        };
        if !resurrection_possible {
            let older = if ra < rb {
                format!(", restored to a later point ({}),", t(rb))
            } else {
                format!(" (restored from {})", t(rb))
            };
            return format!(
                "{who} was most likely created after the {an} backup ({}) and lost with the {an} \
                 restore, while the {bn} service{older} kept {rl} (no timestamp confirms it: {})",
                t(ra),
                trail.notes.join("; ")
            );
        }
        format!(
            "{rl} was either deleted after the {bn} backup ({}) and before the {an} backup ({}), \
             with the {ref_kind} that referenced it, and brought back by the {bn} restore; or \
             {who} was created after the {an} backup and lost with the {an} restore ({})",
            t(rb),
            t(ra),
            if self.ev.previous.is_some() {
                "the previous snapshot does not tell which"
            } else {
                "pass --previous-snapshot to tell which"
            }
        )
    }
}
