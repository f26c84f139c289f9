//! bacaudit
pub mod canon;
pub mod extract;
pub mod rules;
