//! A real TLS server for the `https://` path: a throwaway CA and a certificate for 127.0.0.1
//! made by `rcgen` once per test binary, and a TLS front that accepts TLS on loopback and
//! forwards the plain bytes to a backend's port (a wiremock server, a world, a raw TCP
//! misbehaver), so every behaviour test runs over `http://` and `https://` alike.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use bacaudit::source::LiveOptions;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    SanType,
};
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
    ca: CertifiedIssuer<'static, KeyPair>,
}

/// The one test PKI of this process.
pub fn pki() -> &'static TestPki {
    static PKI: OnceLock<TestPki> = OnceLock::new();
    PKI.get_or_init(make_pki)
}

fn new_ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("ca params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(rcgen::DnType::CommonName, name);
    CertifiedIssuer::self_signed(ca, KeyPair::generate().expect("ca key")).expect("ca")
}

fn make_pki() -> TestPki {
    let ca = new_ca("bacaudit test CA");
    let config = server_config_signed_by(&ca, Leaf::Good, false, &ca);
    TestPki {
        ca_pem: ca.pem(),
        config,
        ca,
    }
}

/// The server certificate a [`TlsFront`] presents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leaf {
    /// Signed by the test CA, for `127.0.0.1` and `localhost`, valid now.
    Good,
    /// Signed by the test CA, but expired in 2021.
    Expired,
    /// Signed by the test CA, valid, but for `other.example` only.
    OtherName,
    /// For `127.0.0.1`, valid, but signed by a CA nobody trusts.
    OtherCa,
}

fn server_config_signed_by(
    ca: &CertifiedIssuer<'static, KeyPair>,
    leaf: Leaf,
    require_client_cert: bool,
    client_ca: &CertifiedIssuer<'static, KeyPair>,
) -> Arc<ServerConfig> {
    let names = match leaf {
        Leaf::OtherName => vec!["other.example".to_string()],
        _ => vec!["localhost".to_string()],
    };
    let mut params = CertificateParams::new(names).expect("leaf params");
    if leaf != Leaf::OtherName {
        params
            .subject_alt_names
            .push(SanType::IpAddress([127, 0, 0, 1].into()));
    }
    if leaf == Leaf::Expired {
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(2021, 1, 1);
    }
    let key = KeyPair::generate().expect("leaf key");
    let cert = params.signed_by(&key, ca).expect("leaf");
    let chain: Vec<CertificateDer<'static>> = vec![cert.der().clone()];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("protocols");
    let builder = if require_client_cert {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(client_ca.der().clone()).expect("client CA");
        let verifier =
            rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .expect("client verifier");
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    };
    Arc::new(builder.with_single_cert(chain, key).expect("server config"))
}

/// A server TLS configuration: `leaf` as the certificate, and a client certificate signed by
/// the test CA required or not.
pub fn server_config(leaf: Leaf, require_client_cert: bool) -> Arc<ServerConfig> {
    let pki = pki();
    match leaf {
        Leaf::OtherCa => {
            static OTHER: OnceLock<CertifiedIssuer<'static, KeyPair>> = OnceLock::new();
            let other = OTHER.get_or_init(|| new_ca("an untrusted CA"));
            server_config_signed_by(other, leaf, require_client_cert, &pki.ca)
        }
        _ => server_config_signed_by(&pki.ca, leaf, require_client_cert, &pki.ca),
    }
}

/// A client certificate and its key (PEM), signed by the test CA for client authentication.
pub fn client_identity() -> (String, String) {
    let mut params = CertificateParams::new(vec!["bacaudit-client".to_string()]).expect("params");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let key = KeyPair::generate().expect("client key");
    let cert = params.signed_by(&key, &pki().ca).expect("client cert");
    (cert.pem(), key.serialize_pem())
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
        TlsFront::start_with(backend, pki().config.clone()).await
    }

    /// A front with its own TLS configuration ([`server_config`]).
    pub async fn start_with(backend: SocketAddr, config: Arc<ServerConfig>) -> TlsFront {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let uri = format!("https://{}", l.local_addr().expect("addr"));
        let acceptor = TlsAcceptor::from(config);
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
