//! `bacaudit init`: a rules file proposed from what the services show, read from a snapshot
//! or crawled live (from `--service NAME=URL` seeds or a partial rules file's services).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use url::Url;

use super::pipeline::live_crawl_options;
use super::{Output, Session};
use crate::crawl::{self, CrawlOptions, Fanout, Observer};
use crate::error::Error;
use crate::infer::{self, openapi, Collector, Inferred, Samples, ServiceP};
use crate::rules::{self, Rules};
use crate::source::{LiveOptions, LiveSource, Snapshot};
use crate::vocab::exit;

/// What `init` reads and where it writes.
#[derive(Debug, Clone, Default)]
pub struct InitOptions {
    /// Read this snapshot instead of crawling.
    pub snapshot: Option<PathBuf>,
    /// `NAME=URL`: a service and one of its seeds (its base URL is the seed's folder).
    pub services: Vec<String>,
    /// A partial rules file whose services are used (and crawled, without `snapshot`).
    pub rules: Option<PathBuf>,
    /// Where to write the rules (None: stdout).
    pub out: Option<PathBuf>,
    /// Overwrite `out` if it exists.
    pub force: bool,
    /// `NAME=FILE`: an OpenAPI 3 spec (JSON or YAML) of service NAME, read beside the data.
    pub openapi: Vec<String>,
    pub live: LiveOptions,
    pub crawl: CrawlOptions,
}

/// Runs `init`: exit 0 with the rules written (or printed), a summary on stderr.
pub async fn command(opts: &InitOptions, quiet: bool, session: &Session) -> Result<Output, Error> {
    if let Some(out) = &opts.out {
        if out.exists() && !opts.force {
            return Err(Error::Usage(format!(
                "{}: already exists; pass --force to overwrite it",
                out.display()
            )));
        }
    }
    let specs = opts
        .openapi
        .iter()
        .map(|s| {
            let (name, file) = s
                .split_once('=')
                .ok_or_else(|| Error::Usage(format!("--openapi `{s}`: expected NAME=FILE")))?;
            openapi::load(name, Path::new(file)).map_err(Error::Other)
        })
        .collect::<Result<Vec<_>, Error>>()?;
    let services = given_services(opts)?;
    let inferred = match &opts.snapshot {
        Some(path) => {
            let snapshot = Snapshot::load(path)?;
            let samples = Samples::from_snapshot(&snapshot);
            let source = format!("the snapshot {}", path.display());
            infer::infer_with(&samples, services.map(|(s, _)| s), &specs, &source)
                .map_err(infer_error)?
        }
        None => {
            let Some((services, text)) = services else {
                return Err(Error::Usage(
                    "init needs evidence: --snapshot PATH, or --service NAME=URL (repeat it) \
                     or --rules PARTIAL.toml to crawl live services (an --openapi spec says \
                     what may be there, the data what is)"
                        .into(),
                ));
            };
            live(opts, services, &text, &specs, session).await?
        }
    };
    if !quiet {
        session.console.finish();
        session.console.eprint(&inferred.summary());
    }
    match &opts.out {
        Some(out) => {
            write_new(out, &inferred.toml, opts.force)?;
            if !quiet {
                session
                    .console
                    .eprint(&format!("wrote {}\n", out.display()));
            }
            Ok(Output {
                exit_code: exit::OK,
                stdout: String::new(),
            })
        }
        None => Ok(Output {
            exit_code: exit::OK,
            stdout: inferred.toml,
        }),
    }
}

fn infer_error(e: infer::InferError) -> Error {
    Error::Other(e.to_string())
}

/// Creates `out` (only if missing, unless `force`) and writes `text`.
fn write_new(out: &Path, text: &str, force: bool) -> Result<(), Error> {
    use std::io::Write as _;
    let mut file = std::fs::OpenOptions::new();
    file.write(true);
    if force {
        file.create(true).truncate(true);
    } else {
        file.create_new(true);
    }
    file.open(out)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| Error::Other(format!("{}: cannot write the rules: {e}", out.display())))
}

/// The services named by `--service` and `--rules`, as proposals and as the rules text a live
/// crawl compiles (None: neither was given).
fn given_services(opts: &InitOptions) -> Result<Option<(Vec<ServiceP>, String)>, Error> {
    if opts.services.is_empty() && opts.rules.is_none() {
        return Ok(None);
    }
    let mut text = String::from("version = 1\n");
    let mut tables: std::collections::BTreeMap<String, String> = Default::default();
    let mut label = "a partial rules file".to_string();
    if let Some(path) = &opts.rules {
        let partial = std::fs::read_to_string(path).map_err(|e| {
            Error::Other(format!(
                "{}: cannot read the rules file: {e}",
                path.display()
            ))
        })?;
        // Checked by the real loader first, so a mistake names the partial file and line.
        rules::parse(path, &partial, &|_| Some("unused-by-init".into()))?;
        text = partial.clone();
        label = format!("{}", path.display());
        let table: toml::Table = toml::from_str(&partial)
            .map_err(|e| Error::Other(format!("{}: {e}", path.display())))?;
        if let Some(toml::Value::Table(services)) = table.get("services") {
            for (name, t) in services {
                let mut one = toml::Table::new();
                one.insert(name.clone(), t.clone());
                let mut wrap = toml::Table::new();
                wrap.insert("services".into(), toml::Value::Table(one));
                tables.insert(name.clone(), toml::to_string(&wrap).unwrap_or_default());
            }
        }
    }
    let mut seeds: std::collections::BTreeMap<String, Vec<Url>> = Default::default();
    for s in &opts.services {
        let (name, url) = s
            .split_once('=')
            .ok_or_else(|| Error::Usage(format!("--service `{s}`: expected NAME=URL")))?;
        let url = Url::parse(url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .ok_or_else(|| {
                Error::Usage(format!(
                    "--service `{s}`: `{url}` is not an absolute http(s) URL"
                ))
            })?;
        seeds.entry(name.to_string()).or_default().push(url);
    }
    for (name, urls) in &seeds {
        let base = base_of(urls);
        let list: Vec<String> = urls
            .iter()
            .map(|u| toml::Value::String(u.to_string()).to_string())
            .collect();
        text.push_str(&format!(
            "\n[services.{}]\nbase_url = {}\nseeds = [{}]\n",
            toml::Value::String(name.clone()),
            toml::Value::String(base.to_string()),
            list.join(", ")
        ));
    }
    let origin = opts.rules.clone().unwrap_or_else(|| "--service".into());
    let compiled = rules::parse(&origin, &text, &|_| Some("unused-by-init".into()))?;
    let services = compiled
        .services
        .iter()
        .map(|s| ServiceP {
            name: s.name.clone(),
            base_url: s.base_url.clone(),
            seeds: s.seeds.iter().map(|u| seed_text(&s.base_url, u)).collect(),
            evidence: if seeds.contains_key(&s.name) {
                "given by --service".into()
            } else {
                format!("given by {label}")
            },
            table: tables.get(&s.name).cloned(),
        })
        .collect();
    Ok(Some((services, text)))
}

/// The folder of the seeds' common path (`http://h/api/customers` → `http://h/api/`).
fn base_of(urls: &[Url]) -> Url {
    let mut base = urls[0].clone();
    base.set_query(None);
    base.set_fragment(None);
    let mut dir = base.path()[..=base.path().rfind('/').unwrap_or(0)].to_string();
    for u in &urls[1..] {
        while !u.path().starts_with(&dir) {
            dir.truncate(dir[..dir.len() - 1].rfind('/').map_or(1, |i| i + 1));
        }
    }
    base.set_path(&dir);
    base
}

/// A seed as the rules write it: its path on the service's origin.
fn seed_text(base: &Url, seed: &Url) -> String {
    if seed.origin() == base.origin() {
        match seed.query() {
            Some(q) => format!("{}?{q}", seed.path()),
            None => seed.path().to_string(),
        }
    } else {
        seed.to_string()
    }
}

/// Crawls the services (twice when the first pass finds list pages of bare records: the
/// second follows their `collection`) and proposes rules from what answered.
async fn live(
    opts: &InitOptions,
    services: Vec<ServiceP>,
    text: &str,
    specs: &[openapi::Spec],
    session: &Session,
) -> Result<Inferred, Error> {
    let path = opts.rules.clone().unwrap_or_else(|| "--service".into());
    let first = rules::parse(&path, text, &|name| std::env::var(name).ok())?;
    let samples = crawl_samples(opts, first, session).await?;
    let names: Vec<&str> = services.iter().map(|s| s.name.as_str()).collect();
    let source = format!("a live crawl of {}", names.join(", "));
    let inferred =
        infer::infer_with(&samples, Some(services.clone()), specs, &source).map_err(infer_error)?;
    if !inferred
        .proposal
        .kinds
        .iter()
        .any(|k| k.collection.is_some())
    {
        return Ok(inferred);
    }
    let second = rules::parse(&path, &inferred.toml, &|name| std::env::var(name).ok())?;
    let samples = crawl_samples(opts, second, session).await?;
    infer::infer_with(&samples, Some(services), specs, &source).map_err(infer_error)
}

/// One crawl; every service must answer something (else: exit 2 naming its seeds).
async fn crawl_samples(
    opts: &InitOptions,
    rules: Rules,
    session: &Session,
) -> Result<Samples, Error> {
    let rules = Arc::new(rules);
    let source = Arc::new(LiveSource::new(rules.clone(), opts.live.clone())?);
    source.start().await?;
    let collector = Arc::new(Collector::default());
    let observer: Arc<dyn Observer> =
        Arc::new(Fanout(vec![session.observer.clone(), collector.clone()]));
    let stop = (session.stop)();
    crawl::crawl(
        rules.clone(),
        source,
        live_crawl_options(&opts.crawl),
        observer,
        stop,
    )
    .await;
    let samples = collector.take();
    for s in &rules.services {
        let answered = samples.list.iter().any(|x| {
            x.url.origin() == s.base_url.origin() && x.url.path().starts_with(s.base_url.path())
        });
        if !answered {
            let seeds: Vec<&str> = s.seeds.iter().map(Url::as_str).collect();
            let why = collector
                .failure(&s.base_url)
                .map(|d| format!(": {d}"))
                .unwrap_or_default();
            return Err(Error::Other(format!(
                "service `{}` at {} did not answer (seeds: {}){why}",
                s.name,
                s.base_url,
                if seeds.is_empty() {
                    "none".to_string()
                } else {
                    seeds.join(", ")
                }
            )));
        }
    }
    Ok(samples)
}
