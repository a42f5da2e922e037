//! TLS for the simulator, so tests can serve `wss://` and `https://`.
//!
//! The server config names its crypto provider explicitly instead of relying on
//! a process-wide default, so starting a TLS simulator installs nothing global.
//! Only HTTP/1.1 is put in ALPN, because WebSockets here need HTTP/1.1. But
//! actix-web puts `h2` in front of it while its `http2` feature is on (it is,
//! in this workspace), and rustls picks by the server's order: a client that
//! offers both gets HTTP/2, on which the WebSocket upgrade fails (awc reports
//! `TunnelNotSupported`). WebSocket clients must therefore offer only
//! `http/1.1`, as a client of any HTTP/2-capable server should.

use std::io;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;

/// A certificate chain and its private key, both PEM-encoded.
#[derive(Clone)]
pub struct TlsFiles {
    /// The certificate chain, leaf first.
    pub cert_pem: Vec<u8>,
    /// The private key (PKCS#8, PKCS#1 or SEC1).
    pub key_pem: Vec<u8>,
}

impl std::fmt::Debug for TlsFiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The private key stays out of debug output.
        f.debug_struct("TlsFiles")
            .field("cert_pem_bytes", &self.cert_pem.len())
            .field("key_pem", &"[redacted]")
            .finish()
    }
}

/// Builds the rustls server config for `files`.
pub(crate) fn server_config(files: &TlsFiles) -> io::Result<ServerConfig> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&files.cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| invalid(&format!("cert_pem: {e}")))?;
    if certs.is_empty() {
        return Err(invalid("no certificate in cert_pem"));
    }
    let key = PrivateKeyDer::from_pem_slice(&files.key_pem)
        .map_err(|e| invalid(&format!("key_pem: {e}")))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid(&e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| invalid(&e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

fn invalid(message: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_pem_is_an_error_not_a_panic() {
        let files = TlsFiles {
            cert_pem: b"not a certificate".to_vec(),
            key_pem: b"not a key".to_vec(),
        };
        let err = server_config(&files).expect_err("garbage must be rejected");
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    }
}
