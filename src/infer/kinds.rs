//! Kinds: item URL templates per service (pages left out), list pages of bare records
//! (`collection` and `id_pointer`), JSON:API types and timestamps.

use std::collections::{BTreeMap, BTreeSet};

use percent_encoding::percent_decode_str;

use super::model::{count, CollectionP, KindP, ServiceP};
use super::sample::Sample;
use super::shape::{id_text, is_page, list, sanitize, self_url, singular};
use super::template::{cluster, common_ext, strip_ext, Seg, Template};
use crate::rules::PathTemplate;
use serde_json::Value;

/// The service a URL belongs to: the one with the longest base URL it lies under.
pub fn service_of(services: &[ServiceP], url: &url::Url) -> Option<usize> {
    services
        .iter()
        .enumerate()
        .filter(|(_, s)| {
            s.base_url.origin() == url.origin() && url.path().starts_with(s.base_url.path())
        })
        .max_by_key(|(_, s)| s.base_url.path().len())
        .map(|(i, _)| i)
}

/// Every kind the samples show, in service then template order, and notes on what was not
/// made a kind.
pub fn find(services: &[ServiceP], samples: &[Sample], notes: &mut Vec<String>) -> Vec<KindP> {
    let mut kinds = Vec::new();
    for (si, svc) in services.iter().enumerate() {
        let mine: Vec<usize> = (0..samples.len())
            .filter(|&i| samples[i].ok() && service_of(services, &samples[i].url) == Some(si))
            .collect();
        let plain: Vec<usize> = mine
            .iter()
            .copied()
            .filter(|&i| samples[i].url.query().is_none())
            .collect();
        let templates = cluster(plain.iter().map(|&i| samples[i].url.path()));
        for (t, n) in templates {
            match t.vars() {
                0 => continue,
                1 => {}
                v => {
                    notes.push(format!(
                        "{}: {} URLs like `{}` have {v} ids in their path; a kind has one `{{id}}`: not proposed",
                        svc.name,
                        count(n),
                        t.path("")
                    ));
                    continue;
                }
            }
            let members: Vec<usize> = plain
                .iter()
                .copied()
                .filter(|&i| t.matches(samples[i].url.path()).is_some())
                .collect();
            let pages = members
                .iter()
                .filter(|&&i| samples[i].json().is_some_and(|b| is_page(&b)))
                .count();
            if pages * 2 > members.len() {
                continue;
            }
            kinds.push(kind_from_template(si, svc, t, members, samples, notes));
        }
        collections(si, svc, &mine, samples, &mut kinds, notes);
    }
    name_kinds(services, &mut kinds);
    for k in &mut kinds {
        jsonapi_type(k, samples);
        timestamps(k, samples);
    }
    kinds
}

fn kind_from_template(
    si: usize,
    svc: &ServiceP,
    t: Template,
    items: Vec<usize>,
    samples: &[Sample],
    notes: &mut Vec<String>,
) -> KindP {
    let raw: Vec<&str> = items
        .iter()
        .filter_map(|&i| t.matches(samples[i].url.path()))
        .collect();
    let ext = common_ext(raw.iter().copied()).unwrap_or_default();
    // `{id}.json` when the rules accept an id inside a segment; else the whole segment.
    let in_segment = !ext.is_empty() && PathTemplate::parse(&t.path(&ext)).is_ok();
    let path = if in_segment { t.path(&ext) } else { t.path("") };
    let ids = raw
        .iter()
        .map(|r| {
            let r = if in_segment { strip_ext(r) } else { r };
            percent_decode_str(r).decode_utf8_lossy().into_owned()
        })
        .collect();
    let mut evidence = vec![format!(
        "{} item URLs answered like `{}` on {}",
        count(items.len()),
        t.path(""),
        svc.name
    )];
    if !ext.is_empty() && !in_segment {
        evidence.push(format!(
            "every id is written with `{ext}`: the template keeps the whole segment (this \
             build's rules take `{{id}}` as a whole segment), so id fields cannot be filled in"
        ));
        notes.push(format!(
            "`{}`: ids end in `{ext}`; id links to it are not proposed",
            t.path("")
        ));
    }
    KindP {
        name: String::new(),
        service: si,
        template: t,
        path,
        evidence,
        items,
        ids,
        listed: Vec::new(),
        collection: None,
        jsonapi_type: None,
        timestamp: None,
        timestamp_alt: Vec::new(),
        orphan: None,
    }
}

/// List pages whose records carry no URL of their own: the kind they list gets `collection`
/// and `id_pointer` (and is created, guessed from the page's path, when no item URL was seen).
fn collections(
    si: usize,
    svc: &ServiceP,
    mine: &[usize],
    samples: &[Sample],
    kinds: &mut Vec<KindP>,
    notes: &mut Vec<String>,
) {
    // list page path (query left out) → the samples of it
    let mut pages: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for &i in mine {
        let Some(body) = samples[i].json() else {
            continue;
        };
        if !is_page(&body) {
            continue;
        }
        let Some((_, elems)) = list(&body) else {
            continue;
        };
        let objects = elems.iter().filter(|e| e.is_object()).count();
        let linked = elems.iter().filter(|e| self_url(e).is_some()).count();
        if objects == 0 || linked * 2 > objects {
            continue;
        }
        // Only pages at a fixed path (a seed, or it with a query) list a kind.
        let path = samples[i].url.path();
        let fixed = !super::template::split(path)
            .iter()
            .any(|s| super::template::strong_id(s));
        if !fixed || kinds.iter().any(|k| k.template.matches(path).is_some()) {
            continue;
        }
        pages.entry(path.to_string()).or_default().push(i);
    }
    for (path, list_pages) in pages {
        let mut records: Vec<(usize, String)> = Vec::new();
        let mut bodies = Vec::new();
        for &i in &list_pages {
            let body = samples[i].json().expect("parsed above");
            let (ptr, elems) = list(&body).expect("a list");
            for (n, e) in elems.iter().enumerate() {
                if e.is_object() {
                    records.push((i, format!("{ptr}/{n}")));
                    bodies.push(e.clone());
                }
            }
        }
        let Some(id_pointer) = id_pointer(&bodies) else {
            notes.push(format!(
                "{}: the records listed at `{path}` have no member that reads as their id: \
                 no kind proposed for them",
                svc.name
            ));
            continue;
        };
        let ids: BTreeSet<String> = bodies
            .iter()
            .filter_map(|b| b.pointer(&id_pointer))
            .filter_map(id_text)
            .collect();
        let guess = guessed_template(&path);
        let target = kinds
            .iter()
            .position(|k| k.service == si && k.template == guess)
            .or_else(|| {
                kinds.iter().position(|k| {
                    k.service == si
                        && k.collection.is_none()
                        && ids.iter().filter(|id| k.ids.contains(*id)).count() * 10 >= ids.len() * 9
                })
            });
        let evidence = format!(
            "{} records on {} list page{} at `{path}` carry no URL of their own; their ids at `{id_pointer}`",
            count(records.len()),
            count(list_pages.len()),
            if list_pages.len() == 1 { "" } else { "s" }
        );
        let k = match target {
            Some(k) => {
                let matched = ids.iter().filter(|id| kinds[k].ids.contains(*id)).count();
                kinds[k].evidence.push(format!(
                    "{} of {} listed ids at `{path}` are ids of its item URLs",
                    count(matched),
                    count(ids.len())
                ));
                k
            }
            None => {
                let p = guess.path("");
                kinds.push(KindP {
                    name: String::new(),
                    service: si,
                    template: guess,
                    evidence: vec![format!(
                        "no item URL was seen: `{p}` is a guess from the list page `{path}` \
                         (the usual REST layout); check one item"
                    )],
                    path: p,
                    items: Vec::new(),
                    ids: BTreeSet::new(),
                    listed: Vec::new(),
                    collection: None,
                    jsonapi_type: None,
                    timestamp: None,
                    timestamp_alt: Vec::new(),
                    orphan: None,
                });
                kinds.len() - 1
            }
        };
        let kind = &mut kinds[k];
        kind.ids.extend(ids);
        kind.listed = records;
        kind.collection = Some(CollectionP {
            path,
            id_pointer,
            evidence,
        });
    }
}

/// `/customers` → `/customers/{id}`, `/orders/` → `/orders/{id}/`.
fn guessed_template(page: &str) -> Template {
    let mut segs: Vec<Seg> = super::template::split(page)
        .into_iter()
        .filter(|s| !s.is_empty())
        .map(|s| Seg::Lit(s.to_string()))
        .collect();
    segs.push(Seg::Var);
    if page.ends_with('/') && page.len() > 1 {
        segs.push(Seg::Lit(String::new()));
    }
    Template { segs }
}

/// Where listed records keep their id: `/id` when nearly all have one, else the first
/// member named like an id (`uuid`, `key`, `slug`, `code`, `*_id`) whose values are unique.
fn id_pointer(records: &[serde_json::Value]) -> Option<String> {
    let unique = |key: &str| {
        let vals: Vec<String> = records
            .iter()
            .filter_map(|r| r.get(key))
            .filter_map(id_text)
            .collect();
        let distinct: BTreeSet<&String> = vals.iter().collect();
        vals.len() * 10 >= records.len() * 9 && distinct.len() == vals.len()
    };
    let mut names: Vec<String> = vec![
        "id".into(),
        "uuid".into(),
        "key".into(),
        "slug".into(),
        "code".into(),
    ];
    if let Some(first) = records.first().and_then(|r| r.as_object()) {
        names.extend(
            first
                .keys()
                .filter(|k| k.ends_with("_id") || k.ends_with("Id"))
                .cloned(),
        );
    }
    names
        .into_iter()
        .find(|n| unique(n))
        .map(|n| format!("/{}", crate::rules::escape_token(&n)))
}

/// Kind names: the singular of the last word before `{id}`, else of the service; made
/// unique by prefixing the service.
fn name_kinds(services: &[ServiceP], kinds: &mut [KindP]) {
    let base: Vec<String> = kinds
        .iter()
        .map(|k| {
            sanitize(&singular(
                k.template.noun().unwrap_or(&services[k.service].name),
            ))
        })
        .collect();
    for (i, k) in kinds.iter_mut().enumerate() {
        let clash = base.iter().filter(|b| **b == base[i]).count() > 1;
        k.name = if clash {
            format!("{}-{}", services[k.service].name, base[i])
        } else {
            base[i].clone()
        };
    }
    // Still equal (one service, two templates with one noun): number them.
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for k in kinds.iter_mut() {
        let n = seen.entry(k.name.clone()).or_default();
        *n += 1;
        if *n > 1 {
            k.name = format!("{}-{n}", k.name);
        }
    }
}

/// The bodies a kind's members are read from: its fetched items, else its listed records.
pub fn bodies(k: &KindP, samples: &[Sample]) -> Vec<serde_json::Value> {
    if !k.items.is_empty() {
        return k.items.iter().filter_map(|&i| samples[i].json()).collect();
    }
    k.listed
        .iter()
        .filter_map(|(i, ptr)| samples[*i].json()?.pointer(ptr).cloned())
        .collect()
}

/// `jsonapi_type` when every item document says the same `data.type`.
fn jsonapi_type(k: &mut KindP, samples: &[Sample]) {
    let mut types: BTreeMap<String, usize> = BTreeMap::new();
    let mut docs = 0;
    for &i in &k.items {
        let Some(body) = samples[i].json() else {
            continue;
        };
        docs += 1;
        if let Some(t) = body
            .get("data")
            .filter(|d| d.is_object())
            .and_then(|d| d.get("type"))
            .and_then(Value::as_str)
        {
            *types.entry(t.to_string()).or_default() += 1;
        }
    }
    if types.len() == 1 {
        let (t, n) = types.into_iter().next().expect("one");
        if n * 10 >= docs * 9 {
            let ev = format!(
                "{} of {} item documents are JSON:API resources of `type: {t}`",
                count(n),
                count(docs)
            );
            k.jsonapi_type = Some((t, ev));
        }
    }
}

/// `timestamp`: an RFC 3339 member named like a creation (preferred) or update time, present
/// in nearly every item.
fn timestamps(k: &mut KindP, samples: &[Sample]) {
    let bodies = bodies(k, samples);
    if bodies.is_empty() {
        return;
    }
    let mut found: BTreeMap<String, usize> = BTreeMap::new();
    for b in &bodies {
        for (prefix, obj) in [
            ("", Some(b)),
            ("/properties", b.get("properties")),
            (
                "/data/attributes",
                b.get("data").and_then(|d| d.get("attributes")),
            ),
        ] {
            let Some(obj) = obj.and_then(|o| o.as_object()) else {
                continue;
            };
            for (name, v) in obj {
                let lower = name.to_ascii_lowercase();
                let named = ["creat", "updat", "modif", "insert", "timestamp"]
                    .iter()
                    .any(|w| lower.contains(w));
                let stamp = v
                    .as_str()
                    .is_some_and(|s| crate::vocab::Timestamp::parse(s).is_ok());
                if named && stamp {
                    *found
                        .entry(format!("{prefix}/{}", crate::rules::escape_token(name)))
                        .or_default() += 1;
                }
            }
        }
    }
    let mut cands: Vec<(String, String)> = found
        .into_iter()
        .filter(|(_, n)| n * 20 >= bodies.len() * 19)
        .map(|(p, n)| {
            let ev = format!(
                "{} of {} items hold an RFC 3339 time at `{p}`",
                count(n),
                count(bodies.len())
            );
            (p, ev)
        })
        .collect();
    // Creation times first: they date a record for the restore points.
    cands.sort_by_key(|(p, _)| (!p.to_ascii_lowercase().contains("creat"), p.clone()));
    let mut it = cands.into_iter();
    k.timestamp = it.next();
    k.timestamp_alt = it.collect();
}
