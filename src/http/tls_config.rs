//! Which TLS client each service's `https://` requests go through: one per distinct setting
//! (extra roots, client identity, `insecure`), the command line's (`--ca`, `--insecure`) merged
//! into every service's, so services with the same setting share one client and its pool.

use super::client::TlsOptions;
use crate::rules::{ClientIdentity, Rules, Service};

/// What one `https://` client is built with.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct TlsSetting {
    /// Extra trusted roots, each a PEM document: the command line's, then the service's.
    pub roots: Vec<Vec<u8>>,
    /// The client certificate and key presented when a server asks.
    pub identity: Option<ClientIdentity>,
    /// No certificate verified.
    pub insecure: bool,
}

/// The distinct settings (the first is the command line's alone, for URLs of no service and
/// services without a `tls` table) and, per service, the index of its own.
pub(super) struct TlsPlan {
    pub settings: Vec<TlsSetting>,
    pub of_service: Vec<usize>,
}

impl TlsSetting {
    /// The command line's setting alone.
    pub fn global(opts: &TlsOptions) -> TlsSetting {
        TlsSetting {
            roots: opts.extra_roots_pem.clone(),
            identity: None,
            insecure: opts.insecure,
        }
    }

    /// A service's setting: the command line's plus its `tls` table (`--insecure` wins).
    fn of(opts: &TlsOptions, service: &Service) -> TlsSetting {
        let mut s = TlsSetting::global(opts);
        if let Some(tls) = &service.tls {
            s.roots.extend(tls.ca.iter().map(|f| f.pem.clone()));
            s.identity.clone_from(&tls.identity);
            s.insecure |= tls.insecure;
        }
        s
    }
}

/// One setting per distinct configuration, and each service's.
pub(super) fn plan(opts: &TlsOptions, rules: &Rules) -> TlsPlan {
    let mut settings = vec![TlsSetting::global(opts)];
    let mut of_service = Vec::with_capacity(rules.services.len());
    for s in &rules.services {
        let setting = TlsSetting::of(opts, s);
        let index = match settings.iter().position(|x| *x == setting) {
            Some(i) => i,
            None => {
                settings.push(setting);
                settings.len() - 1
            }
        };
        of_service.push(index);
    }
    TlsPlan {
        settings,
        of_service,
    }
}

/// The services whose certificates are not verified (`insecure` in the rules, or
/// `--insecure` for all), in name order.
pub fn insecure_services<'r>(opts: &TlsOptions, rules: &'r Rules) -> Vec<&'r str> {
    rules
        .services
        .iter()
        .filter(|s| opts.insecure || s.tls.as_ref().is_some_and(|t| t.insecure))
        .map(|s| s.name.as_str())
        .collect()
}

/// The report's warning about [`insecure_services`], if any.
pub fn insecure_warning(opts: &TlsOptions, rules: &Rules) -> Option<String> {
    let names = insecure_services(opts, rules);
    (!names.is_empty()).then(|| {
        format!(
            "TLS certificates were not verified (insecure) for: {}; anyone on the network path \
             could have answered for them",
            names.join(", ")
        )
    })
}
