//! Services: the ones given (`--service`, a partial rules file), or one per origin seen in a
//! snapshot, with its base path, a name and its seeds (the list pages at fixed paths).

use std::collections::BTreeMap;

use url::Url;

use super::model::{count, ServiceP};
use super::sample::Sample;
use super::shape::{is_page, sanitize};
use super::template::split;

/// One service per origin of the answered samples, named after the first path segment most
/// of its URLs share (else host and port).
pub fn from_samples(samples: &[Sample]) -> Vec<ServiceP> {
    let mut by_origin: BTreeMap<String, Vec<&Sample>> = BTreeMap::new();
    for s in samples.iter().filter(|s| s.ok()) {
        by_origin
            .entry(s.url.origin().ascii_serialization())
            .or_default()
            .push(s);
    }
    let mut out: Vec<ServiceP> = Vec::new();
    for (origin, list) in by_origin {
        let base_path = common_dir(list.iter().map(|s| s.url.path()));
        let mut heads: BTreeMap<String, usize> = BTreeMap::new();
        for s in &list {
            let rest = &s.url.path()[base_path.len()..];
            if let Some(h) = rest.split('/').next().filter(|h| !h.is_empty()) {
                *heads.entry(h.to_string()).or_default() += 1;
            }
        }
        let url = Url::parse(&format!("{origin}{base_path}")).expect("origin and path");
        let name = heads
            .iter()
            .max_by_key(|(h, n)| (**n, std::cmp::Reverse(h.as_str())))
            .map(|(h, _)| sanitize(h))
            .unwrap_or_else(|| {
                sanitize(&format!(
                    "{}-{}",
                    url.host_str().unwrap_or("service"),
                    url.port_or_known_default().unwrap_or(0)
                ))
            });
        let mut seeds: Vec<String> = list
            .iter()
            .filter(|s| s.url.query().is_none())
            .filter(|s| s.json().is_some_and(|b| is_page(&b)))
            .filter(|s| {
                !split(s.url.path())
                    .iter()
                    .any(|seg| seg.bytes().any(|b| b.is_ascii_digit()))
            })
            .map(|s| s.url.path().to_string())
            .collect();
        seeds.sort();
        let evidence = format!(
            "{} answered URLs on {origin}{}",
            count(list.len()),
            if seeds.is_empty() {
                "; no list page at a fixed path was seen: add seeds"
            } else {
                ""
            }
        );
        out.push(ServiceP {
            name,
            base_url: url,
            seeds,
            evidence,
            table: None,
        });
    }
    dedupe_names(&mut out);
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// The longest directory (ending with `/`) every path lies under.
fn common_dir<'p>(paths: impl Iterator<Item = &'p str>) -> String {
    let mut common: Option<String> = None;
    for p in paths {
        let dir = &p[..=p.rfind('/').unwrap_or(0)];
        common = Some(match common {
            None => dir.to_string(),
            Some(c) => {
                let n = c
                    .char_indices()
                    .zip(dir.chars())
                    .take_while(|((_, a), b)| a == b)
                    .count();
                let shared = &c[..n];
                shared[..=shared.rfind('/').unwrap_or(0)].to_string()
            }
        });
    }
    common.unwrap_or_else(|| "/".into())
}

fn dedupe_names(services: &mut [ServiceP]) {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for s in services.iter_mut() {
        let n = seen.entry(s.name.clone()).or_default();
        *n += 1;
        if *n > 1 {
            s.name = format!(
                "{}-{}",
                s.name,
                s.base_url.port_or_known_default().unwrap_or(0)
            );
        }
    }
}
