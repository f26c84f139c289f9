//! The rules file (TOML): parse, validate and compile it into matchers and templates.
//!
//! [`load`] reads a file; [`parse`] does the work on text so tests need no files. Every mistake
//! is a [`RulesError`] naming the file, the line and the key.

mod alias;
mod credentials;
mod locate;
mod model;
mod parse;
mod raw;
mod template;
mod tls;

use std::fmt;
use std::path::{Path, PathBuf};

pub use credentials::{AuthForm, ClientAuth, OAuth2};
pub use model::*;
pub use parse::parse;
pub use template::{IdPlace, PathTemplate};
pub use tls::{read_ca, read_cert, read_key, ClientIdentity, PemFile, ServiceTls};

/// A rules file that cannot be used. Displays as `file:line: key `a.b`: message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct RulesError {
    pub file: PathBuf,
    /// 1-based line, when the mistake is at a known place.
    pub line: Option<usize>,
    /// Dotted key path (`kinds.order.links.customer.to`), when the mistake is in a key.
    pub key: Option<String>,
    pub message: String,
}

impl fmt::Display for RulesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        f.write_str(": ")?;
        if let Some(key) = &self.key {
            write!(f, "key `{key}`: ")?;
        }
        f.write_str(&self.message)
    }
}

/// Reads and compiles a rules file; `auth.env` variables are read from the process environment.
pub fn load(path: &Path) -> Result<Rules, RulesError> {
    let text = std::fs::read_to_string(path).map_err(|e| RulesError {
        file: path.to_path_buf(),
        line: None,
        key: None,
        message: format!("cannot read rules file: {e}"),
    })?;
    parse(path, &text, &|name| std::env::var(name).ok())
}
