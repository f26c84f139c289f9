//! The kind of a finding: `broken_link`, `orphan` or `unresolved`.

use std::fmt;

/// The kind of a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FindingKind {
    BrokenLink,
    Orphan,
    Unresolved,
}

impl FindingKind {
    pub const ALL: [FindingKind; 3] = [
        FindingKind::BrokenLink,
        FindingKind::Orphan,
        FindingKind::Unresolved,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::BrokenLink => "broken_link",
            FindingKind::Orphan => "orphan",
            FindingKind::Unresolved => "unresolved",
        }
    }

    pub fn parse(s: &str) -> Option<FindingKind> {
        FindingKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for FindingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

super::string_enum!(FindingKind, "finding kind");
