//! The one integration-test binary (`autotests = false`): every test module is declared here.

mod live;
mod support;
