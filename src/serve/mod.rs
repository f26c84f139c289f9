//! `bacaudit serve`: a recorded snapshot served as the live services it was recorded from, on
//! their base URLs or, rebased, on ephemeral loopback ports (drills, the demo, tests).
//!
//! Each request `<origin><path>?<query>` is looked up (canonical) in the snapshot: a recorded
//! status answers with its recorded headers and body; a recorded `timeout` holds the request
//! unanswered, `connection_reset` / `connect_failed` close the connection unanswered,
//! `service_unavailable` answers 503; a URL not in the snapshot answers 404. With `writable`,
//! PUT, PATCH (JSON Patch) and DELETE change the served world in memory. With `chaos`, any
//! request may first fail at random (a bounded number of times per URL). With a
//! [`Fragility`], services answer slowly, refuse requests over a capacity, or slow down under
//! load, as services just restored do.

mod answers;
mod fragile;
mod rebase;
mod server;
mod writable;

pub use answers::{Chaos, Flaky};
pub use fragile::{Fragility, Load};
pub use rebase::OriginMap;
pub use server::{interrupted, serve, ServeHandle, ServeOptions, ServedService};
