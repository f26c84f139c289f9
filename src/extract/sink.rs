//! Collected links: interned sources, deduplication on (source, pointer, target) without
//! quadratic scans, relation merging, and the final in-scope / out-of-scope split.

use std::hash::{BuildHasher, Hash, Hasher};

use rustc_hash::{FxBuildHasher, FxHashMap};

use url::Url;

use super::{Extracted, FoundLink};
use crate::intern::Texts;
use crate::rules::{LinkId, Rules};

const NONE: u32 = u32::MAX;

struct Entry {
    source: u32,
    /// Pointer and canonical target URL, as ranges of `Sink::text`.
    pointer: (u32, u32),
    target: (u32, u32),
    relation: Option<LinkId>,
    /// Next entry with the same hash ([`NONE`] ends the chain).
    next: u32,
}

/// Links in the order first found, each (source, pointer, target) once. Pointers and targets
/// live in one text buffer, and a sink can be cleared and reused: extracting a body allocates
/// nothing per link once the buffers have grown.
#[derive(Default)]
pub(super) struct Sink {
    /// Source URLs (canonical text), by id.
    sources: Texts,
    /// Source ids by URL, once there are too many sources to compare one by one.
    source_ids: FxHashMap<String, u32>,
    /// Each source's `Url` when it was at hand (for [`Sink::finish`], which hands out `Url`s).
    source_urls: Vec<Option<Url>>,
    entries: Vec<Entry>,
    text: String,
    /// Hash of (source, pointer, target) → first entry of its chain.
    heads: FxHashMap<u64, u32>,
}

/// A link as the sink hands it out.
pub struct LinkRef<'a> {
    /// Canonical URL text.
    pub source: &'a str,
    pub pointer: &'a str,
    /// Canonical URL text.
    pub target: &'a str,
    pub relation: Option<LinkId>,
    /// The target is inside a declared service.
    pub in_scope: bool,
}

impl Sink {
    /// Forgets every source and link, keeping the room.
    pub(super) fn clear(&mut self) {
        self.sources.clear();
        self.source_ids.clear();
        self.source_urls.clear();
        self.entries.clear();
        self.text.clear();
        self.heads.clear();
    }

    /// [`Sink::intern`] for a parsed URL, kept for [`Sink::finish`].
    pub(super) fn intern_url(&mut self, url: Url) -> u32 {
        let id = self.intern(url.as_str());
        if let Some(slot) = self.source_urls.get_mut(id as usize) {
            if slot.is_none() {
                *slot = Some(url);
            }
        }
        id
    }

    /// The id of a source URL, canonical (the same URL always gets the same id).
    pub(super) fn intern(&mut self, url: &str) -> u32 {
        const FEW: usize = 16;
        let n = self.sources.len();
        if n <= FEW {
            if let Some(id) = (0..n as u32).find(|&id| self.source(id) == url) {
                return id;
            }
        } else if let Some(&id) = self.source_ids.get(url) {
            return id;
        }
        let id = self.sources.push(url);
        self.source_urls.push(None);
        if n == FEW {
            // From now on by hash: a list page can hold hundreds of representations.
            for id in 0..=n as u32 {
                self.source_ids.insert(self.source(id).to_string(), id);
            }
        } else if n > FEW {
            self.source_ids.insert(url.to_string(), id);
        }
        id
    }

    /// A source as a `Url`: kept if it was at hand, else parsed.
    pub(super) fn source_url(&self, id: u32) -> std::borrow::Cow<'_, Url> {
        match &self.source_urls[id as usize] {
            Some(u) => std::borrow::Cow::Borrowed(u),
            None => std::borrow::Cow::Owned(
                Url::parse(self.source(id)).expect("a source is a canonical URL"),
            ),
        }
    }

    pub(super) fn source(&self, id: u32) -> &str {
        self.sources.get(id as usize)
    }

    fn text(&self, (start, end): (u32, u32)) -> &str {
        &self.text[start as usize..end as usize]
    }

    /// Adds a link unless it points at its own source or is already known; a known one gains
    /// `relation` if it had none.
    pub(super) fn add(
        &mut self,
        source: u32,
        pointer: &str,
        target: &str,
        relation: Option<LinkId>,
    ) {
        if target == self.source(source) {
            return;
        }
        let mut h = FxBuildHasher.build_hasher();
        source.hash(&mut h);
        pointer.hash(&mut h);
        target.hash(&mut h);
        let hash = h.finish();

        let head = self.heads.get(&hash).copied().unwrap_or(NONE);
        let mut i = head;
        while i != NONE {
            let e = &self.entries[i as usize];
            if e.source == source
                && self.text(e.pointer) == pointer
                && self.text(e.target) == target
            {
                let e = &mut self.entries[i as usize];
                if e.relation.is_none() {
                    e.relation = relation;
                }
                return;
            }
            i = e.next;
        }
        let Ok(id) = u32::try_from(self.entries.len()) else {
            return;
        };
        let (Ok(start), Ok(len)) = (
            u32::try_from(self.text.len()),
            u32::try_from(pointer.len() + target.len()),
        ) else {
            return;
        };
        if id == NONE || start.checked_add(len).is_none() {
            return;
        }
        self.text.push_str(pointer);
        self.text.push_str(target);
        let mid = start + pointer.len() as u32;
        self.entries.push(Entry {
            source,
            pointer: (start, mid),
            target: (mid, start + len),
            relation,
            next: head,
        });
        self.heads.insert(hash, id);
    }

    /// Hands out every link in the order first found, with its scope: inside a declared
    /// service or outside every one.
    pub(super) fn each(&self, rules: &Rules, mut out: impl FnMut(LinkRef<'_>)) {
        self.each_from(rules, |_, l| out(l));
    }

    /// [`Sink::each`], with each link's source id.
    fn each_from(&self, rules: &Rules, mut out: impl FnMut(u32, LinkRef<'_>)) {
        for e in &self.entries {
            let target = self.text(e.target);
            out(
                e.source,
                LinkRef {
                    source: self.source(e.source),
                    pointer: self.text(e.pointer),
                    target,
                    relation: e.relation,
                    in_scope: rules.service_of_str(target).is_some(),
                },
            );
        }
    }

    /// Splits the links by scope: inside a declared service, or outside every one.
    pub(super) fn finish(self, rules: &Rules) -> Extracted {
        let mut out = Extracted::default();
        // Each source parsed once (if it was not at hand), however many links it has.
        let sources: Vec<Url> = (0..self.sources.len() as u32)
            .map(|id| self.source_url(id).into_owned())
            .collect();
        self.each_from(rules, |source, l| {
            let link = FoundLink {
                source: sources[source as usize].clone(),
                pointer: l.pointer.to_string(),
                target: l.target.to_string(),
                relation: l.relation,
            };
            if l.in_scope {
                out.links.push(link);
            } else {
                out.out_of_scope.push(link);
            }
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::testutil::shop;

    #[test]
    fn dedups_merges_relation_and_drops_self_links() {
        let mut s = Sink::default();
        let a = s.intern("http://127.0.0.1:8082/orders/1");
        assert_eq!(s.intern("http://127.0.0.1:8082/orders/1"), a);
        let c = Url::parse("http://127.0.0.1:8081/customers/3").unwrap();
        s.add(a, "/customer", c.as_str(), None);
        s.add(a, "/customer", c.as_str(), Some(4));
        s.add(a, "/customer", c.as_str(), Some(5));
        s.add(a, "/other", c.as_str(), None);
        s.add(a, "/self", "http://127.0.0.1:8082/orders/1", None);
        s.add(a, "/x", "http://elsewhere.example/y", None);
        let out = s.finish(&shop());
        let got: Vec<_> = out
            .links
            .iter()
            .map(|l| (l.pointer.as_str(), l.relation))
            .collect();
        assert_eq!(got, vec![("/customer", Some(4)), ("/other", None)]);
        assert_eq!(out.out_of_scope.len(), 1);
        assert_eq!(
            out.out_of_scope[0].target.as_str(),
            "http://elsewhere.example/y"
        );
    }

    #[test]
    fn many_distinct_links_stay_distinct() {
        let mut s = Sink::default();
        let a = s.intern("http://127.0.0.1:8082/orders");
        for i in 0..20_000 {
            let t = format!("http://127.0.0.1:8081/customers/{}", i % 10_000);
            s.add(a, &format!("/{i}"), &t, None);
            s.add(a, &format!("/{i}"), &t, None);
        }
        assert_eq!(s.finish(&shop()).links.len(), 20_000);
    }

    #[test]
    fn sources_keep_their_ids_past_the_few_compared_one_by_one() {
        let mut s = Sink::default();
        let urls: Vec<String> = (0..40)
            .map(|i| format!("http://127.0.0.1:8082/orders/{i}"))
            .collect();
        let ids: Vec<u32> = urls.iter().map(|u| s.intern(u)).collect();
        assert_eq!(ids, (0..40).collect::<Vec<u32>>());
        for (i, u) in urls.iter().enumerate().rev() {
            assert_eq!(s.intern(u), i as u32);
            assert_eq!(s.source(i as u32), u);
        }
        s.clear();
        assert_eq!(s.intern(&urls[30]), 0);
        assert_eq!(s.intern(&urls[3]), 1);
    }
}
