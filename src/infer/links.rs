//! Links: members that hold URLs of another kind (found by the extractor, every format, with
//! their rel where the format has one, `*` over arrays), and id members whose values are ids
//! of another kind (an inclusion test over the whole sample; a member's name only breaks
//! ties).

use std::collections::{BTreeMap, BTreeSet};

use url::Url;

use super::kinds::bodies;
use super::model::{count, LinkP, Proposal, Sel};
use super::sample::Sample;
use super::shape::{hint, hints_at, id_text, leaves, member_name, sanitize};
use crate::extract;
use crate::rules::{Pointer, Rules};

/// Share of a member's values that must be ids of the kind a name hints at.
const HINTED: f64 = 0.9;

#[derive(Default)]
struct UrlLinks {
    /// Sources per target kind.
    to: BTreeMap<usize, BTreeSet<String>>,
    /// Target ids per target kind.
    ids: BTreeMap<usize, BTreeSet<String>>,
}

/// Adds every link the samples show to the proposal. `rules` is the proposal compiled
/// without links (kinds in name order).
pub fn find(rules: &Rules, p: &mut Proposal, samples: &[Sample]) {
    let index: BTreeMap<&str, usize> = p
        .kinds
        .iter()
        .enumerate()
        .map(|(i, k)| (k.name.as_str(), i))
        .collect();
    let kind_and_id = |url: &Url| -> Option<(usize, String)> {
        let (k, id) = rules.kind_of(url)?;
        Some((*index.get(rules.kind(k).name.as_str())?, id))
    };
    let kind_of = |url: &Url| kind_and_id(url).map(|(k, _)| k);
    let mut groups: BTreeMap<(usize, Sel), UrlLinks> = BTreeMap::new();
    let mut sources: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();
    let mut header_links = 0usize;
    for s in samples.iter().filter(|s| s.ok()) {
        if let Some(k) = kind_of(&s.url) {
            sources.entry(k).or_default().insert(s.url.to_string());
        }
        let Some(body) = s.value() else {
            continue;
        };
        let found = extract::extract(rules, &s.url, &s.headers, Some(&body));
        let serde_body = (found.links.iter().any(|l| l.source == s.url)).then(|| body.to_serde());
        for l in found.links {
            let Some(k) = kind_of(&l.source) else {
                continue;
            };
            sources.entry(k).or_default().insert(l.source.to_string());
            let Some((t, id)) = Url::parse(&l.target).ok().and_then(|u| kind_and_id(&u)) else {
                continue;
            };
            let own = (l.source == s.url).then_some(serde_body.as_ref()).flatten();
            let Some(sel) = selector(&l.pointer, own) else {
                header_links += 1;
                continue;
            };
            let g = groups.entry((k, sel)).or_default();
            g.to.entry(t).or_default().insert(l.source.to_string());
            g.ids.entry(t).or_default().insert(id);
        }
    }
    if header_links > 0 {
        p.notes.push(format!(
            "{} links between items came in `Link` headers: followed and checked, not declared",
            count(header_links)
        ));
    }
    let mut taken: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();
    for ((k, sel), mut g) in groups {
        let total = sources.get(&k).map_or(0, BTreeSet::len);
        let kname = p.kinds[k].name.clone();
        let multi = g.to.len() > 1;
        for (t, srcs) in g.to {
            let what = match &sel {
                Sel::Rel(r) => format!("a `{r}` link"),
                Sel::Pointer(ptr) => format!("a URL at `{ptr}`"),
            };
            let mut evidence = format!(
                "{} of {} {kname} resources hold {what} to a {}",
                count(srcs.len()),
                count(total),
                p.kinds[t].name
            );
            if multi {
                evidence.push_str(
                    "; the same member also points at other kinds: the evidence cannot decide",
                );
            }
            let name = link_name(&sel, &p.kinds[t].name, taken.entry(k).or_default());
            p.links.push(LinkP {
                kind: k,
                name,
                selector: sel.clone(),
                to: t,
                active: !multi,
                evidence,
                referenced: g.ids.remove(&t).unwrap_or_default(),
            });
        }
    }
    id_links(p, samples, &mut taken);
}

/// The rules selector of a found link: its rel where the format names one (HAL `_links`,
/// JSON:API `relationships`/`links`, Siren `links[]`/`entities[]`), else its pointer with
/// array indices as `*`. None for a `Link` header.
fn selector(pointer: &str, body: Option<&serde_json::Value>) -> Option<Sel> {
    if pointer == extract::HEADER_POINTER {
        return None;
    }
    let tokens = Pointer::parse(pointer).ok()?.tokens;
    let t = |i: usize| tokens.get(i).map(String::as_str);
    let rel = match (t(0), t(1), t(2)) {
        (Some("_links"), Some(r), _) => Some(r.to_string()),
        (Some("data"), Some("relationships" | "links"), Some(r)) => Some(r.to_string()),
        (Some("relationships"), Some(r), _) => Some(r.to_string()),
        (Some(list @ ("links" | "entities")), Some(i), _) if i.parse::<usize>().is_ok() => body
            .and_then(|b| {
                b.get(list)?
                    .get(i.parse::<usize>().ok()?)?
                    .get("rel")?
                    .as_array()
                    .cloned()
            })
            .and_then(|rels| {
                rels.iter()
                    .filter_map(|r| r.as_str())
                    .find(|r| *r != "self" && *r != "item")
                    .map(str::to_string)
            }),
        (Some("links"), Some(r), _) => Some(r.to_string()),
        _ => None,
    };
    if let Some(r) = rel {
        return Some(Sel::Rel(r));
    }
    let pattern: String = tokens
        .iter()
        .map(|tok| {
            if !tok.is_empty() && tok.bytes().all(|b| b.is_ascii_digit()) {
                "/*".to_string()
            } else {
                format!("/{}", crate::rules::escape_token(tok))
            }
        })
        .collect();
    Some(Sel::Pointer(pattern))
}

/// A link's name on its kind: the rel, else what the member is named after, else the target
/// kind; unique on the kind.
fn link_name(sel: &Sel, target: &str, taken: &mut BTreeSet<String>) -> String {
    let base = match sel {
        Sel::Rel(r) => sanitize(r),
        Sel::Pointer(ptr) => {
            let h = sanitize(&hint(member_name(ptr)));
            if h == "x" {
                target.to_string()
            } else {
                h
            }
        }
    };
    let mut name = base.clone();
    let mut n = 1;
    while !taken.insert(name.clone()) {
        n += 1;
        name = format!("{base}-{n}");
    }
    name
}

/// Id members: for each kind's member holding scalar values, the kinds whose ids include
/// them all.
fn id_links(p: &mut Proposal, samples: &[Sample], taken: &mut BTreeMap<usize, BTreeSet<String>>) {
    for k in 0..p.kinds.len() {
        let kind = &p.kinds[k];
        let docs = bodies(kind, samples);
        if docs.is_empty() {
            continue;
        }
        let own_ids: Vec<Option<String>> = if kind.items.is_empty() {
            let ptr = kind.collection.as_ref().map(|c| c.id_pointer.clone());
            docs.iter()
                .map(|d| ptr.as_deref().and_then(|p| d.pointer(p)).and_then(id_text))
                .collect()
        } else {
            kind.items
                .iter()
                .map(|&i| {
                    kind.template.matches(samples[i].url.path()).map(|raw| {
                        percent_encoding::percent_decode_str(raw)
                            .decode_utf8_lossy()
                            .into_owned()
                    })
                })
                .collect()
        };
        // pattern → (documents holding it, documents where it is the own id, values)
        let mut members: BTreeMap<String, (usize, usize, BTreeSet<String>)> = BTreeMap::new();
        for (doc, own) in docs.iter().zip(&own_ids) {
            let mut seen_here: BTreeSet<String> = BTreeSet::new();
            for (pattern, v) in leaves(doc) {
                let Some(text) = id_text(v) else {
                    continue;
                };
                let m = members.entry(pattern.clone()).or_default();
                if seen_here.insert(pattern) {
                    m.0 += 1;
                    if own.as_deref() == Some(text.as_str()) {
                        m.1 += 1;
                    }
                }
                m.2.insert(text);
            }
        }
        let declared: BTreeSet<String> = p
            .links
            .iter()
            .filter(|l| l.kind == k)
            .filter_map(|l| match &l.selector {
                Sel::Pointer(ptr) => Some(ptr.clone()),
                Sel::Rel(_) => None,
            })
            .collect();
        let id_pointer = kind.collection.as_ref().map(|c| c.id_pointer.clone());
        let kname = kind.name.clone();
        for (pattern, (held, own, values)) in members {
            // The kind's own id (`/id`, `/properties/id`, `/data/id`): equal to the id in the
            // item's URL and named like an id of this kind. (A `customer_id` that happens to
            // equal the order's id everywhere is still a link.)
            let m = member_name(&pattern);
            let named_own = matches!(m, "id" | "uuid" | "key" | "slug" | "code")
                || hints_at(m, &kname)
                || id_pointer.as_deref() == Some(pattern.as_str());
            if (own * 10 >= held * 9 && named_own) || declared.contains(&pattern) {
                continue;
            }
            decide(p, k, &pattern, held, docs.len(), &values, taken);
        }
    }
}

/// One id member: which kind (if any) its values are ids of.
fn decide(
    p: &mut Proposal,
    k: usize,
    pattern: &str,
    held: usize,
    docs: usize,
    values: &BTreeSet<String>,
    taken: &mut BTreeMap<usize, BTreeSet<String>>,
) {
    let member = member_name(pattern);
    let inclusion = |t: usize| {
        let ids = &p.kinds[t].ids;
        values.iter().filter(|v| ids.contains(*v)).count()
    };
    let named = |t: usize| {
        hints_at(member, &p.kinds[t].name) || hints_at(member, &p.services[p.kinds[t].service].name)
    };
    let n = values.len();
    let full: Vec<usize> = (0..p.kinds.len())
        .filter(|&t| !p.kinds[t].ids.is_empty() && inclusion(t) == n)
        .collect();
    let hinted: Vec<(usize, usize)> = (0..p.kinds.len())
        .filter(|&t| named(t) && !p.kinds[t].ids.is_empty())
        .map(|t| (t, inclusion(t)))
        .filter(|&(_, inc)| inc as f64 >= HINTED * n as f64)
        .collect();
    let kname = p.kinds[k].name.clone();
    let sentence = |t: usize, inc: usize| {
        let mut s = format!(
            "{} of {} {kname} items hold `{pattern}`; {} of its {} distinct values are {} ids",
            count(held),
            count(docs),
            count(inc),
            count(n),
            p.kinds[t].name
        );
        if inc < n {
            s.push_str(&format!(
                " ({} match none: links broken already?)",
                count(n - inc)
            ));
        }
        s
    };
    let mut out: Vec<(usize, bool, String)> = Vec::new();
    match hinted.as_slice() {
        [(t, inc)] => {
            let mut ev = sentence(*t, *inc);
            let others: Vec<&str> = full
                .iter()
                .filter(|&&o| o != *t)
                .map(|&o| p.kinds[o].name.as_str())
                .collect();
            if !others.is_empty() {
                ev.push_str(&format!(
                    "; they are also ids of {} (the name `{member}` decides)",
                    others.join(", ")
                ));
            }
            out.push((*t, true, ev));
        }
        [_, _, ..] => {
            for &(t, inc) in &hinted {
                let ev = format!(
                    "{}; the name `{member}` fits several kinds: the evidence cannot decide",
                    sentence(t, inc)
                );
                out.push((t, false, ev));
            }
        }
        [] => match full.as_slice() {
            [t] if n >= 10 && n * 2 >= p.kinds[*t].ids.len() => {
                let ev = format!(
                    "{}; no name hint, but they cover most {} ids",
                    sentence(*t, n),
                    p.kinds[*t].name
                );
                out.push((*t, true, ev));
            }
            [] => {}
            _ if n < 5 => {}
            many => {
                for &t in many {
                    let ev = format!(
                        "{}; nothing in the name says which kind: the evidence cannot decide",
                        sentence(t, n)
                    );
                    out.push((t, false, ev));
                }
            }
        },
    }
    for (t, active, evidence) in out {
        let name = link_name(
            &Sel::Pointer(pattern.to_string()),
            &p.kinds[t].name,
            taken.entry(k).or_default(),
        );
        let referenced = values
            .iter()
            .filter(|v| p.kinds[t].ids.contains(*v))
            .cloned()
            .collect();
        p.links.push(LinkP {
            kind: k,
            name,
            selector: Sel::Pointer(pattern.to_string()),
            to: t,
            active,
            evidence,
            referenced,
        });
    }
}
