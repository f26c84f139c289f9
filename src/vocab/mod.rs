//! The shared vocabulary at the bottom of the tree: the words every stage uses — why a fetch
//! failed and its class, points in time, the kinds of findings. It imports no stage.

pub mod exit;
mod finding;
mod reason;
mod time;

pub use finding::FindingKind;
pub use reason::{Class, Reason};
pub use time::Timestamp;
