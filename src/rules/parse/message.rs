//! `toml`'s own errors (syntax, unknown key, wrong type, missing key) as [`RulesError`]s: located
//! by line and dotted key, in TOML's words.

use std::path::Path;

use crate::rules::locate::{dotted, line_of, Located};
use crate::rules::RulesError;

/// A `toml` error (syntax, unknown key, wrong type, missing key) as a [`RulesError`].
pub(super) fn toml_error(file: &Path, text: &str, e: &toml::de::Error) -> RulesError {
    let span = e.span();
    let line = span.as_ref().map(|s| line_of(text, s.start));
    let syntax = text.parse::<toml::Table>().is_err();
    let key = if syntax {
        None
    } else {
        span.as_ref()
            .and_then(|s| Located::parse(text)?.key_at(s))
            .map(|p| dotted(&p))
    };
    let mut message = tidy_message(e.message());
    // `toml` hands a date-time to serde as a one-entry table.
    let value_text = span
        .as_ref()
        .and_then(|s| text.get(s.clone()))
        .unwrap_or("");
    if message.starts_with("invalid type: table")
        && !value_text.trim_start().starts_with(['{', '['])
    {
        message = message.replacen("invalid type: table", "invalid type: date-time", 1);
    }
    RulesError {
        file: file.to_path_buf(),
        line,
        key,
        message: if syntax {
            format!("TOML syntax error: {message}")
        } else {
            message
        },
    }
}

/// One line, lower-case start, and TOML words for serde's (`table`, `array`, `key`).
fn tidy_message(message: &str) -> String {
    let mut m = message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    for (from, to) in [
        ("unknown field", "unknown key"),
        ("missing field", "missing key"),
        ("duplicate field", "duplicate key"),
        ("invalid type: map", "invalid type: table"),
        ("invalid type: sequence", "invalid type: array"),
        ("expected a map", "expected a table"),
        ("expected a sequence", "expected an array"),
        ("expected struct RawRules", "expected a table"),
        ("expected struct RawService", "expected a table"),
        ("expected struct RawAuth", "expected a table"),
        ("expected struct RawTls", "expected a table"),
        ("expected struct RawKind", "expected a table"),
        ("expected struct RawLink", "expected a table"),
        ("expected i64", "expected an integer"),
        ("expected f64", "expected a number"),
    ] {
        m = m.replace(from, to);
    }
    let mut chars = m.chars();
    match (chars.next(), chars.next()) {
        (Some(a), Some(b)) if a.is_uppercase() && !b.is_uppercase() => {
            a.to_lowercase().chain(m.chars().skip(1)).collect()
        }
        _ => m,
    }
}
