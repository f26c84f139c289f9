//! The integration tests, one binary.

mod serve;
