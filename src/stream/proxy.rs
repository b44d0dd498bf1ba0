//! Proxying: a receiving node streams each child host onward through its own sender, as the
//! child itself would (same machine GUID, its hostname, system information and labels, its
//! hops + 1), to the destination its API key or GUID section says.
//!
//! Guarantees: a proxied host is sent with the sender of [`super::sender`] (fixed buffer,
//! back-off, compression, TLS, replication answers from the host's database or, in memory
//! mode `none`, from the `[stream] replication window` kept in RAM), so a chain of any number
//! of proxies behaves like one child per hop.

use std::sync::Arc;

use super::receiver::ChildSettings;
use super::{handshake, sender_settings, Destination, Sender};
use crate::config::settings::SenderSettings;
use crate::rrd::{ChildStatus, Host};

/// Starts streaming the child host `host` onward when `settings` enable the proxy; `None`
/// when they do not, or when the destination or key is unusable (logged). `conf` is
/// `[stream]`, whose timeouts, buffer, compression and TLS apply to every hop.
pub fn start(
    conf: &SenderSettings,
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
    let (destinations, errors) = Destination::parse_list(&settings.proxy_destination, conf.default_port);
    for e in errors {
        log::error!("STREAM {hostname} [send]: proxy destination: {e} (ignored)");
    }
    if destinations.is_empty() {
        log::error!("STREAM {hostname} [send]: the proxy destination is empty; this child is not proxied");
        return None;
    }
    // What the child said about itself goes upstream as it came (Netdata's OS names).
    let system_info = child
        .system_info
        .iter()
        .map(|(k, v)| match k.strip_prefix("NETDATA_HOST_OS_") {
            Some(rest) => (format!("NETDATA_SYSTEM_OS_{rest}"), v.clone()),
            None => (k.clone(), v.clone()),
        })
        .collect();
    let request = handshake::Request {
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
    };
    let settings =
        sender_settings(conf, destinations, settings.replication, &settings.proxy_send_charts, request);
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
