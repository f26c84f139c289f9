//! The CI gate: which findings fail the run (`--fail-on`, thresholds, `--baseline`) and the
//! exit code that says so.

use std::collections::HashSet;
use std::path::Path;

use crate::model::Report;
use crate::model::ReportError;
use crate::vocab::exit;
use crate::vocab::FindingKind;

/// What fails a run.
#[derive(Debug, Clone)]
pub struct Gate {
    /// Finding kinds that fail the run (default `broken_link,orphan`).
    pub fail_on: Vec<FindingKind>,
    /// Ids of accepted findings.
    pub baseline: HashSet<String>,
    /// Broken links tolerated before failing (default 0).
    pub max_broken: u64,
    /// Orphans tolerated before failing (default 0).
    pub max_orphans: u64,
}

impl Gate {
    /// `fail_on` as `--fail-on` writes it (`broken_link,orphan`).
    pub fn fail_on_list(&self) -> String {
        let names: Vec<&str> = self.fail_on.iter().map(|k| k.as_str()).collect();
        names.join(",")
    }
}

impl Default for Gate {
    fn default() -> Self {
        Gate {
            fail_on: vec![FindingKind::BrokenLink, FindingKind::Orphan],
            baseline: HashSet::new(),
            max_broken: 0,
            max_orphans: 0,
        }
    }
}

/// Parses a `--fail-on` list (`broken_link,orphan`; `none` for nothing).
pub fn parse_fail_on(s: &str) -> Result<Vec<FindingKind>, String> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        if part == "none" {
            continue;
        }
        match FindingKind::parse(part) {
            Some(k) => out.push(k),
            None => {
                return Err(format!(
                    "unknown finding kind `{part}` in --fail-on (known: broken_link, orphan, unresolved, none)"
                ))
            }
        }
    }
    Ok(out)
}

/// Reads the accepted finding ids of a baseline: a JSON report (its `findings[].id`), a
/// baseline file written by `bacaudit baseline` (`{"ids": [...]}`) or a JSON array of ids.
pub fn load_baseline(path: &Path) -> Result<HashSet<String>, ReportError> {
    let bad = |message: String| ReportError::Baseline {
        path: path.to_path_buf(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| bad(format!("not JSON: {e}")))?;
    let ids: Option<Vec<&serde_json::Value>> = match &value {
        serde_json::Value::Array(a) => Some(a.iter().collect()),
        serde_json::Value::Object(o) => {
            if let Some(serde_json::Value::Array(f)) = o.get("findings") {
                Some(f.iter().filter_map(|f| f.get("id")).collect())
            } else if let Some(serde_json::Value::Array(ids)) = o.get("ids") {
                Some(ids.iter().collect())
            } else {
                None
            }
        }
        _ => None,
    };
    let ids = ids.ok_or_else(|| {
        bad("expected a bacaudit report (with `findings`), a baseline (with `ids`) or an array of ids".into())
    })?;
    ids.into_iter()
        .map(|v| {
            v.as_str()
                .map(str::to_string)
                .ok_or_else(|| bad(format!("finding id {v} is not a string")))
        })
        .collect()
}

/// A baseline file accepting every finding of a report: `{"schema", "ids": [...]}`, ids
/// sorted, one per line, so it diffs well in review.
pub fn baseline_file(report: &Path) -> Result<String, ReportError> {
    let r = Report::read(report)?;
    let mut ids: Vec<&str> = r.findings.iter().map(|f| f.id()).collect();
    ids.sort_unstable();
    ids.dedup();
    let value = serde_json::json!({"schema": "bacaudit/baseline/v1", "ids": ids});
    let mut s = serde_json::to_string_pretty(&value).expect("serializes");
    s.push('\n');
    Ok(s)
}

/// The verdict of the gate on a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub exit_code: i32,
    /// Findings that fail the run, per kind (baseline excluded).
    pub failing: Vec<(FindingKind, u64)>,
    /// Findings the baseline accepted.
    pub accepted: u64,
}

/// Judges a report: `1` when failing findings exceed their thresholds, `3` when nothing fails
/// but the audit is inconclusive (unresolved links, skipped checks, any warning), else `0`.
/// An interrupted run is `130` whatever it found.
pub fn judge(report: &Report, gate: &Gate) -> Verdict {
    let mut counts = [0u64; 3];
    let mut accepted = 0;
    for f in &report.findings {
        if gate.baseline.contains(f.id()) {
            accepted += 1;
            continue;
        }
        counts[f.kind() as usize] += 1;
    }
    let threshold = |k: FindingKind| match k {
        FindingKind::BrokenLink => gate.max_broken,
        FindingKind::Orphan => gate.max_orphans,
        FindingKind::Unresolved => 0,
    };
    let failing: Vec<(FindingKind, u64)> = gate
        .fail_on
        .iter()
        .map(|&k| (k, counts[k as usize]))
        .filter(|&(k, n)| n > threshold(k))
        .collect();
    let exit_code = if !report.complete {
        exit::INTERRUPTED
    } else if !failing.is_empty() {
        exit::FINDINGS
    } else if counts[FindingKind::Unresolved as usize] > 0 || !report.warnings.is_empty() {
        exit::INCONCLUSIVE
    } else {
        exit::OK
    };
    Verdict {
        exit_code,
        failing,
        accepted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fail_on_parses_and_rejects_unknown() {
        assert_eq!(
            parse_fail_on("broken_link, unresolved").unwrap(),
            vec![FindingKind::BrokenLink, FindingKind::Unresolved]
        );
        assert_eq!(parse_fail_on("none").unwrap(), vec![]);
        assert!(parse_fail_on("broken").unwrap_err().contains("`broken`"));
    }
}
