//! Rebasing: moving a recorded world from the origins it was recorded at onto the origins it is
//! served at (`http://127.0.0.1:8081` → `http://127.0.0.1:40123`), in bodies, headers and rules.

use std::borrow::Cow;

use url::{Position, Url};

use crate::canon;
use crate::rules::Rules;

/// Pairs of origins, recorded → served, each the ASCII serialization of an origin
/// (`scheme://host[:port]`, no trailing slash). Empty: nothing moves.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OriginMap {
    pairs: Vec<(String, String)>,
    /// Text patterns and their replacements, longest first: the origin as written, with an
    /// explicit default port, and JSON-escaped (`http:\/\/…`).
    patterns: Vec<(String, String)>,
}

impl OriginMap {
    /// A map from `(recorded, served)` origin pairs. Pairs whose two sides are equal are kept
    /// (they map URLs to themselves) but add no text patterns.
    pub fn new(pairs: Vec<(String, String)>) -> OriginMap {
        let mut patterns = Vec::new();
        for (from, to) in &pairs {
            if from == to {
                continue;
            }
            let mut froms = vec![from.clone()];
            if let Some(explicit) = with_default_port(from) {
                froms.push(explicit);
            }
            for f in froms {
                patterns.push((f.replace('/', "\\/"), to.replace('/', "\\/")));
                patterns.push((f, to.clone()));
            }
        }
        patterns.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        patterns.dedup_by(|a, b| a.0 == b.0);
        OriginMap { pairs, patterns }
    }

    /// The `(recorded, served)` origin pairs.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// Whether nothing moves.
    pub fn is_identity(&self) -> bool {
        self.patterns.is_empty()
    }

    /// The map the other way round (served → recorded): to read a served world's report in
    /// the recorded world's URLs.
    pub fn inverse(&self) -> OriginMap {
        OriginMap::new(
            self.pairs
                .iter()
                .map(|(a, b)| (b.clone(), a.clone()))
                .collect(),
        )
    }

    /// Replaces every mapped origin in `text` that starts a URL (plain or JSON-escaped, ASCII
    /// case-insensitive). An origin only matches whole: `http://h:808` does not touch
    /// `http://h:8081`, and `http://h` does not touch `http://h:8080` or `http://h.example`.
    pub fn apply<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if self.patterns.is_empty() {
            return Cow::Borrowed(text);
        }
        let bytes = text.as_bytes();
        let mut out: Option<String> = None;
        let mut copied = 0usize;
        let mut i = 0usize;
        while i < bytes.len() {
            if !matches!(bytes[i], b'h' | b'H') {
                i += 1;
                continue;
            }
            let hit = self.patterns.iter().find(|(from, _)| {
                let end = i + from.len();
                end <= bytes.len()
                    && bytes[i..end].eq_ignore_ascii_case(from.as_bytes())
                    && bytes.get(end).is_none_or(|&b| ends_origin(b))
            });
            match hit {
                Some((from, to)) => {
                    let o = out.get_or_insert_with(|| String::with_capacity(text.len() + 64));
                    o.push_str(&text[copied..i]);
                    o.push_str(to);
                    i += from.len();
                    copied = i;
                }
                None => i += 1,
            }
        }
        match out {
            None => Cow::Borrowed(text),
            Some(mut o) => {
                o.push_str(&text[copied..]);
                Cow::Owned(o)
            }
        }
    }

    /// The URL moved to its served origin (canonical), or unchanged when its origin is not
    /// mapped.
    pub fn url(&self, url: &Url) -> Url {
        let origin = url.origin().ascii_serialization();
        let Some((_, to)) = self.pairs.iter().find(|(from, _)| *from == origin) else {
            return url.clone();
        };
        canon::parse_absolute(&format!("{to}{}", &url[Position::BeforePath..]))
            .unwrap_or_else(|| url.clone())
    }

    /// Compiled rules moved to the served origins: base URLs and seeds.
    pub fn rules(&self, rules: &Rules) -> Rules {
        let mut out = rules.clone();
        for s in &mut out.services {
            s.base_url = self.url(&s.base_url);
            for seed in &mut s.seeds {
                *seed = self.url(seed);
            }
        }
        out
    }

    /// A rules file's text moved to the served origins: every service's `base_url` and its
    /// seeds written as full URLs. The result is regenerated TOML (comments are not kept).
    pub fn rules_toml(&self, text: &str) -> Result<String, String> {
        let mut table: toml::Table = text.parse().map_err(|e| format!("not TOML: {e}"))?;
        if let Some(toml::Value::Table(services)) = table.get_mut("services") {
            for (_, service) in services.iter_mut() {
                let toml::Value::Table(service) = service else {
                    continue;
                };
                if let Some(toml::Value::String(base)) = service.get_mut("base_url") {
                    if let Some(u) = canon::parse_absolute(base) {
                        *base = self.url(&u).into();
                    }
                }
                if let Some(toml::Value::Array(seeds)) = service.get_mut("seeds") {
                    for seed in seeds {
                        if let toml::Value::String(s) = seed {
                            if let Some(u) = canon::parse_absolute(s) {
                                *s = self.url(&u).into();
                            }
                        }
                    }
                }
            }
        }
        toml::to_string(&table).map_err(|e| format!("cannot write TOML: {e}"))
    }
}

/// Whether byte `b`, right after an origin in a text, ends it (a host or port would go on).
fn ends_origin(b: u8) -> bool {
    !(b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':' | b'@' | b'%'))
}

/// `http://h` → `http://h:80` (and `https://h` → `https://h:443`) for an origin without port.
fn with_default_port(origin: &str) -> Option<String> {
    let u = Url::parse(origin).ok()?;
    if u.port().is_some() {
        return None;
    }
    let port = u.port_or_known_default()?;
    Some(format!("{origin}:{port}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> OriginMap {
        OriginMap::new(
            pairs
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
        )
    }

    #[test]
    fn replaces_whole_origins_only() {
        let m = map(&[
            ("http://127.0.0.1:808", "http://127.0.0.1:1"),
            ("http://127.0.0.1:8081", "http://127.0.0.1:40123"),
        ]);
        assert_eq!(
            m.apply(r#"{"a":"http://127.0.0.1:8081/c/1","b":"http://127.0.0.1:808?x","c":"http://127.0.0.1:80810/"}"#),
            r#"{"a":"http://127.0.0.1:40123/c/1","b":"http://127.0.0.1:1?x","c":"http://127.0.0.1:80810/"}"#
        );
        assert_eq!(
            m.apply("<HTTP://127.0.0.1:8081/c?page=2>; rel=\"next\""),
            "<http://127.0.0.1:40123/c?page=2>; rel=\"next\""
        );
        assert_eq!(
            m.apply(r#""http:\/\/127.0.0.1:8081\/c""#),
            r#""http:\/\/127.0.0.1:40123\/c""#
        );
        assert_eq!(
            m.apply("https://127.0.0.1:8081/"),
            "https://127.0.0.1:8081/"
        );
        assert!(matches!(m.apply("no urls here"), Cow::Borrowed(_)));
    }

    #[test]
    fn default_ports_match_written_either_way() {
        let m = map(&[("http://shop.local", "http://127.0.0.1:5000")]);
        assert_eq!(
            m.apply("http://shop.local/a http://shop.local:80/b http://shop.local:8080/c http://shop.localhost/d"),
            "http://127.0.0.1:5000/a http://127.0.0.1:5000/b http://shop.local:8080/c http://shop.localhost/d"
        );
        assert_eq!(
            m.inverse().apply("http://127.0.0.1:5000/a"),
            "http://shop.local/a"
        );
    }

    #[test]
    fn moves_urls_and_rules_text() {
        let m = map(&[("https://api.example:8443", "http://127.0.0.1:40000")]);
        let u = Url::parse("https://api.example:8443/v1/c?page=2").unwrap();
        assert_eq!(m.url(&u).as_str(), "http://127.0.0.1:40000/v1/c?page=2");
        let other = Url::parse("http://api.example/v1").unwrap();
        assert_eq!(m.url(&other), other);
        let text = "version = 1\n[services.a]\nbase_url = \"HTTPS://api.example:8443/v1\"\nseeds = [\"/v1/c\", \"https://api.example:8443/v1/d\"]\n";
        let out: toml::Table = m.rules_toml(text).unwrap().parse().unwrap();
        let a = &out["services"]["a"];
        assert_eq!(a["base_url"].as_str(), Some("http://127.0.0.1:40000/v1"));
        assert_eq!(a["seeds"][0].as_str(), Some("/v1/c"));
        assert_eq!(a["seeds"][1].as_str(), Some("http://127.0.0.1:40000/v1/d"));
        assert_eq!(out["version"].as_integer(), Some(1));
    }
}
