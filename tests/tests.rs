//! The one integration-test binary (`autotests = false`): one link step on two cores.

mod alias;
mod apply;
mod apply_faults;
mod apply_real;
mod auth;
mod catalogue;
mod ci_outputs;
mod cli;
mod examples;
mod explain;
mod fuzz_regressions;
mod gentle;
mod headers;
mod hostile;
mod init;
mod layers;
mod live;
mod parity;
mod proxy;
mod reports;
mod resume;
mod serve;
mod shapes;
mod support;
mod tls;
mod tls_config;
