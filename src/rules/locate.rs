//! Where things are in a rules file: byte spans to 1-based lines, and a span-carrying tree of
//! the whole document that finds the dotted key path a `toml` error span points at.
//!
//! `toml` errors carry a byte span but no public key path. On the error path the text is parsed
//! a second time into a [`Located`] tree (every key and value with its span, implicit tables
//! included) and the key whose key or value span is the error's span is the key to report.

use std::fmt;
use std::ops::Range;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

// The private protocol `toml` uses to hand out spans (see `serde_spanned`). A table without a
// span (an implicit one) answers the same request as a plain map, so both are handled.
const SPANNED_NAME: &str = "$__serde_spanned_private_Spanned";
const SPANNED_START: &str = "$__serde_spanned_private_start";
const SPANNED_END: &str = "$__serde_spanned_private_end";
const SPANNED_VALUE: &str = "$__serde_spanned_private_value";
const SPANNED_FIELDS: &[&str] = &[SPANNED_START, SPANNED_END, SPANNED_VALUE];

/// The 1-based line of byte offset `offset` in `text` (offsets past the end count as the end).
pub(super) fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// One key of a dotted key path, quoted the TOML way when it is not a bare key.
pub(super) fn key_segment(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if bare {
        return key.to_string();
    }
    let mut out = String::with_capacity(key.len() + 2);
    out.push('"');
    for c in key.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Joins key segments into a dotted key path.
pub(super) fn dotted<S: AsRef<str>>(keys: &[S]) -> String {
    keys.iter()
        .map(|k| key_segment(k.as_ref()))
        .collect::<Vec<_>>()
        .join(".")
}

/// Called for each entry with its key path, key span and value span.
type Visit<'f> = dyn FnMut(&[String], Option<&Range<usize>>, Option<&Range<usize>>) + 'f;

/// A value of the document with its span (`None` for implicit tables).
#[derive(Debug)]
pub(super) struct Located {
    span: Option<Range<usize>>,
    node: Node,
}

#[derive(Debug)]
enum Node {
    Table(Vec<Entry>),
    Array(Vec<Located>),
    Scalar,
}

#[derive(Debug)]
struct Entry {
    key: String,
    key_span: Option<Range<usize>>,
    value: Located,
}

impl Located {
    /// Parses `text` into a span-carrying tree; `None` when it is not valid TOML.
    pub(super) fn parse(text: &str) -> Option<Located> {
        toml::from_str::<Located>(text).ok()
    }

    /// The key path of the key or value that `span` designates, best match first: an exact
    /// key or value span (the deepest one), else the deepest entry whose text contains the
    /// span's start.
    pub(super) fn key_at(&self, span: &Range<usize>) -> Option<Vec<String>> {
        let mut exact: Option<Vec<String>> = None;
        let mut containing: Option<Vec<String>> = None;
        let mut path = Vec::new();
        self.walk(&mut path, &mut |path, key_span, value_span| {
            let hit = key_span == Some(span) || value_span == Some(span);
            if hit && exact.as_ref().is_none_or(|e| path.len() >= e.len()) {
                exact = Some(path.to_vec());
            }
            let start = key_span.map(|k| k.start).or(value_span.map(|v| v.start));
            let end = value_span.or(key_span).map(|v| v.end);
            if let (Some(start), Some(end)) = (start, end) {
                if (start..end.max(start + 1)).contains(&span.start)
                    && containing.as_ref().is_none_or(|c| path.len() >= c.len())
                {
                    containing = Some(path.to_vec());
                }
            }
        });
        exact.or(containing).filter(|p| !p.is_empty())
    }

    /// The span of the key at `path` (for a table, the first place it was named).
    pub(super) fn key_span(&self, path: &[&str]) -> Option<Range<usize>> {
        let mut found = None;
        let mut cur = Vec::new();
        self.walk(&mut cur, &mut |p, key_span, _| {
            if found.is_none() && p.len() == path.len() && p.iter().zip(path).all(|(a, b)| a == b) {
                found = key_span.cloned();
            }
        });
        found
    }

    fn walk(&self, path: &mut Vec<String>, f: &mut Visit<'_>) {
        match &self.node {
            Node::Table(entries) => {
                for e in entries {
                    path.push(e.key.clone());
                    f(path, e.key_span.as_ref(), e.value.span.as_ref());
                    e.value.walk(path, f);
                    path.pop();
                }
            }
            Node::Array(items) => {
                for item in items {
                    // Elements of an array report the array's key.
                    f(path, None, item.span.as_ref());
                    item.walk(path, f);
                }
            }
            Node::Scalar => {}
        }
    }
}

impl<'de> Deserialize<'de> for Located {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_struct(
            SPANNED_NAME,
            SPANNED_FIELDS,
            LocatedVisitor {
                spanned_protocol: true,
            },
        )
    }
}

/// Deserializes the value inside a span envelope (without asking for a span again).
struct Inner;

impl<'de> DeserializeSeed<'de> for Inner {
    type Value = Located;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Located, D::Error> {
        d.deserialize_any(LocatedVisitor {
            spanned_protocol: false,
        })
    }
}

struct LocatedVisitor {
    spanned_protocol: bool,
}

fn scalar<E>() -> Result<Located, E> {
    Ok(Located {
        span: None,
        node: Node::Scalar,
    })
}

impl<'de> Visitor<'de> for LocatedVisitor {
    type Value = Located;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any TOML value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Located, E> {
        scalar()
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Located, E> {
        scalar()
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Located, E> {
        scalar()
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Located, E> {
        scalar()
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Located, E> {
        scalar()
    }
    fn visit_unit<E: de::Error>(self) -> Result<Located, E> {
        scalar()
    }
    fn visit_none<E: de::Error>(self) -> Result<Located, E> {
        scalar()
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Located, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Located, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Located>()? {
            items.push(item);
        }
        Ok(Located {
            span: None,
            node: Node::Array(items),
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Located, A::Error> {
        let Some(first) = map.next_key::<Key>()? else {
            return Ok(Located {
                span: None,
                node: Node::Table(Vec::new()),
            });
        };
        if self.spanned_protocol && first.span.is_none() && first.name == SPANNED_START {
            let start: usize = map.next_value()?;
            let mut end = start;
            let mut value = None;
            while let Some(k) = map.next_key::<Key>()? {
                if k.name == SPANNED_END {
                    end = map.next_value()?;
                } else if k.name == SPANNED_VALUE {
                    value = Some(map.next_value_seed(Inner)?);
                } else {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
            let mut value = value.ok_or_else(|| de::Error::custom("span without a value"))?;
            value.span = Some(start..end);
            return Ok(value);
        }
        let mut entries = Vec::new();
        let mut key = Some(first);
        while let Some(k) = key {
            let value: Located = map.next_value()?;
            entries.push(Entry {
                key: k.name,
                key_span: k.span,
                value,
            });
            key = map.next_key::<Key>()?;
        }
        Ok(Located {
            span: None,
            node: Node::Table(entries),
        })
    }
}

/// A table key, with its span when the deserializer has one.
struct Key {
    name: String,
    span: Option<Range<usize>>,
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_struct(SPANNED_NAME, SPANNED_FIELDS, KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a table key")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
        Ok(Key {
            name: v.to_string(),
            span: None,
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Key, A::Error> {
        let mut start = None;
        let mut end = None;
        let mut name = None;
        while let Some(k) = map.next_key::<String>()? {
            match k.as_str() {
                SPANNED_START => start = Some(map.next_value::<usize>()?),
                SPANNED_END => end = Some(map.next_value::<usize>()?),
                SPANNED_VALUE => name = Some(map.next_value::<String>()?),
                _ => {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
        }
        let name = name.ok_or_else(|| de::Error::custom("span without a key"))?;
        let span = match (start, end) {
            (Some(s), Some(e)) => Some(s..e),
            _ => None,
        };
        Ok(Key { name, span })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_keys_by_span() {
        let text = "a = 1\n[t.u]\nb = \"x\"\nc = { d = [1, 2] }\n[t.v.w]\ne = 3\n";
        let tree = Located::parse(text).unwrap();
        let b = text.find("\"x\"").unwrap();
        assert_eq!(tree.key_at(&(b..b + 3)).unwrap(), ["t", "u", "b"]);
        let d = text.find("d =").unwrap();
        assert_eq!(tree.key_at(&(d..d + 1)).unwrap(), ["t", "u", "c", "d"]);
        let two = text.find("2]").unwrap();
        assert_eq!(tree.key_at(&(two..two + 1)).unwrap(), ["t", "u", "c", "d"]);
        // `t.v` is implicit (no span of its own) and still found by its key.
        let span = tree.key_span(&["t", "v"]).unwrap();
        assert_eq!(line_of(text, span.start), 5);
        assert_eq!(line_of(text, 0), 1);
        assert_eq!(line_of(text, 10_000), 7);
    }

    #[test]
    fn quotes_keys_that_are_not_bare() {
        assert_eq!(
            dotted(&["kinds", "a.b", "x y", ""]),
            "kinds.\"a.b\".\"x y\".\"\""
        );
        assert_eq!(dotted(&["a-b", "c_1"]), "a-b.c_1");
    }
}
