//! The one integration-test binary (`autotests = false`): one link step on two cores.

mod cli;
mod explain;
mod serve;
