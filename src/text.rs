//! Plain-text layout shared by every table on a terminal: rows as aligned columns.

use std::fmt::Write;

/// Rows as aligned columns (two spaces apart); `right` says which columns align right.
pub fn grid(rows: &[Vec<String>], right: &[bool]) -> String {
    let mut out = String::new();
    let cols = rows[0].len();
    let widths: Vec<usize> = (0..cols)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    for row in rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            let pad = widths[c] - cell.chars().count();
            if c > 0 {
                line.push_str("  ");
            }
            if right[c] {
                line.push_str(&" ".repeat(pad));
                line.push_str(cell);
            } else {
                line.push_str(cell);
                if c + 1 < cols {
                    line.push_str(&" ".repeat(pad));
                }
            }
        }
        let _ = writeln!(out, "{line}");
    }
    out
}
