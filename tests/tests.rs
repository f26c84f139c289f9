//! The one integration-test binary (`autotests = false`): one link step on two cores.

mod apply;
mod cli;
mod fuzz_regressions;
mod live;
mod reports;
mod serve;
mod support;
