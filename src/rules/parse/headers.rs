//! A service's `headers` table: extra request headers, each a string or `{ env = "VAR" }`
//! (a secret then, like `auth`: no message may contain it).

use std::collections::BTreeMap;

use toml::Spanned;

use super::cx::Cx;
use crate::rules::locate::dotted;
use crate::rules::raw::Name;
use crate::rules::{Auth, Header, Secret};

/// Headers the client sets itself: framing, the connection, and the decoding it does.
const RESERVED: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "upgrade",
    "te",
    "trailer",
    "accept-encoding",
    "proxy-connection",
];

pub(super) fn compile_headers(
    cx: &mut Cx<'_>,
    service: &str,
    raw: &BTreeMap<Name, Spanned<toml::Value>>,
    auth: Option<&Auth>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Vec<Header> {
    let mut out: Vec<Header> = Vec::new();
    for (name, value) in raw {
        let n = name.get_ref();
        let key = dotted(&["services", service, "headers", n]);
        if http::HeaderName::from_bytes(n.as_bytes()).is_err() {
            cx.err_at(
                name,
                key,
                format!(
                    "`{n}` is not a valid HTTP header name (expected a token such as `Accept` \
                     or `X-Tenant`)"
                ),
            );
            continue;
        }
        let lower = n.to_ascii_lowercase();
        if RESERVED.contains(&lower.as_str()) {
            cx.err_at(
                name,
                key,
                format!("`{n}` is set by bacaudit itself and cannot be configured"),
            );
            continue;
        }
        if auth.is_some_and(|a| a.header.eq_ignore_ascii_case(n)) {
            cx.err_at(
                name,
                key,
                format!("`{n}` is already the service's `auth` header"),
            );
            continue;
        }
        if out.iter().any(|h| h.name.eq_ignore_ascii_case(n)) {
            cx.err_at(
                name,
                key,
                format!("`{n}` is written twice (names ignore case)"),
            );
            continue;
        }
        if let Some(h) = header_value(cx, n, value, key, env) {
            out.push(h);
        }
    }
    out
}

/// One value: a literal string or `{ env = "VAR" }`, a valid header value either way.
fn header_value(
    cx: &mut Cx<'_>,
    name: &str,
    value: &Spanned<toml::Value>,
    key: String,
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<Header> {
    let (text, var) = match value.get_ref() {
        toml::Value::String(s) => (s.clone(), None),
        toml::Value::Table(t) if t.len() == 1 && t.contains_key("env") => {
            let Some(var) = t["env"].as_str() else {
                cx.err_at(
                    value,
                    key,
                    "`env` must be a string naming an environment variable".into(),
                );
                return None;
            };
            if var.is_empty() || var.contains(['=', '\0']) {
                cx.err_at(
                    value,
                    key,
                    format!("`{var}` is not a valid environment variable name"),
                );
                return None;
            }
            // The value is a secret: no message below may contain it.
            let Some(v) = env(var) else {
                cx.err_at(
                    value,
                    key,
                    format!("environment variable `{var}` is not set (it must hold the `{name}` header value)"),
                );
                return None;
            };
            (v, Some(var.to_string()))
        }
        other => {
            cx.err_at(
                value,
                key,
                format!(
                    "must be a string or `{{ env = \"VAR\" }}`, not {}",
                    other.type_str()
                ),
            );
            return None;
        }
    };
    if text.is_empty() || http::HeaderValue::from_str(&text).is_err() {
        let what = match &var {
            Some(v) => format!("environment variable `{v}` does not hold"),
            None => "is not".to_string(),
        };
        cx.err_at(
            value,
            key,
            format!(
                "{what} a valid, non-empty header value (no control characters, line breaks or \
                 non-ASCII characters)"
            ),
        );
        return None;
    }
    Some(Header {
        name: name.to_string(),
        env: var,
        value: Secret::new(text),
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    fn parse(headers: &str) -> Result<crate::rules::Rules, crate::rules::RulesError> {
        let text = format!(
            "[services.a]\nbase_url = \"http://127.0.0.1:1/\"\nauth = {{ header = \"Authorization\", env = \"TOKEN\" }}\nheaders = {headers}\n"
        );
        crate::rules::parse(Path::new("t.toml"), &text, &|v| match v {
            "TOKEN" => Some("Bearer s3cret".into()),
            "API_VERSION" => Some("2026-12".into()),
            "BAD" => Some("line\nbreak-s3cret".into()),
            _ => None,
        })
    }

    #[test]
    fn literal_and_env_values_compile_and_env_ones_are_redacted() {
        let r = parse(r#"{ Accept = "application/vnd.api+json", "X-Tenant" = "acme", "X-Api-Version" = { env = "API_VERSION" } }"#).unwrap();
        let h = &r.services[0].headers;
        assert_eq!(h.len(), 3);
        let debug = format!("{:?}", r.services[0]);
        assert!(debug.contains("acme"), "{debug}");
        assert!(!debug.contains("2026-12"), "{debug}");
        assert!(debug.contains("API_VERSION"), "{debug}");
    }

    #[test]
    fn bad_names_and_values_are_rules_errors_with_line_and_key() {
        for (headers, key, msg) in [
            (
                r#"{ "X Bad" = "1" }"#,
                "services.a.headers.\"X Bad\"",
                "not a valid HTTP header name",
            ),
            (
                r#"{ "X-A" = "a\nb" }"#,
                "services.a.headers.X-A",
                "valid, non-empty header value",
            ),
            (
                r#"{ "X-A" = 3 }"#,
                "services.a.headers.X-A",
                "must be a string",
            ),
            (
                r#"{ "X-A" = { env = "UNSET" } }"#,
                "services.a.headers.X-A",
                "is not set",
            ),
            (
                r#"{ "X-A" = { env = "BAD" } }"#,
                "services.a.headers.X-A",
                "does not hold",
            ),
            (
                r#"{ Host = "x" }"#,
                "services.a.headers.Host",
                "set by bacaudit",
            ),
            (
                r#"{ authorization = "x" }"#,
                "services.a.headers.authorization",
                "auth",
            ),
            (
                r#"{ "X-A" = "1", "x-a" = "2" }"#,
                "services.a.headers.x-a",
                "twice",
            ),
        ] {
            let e = parse(headers).unwrap_err();
            assert_eq!(e.line, Some(4), "{e}");
            assert_eq!(e.key.as_deref(), Some(key), "{e}");
            assert!(e.message.contains(msg), "{e}");
            let shown = e.to_string();
            assert!(!shown.contains("s3cret"), "{shown}");
        }
    }
}
