//! The shared vocabulary at the bottom of the tree: the words every stage uses — why a fetch
//! failed and its class, points in time, the kinds of findings, the actions and methods of
//! repairs, exit codes. It imports no stage.

pub mod exit;
mod finding;
mod reason;
mod repair;
mod time;

pub use finding::FindingKind;
pub use reason::{Class, Reason};
pub use repair::{Action, Method};
pub use time::Timestamp;

/// Serde for an enum written as one fixed string per variant (its `as_str`, read back by its
/// `parse`): the report and the snapshot keep exactly these strings.
macro_rules! string_enum {
    ($ty:ty, $what:literal) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                <$ty>::parse(&s).ok_or_else(|| {
                    serde::de::Error::custom(format!(concat!("unknown ", $what, " `{}`"), s))
                })
            }
        }
    };
}
pub(crate) use string_enum;
