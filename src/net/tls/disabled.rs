//! Builds without the `tls` feature: the same names as the real module, so callers compile;
//! a `:SSL` destination is refused with a log line and `^SSL=` listeners serve plain text.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where trust comes from (read from the configuration, unused in this build).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsSettings {
    pub skip_verification: bool,
    pub ca_file: Option<PathBuf>,
    pub ca_path: Option<PathBuf>,
}

/// Never exists in this build.
pub enum ClientConfig {}

/// Never exists in this build.
pub enum ServerConfig {}

pub fn client_config(_settings: &TlsSettings) -> io::Result<Arc<ClientConfig>> {
    Err(io::Error::other("this build has no TLS support (cargo feature `tls`)"))
}

pub fn server_config(_cert: &Path, _key: &Path, _min_version: &str) -> Result<Arc<ServerConfig>, String> {
    Err("this build has no TLS support (cargo feature `tls`)".into())
}
