//! The service graph in Graphviz DOT (`.dot`): services with their resource and orphan counts,
//! edges with reference / broken / unresolved counts; broken edges red.

use std::fmt::Write as _;

use super::view::{
    edge_lines, findings_line, node_lines, source_line, ServiceGraph, AMBER, GREY, RED,
};
use crate::model::Report;

/// Renders the service graph as a DOT `digraph`.
pub fn render_dot(r: &Report) -> String {
    let g = ServiceGraph::new(r);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "// bacaudit service graph: {}",
        one_line(&source_line(r))
    );
    let _ = writeln!(out, "// {}", findings_line(r));
    out.push_str("digraph bacaudit {\n");
    out.push_str("  graph [rankdir=LR, nodesep=0.6, ranksep=1.4, fontname=\"Helvetica,Arial,sans-serif\"];\n");
    out.push_str("  node [shape=box, style=rounded, fontname=\"Helvetica,Arial,sans-serif\", fontsize=11];\n");
    let _ = writeln!(
        out,
        "  edge [fontname=\"Helvetica,Arial,sans-serif\", fontsize=10, color=\"{GREY}\", fontcolor=\"{GREY}\"];"
    );
    for n in &g.nodes {
        let mut attrs = vec![format!("label={}", quote(&node_lines(n).join("\n")))];
        if n.unavailable {
            attrs.push("style=\"rounded,dashed\"".into());
        }
        if n.orphans > 0 {
            attrs.push(format!("color=\"{RED}\", penwidth=2"));
        }
        let _ = writeln!(out, "  {} [{}];", quote(n.name), attrs.join(", "));
    }
    for e in g.edges {
        let mut attrs = vec![format!("label={}", quote(&edge_lines(e).join("\n")))];
        if e.broken_link > 0 {
            attrs.push(format!("color=\"{RED}\", fontcolor=\"{RED}\", penwidth=2"));
        } else if e.unresolved > 0 {
            attrs.push(format!(
                "color=\"{AMBER}\", fontcolor=\"{AMBER}\", style=dashed"
            ));
        }
        let _ = writeln!(
            out,
            "  {} -> {} [{}];",
            quote(&e.from),
            quote(&e.to),
            attrs.join(", ")
        );
    }
    out.push_str("}\n");
    out
}

/// A DOT quoted string: backslashes and quotes escaped, newlines as `\n`.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for ch in s.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            _ => out.push(ch),
        }
    }
    out.push('"');
    out
}

fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_escapes_backslash_quote_newline() {
        assert_eq!(quote("a\"b\\c\nd"), r#""a\"b\\c\nd""#);
    }
}
