//! TLS for `:SSL` destinations (rustls with the ring provider).
//!
//! Certificates are verified by default against `CAfile`/`CApath` or the system store;
//! `ssl skip certificate verification = yes` accepts self-signed parents. A rejected
//! certificate is logged with rustls' reason.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
pub use rustls::ClientConfig;
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};

/// Where trust comes from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsSettings {
    pub skip_verification: bool,
    pub ca_file: Option<PathBuf>,
    pub ca_path: Option<PathBuf>,
}

/// System CA bundles, first found wins (Debian/OpenWrt, Fedora, Alpine…).
const SYSTEM_BUNDLES: [&str; 4] = [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/cert.pem",
    "/etc/ssl/certs/ca-bundle.crt",
];

/// Builds the client configuration once per sender.
pub fn client_config(settings: &TlsSettings) -> io::Result<Arc<ClientConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?;
    let config = if settings.skip_verification {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAny(provider)))
            .with_no_client_auth()
    } else {
        builder.with_root_certificates(roots(settings)?).with_no_client_auth()
    };
    Ok(Arc::new(config))
}

/// The server name to verify for `host` (a name or an IP address).
pub fn server_name(host: &str) -> io::Result<ServerName<'static>> {
    ServerName::try_from(host.to_owned()).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))
}

fn roots(settings: &TlsSettings) -> io::Result<RootCertStore> {
    let mut store = RootCertStore::empty();
    let mut files: Vec<PathBuf> = Vec::new();
    if let Some(f) = &settings.ca_file {
        files.push(f.clone());
    }
    if let Some(dir) = &settings.ca_path {
        for entry in std::fs::read_dir(dir)?.flatten() {
            let p = entry.path();
            if p.is_file() {
                files.push(p);
            }
        }
    }
    if files.is_empty() {
        if let Some(bundle) = SYSTEM_BUNDLES.iter().map(Path::new).find(|p| p.exists()) {
            files.push(bundle.to_path_buf());
        }
    }
    for file in &files {
        let bytes = std::fs::read(file)?;
        for cert in CertificateDer::pem_slice_iter(&bytes).flatten() {
            // A certificate rustls cannot use is skipped, as OpenSSL does with a bundle.
            let _ = store.add(cert);
        }
    }
    if store.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            "no trusted CA certificates (set CAfile or CApath, or ssl skip certificate verification)",
        ));
    }
    Ok(store)
}

/// Accepts any certificate but still checks the handshake signatures.
#[derive(Debug)]
struct AcceptAny(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configs_build() {
        assert!(client_config(&TlsSettings { skip_verification: true, ..Default::default() }).is_ok());
        let missing = TlsSettings { ca_file: Some("/nonexistent/ca.pem".into()), ..Default::default() };
        assert!(client_config(&missing).is_err());
        assert!(server_name("127.0.0.1").is_ok());
        assert!(server_name("parent.lan").is_ok());
    }
}
