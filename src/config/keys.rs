//! The registry of known keys: the single source of every configuration default.
//!
//! Names and sections are Netdata 1.37's. Defaults are nanodata's, chosen for a router; where
//! one differs from Netdata's, its `help` says so. Keys marked "accepted, not used" are
//! recognised so that a Netdata `netdata.conf` loads without warnings, and have no effect.
//!
//! Keys of the API-key and machine-GUID sections of `stream.conf` are templates: their
//! section is [`PEER`], standing for any section whose name is a UUID. Read them with the
//! `*_in` getters of [`super::Config`], passing the UUID section's name. Likewise the keys of
//! the connector instances of `exporting.conf` have the section [`INSTANCE`].
//!
//! `netdata.conf` keys are here; `stream.conf`'s in `keys/stream.rs`, `exporting.conf`'s in
//! `keys/exporting.rs`.

use super::settings::SectionName;
use super::FileKind;

/// What a value is, and so how it is checked and read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Any text.
    Text,
    /// `yes`/`no` (see [`super::units::parse_bool`]).
    Bool,
    /// `yes`/`no`/`auto`.
    BoolAuto,
    /// A signed decimal integer.
    Integer,
    /// A duration (see [`super::units::parse_duration_secs`]).
    Seconds,
    /// A size (see [`super::units::parse_bytes`]).
    Bytes,
    /// One of the listed words, exactly.
    Choice(&'static [&'static str]),
    /// A file or directory name.
    Path,
    /// A Netdata simple pattern (parsed by its user, not here).
    Pattern,
}

/// One known key: where it lives, its default, its kind and a line of help.
///
/// An empty `default` on a numeric kind means "inherit" (for example from `[db] update
/// every`); the numeric getters return 0 for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub section: &'static str,
    pub name: &'static str,
    pub default: &'static str,
    pub kind: Kind,
    pub help: &'static str,
}

pub const GLOBAL: &str = "global";
pub const DB: &str = "db";
pub const DIRECTORIES: &str = "directories";
pub const LOGS: &str = "logs";
pub const WEB: &str = "web";
pub const HEALTH: &str = "health";
pub const REGISTRY: &str = "registry";
pub const PLUGINS: &str = "plugins";
pub const PLUGIN_PROC: &str = "plugin:proc";
pub const STREAM: &str = "stream";
/// The section of template keys that apply to every API-key or machine-GUID section.
pub const PEER: &str = "<api key or machine guid>";
/// The single exporting connector of Netdata before 1.34 (`netdata.conf`).
pub const BACKEND: &str = "backend";
/// `exporting.conf`: the defaults of every connector instance.
pub const EXPORTING_GLOBAL: &str = "exporting:global";
/// `exporting.conf`: the defaults of `/api/v1/allmetrics?format=prometheus`.
pub const PROMETHEUS_EXPORTER: &str = "prometheus:exporter";
/// The section of template keys that apply to every `[<type>:<name>]` connector instance.
pub const INSTANCE: &str = "<type>:<name>";

/// `[db] mode` and the stream.conf memory modes.
pub const DB_MODES: &[&str] = &["none", "ram", "save", "map", "alloc", "dbengine"];
/// `allow ... by dns`.
pub const DNS_MODES: &[&str] = &["yes", "no", "heuristic"];
/// `data source` of the exporting connectors, in Netdata's spellings.
pub const DATA_SOURCES: &[&str] =
    &["average", "sum", "volume", "as collected", "as-collected", "as_collected", "ascollected", "raw"];

macro_rules! registry {
    ($list:ident: $($id:ident = $sec:expr, $name:literal, $def:literal, $kind:expr, $help:literal;)*) => {
        $(
            #[doc = $help]
            pub const $id: Key =
                Key { section: $sec, name: $name, default: $def, kind: $kind, help: $help };
        )*
        /// Every key of this file kind, in the order `render` shows them.
        pub static $list: &[Key] = &[$($id),*];
    };
}

use Kind::*;

mod exporting;
mod stream;

pub use exporting::*;
pub use stream::*;

registry! { NETDATA:
    GLOBAL_HOSTNAME = GLOBAL, "hostname", "", Text,
        "Host name shown on dashboards and sent to parents; empty = the system host name.";
    GLOBAL_RUN_AS_USER = GLOBAL, "run as user", "netdata", Text,
        "Started as root, switch to this user once the ports are bound and the cache, lib and log directories are given to it (also -u); empty = stay root; a missing user is logged and root stays.";
    GLOBAL_HOST_ACCESS_PREFIX = GLOBAL, "host access prefix", "", Path,
        "Prefix added to /proc and /sys paths (for running in a container).";
    GLOBAL_TIMEZONE = GLOBAL, "timezone", "", Text,
        "Time zone reported by the API; empty = detect from the system.";
    GLOBAL_SCHEDULING_POLICY = GLOBAL, "process scheduling policy", "keep", Text,
        "Accepted, not used by nanodata.";
    GLOBAL_NICE_LEVEL = GLOBAL, "process nice level", "19", Integer,
        "Accepted, not used by nanodata.";
    GLOBAL_OOM_SCORE = GLOBAL, "OOM score", "0", Text,
        "Accepted, not used by nanodata.";
    GLOBAL_PTHREAD_STACK_SIZE = GLOBAL, "pthread stack size", "", Text,
        "Accepted, not used by nanodata.";
    GLOBAL_CPU_CORES = GLOBAL, "cpu cores", "", Text,
        "Accepted, not used by nanodata.";
    GLOBAL_LIBUV_THREADS = GLOBAL, "libuv worker threads", "", Text,
        "Accepted, not used by nanodata.";
    GLOBAL_METRIC_CORRELATIONS = GLOBAL, "enable metric correlations", "no", Bool,
        "Accepted, not used by nanodata (Netdata: yes).";
    GLOBAL_CORRELATIONS_METHOD = GLOBAL, "metric correlations method", "ks2", Text,
        "Accepted, not used by nanodata.";
    GLOBAL_MALLOC_ARENA_PLUGINS = GLOBAL, "glibc malloc arena max for plugins", "1", Integer,
        "MALLOC_ARENA_MAX given to external plugins (glibc malloc arenas).";
    GLOBAL_MALLOC_ARENA = GLOBAL, "glibc malloc arena max for netdata", "1", Integer,
        "glibc malloc arenas of nanodata itself (M_ARENA_MAX).";
    GLOBAL_IS_EPHEMERAL = GLOBAL, "is ephemeral node", "no", Bool,
        "The node comes and goes (a container, a laptop): the host label _is_ephemeral, as in Netdata 1.37.";
    GLOBAL_UNSTABLE_CONNECTION = GLOBAL, "has unstable connection", "no", Bool,
        "The node's link to its parent drops often: the host label _has_unstable_connection, as in Netdata 1.37.";

    DB_UPDATE_EVERY = DB, "update every", "1", Seconds,
        "Seconds between collections, the default for every chart.";
    DB_MODE = DB, "mode", "ram", Choice(DB_MODES),
        "Where metrics are stored: none, ram, save, map, or dbengine (map with tiers sized from the disk budgets); Netdata's alloc is ram (nanodata default ram; Netdata: dbengine).";
    DB_RETENTION = DB, "retention", "3600", Integer,
        "Slots kept per dimension in tier 0 (4 bytes each; with update every = 1, one hour); not used by dbengine, which sizes tier 0 from its budget.";
    DB_STORAGE_TIERS = DB, "storage tiers", "3", Integer,
        "Tiers per dimension with dbengine, 1 to 5 (tier 1 per minute, tier 2 per hour); set explicitly, also for ram, save and map.";
    DB_GAP = DB, "gap when lost iterations above", "1", Integer,
        "Missed collections after which a gap is stored instead of interpolating.";
    DB_KSM = DB, "memory deduplication (ksm)", "no", Bool,
        "Accepted, not used by nanodata (Netdata: yes).";
    DB_PAGE_CACHE_MB = DB, "dbengine page cache size MB", "32", Integer,
        "Accepted, not used by nanodata (its rings are mapped files: the kernel's page cache serves them).";
    DB_DISK_SPACE_MB = DB, "dbengine disk space MB", "256", Integer,
        "Tier-0 disk budget of dbengine when the multihost one is not set.";
    DB_MULTIHOST_DISK_SPACE_MB = DB, "dbengine multihost disk space MB", "256", Integer,
        "Tier-0 disk budget of dbengine, shared by every host this node stores.";
    DB_EXPECTED_DIMENSIONS = DB, "dbengine expected dimensions", "0", Integer,
        "Dimensions the dbengine budgets are divided among from the first start (0: the dimension files found on disk, at least 1000); nanodata's own.";
    DB_TIER1_ITERATIONS = DB, "dbengine tier 1 update every iterations", "60", Integer,
        "Tier-0 points consolidated into one tier-1 point (2 to 255; 60: per minute at update every = 1).";
    DB_TIER2_ITERATIONS = DB, "dbengine tier 2 update every iterations", "60", Integer,
        "Tier-1 points consolidated into one tier-2 point (2 to 255; 60: per hour).";
    DB_TIER1_DISK_SPACE_MB = DB, "dbengine tier 1 multihost disk space MB", "128", Integer,
        "Tier-1 disk budget of dbengine, shared by every host.";
    DB_TIER2_DISK_SPACE_MB = DB, "dbengine tier 2 multihost disk space MB", "64", Integer,
        "Tier-2 disk budget of dbengine, shared by every host.";
    DB_TIER0_RETENTION_TIME = DB, "dbengine tier 0 retention time", "", Seconds,
        "Time tier 0 keeps (for example 2h); sets its size instead of the budget (Netdata 2's spelling; not in 1.37).";
    DB_TIER1_RETENTION_TIME = DB, "dbengine tier 1 retention time", "", Seconds,
        "Time tier 1 keeps (for example 7d); sets its size instead of the budget.";
    DB_TIER2_RETENTION_TIME = DB, "dbengine tier 2 retention time", "", Seconds,
        "Time tier 2 keeps (for example 1y); sets its size instead of the budget.";
    DB_CLEANUP_OBSOLETE_CHARTS = DB, "cleanup obsolete charts after secs", "3600", Seconds,
        "Obsolete charts and dimensions, uncollected this long, are freed (minimum 1).";
    DB_CLEANUP_ORPHAN_HOSTS = DB, "cleanup orphan hosts after secs", "3600", Seconds,
        "Disconnected children are removed from memory after this long.";
    DB_DELETE_OBSOLETE_FILES = DB, "delete obsolete charts files", "yes", Bool,
        "Delete the save/map files of obsolete charts and dimensions when they are freed.";
    DB_DELETE_ORPHAN_FILES = DB, "delete orphan hosts files", "yes", Bool,
        "Delete the files of orphan hosts when they are cleaned up.";
    DB_ZERO_METRICS = DB, "enable zero metrics", "no", Bool,
        "Show charts and dimensions whose values are all zero.";
    DB_REPLICATION = DB, "enable replication", "yes", Bool,
        "Fill gaps between child and parent after a reconnection.";
    DB_SECONDS_TO_REPLICATE = DB, "seconds to replicate", "86400", Seconds,
        "How far back replication goes (capped by what is stored).";
    DB_REPLICATION_STEP = DB, "seconds per replication step", "600", Seconds,
        "Seconds of data per replication request.";
    DB_REPLICATION_THREADS = DB, "replication threads", "1", Integer,
        "Accepted, not used by nanodata.";

    DIR_CONFIG = DIRECTORIES, "config", "/etc/nanodata", Path,
        "User configuration directory.";
    DIR_STOCK_CONFIG = DIRECTORIES, "stock config", "/usr/lib/nanodata/conf.d", Path,
        "Given to plugins as NETDATA_STOCK_CONFIG_DIR.";
    DIR_LOG = DIRECTORIES, "log", "/var/log/nanodata", Path,
        "Log directory; relative [logs] file names are relative to it.";
    DIR_WEB = DIRECTORIES, "web", "/usr/share/nanodata/web", Path,
        "Static web files (Netdata's dashboard from netdata-web, your own pages), served when it holds an index.html; otherwise the built-in dashboard. Given to plugins as NETDATA_WEB_DIR.";
    DIR_CACHE = DIRECTORIES, "cache", "/var/cache/nanodata", Path,
        "Database files (one directory per host).";
    DIR_LIB = DIRECTORIES, "lib", "/var/lib/nanodata", Path,
        "State kept across restarts (machine GUID, registry).";
    DIR_HOME = DIRECTORIES, "home", "/var/cache/nanodata", Path,
        "Given to plugins as HOME.";
    DIR_LOCK = DIRECTORIES, "lock", "/var/lib/nanodata/lock", Path,
        "Given to plugins as NETDATA_LOCK_DIR (created at start); unset = <[directories] lib>/lock.";
    DIR_PLUGINS = DIRECTORIES, "plugins", "\"/usr/libexec/nanodata/plugins.d\" \"/etc/nanodata/custom-plugins.d\"", Path,
        "External plugin directories, each in double quotes, separated by spaces.";
    DIR_HEALTH_CONFIG = DIRECTORIES, "health config", "/etc/nanodata/health.d", Path,
        "User health.d directory (a file replaces the stock file of the same name); unset = <[directories] config>/health.d.";
    DIR_STOCK_HEALTH_CONFIG = DIRECTORIES, "stock health config", "/usr/lib/nanodata/conf.d/health.d", Path,
        "Stock health.d directory; unset = <[directories] stock config>/health.d (Debian's Netdata: /usr/lib/netdata/conf.d/health.d).";
    DIR_REGISTRY = DIRECTORIES, "registry", "/var/lib/nanodata/registry", Path,
        "Directory of the machine GUID file when [registry] netdata unique id file is empty; unset = <[directories] lib>/registry.";

    LOGS_DEBUG_FLAGS = LOGS, "debug flags", "0x0000000000000000", Text,
        "Accepted, not used by nanodata.";
    LOGS_DEBUG = LOGS, "debug", "none", Path,
        "Accepted, not used by nanodata (debug lines go to the error log when severity level = debug).";
    LOGS_ERROR = LOGS, "error", "error.log", Path,
        "Error log; a relative file name is relative to [directories] log.";
    LOGS_ACCESS = LOGS, "access", "access.log", Path,
        "Web access log; a relative file name is relative to [directories] log.";
    LOGS_HEALTH = LOGS, "health", "health.log", Path,
        "Alarm transitions log; a relative file name is relative to [directories] log (nanodata has no alarms yet: it stays empty).";
    LOGS_FACILITY = LOGS, "facility", "daemon", Text,
        "Syslog facility.";
    LOGS_FLOOD_PERIOD = LOGS, "errors flood protection period", "1200", Seconds,
        "Window of the error flood protection.";
    LOGS_FLOOD_ERRORS = LOGS, "errors to trigger flood protection", "200", Integer,
        "Errors per window after which error logging pauses.";
    LOGS_SEVERITY = LOGS, "severity level", "info", Choice(&["debug", "info", "warning", "error"]),
        "Lowest severity logged (nanodata extension).";

    WEB_MODE = WEB, "mode", "static-threaded", Choice(&["none", "static-threaded", "single-threaded", "multi-threaded"]),
        "none disables the web server; the threaded modes all mean one event loop in nanodata.";
    WEB_LISTEN_BACKLOG = WEB, "listen backlog", "4096", Integer,
        "Connections the kernel queues for the web server before it accepts them (capped by net.core.somaxconn).";
    WEB_DEFAULT_PORT = WEB, "default port", "19999", Integer,
        "Port for bind to entries that give none.";
    WEB_BIND_TO = WEB, "bind to", "*", Text,
        "Addresses to listen on: [PROTOCOL:]IP[:PORT][=ACL], separated by spaces.";
    WEB_IDLE_TIMEOUT = WEB, "disconnect idle clients after seconds", "60", Seconds,
        "Idle connections are closed after this long.";
    WEB_FIRST_REQUEST_TIMEOUT = WEB, "timeout for first request", "60", Seconds,
        "A new connection must send its request within this time.";
    WEB_STREAM_ACCEPT_EVERY = WEB, "accept a streaming request every seconds", "0", Seconds,
        "Rate limit for accepting children; 0 = no limit.";
    WEB_DO_NOT_TRACK = WEB, "respect do not track policy", "no", Bool,
        "Accepted, not used by nanodata (no registry cookies are set).";
    WEB_X_FRAME_OPTIONS = WEB, "x-frame-options response header", "", Text,
        "Value of the X-Frame-Options header; empty = not sent.";
    WEB_ALLOW_CONNECTIONS = WEB, "allow connections from", "localhost *", Pattern,
        "Clients allowed to connect at all.";
    WEB_ALLOW_CONNECTIONS_DNS = WEB, "allow connections by dns", "heuristic", Choice(DNS_MODES),
        "Accepted, not used by nanodata (patterns match addresses only; names are not resolved).";
    WEB_ALLOW_DASHBOARD = WEB, "allow dashboard from", "localhost *", Pattern,
        "Clients allowed to use the dashboard and API.";
    WEB_ALLOW_DASHBOARD_DNS = WEB, "allow dashboard by dns", "heuristic", Choice(DNS_MODES),
        "Accepted, not used by nanodata (patterns match addresses only; names are not resolved).";
    WEB_ALLOW_BADGES = WEB, "allow badges from", "*", Pattern,
        "Clients allowed to fetch /api/v1/badge.svg (as in Netdata 1.37, clients allowed the dashboard may too).";
    WEB_ALLOW_BADGES_DNS = WEB, "allow badges by dns", "heuristic", Choice(DNS_MODES),
        "Accepted, not used by nanodata (patterns match addresses only; names are not resolved).";
    WEB_ALLOW_STREAMING = WEB, "allow streaming from", "*", Pattern,
        "Children allowed to stream to this node.";
    WEB_ALLOW_STREAMING_DNS = WEB, "allow streaming by dns", "heuristic", Choice(DNS_MODES),
        "Accepted, not used by nanodata (patterns match addresses only; names are not resolved).";
    WEB_ALLOW_NETDATA_CONF = WEB, "allow netdata.conf from", "localhost fd* 10.* 192.168.* 172.16.* 172.17.* 172.18.* 172.19.* 172.20.* 172.21.* 172.22.* 172.23.* 172.24.* 172.25.* 172.26.* 172.27.* 172.28.* 172.29.* 172.30.* 172.31.* UNKNOWN", Pattern,
        "Clients allowed to fetch /netdata.conf.";
    WEB_ALLOW_NETDATA_CONF_DNS = WEB, "allow netdata.conf by dns", "no", Choice(DNS_MODES),
        "Accepted, not used by nanodata (patterns match addresses only; names are not resolved).";
    WEB_ALLOW_MANAGEMENT = WEB, "allow management from", "localhost", Pattern,
        "Clients allowed to use /api/v1/manage/health (with the X-Auth-Token of <lib>/netdata.api.key).";
    WEB_ALLOW_MANAGEMENT_DNS = WEB, "allow management by dns", "heuristic", Choice(DNS_MODES),
        "Accepted, not used by nanodata (patterns match addresses only; names are not resolved).";
    WEB_GZIP = WEB, "enable gzip compression", "yes", Bool,
        "Compress responses for clients that accept gzip.";
    WEB_GZIP_STRATEGY = WEB, "gzip compression strategy", "default", Choice(&["default", "filtered", "huffman only", "rle", "fixed"]),
        "Accepted, not used by nanodata.";
    WEB_GZIP_LEVEL = WEB, "gzip compression level", "3", Integer,
        "1 (fast) to 9 (small).";
    WEB_SSL_KEY = WEB, "ssl key", "", Path,
        "TLS private key (PEM); empty = no TLS (Netdata: <config>/ssl/key.pem); relative = under [directories] config.";
    WEB_SSL_CERTIFICATE = WEB, "ssl certificate", "", Path,
        "TLS certificate chain (PEM); empty = no TLS (Netdata: <config>/ssl/cert.pem); relative = under [directories] config.";
    WEB_TLS_VERSION = WEB, "tls version", "1.3", Choice(&["1.0", "1.1", "1.2", "1.3"]),
        "Lowest TLS version the web server accepts: 1.3 = TLS 1.3 only; lower = TLS 1.2 and 1.3 (nanodata has no TLS 1.0/1.1).";
    WEB_TLS_CIPHERS = WEB, "tls ciphers", "none", Text,
        "Accepted, not used by nanodata.";
    WEB_SERVER_THREADS = WEB, "web server threads", "", Integer,
        "Accepted, not used by nanodata (one event loop).";
    WEB_SERVER_MAX_SOCKETS = WEB, "web server max sockets", "", Integer,
        "Accepted, not used by nanodata; see max connections.";
    WEB_MAX_CONNECTIONS = WEB, "max connections", "256", Integer,
        "Open client connections at most; more are refused (nanodata extension).";
    WEB_SES_MAX_WINDOW = WEB, "ses max window", "15", Integer,
        "Accepted, not used by nanodata.";
    WEB_DES_MAX_WINDOW = WEB, "des max window", "15", Integer,
        "Accepted, not used by nanodata.";
    WEB_CUSTOM_DASHBOARD_INFO = WEB, "custom dashboard_info.js", "", Path,
        "Accepted, not used by nanodata.";
    WEB_FILES_OWNER = WEB, "web files owner", "", Text,
        "Serve only web files owned by this user (403 otherwise); empty = no check (Netdata 1.37 never checks).";
    WEB_FILES_GROUP = WEB, "web files group", "", Text,
        "Serve only web files owned by this group (403 otherwise); empty = no check.";
    WEB_FILES_SYMLINK_TARGETS = WEB, "web files symlink targets", "/usr/share/fonts/* /usr/share/fonts-* /usr/share/javascript/*", Pattern,
        "Outside [directories] web, the real paths a symlink in it may lead to (simple pattern; empty = none); the default covers the fonts Debian's netdata-web links to (nanodata extension).";

    HEALTH_ENABLED = HEALTH, "enabled", "yes", Bool,
        "Evaluate alarms (only on a node with a database: [db] mode is not none).";
    HEALTH_SILENCERS_FILE = HEALTH, "silencers file", "", Path,
        "Accepted, not used by nanodata yet (no alarms).";
    HEALTH_RUN_EVERY = HEALTH, "run at least every seconds", "10", Seconds,
        "Longest sleep of the health thread between evaluation passes.";
    HEALTH_POSTPONE_HIBERNATION = HEALTH, "postpone alarms during hibernation for seconds", "60", Seconds,
        "After the system was suspended, alarms wait this long before they are evaluated again.";
    HEALTH_SCRIPT = HEALTH, "script to execute on alarm", "", Path,
        "Notification script run with Netdata's 29 arguments; unset = alarm-notify.sh in the first [directories] plugins directory.";
    HEALTH_LOG_ENTRIES = HEALTH, "in memory max health log entries", "1000", Integer,
        "Alarm log entries kept per host (10 ..= 100 000), in memory and in <[directories] lib>/health.";
    HEALTH_ROTATE_LINES = HEALTH, "rotate log every lines", "2000", Integer,
        "Accepted, not used by nanodata.";
    HEALTH_STOCK = HEALTH, "enable stock health configuration", "yes", Bool,
        "Read the stock health.d directory too.";
    HEALTH_REPEAT_WARNING = HEALTH, "default repeat warning", "never", Text,
        "Re-notify a WARNING alarm this often (a duration, or never) unless its repeat: says otherwise.";
    HEALTH_REPEAT_CRITICAL = HEALTH, "default repeat critical", "never", Text,
        "Re-notify a CRITICAL alarm this often (a duration, or never) unless its repeat: says otherwise.";

    REGISTRY_ENABLED = REGISTRY, "enabled", "no", Bool,
        "Accepted, not used by nanodata (nanodata is never a registry).";
    REGISTRY_UNIQUE_ID_FILE = REGISTRY, "netdata unique id file", "", Path,
        "Machine GUID file; empty = <[directories] lib>/registry/netdata.public.unique.id.";
    REGISTRY_DB_DIRECTORY = REGISTRY, "registry db directory", "", Path,
        "Accepted, not used by nanodata.";
    REGISTRY_ANNOUNCE = REGISTRY, "registry to announce", "https://registry.my-netdata.io", Text,
        "Given to plugins as NETDATA_REGISTRY_URL; /api/v1/registry announces it to dashboards only when set here (nanodata keeps no registry).";
    REGISTRY_HOSTNAME = REGISTRY, "registry hostname", "", Text,
        "Given to plugins as NETDATA_REGISTRY_HOSTNAME; empty = [global] hostname.";
    REGISTRY_DOMAIN = REGISTRY, "registry domain", "", Text,
        "Accepted, not used by nanodata.";
    REGISTRY_ALLOW_FROM = REGISTRY, "allow from", "*", Pattern,
        "Accepted, not used by nanodata (nanodata is never a registry).";
    REGISTRY_ALLOW_DNS = REGISTRY, "allow by dns", "heuristic", Choice(DNS_MODES),
        "Accepted, not used by nanodata (nanodata is never a registry).";
    REGISTRY_VERIFY_COOKIES = REGISTRY, "verify browser cookies support", "yes", Bool,
        "Accepted, not used by nanodata.";
    REGISTRY_MAX_URL = REGISTRY, "max URL length", "1024", Integer,
        "Accepted, not used by nanodata.";
    REGISTRY_MAX_URL_NAME = REGISTRY, "max URL name length", "50", Integer,
        "Accepted, not used by nanodata.";

    PLUGINS_RUN_NEW = PLUGINS, "enable running new plugins", "yes", Bool,
        "Start external plugins not listed in this section.";
    PLUGINS_CHECK_EVERY = PLUGINS, "check for new plugins every", "60", Seconds,
        "How often the plugin directories are scanned.";
    PLUGINS_PROC = PLUGINS, "proc", "yes", Bool,
        "The /proc collectors.";
    PLUGINS_DISKSPACE = PLUGINS, "diskspace", "yes", Bool,
        "The disk space collector.";
    PLUGINS_NETDATA_MONITORING = PLUGINS, "netdata monitoring", "yes", Bool,
        "Charts about nanodata itself.";
    PLUGINS_TC = PLUGINS, "tc", "no", Bool,
        "Accepted, not used by nanodata (no tc collector; Netdata: yes).";
    PLUGINS_IDLEJITTER = PLUGINS, "idlejitter", "no", Bool,
        "Accepted, not used by nanodata (no idlejitter collector; Netdata: yes).";
    PLUGINS_TIMEX = PLUGINS, "timex", "yes", Bool,
        "Clock synchronisation charts.";
    PLUGINS_CGROUPS = PLUGINS, "cgroups", "no", Bool,
        "Accepted, not used by nanodata (no cgroups collector; Netdata: yes).";
    PLUGINS_APPS = PLUGINS, "apps", "no", Bool,
        "apps.plugin (nanodata default no, it is heavy for a router; Netdata: yes).";

    PROC_UPDATE_EVERY = PLUGIN_PROC, "update every", "", Seconds,
        "Collection interval of the /proc collectors; empty = [db] update every.";

    BACKEND_ENABLED = BACKEND, "enabled", "no", Bool,
        "Netdata before 1.34: the one exporting connector, read as the exporting instance named backend.";
    BACKEND_TYPE = BACKEND, "type", "graphite", Text,
        "A connector type of exporting.conf (graphite, opentsdb, opentsdb:http, json, prometheus_remote_write, …); another is logged and the backend skipped.";
    BACKEND_DESTINATION = BACKEND, "destination", "localhost", Text,
        "Where to send: [PROTOCOL:]HOST[:PORT], separated by spaces, tried in order; the port defaults to the type's.";
    BACKEND_DATA_SOURCE = BACKEND, "data source", "average", Choice(DATA_SOURCES),
        "average, sum (volume) or as collected (raw).";
    BACKEND_PREFIX = BACKEND, "prefix", "netdata", Text,
        "Prefix of every metric name.";
    BACKEND_HOSTNAME = BACKEND, "hostname", "", Text,
        "Name sent for this node; empty = [global] hostname.";
    BACKEND_UPDATE_EVERY = BACKEND, "update every", "10", Seconds,
        "Seconds between exports.";
    BACKEND_BUFFER_ON_FAILURES = BACKEND, "buffer on failures", "10", Integer,
        "Batches kept while the destination fails; then the oldest is dropped.";
    BACKEND_TIMEOUT_MS = BACKEND, "timeout ms", "", Integer,
        "Connect and send timeout; empty = 2 × update every (Netdata's backend default, 20000 ms).";
    BACKEND_SEND_NAMES = BACKEND, "send names instead of ids", "yes", Bool,
        "Chart and dimension names instead of ids in metric names.";
    BACKEND_SEND_CHARTS = BACKEND, "send charts matching", "*", Pattern,
        "Charts (id or name) exported.";
    BACKEND_SEND_HOSTS = BACKEND, "send hosts matching", "localhost *", Pattern,
        "Hosts exported (localhost is this node).";
    BACKEND_REMOTE_WRITE_PATH = BACKEND, "remote write URL path", "/receive", Text,
        "prometheus_remote_write: the path POSTed to.";
    BACKEND_HOST_TAGS = BACKEND, "host tags", "", Text,
        "Accepted, not used by nanodata (the [host labels] are sent instead).";
}

impl Key {
    /// Accepted so that a Netdata configuration loads, but without effect in nanodata: its
    /// help starts with "Accepted, not used by nanodata". `-W dumpconfig` marks it, and
    /// setting it to anything but its default is warned about once, when the file is read.
    pub fn unused(&self) -> bool {
        self.help.starts_with(UNUSED_HELP)
    }

    /// Whether `value` means the same as the default (`no` = `false`, `60` = `1m`, …).
    pub fn is_default(&self, value: &str) -> bool {
        use super::units::*;
        let (value, default) = (value.trim(), self.default);
        match self.kind {
            Bool => parse_bool(value).ok() == parse_bool(default).ok(),
            BoolAuto => parse_tristate(value).ok() == parse_tristate(default).ok(),
            Integer => parse_integer(value).ok() == parse_integer(default).ok(),
            Seconds => parse_duration_secs(value).ok() == parse_duration_secs(default).ok(),
            Bytes => parse_bytes(value).ok() == parse_bytes(default).ok(),
            Text | Path | Pattern | Choice(_) => value == default,
        }
    }
}

/// How the help of an accepted but unused key starts.
const UNUSED_HELP: &str = "Accepted, not used by nanodata";

impl Kind {
    /// Checks `value` for this kind; an error says what was expected. An empty value is
    /// valid when the key's `default` is empty too (it means "inherit").
    pub fn check(&self, value: &str, default: &str) -> Result<(), String> {
        use super::units::*;
        if value.is_empty() && default.is_empty() {
            return Ok(());
        }
        let (result, expected) = match self {
            Text | Path | Pattern => (Ok(()), ""),
            Bool => (parse_bool(value).map(drop), "yes or no"),
            BoolAuto => (parse_tristate(value).map(drop), "yes, no or auto"),
            Integer => (parse_integer(value).map(drop), "an integer"),
            Seconds => (parse_duration_secs(value).map(drop), "seconds, or a duration like 30s, 5m, 1h"),
            Bytes => (parse_bytes(value).map(drop), "bytes, or a size like 512K, 10MiB"),
            Choice(words) => {
                return match words.contains(&value) {
                    true => Ok(()),
                    false => Err(format!("expected one of {}", words.join("|"))),
                }
            }
        };
        result.map_err(|e| format!("{e}; expected {expected}"))
    }

    /// Whether `value` is valid for this kind (see [`Kind::check`]).
    pub fn accepts(&self, value: &str, default: &str) -> bool {
        self.check(value, default).is_ok()
    }
}

/// How a section is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// Every key is registered; others are warned about.
    Closed,
    /// Any key is accepted (collectors read them); registered ones are still checked.
    Open,
    /// A UUID section of stream.conf: closed, with the [`PEER`] template keys.
    Peer,
    /// A `[<type>:<name>]` connector instance of exporting.conf: closed, with the
    /// [`INSTANCE`] template keys.
    Instance,
    /// Known to Netdata, not used by nanodata: accepted, keys not checked.
    Unused,
    /// Not known at all.
    Unknown,
}

/// Netdata 1.37 sections that nanodata accepts and ignores.
#[rustfmt::skip]
const UNUSED: &[&str] = &[
    "ml", "statsd", "cloud", "sqlite", "global statistics", "aclk", "plugin:cgroups",
    "plugin:apps", "plugin:tc", "plugin:python.d", "plugin:charts.d", "plugin:go.d",
    "plugin:ebpf", "plugin:timex", "plugin:idlejitter", "plugin:slabinfo", "plugin:perf",
    "plugin:freeipmi", "plugin:nfacct", "plugin:cups", "plugin:fping", "plugin:ioping",
];

pub(crate) fn classify(file: FileKind, section: &str) -> Class {
    match file {
        FileKind::Netdata => match section {
            GLOBAL | DB | DIRECTORIES | LOGS | WEB | HEALTH | REGISTRY | BACKEND => Class::Closed,
            PLUGINS => Class::Open,
            _ if UNUSED.contains(&section) => Class::Unused,
            "environment variables" | "host labels" | "prometheus:exporter" => Class::Open,
            _ if section.starts_with("plugin:") => Class::Open,
            _ => Class::Unknown,
        },
        FileKind::Stream => match section {
            STREAM => Class::Closed,
            _ if is_uuid(section) => Class::Peer,
            _ => Class::Unknown,
        },
        FileKind::Exporting => match SectionName::parse(section) {
            SectionName::Global | SectionName::PrometheusExporter => Class::Closed,
            SectionName::Instance { .. } => Class::Instance,
            SectionName::Unsupported { .. } => Class::Unused,
            _ => Class::Unknown,
        },
    }
}

/// The registered key `name` of `section`, if any.
pub(crate) fn find(file: FileKind, section: &str, name: &str) -> Option<&'static Key> {
    let (list, section) = match file {
        FileKind::Netdata => (NETDATA, section),
        FileKind::Stream if is_uuid(section) => (STREAM_KEYS, PEER),
        FileKind::Stream => (STREAM_KEYS, section),
        FileKind::Exporting if classify(file, section) == Class::Instance => (EXPORTING_KEYS, INSTANCE),
        FileKind::Exporting => (EXPORTING_KEYS, section),
    };
    list.iter().find(|k| k.section == section && k.name == name)
}

/// Every registered key of a file kind.
pub fn all(file: FileKind) -> &'static [Key] {
    match file {
        FileKind::Netdata => NETDATA,
        FileKind::Stream => STREAM_KEYS,
        FileKind::Exporting => EXPORTING_KEYS,
    }
}

/// Unregistered keys of closed sections that are accepted without a warning: the many
/// tuning knobs of Netdata's dbengine, which nanodata does not have.
pub(crate) fn tolerated(section: &str, name: &str) -> bool {
    section == DB && name.starts_with("dbengine ")
}

/// A canonical, hyphenated UUID (either case), as Netdata's API keys and GUIDs are written.
pub(crate) fn is_uuid(text: &str) -> bool {
    text.len() == 36
        && text.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_for_their_kind() {
        for key in NETDATA.iter().chain(STREAM_KEYS).chain(EXPORTING_KEYS) {
            assert!(
                key.kind.accepts(key.default, key.default),
                "default of [{}] {} is invalid",
                key.section,
                key.name
            );
        }
    }

    #[test]
    fn no_key_is_registered_twice() {
        for list in [NETDATA, STREAM_KEYS, EXPORTING_KEYS] {
            for (i, a) in list.iter().enumerate() {
                for b in &list[i + 1..] {
                    assert!(!(a.section == b.section && a.name == b.name), "{}", a.name);
                }
            }
        }
    }

    #[test]
    fn uuids() {
        assert!(is_uuid("11111111-2222-3333-4444-555555555555"));
        assert!(is_uuid("8A795B0C-2311-11e6-8563-000c295076a6"));
        assert!(!is_uuid("11111111222233334444555555555555"));
        assert!(!is_uuid("11111111-2222-3333-4444-55555555555g"));
        assert!(!is_uuid("stream"));
    }

    #[test]
    fn sections_are_classified() {
        use FileKind::*;
        assert_eq!(classify(Netdata, "db"), Class::Closed);
        assert_eq!(classify(Netdata, "plugins"), Class::Open);
        assert_eq!(classify(Netdata, "plugin:proc"), Class::Open);
        assert_eq!(classify(Netdata, "plugin:proc:/proc/net/dev:eth0"), Class::Open);
        assert_eq!(classify(Netdata, "plugin:cgroups"), Class::Unused);
        assert_eq!(classify(Netdata, "ml"), Class::Unused);
        assert_eq!(classify(Netdata, "DB"), Class::Unknown);
        assert_eq!(classify(Stream, "stream"), Class::Closed);
        assert_eq!(classify(Stream, "11111111-2222-3333-4444-555555555555"), Class::Peer);
        assert_eq!(classify(Stream, "db"), Class::Unknown);
        assert_eq!(classify(Netdata, "backend"), Class::Closed);
        assert_eq!(classify(Exporting, "exporting:global"), Class::Closed);
        assert_eq!(classify(Exporting, "prometheus:exporter"), Class::Closed);
        assert_eq!(classify(Exporting, "graphite:http:a"), Class::Instance);
        assert_eq!(classify(Exporting, "kinesis:a"), Class::Unused);
        assert_eq!(classify(Exporting, "graphite:http"), Class::Unknown);
        assert_eq!(classify(Exporting, "stream"), Class::Unknown);
    }

    #[test]
    fn every_instance_key_is_also_a_global_default() {
        // Netdata reads an instance's key from its section, then from [exporting:global].
        for key in EXPORTING_KEYS.iter().filter(|k| k.section == INSTANCE) {
            let global = find(FileKind::Exporting, EXPORTING_GLOBAL, key.name);
            assert_eq!(global.map(|g| (g.default, g.kind)), Some((key.default, key.kind)), "{}", key.name);
        }
        assert!(find(FileKind::Exporting, "json:http:x", "remote write URL path").is_some());
        assert!(find(FileKind::Exporting, "json:http:x", "stream name").is_none());
        assert!(find(FileKind::Exporting, "kinesis:x", "enabled").is_none());
    }
}
