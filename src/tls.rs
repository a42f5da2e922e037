//! Loads extra trusted certificates for `wss://` feeds.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

use crate::config::TlsConfig;

/// The certificates of `tls.ca_file`, or none when it is not set.
pub fn extra_roots(config: &TlsConfig) -> Result<Vec<CertificateDer<'static>>, String> {
    let Some(path) = &config.ca_file else {
        return Ok(Vec::new());
    };
    let certs: Result<Vec<_>, _> = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("tls.ca_file {}: {e}", path.display()))?
        .collect();
    let certs = certs.map_err(|e| format!("tls.ca_file {}: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "tls.ca_file {}: no PEM certificate found",
            path.display()
        ));
    }
    Ok(certs)
}
