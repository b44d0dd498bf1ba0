//! Typed settings: everything the roles need from `netdata.conf`, `stream.conf` and
//! `exporting.conf`, read once, in one place, into plain values.
//!
//! [`NodeSettings::from_configs`] is the only code outside `config/` that knows key names:
//! the daemon builds it once after loading the files and hands each role its part (the
//! database, the web server, the sender, the parent side of streaming, the collectors, the
//! plugins, exporting). No role sees a [`Config`]. Defaults and clamps are the ones the roles used to
//! apply themselves; a value out of range is clamped, never refused.
//!
//! Open sections (`[plugins]`, `[plugin:*]`), whose keys only their collector or plugin
//! knows, travel as [`Sections`]: a read-only copy of just those sections with the same
//! typed `*_in` getters (an invalid value of an unregistered key is logged when read).

mod connector;
mod exporting;
mod stream;
mod tiers;

pub use connector::{Connector, ConnectorKind, DataSource, SectionName, Transport, UNSUPPORTED_TYPES};
pub use exporting::{ExportingSettings, Instance, PrometheusExporterSettings, BACKEND_INSTANCE};
pub use stream::{ChildSettings, ParentSettings, PeerSection, SenderSettings, StreamConf};

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{keys, Config, FileKind};
use crate::db::{MemoryMode, PlanOptions, MAX_TIERS};
use crate::logging::{self, Target};
use crate::simple_pattern::SimplePattern;

/// The whole node's settings, built once by [`NodeSettings::from_configs`].
#[derive(Debug, Clone)]
pub struct NodeSettings {
    pub global: GlobalSettings,
    pub logs: logging::Settings,
    pub dirs: Directories,
    pub db: DbSettings,
    pub web: WebSettings,
    /// This node's own sender (`[stream]` of stream.conf).
    pub sender: SenderSettings,
    /// The receiving side: defaults, limits, per-API-key and per-machine sections.
    pub parent: ParentSettings,
    pub collectors: CollectorSettings,
    pub plugins: PluginSettings,
    pub health: HealthSettings,
    /// exporting.conf, with `[backend]` of netdata.conf.
    pub exporting: ExportingSettings,
}

/// `[global]`.
#[derive(Debug, Clone)]
pub struct GlobalSettings {
    /// Empty: the system's host name.
    pub hostname: String,
    /// Empty: stay the user we were started as.
    pub run_as_user: String,
    /// Empty: `/` (unless given on the command line).
    pub host_access_prefix: String,
    /// `glibc malloc arena max for netdata`, 1 ..= 64.
    pub malloc_arena: u32,
    /// `[host labels]`, in order.
    pub host_labels: Vec<(String, String)>,
    /// `is ephemeral node`, `has unstable connection`: the host labels Netdata 1.37 makes of
    /// them (`_is_ephemeral`, `_has_unstable_connection`).
    pub is_ephemeral: bool,
    pub has_unstable_connection: bool,
    /// See [`Config::machine_guid_file`].
    pub machine_guid_file: PathBuf,
}

/// `[directories]` the daemon itself uses (the plugins' share is in [`PluginSettings`]).
#[derive(Debug, Clone)]
pub struct Directories {
    pub config: PathBuf,
    pub log: PathBuf,
    pub cache: PathBuf,
    pub lib: PathBuf,
}

/// `[db]`, with `[stream] replication window` for the local host.
#[derive(Debug, Clone)]
pub struct DbSettings {
    /// `[db] mode`; an unsupported one is `Ram`, logged when read.
    pub mode: MemoryMode,
    /// The tiers of `ram`, `save` and `map` hosts: `Some` only when `storage tiers` > 1 is
    /// written (Netdata has tiers only with dbengine).
    pub fixed_tiers: Option<PlanOptions>,
    /// The tiers and disk budgets of `dbengine` hosts.
    pub dbengine: PlanOptions,
    /// `[db] retention`, 5 ..= 10 000 000 slots.
    pub history: u32,
    /// `[db] update every`, 1 ..= 86 400 s.
    pub update_every: u32,
    /// 1 ..= 1 000 000.
    pub gap_when_lost_iterations_above: u32,
    /// `[db] enable replication`.
    pub replication: bool,
    /// `[stream] replication window` (at most a day) when `[stream] enabled`, else 0.
    pub replication_window: u32,
    pub cleanup: CleanupSettings,
}

/// `[db] cleanup obsolete charts after secs`, `delete obsolete charts files`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CleanupSettings {
    /// As written (0 is raised to 1 by the housekeeping, with a warning).
    pub obsolete_charts_after_secs: u64,
    pub delete_obsolete_files: bool,
}

/// `[web]`: what the web server binds and how it serves.
#[derive(Debug, Clone)]
pub struct WebSettings {
    /// `[web] mode` is not `none`.
    pub enabled: bool,
    pub default_port: u16,
    /// `[web] bind to`, parsed by the web server.
    pub bind_to: String,
    /// 1 ..= 65 535.
    pub listen_backlog: u32,
    /// 1 ..= 1 000 000.
    pub max_connections: usize,
    /// At least 1 s.
    pub idle_timeout: Duration,
    /// At least 1 s.
    pub request_timeout: Duration,
    /// `None`: gzip disabled; else 1 ..= 9.
    pub gzip_level: Option<u8>,
    /// Empty: no header.
    pub x_frame_options: String,
    pub allow_connections: SimplePattern,
    pub allow_dashboard: SimplePattern,
    /// `allow badges from` (`/api/v1/badge.svg`; `allow dashboard from` also opens it).
    pub allow_badges: SimplePattern,
    pub allow_netdata_conf: SimplePattern,
    /// `allow management from` (`/api/v1/manage/health`).
    pub allow_management: SimplePattern,
    /// `<[directories] lib>/netdata.api.key`: the management API token (created when
    /// missing).
    pub api_key_file: PathBuf,
    /// `ssl key` / `ssl certificate`, relative ones under `[directories] config`; `None`
    /// when empty.
    pub ssl_key: Option<PathBuf>,
    pub ssl_certificate: Option<PathBuf>,
    pub tls_version: String,
    /// `[global] timezone`; empty: detect.
    pub timezone: String,
    pub prometheus: PrometheusSettings,
    /// The effective `netdata.conf`, served at `/netdata.conf` (empty when the web server
    /// is disabled or not built: nobody can ask for it).
    pub netdata_conf: String,
    /// `[directories] web`: static files served instead of the built-in dashboard when it
    /// holds an `index.html` (`web::files`).
    pub web_dir: PathBuf,
    /// `[web] web files owner` / `web files group`: empty = no ownership check.
    pub web_files_owner: String,
    pub web_files_group: String,
    /// `[web] web files symlink targets`: where outside the directory a symlink may lead.
    pub web_files_symlink_targets: String,
    /// `[registry] registry to announce` when the configuration sets it, else empty: what
    /// `/api/v1/registry` tells dashboards (nanodata has no registry of its own).
    pub registry_announce: String,
}

/// What the web server takes of [`PrometheusExporterSettings`]: the defaults of
/// `/api/v1/allmetrics`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrometheusSettings {
    pub prefix: String,
    /// As written; the web server parses it (`average` when invalid).
    pub data_source: String,
    pub send_names: bool,
    pub send_timestamps: bool,
}

/// The internal collectors: `[db] enable zero metrics` and the open sections `[plugins]`
/// and `[plugin:*]` each collector reads its own options from.
#[derive(Debug, Clone)]
pub struct CollectorSettings {
    pub zero_metrics: bool,
    pub sections: Sections,
}

/// External plugins (plugins.d).
#[derive(Debug, Clone)]
pub struct PluginSettings {
    /// `[plugins] check for new plugins every`, 1 ..= 86 400 s.
    pub check_every: u64,
    /// `[directories] plugins`.
    pub dirs: Vec<String>,
    /// The error log file the plugins' stderr is appended to, if it is a file.
    pub stderr: Option<PathBuf>,
    pub env: PluginEnv,
    /// `[plugins] enable running new plugins`.
    run_new: bool,
    /// `[plugins]` and `[plugin:*]`.
    sections: Sections,
}

/// What the plugins' environment (protocol.md §5.2) takes from the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginEnv {
    pub config_dir: String,
    pub stock_config_dir: String,
    pub web_dir: String,
    pub cache_dir: String,
    pub lib_dir: String,
    /// `[directories] lock`; unset: `<[directories] lib>/lock`, as in Netdata.
    pub lock_dir: String,
    pub log_dir: String,
    pub home_dir: String,
    pub listen_port: i64,
    /// Empty: the host's name.
    pub registry_hostname: String,
    pub registry_url: String,
    pub errors_throttle_period: u64,
    pub errors_per_period: i64,
    pub internals_monitoring: bool,
    /// 1 ..= 64.
    pub malloc_arena_max: i64,
    /// `[environment variables] PATH`, `PYTHONPATH`, `TZ` (default `:/etc/localtime`).
    pub path: Option<String>,
    pub pythonpath: Option<String>,
    pub tz: String,
    /// `[logs] debug flags` (Netdata 1.37: `[global] debug flags`), given as is.
    pub debug_flags: String,
}

/// `[health]` and the health directories of `[directories]`.
#[derive(Debug, Clone)]
pub struct HealthSettings {
    /// `[health] enabled` (the daemon also needs a database: `[db] mode` not `none`).
    pub enabled: bool,
    /// `run at least every seconds`, 1 ..= 86 400.
    pub run_every: u32,
    /// `postpone alarms during hibernation for seconds`, at most a day.
    pub postpone_hibernation: u32,
    /// `in memory max health log entries`, 10 ..= 100 000 (per host).
    pub max_log_entries: usize,
    /// `default repeat warning` / `default repeat critical`, seconds; 0: never.
    pub repeat_warning: u32,
    pub repeat_critical: u32,
    /// `script to execute on alarm`; unset: `alarm-notify.sh` in the first plugins
    /// directory (Netdata's `<plugins dir>/alarm-notify.sh`).
    pub script: PathBuf,
    /// `[directories] stock health config` (unset: `<stock config>/health.d`), read only
    /// when `enable stock health configuration`.
    pub stock_dir: Option<PathBuf>,
    /// `[directories] health config` (unset: `<config>/health.d`).
    pub user_dir: PathBuf,
    /// Where each host's alarm log is kept across restarts: `<[directories] lib>/health`.
    pub log_dir: PathBuf,
}

/// A read-only copy of some open sections, with the typed getters of [`Config`].
#[derive(Debug, Clone)]
pub struct Sections(Config);

impl NodeSettings {
    /// [`NodeSettings::from_configs`] without an exporting.conf.
    pub fn from_config(netdata: &Config, stream: &Config) -> NodeSettings {
        NodeSettings::from_configs(netdata, stream, &Config::new(FileKind::Exporting))
    }

    /// Reads everything, once. Logs only what the roles logged when they read it
    /// themselves (an unsupported `[db] mode`), and what exporting.conf's diagnostics cannot
    /// say (see [`ExportingSettings::from_config`]).
    pub fn from_configs(netdata: &Config, stream: &Config, exporting: &Config) -> NodeSettings {
        let cfg = netdata;
        let dirs = Directories {
            config: PathBuf::from(cfg.text(&keys::DIR_CONFIG)),
            log: PathBuf::from(cfg.text(&keys::DIR_LOG)),
            cache: PathBuf::from(cfg.text(&keys::DIR_CACHE)),
            lib: PathBuf::from(cfg.text(&keys::DIR_LIB)),
        };
        let logs = logging::Settings {
            error: Target::parse(&cfg.text(&keys::LOGS_ERROR), &dirs.log),
            access: Target::parse(&cfg.text(&keys::LOGS_ACCESS), &dirs.log),
            health: Target::parse(&cfg.text(&keys::LOGS_HEALTH), &dirs.log),
            level: level(&cfg.text(&keys::LOGS_SEVERITY)),
            flood_period_secs: cfg.seconds(&keys::LOGS_FLOOD_PERIOD),
            flood_max_lines: cfg.integer(&keys::LOGS_FLOOD_ERRORS).max(0) as u64,
            syslog_facility: cfg.text(&keys::LOGS_FACILITY),
        };
        let global = GlobalSettings {
            hostname: cfg.text(&keys::GLOBAL_HOSTNAME),
            run_as_user: cfg.text(&keys::GLOBAL_RUN_AS_USER),
            host_access_prefix: cfg.text(&keys::GLOBAL_HOST_ACCESS_PREFIX),
            malloc_arena: cfg.integer(&keys::GLOBAL_MALLOC_ARENA).clamp(1, 64) as u32,
            host_labels: cfg.entries("host labels").map(|(n, v)| (n.to_owned(), v.to_owned())).collect(),
            is_ephemeral: cfg.bool(&keys::GLOBAL_IS_EPHEMERAL),
            has_unstable_connection: cfg.bool(&keys::GLOBAL_UNSTABLE_CONNECTION),
            machine_guid_file: cfg.machine_guid_file(),
        };
        let sender = SenderSettings::from_config(netdata, stream);
        let db = DbSettings::from_config(cfg, &sender);
        let parent = ParentSettings::from_config(netdata, stream, &dirs, &db, &sender);
        let collectors = CollectorSettings {
            zero_metrics: cfg.bool(&keys::DB_ZERO_METRICS),
            sections: Sections::of(cfg, |s| s == keys::PLUGINS || s.starts_with("plugin:")),
        };
        let exporting = ExportingSettings::from_config(exporting, netdata);
        NodeSettings {
            web: WebSettings::from_config(cfg, &dirs, &exporting.prometheus),
            health: HealthSettings::from_config(cfg, &dirs),
            plugins: PluginSettings::from_config(cfg, &logs),
            global,
            logs,
            dirs,
            db,
            sender,
            parent,
            collectors,
            exporting,
        }
    }
}

impl Default for NodeSettings {
    /// The built-in defaults (both files empty).
    fn default() -> NodeSettings {
        NodeSettings::from_config(&Config::new(FileKind::Netdata), &Config::new(FileKind::Stream))
    }
}

impl DbSettings {
    fn from_config(cfg: &Config, sender: &SenderSettings) -> DbSettings {
        let mode_name = cfg.text(&keys::DB_MODE);
        let mode = MemoryMode::parse(&mode_name).unwrap_or_else(|| {
            log::warn!("[db] mode = {mode_name} is not supported by {}; using ram", crate::PROGRAM);
            MemoryMode::Ram
        });
        let history = cfg.integer(&keys::DB_RETENTION).clamp(5, 10_000_000) as u32;
        let tiers = cfg.integer(&keys::DB_STORAGE_TIERS);
        if !(1..=MAX_TIERS as i64).contains(&tiers) {
            log::warn!("[db] storage tiers = {tiers}: out of 1 to {MAX_TIERS}; using the nearest");
        }
        let tiers = tiers.clamp(1, MAX_TIERS as i64) as usize;
        let options = |budget: bool| tiers::tier_options(cfg, tiers, history, budget);
        DbSettings {
            mode,
            fixed_tiers: (cfg.raw(keys::DB, keys::DB_STORAGE_TIERS.name).is_some() && tiers > 1)
                .then(|| options(false)),
            dbengine: options(true),
            history,
            update_every: cfg.seconds(&keys::DB_UPDATE_EVERY).clamp(1, 86_400) as u32,
            gap_when_lost_iterations_above: gap(cfg),
            replication: cfg.bool(&keys::DB_REPLICATION),
            replication_window: if sender.enabled { sender.replication_window } else { 0 },
            cleanup: CleanupSettings {
                obsolete_charts_after_secs: cfg.seconds(&keys::DB_CLEANUP_OBSOLETE_CHARTS),
                delete_obsolete_files: cfg.bool(&keys::DB_DELETE_OBSOLETE_FILES),
            },
        }
    }
}

impl HealthSettings {
    fn from_config(cfg: &Config, dirs: &Directories) -> HealthSettings {
        let secs = |k: &keys::Key, max: u64| cfg.seconds(k).min(max) as u32;
        let repeat = |k: &keys::Key| -> u32 {
            let text = cfg.text(k);
            match text.trim() {
                "never" | "off" | "no" | "" => 0,
                t => match super::units::parse_duration_secs(t) {
                    Ok(n) => u32::try_from(n).unwrap_or(u32::MAX),
                    Err(e) => {
                        log::warn!("[{}] {} = {t}: {e}; using never", k.section, k.name);
                        0
                    }
                },
            }
        };
        // As in Netdata, the health directories follow [directories] config and stock
        // config unless set.
        let dir_or = |k: &keys::Key, base: &keys::Key| -> PathBuf {
            match cfg.raw(k.section, k.name).map(str::trim) {
                Some(d) if !d.is_empty() => PathBuf::from(d),
                _ => Path::new(&cfg.text(base)).join("health.d"),
            }
        };
        let script = match cfg.text(&keys::HEALTH_SCRIPT) {
            s if s.trim().is_empty() => {
                let first = cfg.plugin_dirs().into_iter().next().unwrap_or_default();
                Path::new(&first).join("alarm-notify.sh")
            }
            s => PathBuf::from(s.trim()),
        };
        HealthSettings {
            enabled: cfg.bool(&keys::HEALTH_ENABLED),
            run_every: secs(&keys::HEALTH_RUN_EVERY, 86_400).max(1),
            postpone_hibernation: secs(&keys::HEALTH_POSTPONE_HIBERNATION, 86_400),
            max_log_entries: cfg.integer(&keys::HEALTH_LOG_ENTRIES).clamp(10, 100_000) as usize,
            repeat_warning: repeat(&keys::HEALTH_REPEAT_WARNING),
            repeat_critical: repeat(&keys::HEALTH_REPEAT_CRITICAL),
            script,
            stock_dir: cfg
                .bool(&keys::HEALTH_STOCK)
                .then(|| dir_or(&keys::DIR_STOCK_HEALTH_CONFIG, &keys::DIR_STOCK_CONFIG)),
            user_dir: dir_or(&keys::DIR_HEALTH_CONFIG, &keys::DIR_CONFIG),
            log_dir: dirs.lib.join("health"),
        }
    }
}

impl WebSettings {
    fn from_config(cfg: &Config, dirs: &Directories, prometheus: &PrometheusExporterSettings) -> WebSettings {
        let enabled = cfg.text(&keys::WEB_MODE) != "none";
        let served = enabled && cfg!(feature = "web");
        let path = |key| match cfg.text(key) {
            p if p.is_empty() => None,
            p => Some(relative_to(&dirs.config, &p)),
        };
        WebSettings {
            enabled,
            default_port: u16::try_from(cfg.integer(&keys::WEB_DEFAULT_PORT)).unwrap_or(19999),
            bind_to: cfg.text(&keys::WEB_BIND_TO),
            listen_backlog: u32::try_from(cfg.integer(&keys::WEB_LISTEN_BACKLOG).clamp(1, 65_535))
                .unwrap_or(4096),
            max_connections: cfg.integer(&keys::WEB_MAX_CONNECTIONS).clamp(1, 1_000_000) as usize,
            idle_timeout: Duration::from_secs(cfg.seconds(&keys::WEB_IDLE_TIMEOUT).max(1)),
            request_timeout: Duration::from_secs(cfg.seconds(&keys::WEB_FIRST_REQUEST_TIMEOUT).max(1)),
            gzip_level: cfg
                .bool(&keys::WEB_GZIP)
                .then(|| cfg.integer(&keys::WEB_GZIP_LEVEL).clamp(1, 9) as u8),
            x_frame_options: cfg.text(&keys::WEB_X_FRAME_OPTIONS),
            allow_connections: SimplePattern::parse(&cfg.text(&keys::WEB_ALLOW_CONNECTIONS)),
            allow_dashboard: SimplePattern::parse(&cfg.text(&keys::WEB_ALLOW_DASHBOARD)),
            allow_badges: SimplePattern::parse(&cfg.text(&keys::WEB_ALLOW_BADGES)),
            allow_netdata_conf: SimplePattern::parse(&cfg.text(&keys::WEB_ALLOW_NETDATA_CONF)),
            allow_management: SimplePattern::parse(&cfg.text(&keys::WEB_ALLOW_MANAGEMENT)),
            api_key_file: dirs.lib.join("netdata.api.key"),
            ssl_key: path(&keys::WEB_SSL_KEY),
            ssl_certificate: path(&keys::WEB_SSL_CERTIFICATE),
            tls_version: cfg.text(&keys::WEB_TLS_VERSION),
            timezone: cfg.text(&keys::GLOBAL_TIMEZONE),
            prometheus: match served {
                true => PrometheusSettings {
                    prefix: prometheus.prefix.clone(),
                    data_source: prometheus.data_source.as_str().to_owned(),
                    send_names: prometheus.send_names_instead_of_ids,
                    send_timestamps: prometheus.send_timestamps,
                },
                false => PrometheusSettings::default(),
            },
            netdata_conf: if served { cfg.render() } else { String::new() },
            web_dir: PathBuf::from(cfg.text(&keys::DIR_WEB)),
            web_files_owner: cfg.text(&keys::WEB_FILES_OWNER),
            web_files_group: cfg.text(&keys::WEB_FILES_GROUP),
            web_files_symlink_targets: cfg.text(&keys::WEB_FILES_SYMLINK_TARGETS),
            registry_announce: match cfg.raw(keys::REGISTRY, keys::REGISTRY_ANNOUNCE.name) {
                Some(_) => cfg.text(&keys::REGISTRY_ANNOUNCE),
                None => String::new(),
            },
        }
    }
}

impl Default for PrometheusSettings {
    /// The built-in `[prometheus:exporter]` defaults.
    fn default() -> PrometheusSettings {
        PrometheusSettings {
            prefix: "netdata".into(),
            data_source: "average".into(),
            send_names: true,
            send_timestamps: true,
        }
    }
}

impl PluginSettings {
    fn from_config(cfg: &Config, logs: &logging::Settings) -> PluginSettings {
        let text = |k: &keys::Key| cfg.text(k);
        let env_section = "environment variables";
        PluginSettings {
            check_every: cfg.seconds(&keys::PLUGINS_CHECK_EVERY).clamp(1, 86_400),
            dirs: cfg.plugin_dirs(),
            stderr: match &logs.error {
                Target::File(p) => Some(p.clone()),
                _ => None,
            },
            env: PluginEnv {
                config_dir: text(&keys::DIR_CONFIG),
                stock_config_dir: text(&keys::DIR_STOCK_CONFIG),
                web_dir: text(&keys::DIR_WEB),
                cache_dir: text(&keys::DIR_CACHE),
                lib_dir: text(&keys::DIR_LIB),
                lock_dir: match cfg.raw(keys::DIR_LOCK.section, keys::DIR_LOCK.name).map(str::trim) {
                    Some(dir) if !dir.is_empty() => dir.to_owned(),
                    _ => format!("{}/lock", text(&keys::DIR_LIB).trim_end_matches('/')),
                },
                log_dir: text(&keys::DIR_LOG),
                home_dir: text(&keys::DIR_HOME),
                listen_port: cfg.integer(&keys::WEB_DEFAULT_PORT),
                registry_hostname: text(&keys::REGISTRY_HOSTNAME),
                registry_url: text(&keys::REGISTRY_ANNOUNCE),
                errors_throttle_period: cfg.seconds(&keys::LOGS_FLOOD_PERIOD),
                errors_per_period: cfg.integer(&keys::LOGS_FLOOD_ERRORS),
                internals_monitoring: cfg.bool(&keys::PLUGINS_NETDATA_MONITORING),
                malloc_arena_max: cfg.integer(&keys::GLOBAL_MALLOC_ARENA_PLUGINS).clamp(1, 64),
                path: cfg.raw(env_section, "PATH").map(str::to_owned),
                pythonpath: cfg.raw(env_section, "PYTHONPATH").map(str::to_owned),
                tz: cfg.text_in(env_section, "TZ", ":/etc/localtime"),
                debug_flags: text(&keys::LOGS_DEBUG_FLAGS),
            },
            run_new: cfg.bool(&keys::PLUGINS_RUN_NEW),
            sections: Sections::of(cfg, |s| s == keys::PLUGINS || s.starts_with("plugin:")),
        }
    }

    /// `[plugins] <name>`: its registered default (`apps`, `tc`, …), `no` for `slabinfo`,
    /// else `enable running new plugins`.
    pub fn enabled(&self, name: &str) -> bool {
        let default = match keys::find(FileKind::Netdata, keys::PLUGINS, name) {
            Some(key) => self.sections.0.bool(key),
            None if name == "slabinfo" => false,
            None => self.run_new,
        };
        self.sections.bool_in(keys::PLUGINS, name, default)
    }

    /// `[plugin:<name>]`, where a plugin's `update every`, `command options` and `kill after
    /// silent seconds` are.
    pub fn sections(&self) -> &Sections {
        &self.sections
    }
}

impl Sections {
    /// The sections of `cfg` whose names `keep` accepts.
    fn of(cfg: &Config, keep: impl Fn(&str) -> bool) -> Sections {
        let sections = cfg.sections.iter().filter(|s| keep(&s.name)).cloned().collect();
        Sections(Config { kind: cfg.kind, sections })
    }

    /// See [`Config::text_in`].
    pub fn text_in(&self, section: &str, name: &str, default: &str) -> String {
        self.0.text_in(section, name, default)
    }

    /// See [`Config::bool_in`].
    pub fn bool_in(&self, section: &str, name: &str, default: bool) -> bool {
        self.0.bool_in(section, name, default)
    }

    /// See [`Config::tristate_in`].
    pub fn tristate_in(&self, section: &str, name: &str, default: Option<bool>) -> Option<bool> {
        self.0.tristate_in(section, name, default)
    }

    /// See [`Config::integer_in`].
    pub fn integer_in(&self, section: &str, name: &str, default: i64) -> i64 {
        self.0.integer_in(section, name, default)
    }

    /// See [`Config::seconds_in`].
    pub fn seconds_in(&self, section: &str, name: &str, default: u64) -> u64 {
        self.0.seconds_in(section, name, default)
    }

    /// See [`Config::entries`].
    pub fn entries<'a>(&'a self, section: &str) -> impl Iterator<Item = (&'a str, &'a str)> {
        self.0.entries(section)
    }
}

/// `[logs] severity level`.
fn level(name: &str) -> log::LevelFilter {
    match name {
        "debug" => log::LevelFilter::Debug,
        "warning" | "warn" => log::LevelFilter::Warn,
        "error" => log::LevelFilter::Error,
        _ => log::LevelFilter::Info,
    }
}

/// `[db] gap when lost iterations above`, for the local host and the children.
fn gap(cfg: &Config) -> u32 {
    cfg.integer(&keys::DB_GAP).clamp(1, 1_000_000) as u32
}

fn relative_to(base: &Path, p: &str) -> PathBuf {
    let p = PathBuf::from(p);
    if p.is_absolute() {
        p
    } else {
        base.join(p)
    }
}

#[cfg(test)]
mod tests;
