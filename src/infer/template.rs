//! Path templates from URLs: the paths of one service clustered into `/customers/{id}`-like
//! templates, each variable segment a numeric, UUID, slug or opaque id.
//!
//! The paths go into a trie of segments. Under each node, children that look like ids
//! (digits, UUIDs, anything with a digit or a long opaque token) merge into one variable
//! child; so do three or more word-like children that were fetched themselves and have at
//! most one child each (slugs such as `/products/red-kettle`), while words with a subtree of
//! their own stay literal
//! (`/customers`, `/orders`, `/customers/page`). A trailing slash is kept as the service
//! writes it (an empty last segment).

use std::collections::BTreeMap;

/// One segment of a template.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Seg {
    Lit(String),
    Var,
}

/// A path template: `/customers/{id}` is `[Lit("customers"), Var]`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Template {
    pub segs: Vec<Seg>,
}

/// The key a variable child has in the trie (no real segment holds a NUL).
const VAR: &str = "\0{id}";

impl Template {
    /// The template as a rules `path`, the variable written `{id}` (`suffix` appended to it).
    pub fn path(&self, suffix: &str) -> String {
        let mut out = String::new();
        for s in &self.segs {
            out.push('/');
            match s {
                Seg::Lit(l) => out.push_str(l),
                Seg::Var => {
                    out.push_str("{id}");
                    out.push_str(suffix);
                }
            }
        }
        out
    }

    /// How many variable segments it has.
    pub fn vars(&self) -> usize {
        self.segs.iter().filter(|s| **s == Seg::Var).count()
    }

    /// The raw value of the (first) variable segment, when `path` matches.
    pub fn matches<'p>(&self, path: &'p str) -> Option<&'p str> {
        let parts = split(path);
        if parts.len() != self.segs.len() {
            return None;
        }
        let mut id = None;
        for (p, s) in parts.iter().zip(&self.segs) {
            match s {
                Seg::Lit(l) if l == p => {}
                Seg::Lit(_) => return None,
                Seg::Var if p.is_empty() => return None,
                Seg::Var => {
                    id.get_or_insert(*p);
                }
            }
        }
        Some(id.unwrap_or(""))
    }

    /// The last literal segment before the variable (`customers`), if any.
    pub fn noun(&self) -> Option<&str> {
        let var = self.segs.iter().position(|s| *s == Seg::Var)?;
        self.segs[..var].iter().rev().find_map(|s| match s {
            Seg::Lit(l) if !l.is_empty() => Some(l.as_str()),
            _ => None,
        })
    }
}

/// A path's segments: `/orders/1/` is `["orders", "1", ""]`.
pub fn split(path: &str) -> Vec<&str> {
    path.strip_prefix('/').unwrap_or(path).split('/').collect()
}

#[derive(Debug, Default, Clone)]
struct Node {
    children: BTreeMap<String, Node>,
    /// Paths that end here.
    count: usize,
}

/// The templates of a set of paths, each with how many of the paths it covers, in template
/// order.
pub fn cluster<'p>(paths: impl IntoIterator<Item = &'p str>) -> Vec<(Template, usize)> {
    let mut root = Node::default();
    for p in paths {
        let mut node = &mut root;
        for seg in split(p) {
            node = node.children.entry(seg.to_string()).or_default();
        }
        node.count += 1;
    }
    let root = collapse(root);
    let mut out = Vec::new();
    walk(&root, &mut Vec::new(), &mut out);
    out.sort();
    out
}

fn walk(node: &Node, prefix: &mut Vec<Seg>, out: &mut Vec<(Template, usize)>) {
    if node.count > 0 && !prefix.is_empty() {
        out.push((
            Template {
                segs: prefix.clone(),
            },
            node.count,
        ));
    }
    for (key, child) in &node.children {
        prefix.push(if key == VAR {
            Seg::Var
        } else {
            Seg::Lit(key.clone())
        });
        walk(child, prefix, out);
        prefix.pop();
    }
}

fn collapse(node: Node) -> Node {
    let mut children: BTreeMap<String, Node> = node
        .children
        .into_iter()
        .map(|(k, c)| (k, collapse(c)))
        .collect();
    let strong: Vec<String> = children.keys().filter(|k| strong_id(k)).cloned().collect();
    let weak: Vec<String> = children
        .keys()
        .filter(|k| !strong_id(k) && weak_id(k))
        .cloned()
        .collect();
    let words: Vec<String> = children
        .iter()
        .filter(|(k, c)| {
            !strong_id(k) && !weak_id(k) && !k.is_empty() && c.count > 0 && c.children.len() <= 1
        })
        .map(|(k, _)| k.clone())
        .collect();
    let mut merge: Vec<String> = strong;
    if merge.len() + weak.len() >= 2 {
        merge.extend(weak);
    }
    if words.len() >= 3 {
        merge.extend(words);
    }
    if merge.is_empty() {
        return Node {
            children,
            count: node.count,
        };
    }
    let mut var = children.remove(VAR).unwrap_or_default();
    for k in merge {
        if let Some(c) = children.remove(&k) {
            var = merge_nodes(var, c);
        }
    }
    children.insert(VAR.to_string(), collapse(var));
    Node {
        children,
        count: node.count,
    }
}

fn merge_nodes(mut a: Node, b: Node) -> Node {
    a.count += b.count;
    for (k, c) in b.children {
        let merged = match a.children.remove(&k) {
            Some(existing) => merge_nodes(existing, c),
            None => c,
        };
        a.children.insert(k, merged);
    }
    a
}

/// Digits only, or a UUID: an id even when it is the only one of its kind.
pub fn strong_id(s: &str) -> bool {
    let stem = strip_ext(s);
    (!stem.is_empty() && stem.bytes().all(|b| b.is_ascii_digit())) || is_uuid(stem)
}

/// Holds a digit, or is a long opaque token: an id when it has siblings like it.
fn weak_id(s: &str) -> bool {
    s.bytes().any(|b| b.is_ascii_digit()) || (s.len() >= 16 && !s.contains(['-', '_']))
}

/// `1.json` → `1` (an extension of letters only).
pub fn strip_ext(s: &str) -> &str {
    match s.rsplit_once('.') {
        Some((stem, ext))
            if !stem.is_empty()
                && !ext.is_empty()
                && ext.bytes().all(|b| b.is_ascii_alphabetic()) =>
        {
            stem
        }
        _ => s,
    }
}

fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The extension every value shares (`.json`), if they all have the same one.
pub fn common_ext<'v>(values: impl IntoIterator<Item = &'v str>) -> Option<String> {
    let mut ext: Option<&str> = None;
    for v in values {
        let stem = strip_ext(v);
        if stem.len() == v.len() {
            return None;
        }
        let e = &v[stem.len()..];
        match ext {
            None => ext = Some(e),
            Some(x) if x == e => {}
            Some(_) => return None,
        }
    }
    ext.map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(t: &[(Template, usize)]) -> Vec<String> {
        t.iter()
            .map(|(t, n)| format!("{} {n}", t.path("")))
            .collect()
    }

    #[test]
    fn numeric_uuid_slug_and_opaque_ids() {
        let ps = [
            "/customers",
            "/customers/1",
            "/customers/2",
            "/orders/",
            "/orders/7/",
            "/orders/8/",
            "/carts/0b0a1c1e-7c36-4a4e-9d1a-52d2d6c7f001",
            "/products/red-kettle",
            "/products/blue-lamp",
            "/products/steel-drill",
            "/tokens/Zx81QqPzL0mNbVcXa",
            "/tokens/Ab7yYhGtFrEdWsQaZ",
        ];
        assert_eq!(
            paths(&cluster(ps)),
            [
                "/carts/{id} 1",
                "/customers 1",
                "/customers/{id} 2",
                "/orders/ 1",
                "/orders/{id}/ 2",
                "/products/{id} 3",
                "/tokens/{id} 2",
            ]
        );
    }

    #[test]
    fn words_with_subtrees_stay_literal() {
        let ps = [
            "/customers/1",
            "/customers/2",
            "/customers/page/2",
            "/customers/page/3",
            "/orders/1",
            "/shipments/1",
        ];
        assert_eq!(
            paths(&cluster(ps)),
            [
                "/customers/page/{id} 2",
                "/customers/{id} 2",
                "/orders/{id} 1",
                "/shipments/{id} 1"
            ]
        );
    }

    #[test]
    fn matches_and_extensions() {
        let t = &cluster(["/a/1.json", "/a/2.json"])[0].0;
        assert_eq!(t.path(""), "/a/{id}");
        assert_eq!(t.matches("/a/3.json"), Some("3.json"));
        assert_eq!(t.matches("/a/"), None);
        assert_eq!(t.noun(), Some("a"));
        assert_eq!(common_ext(["3.json", "4.json"]).as_deref(), Some(".json"));
        assert_eq!(common_ext(["3.json", "4"]), None);
    }
}
