//! The words of a repair: a compensation's `action` and the HTTP `method` that performs it.

use std::fmt;

/// What a compensation does (`action` in the report): a broken link's `on_broken` or an
/// orphan's `on_orphan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    /// Delete the resource whose link broke.
    Cascade,
    /// Remove the broken link from its resource.
    SetNull,
    /// Put the lost target back.
    Recreate,
    /// Delete the orphan.
    Delete,
    /// A person has to look (no request).
    Manual,
}

impl Action {
    pub const ALL: [Action; 5] = [
        Action::Cascade,
        Action::SetNull,
        Action::Recreate,
        Action::Delete,
        Action::Manual,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Cascade => "cascade",
            Action::SetNull => "set-null",
            Action::Recreate => "recreate",
            Action::Delete => "delete",
            Action::Manual => "manual",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// The HTTP method of a compensation (`method` in the report).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Method {
    Put,
    Patch,
    Delete,
}

impl Method {
    pub const ALL: [Method; 3] = [Method::Put, Method::Patch, Method::Delete];

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }

    pub fn parse(s: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

super::string_enum!(Action, "compensation action");
super::string_enum!(Method, "compensation method");

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}
