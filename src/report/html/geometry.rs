//! The service graph's geometry: points, node sizes, where services sit, and coordinates
//! written as SVG numbers.

use std::f64::consts::PI;

/// A point (or a vector) in the picture.
#[derive(Debug, Clone, Copy)]
pub(super) struct Pt {
    pub(super) x: f64,
    pub(super) y: f64,
}

impl Pt {
    pub(super) fn add(self, o: Pt) -> Pt {
        Pt {
            x: self.x + o.x,
            y: self.y + o.y,
        }
    }
    pub(super) fn sub(self, o: Pt) -> Pt {
        Pt {
            x: self.x - o.x,
            y: self.y - o.y,
        }
    }
    pub(super) fn scale(self, k: f64) -> Pt {
        Pt {
            x: self.x * k,
            y: self.y * k,
        }
    }
    pub(super) fn len(self) -> f64 {
        self.x.hypot(self.y)
    }
}

/// A service box's width, and the height of one of its lines.
pub(super) const NODE_W: f64 = 180.0;
pub(super) const LINE_H: f64 = 17.0;

/// A service box's height for `lines` lines of text.
pub(super) fn node_height(lines: usize) -> f64 {
    LINE_H * lines as f64 + 18.0
}

/// Where the segment from a box's centre towards `toward` leaves the box (plus `pad`).
pub(super) fn box_exit(center: Pt, half_h: f64, toward: Pt, pad: f64) -> Pt {
    let d = toward.sub(center);
    if d.len() < 1e-9 {
        return center;
    }
    let tx = if d.x.abs() > 1e-9 {
        (NODE_W / 2.0 + pad) / d.x.abs()
    } else {
        f64::INFINITY
    };
    let ty = if d.y.abs() > 1e-9 {
        (half_h + pad) / d.y.abs()
    } else {
        f64::INFINITY
    };
    center.add(d.scale(tx.min(ty).min(1.0)))
}

/// Services on an ellipse (the first at the top; two services side by side).
pub(super) fn layout(n: usize) -> (f64, f64, Vec<Pt>) {
    let rx = (n as f64 * 50.0).max(260.0);
    let ry = (n as f64 * 36.0).max(170.0);
    let (mx, my) = (330.0, 150.0);
    let (w, h) = if n <= 1 {
        (NODE_W + 2.0 * mx, 2.0 * my + 60.0)
    } else {
        (2.0 * (rx + mx), 2.0 * (ry + my))
    };
    let c = Pt {
        x: w / 2.0,
        y: h / 2.0,
    };
    let start = if n == 2 { PI } else { -PI / 2.0 };
    let points = (0..n)
        .map(|i| {
            if n == 1 {
                return c;
            }
            let a = start + 2.0 * PI * i as f64 / n as f64;
            Pt {
                x: c.x + rx * a.cos(),
                y: c.y + ry * a.sin(),
            }
        })
        .collect();
    (w, h, points)
}

/// A coordinate with one decimal (never `-0.0`).
pub(super) fn f(v: f64) -> String {
    let s = format!("{v:.1}");
    if s == "-0.0" {
        "0.0".into()
    } else {
        s
    }
}

/// A number with at most three decimals and no trailing zeros (never `-0`).
pub(super) fn f2(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_keeps_nodes_inside_the_picture() {
        for n in 1..12 {
            let (w, h, pts) = layout(n);
            for p in pts {
                assert!(
                    p.x - NODE_W / 2.0 >= 0.0 && p.x + NODE_W / 2.0 <= w,
                    "n={n}"
                );
                assert!(p.y - 40.0 >= 0.0 && p.y + 40.0 <= h, "n={n}");
            }
        }
    }
}
