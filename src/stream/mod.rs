//! Streaming, child side: a node sends everything it collects to a parent (a Netdata
//! 1.37 agent or a nanodata parent) with Netdata 1.37's wire protocol.
//!
//! Guarantees: the outgoing buffer has a fixed size and a defined overflow policy
//! ([`ring::Overflow`]); every rejection is logged with its reason and retried after its own
//! back-off, never in a tight loop; with replication negotiated, a parent that restarts or a
//! link that drops is refilled from the database (or, in memory mode `none`, from a RAM
//! window of `[stream] replication window` seconds).

pub use crate::net::destination;
pub mod handshake;
#[cfg(feature = "compression")]
pub mod lz4;
pub mod proxy;
pub mod receiver;
pub mod ring;
pub mod sender;
pub use crate::net::tls;

/// Builds without the `compression` feature never offer compression to the parent, so the
/// compressor is never called.
#[cfg(not(feature = "compression"))]
pub mod lz4 {
    /// Plain text is sent in chunks of this size (as with compression).
    pub const MAX_BLOCK_INPUT: usize = 16_000;
    /// Kept for the receiver's memory accounting (the same value as with compression).
    pub const MAX_BLOCK_OUTPUT: usize = 16_384;

    #[derive(Default)]
    pub struct Compressor;

    impl Compressor {
        pub fn new() -> Compressor {
            Compressor
        }

        pub fn compress(&mut self, _input: &[u8], _out: &mut Vec<u8>) -> Result<(), String> {
            Err("this build has no stream compression (cargo feature `compression`)".into())
        }
    }
}

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::config::{keys, Config};
use crate::daemon::sysinfo::SystemInfo;
use crate::rrd::Host;
use crate::simple_pattern::SimplePattern;

pub use destination::Destination;
pub use sender::Sender;

/// Starts streaming `host` if `[stream] enabled = yes` in `stream`; `None` when disabled
/// or misconfigured (with a log line saying why). `netdata` gives `[db] enable replication`.
pub fn start(
    stream: &Config,
    netdata: &Config,
    host: &Arc<Host>,
    info: &SystemInfo,
    update_every: u32,
) -> Option<Sender> {
    if !stream.bool(&keys::STREAM_ENABLED) {
        return None;
    }
    let hostname = host.hostname().to_owned();
    let api_key = stream.text(&keys::STREAM_API_KEY);
    if uuid::Uuid::parse_str(&api_key).is_err() {
        log::error!(
            "STREAM {hostname} [send]: [stream] api key '{api_key}' is not a UUID; streaming is disabled"
        );
        return None;
    }
    let default_port = u16::try_from(stream.integer(&keys::STREAM_DEFAULT_PORT)).unwrap_or(19999);
    let (destinations, errors) =
        Destination::parse_list(&stream.text(&keys::STREAM_DESTINATION), default_port);
    for e in errors {
        log::error!("STREAM {hostname} [send]: {e} (ignored)");
    }
    if destinations.is_empty() {
        log::error!("STREAM {hostname} [send]: [stream] destination is empty; streaming is disabled");
        return None;
    }
    let path = |key| {
        let v = stream.text(key);
        (!v.is_empty()).then(|| PathBuf::from(v))
    };
    let pattern = stream.text(&keys::STREAM_SEND_CHARTS);
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
        replication: netdata.bool(&keys::DB_REPLICATION),
        resync_iterations: stream.integer(&keys::STREAM_CLOCK_RESYNC).clamp(0, 100_000) as u32,
        tls: tls::TlsSettings {
            skip_verification: stream.bool(&keys::STREAM_SSL_SKIP_VERIFY),
            ca_file: path(&keys::STREAM_CA_FILE),
            ca_path: path(&keys::STREAM_CA_PATH),
        },
        send_charts: chart_filter(&pattern),
        request: handshake::Request {
            api_key,
            hostname: hostname.clone(),
            registry_hostname: hostname.clone(),
            machine_guid: host.guid().to_owned(),
            update_every,
            os: "linux".into(),
            timezone: info.timezone.clone(),
            abbrev_timezone: info.abbrev_timezone.clone(),
            utc_offset: info.utc_offset,
            hops: 1,
            tags: String::new(),
            caps: crate::protocol::Caps(0),
            system_info: info.pairs.clone(),
            program: crate::PROGRAM.into(),
            version: format!("v{}", crate::VERSION),
        },
    };
    match Sender::start(Arc::clone(host), settings) {
        Ok(s) => Some(s),
        Err(e) => {
            log::error!("STREAM {hostname} [send]: cannot start the sender thread: {e}");
            None
        }
    }
}

/// `send charts matching`: Netdata's simple pattern on chart id or name.
pub(crate) fn chart_filter(pattern: &str) -> sender::ChartFilter {
    if pattern.trim() == "*" {
        return Box::new(|_, _| true);
    }
    let pattern = SimplePattern::parse(pattern);
    Box::new(move |id, name| pattern.matches(id) || pattern.matches(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn send_charts_matching() {
        let f = chart_filter("*");
        assert!(f("system.cpu", "system.cpu"));
        let f = chart_filter("!cpu.* *");
        assert!(!f("cpu.cpu0", "cpu.cpu0"));
        assert!(f("system.cpu", "system.cpu"));
        let f = chart_filter("system.* net.eth0");
        assert!(f("system.load", "system.load"));
        assert!(f("net.x", "net.eth0"), "the name matches");
        assert!(!f("disk.sda", "disk.sda"));
    }
}
