//! A service's own `headers` (from the rules) added to the headers of every request to it:
//! its `Accept` replaces the default one; a value read from the environment is marked
//! sensitive (never logged), like credentials.

use ::http::header::{HeaderMap, HeaderName, HeaderValue};

use super::failure::ClientError;
use crate::rules::Service;

/// Adds `service`'s headers to `h` (replacing any of the same name). The rules checked names
/// and values; a failure here names the header, never its value.
pub(super) fn add_service_headers(h: &mut HeaderMap, service: &Service) -> Result<(), ClientError> {
    for header in &service.headers {
        let name = HeaderName::from_bytes(header.name.as_bytes()).map_err(|_| {
            ClientError::AuthHeaderName {
                service: service.name.clone(),
                header: header.name.clone(),
            }
        })?;
        let mut value = HeaderValue::from_str(header.value.expose()).map_err(|_| {
            ClientError::AuthHeaderValue {
                service: service.name.clone(),
                env: header.env.clone().unwrap_or_else(|| header.name.clone()),
            }
        })?;
        if header.env.is_some() {
            value.set_sensitive(true);
        }
        h.insert(name, value);
    }
    Ok(())
}
