//! What the data can tell about one resource: its timestamp (read from a snapshot body by URL,
//! at the kind's `timestamp` pointer), whether it existed in the previous snapshot, and who
//! referred to it there.

use std::collections::{BTreeMap, BTreeSet};

use url::Url;

use crate::extract;
use crate::rules::{KindId, LinkId, Rules};
use crate::source::{Recorded, Snapshot};
use crate::vocab::Timestamp;

/// A resource's timestamp, or why there is none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stamp {
    At(Timestamp),
    /// The URL is of no declared kind.
    NoKind,
    /// The kind has no `timestamp` pointer.
    NoPointer(KindId),
    /// No snapshot to read it from (a live crawl).
    NotRead,
    /// The snapshot has no 2xx JSON body for the URL.
    NoBody,
    /// The body has no string at the pointer.
    NoValue(KindId),
    /// The value is not an RFC 3339 date-time.
    Bad(KindId, String),
}

impl Stamp {
    /// The timestamp, if one was read.
    pub fn at(&self) -> Option<Timestamp> {
        match self {
            Stamp::At(t) => Some(*t),
            _ => None,
        }
    }

    /// Why there is no timestamp, as a fragment about `label` (`None` when there is one).
    pub fn missing(&self, rules: &Rules, label: &str, whose: &str) -> Option<String> {
        let pointer = |k: &KindId| {
            rules
                .kind(*k)
                .timestamp
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default()
        };
        Some(match self {
            Stamp::At(_) => return None,
            Stamp::NoKind => format!("{label} is of no declared kind"),
            Stamp::NoPointer(k) => {
                format!("kind `{}` has no `timestamp` key", rules.kind(*k).name)
            }
            Stamp::NotRead => format!(
                "{label}: timestamps are not read during a live crawl (audit its --record \
                 snapshot to use them)"
            ),
            Stamp::NoBody => format!("{whose} has no recorded body for {label}"),
            Stamp::NoValue(k) => format!("{label} has no date-time at {}", pointer(k)),
            Stamp::Bad(k, v) => format!("{label}'s {} `{v}` is not RFC 3339", pointer(k)),
        })
    }
}

/// Reads the timestamp of a canonical URL from a snapshot: the body recorded for that URL
/// (2xx only), at its kind's `timestamp` pointer.
pub fn stamp(rules: &Rules, snapshot: Option<&dyn Recorded>, url: &str) -> Stamp {
    let Some((kind, _)) = Url::parse(url).ok().and_then(|u| rules.kind_of(&u)) else {
        return Stamp::NoKind;
    };
    let Some(pointer) = &rules.kind(kind).timestamp else {
        return Stamp::NoPointer(kind);
    };
    let Some(snapshot) = snapshot else {
        return Stamp::NotRead;
    };
    let Some(entry) = snapshot
        .recorded(url)
        .filter(|e| matches!(e.outcome, Ok(200..=299)))
    else {
        return Stamp::NoBody;
    };
    let Some(body) = entry.body_value() else {
        return Stamp::NoBody;
    };
    match pointer.get(&body) {
        Some(crate::json::Value::String(s)) => match Timestamp::parse(s) {
            Ok(t) => Stamp::At(t),
            Err(_) => Stamp::Bad(kind, s.to_string()),
        },
        Some(v) if !v.is_null() => Stamp::Bad(kind, v.to_string()),
        _ => Stamp::NoValue(kind),
    }
}

/// What a snapshot recorded for a URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// Answered 2xx.
    Ok,
    /// Answered 404 or 410 (the status).
    Deleted(u16),
    /// Not recorded, or recorded with another failure.
    Unknown,
}

/// What `snapshot` recorded for a canonical URL.
pub fn presence(snapshot: &dyn Recorded, url: &str) -> Presence {
    match snapshot.recorded(url).map(|e| e.outcome) {
        Some(Ok(200..=299)) => Presence::Ok,
        Some(Ok(s @ (404 | 410))) => Presence::Deleted(s),
        _ => Presence::Unknown,
    }
}

/// Who referred to whom in a snapshot, through the links of orphan rules: target URL → the
/// sources whose body links to it. Built from the recorded item bodies of the referring
/// kinds with the same link extraction as the crawl.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Referrers {
    by_target: BTreeMap<String, BTreeSet<String>>,
}

impl Referrers {
    /// Indexes the references that the orphan rules' links (`must_be_referenced_by`) make in
    /// `snapshot`.
    pub fn of_orphan_rules(rules: &Rules, snapshot: &Snapshot) -> Referrers {
        let links: BTreeSet<LinkId> = rules
            .kinds
            .iter()
            .flat_map(|k| k.must_be_referenced_by.iter().copied())
            .collect();
        Referrers::of_links(rules, snapshot, &links)
    }

    /// Indexes the references `links` make in `snapshot` (only 2xx JSON bodies of URLs whose
    /// kind declares one of the links are read).
    pub fn of_links(rules: &Rules, snapshot: &Snapshot, links: &BTreeSet<LinkId>) -> Referrers {
        let kinds: BTreeSet<KindId> = links.iter().map(|&l| rules.link(l).kind).collect();
        let mut by_target: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut urls: Vec<&String> = snapshot.entries.keys().collect();
        urls.sort();
        for url in urls {
            let entry = &snapshot.entries[url];
            if !matches!(entry.outcome, Ok(200..=299)) {
                continue;
            }
            let Ok(parsed) = Url::parse(url) else {
                continue;
            };
            if !rules
                .kind_of(&parsed)
                .is_some_and(|(k, _)| kinds.contains(&k))
            {
                continue;
            }
            let body = entry.body_value();
            let found = extract::extract(rules, &parsed, &entry.headers, body.as_ref());
            for l in found.links {
                if l.relation.is_some_and(|r| links.contains(&r)) {
                    by_target
                        .entry(l.target.to_string())
                        .or_default()
                        .insert(l.source.to_string());
                }
            }
        }
        Referrers { by_target }
    }

    /// Adds one reference (tests, hand-built evidence).
    pub fn insert(&mut self, target: &str, source: &str) {
        self.by_target
            .entry(target.to_string())
            .or_default()
            .insert(source.to_string());
    }

    /// The resources that referred to `target`, in URL order.
    pub fn of(&self, target: &str) -> impl Iterator<Item = &str> {
        self.by_target
            .get(target)
            .into_iter()
            .flatten()
            .map(String::as_str)
    }
}

/// Everything the cause stage may read besides the analysis.
#[derive(Debug, Clone, Copy, Default)]
pub struct Evidence<'a> {
    /// The audited snapshot: timestamps of the resources that survived the restore. `None`
    /// for a live crawl (its bodies are not kept).
    pub current: Option<&'a dyn Recorded>,
    /// The last good snapshot (`--previous-snapshot`): timestamps and state of lost resources.
    pub previous: Option<&'a Snapshot>,
    /// References of the orphan rules' links in the previous snapshot.
    pub previous_referrers: Option<&'a Referrers>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use std::path::Path;

    fn rules() -> Rules {
        crate::rules::parse(
            Path::new("r.toml"),
            "[services.c]\nbase_url = \"http://h:1/\"\n\
             [kinds.customer]\nservice = \"c\"\npath = \"/customers/{id}\"\ntimestamp = \"/created_at\"\n\
             [kinds.note]\nservice = \"c\"\npath = \"/notes/{id}\"\n",
            &|_| None,
        )
        .unwrap()
    }

    fn snap(text: &str) -> Snapshot {
        let mut s = Snapshot::default();
        s.add_text(Path::new("s.ndjson"), Bytes::from(text.to_string()))
            .unwrap();
        s
    }

    #[test]
    fn stamps_are_read_by_url_or_say_why_not() {
        let r = rules();
        let s = snap(concat!(
            r#"{"url":"http://h:1/customers/1","status":200,"body":{"created_at":"2026-11-20T11:00:00Z"}}"#,
            "\n",
            r#"{"url":"http://h:1/customers/2","status":200,"body":{"created_at":"soon"}}"#,
            "\n",
            r#"{"url":"http://h:1/customers/3","status":200,"body":{"id":3}}"#,
            "\n",
            r#"{"url":"http://h:1/customers/4","status":404}"#,
        ));
        let at = |u: &str| stamp(&r, Some(&s), u);
        assert_eq!(
            at("http://h:1/customers/1").at().unwrap().to_string(),
            "2026-11-20T11:00:00Z"
        );
        assert_eq!(at("http://h:1/customers/2"), Stamp::Bad(0, "soon".into()));
        assert_eq!(at("http://h:1/customers/3"), Stamp::NoValue(0));
        assert_eq!(at("http://h:1/customers/4"), Stamp::NoBody);
        assert_eq!(at("http://h:1/notes/1"), Stamp::NoPointer(1));
        assert_eq!(at("http://h:1/other"), Stamp::NoKind);
        assert_eq!(stamp(&r, None, "http://h:1/customers/1"), Stamp::NotRead);
        assert_eq!(
            at("http://h:1/customers/2")
                .missing(&r, "customer 2", "the snapshot")
                .unwrap(),
            "customer 2's /created_at `soon` is not RFC 3339"
        );
        assert_eq!(
            presence(&s, "http://h:1/customers/4"),
            Presence::Deleted(404)
        );
        assert_eq!(presence(&s, "http://h:1/customers/1"), Presence::Ok);
        assert_eq!(presence(&s, "http://h:1/customers/9"), Presence::Unknown);
    }
}
