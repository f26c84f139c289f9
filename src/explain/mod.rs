//! Explain why: restore points, the cause of each finding, snapshot diffs, what-if strategies
//! and backup clusters — the BAC theorem applied to one restore.
//!
//! - [`restore`]: per service, when its backup was taken (rules `restored_from`,
//!   `--restore-point`);
//! - [`evidence`]: what a snapshot tells about one resource (timestamp, presence, referrers);
//! - [`cause`]: the stage after analysis that gives each broken link and orphan a cause;
//! - [`clusters`]: which services to back up together;
//! - [`annotate`]: the stage `audit` and `crawl` run after the plan (causes, clusters);
//! - [`diff`], [`whatif`]: two snapshots compared; the BAC paper's strategies priced;

mod annotate;
pub mod cause;
pub mod clusters;
pub mod diff;
pub mod evidence;
pub mod restore;
pub mod whatif;

pub use annotate::{annotate, ExplainOptions};
pub use cause::{explain, Causes};
pub use clusters::{cluster, PairCounts};
pub use evidence::{Evidence, Referrers};
pub use restore::RestorePoints;
