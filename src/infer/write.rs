//! The proposal as a rules file: every choice with its evidence in a comment, what the
//! evidence cannot decide commented out, and what was seen but not understood at the end.

use std::fmt::Write as _;

use super::model::{count, KindP, LinkP, Proposal, Sel};

/// Width comments are wrapped at.
const WIDTH: usize = 98;

/// A TOML string.
fn q(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// A comment, wrapped, each line starting with `prefix` (`# ` or `# # `).
fn comment(out: &mut String, prefix: &str, text: &str) {
    let mut line = String::from(prefix);
    for word in text.split(' ') {
        if line.len() > prefix.len() && line.len() + 1 + word.len() > WIDTH {
            out.push_str(line.trim_end());
            out.push('\n');
            line = format!("{}  ", prefix.replace('-', " "));
        }
        if !line.ends_with(' ') {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push_str(line.trim_end());
    out.push('\n');
}

/// The rules file text. `links` false leaves every link out (the first pass, whose
/// compiled rules find the links).
pub fn toml(p: &Proposal, links: bool) -> String {
    let mut out = String::new();
    comment(
        &mut out,
        "#",
        &format!(
            "Proposed by `bacaudit init` from {} ({} answered exchanges). Each choice \
             carries its evidence; read them, confirm the orphan rules and pick the \
             compensations before relying on an audit.",
            p.source,
            count(p.samples)
        ),
    );
    comment(
        &mut out,
        "#",
        "Compensations are `manual` everywhere: on_broken may also be cascade | set-null | \
         recreate, on_orphan may be delete.",
    );
    out.push_str("version = 1\n");
    for s in &p.services {
        out.push('\n');
        if let Some(table) = &s.table {
            comment(
                &mut out,
                "#",
                &format!("from the partial rules file; {}", s.evidence),
            );
            out.push_str(table.trim_end());
            out.push('\n');
            continue;
        }
        let _ = writeln!(out, "[services.{}]", s.name);
        comment(&mut out, "#", &s.evidence);
        let _ = writeln!(out, "base_url = {}", q(s.base_url.as_str()));
        let seeds: Vec<String> = s.seeds.iter().map(|x| q(x)).collect();
        let _ = writeln!(out, "seeds = [{}]", seeds.join(", "));
    }
    let mut order: Vec<usize> = (0..p.kinds.len()).collect();
    order.sort_by(|&a, &b| p.kinds[a].name.cmp(&p.kinds[b].name));
    for k in order {
        out.push('\n');
        kind(&mut out, p, &p.kinds[k]);
        if links {
            let mut mine: Vec<&LinkP> = p.links.iter().filter(|l| l.kind == k).collect();
            mine.sort_by_key(|l| (!l.active, l.name.clone()));
            for l in mine {
                out.push('\n');
                link(&mut out, p, l);
            }
        }
    }
    if !p.notes.is_empty() {
        out.push('\n');
        out.push_str("# Seen but not turned into rules:\n");
        for n in &p.notes {
            comment(&mut out, "# -", n);
        }
    }
    out
}

fn kind(out: &mut String, p: &Proposal, k: &KindP) {
    let _ = writeln!(out, "[kinds.{}]", k.name);
    for e in &k.evidence {
        comment(out, "#", e);
    }
    let _ = writeln!(out, "service = {}", q(&p.services[k.service].name));
    let _ = writeln!(out, "path = {}", q(&k.path));
    if let Some(c) = &k.collection {
        comment(out, "#", &c.evidence);
        let _ = writeln!(out, "collection = {}", q(&c.path));
        let _ = writeln!(out, "id_pointer = {}", q(&c.id_pointer));
    }
    if let Some((t, ev)) = &k.jsonapi_type {
        comment(out, "#", ev);
        let _ = writeln!(out, "jsonapi_type = {}", q(t));
    }
    if let Some((ptr, ev)) = &k.timestamp {
        comment(out, "#", ev);
        let _ = writeln!(out, "timestamp = {}", q(ptr));
        for (alt, ev) in &k.timestamp_alt {
            comment(out, "#", &format!("or: {ev}"));
            let _ = writeln!(out, "# timestamp = {}", q(alt));
        }
    }
    if let Some(o) = &k.orphan {
        comment(out, "#", &o.evidence);
        let names: Vec<String> = o.links.iter().map(|n| q(n)).collect();
        let prefix = if o.active { "" } else { "# " };
        let _ = writeln!(
            out,
            "{prefix}must_be_referenced_by = [{}]",
            names.join(", ")
        );
        let _ = writeln!(out, "{prefix}on_orphan = \"manual\"");
    }
}

fn link(out: &mut String, p: &Proposal, l: &LinkP) {
    let prefix = if l.active { "" } else { "# " };
    let _ = writeln!(
        out,
        "{prefix}[kinds.{}.links.{}]",
        p.kinds[l.kind].name, l.name
    );
    comment(out, &format!("{prefix}#"), &l.evidence);
    match &l.selector {
        Sel::Pointer(ptr) => {
            let _ = writeln!(out, "{prefix}pointer = {}", q(ptr));
        }
        Sel::Rel(r) => {
            let _ = writeln!(out, "{prefix}rel = {}", q(r));
        }
    }
    let _ = writeln!(out, "{prefix}to = {}", q(&p.kinds[l.to].name));
    let _ = writeln!(out, "{prefix}on_broken = \"manual\"");
}
