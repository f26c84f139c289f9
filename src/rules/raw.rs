//! The rules file as written: serde structs that reject unknown keys and keep the spans of the
//! values validation needs to point at.
//!
//! Tables are never wrapped in [`Spanned`]: a table only named through a longer header
//! (`[kinds.order.links.customer]` names `kinds.order.links`) has no span. Map keys carry
//! spans instead.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

pub(super) type Name = Spanned<String>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRules {
    pub version: Option<Spanned<i64>>,
    pub services: Option<BTreeMap<Name, RawService>>,
    pub kinds: Option<BTreeMap<Name, RawKind>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawService {
    pub base_url: Spanned<String>,
    pub seeds: Option<Vec<Spanned<String>>>,
    pub auth: Option<RawAuth>,
    pub concurrency: Option<Spanned<i64>>,
    /// `false` pins the service at `concurrency` (no adaptive limit).
    pub adaptive: Option<bool>,
    pub rate_limit: Option<Spanned<f64>>,
    /// When the service's restored backup was taken: a TOML offset date-time or an RFC 3339
    /// string (checked in parse).
    pub restored_from: Option<Spanned<toml::Value>>,
    /// Other base URLs the service's links are written under (`https://customers.prod.example.com/`).
    pub aliases: Option<Vec<Spanned<String>>>,
    /// Extra request headers: a string, or `{ env = "VAR" }` (checked in parse).
    pub headers: Option<BTreeMap<Name, Spanned<toml::Value>>>,
    /// `"http://host:port"` or `"none"`; wins over the proxy environment variables.
    pub proxy: Option<Spanned<String>>,
    pub tls: Option<RawTls>,
    /// `json-patch` | `merge-patch` | `put` (checked in parse).
    pub patch: Option<Spanned<String>>,
    /// `put` | `post` (checked in parse).
    pub create: Option<Spanned<String>>,
}

/// `tls = { ca = "ca.pem" | ["a.pem", …], cert, key, insecure }`: paths relative to the rules
/// file (checked in parse).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTls {
    pub ca: Option<Spanned<toml::Value>>,
    pub cert: Option<Spanned<String>>,
    pub key: Option<Spanned<String>>,
    pub insecure: Option<Spanned<bool>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAuth {
    /// `header` + `env`: the variable holds the whole header value.
    pub header: Option<Spanned<String>>,
    pub env: Option<Spanned<String>>,
    /// `bearer_env`: `Authorization: Bearer <value>`.
    pub bearer_env: Option<Spanned<String>>,
    /// `basic_user_env` + `basic_password_env`: `Authorization: Basic …`.
    pub basic_user_env: Option<Spanned<String>>,
    pub basic_password_env: Option<Spanned<String>>,
    /// OAuth2 client credentials.
    pub oauth2: Option<RawOAuth2>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOAuth2 {
    pub token_url: Spanned<String>,
    pub client_id_env: Spanned<String>,
    pub client_secret_env: Spanned<String>,
    pub scope: Option<Spanned<String>>,
    pub audience: Option<Spanned<String>>,
    /// `client_secret_basic` (default) or `client_secret_post`.
    pub client_auth: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawKind {
    pub service: Spanned<String>,
    pub path: Spanned<String>,
    pub collection: Option<Spanned<String>>,
    pub id_pointer: Option<Spanned<String>>,
    /// JSON pointer to a collection page's list (`/rows`, `/value`).
    pub items_pointer: Option<Spanned<String>>,
    pub jsonapi_type: Option<Spanned<String>>,
    pub must_be_referenced_by: Option<Vec<Spanned<String>>>,
    pub on_orphan: Option<Spanned<String>>,
    pub links: Option<BTreeMap<Name, RawLink>>,
    /// JSON pointer to an RFC 3339 string in an item's body (`/created_at`).
    pub timestamp: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLink {
    pub pointer: Option<Spanned<String>>,
    pub rel: Option<Spanned<String>>,
    pub to: Spanned<String>,
    pub on_broken: Option<Spanned<String>>,
}
