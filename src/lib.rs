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
//! The modules form layers, and each imports only from layers below it (`tests/layers.rs`
//! writes the order down and checks it):
//!
//! - shared vocabulary, imported by every stage: [`vocab`] (failure reasons and classes,
//!   timestamps, finding kinds, exit codes), [`canon`] (canonical URLs), [`intern`],
//!   [`json`] (the borrowing JSON reader), [`text`] (aligned columns);
//! - the stages, in the order data flows: [`rules`] compiles the rules file; [`source`]
//!   answers requests (live HTTP, a snapshot, a resumed recording); [`extract`] finds the
//!   links in each response; [`graph`] holds the reference graph that [`crawl`] builds from the
//!   seeds (fetch, retry, redirects, breaker; for `audit`, a scan on every core and a replay);
//!   [`record`] writes a crawl as a snapshot; [`infer`] proposes rules from what a snapshot
//!   or a crawl shows (`init`); [`analyze`] turns the graph into findings;
//!   [`model`] is the report document; [`plan`] adds compensations; [`explain`] adds causes,
//!   diffs, what-ifs and clusters; [`report`] renders the document; [`gate`] decides the exit
//!   code; [`serve`] plays a snapshot back as live services;
//! - on top, [`cli`] (the command line) and [`commands`], which string the stages together
//!   per command. `main.rs` only sets up the process and calls [`cli::run`].

pub mod analyze;
pub mod canon;
pub mod cli;
pub mod commands;
pub mod crawl;
pub mod error;
pub mod explain;
pub mod extract;
pub mod gate;
pub mod graph;
pub mod http;
pub mod infer;
pub mod intern;
pub mod json;
pub mod model;
pub mod plan;
pub mod record;
pub mod report;
pub mod rules;
pub mod serve;
pub mod source;
pub mod text;
pub mod vocab;

pub use error::Error;
pub use vocab::exit;
