//! Proxying: a receiving node streams each child host onward through its own sender, as the
//! child itself would (same machine GUID, its hostname, system information and labels, its
//! hops + 1), to the destination its API key or GUID section says.
//!
//! Guarantees: a proxied host is sent with the sender of [`super::sender`] (fixed buffer,
//! back-off, compression, TLS, replication answers from the host's database or, in memory
//! mode `none`, from the `[stream] replication window` kept in RAM), so a chain of any number
//! of proxies behaves like one child per hop.

use std::sync::Arc;
use std::time::Duration;

use super::receiver::ChildSettings;
use super::{chart_filter, handshake, sender, tls, Destination, Sender};
use crate::config::{keys, Config};
use crate::rrd::{ChildStatus, Host};

/// Starts streaming the child host `host` onward when `settings` enable the proxy; `None`
/// when they do not, or when the destination or key is unusable (logged).
pub fn start(
    stream: &Config,
    host: &Arc<Host>,
    child: &ChildStatus,
    settings: &ChildSettings,
) -> Option<Sender> {
    if !settings.proxy_enabled {
        return None;
    }
    let hostname = host.hostname().to_owned();
    let dest_text = settings.proxy_destination.clone();
    if uuid::Uuid::parse_str(&settings.proxy_api_key).is_err() {
        log::error!(
            "STREAM {hostname} [send]: proxy api key '{}' is not a UUID; this child is not proxied",
            settings.proxy_api_key
        );
        return None;
    }
    let default_port = u16::try_from(stream.integer(&keys::STREAM_DEFAULT_PORT)).unwrap_or(19999);
    let (destinations, errors) = Destination::parse_list(&settings.proxy_destination, default_port);
    for e in errors {
        log::error!("STREAM {hostname} [send]: proxy destination: {e} (ignored)");
    }
    if destinations.is_empty() {
        log::error!("STREAM {hostname} [send]: the proxy destination is empty; this child is not proxied");
        return None;
    }
    let path = |key| {
        let v = stream.text(key);
        (!v.is_empty()).then(|| std::path::PathBuf::from(v))
    };
    // What the child said about itself goes upstream as it came (Netdata's OS names).
    let system_info = child
        .system_info
        .iter()
        .map(|(k, v)| match k.strip_prefix("NETDATA_HOST_OS_") {
            Some(rest) => (format!("NETDATA_SYSTEM_OS_{rest}"), v.clone()),
            None => (k.clone(), v.clone()),
        })
        .collect();
    let settings = sender::Settings {
        destinations,
        timeout: Duration::from_secs(stream.seconds(&keys::STREAM_TIMEOUT).clamp(1, 3600)),
        reconnect_delay: Duration::from_secs(stream.seconds(&keys::STREAM_RECONNECT_DELAY).clamp(1, 3600)),
        max_backoff: Duration::from_secs(
            stream
                .seconds(&keys::STREAM_MAX_BACKOFF)
                .max(stream.seconds(&keys::STREAM_RECONNECT_DELAY))
                .clamp(1, 86_400),
        ),
        buffer_size: stream.bytes(&keys::STREAM_BUFFER_SIZE).clamp(64 * 1024, 1 << 30) as usize,
        compression: stream.bool(&keys::STREAM_COMPRESSION) && cfg!(feature = "compression"),
        replication: settings.replication,
        resync_iterations: stream.integer(&keys::STREAM_CLOCK_RESYNC).clamp(0, 100_000) as u32,
        tls: tls::TlsSettings {
            skip_verification: stream.bool(&keys::STREAM_SSL_SKIP_VERIFY),
            ca_file: path(&keys::STREAM_CA_FILE),
            ca_path: path(&keys::STREAM_CA_PATH),
        },
        send_charts: chart_filter(&settings.proxy_send_charts),
        request: handshake::Request {
            api_key: settings.proxy_api_key.clone(),
            hostname: hostname.clone(),
            registry_hostname: hostname.clone(),
            machine_guid: host.guid().to_owned(),
            update_every: settings.update_every,
            os: child.os.clone(),
            timezone: child.timezone.clone(),
            abbrev_timezone: child.abbrev_timezone.clone(),
            utc_offset: i64::from(child.utc_offset),
            hops: u32::from(child.hops) + 1,
            tags: child.tags.clone(),
            caps: crate::protocol::Caps(0),
            system_info,
            program: child.program.clone(),
            version: child.program_version.clone(),
        },
    };
    match Sender::start(Arc::clone(host), settings) {
        Ok(s) => {
            log::info!("STREAM {hostname} [send]: proxying this child to {dest_text}");
            Some(s)
        }
        Err(e) => {
            log::error!("STREAM {hostname} [send]: cannot start the proxy sender thread: {e}");
            None
        }
    }
}
