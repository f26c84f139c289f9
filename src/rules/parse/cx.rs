//! The validation context that collects every mistake with its place, and the checks and message
//! pieces that every part of the rules file shares.

use std::ops::Range;
use std::path::Path;

use toml::Spanned;

use crate::rules::locate::{line_of, Located};
use crate::rules::RulesError;

/// Validation context: where the text is, and every mistake found so far.
pub(super) struct Cx<'a> {
    pub(super) file: &'a Path,
    pub(super) text: &'a str,
    /// (byte offset for ordering, error)
    pub(super) errors: Vec<(usize, RulesError)>,
}

impl Cx<'_> {
    pub(super) fn err(&mut self, span: Option<Range<usize>>, key: String, message: String) {
        let line = span.as_ref().map(|s| line_of(self.text, s.start));
        let order = span.map_or(usize::MAX, |s| s.start);
        self.errors.push((
            order,
            RulesError {
                file: self.file.to_path_buf(),
                line,
                key: Some(key),
                message,
            },
        ));
    }

    pub(super) fn err_at<T>(&mut self, at: &Spanned<T>, key: String, message: String) {
        self.err(Some(at.span()), key, message);
    }

    /// The mistake that comes first in the file (those without a place last).
    pub(super) fn first_error(&mut self) -> Option<RulesError> {
        let errors = std::mem::take(&mut self.errors);
        errors.into_iter().min_by_key(|(o, _)| *o).map(|(_, e)| e)
    }

    /// The span of a key, for mistakes about a table as a whole.
    pub(super) fn key_span(&self, path: &[&str]) -> Option<Range<usize>> {
        Located::parse(self.text)?.key_span(path)
    }
}

/// Service, kind and link names: bare TOML keys, so `kind.link` is never ambiguous.
pub(super) fn check_name(cx: &mut Cx<'_>, name: &Spanned<String>, key: String, what: &str) {
    let n = name.get_ref();
    let ok = !n.is_empty()
        && n.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !ok {
        cx.err_at(
            name,
            key,
            format!("{what} name `{n}` may only contain ASCII letters, digits, `_` and `-`"),
        );
    }
}

pub(super) fn known_list<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let v: Vec<&str> = names.into_iter().collect();
    if v.is_empty() {
        "none declared".to_string()
    } else {
        v.join(", ")
    }
}

pub(super) fn enum_value<T: Copy>(
    cx: &mut Cx<'_>,
    value: Option<&Spanned<String>>,
    allowed: &[(&str, T)],
    default: T,
    key: String,
    what: &str,
) -> T {
    let Some(v) = value else {
        return default;
    };
    if let Some((_, t)) = allowed.iter().find(|(n, _)| *n == v.get_ref()) {
        return *t;
    }
    let names: Vec<&str> = allowed.iter().map(|(n, _)| *n).collect();
    cx.err_at(
        v,
        key,
        format!(
            "unknown {what} `{}` (expected one of: {})",
            v.get_ref(),
            names.join(", ")
        ),
    );
    default
}
