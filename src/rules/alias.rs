//! Aliases: links written under another name of a service (`https://customers.prod.example.com/`)
//! belong to it and are fetched under its `base_url`.
//!
//! The crawl, the graph and recordings hold every URL in its fetched form (under `base_url`):
//! [`Rules::unalias`] rewrites a link as it is extracted. The report shows a target in its alias
//! form (the first alias) and finding ids hash the alias form of every URL, so the same
//! reference crawled in another environment (another `base_url`, the same aliases) keeps its id.
//! A rules file without aliases never reaches this code past one `is_empty` per service.

use std::borrow::Cow;

use super::Rules;

impl Rules {
    /// Whether any service has aliases.
    pub fn has_aliases(&self) -> bool {
        self.services.iter().any(|s| !s.aliases.is_empty())
    }

    /// A canonical URL written under a service's alias, moved under the service's `base_url`
    /// (the path below the alias and the query kept); `None` when it is under no alias (the
    /// longest alias wins).
    pub fn unalias(&self, url: &str) -> Option<String> {
        let mut best: Option<(usize, &str)> = None;
        for s in &self.services {
            for a in &s.aliases {
                let a = a.as_str();
                if url.starts_with(a) && best.is_none_or(|(l, _)| a.len() > l) {
                    best = Some((a.len(), s.base_url.as_str()));
                }
            }
        }
        let (len, base) = best?;
        let mut out = String::with_capacity(base.len() + url.len() - len);
        out.push_str(base);
        out.push_str(&url[len..]);
        Some(out)
    }

    /// A canonical URL in its alias form: under the first alias of its service when that
    /// service has aliases, else unchanged. The inverse of [`Rules::unalias`] for the first
    /// alias.
    pub fn alias_form<'u>(&self, url: &'u str) -> Cow<'u, str> {
        let Some((service, _)) = self.service_of_str(url) else {
            return Cow::Borrowed(url);
        };
        let s = self.service(service);
        match s.aliases.first() {
            Some(alias) => {
                let rest = &url[s.base_url.as_str().len()..];
                Cow::Owned(format!("{}{rest}", alias.as_str()))
            }
            None => Cow::Borrowed(url),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    fn rules() -> super::Rules {
        crate::rules::parse(
            Path::new("t.toml"),
            r#"
[services.customers]
base_url = "http://127.0.0.1:8081/"
aliases = ["https://Customers.prod.example.com", "https://crm.example.com/api/"]
[services.orders]
base_url = "http://127.0.0.1:8082/v1/"
"#,
            &|_| None,
        )
        .unwrap()
    }

    #[test]
    fn links_under_an_alias_move_under_the_base_url_and_back() {
        let r = rules();
        assert!(r.has_aliases());
        assert_eq!(
            r.unalias("https://customers.prod.example.com/customers/3?x=1")
                .as_deref(),
            Some("http://127.0.0.1:8081/customers/3?x=1")
        );
        assert_eq!(
            r.unalias("https://crm.example.com/api/customers/3")
                .as_deref(),
            Some("http://127.0.0.1:8081/customers/3")
        );
        assert_eq!(r.unalias("https://crm.example.com/customers/3"), None);
        assert_eq!(r.unalias("https://customers.prod.example.com.evil/x"), None);
        assert_eq!(r.unalias("http://127.0.0.1:8081/customers/3"), None);
        assert_eq!(
            r.alias_form("http://127.0.0.1:8081/customers/3?x=1"),
            "https://customers.prod.example.com/customers/3?x=1"
        );
        assert_eq!(
            r.alias_form("http://127.0.0.1:8082/v1/orders/1"),
            "http://127.0.0.1:8082/v1/orders/1"
        );
        assert_eq!(r.alias_form("http://elsewhere/x"), "http://elsewhere/x");
    }

    #[test]
    fn an_alias_must_be_a_base_url_other_than_the_services_own() {
        for (alias, msg) in [
            ("http://127.0.0.1:8081/", "own base_url"),
            ("ftp://x/", "scheme"),
            ("https://a.example/?q", "query"),
        ] {
            let text = format!(
                "[services.c]\nbase_url = \"http://127.0.0.1:8081/\"\naliases = [\"{alias}\"]\n"
            );
            let e = crate::rules::parse(Path::new("t.toml"), &text, &|_| None).unwrap_err();
            assert_eq!(e.line, Some(3), "{e}");
            assert_eq!(e.key.as_deref(), Some("services.c.aliases"), "{e}");
            assert!(e.message.contains(msg), "{e}");
        }
    }
}
