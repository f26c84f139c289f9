//! A service's TLS settings (`tls = { ca, cert, key, insecure }`) as read and checked from the
//! PEM files they name, and the checks themselves (shared with the command line's `--ca`).
//!
//! A file is read and checked once, when the rules are loaded: a missing, unreadable or
//! malformed PEM is a rules error (exit 2) before any request. A client key is a secret: its
//! bytes are only in [`ClientIdentity`], whose `Debug` leaves them out, and no message quotes
//! the key file's content.

use std::fmt;
use std::path::{Path, PathBuf};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::Secret;

/// How `https://` requests to one service are verified (the `tls` table).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServiceTls {
    /// Extra trusted roots (`ca`), on top of the bundled and the system's.
    pub ca: Vec<PemFile>,
    /// The client certificate and key presented when the server asks (`cert` + `key`).
    pub identity: Option<ClientIdentity>,
    /// `insecure = true`: no certificate is verified (loudly warned).
    pub insecure: bool,
}

/// A PEM file of certificates, read and checked.
#[derive(Clone, PartialEq, Eq)]
pub struct PemFile {
    /// Where it was read from (resolved against the rules file's folder).
    pub path: PathBuf,
    /// Its content: one or more `CERTIFICATE` blocks.
    pub pem: Vec<u8>,
}

impl fmt::Debug for PemFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PemFile({})", self.path.display())
    }
}

/// A client certificate (chain) and its private key, for mutual TLS.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientIdentity {
    pub cert: PemFile,
    /// Where the key was read from (safe to print).
    pub key_path: PathBuf,
    /// The key, PEM: a secret (never printed).
    pub key: Secret,
}

impl fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ClientIdentity {{ cert: {}, key: {} <redacted> }}",
            self.cert.path.display(),
            self.key_path.display()
        )
    }
}

impl ClientIdentity {
    /// Certificate chain and key in one PEM document (what a TLS client takes).
    pub fn pem(&self) -> Vec<u8> {
        let mut pem = self.cert.pem.clone();
        pem.push(b'\n');
        pem.extend_from_slice(self.key.expose().as_bytes());
        pem
    }
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))
}

/// The certificates of a PEM file: at least one, each well-formed.
fn certificates(path: &Path, pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    let mut certs = Vec::new();
    for item in CertificateDer::pem_slice_iter(pem) {
        certs.push(item.map_err(|e| format!("`{}` is not a valid PEM file: {e}", path.display()))?);
    }
    if certs.is_empty() {
        return Err(format!(
            "`{}` holds no PEM certificate (expected `-----BEGIN CERTIFICATE-----` blocks)",
            path.display()
        ));
    }
    Ok(certs)
}

/// Reads a CA file (`ca`, `--ca`): one or more PEM certificates, each usable as a trust anchor.
pub fn read_ca(path: &Path) -> Result<PemFile, String> {
    let pem = read(path)?;
    let mut store = rustls::RootCertStore::empty();
    for (i, cert) in certificates(path, &pem)?.into_iter().enumerate() {
        store.add(cert).map_err(|e| {
            format!(
                "`{}`: certificate {} is not a usable CA certificate: {e}",
                path.display(),
                i + 1
            )
        })?;
    }
    Ok(PemFile {
        path: path.to_path_buf(),
        pem,
    })
}

/// Reads a client certificate file (`cert`): one or more PEM certificates (leaf first).
pub fn read_cert(path: &Path) -> Result<PemFile, String> {
    let pem = read(path)?;
    certificates(path, &pem)?;
    Ok(PemFile {
        path: path.to_path_buf(),
        pem,
    })
}

/// Reads a client key file (`key`): one PEM private key (PKCS #8, RSA or EC). No message
/// quotes the file's content.
pub fn read_key(path: &Path) -> Result<Secret, String> {
    let bytes = read(path)?;
    let bad = || {
        format!(
            "`{}` holds no usable PEM private key (expected `-----BEGIN PRIVATE KEY-----`, \
             `RSA PRIVATE KEY` or `EC PRIVATE KEY`, unencrypted)",
            path.display()
        )
    };
    if PrivateKeyDer::from_pem_slice(&bytes).is_err() {
        return Err(bad());
    }
    String::from_utf8(bytes).map(Secret::new).map_err(|_| bad())
}

/// Checks that a client key is usable and belongs to the client certificate (its public key is
/// the certificate's). No message quotes the key.
pub fn check_pair(cert: &PemFile, key_path: &Path, key: &Secret) -> Result<(), String> {
    let certs = certificates(&cert.path, &cert.pem)?;
    let der = PrivateKeyDer::from_pem_slice(key.expose().as_bytes())
        .map_err(|_| format!("`{}` holds no usable PEM private key", key_path.display()))?;
    let provider = rustls::crypto::ring::default_provider();
    rustls::sign::CertifiedKey::from_der(certs, der, &provider)
        .map(|_| ())
        .map_err(|e| match e {
            rustls::Error::InconsistentKeys(_) => format!(
                "`{}` is not the private key of the certificate in `{}`",
                key_path.display(),
                cert.path.display()
            ),
            _ => format!(
                "`{}` holds no usable private key (RSA, ECDSA P-256/P-384 or Ed25519)",
                key_path.display()
            ),
        })
}
