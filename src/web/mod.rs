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
pub mod gzip;
pub mod http;
pub mod json;
mod server;
pub mod streaming;
#[cfg(feature = "tls")]
pub use crate::net::tls;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use parking_lot::Mutex;

use crate::config::{keys, Config};
use crate::rrd::Hosts;
use crate::simple_pattern::SimplePattern;

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

/// Starts the web server described by `[web]` of `cfg`, serving `hosts`, without the
/// parent side of streaming (STREAM requests are closed). Returns `None` when `[web] mode =
/// none` or when no address could be bound (logged).
pub fn start(cfg: &Config, hosts: Arc<Hosts>) -> Option<WebServer> {
    start_with_streaming(cfg, None, hosts)
}

/// [`start`], also receiving children that stream to this node as `stream` (stream.conf)
/// allows.
pub fn start_with_streaming(cfg: &Config, stream: Option<&Config>, hosts: Arc<Hosts>) -> Option<WebServer> {
    start_bound(bind(cfg)?, cfg, stream, hosts)
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
pub fn bind(cfg: &Config) -> Option<Bound> {
    let mode = cfg.text(&keys::WEB_MODE);
    if mode == "none" {
        log::info!("web server is disabled ([web] mode = none)");
        return None;
    }
    let port = u16::try_from(cfg.integer(&keys::WEB_DEFAULT_PORT)).unwrap_or(19999);
    let specs = match bind::parse(&cfg.text(&keys::WEB_BIND_TO), port) {
        Ok(s) => s,
        Err(e) => {
            log::error!("web: [web] bind to: {e}; the web server is not started");
            return None;
        }
    };
    #[cfg(feature = "tls")]
    let tls_config = tls_setup(cfg, &specs);
    #[cfg(not(feature = "tls"))]
    let tls_config: Option<()> = {
        if specs.iter().any(|s| s.ssl != SslMode::None) {
            log::warn!("web: ^SSL in [web] bind to, but this build has no TLS; serving plain HTTP");
        }
        None
    };

    let backlog = u32::try_from(cfg.integer(&keys::WEB_LISTEN_BACKLOG).clamp(1, 65_535)).unwrap_or(4096);
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

/// Serves sockets of [`bind`] on the web thread, with the streaming parent side when
/// `stream` (stream.conf) is given.
pub fn start_bound(bound: Bound, cfg: &Config, stream: Option<&Config>, hosts: Arc<Hosts>) -> Option<WebServer> {
    let Bound { listeners, tls_config } = bound;
    let https_enabled = tls_config.is_some();
    let limits = Limits {
        max_connections: cfg.integer(&keys::WEB_MAX_CONNECTIONS).clamp(1, 1_000_000) as usize,
        idle_timeout: Duration::from_secs(cfg.seconds(&keys::WEB_IDLE_TIMEOUT).max(1)),
        request_timeout: Duration::from_secs(cfg.seconds(&keys::WEB_FIRST_REQUEST_TIMEOUT).max(1)),
        gzip_level: cfg.bool(&keys::WEB_GZIP).then(|| cfg.integer(&keys::WEB_GZIP_LEVEL).clamp(1, 9) as u8),
        extra_headers: match cfg.text(&keys::WEB_X_FRAME_OPTIONS) {
            v if v.is_empty() => String::new(),
            v => format!("X-Frame-Options: {v}\r\n"),
        },
    };
    let ctx = Context {
        hosts,
        netdata_conf: cfg.render(),
        system: crate::daemon::sysinfo::SystemInfo::detect(std::path::Path::new("/")),
        timezone: timezone(cfg),
        stream_enabled: false,
        https_enabled,
        prometheus: api::allmetrics::PrometheusDefaults::from_config(cfg),
        prometheus_seen: Mutex::new(HashMap::new()),
        allow_connections: SimplePattern::parse(&cfg.text(&keys::WEB_ALLOW_CONNECTIONS)),
        allow_dashboard: SimplePattern::parse(&cfg.text(&keys::WEB_ALLOW_DASHBOARD)),
        allow_netdata_conf: SimplePattern::parse(&cfg.text(&keys::WEB_ALLOW_NETDATA_CONF)),
    };

    let addrs = listeners.iter().map(|l| l.addr).collect();
    let stop = Arc::new(AtomicBool::new(false));
    let (event_loop, waker) = match server::EventLoop::new(
        listeners,
        ctx,
        limits,
        tls_config,
        Arc::clone(&stop),
        stream.map(|s| streaming::Streaming::new(cfg, s)),
    ) {
        Ok(x) => x,
        Err(e) => {
            log::error!("web: cannot start the event loop: {e}");
            return None;
        }
    };
    let thread = std::thread::Builder::new().name("WEB".into()).spawn(move || event_loop.run());
    match thread {
        Ok(t) => Some(WebServer { stop, waker, thread: Some(t), addrs }),
        Err(e) => {
            log::error!("web: cannot start the web thread: {e}");
            None
        }
    }
}

#[cfg(feature = "tls")]
fn tls_setup(cfg: &Config, specs: &[BindSpec]) -> Option<Arc<rustls::ServerConfig>> {
    let key = cfg.text(&keys::WEB_SSL_KEY);
    let cert = cfg.text(&keys::WEB_SSL_CERTIFICATE);
    let wants = specs.iter().any(|s| s.ssl != SslMode::None);
    if key.is_empty() || cert.is_empty() {
        if wants {
            log::warn!("web: ^SSL in [web] bind to, but [web] ssl key / ssl certificate are not set; serving plain HTTP");
        }
        return None;
    }
    let base = PathBuf::from(cfg.text(&keys::DIR_CONFIG));
    let (key, cert) = (relative_to(&base, &key), relative_to(&base, &cert));
    match tls::server_config(&cert, &key, &cfg.text(&keys::WEB_TLS_VERSION)) {
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

#[cfg_attr(not(feature = "tls"), allow(dead_code))]
fn relative_to(base: &Path, p: &str) -> PathBuf {
    let p = PathBuf::from(p);
    if p.is_absolute() {
        p
    } else {
        base.join(p)
    }
}

fn timezone(cfg: &Config) -> String {
    let tz = cfg.text(&keys::GLOBAL_TIMEZONE);
    if !tz.is_empty() {
        return tz;
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
