//! Forward proxies: per service, from its `proxy` key or else the environment as curl reads
//! it (`http_proxy` for `http://` — lower-case only, as curl — `HTTPS_PROXY`/`https_proxy`
//! for `https://`, `ALL_PROXY`/`all_proxy` for both, `NO_PROXY`/`no_proxy` exceptions).
//! Loopback services are never proxied from the environment, only when their `proxy` key
//! asks. The decision is made once per service; an unproxied request costs one `is_empty`.

use std::net::IpAddr;

use url::{Host, Url};

use crate::rules::{ProxyRule, Rules};

/// The proxied services: (base URL, proxy URL), longest base URL first. Empty: every request
/// goes direct.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Proxies {
    pub(super) routes: Vec<(String, Url)>,
}

/// Proxy URLs without their user and password (a proxy's credentials never reach a log).
impl std::fmt::Debug for Proxies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = self.routes.iter().map(|(base, proxy)| {
            let mut p = proxy.clone();
            let _ = p.set_username("");
            let _ = p.set_password(None);
            (base.as_str(), p.to_string())
        });
        f.debug_list().entries(shown).finish()
    }
}

impl Proxies {
    /// Each service's proxy: its `proxy` key, else what `env` (the process environment,
    /// or a test's) says for its base URL.
    pub fn from_rules(rules: &Rules, env: &dyn Fn(&str) -> Option<String>) -> Proxies {
        let mut routes: Vec<(String, Url)> = rules
            .services
            .iter()
            .filter_map(|s| {
                let proxy = match &s.proxy {
                    Some(ProxyRule::Direct) => None,
                    Some(ProxyRule::Via(p)) => Some(p.clone()),
                    None => from_env(&s.base_url, env),
                }?;
                Some((s.base_url.as_str().to_string(), proxy))
            })
            .collect();
        routes.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        Proxies { routes }
    }

    /// From the rules and the process environment.
    pub fn from_process(rules: &Rules) -> Proxies {
        Proxies::from_rules(rules, &|name| std::env::var(name).ok())
    }

    /// Whether no service is proxied.
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// The index of the proxy for a URL (into the routes), if its service is proxied.
    pub(super) fn route(&self, url: &Url) -> Option<usize> {
        let u = url.as_str();
        self.routes.iter().position(|(base, _)| u.starts_with(base))
    }
}

/// The proxy the environment names for `url`, as curl picks it; `None` for loopback hosts and
/// hosts `NO_PROXY` excludes.
pub(crate) fn from_env(url: &Url, env: &dyn Fn(&str) -> Option<String>) -> Option<Url> {
    let host = url.host()?;
    if is_loopback(&host) {
        return None;
    }
    let set = |name: &str| env(name).filter(|v| !v.trim().is_empty());
    let proxy = match url.scheme() {
        // curl reads only the lower-case `http_proxy` (HTTP_PROXY can be set by a CGI request).
        "http" => set("http_proxy"),
        "https" => set("https_proxy").or_else(|| set("HTTPS_PROXY")),
        _ => None,
    }
    .or_else(|| set("all_proxy"))
    .or_else(|| set("ALL_PROXY"))?;
    let no_proxy = set("no_proxy").or_else(|| set("NO_PROXY"));
    if no_proxy.is_some_and(|n| excluded(&n, &host)) {
        return None;
    }
    let proxy = proxy.trim();
    let proxy = if proxy.contains("://") {
        proxy.to_string()
    } else {
        format!("http://{proxy}")
    };
    Url::parse(&proxy).ok()
}

fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Ipv4(a) => a.is_loopback(),
        Host::Ipv6(a) => a.is_loopback(),
        Host::Domain(d) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }
    }
}

/// Whether a `NO_PROXY` list excludes `host`, as curl reads it: `*` excludes everything; a
/// name matches itself and its subdomains (a leading `.` is ignored); an IP address matches
/// itself, or a CIDR range its addresses; a `:port` suffix is ignored.
fn excluded(list: &str, host: &Host<&str>) -> bool {
    let name = match host {
        Host::Domain(d) => d.trim_end_matches('.').to_ascii_lowercase(),
        Host::Ipv4(a) => a.to_string(),
        Host::Ipv6(a) => a.to_string(),
    };
    let ip: Option<IpAddr> = match host {
        Host::Ipv4(a) => Some(IpAddr::V4(*a)),
        Host::Ipv6(a) => Some(IpAddr::V6(*a)),
        Host::Domain(_) => None,
    };
    list.split(',').map(str::trim).any(|entry| {
        if entry == "*" {
            return true;
        }
        let entry = entry.trim_start_matches('[');
        let entry = match entry.split_once(']') {
            Some((inner, _)) => inner,
            None if entry.matches(':').count() == 1 => entry.split(':').next().unwrap_or(""),
            None => entry,
        };
        if entry.is_empty() {
            return false;
        }
        if let (Some(ip), Some((net, bits))) = (ip, entry.split_once('/')) {
            return in_cidr(ip, net, bits);
        }
        if ip.is_some() {
            return entry.parse::<IpAddr>().ok() == ip;
        }
        let entry = entry.trim_start_matches('.').to_ascii_lowercase();
        name == entry || name.ends_with(&format!(".{entry}"))
    })
}

fn in_cidr(ip: IpAddr, net: &str, bits: &str) -> bool {
    let (Ok(net), Ok(bits)) = (net.parse::<IpAddr>(), bits.parse::<u32>()) else {
        return false;
    };
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pick(url: &str, vars: &[(&str, &str)]) -> Option<String> {
        let env = |name: &str| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_string())
        };
        from_env(&Url::parse(url).unwrap(), &env).map(|u| u.to_string())
    }

    #[test]
    fn the_environment_is_read_as_curl_reads_it() {
        let p = "http://proxy.corp:3128/";
        // http: lower-case http_proxy only; https: either case; ALL_PROXY for both.
        assert_eq!(pick("http://api.corp/", &[("HTTP_PROXY", p)]), None);
        assert_eq!(
            pick("http://api.corp/", &[("http_proxy", p)]).as_deref(),
            Some(p)
        );
        assert_eq!(
            pick("https://api.corp/", &[("HTTPS_PROXY", p)]).as_deref(),
            Some(p)
        );
        assert_eq!(
            pick("https://api.corp/", &[("https_proxy", p)]).as_deref(),
            Some(p)
        );
        assert_eq!(pick("https://api.corp/", &[("http_proxy", p)]), None);
        assert_eq!(
            pick("http://api.corp/", &[("ALL_PROXY", p)]).as_deref(),
            Some(p)
        );
        assert_eq!(
            pick("http://api.corp/", &[("http_proxy", "proxy.corp:3128")]).as_deref(),
            Some(p)
        );
        // Loopback never.
        for u in [
            "http://127.0.0.1:8081/",
            "http://[::1]:1/",
            "http://localhost:1/",
            "http://a.localhost/",
        ] {
            assert_eq!(pick(u, &[("http_proxy", p), ("ALL_PROXY", p)]), None, "{u}");
        }
        // NO_PROXY: names and their subdomains, IPs, CIDR ranges, `*`, ports ignored.
        let with = |no: &str, u: &str| pick(u, &[("https_proxy", p), ("NO_PROXY", no)]);
        assert_eq!(with("corp", "https://api.corp/"), None);
        assert_eq!(with(".corp", "https://api.corp/"), None);
        assert_eq!(with("api.corp:443", "https://api.corp/"), None);
        assert_eq!(with("other.corp", "https://api.corp/").as_deref(), Some(p));
        assert_eq!(with("pi.corp", "https://api.corp/").as_deref(), Some(p));
        assert_eq!(with("*", "https://api.corp/"), None);
        assert_eq!(with("10.0.0.0/8", "https://10.2.3.4/"), None);
        assert_eq!(with("10.0.0.0/8", "https://11.2.3.4/").as_deref(), Some(p));
        assert_eq!(with("x, 192.0.2.2", "https://192.0.2.2:9/"), None);
        assert_eq!(with("[fd00::2]", "https://[fd00::2]:9/"), None);
        assert_eq!(
            pick(
                "https://api.corp/",
                &[("https_proxy", p), ("no_proxy", "corp"), ("NO_PROXY", "x")]
            ),
            None,
            "lower-case first"
        );
    }

    #[test]
    fn debug_leaves_out_a_proxys_credentials() {
        let proxies = Proxies {
            routes: vec![(
                "http://api/".into(),
                Url::parse("http://user:s3cret@proxy:3128/").unwrap(),
            )],
        };
        let shown = format!("{proxies:?}");
        assert!(
            !shown.contains("s3cret") && !shown.contains("user"),
            "{shown}"
        );
        assert!(shown.contains("proxy:3128"), "{shown}");
    }
}
