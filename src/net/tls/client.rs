//! TLS for `:SSL` destinations (rustls with the ring provider).
//!
//! Certificates are verified by default against `CAfile`/`CApath` or the system store;
//! `ssl skip certificate verification = yes` accepts any parent. As OpenSSL (and so Netdata)
//! does, a parent certificate that is itself one of the trusted certificates of `CAfile` or
//! `CApath` is accepted as it is: this is how users trust a self-signed parent, and the
//! certificate `openssl req -x509` makes is marked `CA:TRUE`, which plain WebPKI refuses as a
//! server certificate (`CaUsedAsEndEntity`). Such a pinned certificate must still be within
//! its validity period, and the handshake signature must still verify with its key; every
//! other certificate gets WebPKI's full verification (chain, validity, name).
//!
//! Loading trust never disables TLS because of one bad file: an unreadable file, or one
//! without a usable certificate, is skipped with a warning naming it. Only when no trusted
//! certificate at all is left does [`client_config`] fail.

use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
pub use rustls::ClientConfig;
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};

/// Where trust comes from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsSettings {
    pub skip_verification: bool,
    pub ca_file: Option<PathBuf>,
    pub ca_path: Option<PathBuf>,
}

/// What the user can do about a refused certificate (the log line of a failed handshake).
pub const CERTIFICATE_HINT: &str = "put the parent's certificate (or the CA that signed it) in \
     [stream] CAfile or CApath, or set `ssl skip certificate verification = yes`";

/// System CA bundles, first found wins (Debian/OpenWrt, Fedora, Alpine…).
const SYSTEM_BUNDLES: [&str; 4] = [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/cert.pem",
    "/etc/ssl/certs/ca-bundle.crt",
];

/// A trust file larger than this is skipped (a full system bundle is about 200 KiB).
const MAX_TRUST_FILE_BYTES: u64 = 4 << 20;
/// At most this many files of `CApath` are read; the others are skipped with a warning.
const MAX_CA_PATH_FILES: usize = 4096;

/// Builds the client configuration once per sender.
pub fn client_config(settings: &TlsSettings) -> io::Result<Arc<ClientConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?;
    let verifier: Arc<dyn ServerCertVerifier> = if settings.skip_verification {
        Arc::new(Verifier::accept_any(provider))
    } else {
        let trust = load_trust(settings)?;
        for warning in &trust.warnings {
            log::warn!("STREAM: TLS trust: {warning}");
        }
        Arc::new(Verifier::trusted_or_pinned(trust, provider)?)
    };
    Ok(Arc::new(builder.dangerous().with_custom_certificate_verifier(verifier).with_no_client_auth()))
}

/// The server name to verify for `host` (a name or an IP address).
pub fn server_name(host: &str) -> io::Result<ServerName<'static>> {
    ServerName::try_from(host.to_owned()).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))
}

/// The log text of a failed TLS handshake: a refused certificate says why and what to do.
pub fn describe_failure(e: &io::Error) -> String {
    match e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
        Some(err @ rustls::Error::InvalidCertificate(_)) => {
            format!("TLS handshake failed: the parent's certificate was refused ({err}); {CERTIFICATE_HINT}")
        }
        _ => format!("TLS handshake failed: {e}"),
    }
}

/// The trusted certificates: all of them as WebPKI roots, and those of `CAfile`/`CApath` also
/// as DER, for the exact-match rule.
struct Trust {
    roots: RootCertStore,
    pinned: Vec<CertificateDer<'static>>,
    /// Files skipped, and why, for the log.
    warnings: Vec<String>,
}

fn load_trust(settings: &TlsSettings) -> io::Result<Trust> {
    let mut warnings = Vec::new();
    let mut files: Vec<PathBuf> = Vec::new();
    if let Some(f) = &settings.ca_file {
        files.push(f.clone());
    }
    if let Some(dir) = &settings.ca_path {
        files.extend(ca_path_files(dir, &mut warnings));
    }
    let configured = settings.ca_file.is_some() || settings.ca_path.is_some();
    if !configured {
        if let Some(bundle) = SYSTEM_BUNDLES.iter().map(Path::new).find(|p| p.exists()) {
            files.push(bundle.to_path_buf());
        }
    }
    let mut trust = Trust { roots: RootCertStore::empty(), pinned: Vec::new(), warnings };
    for file in &files {
        let certs = match read_certificates(file) {
            Ok(certs) => certs,
            Err(why) => {
                trust.warnings.push(format!("skipping {}: {why}", file.display()));
                continue;
            }
        };
        let (added, ignored) = trust.roots.add_parsable_certificates(certs.iter().cloned());
        if added == 0 {
            trust
                .warnings
                .push(format!("skipping {}: none of its {ignored} certificate(s) is usable", file.display()));
            continue;
        }
        if configured {
            for cert in certs {
                if !trust.pinned.contains(&cert) {
                    trust.pinned.push(cert);
                }
            }
        }
    }
    if trust.roots.is_empty() {
        for warning in &trust.warnings {
            log::warn!("STREAM: TLS trust: {warning}");
        }
        let what = match configured {
            true => "CAfile/CApath hold no usable certificate",
            false => "no system CA bundle found",
        };
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!(
                "no trusted CA certificates ({what}; set CAfile or CApath, or ssl skip certificate verification)"
            ),
        ));
    }
    Ok(trust)
}

/// The regular files of `CApath` (symbolic links followed), in name order; a directory that
/// cannot be listed gives none, with a warning.
fn ca_path_files(dir: &Path, warnings: &mut Vec<String>) -> Vec<PathBuf> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            warnings.push(format!("cannot list CApath {}: {e}", dir.display()));
            return Vec::new();
        }
    };
    let mut files: Vec<PathBuf> = entries.flatten().map(|e| e.path()).filter(|p| p.is_file()).collect();
    files.sort();
    if files.len() > MAX_CA_PATH_FILES {
        warnings.push(format!(
            "CApath {} has {} files; only the first {MAX_CA_PATH_FILES} are read",
            dir.display(),
            files.len()
        ));
        files.truncate(MAX_CA_PATH_FILES);
    }
    files
}

/// The PEM certificates of `file`, or why there are none.
fn read_certificates(file: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let mut bytes = Vec::new();
    std::fs::File::open(file)
        .and_then(|f| f.take(MAX_TRUST_FILE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| format!("cannot read it: {e}"))?;
    if bytes.len() as u64 > MAX_TRUST_FILE_BYTES {
        return Err(format!("larger than {MAX_TRUST_FILE_BYTES} bytes"));
    }
    let certs: Vec<_> = CertificateDer::pem_slice_iter(&bytes).flatten().collect();
    if certs.is_empty() {
        return Err("no PEM certificate in it".into());
    }
    Ok(certs)
}

/// The parent's certificate check. With a chain verifier: WebPKI verification, plus
/// OpenSSL's rule that a trusted certificate is trusted as itself. Without one (`ssl skip
/// certificate verification = yes`): any certificate. The handshake signatures are checked
/// either way.
#[derive(Debug)]
struct Verifier {
    chain: Option<Arc<WebPkiServerVerifier>>,
    pinned: Vec<CertificateDer<'static>>,
    provider: Arc<CryptoProvider>,
}

impl Verifier {
    fn accept_any(provider: Arc<CryptoProvider>) -> Verifier {
        Verifier { chain: None, pinned: Vec::new(), provider }
    }

    fn trusted_or_pinned(trust: Trust, provider: Arc<CryptoProvider>) -> io::Result<Verifier> {
        let chain = WebPkiServerVerifier::builder_with_provider(Arc::new(trust.roots), Arc::clone(&provider))
            .build()
            .map_err(io::Error::other)?;
        Ok(Verifier { chain: Some(chain), pinned: trust.pinned, provider })
    }
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(chain) = &self.chain else {
            return Ok(ServerCertVerified::assertion());
        };
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
            Err(e) if is_ca_used_as_end_entity(&e) && self.pinned.iter().any(|p| p == end_entity) => {
                // The user trusts exactly this certificate: no chain to build, and no name to
                // match (OpenSSL checks none either); the validity period still applies.
                check_validity(end_entity, now.as_secs())?;
                log::debug!("STREAM: TLS: the parent's certificate is one of the trusted certificates");
                Ok(ServerCertVerified::assertion())
            }
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

/// WebPKI's refusal of a CA certificate as a server certificate. rustls passes this webpki
/// error through as an opaque `Other`, so it is recognised by its name.
fn is_ca_used_as_end_entity(e: &rustls::Error) -> bool {
    match e {
        rustls::Error::InvalidCertificate(CertificateError::Other(other)) => {
            other.0.to_string().contains("CaUsedAsEndEntity")
        }
        _ => false,
    }
}

/// Refuses a certificate outside its validity period (`now` in Unix seconds).
fn check_validity(cert: &[u8], now: u64) -> Result<(), rustls::Error> {
    let (not_before, not_after) = validity(cert).ok_or(CertificateError::BadEncoding)?;
    let now = i64::try_from(now).unwrap_or(i64::MAX);
    if now < not_before {
        return Err(CertificateError::NotValidYet.into());
    }
    if now > not_after {
        return Err(CertificateError::Expired.into());
    }
    Ok(())
}

/// `notBefore` and `notAfter` of an X.509 certificate in DER, in Unix seconds.
fn validity(der: &[u8]) -> Option<(i64, i64)> {
    let (0x30, certificate, _) = tlv(der)? else { return None };
    let (0x30, tbs, _) = tlv(certificate)? else { return None };
    let (tag, _, mut rest) = tlv(tbs)?;
    if tag == 0xa0 {
        // [0] version came first; the serial number follows.
        let (0x02, _, after) = tlv(rest)? else { return None };
        rest = after;
    } else if tag != 0x02 {
        return None;
    }
    let (0x30, _, rest) = tlv(rest)? else { return None }; // signature algorithm
    let (0x30, _, rest) = tlv(rest)? else { return None }; // issuer
    let (0x30, period, _) = tlv(rest)? else { return None };
    let (tag, not_before, rest) = tlv(period)?;
    let not_before = time(tag, not_before)?;
    let (tag, not_after, _) = tlv(rest)?;
    Some((not_before, time(tag, not_after)?))
}

/// One DER element: its tag, its contents and what follows it. Definite lengths only.
fn tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = match first {
        0..=0x7f => (usize::from(first), rest),
        0x81..=0x84 => {
            let n = usize::from(first & 0x7f);
            let bytes = rest.get(..n)?;
            let len = bytes.iter().fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
            (len, &rest[n..])
        }
        _ => return None,
    };
    let contents = rest.get(..len)?;
    Some((tag, contents, &rest[len..]))
}

/// An X.509 `UTCTime` (tag 0x17, `YYMMDDHHMMSSZ`, years 1950–2049) or `GeneralizedTime`
/// (tag 0x18, `YYYYMMDDHHMMSSZ`), in Unix seconds.
fn time(tag: u8, text: &[u8]) -> Option<i64> {
    let digits = |s: &[u8]| -> Option<i64> {
        s.iter().try_fold(0i64, |acc, &b| b.is_ascii_digit().then(|| acc * 10 + i64::from(b - b'0')))
    };
    let (year, rest) = match (tag, text.len()) {
        (0x17, 13) => {
            let yy = digits(&text[..2])?;
            (if yy < 50 { 2000 + yy } else { 1900 + yy }, &text[2..])
        }
        (0x18, 15) => (digits(&text[..4])?, &text[4..]),
        _ => return None,
    };
    if rest[10] != b'Z' {
        return None;
    }
    let field = |i: usize| digits(&rest[i..i + 2]);
    let (month, day, hour, minute, second) = (field(0)?, field(2)?, field(4)?, field(6)?, field(8)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests;
