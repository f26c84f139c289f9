//! The dry run of `apply`: the plan as a table of the requests exactly as they will be sent
//! (method, URL, content type, body), what is left to a person, and the same requests as curl
//! commands. Nothing is sent.

use std::fmt::Write as _;

use url::Url;

use crate::plan::request::{self, Body, Request};
use crate::plan::{Note, Operation};
use crate::rules::{self, Rules};

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// The requests of `ops`, in the dialects of their services (a dry run reads nothing: a body
/// made from the current representation is shown as the jq filter that makes it).
pub(super) fn requests(ops: &[Operation], rules: &Rules) -> Vec<Request> {
    ops.iter()
        .map(|op| {
            let (patch, _) = request::dialects(rules, &op.url);
            request::request(op, rules, patch, None)
                .expect("a request built without a representation always succeeds")
        })
        .collect()
}

pub(super) fn render(ops: &[Operation], notes: &[Note], rules: &Rules) -> String {
    let reqs = requests(ops, rules);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "PLAN ({} operations; dry run: nothing was sent)",
        ops.len()
    );
    for (i, (op, req)) in ops.iter().zip(&reqs).enumerate() {
        let creates = if req.url == op.url {
            String::new()
        } else {
            format!(" (creates {})", op.url)
        };
        let _ = writeln!(
            out,
            "{:>3}. {:<6} {}{creates}  [{}] repairs {} finding(s)",
            i + 1,
            req.verb,
            req.url,
            op.actions
                .iter()
                .map(|a| a.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            op.findings.len()
        );
        let ct = req
            .content_type
            .map(|c| format!("Content-Type: {c}  "))
            .unwrap_or_default();
        match &req.body {
            Body::None => {}
            Body::Json(b) => {
                let _ = writeln!(out, "       {ct}{b}");
            }
            Body::FromCurrent { jq } => {
                let _ = writeln!(
                    out,
                    "       {ct}its representation read right before, through jq: {jq}"
                );
            }
        }
    }
    if !notes.is_empty() {
        let _ = writeln!(out, "\nFOR A PERSON ({})", notes.len());
        for n in notes {
            let _ = writeln!(out, "  - {}: {}", n.url, n.reason);
        }
    }
    let _ = writeln!(out, "\nAS CURL COMMANDS");
    for req in &reqs {
        let _ = writeln!(out, "{}", curl(req, rules));
    }
    let _ = writeln!(
        out,
        "\nRun again with --execute to perform it: each operation is re-checked right before, \
         sent with If-Match where the service gives a strong ETag, and read back after; only \
         a verified effect counts as done."
    );
    out
}

/// The curl command (or pipeline, for a body made from the current representation) that
/// sends `req`.
fn curl(req: &Request, rules: &Rules) -> String {
    let auth = Url::parse(&req.url)
        .ok()
        .and_then(|u| rules.service_of(&u))
        .map(|s| curl_auth(rules.service(s)))
        .unwrap_or_default();
    let mut send = format!("curl -fsS -X {} {}{auth}", req.verb, shell_quote(&req.url));
    if let Some(ct) = req.content_type {
        let _ = write!(send, " -H {}", shell_quote(&format!("Content-Type: {ct}")));
    }
    match &req.body {
        Body::None => send,
        Body::Json(b) => format!("{send} --data {}", shell_quote(&b.to_string())),
        Body::FromCurrent { jq } => format!(
            "curl -fsS {}{auth} | jq -c {} | {send} --data-binary @-",
            shell_quote(&req.url),
            shell_quote(jq)
        ),
    }
}

/// The curl options that send a service's credentials, from the variables they are read from
/// (never their values).
fn curl_auth(s: &rules::Service) -> String {
    if let Some(auth) = &s.auth {
        return match &auth.form {
            rules::AuthForm::Header => format!(" -H \"{}: ${}\"", auth.header, auth.env),
            rules::AuthForm::Bearer => format!(" -H \"Authorization: Bearer ${}\"", auth.env),
            rules::AuthForm::Basic {
                user_env,
                password_env,
                ..
            } => format!(" -u \"${user_env}:${password_env}\""),
        };
    }
    match &s.oauth2 {
        // The token is fetched when the plan is executed; by hand, get one first.
        Some(o) => format!(
            " -H \"Authorization: Bearer $TOKEN\"  # TOKEN from {} (client ${})",
            o.token_url, o.client_id_env
        ),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::request::Verb;

    #[test]
    fn shell_quoting_survives_quotes() {
        assert_eq!(shell_quote("a'b"), "'a'\\''b'");
    }

    #[test]
    fn a_body_from_the_current_representation_is_a_pipeline() {
        let rules = Rules {
            path: "t.toml".into(),
            services: Vec::new(),
            kinds: Vec::new(),
            links: Vec::new(),
        };
        let req = Request {
            verb: Verb::Put,
            url: "http://h/o/1".into(),
            content_type: Some("application/json"),
            body: Body::FromCurrent {
                jq: "setpath([\"c\"]; null)".into(),
            },
        };
        assert_eq!(
            curl(&req, &rules),
            "curl -fsS 'http://h/o/1' | jq -c 'setpath([\"c\"]; null)' | curl -fsS -X PUT \
             'http://h/o/1' -H 'Content-Type: application/json' --data-binary @-"
        );
    }
}
