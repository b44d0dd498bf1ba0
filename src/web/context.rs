//! What the web server's parts share: the [`Context`] every request handler reads (the
//! hosts, the node's fixed facts, the ACL patterns), the server [`Limits`], the [`Acl`]
//! classes and the address matching of the ACLs. The starter (`web/mod.rs`) builds them;
//! `api/*`, the event loop and the streaming parent side import them from here.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use crate::config::Config;
use crate::rrd::Hosts;
use crate::simple_pattern::SimplePattern;
use crate::web::api;

/// Which ACL a request falls under.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Acl {
    Dashboard,
    NetdataConf,
    /// `allow management from` (`/api/v1/manage/health`).
    Management,
    /// `allow badges from` (`/api/v1/badge.svg`, which `Dashboard` also opens).
    Badges,
}

/// The health engine the API shows (`None`: health disabled on this node).
#[cfg(feature = "health")]
pub type HealthHandle = Arc<crate::health::Health>;
/// Without the `health` feature there is no engine: the alarm endpoints answer as
/// Netdata does with health disabled.
#[cfg(not(feature = "health"))]
pub type HealthHandle = std::convert::Infallible;

/// The Netdata API version nanodata answers like (clients compare it).
pub const API_VERSION: &str = "v1.37.1";

/// What request handlers share: the hosts and the node's fixed facts.
pub struct Context {
    pub hosts: Arc<Hosts>,
    /// The effective configuration, rendered once at start.
    pub netdata_conf: String,
    pub system: crate::daemon::sysinfo::SystemInfo,
    pub timezone: String,
    pub stream_enabled: bool,
    pub https_enabled: bool,
    pub prometheus: api::allmetrics::PrometheusDefaults,
    /// Last scrape time per (`server`, host GUID), for prometheus average/sum windows.
    pub prometheus_seen: Mutex<HashMap<(String, String), i64>>,
    /// The health engine (`None`: health disabled).
    pub health: Option<HealthHandle>,
    /// The management API token (`X-Auth-Token`); empty: none could be read or made, every
    /// management request is refused.
    pub api_token: String,
    /// `[directories] web` when it holds an `index.html`: served instead of the built-in
    /// dashboard.
    pub web_files: Option<crate::web::files::WebFiles>,
    /// The registry `/api/v1/registry` announces: `[registry] registry to announce` when the
    /// configuration sets it, else empty (see `api::registry`).
    pub registry_announce: String,
    // Built by the starter (`super::start_bound`).
    pub(crate) allow_connections: SimplePattern,
    pub(crate) allow_dashboard: SimplePattern,
    pub(crate) allow_badges: SimplePattern,
    pub(crate) allow_netdata_conf: SimplePattern,
    pub(crate) allow_management: SimplePattern,
}

impl Context {
    /// Whether `ip` passes the ACL (`allow dashboard from`, `allow netdata.conf from`, …).
    pub fn allowed(&self, acl: Acl, ip: IpAddr) -> bool {
        let p = match acl {
            Acl::Dashboard => &self.allow_dashboard,
            Acl::NetdataConf => &self.allow_netdata_conf,
            Acl::Management => &self.allow_management,
            Acl::Badges => &self.allow_badges,
        };
        ip_matches(p, ip)
    }

    /// `allow connections from`.
    pub fn connection_allowed(&self, ip: IpAddr) -> bool {
        ip_matches(&self.allow_connections, ip)
    }

    /// A context with the built-in defaults and no server, so that the fuzz targets
    /// (`fuzz/`) can route requests through [`super::api::handle`] without a socket.
    #[doc(hidden)]
    pub fn for_fuzzing(hosts: Arc<Hosts>) -> Context {
        let cfg = Config::new(crate::config::FileKind::Netdata);
        Context {
            hosts,
            netdata_conf: cfg.render(),
            system: crate::daemon::sysinfo::SystemInfo::default(),
            timezone: "UTC".into(),
            stream_enabled: false,
            https_enabled: false,
            prometheus: api::allmetrics::PrometheusDefaults::from_config(&cfg),
            prometheus_seen: Mutex::new(HashMap::new()),
            health: None,
            api_token: String::new(),
            web_files: None,
            registry_announce: String::new(),
            allow_connections: SimplePattern::parse("*"),
            allow_dashboard: SimplePattern::parse("*"),
            allow_badges: SimplePattern::parse("*"),
            allow_netdata_conf: SimplePattern::parse("*"),
            allow_management: SimplePattern::parse("localhost"),
        }
    }

    /// This context serving the static files of `files` (fuzzing and tests).
    #[doc(hidden)]
    pub fn with_web_files(mut self, files: Option<crate::web::files::WebFiles>) -> Context {
        self.web_files = files;
        self
    }

    /// [`Context::for_fuzzing`] with a health engine, a management token and `allow
    /// management from` (tests).
    #[doc(hidden)]
    pub fn for_tests(
        hosts: Arc<Hosts>,
        health: Option<HealthHandle>,
        token: &str,
        management: &str,
    ) -> Context {
        Context {
            health,
            api_token: token.to_owned(),
            allow_management: SimplePattern::parse(management),
            ..Context::for_fuzzing(hosts)
        }
    }
}

/// The management API token in `path` (Netdata's `netdata.api.key`): its first line,
/// trimmed; created with a random UUID when missing or empty. Empty when neither works
/// (logged): then no management request is accepted.
pub fn api_token(path: &std::path::Path) -> String {
    match std::fs::read_to_string(path) {
        Ok(t) if !t.trim().is_empty() => return t.lines().next().unwrap_or("").trim().to_owned(),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            log::error!("web: cannot read the management API key {}: {e}", path.display());
            return String::new();
        }
    }
    let token = uuid::Uuid::new_v4().to_string();
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    match std::fs::write(path, &token) {
        Ok(()) => {
            log::info!("web: created the management API key {}", path.display());
            token
        }
        Err(e) => {
            log::error!(
                "web: cannot write the management API key {}: {e}; /api/v1/manage is refused",
                path.display()
            );
            String::new()
        }
    }
}

/// Matches the client address as text; a loopback address also matches the word
/// `localhost` (nanodata does no reverse DNS).
pub fn ip_matches(p: &SimplePattern, ip: IpAddr) -> bool {
    p.matches_ip(ip)
}

/// Server limits and behaviour, from `[web]`.
#[derive(Clone, Debug)]
pub struct Limits {
    pub max_connections: usize,
    pub idle_timeout: Duration,
    /// How long a request head may take to arrive (slowloris guard).
    pub request_timeout: Duration,
    pub gzip_level: Option<u8>,
    /// Extra header lines for every response (`x-frame-options`).
    pub extra_headers: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acl_matches_ip_text_and_localhost() {
        let p = SimplePattern::parse("localhost");
        assert!(ip_matches(&p, "127.0.0.1".parse().unwrap()));
        assert!(ip_matches(&p, "::1".parse().unwrap()));
        assert!(!ip_matches(&p, "10.0.0.1".parse().unwrap()));
        let p = SimplePattern::parse("!127.0.0.1 *");
        assert!(!ip_matches(&p, "127.0.0.1".parse().unwrap()), "a negative IP match beats localhost");
        assert!(!ip_matches(&p, "::ffff:127.0.0.1".parse().unwrap()), "v4-mapped addresses are canonical");
        assert!(ip_matches(&p, "::1".parse().unwrap()));
        let p = SimplePattern::parse("10.* 192.168.*");
        assert!(ip_matches(&p, "10.1.2.3".parse().unwrap()) && !ip_matches(&p, "127.0.0.1".parse().unwrap()));
    }
}
