//! Explain why: restore points, the cause of each finding, snapshot diffs, what-if strategies
//! and backup clusters — the BAC theorem applied to one restore.

mod time;

pub use time::Timestamp;
