//! The service graph as inline SVG: services on an ellipse, references as curved arrows
//! coloured by their worst finding, and labels slid along the curves until they overlap nothing.

use std::fmt::Write as _;

use super::geometry::{box_exit, f, f2, layout, node_height, Pt, LINE_H, NODE_W};
use super::text::esc;
use crate::model::ServiceLink;
use crate::report::view::{edge_lines, node_lines, plural, ServiceGraph, ServiceNode};

/// The `<svg>` element of the service graph.
pub(super) fn svg(out: &mut String, g: &ServiceGraph<'_>) {
    let n = g.nodes.len();
    let (w, h, pos) = layout(n);
    let center = Pt {
        x: w / 2.0,
        y: h / 2.0,
    };
    let lines: Vec<Vec<String>> = g.nodes.iter().map(node_lines).collect();
    let half_h: Vec<f64> = lines.iter().map(|l| node_height(l.len()) / 2.0).collect();
    svg_open(out, g, w, h);

    // Edges first, so nodes paint over their ends; labels last, over everything.
    let mut labels = Labels {
        text: String::new(),
        placed: node_boxes(&pos, &half_h),
    };
    // Loops first: their labels have one place, the others can move.
    let ordered = g
        .edges
        .iter()
        .filter(|e| e.from == e.to)
        .chain(g.edges.iter().filter(|e| e.from != e.to));
    for e in ordered {
        let (Some(a), Some(b)) = (g.index(&e.from), g.index(&e.to)) else {
            continue;
        };
        if a == b {
            loop_edge(out, &mut labels, e, (pos[a], half_h[a]), center);
        } else {
            let reverse = g.edges.iter().any(|x| x.from == e.to && x.to == e.from);
            let ends = [(pos[a], half_h[a]), (pos[b], half_h[b])];
            curve_edge(out, &mut labels, e, ends, reverse);
        }
    }
    for (i, node) in g.nodes.iter().enumerate() {
        node_svg(out, node, pos[i], &lines[i]);
    }
    out.push_str(&labels.text);
    out.push_str("</svg>\n");
}

/// The `<svg>` element's start: size, accessible title and description, arrow heads.
fn svg_open(out: &mut String, g: &ServiceGraph<'_>, w: f64, h: f64) {
    let n = g.nodes.len();
    let broken_edges = g.edges.iter().filter(|e| e.broken_link > 0).count();
    let _ = writeln!(
        out,
        "<svg class=\"graph\" viewBox=\"0 0 {} {}\" role=\"img\" aria-labelledby=\"graph-title graph-desc\" xmlns=\"http://www.w3.org/2000/svg\">",
        f(w),
        f(h)
    );
    let _ = writeln!(
        out,
        "<title id=\"graph-title\">Service graph</title>\n<desc id=\"graph-desc\">{} and {} between them, {} with broken links; the table below lists the same counts.</desc>",
        plural(n as u64, "service", "services"),
        plural(g.edges.len() as u64, "link", "links"),
        broken_edges
    );
    out.push_str("<defs>");
    for class in ["ok", "warn", "bad"] {
        let _ = write!(
            out,
            "<marker id=\"arrow-{class}\" class=\"arrow {class}\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerUnits=\"userSpaceOnUse\" markerWidth=\"11\" markerHeight=\"11\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\"/></marker>"
        );
    }
    out.push_str("</defs>\n");
}

/// The boxes of the services, which labels must not cover.
fn node_boxes(pos: &[Pt], half_h: &[f64]) -> Vec<BoxXY> {
    pos.iter()
        .zip(half_h)
        .map(|(p, hh)| BoxXY {
            x0: p.x - NODE_W / 2.0,
            y0: p.y - hh,
            x1: p.x + NODE_W / 2.0,
            y1: p.y + hh,
        })
        .collect()
}

/// The edge labels drawn so far, and every box they must keep clear of.
struct Labels {
    text: String,
    placed: Vec<BoxXY>,
}

impl Labels {
    /// Draws a label at `at` and keeps its box clear from now on.
    fn place(&mut self, at: Pt, anchor: &str, above: bool, class: &str, lines: &[String]) {
        self.placed.push(label_box(at, anchor, above, lines));
        label(&mut self.text, at, anchor, above, class, lines);
    }

    /// Whether a label at `at` would overlap nothing placed so far.
    fn free(&self, at: Pt, lines: &[String]) -> bool {
        let b = label_box(at, "middle", false, lines);
        !self.placed.iter().any(|o| b.overlaps(o))
    }
}

/// An edge's colour class, label lines and tooltip.
fn edge_text(e: &ServiceLink) -> (&'static str, Vec<String>, String) {
    let text = edge_lines(e);
    let title = format!("{} → {}: {}", e.from, e.to, text.join(", "));
    (edge_class(e), text, title)
}

/// A service's references to itself: a loop on the outer side of its box (`p`, half height
/// `half_h`), away from the picture's `center`.
fn loop_edge(
    out: &mut String,
    labels: &mut Labels,
    e: &ServiceLink,
    (p, half_h): (Pt, f64),
    center: Pt,
) {
    let (class, text, title) = edge_text(e);
    let mut o = p.sub(center);
    if o.len() < 1e-9 {
        o = Pt { x: 0.0, y: -1.0 };
    }
    let o = o.scale(1.0 / o.len());
    let perp = Pt { x: -o.y, y: o.x };
    let base = box_exit(p, half_h, p.add(o.scale(1000.0)), 0.0);
    let s = base.add(perp.scale(18.0));
    let t = base.sub(perp.scale(18.0)).add(o.scale(4.0));
    let c1 = s.add(o.scale(70.0)).add(perp.scale(30.0));
    let c2 = base
        .sub(perp.scale(18.0))
        .add(o.scale(70.0))
        .sub(perp.scale(30.0));
    let _ = writeln!(
        out,
        "<path class=\"edge {class}\" d=\"M{},{} C{},{} {},{} {},{}\" marker-end=\"url(#arrow-{class})\"><title>{}</title></path>",
        f(s.x), f(s.y), f(c1.x), f(c1.y), f(c2.x), f(c2.y), f(t.x), f(t.y),
        esc(&title)
    );
    let apex = base.add(o.scale(66.0));
    let anchor = if o.x > 0.35 {
        "start"
    } else if o.x < -0.35 {
        "end"
    } else {
        "middle"
    };
    let at = apex.add(o.scale(14.0));
    labels.place(at, anchor, o.y < -0.35, class, &text);
}

/// References between two services: a curve from box `a` to box `b` (centre, half height),
/// bent further when references also go back the other way (`reverse`).
fn curve_edge(
    out: &mut String,
    labels: &mut Labels,
    e: &ServiceLink,
    [(pa, ha), (pb, hb)]: [(Pt, f64); 2],
    reverse: bool,
) {
    let (class, text, title) = edge_text(e);
    let d = pb.sub(pa);
    let len = d.len().max(1.0);
    let u = d.scale(1.0 / len);
    let normal = Pt { x: -u.y, y: u.x };
    let bend = if reverse {
        (len * 0.22).clamp(30.0, 90.0)
    } else {
        (len * 0.08).clamp(12.0, 40.0)
    };
    let mid = pa.add(d.scale(0.5));
    let ctrl = mid.add(normal.scale(bend));
    let s = box_exit(pa, ha, ctrl, 2.0);
    let t = box_exit(pb, hb, ctrl, 3.0);
    let _ = writeln!(
        out,
        "<path class=\"edge {class}\" d=\"M{},{} Q{},{} {},{}\" marker-end=\"url(#arrow-{class})\"><title>{}</title></path>",
        f(s.x), f(s.y), f(ctrl.x), f(ctrl.y), f(t.x), f(t.y),
        esc(&title)
    );
    // The label sits on the curve: at its middle, or slid along it until it overlaps
    // neither a node nor a label placed before it.
    let on_curve = |k: f64| {
        s.scale((1.0 - k) * (1.0 - k))
            .add(ctrl.scale(2.0 * k * (1.0 - k)))
            .add(t.scale(k * k))
    };
    let at = [0.5, 0.4, 0.6, 0.33, 0.67, 0.27, 0.73]
        .iter()
        .map(|&k| on_curve(k))
        .find(|&p| labels.free(p, &text))
        .unwrap_or_else(|| on_curve(0.5));
    labels.place(at, "middle", false, class, &text);
}

/// An edge's colour: its worst finding.
fn edge_class(e: &ServiceLink) -> &'static str {
    if e.broken_link > 0 {
        "bad"
    } else if e.unresolved > 0 {
        "warn"
    } else {
        "ok"
    }
}

/// An axis-aligned box, to keep labels apart.
#[derive(Debug, Clone, Copy)]
struct BoxXY {
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
}

impl BoxXY {
    fn overlaps(&self, o: &BoxXY) -> bool {
        self.x0 < o.x1 && o.x0 < self.x1 && self.y0 < o.y1 && o.y0 < self.y1
    }
}

/// The box a label drawn by [`label`] covers, from an estimate of its text width.
fn label_box(at: Pt, anchor: &str, above: bool, lines: &[String]) -> BoxXY {
    const CHAR_W: f64 = 7.4;
    const LINE: f64 = 15.0;
    let w = lines.iter().map(|l| l.chars().count()).max().unwrap_or(0) as f64 * CHAR_W;
    let h = LINE * lines.len() as f64;
    let x0 = match anchor {
        "start" => at.x,
        "end" => at.x - w,
        _ => at.x - w / 2.0,
    };
    let y0 = if above { at.y - h } else { at.y - h / 2.0 };
    BoxXY {
        x0: x0 - 3.0,
        y0: y0 - 2.0,
        x1: x0 + w + 3.0,
        y1: y0 + h + 2.0,
    }
}

/// An edge label of one or two lines centred on `at` (or ending above it when `above`).
fn label(out: &mut String, at: Pt, anchor: &str, above: bool, class: &str, lines: &[String]) {
    let first_dy = if above {
        -(lines.len() as f64 - 1.0) * 1.15
    } else {
        -(lines.len() as f64 - 1.0) * 0.575 + 0.35
    };
    let _ = write!(
        out,
        "<text class=\"elabel {class}\" x=\"{}\" y=\"{}\" text-anchor=\"{anchor}\">",
        f(at.x),
        f(at.y)
    );
    for (k, line) in lines.iter().enumerate() {
        let dy = if k == 0 { first_dy } else { 1.15 };
        let _ = write!(
            out,
            "<tspan x=\"{}\" dy=\"{}em\">{}</tspan>",
            f(at.x),
            f2(dy),
            esc(line)
        );
    }
    out.push_str("</text>\n");
}

/// A service's box: its name, counts and state, with a tooltip that says them in words.
fn node_svg(out: &mut String, n: &ServiceNode<'_>, p: Pt, lines: &[String]) {
    let h = node_height(lines.len());
    let mut class = String::from("node");
    if n.unavailable {
        class.push_str(" unavailable");
    }
    if n.orphans > 0 {
        class.push_str(" orphans");
    }
    let mut title = n.name.to_string();
    if let Some(u) = n.base_url {
        let _ = write!(title, " ({u})");
    }
    let _ = write!(
        title,
        ": {} resources, {} requests, {} failures, {}",
        n.resources,
        n.requests,
        n.failures,
        plural(n.orphans, "orphan", "orphans")
    );
    if n.unavailable {
        title.push_str(", unavailable (circuit breaker open)");
    }
    let _ = writeln!(
        out,
        "<g class=\"{class}\"><title>{}</title><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"10\"/>",
        esc(&title),
        f(p.x - NODE_W / 2.0),
        f(p.y - h / 2.0),
        f(NODE_W),
        f(h)
    );
    for (k, line) in lines.iter().enumerate() {
        let line_class = match k {
            0 => "nname",
            _ if line == "unavailable" && n.unavailable => "nsub nunav",
            2 if n.orphans > 0 => "nsub norph",
            _ => "nsub",
        };
        let text = if k == 0 {
            shorten(line, 22)
        } else {
            line.clone()
        };
        let _ = writeln!(
            out,
            "<text class=\"{line_class}\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            f(p.x),
            f(p.y - h / 2.0 + 9.0 + LINE_H * (k as f64 + 0.8)),
            esc(&text)
        );
    }
    out.push_str("</g>\n");
}

/// At most `max` characters, the last one an ellipsis when cut.
fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}
