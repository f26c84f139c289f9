//! A service's `auth` table, in one of four forms: a header whose whole value is in an
//! environment variable (`header` + `env`), a bearer token (`bearer_env`), basic auth
//! (`basic_user_env` + `basic_password_env`) or OAuth2 client credentials (`oauth2`). Values
//! read from the environment are secrets no message may contain.

use base64::Engine as _;
use toml::Spanned;
use url::Url;

use super::cx::{enum_value, Cx};
use crate::rules::locate::dotted;
use crate::rules::raw::{RawAuth, RawOAuth2};
use crate::rules::{Auth, AuthForm, ClientAuth, OAuth2, Secret};

type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The forms, for messages.
const FORMS: &str = "`header` and `env`, `bearer_env`, `basic_user_env` and \
    `basic_password_env`, or `oauth2`";

/// The static header or the OAuth2 credentials of one service (at most one of them).
pub(super) fn compile_auth(
    cx: &mut Cx<'_>,
    service: &str,
    a: &RawAuth,
    env: Env<'_>,
) -> (Option<Auth>, Option<OAuth2>) {
    let key = |leaf: &str| dotted(&["services", service, "auth", leaf]);
    let header_form = a.header.is_some() || a.env.is_some();
    let basic_form = a.basic_user_env.is_some() || a.basic_password_env.is_some();
    let mut written = Vec::new();
    if header_form {
        written.push(if a.header.is_some() { "header" } else { "env" });
    }
    if a.bearer_env.is_some() {
        written.push("bearer_env");
    }
    if basic_form {
        written.push(if a.basic_user_env.is_some() {
            "basic_user_env"
        } else {
            "basic_password_env"
        });
    }
    if a.oauth2.is_some() {
        written.push("oauth2");
    }
    match written.as_slice() {
        [] => {
            let span = cx.key_span(&["services", service, "auth"]);
            cx.err(
                span,
                dotted(&["services", service, "auth"]),
                format!("names no credential (expected one of: {FORMS})"),
            );
            (None, None)
        }
        [_] if header_form => (header(cx, a, &key, env), None),
        [_] if basic_form => (basic(cx, a, &key, env), None),
        [_] => match (&a.bearer_env, &a.oauth2) {
            (Some(var), _) => (bearer(cx, var, key("bearer_env"), env), None),
            (None, Some(o)) => (None, oauth2(cx, service, o, env)),
            (None, None) => unreachable!("one form was written"),
        },
        [first, second, ..] => {
            let span = cx.key_span(&["services", service, "auth", second]);
            cx.err(
                span,
                key(second),
                format!("`{second}` cannot be combined with `{first}`: choose one of {FORMS}"),
            );
            (None, None)
        }
    }
}

/// `header` + `env`.
fn header(
    cx: &mut Cx<'_>,
    a: &RawAuth,
    key: &dyn Fn(&str) -> String,
    env: Env<'_>,
) -> Option<Auth> {
    let (Some(h), Some(var)) = (&a.header, &a.env) else {
        let (present, missing) = if a.header.is_some() {
            ("header", "env")
        } else {
            ("env", "header")
        };
        let span = match (&a.header, &a.env) {
            (Some(h), _) => h.span(),
            (_, Some(e)) => e.span(),
            _ => unreachable!("one of them is present"),
        };
        cx.err(
            Some(span),
            key(present),
            format!(
                "`{present}` needs `{missing}` (the header's name and the environment variable \
                 that holds its whole value)"
            ),
        );
        return None;
    };
    let name = h.get_ref();
    let header_ok = http::HeaderName::from_bytes(name.as_bytes()).is_ok();
    if !header_ok {
        cx.err_at(
            h,
            key("header"),
            format!(
                "`{name}` is not a valid HTTP header name (expected a token such as \
                 `Authorization` or `X-Api-Key`)"
            ),
        );
    }
    let what = format!("the whole `{name}` header value");
    let value = env_value(cx, var, key("env"), env, &what)?;
    header_value(cx, var, key("env"), &value)?;
    header_ok.then(|| Auth {
        header: name.clone(),
        env: var.get_ref().clone(),
        value: Secret::new(value),
        form: AuthForm::Header,
    })
}

/// `bearer_env`: `Authorization: Bearer <token>`.
fn bearer(cx: &mut Cx<'_>, var: &Spanned<String>, key: String, env: Env<'_>) -> Option<Auth> {
    let token = env_value(cx, var, key.clone(), env, "the bearer token")?;
    let value = format!("Bearer {}", token.trim());
    header_value(cx, var, key, &value)?;
    Some(Auth {
        header: "Authorization".into(),
        env: var.get_ref().clone(),
        value: Secret::new(value),
        form: AuthForm::Bearer,
    })
}

/// `basic_user_env` + `basic_password_env`: `Authorization: Basic base64(user:password)`.
fn basic(cx: &mut Cx<'_>, a: &RawAuth, key: &dyn Fn(&str) -> String, env: Env<'_>) -> Option<Auth> {
    let (Some(u), Some(p)) = (&a.basic_user_env, &a.basic_password_env) else {
        let (present, missing, span) = match (&a.basic_user_env, &a.basic_password_env) {
            (Some(u), _) => ("basic_user_env", "basic_password_env", u.span()),
            (_, Some(p)) => ("basic_password_env", "basic_user_env", p.span()),
            _ => unreachable!("one of them is present"),
        };
        cx.err(
            Some(span),
            key(present),
            format!("`{present}` needs `{missing}` (basic auth takes a user and a password)"),
        );
        return None;
    };
    let user = env_value(
        cx,
        u,
        key("basic_user_env"),
        env,
        "the basic auth user name",
    );
    let password = env_value(
        cx,
        p,
        key("basic_password_env"),
        env,
        "the basic auth password",
    );
    let (user, password) = (user?, password?);
    if user.contains(':') {
        cx.err_at(
            u,
            key("basic_user_env"),
            format!(
                "environment variable `{}` holds a user name with `:`, which basic auth cannot \
                 carry (RFC 7617)",
                u.get_ref()
            ),
        );
        return None;
    }
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    Some(Auth {
        header: "Authorization".into(),
        env: u.get_ref().clone(),
        value: Secret::new(format!("Basic {encoded}")),
        form: AuthForm::Basic {
            user_env: u.get_ref().clone(),
            password_env: p.get_ref().clone(),
            password: Secret::new(password),
        },
    })
}

/// `oauth2 = { token_url, client_id_env, client_secret_env, scope, audience, client_auth }`.
fn oauth2(cx: &mut Cx<'_>, service: &str, o: &RawOAuth2, env: Env<'_>) -> Option<OAuth2> {
    let key = |leaf: &str| dotted(&["services", service, "auth", "oauth2", leaf]);
    let token_url = match token_url(o.token_url.get_ref()) {
        Ok(u) => Some(u),
        Err(m) => {
            cx.err_at(&o.token_url, key("token_url"), m);
            None
        }
    };
    let client_id = env_value(
        cx,
        &o.client_id_env,
        key("client_id_env"),
        env,
        "the OAuth2 client id",
    );
    let client_secret = env_value(
        cx,
        &o.client_secret_env,
        key("client_secret_env"),
        env,
        "the OAuth2 client secret",
    );
    let mut words = |v: &Option<Spanned<String>>, leaf: &str| -> Option<String> {
        let v = v.as_ref()?;
        if v.get_ref().trim().is_empty() || v.get_ref().contains(['\r', '\n', '\0']) {
            cx.err_at(v, key(leaf), "must be a non-empty line of text".into());
            return None;
        }
        Some(v.get_ref().trim().to_string())
    };
    let scope = words(&o.scope, "scope");
    let audience = words(&o.audience, "audience");
    let client_auth = enum_value(
        cx,
        o.client_auth.as_ref(),
        &[
            ("client_secret_basic", ClientAuth::ClientSecretBasic),
            ("client_secret_post", ClientAuth::ClientSecretPost),
        ],
        ClientAuth::ClientSecretBasic,
        key("client_auth"),
        "client authentication",
    );
    Some(OAuth2 {
        token_url: token_url?,
        client_id_env: o.client_id_env.get_ref().clone(),
        client_secret_env: o.client_secret_env.get_ref().clone(),
        client_id: Secret::new(client_id?),
        client_secret: Secret::new(client_secret?),
        scope,
        audience,
        client_auth,
    })
}

/// A token endpoint: an absolute `http(s)://` URL without credentials or fragment.
fn token_url(text: &str) -> Result<Url, String> {
    let u = Url::parse(text).map_err(|e| format!("`{text}` is not an absolute URL: {e}"))?;
    if !matches!(u.scheme(), "http" | "https") || u.host().is_none() {
        return Err(format!("`{text}` is not an http:// or https:// URL"));
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err(
            "must not contain credentials (`user:password@`); use `client_id_env` and \
             `client_secret_env`"
                .into(),
        );
    }
    if u.fragment().is_some() {
        return Err(format!("`{text}` has a fragment (`#…`)"));
    }
    Ok(u)
}

/// The value of the variable `var` names: a valid name, set and not empty.
fn env_value(
    cx: &mut Cx<'_>,
    var: &Spanned<String>,
    key: String,
    env: Env<'_>,
    what: &str,
) -> Option<String> {
    let name = var.get_ref();
    if name.is_empty() || name.contains(['=', '\0']) {
        cx.err_at(
            var,
            key,
            format!("`{name}` is not a valid environment variable name"),
        );
        return None;
    }
    // The value is a secret: no message below may contain it.
    let Some(value) = env(name) else {
        cx.err_at(
            var,
            key,
            format!("environment variable `{name}` is not set (it must hold {what})"),
        );
        return None;
    };
    if value.is_empty() {
        cx.err_at(var, key, format!("environment variable `{name}` is empty"));
        return None;
    }
    Some(value)
}

/// Checks that a header value made from `var` can be sent.
fn header_value(cx: &mut Cx<'_>, var: &Spanned<String>, key: String, value: &str) -> Option<()> {
    if http::HeaderValue::from_str(value).is_err() {
        cx.err_at(
            var,
            key,
            format!(
                "environment variable `{}` does not hold a valid header value (it contains \
                 control characters, line breaks or non-ASCII characters)",
                var.get_ref()
            ),
        );
        return None;
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use base64::Engine as _;

    use crate::rules::{parse, AuthForm, ClientAuth, Rules, RulesError};

    const SECRETS: &[(&str, &str)] = &[
        ("TOKEN", "tok-SECRET-1"),
        ("USER", "svc-user"),
        ("PASS", "pa:ss-SECRET-2"),
        ("COLON_USER", "a:b"),
        ("CLIENT", "bacaudit-client"),
        ("CLIENT_SECRET", "cs-SECRET-3"),
    ];

    fn env(name: &str) -> Option<String> {
        SECRETS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.to_string())
    }

    fn with_auth(auth: &str) -> Result<Rules, RulesError> {
        let text = format!("[services.a]\nbase_url = \"http://h/\"\nauth = {auth}\n");
        parse(Path::new("t.toml"), &text, &env)
    }

    #[track_caller]
    fn rejected(auth: &str, key: &str, fragment: &str) {
        let e = with_auth(auth).expect_err("rejected");
        let shown = format!("{e} {e:?}");
        assert_eq!(e.key.as_deref(), Some(key), "{shown}");
        assert_eq!(e.line, Some(3), "{shown}");
        assert!(e.message.contains(fragment), "{shown}");
        for (_, secret) in SECRETS {
            assert!(!shown.contains(secret), "secret leaked: {shown}");
        }
    }

    #[test]
    fn bearer_and_basic_become_an_authorization_header() {
        let r = with_auth("{ bearer_env = \"TOKEN\" }").unwrap();
        let a = r.services[0].auth.as_ref().unwrap();
        assert_eq!(
            (a.header.as_str(), a.value.expose(), &a.form),
            ("Authorization", "Bearer tok-SECRET-1", &AuthForm::Bearer)
        );
        let r = with_auth("{ basic_user_env = \"USER\", basic_password_env = \"PASS\" }").unwrap();
        let a = r.services[0].auth.as_ref().unwrap();
        let b64 = base64::engine::general_purpose::STANDARD.encode("svc-user:pa:ss-SECRET-2");
        assert_eq!(a.value.expose(), format!("Basic {b64}"));
        assert!(r.services[0].secrets().contains(&"pa:ss-SECRET-2"));
        assert!(!format!("{r:?}").contains("SECRET-"), "{r:?}");
    }

    #[test]
    fn oauth2_client_credentials_compile() {
        let r = with_auth(
            "{ oauth2 = { token_url = \"https://idp.example/token\", client_id_env = \"CLIENT\", \
             client_secret_env = \"CLIENT_SECRET\", scope = \"orders:read\", audience = \"api\" } }",
        )
        .unwrap();
        let s = &r.services[0];
        assert!(s.auth.is_none());
        let o = s.oauth2.as_ref().unwrap();
        assert_eq!(o.token_url.as_str(), "https://idp.example/token");
        assert_eq!(o.client_id.expose(), "bacaudit-client");
        assert_eq!(o.client_secret.expose(), "cs-SECRET-3");
        assert_eq!(o.scope.as_deref(), Some("orders:read"));
        assert_eq!(o.audience.as_deref(), Some("api"));
        assert_eq!(o.client_auth, ClientAuth::ClientSecretBasic);
        assert!(s.secrets().contains(&"cs-SECRET-3"));
        assert!(!format!("{r:?}").contains("SECRET-"), "{r:?}");
        let r = with_auth(
            "{ oauth2 = { token_url = \"http://127.0.0.1:9/t\", client_id_env = \"CLIENT\", \
             client_secret_env = \"CLIENT_SECRET\", client_auth = \"client_secret_post\" } }",
        )
        .unwrap();
        let o = r.services[0].oauth2.as_ref().unwrap();
        assert_eq!(o.client_auth, ClientAuth::ClientSecretPost);
        assert_eq!((o.scope.as_deref(), o.audience.as_deref()), (None, None));
    }

    #[test]
    fn mistakes_are_named_without_secrets() {
        rejected("{ }", "services.a.auth", "names no credential");
        rejected(
            "{ bearer_env = \"TOKEN\", header = \"X\", env = \"TOKEN\" }",
            "services.a.auth.bearer_env",
            "cannot be combined with `header`",
        );
        rejected(
            "{ header = \"X\" }",
            "services.a.auth.header",
            "needs `env`",
        );
        rejected(
            "{ bearer_env = \"NOPE\" }",
            "services.a.auth.bearer_env",
            "`NOPE` is not set (it must hold the bearer token)",
        );
        rejected(
            "{ basic_user_env = \"USER\" }",
            "services.a.auth.basic_user_env",
            "needs `basic_password_env`",
        );
        rejected(
            "{ basic_user_env = \"COLON_USER\", basic_password_env = \"PASS\" }",
            "services.a.auth.basic_user_env",
            "with `:`",
        );
        let o = |inner: &str| {
            format!(
                "{{ oauth2 = {{ client_id_env = \"CLIENT\", client_secret_env = \"CLIENT_SECRET\", \
                 {inner} }} }}"
            )
        };
        rejected(
            &o("token_url = \"ftp://idp/token\""),
            "services.a.auth.oauth2.token_url",
            "not an http:// or https:// URL",
        );
        rejected(
            &o("token_url = \"https://id:cs-SECRET-3@idp/token\""),
            "services.a.auth.oauth2.token_url",
            "must not contain credentials",
        );
        rejected(
            &o("token_url = \"https://idp/token\", client_auth = \"private_key_jwt\""),
            "services.a.auth.oauth2.client_auth",
            "unknown client authentication `private_key_jwt`",
        );
        rejected(
            &o("token_url = \"https://idp/token\", scope = \"\""),
            "services.a.auth.oauth2.scope",
            "non-empty",
        );
        rejected(
            "{ oauth2 = { token_url = \"https://idp/t\", client_id_env = \"CLIENT\", \
             client_secret_env = \"MISSING\" } }",
            "services.a.auth.oauth2.client_secret_env",
            "`MISSING` is not set (it must hold the OAuth2 client secret)",
        );
    }
}
