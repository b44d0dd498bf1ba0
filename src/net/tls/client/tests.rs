//! The verifier against real certificates made by OpenSSL (tests/fixtures/tls/README.md), with
//! complete TLS handshakes in memory against a rustls server.

use super::*;
use rustls::pki_types::PrivateKeyDer;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::{ClientConnection, ServerConfig, ServerConnection};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls").join(name)
}

fn cert(name: &str) -> CertificateDer<'static> {
    CertificateDer::from_pem_file(fixture(name)).unwrap()
}

fn ca_file(name: &str) -> TlsSettings {
    TlsSettings { ca_file: Some(fixture(name)), ..Default::default() }
}

/// Always presents `cert` signed with `key` (which need not be its key).
#[derive(Debug)]
struct Fixed(Arc<CertifiedKey>);

impl ResolvesServerCert for Fixed {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(Arc::clone(&self.0))
    }
}

/// A full handshake between `client` (for `name`) and a server presenting `cert` with `key`;
/// the client's error if it refused.
fn handshake(client: &TlsSettings, name: &str, cert_file: &str, key_file: &str) -> Result<(), rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let key = PrivateKeyDer::from_pem_file(fixture(key_file)).unwrap();
    let signing = provider.key_provider.load_private_key(key).unwrap();
    let certified = Arc::new(CertifiedKey::new(vec![cert(cert_file)], signing));
    let server_config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(Fixed(certified)));
    let mut server = ServerConnection::new(Arc::new(server_config)).unwrap();
    let mut client =
        ClientConnection::new(client_config(client).unwrap(), server_name(name).unwrap()).unwrap();
    for _ in 0..20 {
        let mut wire = Vec::new();
        client.write_tls(&mut wire).unwrap();
        server.read_tls(&mut wire.as_slice()).unwrap();
        // The server's own error (the client's alert) is not what the tests look at.
        let _ = server.process_new_packets();
        let mut wire = Vec::new();
        server.write_tls(&mut wire).unwrap();
        client.read_tls(&mut wire.as_slice()).unwrap();
        client.process_new_packets()?;
        if !client.is_handshaking() && !server.is_handshaking() {
            return Ok(());
        }
    }
    panic!("the handshake did not finish");
}

fn is_certificate_error(e: &rustls::Error) -> bool {
    matches!(e, rustls::Error::InvalidCertificate(_))
}

#[test]
fn configs_build() {
    assert!(client_config(&TlsSettings { skip_verification: true, ..Default::default() }).is_ok());
    let missing = TlsSettings { ca_file: Some("/nonexistent/ca.pem".into()), ..Default::default() };
    let e = client_config(&missing).unwrap_err();
    assert!(e.to_string().contains("CAfile/CApath hold no usable certificate"), "{e}");
    assert!(server_name("127.0.0.1").is_ok());
    assert!(server_name("parent.lan").is_ok());
}

#[test]
fn self_signed_ca_certificate_given_as_cafile_is_accepted() {
    // The seeds' flow: `openssl req -x509 …` (CA:TRUE) as the parent's certificate and as the
    // child's CAfile. The name is not checked, as OpenSSL does not.
    for name in ["127.0.0.1", "localhost", "parent.lan"] {
        handshake(&ca_file("pinned.pem"), name, "pinned.pem", "pinned.key").unwrap();
    }
}

#[test]
fn plain_webpki_refuses_it_as_ca_used_as_end_entity() {
    // What the fallback exists for: WebPKI alone refuses the seeds' certificate.
    let trust = load_trust(&ca_file("pinned.pem")).unwrap();
    let inner = WebPkiServerVerifier::builder_with_provider(
        Arc::new(trust.roots),
        Arc::new(rustls::crypto::ring::default_provider()),
    )
    .build()
    .unwrap();
    let now = UnixTime::since_unix_epoch(std::time::Duration::from_secs(1_900_000_000));
    let e = inner
        .verify_server_cert(&cert("pinned.pem"), &[], &server_name("localhost").unwrap(), &[], now)
        .unwrap_err();
    assert!(is_ca_used_as_end_entity(&e), "{e:?}");
    assert!(!is_ca_used_as_end_entity(&rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer)));
}

#[test]
fn a_certificate_not_in_the_trust_store_is_refused() {
    let e = handshake(&ca_file("other.pem"), "localhost", "pinned.pem", "pinned.key").unwrap_err();
    assert!(is_certificate_error(&e), "{e:?}");
    let e = handshake(&ca_file("ca.pem"), "localhost", "pinned.pem", "pinned.key").unwrap_err();
    assert!(is_certificate_error(&e), "{e:?}");
}

#[test]
fn a_pinned_certificate_still_needs_its_key() {
    // The server shows the trusted certificate but signs with another key: the handshake
    // signature check (delegated to WebPKI's verifier) refuses it.
    let e = handshake(&ca_file("pinned.pem"), "localhost", "pinned.pem", "other.key").unwrap_err();
    assert_eq!(e, rustls::Error::InvalidCertificate(CertificateError::BadSignature));
}

#[test]
fn a_pinned_certificate_is_refused_outside_its_validity_period() {
    let trust = load_trust(&ca_file("pinned.pem")).unwrap();
    let verifier =
        Verifier::trusted_or_pinned(trust, Arc::new(rustls::crypto::ring::default_provider())).unwrap();
    let name = server_name("localhost").unwrap();
    let at = |secs: u64| UnixTime::since_unix_epoch(std::time::Duration::from_secs(secs));
    let check = |secs| verifier.verify_server_cert(&cert("pinned.pem"), &[], &name, &[], at(secs));
    assert!(check(1_796_554_455).is_ok(), "valid from its first second");
    assert!(check(4_950_154_455).is_ok(), "valid to its last second");
    // WebPKI looks at the time before the CA flag, so these come from the inner verifier…
    let e = check(1_796_554_454).unwrap_err();
    assert!(
        matches!(e, rustls::Error::InvalidCertificate(CertificateError::NotValidYetContext { .. })),
        "{e:?}"
    );
    let e = check(4_950_154_456).unwrap_err();
    assert!(matches!(e, rustls::Error::InvalidCertificate(CertificateError::ExpiredContext { .. })), "{e:?}");
    // …and the fallback checks them again itself, not trusting that order.
    let der = cert("pinned.pem");
    assert!(check_validity(&der, 1_796_554_455).is_ok());
    assert_eq!(check_validity(&der, 1_796_554_454), Err(CertificateError::NotValidYet.into()));
    assert_eq!(check_validity(&der, 4_950_154_456), Err(CertificateError::Expired.into()));
    assert_eq!(check_validity(&der[..100], 1_796_554_455), Err(CertificateError::BadEncoding.into()));
}

#[test]
fn ordinary_chains_keep_full_verification() {
    // A server certificate signed by the trusted CA: accepted for its names only.
    handshake(&ca_file("ca.pem"), "localhost", "leaf.pem", "leaf.key").unwrap();
    handshake(&ca_file("ca.pem"), "127.0.0.1", "leaf.pem", "leaf.key").unwrap();
    let e = handshake(&ca_file("ca.pem"), "parent.lan", "leaf.pem", "leaf.key").unwrap_err();
    assert!(
        matches!(e, rustls::Error::InvalidCertificate(CertificateError::NotValidForNameContext { .. })),
        "{e:?}"
    );
    // A certificate that is not self-signed is not trusted as itself (OpenSSL neither, without
    // partial chains): the exact-match rule is only for CaUsedAsEndEntity.
    let e = handshake(&ca_file("leaf.pem"), "localhost", "leaf.pem", "leaf.key").unwrap_err();
    assert!(is_certificate_error(&e), "{e:?}");
}

#[test]
fn ca_path_skips_bad_files_with_a_warning_each() {
    let dir = std::env::temp_dir().join(format!("nanodata-tls-capath-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("subdir")).unwrap();
    std::fs::copy(fixture("pinned.pem"), dir.join("parent.pem")).unwrap();
    std::fs::write(dir.join("junk.txt"), "not a certificate\n").unwrap();
    std::fs::write(dir.join("broken.pem"), "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
        .unwrap();
    // Unreadable even for root: reading /proc/self/mem from offset 0 fails.
    std::os::unix::fs::symlink("/proc/self/mem", dir.join("mem.pem")).unwrap();
    let settings = TlsSettings { ca_path: Some(dir.clone()), ..Default::default() };
    let trust = load_trust(&settings).unwrap();
    assert_eq!(trust.pinned, vec![cert("pinned.pem")]);
    let w = &trust.warnings;
    assert_eq!(w.len(), 3, "{w:?}");
    let about = |file: &str| w.iter().find(|m| m.contains(&*dir.join(file).to_string_lossy())).cloned();
    assert!(about("junk.txt").unwrap().ends_with("no PEM certificate in it"), "{w:?}");
    assert!(about("broken.pem").unwrap().contains("none of its 1 certificate(s) is usable"), "{w:?}");
    assert!(about("mem.pem").unwrap().contains("cannot read it"), "{w:?}");
    handshake(&settings, "localhost", "pinned.pem", "pinned.key").unwrap();

    // CAfile missing but CApath good: TLS still works, with one warning.
    let both = TlsSettings { ca_file: Some(dir.join("missing.pem")), ..settings.clone() };
    let trust = load_trust(&both).unwrap();
    assert!(trust.warnings.iter().any(|m| m.contains("missing.pem: cannot read it")), "{:?}", trust.warnings);
    handshake(&both, "localhost", "pinned.pem", "pinned.key").unwrap();

    // Nothing usable at all: an error saying what to do.
    std::fs::remove_file(dir.join("parent.pem")).unwrap();
    let e = client_config(&settings).unwrap_err();
    assert!(e.to_string().contains("set CAfile or CApath"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn refusals_say_what_to_do() {
    let refused = io::Error::new(
        io::ErrorKind::InvalidData,
        rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer),
    );
    let text = describe_failure(&refused);
    assert!(text.starts_with(
        "TLS handshake failed: the parent's certificate was refused (invalid peer certificate: UnknownIssuer); "
    ), "{text}");
    assert!(text.ends_with(CERTIFICATE_HINT), "{text}");
    let other = io::Error::new(io::ErrorKind::ConnectionReset, "reset by peer");
    assert_eq!(describe_failure(&other), "TLS handshake failed: reset by peer");
}

#[test]
fn validity_reads_utc_and_generalized_time() {
    let der = cert("pinned.pem");
    // notBefore Dec 6 10:54:15 2026 (UTCTime), notAfter Nov 12 10:54:15 2126 (GeneralizedTime),
    // as `openssl x509 -startdate -enddate` and `date -d … +%s` give them.
    assert_eq!(validity(&der), Some((1_796_554_455, 4_950_154_455)));
    assert_eq!(days_from_civil(1970, 1, 1), 0);
    assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    assert_eq!(days_from_civil(1969, 12, 31), -1);
    assert_eq!(time(0x17, b"491231235959Z"), Some(2_524_607_999));
    assert_eq!(time(0x17, b"500101000000Z"), Some(-631_152_000));
    assert_eq!(time(0x18, b"20500101000000Z"), Some(2_524_608_000));
    assert_eq!(time(0x17, b"491231235959+"), None);
    assert_eq!(time(0x17, b"4912312359Z"), None);
    assert_eq!(time(0x17, b"491331235959Z"), None);
}

#[test]
fn validity_never_panics_on_broken_der() {
    let der = cert("pinned.pem").to_vec();
    for len in 0..der.len() {
        let _ = validity(&der[..len]);
    }
    for i in 0..der.len().min(400) {
        let mut bad = der.clone();
        bad[i] ^= 0xff;
        let _ = validity(&bad);
    }
    assert_eq!(validity(&[0x30, 0x85, 1, 2, 3, 4, 5]), None, "5-byte lengths are refused");
    assert_eq!(validity(&[0x30, 0x80]), None, "indefinite lengths are refused");
}
