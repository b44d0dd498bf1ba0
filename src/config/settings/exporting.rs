//! Typed exporting settings: `exporting.conf` (Netdata 1.37's vocabulary) and the older
//! `[backend]` section of `netdata.conf`, read once into an [`ExportingSettings`].
//!
//! Inheritance is Netdata's: an instance key comes from the instance's section, else from
//! `[exporting:global]`, else its built-in default (`keys/exporting.rs`). An invalid value is
//! skipped for the next source (it was reported with its file and line when the file was
//! read). `[prometheus:exporter]` reads its own section, then the same section of
//! `netdata.conf` (where nanodata read it before exporting.conf existed), then
//! `[exporting:global]`.
//!
//! `[backend]` (removed in Netdata 1.34, still in the seeds) becomes one more instance named
//! `backend`, after exporting.conf's, with its own keys and defaults only: it does not
//! inherit `[exporting:global]`. exporting.conf wins: when it has an instance named
//! `backend`, `[backend]` is ignored with a log line. A `[backend]` section without any key
//! (as a `netdata.conf` downloaded from an old agent has) is nothing.
//!
//! Which instances run: those whose `enabled` (own, else `[exporting:global]`'s) is yes and
//! that have at least one valid destination — as in Netdata 1.37, `[exporting:global]
//! enabled = no` does not stop an instance that says `enabled = yes`.

use std::fmt;
use std::time::Duration;

use super::connector::{Connector, ConnectorKind, DataSource, SectionName};
use crate::config::keys::{self, Key};
use crate::config::{units, Config, FileKind};
use crate::net::destination::{Destination, Endpoint};
use crate::simple_pattern::SimplePattern;

/// Everything the exporting engine and `/api/v1/allmetrics` need, built once by
/// [`ExportingSettings::from_config`].
#[derive(Debug, Clone, PartialEq)]
pub struct ExportingSettings {
    /// `[exporting:global] enabled`: the default of every instance's `enabled`.
    pub enabled: bool,
    /// `[exporting:global]` values (each instance has the resolved ones too).
    pub send_configured_labels: bool,
    pub send_automatic_labels: bool,
    /// 1 ..= 86 400 s.
    pub update_every: u32,
    /// Empty: the node's own host name.
    pub hostname: String,
    /// exporting.conf's instances in file order, then `[backend]`'s; disabled ones included.
    pub instances: Vec<Instance>,
    /// `[prometheus:exporter]`.
    pub prometheus: PrometheusExporterSettings,
}

/// One connector instance: a `[<type>:<name>]` section (or `[backend]`), resolved.
#[derive(Clone, PartialEq)]
pub struct Instance {
    /// After the last colon of the section name; `instance_<n>` when empty; `backend` for
    /// `[backend]`. Unique.
    pub name: String,
    pub kind: ConnectorKind,
    /// The type as written (`graphite:plaintext`, `opentsdb`), for log lines.
    pub type_name: String,
    /// Own `enabled`, else `[exporting:global]`'s; false too when no destination is valid.
    pub enabled: bool,
    /// Tried in order (failover). The port defaults to [`ConnectorKind::default_port`];
    /// `tls` is set on every one for `:https` types (and for a `:SSL` suffix).
    pub destinations: Vec<Destination>,
    pub data_source: DataSource,
    pub prefix: String,
    /// Empty: the node's own host name (children keep theirs).
    pub hostname: String,
    /// 1 ..= 86 400 s.
    pub update_every: u32,
    /// Batches kept while the destination fails, 0 ..= 10 000.
    pub buffer_on_failures: u32,
    /// 1 ..= 3 600 000 ms.
    pub timeout_ms: u64,
    pub send_names_instead_of_ids: bool,
    pub send_charts_matching: SimplePattern,
    pub send_hosts_matching: SimplePattern,
    pub send_variables: bool,
    pub send_configured_labels: bool,
    pub send_automatic_labels: bool,
    /// HTTP basic authentication when either is set (`:http`/`:https` types).
    pub username: String,
    pub password: String,
    /// Remote write: the path POSTed to, starting with `/`.
    pub remote_write_url_path: String,
    /// `keep backlog on restart` (nanodata extension): spool the backlog on stop.
    pub keep_backlog: bool,
}

/// `[prometheus:exporter]`: the defaults of `/api/v1/allmetrics?format=prometheus…`.
#[derive(Debug, Clone, PartialEq)]
pub struct PrometheusExporterSettings {
    pub prefix: String,
    pub data_source: DataSource,
    pub send_names_instead_of_ids: bool,
    /// nanodata extension.
    pub send_timestamps: bool,
    /// 1 ..= 86 400 s.
    pub update_every: u32,
    pub send_configured_labels: bool,
    pub send_automatic_labels: bool,
    pub send_charts_matching: SimplePattern,
    pub send_hosts_matching: SimplePattern,
}

/// Most batches an instance may keep.
pub const MAX_BUFFER_ON_FAILURES: i64 = 10_000;
/// Longest timeout, in milliseconds.
pub const MAX_TIMEOUT_MS: i64 = 3_600_000;
/// The name of the instance `[backend]` becomes.
pub const BACKEND_INSTANCE: &str = "backend";

impl ExportingSettings {
    /// Reads `exporting.conf` (`exporting`) and the `[backend]` and `[prometheus:exporter]`
    /// sections of `netdata.conf`. Logs what the files' diagnostics could not say: a bad
    /// destination, an instance without keys or without a valid destination, the
    /// `[backend]` mapping.
    pub fn from_config(exporting: &Config, netdata: &Config) -> ExportingSettings {
        let cfg = exporting;
        let global = Chain::new(&[(cfg, keys::EXPORTING_GLOBAL)]);
        let db_update_every = netdata.seconds(&keys::DB_UPDATE_EVERY).max(1);
        let mut instances: Vec<Instance> = Vec::new();
        let mut unnamed = 0;
        for section in cfg.sections() {
            let SectionName::Instance { kind, type_name, name } = SectionName::parse(section) else {
                continue; // reported when the file was read
            };
            let name = match name {
                "" => {
                    unnamed += 1;
                    format!("instance_{unnamed}")
                }
                n => n.to_owned(),
            };
            if cfg.entries(section).next().is_none() {
                log::info!(
                    "config: exporting.conf: section [{section}] has no keys; as in Netdata it is \
                     not an instance (write at least 'enabled = yes')"
                );
                continue;
            }
            if let Some(other) = instances.iter().find(|i| i.name == name) {
                log::warn!(
                    "config: exporting.conf: section [{section}]: instance name '{name}' is already \
                     used by a {} instance (ignored)",
                    other.type_name
                );
                continue;
            }
            let chain = Chain::new(&[(cfg, section), (cfg, keys::EXPORTING_GLOBAL)]);
            instances.push(read_instance(&chain, &INSTANCE_KEYS, kind, type_name, name, db_update_every));
        }
        let taken = instances.iter().any(|i| i.name == BACKEND_INSTANCE);
        instances.extend(backend(netdata, taken, db_update_every));
        ExportingSettings {
            enabled: global.bool(&keys::EXPORTING_ENABLED),
            send_configured_labels: global.bool(&keys::EXPORTING_SEND_CONFIGURED_LABELS),
            send_automatic_labels: global.bool(&keys::EXPORTING_SEND_AUTOMATIC_LABELS),
            update_every: clamp_secs(global.seconds(&keys::EXPORTING_UPDATE_EVERY)),
            hostname: global.text(&keys::EXPORTING_HOSTNAME),
            instances,
            prometheus: PrometheusExporterSettings::read(exporting, netdata),
        }
    }

    /// The instances to start: enabled, with at least one destination.
    pub fn enabled_instances(&self) -> impl Iterator<Item = &Instance> {
        self.instances.iter().filter(|i| i.enabled)
    }
}

impl Default for ExportingSettings {
    /// No exporting.conf, no `[backend]`.
    fn default() -> ExportingSettings {
        ExportingSettings::from_config(&Config::new(FileKind::Exporting), &Config::new(FileKind::Netdata))
    }
}

impl Instance {
    /// `timeout_ms` as a duration.
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }
}

impl fmt::Debug for Instance {
    /// Every field but the password, which is only said to be set or not.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let password = if self.password.is_empty() { "" } else { "<set>" };
        f.debug_struct("Instance")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("type_name", &self.type_name)
            .field("enabled", &self.enabled)
            .field("destinations", &self.destinations)
            .field("data_source", &self.data_source)
            .field("prefix", &self.prefix)
            .field("hostname", &self.hostname)
            .field("update_every", &self.update_every)
            .field("buffer_on_failures", &self.buffer_on_failures)
            .field("timeout_ms", &self.timeout_ms)
            .field("send_names_instead_of_ids", &self.send_names_instead_of_ids)
            .field("send_charts_matching", &self.send_charts_matching)
            .field("send_hosts_matching", &self.send_hosts_matching)
            .field("send_variables", &self.send_variables)
            .field("send_configured_labels", &self.send_configured_labels)
            .field("send_automatic_labels", &self.send_automatic_labels)
            .field("username", &self.username)
            .field("password", &password)
            .field("remote_write_url_path", &self.remote_write_url_path)
            .field("keep_backlog", &self.keep_backlog)
            .finish()
    }
}

impl PrometheusExporterSettings {
    fn read(exporting: &Config, netdata: &Config) -> PrometheusExporterSettings {
        let section = keys::PROMETHEUS_EXPORTER;
        let p = Chain::new(&[(exporting, section), (netdata, section), (exporting, keys::EXPORTING_GLOBAL)]);
        PrometheusExporterSettings {
            prefix: p.text(&keys::PROMETHEUS_PREFIX),
            data_source: p.data_source(&keys::PROMETHEUS_DATA_SOURCE),
            send_names_instead_of_ids: p.bool(&keys::PROMETHEUS_SEND_NAMES),
            send_timestamps: p.bool(&keys::PROMETHEUS_SEND_TIMESTAMPS),
            update_every: clamp_secs(p.seconds(&keys::PROMETHEUS_UPDATE_EVERY)),
            send_configured_labels: p.bool(&keys::PROMETHEUS_SEND_CONFIGURED_LABELS),
            send_automatic_labels: p.bool(&keys::PROMETHEUS_SEND_AUTOMATIC_LABELS),
            send_charts_matching: p.pattern(&keys::PROMETHEUS_SEND_CHARTS),
            send_hosts_matching: p.pattern(&keys::PROMETHEUS_SEND_HOSTS),
        }
    }
}

impl Default for PrometheusExporterSettings {
    fn default() -> PrometheusExporterSettings {
        ExportingSettings::default().prometheus
    }
}

/// The keys an instance is read with: exporting.conf's or `[backend]`'s.
struct InstanceKeys {
    enabled: &'static Key,
    destination: &'static Key,
    data_source: &'static Key,
    prefix: &'static Key,
    hostname: &'static Key,
    update_every: &'static Key,
    buffer_on_failures: &'static Key,
    timeout_ms: &'static Key,
    send_names: &'static Key,
    send_charts: &'static Key,
    send_hosts: &'static Key,
    remote_write_path: &'static Key,
    /// `None`: not a key of this section, the instance default applies.
    send_variables: Option<&'static Key>,
    send_configured_labels: Option<&'static Key>,
    send_automatic_labels: Option<&'static Key>,
    username: Option<&'static Key>,
    password: Option<&'static Key>,
    keep_backlog: Option<&'static Key>,
}

const INSTANCE_KEYS: InstanceKeys = InstanceKeys {
    enabled: &keys::INSTANCE_ENABLED,
    destination: &keys::INSTANCE_DESTINATION,
    data_source: &keys::INSTANCE_DATA_SOURCE,
    prefix: &keys::INSTANCE_PREFIX,
    hostname: &keys::INSTANCE_HOSTNAME,
    update_every: &keys::INSTANCE_UPDATE_EVERY,
    buffer_on_failures: &keys::INSTANCE_BUFFER_ON_FAILURES,
    timeout_ms: &keys::INSTANCE_TIMEOUT_MS,
    send_names: &keys::INSTANCE_SEND_NAMES,
    send_charts: &keys::INSTANCE_SEND_CHARTS,
    send_hosts: &keys::INSTANCE_SEND_HOSTS,
    remote_write_path: &keys::INSTANCE_REMOTE_WRITE_PATH,
    send_variables: Some(&keys::INSTANCE_SEND_VARIABLES),
    send_configured_labels: Some(&keys::INSTANCE_SEND_CONFIGURED_LABELS),
    send_automatic_labels: Some(&keys::INSTANCE_SEND_AUTOMATIC_LABELS),
    username: Some(&keys::INSTANCE_USERNAME),
    password: Some(&keys::INSTANCE_PASSWORD),
    keep_backlog: Some(&keys::INSTANCE_KEEP_BACKLOG),
};

const BACKEND_KEYS: InstanceKeys = InstanceKeys {
    enabled: &keys::BACKEND_ENABLED,
    destination: &keys::BACKEND_DESTINATION,
    data_source: &keys::BACKEND_DATA_SOURCE,
    prefix: &keys::BACKEND_PREFIX,
    hostname: &keys::BACKEND_HOSTNAME,
    update_every: &keys::BACKEND_UPDATE_EVERY,
    buffer_on_failures: &keys::BACKEND_BUFFER_ON_FAILURES,
    timeout_ms: &keys::BACKEND_TIMEOUT_MS,
    send_names: &keys::BACKEND_SEND_NAMES,
    send_charts: &keys::BACKEND_SEND_CHARTS,
    send_hosts: &keys::BACKEND_SEND_HOSTS,
    remote_write_path: &keys::BACKEND_REMOTE_WRITE_PATH,
    send_variables: None,
    send_configured_labels: None,
    send_automatic_labels: None,
    username: None,
    password: None,
    keep_backlog: None,
};

fn read_instance(
    c: &Chain<'_>,
    k: &InstanceKeys,
    kind: ConnectorKind,
    type_name: &str,
    name: String,
    db_update_every: u64,
) -> Instance {
    let or_default = |key: Option<&'static Key>, fallback: &'static Key| c.bool(key.unwrap_or(fallback));
    let text_or_default = |key: Option<&'static Key>, fallback: &'static Key| c.text(key.unwrap_or(fallback));
    let update_every = clamp_secs(c.seconds(k.update_every));
    // `[backend] timeout ms` unset: Netdata's backend default, twice the update interval.
    let timeout_ms = match c.lookup(k.timeout_ms).0 {
        "" => i64::from(update_every) * 2000,
        t => units::parse_integer(t).unwrap_or(0),
    };
    let mut instance = Instance {
        enabled: c.bool(k.enabled),
        destinations: Vec::new(),
        data_source: c.data_source(k.data_source),
        prefix: c.text(k.prefix),
        hostname: c.text(k.hostname),
        update_every,
        buffer_on_failures: c.integer(k.buffer_on_failures).clamp(0, MAX_BUFFER_ON_FAILURES) as u32,
        timeout_ms: timeout_ms.clamp(1, MAX_TIMEOUT_MS) as u64,
        send_names_instead_of_ids: c.bool(k.send_names),
        send_charts_matching: c.pattern(k.send_charts),
        send_hosts_matching: c.pattern(k.send_hosts),
        send_variables: or_default(k.send_variables, &keys::INSTANCE_SEND_VARIABLES),
        send_configured_labels: or_default(k.send_configured_labels, &keys::INSTANCE_SEND_CONFIGURED_LABELS),
        send_automatic_labels: or_default(k.send_automatic_labels, &keys::INSTANCE_SEND_AUTOMATIC_LABELS),
        username: text_or_default(k.username, &keys::INSTANCE_USERNAME),
        password: text_or_default(k.password, &keys::INSTANCE_PASSWORD),
        remote_write_url_path: c.text(k.remote_write_path),
        keep_backlog: or_default(k.keep_backlog, &keys::INSTANCE_KEEP_BACKLOG),
        name,
        kind,
        type_name: type_name.to_owned(),
    };
    let (value, origin) = c.lookup(k.destination);
    instance.destinations = destinations(&instance, value, origin.unwrap_or("exporting.conf"));
    if instance.destinations.is_empty() && instance.enabled {
        log::error!(
            "config: {}: exporting instance '{}' ({}) has no valid destination; it is disabled",
            origin.unwrap_or("exporting.conf"),
            instance.name,
            instance.type_name
        );
        instance.enabled = false;
    }
    if !instance.remote_write_url_path.starts_with('/') {
        if kind.connector() == Connector::PrometheusRemoteWrite {
            let at = c.lookup(k.remote_write_path).1.unwrap_or("exporting.conf");
            let path = &instance.remote_write_url_path;
            log::warn!(
                "config: {at}: exporting instance '{}': remote write URL path '{path}' does not \
                 start with '/'; using '/{path}'",
                instance.name
            );
        }
        instance.remote_write_url_path.insert(0, '/');
    }
    if instance.enabled
        && instance.data_source != DataSource::AsCollected
        && u64::from(instance.update_every) % db_update_every != 0
    {
        log::info!(
            "exporting: the update interval {} of instance '{}' is not a multiple of the database \
             update interval {db_update_every}; metric values will deviate at different points in time",
            instance.update_every,
            instance.name
        );
    }
    instance
}

/// The destination list of an instance: bad words are logged and skipped; `:https` types
/// connect with TLS, which a unix socket cannot do.
fn destinations(instance: &Instance, value: &str, origin: &str) -> Vec<Destination> {
    let (mut list, errors) = Destination::parse_list(value, instance.kind.default_port());
    for e in errors {
        log::warn!("config: {origin}: exporting instance '{}': {e} (ignored)", instance.name);
    }
    if instance.kind.tls() {
        list.retain(|d| match d.endpoint {
            Endpoint::Unix(_) => {
                log::warn!(
                    "config: {origin}: exporting instance '{}': destination '{d}': a {} instance \
                     uses TLS, which a unix socket cannot carry (ignored)",
                    instance.name,
                    instance.type_name
                );
                false
            }
            Endpoint::Tcp { .. } => true,
        });
        list.iter_mut().for_each(|d| d.tls = true);
    }
    list
}

/// `[backend]` of netdata.conf as the instance `backend`, when it has keys and exporting.conf
/// has no instance of that name.
fn backend(netdata: &Config, taken: bool, db_update_every: u64) -> Option<Instance> {
    let first = netdata.entries(keys::BACKEND).next()?.0;
    let at = netdata.origin(keys::BACKEND, first).unwrap_or("netdata.conf").to_owned();
    if taken {
        log::warn!(
            "config: {at}: section [backend] is ignored: exporting.conf defines an instance named \
             '{BACKEND_INSTANCE}', which wins"
        );
        return None;
    }
    let c = Chain::new(&[(netdata, keys::BACKEND)]);
    let (type_name, type_at) = c.lookup(&keys::BACKEND_TYPE);
    let Some(kind) = ConnectorKind::parse(type_name) else {
        let why = if super::connector::UNSUPPORTED_TYPES.contains(&type_name) {
            "is not supported by nanodata"
        } else {
            "is not a connector type"
        };
        log::warn!(
            "config: {}: [backend] type '{type_name}' {why}; the backend is ignored",
            type_at.unwrap_or(&at)
        );
        return None;
    };
    let instance =
        read_instance(&c, &BACKEND_KEYS, kind, type_name, BACKEND_INSTANCE.to_owned(), db_update_every);
    log::info!(
        "config: {at}: section [backend] (removed in Netdata 1.34) is read as the exporting \
         instance '{BACKEND_INSTANCE}' of type {type_name}{}; Netdata 1.37 keeps it in exporting.conf \
         as [{type_name}:{BACKEND_INSTANCE}]",
        if instance.enabled { "" } else { " (not enabled)" }
    );
    Some(instance)
}

fn clamp_secs(secs: u64) -> u32 {
    secs.clamp(1, 86_400) as u32
}

/// Where a key's value comes from, in order: the first source with a value valid for the
/// key's kind gives it, else the key's default. Invalid values of registered keys were
/// reported when their file was read; those of unregistered ones (`netdata.conf`'s
/// `[prometheus:exporter]`) are reported here.
struct Chain<'a> {
    sources: Vec<(&'a Config, &'a str)>,
}

impl<'a> Chain<'a> {
    fn new(sources: &[(&'a Config, &'a str)]) -> Chain<'a> {
        Chain { sources: sources.to_vec() }
    }

    /// The value and where it was set (`None`: the default).
    fn lookup(&self, key: &'static Key) -> (&'a str, Option<&'a str>) {
        for &(cfg, section) in &self.sources {
            let Some(value) = cfg.raw(section, key.name) else { continue };
            if key.kind.accepts(value, key.default) {
                return (value, cfg.origin(section, key.name));
            }
            if keys::find(cfg.kind, section, key.name).is_none() {
                log::warn!(
                    "config: {}: invalid value '{value}' for '{}' in section [{section}] ({}); ignored",
                    cfg.origin(section, key.name).unwrap_or("?"),
                    key.name,
                    key.kind.check(value, key.default).err().unwrap_or_default()
                );
            }
        }
        (key.default, None)
    }

    fn text(&self, key: &'static Key) -> String {
        self.lookup(key).0.to_owned()
    }

    fn bool(&self, key: &'static Key) -> bool {
        units::parse_bool(self.lookup(key).0).unwrap_or(false)
    }

    fn integer(&self, key: &'static Key) -> i64 {
        units::parse_integer(self.lookup(key).0).unwrap_or(0)
    }

    fn seconds(&self, key: &'static Key) -> u64 {
        units::parse_duration_secs(self.lookup(key).0).unwrap_or(0)
    }

    fn pattern(&self, key: &'static Key) -> SimplePattern {
        SimplePattern::parse(self.lookup(key).0)
    }

    fn data_source(&self, key: &'static Key) -> DataSource {
        DataSource::parse(self.lookup(key).0).unwrap_or(DataSource::Average)
    }
}

#[cfg(test)]
mod tests;
