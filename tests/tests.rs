//! The one integration-test binary (`autotests = false`): one link step on two cores.

mod alias;
mod apply;
mod auth;
mod catalogue;
mod ci_outputs;
mod cli;
mod examples;
mod explain;
mod fuzz_regressions;
mod headers;
mod hostile;
mod init;
mod layers;
mod live;
mod proxy;
mod reports;
mod resume;
mod serve;
mod support;
mod tls;
mod tls_config;
