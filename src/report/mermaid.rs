//! The service graph as a Mermaid flowchart (`.mmd`): services with their resource and orphan
//! counts, edges with reference / broken / unresolved counts; broken edges red.

use std::fmt::Write as _;

use super::view::{edge_lines, findings_line, node_lines, source_line, ServiceGraph, AMBER, RED};
use crate::model::Report;

/// Renders the service graph as a Mermaid `flowchart`.
pub fn render_mermaid(r: &Report) -> String {
    let g = ServiceGraph::new(r);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "%% bacaudit service graph: {}",
        one_line(&source_line(r))
    );
    let _ = writeln!(out, "%% {}", findings_line(r));
    out.push_str("flowchart LR\n");
    for (i, n) in g.nodes.iter().enumerate() {
        let label: Vec<String> = node_lines(n).iter().map(|l| label(l)).collect();
        let _ = writeln!(out, "  s{i}[\"{}\"]", label.join("<br/>"));
    }
    let mut broken = Vec::new();
    let mut unresolved = Vec::new();
    for (k, e) in g.edges.iter().enumerate() {
        let (Some(a), Some(b)) = (g.index(&e.from), g.index(&e.to)) else {
            continue;
        };
        let text: Vec<String> = edge_lines(e).iter().map(|l| label(l)).collect();
        let _ = writeln!(out, "  s{a} -->|\"{}\"| s{b}", text.join("<br/>"));
        if e.broken_link > 0 {
            broken.push(k.to_string());
        } else if e.unresolved > 0 {
            unresolved.push(k.to_string());
        }
    }
    let orphans: Vec<String> = (0..g.nodes.len())
        .filter(|&i| g.nodes[i].orphans > 0)
        .map(|i| format!("s{i}"))
        .collect();
    let unavailable: Vec<String> = (0..g.nodes.len())
        .filter(|&i| g.nodes[i].unavailable)
        .map(|i| format!("s{i}"))
        .collect();
    if !orphans.is_empty() {
        let _ = writeln!(out, "  classDef orphans stroke:{RED},stroke-width:2px");
        let _ = writeln!(out, "  class {} orphans", orphans.join(","));
    }
    if !unavailable.is_empty() {
        out.push_str("  classDef unavailable stroke-dasharray:5 5\n");
        let _ = writeln!(out, "  class {} unavailable", unavailable.join(","));
    }
    if !broken.is_empty() {
        let _ = writeln!(
            out,
            "  linkStyle {} stroke:{RED},stroke-width:2px,color:{RED}",
            broken.join(",")
        );
    }
    if !unresolved.is_empty() {
        let _ = writeln!(
            out,
            "  linkStyle {} stroke:{AMBER},stroke-dasharray:4 3",
            unresolved.join(",")
        );
    }
    out
}

/// Text for inside a quoted Mermaid label: quotes, markup and `#` as Mermaid entity codes.
fn label(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '#' => out.push_str("#35;"),
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '&' => out.push_str("#amp;"),
            '\n' | '\r' => out.push(' '),
            _ => out.push(ch),
        }
    }
    out
}

fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_escape_quotes_and_markup() {
        assert_eq!(label(r#"a"<b>#&"#), "a#quot;#lt;b#gt;#35;#amp;");
    }
}
