//! bacaudit audits the link integrity of a microservice architecture after it was restored
//! from backups (the BAC theorem: Backed up independently + Available ⇒ not Consistent).
//!
//! One pipeline, two sources (a live crawl or a recorded snapshot):
//!
//! ```text
//! rules (TOML) ─┐
//!               ├─> crawl ──> graph ──> analyze ──> plan ──> report
//! source ───────┘   (fetch, retry,      (broken,    (compensating   (json, table, …)
//! (live / snapshot)  extract links)      orphans,    operations)
//!                                        unresolved)
//! ```
//!
//! - [`rules`] compiles the rules file into matchers and templates;
//! - [`source`] answers requests: [`source::SnapshotSource`] replays a recording;
//! - [`crawl`] walks from the seeds, classifies every fetch and builds the [`graph`];
//! - [`extract`] finds the links in each response (HAL, JSON:API, Siren, Collection+JSON,
//!   JSON-LD, `Link` headers, plain URLs, rule pointers);
//! - [`analyze`] turns the graph into findings, [`plan`] adds compensations, [`report`] renders
//!   them, [`gate`] decides the exit code; [`run`] strings the stages together per command.
//! - [`serve`] plays a snapshot back as live services, [`demo`] crawls a bundled one live.

pub mod analyze;
pub mod apply;
pub mod canon;
pub mod crawl;
pub mod demo;
pub mod error;
pub mod explain;
pub mod extract;
pub mod gate;
pub mod graph;
pub mod http;
pub mod intern;
pub mod json;
pub mod plan;
pub mod record;
pub mod report;
pub mod rules;
pub mod run;
pub mod serve;
pub mod source;
pub mod vocab;

pub use error::{exit, Error};
