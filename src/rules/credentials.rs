//! The credential forms of a service's `auth` beyond a plain header: how a static
//! `Authorization` value was made ([`AuthForm`]) and OAuth2 client credentials ([`OAuth2`]),
//! whose tokens the HTTP layer fetches and renews. Secrets are [`Secret`]s: never shown.

use std::fmt;

use url::Url;

use super::Secret;

/// How a static auth header was written in the rules (the value is made once, at load).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthForm {
    /// `auth = { header, env }`: the variable holds the whole header value.
    Header,
    /// `auth = { bearer_env }`: `Authorization: Bearer <value of the variable>`.
    Bearer,
    /// `auth = { basic_user_env, basic_password_env }`: `Authorization: Basic base64(user:password)`.
    Basic {
        user_env: String,
        password_env: String,
        /// The password alone, kept to redact it where a service echoes it.
        password: Secret,
    },
}

/// How the client authenticates at the token endpoint (RFC 8414 names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientAuth {
    /// HTTP Basic with the url-encoded client id and secret (RFC 6749 §2.3.1; the default).
    #[default]
    ClientSecretBasic,
    /// `client_id` and `client_secret` as form fields of the token request.
    ClientSecretPost,
}

impl ClientAuth {
    /// The name used in the rules.
    pub fn as_str(self) -> &'static str {
        match self {
            ClientAuth::ClientSecretBasic => "client_secret_basic",
            ClientAuth::ClientSecretPost => "client_secret_post",
        }
    }
}

/// `auth = { oauth2 = { … } }`: a bearer token got with the client credentials grant from
/// `token_url`, sent to this service only.
#[derive(Clone)]
pub struct OAuth2 {
    pub token_url: Url,
    /// The environment variables the client id and secret came from (safe to print).
    pub client_id_env: String,
    pub client_secret_env: String,
    pub client_id: Secret,
    pub client_secret: Secret,
    pub scope: Option<String>,
    /// The `audience` form field (Auth0, Okta and others name the API this way).
    pub audience: Option<String>,
    pub client_auth: ClientAuth,
}

impl fmt::Debug for OAuth2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuth2")
            .field("token_url", &self.token_url.as_str())
            .field("client_id_env", &self.client_id_env)
            .field("client_secret_env", &self.client_secret_env)
            .field("scope", &self.scope)
            .field("audience", &self.audience)
            .field("client_auth", &self.client_auth)
            .finish_non_exhaustive()
    }
}
