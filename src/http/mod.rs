//! The one HTTP client layer, used by the crawl (through [`crate::source::LiveSource`]) and by
//! `apply`: one place that sends a request ([`Client::send`]: hyper HTTP/1.1 for `http://`,
//! reqwest over rustls for `https://`), one retry loop ([`retry`]) with one classification of
//! statuses ([`classify_status`]), and one mapping from a transport failure to a
//! [`Reason`](crate::vocab::Reason) ([`Failure::reason`]).
//!
//! It imports only the bottom layers (`vocab`, `canon`, `json`, `intern`, `rules`), never a
//! stage: `source` and `crawl` build on it.

mod client;
mod failure;
mod h1;
mod retry;
mod tls;

pub use ::http::Method;
pub use client::{
    Client, ClientOptions, Headers, Request, Response, ServiceHeaders, TlsOptions, ACCEPT_VALUE,
    USER_AGENT_VALUE,
};
pub use failure::{ClientError, Failure};
pub use retry::{
    classify_status, next_of, parse_retry_after, retry, Next, RetryPolicy, Retryable, Verdict,
};

#[cfg(test)]
mod tests {
    /// The layer rule: the client layer imports only the bottom layers, never a stage.
    #[test]
    fn the_client_layer_imports_no_stage() {
        const ALLOWED: [&str; 6] = ["http", "vocab", "canon", "json", "intern", "rules"];
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http");
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let whole = std::fs::read_to_string(&path).unwrap();
            // Unit tests may reach further (this one names what it looks for).
            let text = whole.split("#[cfg(test)]").next().unwrap_or_default();
            for (at, _) in text.match_indices("crate::") {
                let rest = &text[at + "crate::".len()..];
                let module: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                let line = text[..at].lines().count();
                // Doc links to the layers above are not imports.
                let doc = text[..at].rsplit('\n').next().unwrap_or("").trim_start();
                if doc.starts_with("//") {
                    continue;
                }
                assert!(
                    ALLOWED.contains(&module.as_str()),
                    "{}:{line}: imports crate::{module}",
                    path.display()
                );
            }
        }
    }
}
