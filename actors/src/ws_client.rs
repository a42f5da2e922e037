//! Builds the awc WebSocket client for one upstream connection.
//!
//! Two traps are handled here once: a `wss://` upgrade must not negotiate
//! HTTP/2 (awc cannot tunnel a WebSocket through h2), so ALPN offers
//! `http/1.1` only; and awc's default 64 KiB frame limit is far below what a
//! backed-up provider sends, so the limit is raised to the configured size.

use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::CertificateDer;
use rustls::RootCertStore;

/// Installs the process-wide rustls crypto provider (aws-lc-rs) if none is set.
/// Safe to call many times; every entry point calls it before building a client.
pub fn install_crypto_provider() {
    // An error only means another provider is already installed, which is fine.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// TLS client settings: the Mozilla roots plus any extra trusted certificates
/// (a private CA, or a test's self-signed certificate).
pub fn tls_config(extra_roots: &[CertificateDer<'static>]) -> Result<rustls::ClientConfig, String> {
    install_crypto_provider();
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for cert in extra_roots {
        roots
            .add(cert.clone())
            .map_err(|e| format!("extra root certificate rejected: {e}"))?;
    }
    let mut config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// An awc client for WebSocket upgrades with a handshake timeout.
pub fn ws_client(tls: Arc<rustls::ClientConfig>, handshake_timeout: Duration) -> awc::Client {
    let connector = awc::Connector::new()
        .rustls_0_23(tls)
        .timeout(handshake_timeout)
        .handshake_timeout(handshake_timeout);
    // `ClientBuilder::max_http_version` would rebuild the TLS config and drop the
    // custom roots, so HTTP/1.1 is forced through ALPN in `tls_config` instead.
    awc::Client::builder()
        .connector(connector)
        .timeout(handshake_timeout)
        .finish()
}
