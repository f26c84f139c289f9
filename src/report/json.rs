//! The JSON report: pretty-printed, keys in schema order, byte-stable for the same findings.

use crate::model::Report;

/// Renders the report as pretty JSON with a trailing newline.
pub fn render_json(report: &Report) -> String {
    let mut s = serde_json::to_string_pretty(report).expect("a report always serializes");
    s.push('\n');
    s
}
