//! A service's `tls` table: the CA files to trust, the client certificate and key for mutual
//! TLS, and `insecure`. Every file is read and checked here, relative to the rules file, so a
//! bad PEM is a rules error naming the file, the line and the key.

use std::path::{Path, PathBuf};

use toml::Spanned;

use super::cx::Cx;
use crate::rules::locate::dotted;
use crate::rules::raw::RawTls;
use crate::rules::tls::{check_pair, read_ca, read_cert, read_key};
use crate::rules::{ClientIdentity, ServiceTls};

pub(super) fn compile_tls(cx: &mut Cx<'_>, service: &str, t: &RawTls) -> Option<ServiceTls> {
    let key = |leaf: &str| dotted(&["services", service, "tls", leaf]);
    let dir = cx
        .file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let mut ok = true;

    let mut ca = Vec::new();
    if let Some(v) = &t.ca {
        for p in ca_paths(cx, v, key("ca"))? {
            match read_ca(&resolve(&dir, &p)) {
                Ok(f) => ca.push(f),
                Err(m) => {
                    cx.err_at(v, key("ca"), m);
                    ok = false;
                }
            }
        }
    }

    let cert = t.cert.as_ref().map(|c| {
        read_cert(&resolve(&dir, c.get_ref()))
            .map_err(|m| cx.err_at(c, key("cert"), m))
            .ok()
    });
    let private = t.key.as_ref().map(|k| {
        let path = resolve(&dir, k.get_ref());
        read_key(&path)
            .map(|secret| (path, secret))
            .map_err(|m| cx.err_at(k, key("key"), m))
            .ok()
    });
    let identity = match (cert, private) {
        (None, None) => None,
        (Some(Some(cert)), Some(Some((key_path, secret)))) => {
            if let Err(m) = check_pair(&cert, &key_path, &secret) {
                cx.err_at(t.key.as_ref()?, key("key"), m);
                return None;
            }
            Some(ClientIdentity {
                cert,
                key_path,
                key: secret,
            })
        }
        (Some(_), None) => {
            let c = t.cert.as_ref()?;
            cx.err_at(
                c,
                key("cert"),
                "a client certificate needs its private key: add `key = \"client.key\"`".into(),
            );
            return None;
        }
        (None, Some(_)) => {
            let k = t.key.as_ref()?;
            cx.err_at(
                k,
                key("key"),
                "a client key needs its certificate: add `cert = \"client.pem\"`".into(),
            );
            return None;
        }
        // Already reported.
        _ => return None,
    };

    let insecure = t.insecure.as_ref().is_some_and(|i| *i.get_ref());
    ok.then_some(ServiceTls {
        ca,
        identity,
        insecure,
    })
}

/// `ca`: one path or an array of paths.
fn ca_paths(cx: &mut Cx<'_>, v: &Spanned<toml::Value>, key: String) -> Option<Vec<String>> {
    let wrong = |cx: &mut Cx<'_>| {
        cx.err_at(
            v,
            key.clone(),
            "must be a path to a PEM file of CA certificates, or an array of them".into(),
        );
        None
    };
    match v.get_ref() {
        toml::Value::String(s) => Some(vec![s.clone()]),
        toml::Value::Array(items) => {
            let mut paths = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    toml::Value::String(s) => paths.push(s.clone()),
                    _ => return wrong(cx),
                }
            }
            Some(paths)
        }
        _ => wrong(cx),
    }
}

/// A path from the rules: relative ones are relative to the rules file's folder.
fn resolve(dir: &Path, p: &str) -> PathBuf {
    let path = Path::new(p);
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        dir.join(path)
    }
}
