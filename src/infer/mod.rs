//! Rules from evidence (`bacaudit init`): what the services answered, in a snapshot or a live
//! crawl, turned into a commented rules file.
//!
//! ```text
//! samples ─> services ─> kinds (path templates, list pages, JSON:API types, timestamps)
//!        ─> rules without links ─> links (URL members via the extractor, id members by
//!           inclusion) ─> [OpenAPI specs: confirm or comment out] ─> orphan rules
//!        ─> rules file (checked by the rules loader)
//! ```
//!
//! Every proposal keeps the evidence that chose it ([`model`]); `write` turns it into
//! comments. Nothing is guessed silently: what the evidence cannot decide is written
//! commented out, and what was seen but not understood is listed at the end of the file.

mod kinds;
mod links;
pub mod model;
pub mod openapi;
mod orphans;
mod sample;
mod services;
mod shape;
pub mod template;
mod write;

use std::path::Path;

pub use model::{Proposal, ServiceP};
pub use sample::{Collector, Sample, Samples};

/// Why nothing could be proposed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InferError {
    /// No answered exchange with a JSON body inside the services.
    #[error("{0}")]
    NoEvidence(String),
    /// An OpenAPI spec names a service that is not among the services.
    #[error("{0}")]
    UnknownService(String),
    /// The file written did not pass the rules loader (a bug: please report it).
    #[error("the proposed rules do not load ({0}); this is a bug in `init`")]
    Invalid(String),
}

/// What [`infer`] proposes: the rules file text and its counts.
#[derive(Debug, Clone)]
pub struct Inferred {
    pub toml: String,
    pub proposal: Proposal,
}

impl Inferred {
    /// One line per count: kinds, links, orphan rules, commented-out alternatives, notes.
    pub fn summary(&self) -> String {
        let p = &self.proposal;
        let active = p.links.iter().filter(|l| l.active).count();
        let orphans = p
            .kinds
            .iter()
            .filter(|k| k.orphan.as_ref().is_some_and(|o| o.active))
            .count();
        let undecided = p.links.len() - active
            + p.kinds
                .iter()
                .filter(|k| k.orphan.as_ref().is_some_and(|o| !o.active))
                .count();
        format!(
            "proposed {} services, {} kinds, {} links, {} orphan rules; {} alternatives \
             commented out; {} things seen but not understood (listed at the end of the file)\n",
            p.services.len(),
            p.kinds.len(),
            active,
            orphans,
            undecided,
            p.notes.len()
        )
    }
}

/// Proposes rules from `samples`. `given`: the services to use (from `--service` or a
/// partial rules file); None finds one per origin. `source` says where the samples came from
/// (written in the file's first comment).
pub fn infer(
    samples: &Samples,
    given: Option<Vec<ServiceP>>,
    source: &str,
) -> Result<Inferred, InferError> {
    infer_with(samples, given, &[], source)
}

/// [`infer`], with OpenAPI specs beside the data ([`openapi`]).
pub fn infer_with(
    samples: &Samples,
    given: Option<Vec<ServiceP>>,
    specs: &[openapi::Spec],
    source: &str,
) -> Result<Inferred, InferError> {
    let list = &samples.list;
    let services = match given {
        Some(s) => s,
        None => services::from_samples(list),
    };
    let mut p = Proposal {
        services,
        source: source.to_string(),
        samples: list.len(),
        ..Proposal::default()
    };
    for spec in specs {
        if !p.services.iter().any(|s| s.name == spec.service) {
            let known: Vec<&str> = p.services.iter().map(|s| s.name.as_str()).collect();
            return Err(InferError::UnknownService(format!(
                "--openapi {}={}: no service `{}` (known: {})",
                spec.service,
                spec.file.display(),
                spec.service,
                known.join(", ")
            )));
        }
    }
    if samples.unanswered > 0 {
        p.notes.push(format!(
            "{} fetches got no HTTP answer (timeouts, refused connections): not read",
            model::count(samples.unanswered)
        ));
    }
    let inside = list
        .iter()
        .filter(|s| {
            s.ok() && !s.body.is_empty() && kinds::service_of(&p.services, &s.url).is_some()
        })
        .count();
    if inside == 0 {
        return Err(InferError::NoEvidence(format!(
            "{source}: no answered JSON resource inside the services ({} exchanges read): \
             nothing to infer rules from",
            list.len()
        )));
    }
    let mut notes = Vec::new();
    p.kinds = kinds::find(&p.services, list, &mut notes);
    p.notes.extend(notes);
    openapi::kinds(&mut p, specs);
    let first = compile(&write::toml(&p, false))?;
    links::find(&first, &mut p, list);
    openapi::links(&mut p, specs);
    orphans::propose(&mut p);
    let toml = write::toml(&p, true);
    compile(&toml)?;
    Ok(Inferred { toml, proposal: p })
}

/// Compiles a proposed file with the real rules loader. Credentials named by a partial rules
/// file are not read (nothing is requested with these rules).
fn compile(text: &str) -> Result<crate::rules::Rules, InferError> {
    crate::rules::parse(Path::new("proposed.toml"), text, &|_| {
        Some("unused-by-init".to_string())
    })
    .map_err(|e| InferError::Invalid(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Samples from snapshot lines.
    fn samples(lines: &[String]) -> Samples {
        let mut snap = crate::source::Snapshot::default();
        snap.add_text(Path::new("t.ndjson"), lines.join("\n").into())
            .unwrap();
        Samples::from_snapshot(&snap)
    }

    fn line(url: &str, body: serde_json::Value) -> String {
        serde_json::json!({"url": url, "status": 200, "body": body}).to_string()
    }

    /// Two kinds share one id space and a member no name ties to either: both links are
    /// written commented out, saying the evidence cannot decide; a UUID template with a
    /// trailing slash and a slug template are found; the file loads.
    #[test]
    fn a_shared_id_space_is_left_undecided() {
        let mut lines = Vec::new();
        for i in 1..=12 {
            lines.push(line(
                &format!("http://127.0.0.1:9001/things/{i}/"),
                serde_json::json!({"id": i, "ref": 13 - i}),
            ));
            lines.push(line(
                &format!("http://127.0.0.1:9002/widgets/{i}"),
                serde_json::json!({"id": i}),
            ));
        }
        for (n, slug) in ["red-kettle", "blue-lamp", "steel-drill"]
            .iter()
            .enumerate()
        {
            lines.push(line(
                &format!("http://127.0.0.1:9003/products/{slug}"),
                serde_json::json!({"name": slug, "n": n}),
            ));
        }
        lines.push(line(
            "http://127.0.0.1:9004/carts/0b0a1c1e-7c36-4a4e-9d1a-52d2d6c7f001",
            serde_json::json!({"product": "http://127.0.0.1:9003/products/blue-lamp"}),
        ));
        let out = infer(&samples(&lines), None, "a test").unwrap();
        let t = &out.toml;
        assert!(t.contains("path = \"/things/{id}/\""), "{t}");
        assert!(t.contains("path = \"/products/{id}\""), "{t}");
        assert!(
            t.contains("path = \"/carts/{id}\""),
            "a lone UUID is an id: {t}"
        );
        assert!(t.contains("# [kinds.thing.links.ref]"), "{t}");
        assert!(t.contains("# [kinds.thing.links.ref-2]"), "{t}");
        assert!(t.contains("the evidence cannot decide"), "{t}");
        assert!(t.contains("[kinds.cart.links.product]\n"), "{t}");
        assert!(t.contains("pointer = \"/product\""), "{t}");
        let active: Vec<&str> = out
            .proposal
            .links
            .iter()
            .filter(|l| l.active)
            .map(|l| l.name.as_str())
            .collect();
        assert_eq!(active, ["product"]);
    }

    #[test]
    fn json_suffixes_are_part_of_the_template() {
        let lines: Vec<String> = (1..=3)
            .map(|i| {
                line(
                    &format!("http://127.0.0.1:9001/customers/{i}.json"),
                    serde_json::json!({"id": i}),
                )
            })
            .collect();
        let out = infer(&samples(&lines), None, "a test").unwrap();
        assert!(
            out.toml.contains("path = \"/customers/{id}.json\""),
            "{}",
            out.toml
        );
    }

    #[test]
    fn no_evidence_is_an_error() {
        let err = infer(&samples(&[]), None, "the snapshot x.ndjson").unwrap_err();
        assert!(err
            .to_string()
            .starts_with("the snapshot x.ndjson: no answered JSON"));
    }
}
