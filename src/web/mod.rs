//! The web server: HTTP/1.1 API v1, the dashboard and `/netdata.conf`, over plain TCP or
//! TLS, on one mio event-loop thread that owns every listening and accepted socket.
//!
//! Guarantees: every buffer fed by a client has a fixed cap ([`server::HEAD_LIMIT`] for a
//! request head, one response in flight per connection); a bad request, a timeout or a
//! client over the connection cap closes only that connection, with a log line; `[web]
//! mode = none` opens no socket at all; every connection gets a bounded share of each turn
//! of the loop (one request and a slice of its response, or one receiver budget of a
//! child's stream), and a data query too large for one turn is refused with a 400 before it
//! allocates ([`api::data::MAX_READ`], [`api::data::MAX_VALUES`]). A `STREAM` request is recognised by the parser
//! ([`http::Parsed::Stream`]) — the hook where the stream receiver will take the socket
//! over inside the same loop. This file only starts the server; what its parts share
//! (`Context`, `Limits`, the ACLs) is in [`context`].

pub mod api;
pub mod bind;
pub mod context;
pub mod dashboard;
pub mod files;
pub mod gzip;
pub mod http;
pub mod json;
mod server;
#[cfg(feature = "tls")]
pub use crate::net::tls;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use parking_lot::Mutex;

use crate::config::settings::{ParentSettings, WebSettings};
use crate::rrd::Hosts;
use crate::stream::receiver::hub;

pub use bind::{BindSpec, SslMode};
use context::{Context, Limits};

/// A running web server; [`WebServer::stop`] ends the loop and closes every socket.
pub struct WebServer {
    stop: Arc<AtomicBool>,
    waker: Arc<mio::Waker>,
    thread: Option<JoinHandle<()>>,
    addrs: Vec<SocketAddr>,
}

impl WebServer {
    /// The addresses actually listening (port 0 resolved).
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// Stops the loop and waits for it.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.waker.wake();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for WebServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Starts the web server described by `settings`, serving `hosts`, without the parent side
/// of streaming (STREAM requests are closed). Returns `None` when `[web] mode = none` or
/// when no address could be bound (logged).
pub fn start(settings: WebSettings, hosts: Arc<Hosts>) -> Option<WebServer> {
    start_with_streaming(settings, None, hosts)
}

/// [`start`], also receiving children that stream to this node as `parent` (stream.conf)
/// allows.
pub fn start_with_streaming(
    settings: WebSettings,
    parent: Option<ParentSettings>,
    hosts: Arc<Hosts>,
) -> Option<WebServer> {
    start_bound(bind(&settings)?, settings, parent, hosts, None)
}

#[cfg(feature = "tls")]
type TlsServerConfig = Arc<rustls::ServerConfig>;
#[cfg(not(feature = "tls"))]
type TlsServerConfig = ();

/// The listening sockets of `[web] bind to`, bound but not yet served: the daemon binds
/// them (and reads the TLS key) while it may still be root, then drops root and only then
/// calls [`start_bound`], so no client byte is read with privileges.
pub struct Bound {
    listeners: Vec<server::Listener>,
    tls_config: Option<TlsServerConfig>,
}

/// Binds the addresses of `[web] bind to` and loads the TLS certificate. `None` when `[web]
/// mode = none` or when no address could be bound (logged).
pub fn bind(settings: &WebSettings) -> Option<Bound> {
    if !settings.enabled {
        log::info!("web server is disabled ([web] mode = none)");
        return None;
    }
    let specs = match bind::parse(&settings.bind_to, settings.default_port) {
        Ok(s) => s,
        Err(e) => {
            log::error!("web: [web] bind to: {e}; the web server is not started");
            return None;
        }
    };
    #[cfg(feature = "tls")]
    let tls_config = tls_setup(settings, &specs);
    #[cfg(not(feature = "tls"))]
    let tls_config: Option<()> = {
        if specs.iter().any(|s| s.ssl != SslMode::None) {
            log::warn!("web: ^SSL in [web] bind to, but this build has no TLS; serving plain HTTP");
        }
        None
    };

    let backlog = settings.listen_backlog;
    let mut listeners = Vec::new();
    for spec in &specs {
        for addr in spec.resolve() {
            match server::listen(addr, backlog) {
                Ok(l) => {
                    let local = l.local_addr().unwrap_or(addr);
                    let ssl = if tls_config.is_some() { spec.ssl } else { SslMode::None };
                    log::info!("web: listening on {local}{}", ssl.suffix());
                    listeners.push(server::Listener { sock: l, addr: local, ssl, acl: spec.acl.clone() });
                }
                Err(e) => log::error!("web: cannot listen on {addr}: {e}"),
            }
        }
    }
    if listeners.is_empty() {
        log::error!("web: no address could be bound; the web server is not started");
        return None;
    }
    Some(Bound { listeners, tls_config })
}

/// Serves sockets of [`bind`] on the web thread, with the streaming parent side (the hub)
/// when `parent` is given, showing the alarms of `health` (`None`: health disabled).
pub fn start_bound(
    bound: Bound,
    settings: WebSettings,
    parent: Option<ParentSettings>,
    hosts: Arc<Hosts>,
    health: Option<context::HealthHandle>,
) -> Option<WebServer> {
    let Bound { listeners, tls_config } = bound;
    let https_enabled = tls_config.is_some();
    let limits = Limits {
        max_connections: settings.max_connections,
        idle_timeout: settings.idle_timeout,
        request_timeout: settings.request_timeout,
        gzip_level: settings.gzip_level,
        extra_headers: match settings.x_frame_options.as_str() {
            "" => String::new(),
            v => format!("X-Frame-Options: {v}\r\n"),
        },
    };
    let p = &settings.prometheus;
    let prometheus = api::allmetrics::PrometheusDefaults {
        prefix: p.prefix.clone(),
        source: api::allmetrics::Source::parse(&p.data_source).unwrap_or(api::allmetrics::Source::Average),
        names: p.send_names,
        timestamps: p.send_timestamps,
    };
    let ctx = Context {
        hosts,
        system: crate::daemon::sysinfo::SystemInfo::detect(std::path::Path::new("/")),
        timezone: timezone(&settings.timezone),
        stream_enabled: false,
        https_enabled,
        prometheus,
        prometheus_seen: Mutex::new(HashMap::new()),
        netdata_conf: settings.netdata_conf,
        health,
        api_token: context::api_token(&settings.api_key_file),
        registry_announce: settings.registry_announce.clone(),
        web_files: files::WebFiles::open(
            &settings.web_dir,
            &settings.web_files_owner,
            &settings.web_files_group,
            &settings.web_files_symlink_targets,
        ),
        allow_connections: settings.allow_connections,
        allow_dashboard: settings.allow_dashboard,
        allow_badges: settings.allow_badges,
        allow_netdata_conf: settings.allow_netdata_conf,
        allow_management: settings.allow_management,
    };

    let addrs = listeners.iter().map(|l| l.addr).collect();
    let stop = Arc::new(AtomicBool::new(false));
    let (event_loop, waker) = match server::EventLoop::new(
        listeners,
        ctx,
        limits,
        tls_config,
        Arc::clone(&stop),
        parent.map(hub::Streaming::new),
    ) {
        Ok(x) => x,
        Err(e) => {
            log::error!("web: cannot start the event loop: {e}");
            return None;
        }
    };
    let thread = crate::sys::thread::spawn("WEB", crate::sys::thread::LARGE, move || event_loop.run());
    match thread {
        Ok(t) => Some(WebServer { stop, waker, thread: Some(t), addrs }),
        Err(e) => {
            log::error!("web: cannot start the web thread: {e}");
            None
        }
    }
}

#[cfg(feature = "tls")]
fn tls_setup(settings: &WebSettings, specs: &[BindSpec]) -> Option<Arc<rustls::ServerConfig>> {
    let wants = specs.iter().any(|s| s.ssl != SslMode::None);
    let (Some(key), Some(cert)) = (&settings.ssl_key, &settings.ssl_certificate) else {
        if wants {
            log::warn!("web: ^SSL in [web] bind to, but [web] ssl key / ssl certificate are not set; serving plain HTTP");
        }
        return None;
    };
    match tls::server_config(cert, key, &settings.tls_version) {
        Ok(c) => {
            if !wants {
                log::info!("web: TLS certificate loaded; no address of [web] bind to asks for ^SSL");
            }
            Some(c)
        }
        Err(e) => {
            log::error!("web: TLS disabled: {e}");
            None
        }
    }
}

/// `[global] timezone`, else the system's.
fn timezone(configured: &str) -> String {
    if !configured.is_empty() {
        return configured.to_owned();
    }
    if let Ok(tz) = std::env::var("TZ") {
        if !tz.is_empty() {
            return tz.trim_start_matches(':').to_owned();
        }
    }
    std::fs::read_to_string("/etc/timezone")
        .map(|s| s.trim().to_owned())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| {
            std::fs::read_link("/etc/localtime")
                .ok()
                .and_then(|p| p.to_str().and_then(|s| s.split("zoneinfo/").nth(1).map(str::to_owned)))
                .unwrap_or_else(|| "UTC".into())
        })
}
