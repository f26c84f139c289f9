//! The one integration-test binary (`autotests = false`): one link step on two cores.

mod cli;
mod live;
mod serve;
mod support;
