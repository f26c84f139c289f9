//! A real TLS server for the `https://` path: a throwaway CA and a certificate for 127.0.0.1
//! made by `rcgen` once per test binary, and a TLS front that accepts TLS on loopback and
//! forwards the plain bytes to a backend's port (a wiremock server, a world, a raw TCP
//! misbehaver), so every behaviour test runs over `http://` and `https://` alike.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use bacaudit::source::LiveOptions;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair, SanType};
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::{self, ServerConfig};
use tokio_rustls::TlsAcceptor;

/// The scheme a behaviour test runs over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

/// Generates `mod NAME { http, https }`: two tests that run `async fn NAME(scheme: Scheme)`
/// over each scheme.
#[macro_export]
macro_rules! both_schemes {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            use $crate::support::tls::Scheme;
            #[tokio::test]
            async fn http() {
                super::$name(Scheme::Http).await
            }
            #[tokio::test]
            async fn https() {
                super::$name(Scheme::Https).await
            }
        }
    )+};
}

/// The test CA and the server certificate it signed (for `127.0.0.1` and `localhost`).
pub struct TestPki {
    /// The CA certificate, PEM: what a client adds to its roots.
    pub ca_pem: String,
    config: Arc<ServerConfig>,
}

/// The one test PKI of this process.
pub fn pki() -> &'static TestPki {
    static PKI: OnceLock<TestPki> = OnceLock::new();
    PKI.get_or_init(make_pki)
}

fn make_pki() -> TestPki {
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("ca params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "bacaudit test CA");
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().expect("ca key")).expect("ca");
    let mut leaf = CertificateParams::new(vec!["localhost".to_string()]).expect("leaf params");
    leaf.subject_alt_names
        .push(SanType::IpAddress([127, 0, 0, 1].into()));
    let key = KeyPair::generate().expect("leaf key");
    let cert = leaf.signed_by(&key, &ca).expect("leaf");
    let chain: Vec<CertificateDer<'static>> = vec![cert.der().clone()];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocols")
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("server config");
    TestPki {
        ca_pem: ca.pem(),
        config: Arc::new(config),
    }
}

/// Live options that trust the test CA (harmless for `http://`).
pub fn trusting(mut live: LiveOptions) -> LiveOptions {
    let ca = pki().ca_pem.as_bytes().to_vec();
    if !live.tls.extra_roots_pem.contains(&ca) {
        live.tls.extra_roots_pem.push(ca);
    }
    live
}

/// TLS on a loopback port, each connection's bytes forwarded to `backend` (connected after
/// the handshake). Dropping it stops accepting.
pub struct TlsFront {
    /// `https://127.0.0.1:PORT`.
    pub uri: String,
    /// TLS handshakes completed.
    pub handshakes: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl TlsFront {
    pub async fn start(backend: SocketAddr) -> TlsFront {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let uri = format!("https://{}", l.local_addr().expect("addr"));
        let acceptor = TlsAcceptor::from(pki().config.clone());
        let handshakes = Arc::new(AtomicUsize::new(0));
        let done = handshakes.clone();
        let task = tokio::spawn(async move {
            while let Ok((sock, _)) = l.accept().await {
                let (acceptor, done) = (acceptor.clone(), done.clone());
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(sock).await else {
                        return;
                    };
                    done.fetch_add(1, Ordering::SeqCst);
                    let Ok(mut plain) = tokio::net::TcpStream::connect(backend).await else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                });
            }
        });
        TlsFront {
            uri,
            handshakes,
            task,
        }
    }
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A backend reached over a scheme: its own `http://` URI, or a TLS front's `https://` one.
/// Keep it alive as long as the backend is used.
pub struct Over {
    pub uri: String,
    pub front: Option<TlsFront>,
}

impl Scheme {
    /// Reaches the `http://` server at `uri` over this scheme.
    pub async fn over(self, uri: &str) -> Over {
        match self {
            Scheme::Http => Over {
                uri: uri.trim_end_matches('/').to_string(),
                front: None,
            },
            Scheme::Https => {
                let addr = uri
                    .trim_start_matches("http://")
                    .trim_end_matches('/')
                    .parse()
                    .expect("an http://IP:PORT uri");
                let front = TlsFront::start(addr).await;
                Over {
                    uri: front.uri.clone(),
                    front: Some(front),
                }
            }
        }
    }
}
