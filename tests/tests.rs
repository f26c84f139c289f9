//! The one integration-test binary (`autotests = false`): each module is a test file.

mod reports;
