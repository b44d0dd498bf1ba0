//! The typed `stream.conf`: the sender's `[stream]` (one set of values for the node's own
//! host and for every proxied child), and the parent's defaults, limits and API-key /
//! machine-GUID sections.
//!
//! A [`PeerSection`] keeps Netdata's reading rules: a key absent or blank inherits (from
//! the API key's `default …` keys, then from [`ChildSettings`]); an invalid value inherits
//! too (the file reader already warned about it); an invalid memory mode falls back to
//! the defaults' mode, skipping the API key's.

use std::path::PathBuf;
use std::time::Duration;

use super::{keys, Config, DbSettings, Directories};
use crate::config::units;
use crate::db::{MemoryMode, TierPlans};
use crate::simple_pattern::SimplePattern;

/// `[stream]` as the sender uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SenderSettings {
    /// `[stream] enabled`.
    pub enabled: bool,
    /// `[stream] destination`, parsed (and its errors logged) by the sender.
    pub destination: String,
    pub api_key: String,
    /// For destinations that give no port.
    pub default_port: u16,
    /// `send charts matching`.
    pub send_charts: String,
    /// 1 ..= 3600 s.
    pub timeout: Duration,
    /// 1 ..= 3600 s.
    pub reconnect_delay: Duration,
    /// At least the reconnect delay, 1 ..= 86 400 s.
    pub max_backoff: Duration,
    /// 64 KiB ..= 1 GiB.
    pub buffer_size: usize,
    /// `enable compression`, and this build can compress.
    pub compression: bool,
    /// `[db] enable replication` of netdata.conf.
    pub replication: bool,
    /// 0 ..= 100 000.
    pub resync_iterations: u32,
    pub ssl_skip_verification: bool,
    pub ca_file: Option<PathBuf>,
    pub ca_path: Option<PathBuf>,
    /// `replication window`, at most a day.
    pub replication_window: u32,
}

/// The parent side: what every receiver shares.
#[derive(Debug, Clone)]
pub struct ParentSettings {
    /// The API-key and machine-GUID sections, looked up per connection.
    pub conf: StreamConf,
    pub defaults: ChildSettings,
    /// `[web] allow streaming from`.
    pub allow_streaming: SimplePattern,
    /// `[web] accept a streaming request every seconds` (0: no limit).
    pub accept_every: u64,
    /// `max child hosts`, `max charts per child`, `max dimensions per chart`, `max
    /// dimensions per child` as written (negative: 0); checked by the receiver's limits.
    pub max_children: usize,
    pub max_charts: usize,
    pub max_dimensions: usize,
    pub max_dimensions_per_child: usize,
    /// `[db] cleanup orphan hosts after secs`.
    pub cleanup_orphans_after: i64,
    /// `[db] delete orphan hosts files`.
    pub delete_orphan_files: bool,
    /// `[directories] cache`.
    pub cache_dir: PathBuf,
    /// `[directories] lib`.
    pub lib_dir: PathBuf,
    /// `[db] gap when lost iterations above`.
    pub gap_when_lost_iterations_above: u32,
    /// `[stream] replication window`, for proxied children in memory mode `none`.
    pub replication_window: u32,
    /// How children's rings are sized, per memory mode (set by the daemon at start, once it
    /// has counted what is on disk; empty in settings read from files alone).
    pub tier_plans: TierPlans,
    /// `[stream]`: how proxied children are sent onward.
    pub proxy: SenderSettings,
}

/// A child's settings: as [`ParentSettings::defaults`], what every child inherits from
/// `netdata.conf` and `[stream]`; once resolved by the receiver for an accepted child, those
/// defaults overridden by its API key section's `default …` keys, then by its machine GUID
/// section's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChildSettings {
    /// Netdata's `alloc` is kept in RAM; `dbengine` is `map` with tiers.
    pub memory_mode: MemoryMode,
    /// Slots per dimension (at least 5 once resolved).
    pub history: i64,
    /// `None`: auto (alarms while connected).
    pub health: Option<bool>,
    pub postpone_alarms: u64,
    /// `health log history`: seconds of alarm log kept for the child.
    pub health_log_history: u64,
    pub proxy_enabled: bool,
    pub proxy_destination: String,
    pub proxy_api_key: String,
    pub proxy_send_charts: String,
    /// LZ4 may be granted.
    pub compression: bool,
    /// Replication may be granted.
    pub replication: bool,
    pub seconds_to_replicate: u64,
    /// At least 1 once resolved.
    pub replication_step: u64,
    /// The defaults': used when the child sends no `update_every`; resolved: the child's
    /// (or its GUID section's `update every`), 1 ..= 86 400.
    pub update_every: u32,
}

/// The API-key and machine-GUID sections of `stream.conf`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamConf {
    peers: Vec<PeerSection>,
}

/// One API-key or machine-GUID section. `None`: absent (or blank, for the overrides).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeerSection {
    /// The section's name as written (a UUID in any case).
    pub name: String,
    /// `type`, as written.
    pub kind: Option<String>,
    pub enabled: Option<bool>,
    /// `allow from`, as written.
    pub allow_from: Option<String>,
    /// `memory mode` / `default memory mode`: `Some(None)` when written but not a mode.
    pub memory_mode: Option<Option<MemoryMode>>,
    pub default_memory_mode: Option<Option<MemoryMode>>,
    pub history: Option<i64>,
    pub default_history: Option<i64>,
    /// `health enabled` / `health enabled by default`: `Some(None)` = auto.
    pub health: Option<Option<bool>>,
    pub default_health: Option<Option<bool>>,
    pub postpone_alarms: Option<u64>,
    pub default_postpone_alarms: Option<u64>,
    /// `health log history` / `default health log history`.
    pub health_log_history: Option<u64>,
    pub default_health_log_history: Option<u64>,
    pub proxy_enabled: Option<bool>,
    pub default_proxy_enabled: Option<bool>,
    pub proxy_destination: Option<String>,
    pub default_proxy_destination: Option<String>,
    pub proxy_api_key: Option<String>,
    pub default_proxy_api_key: Option<String>,
    pub proxy_send_charts: Option<String>,
    pub default_proxy_send_charts: Option<String>,
    pub compression: Option<bool>,
    pub replication: Option<bool>,
    pub seconds_to_replicate: Option<u64>,
    pub replication_step: Option<u64>,
    pub update_every: Option<u64>,
}

impl SenderSettings {
    pub(super) fn from_config(netdata: &Config, stream: &Config) -> SenderSettings {
        let path = |key| {
            let v = stream.text(key);
            (!v.is_empty()).then(|| PathBuf::from(v))
        };
        let reconnect = stream.seconds(&keys::STREAM_RECONNECT_DELAY);
        SenderSettings {
            enabled: stream.bool(&keys::STREAM_ENABLED),
            destination: stream.text(&keys::STREAM_DESTINATION),
            api_key: stream.text(&keys::STREAM_API_KEY),
            default_port: u16::try_from(stream.integer(&keys::STREAM_DEFAULT_PORT)).unwrap_or(19999),
            send_charts: stream.text(&keys::STREAM_SEND_CHARTS),
            timeout: Duration::from_secs(stream.seconds(&keys::STREAM_TIMEOUT).clamp(1, 3600)),
            reconnect_delay: Duration::from_secs(reconnect.clamp(1, 3600)),
            max_backoff: Duration::from_secs(
                stream.seconds(&keys::STREAM_MAX_BACKOFF).max(reconnect).clamp(1, 86_400),
            ),
            buffer_size: stream.bytes(&keys::STREAM_BUFFER_SIZE).clamp(64 * 1024, 1 << 30) as usize,
            compression: stream.bool(&keys::STREAM_COMPRESSION) && cfg!(feature = "compression"),
            replication: netdata.bool(&keys::DB_REPLICATION),
            resync_iterations: stream.integer(&keys::STREAM_CLOCK_RESYNC).clamp(0, 100_000) as u32,
            ssl_skip_verification: stream.bool(&keys::STREAM_SSL_SKIP_VERIFY),
            ca_file: path(&keys::STREAM_CA_FILE),
            ca_path: path(&keys::STREAM_CA_PATH),
            replication_window: stream.seconds(&keys::STREAM_REPLICATION_WINDOW).min(86_400) as u32,
        }
    }
}

impl ParentSettings {
    pub(super) fn from_config(
        netdata: &Config,
        stream: &Config,
        dirs: &Directories,
        db: &DbSettings,
        sender: &SenderSettings,
    ) -> ParentSettings {
        let n = |k| usize::try_from(stream.integer(k)).unwrap_or(0);
        let defaults = ChildSettings {
            memory_mode: db.mode,
            history: netdata.integer(&keys::DB_RETENTION),
            health: Some(netdata.bool(&keys::HEALTH_ENABLED)),
            postpone_alarms: 60,
            // Netdata's `default health log history` (5 days).
            health_log_history: 432_000,
            proxy_enabled: sender.enabled,
            proxy_destination: sender.destination.clone(),
            proxy_api_key: sender.api_key.clone(),
            proxy_send_charts: sender.send_charts.clone(),
            compression: stream.bool(&keys::STREAM_COMPRESSION),
            replication: db.replication,
            seconds_to_replicate: netdata.seconds(&keys::DB_SECONDS_TO_REPLICATE),
            replication_step: netdata.seconds(&keys::DB_REPLICATION_STEP),
            update_every: u32::try_from(netdata.seconds(&keys::DB_UPDATE_EVERY)).unwrap_or(1).max(1),
        };
        ParentSettings {
            conf: StreamConf::from_config(stream),
            defaults,
            allow_streaming: SimplePattern::parse(&netdata.text(&keys::WEB_ALLOW_STREAMING)),
            accept_every: netdata.seconds(&keys::WEB_STREAM_ACCEPT_EVERY),
            max_children: n(&keys::STREAM_MAX_CHILDREN),
            max_charts: n(&keys::STREAM_MAX_CHARTS),
            max_dimensions: n(&keys::STREAM_MAX_DIMENSIONS),
            max_dimensions_per_child: n(&keys::STREAM_MAX_DIMENSIONS_PER_CHILD),
            cleanup_orphans_after: i64::try_from(netdata.seconds(&keys::DB_CLEANUP_ORPHAN_HOSTS))
                .unwrap_or(i64::MAX),
            delete_orphan_files: netdata.bool(&keys::DB_DELETE_ORPHAN_FILES),
            cache_dir: dirs.cache.clone(),
            lib_dir: dirs.lib.clone(),
            gap_when_lost_iterations_above: db.gap_when_lost_iterations_above,
            replication_window: sender.replication_window,
            tier_plans: TierPlans::default(),
            proxy: sender.clone(),
        }
    }
}

impl StreamConf {
    /// The UUID sections of a `stream.conf`.
    pub fn from_config(stream: &Config) -> StreamConf {
        let peers = stream.sections().filter(|s| keys::is_uuid(s)).map(|s| PeerSection::read(stream, s));
        StreamConf { peers: peers.collect() }
    }

    /// Every API-key and machine-GUID section, in the file's order.
    pub fn sections(&self) -> impl Iterator<Item = &PeerSection> {
        self.peers.iter()
    }
}

impl PeerSection {
    fn read(cfg: &Config, section: &str) -> PeerSection {
        // Blank means "inherit" for the overrides; invalid values inherit too.
        let set = |name: &str| cfg.raw(section, name).map(str::trim).filter(|v| !v.is_empty());
        let text = |name: &str| set(name).map(str::to_owned);
        let boolean = |name: &str| set(name).and_then(|v| units::parse_bool(v).ok());
        let integer = |name: &str| set(name).and_then(|v| units::parse_integer(v).ok());
        let seconds = |name: &str| set(name).and_then(|v| units::parse_duration_secs(v).ok());
        let tristate = |name: &str| set(name).and_then(|v| units::parse_tristate(v).ok());
        let mode = |name: &str| set(name).map(memory_mode);
        PeerSection {
            name: section.to_owned(),
            kind: cfg.raw(section, "type").map(str::to_owned),
            enabled: cfg.raw(section, "enabled").and_then(|v| units::parse_bool(v).ok()),
            allow_from: cfg.raw(section, "allow from").map(str::to_owned),
            memory_mode: mode("memory mode"),
            default_memory_mode: mode("default memory mode"),
            history: integer("history"),
            default_history: integer("default history"),
            health: tristate("health enabled"),
            default_health: tristate("health enabled by default"),
            postpone_alarms: seconds("postpone alarms on connect seconds"),
            default_postpone_alarms: seconds("default postpone alarms on connect seconds"),
            health_log_history: seconds("health log history"),
            default_health_log_history: seconds("default health log history"),
            proxy_enabled: boolean("proxy enabled"),
            default_proxy_enabled: boolean("default proxy enabled"),
            proxy_destination: text("proxy destination"),
            default_proxy_destination: text("default proxy destination"),
            proxy_api_key: text("proxy api key"),
            default_proxy_api_key: text("default proxy api key"),
            proxy_send_charts: text("proxy send charts matching"),
            default_proxy_send_charts: text("default proxy send charts matching"),
            compression: boolean("enable compression"),
            replication: boolean("enable replication"),
            seconds_to_replicate: seconds("seconds to replicate"),
            replication_step: seconds("seconds per replication step"),
            update_every: seconds("update every"),
        }
    }
}

/// A memory mode of stream.conf: one of Netdata's names (`alloc` is kept in RAM), or `None`.
fn memory_mode(name: &str) -> Option<MemoryMode> {
    keys::DB_MODES.contains(&name).then(|| MemoryMode::parse(name).unwrap_or(MemoryMode::Ram))
}
