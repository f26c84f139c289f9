//! A service's `auth` table: a header name and the environment variable that holds its value,
//! which is a secret no message may contain.

use super::cx::Cx;
use crate::rules::locate::dotted;
use crate::rules::raw::RawAuth;
use crate::rules::{Auth, Secret};

pub(super) fn compile_auth(
    cx: &mut Cx<'_>,
    service: &str,
    a: &RawAuth,
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<Auth> {
    let key = |leaf: &str| dotted(&["services", service, "auth", leaf]);
    let header = a.header.get_ref();
    let header_ok = http::HeaderName::from_bytes(header.as_bytes()).is_ok();
    if !header_ok {
        cx.err_at(
            &a.header,
            key("header"),
            format!(
                "`{header}` is not a valid HTTP header name (expected a token such as \
                 `Authorization` or `X-Api-Key`)"
            ),
        );
    }
    let var = a.env.get_ref();
    let value = env_value(cx, a, key("env"), env)?;
    header_ok.then(|| Auth {
        header: header.clone(),
        env: var.clone(),
        value: Secret::new(value),
    })
}

/// The header value held by `auth.env`'s variable: a valid name, set, not empty, and a valid
/// header value.
fn env_value(
    cx: &mut Cx<'_>,
    a: &RawAuth,
    key: String,
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<String> {
    let header = a.header.get_ref();
    let var = a.env.get_ref();
    if var.is_empty() || var.contains(['=', '\0']) {
        cx.err_at(
            &a.env,
            key,
            format!("`{var}` is not a valid environment variable name"),
        );
        return None;
    }
    // The value is a secret: no message below may contain it.
    let Some(value) = env(var) else {
        cx.err_at(
            &a.env,
            key,
            format!(
                "environment variable `{var}` is not set (it must hold the whole `{header}` \
                 header value)"
            ),
        );
        return None;
    };
    if value.is_empty() {
        cx.err_at(
            &a.env,
            key,
            format!("environment variable `{var}` is empty"),
        );
        return None;
    }
    if http::HeaderValue::from_str(&value).is_err() {
        cx.err_at(
            &a.env,
            key,
            format!(
                "environment variable `{var}` does not hold a valid header value (it contains \
                 control characters, line breaks or non-ASCII characters)"
            ),
        );
        return None;
    }
    Some(value)
}
