//! Exit codes (DESIGN.md "CLI — contract"): what the process tells its caller.

/// Nothing failing.
pub const OK: i32 = 0;
/// Failing findings (per `--fail-on`, baseline excluded).
pub const FINDINGS: i32 = 1;
/// Usage, rules or input error: nothing audited.
pub const INPUT: i32 = 2;
/// Nothing failing, but some links unresolved or orphan checks skipped.
pub const INCONCLUSIVE: i32 = 3;
/// Interrupted by Ctrl-C or SIGTERM; the partial report was written.
pub const INTERRUPTED: i32 = 130;
